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
