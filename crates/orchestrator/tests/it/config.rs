//! Loading the configuration from YAML and the environment, and reporting every problem.

// figment::Jail closures must return figment::Result, whose error is large; that is figment's API.
#![allow(clippy::result_large_err)]

use std::path::Path;

use energy_orchestrator::config::{self, Config, ConfigError, Problem};
use figment::Jail;

fn problems(jail: &Jail, yaml: &str) -> Vec<Problem> {
    jail.create_file("pipeline.yaml", yaml).unwrap();
    match config::load_from(Some(Path::new("pipeline.yaml"))) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("configuration accepted:\n{yaml}"),
    }
}

#[test]
fn defaults_load_without_a_file() {
    Jail::expect_with(|_jail| {
        let loaded = config::load_from(None).unwrap();
        assert_eq!(loaded.config, Config::default());
        assert!(loaded.config.problems().is_empty());
        Ok(())
    });
}

#[test]
fn empty_or_comment_only_file_is_the_defaults() {
    Jail::expect_with(|jail| {
        jail.create_file("pipeline.yaml", "# nothing here\n\n")?;
        let loaded = config::load_from(Some(Path::new("pipeline.yaml"))).unwrap();
        assert_eq!(loaded.config, Config::default());
        Ok(())
    });
}

#[test]
fn yaml_syntax_error_names_file_and_line() {
    Jail::expect_with(|jail| {
        let p = problems(jail, "database:\n  url: \"sqlite://x.db\"\n schedule: [\n");
        assert_eq!(p.len(), 1, "{p:?}");
        let text = p[0].to_string();
        assert!(text.contains("pipeline.yaml"), "{text}");
        assert!(text.contains("line 3"), "{text}");
        Ok(())
    });
}

