//! Input and output hygiene (issue 13): a closed stdout, implausible arguments, and messages that
//! say what is wrong.

use std::process::Stdio;

use crate::support::{Scratch, stderr};

/// Runs `args` with stdout a pipe whose reading end is already closed, as `… | head -1` leaves it.
fn with_closed_stdout(s: &Scratch, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    s.command(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("binary runs")
}

/// Item 11: `config check | head -1` and `schedule next --count 1000 | head -1` panicked (exit
/// 101 and a backtrace).
#[test]
fn every_command_exits_quietly_on_a_closed_stdout() {
    let s = Scratch::new();
    for args in [
        &["config", "check"][..],
        &["config", "show"],
        &["schedule", "next", "--count", "1000"],
    ] {
        let out = with_closed_stdout(&s, args);
        let err = stderr(&out);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}

fn refused(out: &std::process::Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Item 13: implausible input was accepted (`24-01-01` became the year 24, an all-future window
/// was fetched, `export --commodity NOPE` printed a header, a duplicate YAML key was ignored,
/// a read-only command created an empty database).
#[test]
fn implausible_input_is_refused_the_same_way_in_every_command() {
    let s = Scratch::new().env("DATABASE_URL", "sqlite://nothing-here/p.db");
    for args in [
        &["run", "--mode", "backfill", "--start-date", "24-01-01"][..],
        &["export", "--start-date", "24-01-01"],
        &["run", "--mode", "backfill", "--start-date", "2024-1-1"],
    ] {
        refused(&s.run(args), "YYYY-MM-DD");
    }
    refused(
        &s.run(&["run", "--mode", "backfill", "--start-date", "2099-01-02"]),
        "nothing is published for it yet",
    );
    refused(
        &s.run(&["run", "--commodity", "NOPE"]),
        "unknown commodity NOPE",
    );
    refused(
        &s.run(&["export", "--commodity", "NOPE"]),
        "unknown commodity NOPE",
    );
    refused(
        &s.run(&["export", "--source", "bloomberg"]),
        "unknown source",
    );
    for args in [
        &["runs"][..],
        &["status"],
        &["export"],
        &["schedule", "status"],
    ] {
        refused(&s.run(args), "no SQLite database at nothing-here/p.db");
    }
    assert!(
        !s.path().join("nothing-here").exists(),
        "a read-only command created the database's directory"
    );

    s.write(
        "dup.yaml",
        "monitor:\n  stale_after_days: 2\n  stale_after_days: 3\n",
    );
    refused(
        &s.run(&["--config", "dup.yaml", "config", "check"]),
        "duplicate",
    );
    let err = stderr(&s.run(&["--config", "dup.yaml", "config", "check"]));
    assert!(err.contains("dup.yaml:3"), "{err}");
}

/// Item 15: `schedule status` showed a next fire time when STOPPED (while `status` showed none)
/// and listed only one of two running schedulers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_status_lists_every_running_scheduler_and_no_next_fire_when_stopped() {
    use energy_storage::{DatabaseUrl, SchedulerRecord, Store};
    let s = Scratch::new().env("DATABASE_URL", "sqlite://p.db");
    let url = DatabaseUrl::parse(&format!("sqlite://{}/p.db", s.path().display())).unwrap();
    let store = Store::open(&url).await.unwrap();
    let now = chrono::Utc::now();
    for pid in [101, 202] {
        store
            .schedule()
            .register(&SchedulerRecord {
                instance_id: format!("desk:{pid}"),
                host: "desk".into(),
                pid,
                started_at: now,
                heartbeat_at: now,
                // a running scheduler records its next fire time (the status views read it)
                next_fire_at: Some(now + chrono::Duration::hours(1)),
                state: energy_storage::InstanceState::Running,
                stop_requested: false,
            })
            .await
            .unwrap();
    }
    let status = |s: &Scratch| {
        let out = s.run(&["schedule", "status", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let v = status(&s);
    assert_eq!(v["state"], "RUNNING");
    let pids: Vec<u64> = v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "{v}");
    assert!(pids.contains(&101) && pids.contains(&202), "{v}");
    assert!(v["next_run_at"].is_string(), "{v}");
    let text = crate::support::stdout(&s.run(&["schedule", "status"]));
    assert!(
        text.contains("(pid 101)") && text.contains("(pid 202)"),
        "{text}"
    );

    for pid in [101, 202] {
        store
            .schedule()
            .stopped(&format!("desk:{pid}"), now)
            .await
            .unwrap();
    }
    let v = status(&s);
    assert_eq!(v["state"], "STOPPED");
    assert!(
        v["next_run_at"].is_null(),
        "a stopped scheduler fires nothing: {v}"
    );
    assert_eq!(v["instances"].as_array().unwrap().len(), 0);
    let shown: serde_json::Value =
        serde_json::from_slice(&s.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(shown["scheduler"]["next_run_at"], v["next_run_at"]);
    // issue 24: one shape, `status --json`'s scheduler member, plus the last scheduled run
    let mut v = v;
    let last_run = v.as_object_mut().unwrap().remove("last_run");
    assert!(last_run.is_some(), "no last_run: {v}");
    // the two commands ran a moment apart: the age may have moved on by a second
    let mut scheduler = shown["scheduler"].clone();
    for view in [&mut v, &mut scheduler] {
        let age = view
            .as_object_mut()
            .unwrap()
            .remove("heartbeat_age_seconds");
        assert!(age.is_some_and(|a| a.is_i64()), "{view}");
    }
    assert_eq!(scheduler, v);
    let text = crate::support::stdout(&s.run(&["schedule", "status"]));
    assert!(text.contains("next fire   none"), "{text}");
}
