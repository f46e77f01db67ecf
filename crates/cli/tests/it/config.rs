//! `config check` and `config show`.

use crate::support::{Scratch, stderr, stdout};

#[test]
fn config_check_accepts_the_defaults() {
    let s = Scratch::new();
    let out = s.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("configuration OK (built-in defaults)"));
}

#[test]
fn config_check_accepts_the_example_file() {
    let s = Scratch::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../pipeline.example.yaml");
    let out = s.run(&["--config", example, "config", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn config_check_reads_pipeline_yaml_from_the_working_directory() {
    let s = Scratch::new();
    s.write("pipeline.yaml", "schedule: { timezone: Europe/London }\n");
    let out = s.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Europe/London"), "{}", stdout(&out));
}

#[test]
fn yaml_syntax_error_exits_2_naming_file_and_line() {
    let s = Scratch::new();
    s.write("bad.yaml", "database:\n  url: [\n");
    let out = s.run(&["--config", "bad.yaml", "config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.yaml") && err.contains("YAML syntax error") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn unknown_key_exits_2_naming_key_and_line() {
    let s = Scratch::new();
    s.write("bad.yaml", "monitor:\n  stale_after_dayz: 3\n");
    let out = s.run(&["--config", "bad.yaml", "config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.yaml:2: `monitor.stale_after_dayz`: unknown key"),
        "{err}"
    );
}

#[test]
fn invalid_time_zone_exits_2_naming_key_and_line() {
    let s = Scratch::new();
    s.write(
        "bad.yaml",
        "# zone below is misspelt\nschedule:\n  timezone: America/NewYork\n",
    );
    let out = s.run(&["--config", "bad.yaml", "config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.yaml:3: `schedule.timezone`") && err.contains("America/NewYork"),
        "{err}"
    );
}

#[test]
fn config_file_from_pipeline_config_variable_is_used() {
    let s = Scratch::new().env("PIPELINE_CONFIG", "elsewhere.yaml");
    s.write("elsewhere.yaml", "pipeline: { lookback_days: -1 }\n");
    let out = s.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("elsewhere.yaml:1: `pipeline.lookback_days`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_config_file_exits_2() {
    let s = Scratch::new();
    let out = s.run(&["--config", "missing.yaml", "config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.yaml"));
}

#[test]
fn config_show_never_prints_a_secret() {
    let secrets = [
        ("EIA_API_KEY", "eia-0123456789abcdef"),
        ("FRED_API_KEY", "fred0123456789abcdef0123456789ab"),
        ("SMTP_USER", "smtp-user-secret"),
        ("SMTP_PASSWORD", "smtp-pass-secret"),
        (
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
        ),
    ];
    let mut s = Scratch::new().env(
        "DATABASE_URL",
        "postgres://app:db-pass-secret@db.example:5432/prices",
    );
    for (k, v) in secrets {
        s = s.env(k, v);
    }
    for cmd in [["config", "show"], ["config", "check"]] {
        let out = s.run(&cmd);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        for (_, v) in secrets {
            assert!(!all.contains(v), "{cmd:?} printed a secret:\n{all}");
        }
        assert!(!all.contains("db-pass-secret"), "{all}");
        if cmd[1] == "show" {
            assert!(
                all.contains("postgres://app:***@db.example:5432/prices"),
                "{all}"
            );
            assert!(all.contains("EIA_API_KEY: ***"), "{all}");
        }
    }
}

#[test]
fn config_show_output_loads_back_as_the_same_configuration() {
    let s = Scratch::new();
    s.write(
        "in.yaml",
        "pipeline: { lookback_days: 12 }\nschedule: { time: \"07:45\", frequency: weekdays }\n",
    );
    let out = s.run(&["--config", "in.yaml", "config", "show"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    s.write("shown.yaml", &stdout(&out));
    let again = s.run(&["--config", "shown.yaml", "config", "show"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let strip = |t: String| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(stdout(&out)), strip(stdout(&again)));
}

#[test]
fn unknown_command_is_a_usage_error() {
    let out = Scratch::new().run(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn database_tls_parameters_are_checked_up_front() {
    let s = Scratch::new().env(
        "DATABASE_URL",
        "postgres://app:hunter2@db.example.com/prices?sslmode=verify_full",
    );
    let out = s.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("sslmode=verify_full is not supported") && err.contains("verify-full"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");

    let s = Scratch::new().env(
        "DATABASE_URL",
        "postgres://app:hunter2@db.example.com/prices?sslmode=verify-full&sslrootcert=system",
    );
    let out = s.run(&["config", "show"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("sslmode=verify-full&sslrootcert=system") && !shown.contains("hunter2"),
        "{shown}"
    );
}

#[test]
fn sqlite_urls_with_parameters_or_under_a_missing_directory_are_usage_errors() {
    let s = Scratch::new().env("DATABASE_URL", "sqlite://data/p.db?mode=ro");
    let out = s.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("path only"), "{}", stderr(&out));

    let s = Scratch::new();
    let missing = s.path().join("nonexistent");
    let s = s.env(
        "DATABASE_URL",
        &format!("sqlite://{}/dir/x.db", missing.display()),
    );
    let out = s.run(&["run"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{} does not exist", missing.display())),
        "{}",
        stderr(&out)
    );
    assert!(!missing.exists());
}

#[test]
fn an_ambiguous_database_password_is_a_configuration_error_saying_to_percent_encode_it() {
    let s = Scratch::new().env(
        "DATABASE_URL",
        "postgres://u:SEC@RETPW20@127.0.0.1:55499/db",
    );
    for args in [&["config", "check"][..], &["status"]] {
        let out = s.run(args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("the password holds a raw `@`") && err.contains("%40"),
            "{err}"
        );
        assert!(!err.contains("SEC@") && !err.contains("RETPW20"), "{err}");
    }
}