#[test]
fn unknown_key_is_named_with_its_line() {
    Jail::expect_with(|jail| {
        let p = problems(jail, "pipeline:\n  lookback_days: 10\n  lookback_dayz: 5\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].key.as_deref(), Some("pipeline.lookback_dayz"));
        assert_eq!(p[0].location.as_deref(), Some("pipeline.yaml:3"), "{p:?}");
        assert!(
            p[0].message.contains("unknown key `lookback_dayz`"),
            "{}",
            p[0]
        );
        Ok(())
    });
}

#[test]
fn invalid_time_zone_is_named_with_its_line() {
    Jail::expect_with(|jail| {
        let p = problems(jail, "schedule:\n  timezone: America/NewYork\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].key.as_deref(), Some("schedule.timezone"));
        assert_eq!(p[0].location.as_deref(), Some("pipeline.yaml:2"));
        assert!(p[0].message.contains("America/NewYork"), "{}", p[0]);
        Ok(())
    });
}

#[test]
fn every_problem_is_reported_at_once() {
    Jail::expect_with(|jail| {
        let yaml = "\
database: { url: \"mysql://db/x\" }
pipeline:
  lookback_days: many
  quality_gate: { min_quality_score: 1.5 }
schedule:
  timezone: Mars/Olympus
  time: \"6 o'clock\"
  cron: \"* * *\"
sources:
  eia: { enabeld: true }
  fred: { series: { COAL: X } }
notifications:
  email: { enabled: true, to_emails: [] }
retry: { max_attempts: 0 }
colour: blue
";
        let p = problems(jail, yaml);
        let keys: Vec<_> = p.iter().filter_map(|p| p.key.clone()).collect();
        for expected in [
            "database.url",
            "pipeline.lookback_days",
            "pipeline.quality_gate.min_quality_score",
            "schedule.timezone",
            "schedule.time",
            "schedule.cron",
            "sources.eia.enabeld",
            "sources.fred.series.COAL",
            "notifications.email.to_emails",
            "retry.max_attempts",
            "colour",
        ] {
            assert!(
                keys.iter().any(|k| k == expected),
                "{expected} missing from {keys:?}\n{p:#?}"
            );
        }
        let line_of = |key: &str| {
            p.iter()
                .find(|p| p.key.as_deref() == Some(key))
                .unwrap()
                .location
                .clone()
        };
        assert_eq!(
            line_of("pipeline.lookback_days").as_deref(),
            Some("pipeline.yaml:3")
        );
        assert_eq!(line_of("schedule.cron").as_deref(), Some("pipeline.yaml:8"));
        assert_eq!(line_of("colour").as_deref(), Some("pipeline.yaml:15"));
        Ok(())
    });
}

#[test]
fn environment_overrides_file_and_names_the_variable_on_error() {
    Jail::expect_with(|jail| {
        jail.create_file("pipeline.yaml", "pipeline: { lookback_days: 10 }\n")?;
        jail.set_env("PIPELINE_PIPELINE__LOOKBACK_DAYS", "45");
        jail.set_env("PIPELINE_SOURCES__EIA__BASE_URL", "http://127.0.0.1:9/");
        jail.set_env("DATABASE_URL", "postgres://app:pw@db:5432/prices");
        let loaded = config::load_from(Some(Path::new("pipeline.yaml"))).unwrap();
        assert_eq!(loaded.config.pipeline.lookback_days, 45);
        assert_eq!(
            loaded.config.sources.get("eia").unwrap().base_url.as_str(),
            "http://127.0.0.1:9/"
        );
        assert_eq!(
            loaded.config.database.url.expose(),
            "postgres://app:pw@db:5432/prices"
        );

        jail.set_env("PIPELINE_SCHEDULE__TIMEZONE", "Nowhere/Land");
        let err = config::load_from(Some(Path::new("pipeline.yaml")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("environment variable PIPELINE_SCHEDULE__TIMEZONE"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn missing_explicit_file_is_an_error_naming_it() {
    Jail::expect_with(|_jail| {
        let err = config::load_from(Some(Path::new("nope.yaml"))).unwrap_err();
        assert!(matches!(err, ConfigError::Unreadable { .. }));
        assert!(err.to_string().contains("nope.yaml"), "{err}");
        Ok(())
    });
}

#[test]
fn secrets_come_only_from_the_environment() {
    Jail::expect_with(|jail| {
        jail.set_env("EIA_API_KEY", "k3y-eia");
        jail.set_env("SLACK_WEBHOOK_URL", "");
        let loaded = config::load_from(None).unwrap();
        assert_eq!(
            loaded.secrets.by_variable("EIA_API_KEY").unwrap().expose(),
            "k3y-eia"
        );
        assert!(loaded.secrets.slack_webhook_url.is_none());
        assert!(!format!("{:?}", loaded.secrets).contains("k3y-eia"));
        // a secret written into the file is refused as an unknown key
        let p = problems(jail, "sources:\n  eia:\n    api_key: abc\n");
        assert_eq!(p[0].key.as_deref(), Some("sources.eia.api_key"));
        Ok(())
    });
}

/// Issue 13, item 1: values that cannot work (`timeout_seconds: 1e300` made `run` panic) are
/// refused up front, each named with what would work.
#[test]
fn values_that_cannot_work_are_refused_with_their_bounds() {
    Jail::expect_with(|jail| {
        let yaml = "\
sources:
  eia: { timeout_seconds: 1e300, requests_per_second: 1e-30, max_response_mb: 1e12 }
  fred: { timeout_seconds: .nan }
retry: { initial_backoff_seconds: 1e200, max_backoff_seconds: 1e300, max_attempts: 1000000 }
pipeline:
  lookback_days: 4000000
  full_refresh_days: 4000000
  revision_days: 4000000
  max_concurrent_requests: 100000
  validation: { jump_threshold: 1e300, jump_window: 4000000000 }
schedule: { misfire_grace_seconds: 18446744073709551615 }
monitor: { late_after_days: 4000000000, basis_band: 1e300 }
notifications:
  email: { enabled: true, timeout_seconds: 18446744073709551615 }
";
        let p = problems(jail, yaml);
        let keys: Vec<_> = p.iter().filter_map(|p| p.key.clone()).collect();
        for expected in [
            "sources.eia.timeout_seconds",
            "sources.eia.requests_per_second",
            "sources.eia.max_response_mb",
            "sources.fred.timeout_seconds",
            "retry.initial_backoff_seconds",
            "retry.max_backoff_seconds",
            "retry.max_attempts",
            "pipeline.lookback_days",
            "pipeline.full_refresh_days",
            "pipeline.revision_days",
            "pipeline.max_concurrent_requests",
            "pipeline.validation.jump_threshold",
            "pipeline.validation.jump_window",
            "schedule.misfire_grace_seconds",
            "monitor.late_after_days",
            "monitor.basis_band",
            "notifications.email.timeout_seconds",
        ] {
            assert!(
                keys.iter().any(|k| k == expected),
                "{expected} missing from {keys:?}\n{p:#?}"
            );
        }
        let timeout = p
            .iter()
            .find(|p| p.key.as_deref() == Some("sources.eia.timeout_seconds"))
            .unwrap();
        assert!(timeout.message.contains("3600"), "{timeout}");
        Ok(())
    });
}

/// Issue 13, item 4: a commodity without a range was stored with no range check at all.
#[test]
fn a_commodity_needs_its_plausible_range() {
    Jail::expect_with(|jail| {
        let p = problems(
            jail,
            "commodities: { WTI: { name: W, unit: USD/bbl } }\nsources: { eia: { series: { WTI: \"petroleum/pri/spt:RWTC\" } }, fred: { enabled: false }, yahoo: { enabled: false } }\n",
        );
        let keys: Vec<_> = p.iter().filter_map(|p| p.key.clone()).collect();
        assert!(
            keys.contains(&"commodities.WTI.min_value".to_owned())
                && keys.contains(&"commodities.WTI.max_value".to_owned()),
            "{p:#?}"
        );
        Ok(())
    });
}

/// Issue 13, item 5: `commodities: {}` ran and succeeded with nothing to do; every source
/// disabled failed with no reason.
#[test]
fn a_configuration_with_nothing_to_fetch_is_refused() {
    Jail::expect_with(|jail| {
        let p = problems(jail, "commodities: {}\n");
        assert_eq!(p.len(), 1, "{p:#?}");
        assert_eq!(p[0].key.as_deref(), Some("commodities"));
        assert!(p[0].message.contains("no commodity"), "{}", p[0]);

        let p = problems(
            jail,
            "sources: { eia: { enabled: false }, fred: { enabled: false }, yahoo: { enabled: false } }\n",
        );
        assert_eq!(p.len(), 1, "{p:#?}");
        assert_eq!(p[0].key.as_deref(), Some("sources"));
        assert!(
            p[0].message.contains("every source is disabled"),
            "{}",
            p[0]
        );
        Ok(())
    });
}

/// Issue 13, item 14: an unknown key set through `PIPELINE_FOO__BAR` was reported as coming
/// from `PIPELINE_FOO`, a variable that does not exist.
#[test]
fn an_unknown_key_from_the_environment_names_the_real_variable() {
    Jail::expect_with(|jail| {
        jail.set_env("PIPELINE_FOO__BAR", "1");
        let err = config::load_from(None).unwrap_err().to_string();
        assert!(
            err.contains("environment variable PIPELINE_FOO__BAR"),
            "{err}"
        );
        Ok(())
    });
}

/// Issue 14: a backfill's default end date was today in `schedule.timezone`, not in the
/// markets' zone: at 00:10 UTC with the schedule in Tokyo it asked New York for a date it has
/// not reached.
#[test]
fn a_backfills_default_end_is_the_markets_today() {
    let mut config = Config::default();
    config.schedule.timezone = chrono_tz::Asia::Tokyo;
    let now: chrono::DateTime<chrono::Utc> = "2026-11-26T00:10:00Z".parse().unwrap();
    let start: chrono::NaiveDate = "2026-11-02".parse().unwrap();
    let mode = config.backfill(start, None, now).unwrap();
    let energy_core::RunMode::Backfill(window) = mode else {
        panic!("{mode:?}")
    };
    assert_eq!(window.end().to_string(), "2026-11-25");
    let err = config
        .backfill("2026-11-26".parse().unwrap(), None, now)
        .unwrap_err();
    assert!(
        matches!(
            err,
            energy_orchestrator::config::WindowError::StartsAfterToday { .. }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("nothing is published for it yet"),
        "{err}"
    );
}

/// Issue 15: a series' calendar is its source's for it, else its commodity's; a calendar for a
/// commodity the source has no series of is a configuration error.
#[test]
fn a_series_takes_its_sources_calendar_else_its_commodities() {
    use energy_core::{CommodityCode, SourceId, calendar::Calendar};
    let c = Config::default();
    let calendar = |commodity: &str, source: &str| {
        c.calendar(
            &CommodityCode::new(commodity).unwrap(),
            &SourceId::new(source).unwrap(),
        )
    };
    assert_eq!(calendar("BRENT", "yahoo"), Calendar::IceFuturesEurope);
    assert_eq!(calendar("BRENT", "eia"), Calendar::UkBankHolidays);
    assert_eq!(calendar("BRENT", "fred"), Calendar::UkBankHolidays);
    assert_eq!(calendar("WTI", "yahoo"), Calendar::Nymex);
    assert_eq!(calendar("GOLD", "yahoo"), Calendar::Weekdays);
    Jail::expect_with(|jail| {
        let p = problems(
            jail,
            "sources:\n  eia:\n    calendars: { NATGAS: weekdays }\n    series: { WTI: \"petroleum/pri/spt:RWTC\" }\n",
        );
        assert!(
            p.iter()
                .any(|p| p.key.as_deref() == Some("sources.eia.calendars.NATGAS")
                    && p.message.contains("no series for NATGAS")),
            "{p:?}"
        );
        let p = problems(
            jail,
            "commodities:\n  WTI:\n    name: W\n    unit: USD/bbl\n    min_value: 0\n    max_value: 1\n    calendar: nyse\n",
        );
        assert!(
            p.iter()
                .any(|p| p.message.contains("nyse") && p.message.contains("nymex")),
            "{p:?}"
        );
        Ok(())
    });
}

/// Issue 15: a series is judged by its source's publication rule, or its own; a rule is one
/// line; `monitor.stale_after_days` still reads as `late_after_days`.
#[test]
fn a_series_takes_its_sources_publication_rule_else_its_own() {
    use energy_core::{CommodityCode, SourceId};
    let rule = |c: &Config, commodity: &str, source: &str| {
        c.publication(
            &CommodityCode::new(commodity).unwrap(),
            &SourceId::new(source).unwrap(),
        )
        .to_string()
    };
    let c = Config::default();
    assert_eq!(
        rule(&c, "WTI", "eia"),
        "weekly wednesday 10:30 America/New_York through monday"
    );
    assert_eq!(
        rule(&c, "NATGAS", "eia"),
        "weekly wednesday 10:30 America/New_York through tuesday"
    );
    assert_eq!(
        rule(&c, "NATGAS", "fred"),
        "weekly wednesday 14:00 America/New_York through tuesday"
    );
    assert_eq!(
        rule(&c, "BRENT", "yahoo"),
        "daily after 18:00 America/New_York"
    );
    Jail::expect_with(|jail| {
        jail.create_file(
            "pipeline.yaml",
            "sources:\n  fred:\n    publication: \"weekly thursday 09:00 America/Chicago through tuesday\"\n    publications: { WTI: \"daily after 20:00 UTC\" }\nmonitor: { stale_after_days: 5 }\n",
        )?;
        let c = config::load_from(Some(Path::new("pipeline.yaml")))
            .map_err(|e| e.to_string())?
            .config;
        assert_eq!(rule(&c, "WTI", "fred"), "daily after 20:00 UTC");
        assert_eq!(
            rule(&c, "BRENT", "fred"),
            "weekly thursday 09:00 America/Chicago through tuesday"
        );
        // the default for Henry Hub stays
        assert_eq!(
            rule(&c, "NATGAS", "fred"),
            "weekly wednesday 14:00 America/New_York through tuesday"
        );
        assert_eq!(c.monitor.late_after_days, 5);
        let p = problems(
            jail,
            "sources:\n  eia:\n    publication: \"weekly someday 10:30 UTC through monday\"\n",
        );
        assert!(
            p.iter()
                .any(|p| p.key.as_deref() == Some("sources.eia.publication")
                    && p.message.contains("`someday` is not a day")),
            "{p:?}"
        );
        Ok(())
    });
}

/// A provider's `series` map given without one of its default series drops that series'
/// default calendar too: `sources: { yahoo: { series: { WTI: "CL=F" } } }` was refused with
/// "yahoo has no series for BRENT" about a calendar the user never wrote (it broke
/// `cargo xtask bench run`).
#[test]
fn a_series_map_without_brent_drops_brents_default_calendar() {
    use energy_core::{CommodityCode, SourceId, calendar::Calendar};
    Jail::expect_with(|jail| {
        jail.create_file(
            "pipeline.yaml",
            "sources:\n  yahoo:\n    series: { WTI: \"CL=F\" }\n",
        )?;
        let c = config::load_from(Some(Path::new("pipeline.yaml")))
            .map_err(|e| e.to_string())?
            .config;
        let yahoo = c.sources.get("yahoo").unwrap();
        assert!(yahoo.calendars.is_empty(), "{:?}", yahoo.calendars);
        assert_eq!(
            c.calendar(
                &CommodityCode::new("WTI").unwrap(),
                &SourceId::new("yahoo").unwrap()
            ),
            Calendar::Nymex
        );
        Ok(())
    });
}
