//! `energy-scheduler` as a process: its options, and one log format per file.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn scheduler(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_energy-scheduler"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", "sqlite://p.db")
        // once a year: nothing fires while the test looks
        .env("PIPELINE_SCHEDULE__CRON", "\"0 0 1 1 *\"")
        .env("PIPELINE_SCHEDULE__LISTEN", "\"127.0.0.1:0\"")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Issue 13, item 15: `energy-scheduler` had no `--log-format`, and text and JSON lines mixed
/// in one file when the format changed.
#[test]
fn log_format_is_an_option_and_each_format_has_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = scheduler(dir.path(), &["--log-format", "xml"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid log format"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = scheduler(dir.path(), &["--log-format", "json"])
        .spawn()
        .unwrap();
    let logs = dir.path().join("logs");
    let deadline = Instant::now() + Duration::from_secs(30);
    let started = loop {
        let found = std::fs::read_dir(&logs).ok().and_then(|entries| {
            entries.flatten().find_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let text = std::fs::read_to_string(e.path()).ok()?;
                (name.starts_with("scheduler.json.log.") && text.contains("scheduler started"))
                    .then_some(text)
            })
        });
        if let Some(text) = found {
            break text;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the scheduler ended early: {status}");
        }
        assert!(Instant::now() < deadline, "no JSON log file in {logs:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    for line in started.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
    }
    let names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("scheduler.json.log.")),
        "a text log file next to the JSON one: {names:?}"
    );
}

/// Issue 14: a port already in use was a schedule (configuration) error, exit 2. It is an
/// operational one: exit 1, naming the address.
#[test]
fn a_port_in_use_exits_1_naming_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let out = scheduler(dir.path(), &[])
        .env("PIPELINE_SCHEDULE__LISTEN", format!("\"{addr}\""))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}
