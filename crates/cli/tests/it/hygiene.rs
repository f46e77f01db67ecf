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
