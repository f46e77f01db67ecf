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

/// A local EIA stand-in answering every request with `body` (HTTP 200, JSON).
fn serve_every_request(body: String) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

/// An EIA answer of five rows whose `total` claims `total` rows: about 1 KB.
pub(crate) fn eia_answer_claiming(total: &str) -> String {
    let rows: Vec<String> = (3..8)
        .map(|d| {
            format!(
                "{{\"period\":\"2026-08-0{d}\",\"series\":\"RWTC\",\"series-description\":\"Cushing, OK WTI Spot Price FOB (Dollars per Barrel)\",\"value\":\"6{d}.25\",\"units\":\"$/BBL\"}}"
            )
        })
        .collect();
    format!(
        "{{\"response\":{{\"total\":\"{total}\",\"dateFormat\":\"YYYY-MM-DD\",\"frequency\":\"daily\",\"data\":[{}]}},\"apiVersion\":\"2.1.13\"}}",
        rows.join(",")
    )
}

/// Peak resident memory of a live process, in MB (Linux: VmHWM).
fn vm_hwm_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Issue 30, critical: EIA's `total` sized an allocation before the page count was checked,
/// so an answer claiming 4,000,000,000 or 2^64 - 1 rows took the scheduler to gigabytes and
/// aborted it (exit 134), leaving its fire time and run `running`. The daemon stays up, its
/// memory small, and records the fire with the run failed and the reason.
#[test]
fn an_absurd_eia_total_fails_the_run_and_the_scheduler_stays_up_and_records_the_fire() {
    for total in ["4000000000", "18446744073709551615"] {
        let dir = tempfile::tempdir().unwrap();
        let addr = serve_every_request(eia_answer_claiming(total));
        std::fs::write(
            dir.path().join("pipeline.yaml"),
            format!(
                "sources:\n  fred: {{ enabled: false }}\n  yahoo: {{ enabled: false }}\n\
                 \x20 eia: {{ base_url: \"http://{addr}\", series: {{ WTI: \"petroleum/pri/spt:RWTC\" }} }}\n\
                 retry: {{ max_attempts: 1 }}\n"
            ),
        )
        .unwrap();
        let mut child = scheduler(dir.path(), &["--config", "pipeline.yaml"])
            // every second: the first fire comes at once
            .env("PIPELINE_SCHEDULE__CRON", "\"* * * * * *\"")
            .env("EIA_API_KEY", "test-key-eia")
            .spawn()
            .unwrap();
        let pid = child.id();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = energy_storage::DatabaseUrl::parse(&format!(
            "sqlite://{}",
            dir.path().join("p.db").display()
        ))
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut peak: f64 = 0.0;
        let (fire, run) = loop {
            if let Some(mb) = vm_hwm_mb(pid) {
                peak = peak.max(mb);
            }
            if peak >= 100.0 {
                let _ = child.kill();
                let _ = child.wait();
                panic!("total {total}: the scheduler took {peak:.1} MB");
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("total {total}: the scheduler ended: {status}");
            }
            let found = rt.block_on(async {
                let store = energy_storage::Store::open_existing(&url).await.ok()?;
                let fire = store
                    .schedule()
                    .fires(None, 10)
                    .await
                    .ok()?
                    .into_iter()
                    .find(|f| f.state != energy_storage::FireState::Running)?;
                let run = store.runs().get(fire.run?).await.ok()??;
                Some((fire, run))
            });
            if let Some(found) = found {
                break found;
            }
            assert!(
                Instant::now() < deadline,
                "total {total}: no finished fire time within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let still_running = child.try_wait().unwrap().is_none();
        if let Some(mb) = vm_hwm_mb(pid) {
            peak = peak.max(mb);
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            still_running,
            "total {total}: the scheduler did not stay up"
        );
        assert!(peak < 100.0, "total {total}: peak memory {peak:.1} MB");
        assert_eq!(
            run.status,
            energy_core::RunStatus::Failed,
            "total {total}: {run:#?}"
        );
        let note = fire.note.clone().unwrap_or_default();
        assert!(
            note.contains("failed") && note.contains("malformed") && note.contains(total),
            "total {total}: the fire's note should say the run failed and why: {fire:?}"
        );
    }
}

/// Issue 30, item 10: a SQLite scheduler restarted right after a crash was refused for 30 s
/// ("another scheduler is running … pid N, heartbeat 6 s ago") although pid N on this host was
/// dead, and it said "serving /healthz" before refusing. A registration of this host whose
/// process is gone is dead at once; a live one is still refused, before anything is served.
#[test]
fn a_sqlite_scheduler_restarted_after_a_crash_starts_at_once_and_a_live_one_is_refused_first() {
    let dir = tempfile::tempdir().unwrap();
    let wait_started = |child: &mut std::process::Child| {
        let logs = dir.path().join("logs");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let started = std::fs::read_dir(&logs).ok().is_some_and(|entries| {
                entries.flatten().any(|e| {
                    std::fs::read_to_string(e.path())
                        .is_ok_and(|t| t.matches("scheduler started").count() > 0)
                })
            });
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the scheduler ended early: {status}");
            }
            if started {
                return;
            }
            assert!(Instant::now() < deadline, "the scheduler did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let mut first = scheduler(dir.path(), &[]).spawn().unwrap();
    wait_started(&mut first);
    // a crash: SIGKILL leaves its registration running with a fresh heartbeat
    first.kill().unwrap();
    first.wait().unwrap();
    std::fs::remove_dir_all(dir.path().join("logs")).unwrap();
    let mut second = scheduler(dir.path(), &[])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_started(&mut second);

    // while it runs, a third is refused, and serves nothing first
    let third = scheduler(dir.path(), &[])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let _ = second.kill();
    let _ = second.wait();
    let err = String::from_utf8_lossy(&third.stderr);
    assert_eq!(third.status.code(), Some(1), "{err}");
    assert!(err.contains("another scheduler is running"), "{err}");
    assert!(!err.contains("serving"), "it served before refusing: {err}");
}

/// Issue 30, item 11: a SQLite file under a directory whose parent does not exist is a
/// configuration error (exit 2) for the scheduler as for the CLI, and nothing is created.
#[test]
fn a_sqlite_file_under_a_missing_directory_exits_2_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no").join("such");
    let out = scheduler(dir.path(), &[])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", missing.join("x.db").display()),
        )
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!dir.path().join("no").exists(), "it created a directory");
}
