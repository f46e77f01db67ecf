//! Issue 24: what a request or a configuration asks that cannot be done is a usage error of
//! its own kind (exit 2), each saying what was asked and why.

use crate::support::{Scratch, stderr};

fn run(s: &Scratch, args: &[&str]) -> (Option<i32>, String) {
    let out = s.run(args);
    (out.status.code(), stderr(&out))
}

#[test]
fn each_refused_request_says_what_and_exits_2() {
    let s = Scratch::new().env("DATABASE_URL", "sqlite://p.db");
    for (args, says) in [
        (
            &["run", "--commodity", "GOLD"][..],
            "unknown commodity GOLD: configured are BRENT, NATGAS, WTI",
        ),
        (
            &["export", "--source", "bloomberg"][..],
            "unknown source bloomberg: known are eia, fred, yahoo",
        ),
        (
            &["run", "--mode", "backfill", "--start-date", "2099-01-01"][..],
            "--start-date 2099-01-01 is after today",
        ),
        (
            &[
                "run",
                "--mode",
                "backfill",
                "--start-date",
                "2020-02-01",
                "--end-date",
                "2020-01-01",
            ][..],
            "2020-02-01",
        ),
    ] {
        let (code, err) = run(&s, args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn each_unusable_cron_expression_says_why_and_exits_2() {
    for (cron, says) in [
        ("0 6 * *", "expected 5 fields"),
        ("0 61 * * *", "invalid cron expression \"0 61 * * *\""),
        ("0 0 30 2 *", "never fires"),
    ] {
        let s = Scratch::new().env("DATABASE_URL", "sqlite://p.db");
        s.write(
            "pipeline.yaml",
            &format!("schedule: {{ cron: \"{cron}\" }}\n"),
        );
        for args in [&["config", "check"][..], &["schedule", "next"][..]] {
            let (code, err) = run(&s, args);
            assert_eq!(code, Some(2), "{cron} {args:?}: {err}");
            assert!(err.contains(says), "{cron} {args:?}: {err}");
        }
    }
}
