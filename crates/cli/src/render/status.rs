//! The `status` dashboard for people: database, freshness with sparklines, last runs, the
//! scheduler; fits 80 columns.

use super::{Paint, WIDTH, fit, pad_right, runs_table, sparkline, wrap};

/// The `status` dashboard for people: fits 80 columns.
pub(crate) fn status(r: &energy_orchestrator::status::StatusReport, paint: Paint) -> String {
    use energy_core::Freshness;
    use energy_orchestrator::status::SchedulerState;
    let mut out = String::new();
    let db = &r.database;
    let health = if db.healthy {
        paint.good("healthy")
    } else {
        paint.bad("UNREACHABLE")
    };
    // "PostgreSQL 15.20 (Debian …) on x86_64…, compiled by …": the product and version only
    let version = db
        .server_version
        .as_deref()
        .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "version unknown".to_owned());
    out.push_str(&format!(
        "{}  {} · {version} · TimescaleDB {} · {health}\n",
        paint.bold("DATABASE "),
        db.backend,
        if db.timescaledb { "yes" } else { "no" },
    ));
    if !db.healthy {
        out.push_str(&wrap(&db.message, 11, 80));
    } else if let Some(notice) = &db.notice {
        out.push_str(&wrap(notice, 11, 80));
    }
    if let Some(s) = &r.scheduler {
        let state = match s.state {
            SchedulerState::Running => paint.good(s.state.name()),
            SchedulerState::Dead => paint.bad(s.state.name()),
            SchedulerState::Stopped => paint.warn(s.state.name()),
        };
        let who = match (&s.host, s.pid) {
            (Some(h), Some(p)) if s.state != SchedulerState::Stopped => {
                format!(" on {h} (pid {p})")
            }
            _ => String::new(),
        };
        let next = match (&s.next_run_at, s.next_run_at_utc) {
            (Some(local), Some(utc)) => format!(
                "{} {} ({})",
                &local[..16.min(local.len())].replace('T', " "),
                s.timezone,
                energy_core::display::utc_time(utc)
            ),
            _ => "none: no scheduler is running (`energy-pipeline schedule start`)".to_owned(),
        };
        out.push_str(&format!("{}  {state}{who}\n", paint.bold("SCHEDULER")));
        out.push_str(&format!("{}  {next}\n", paint.bold("NEXT FIRE")));
    }
    let c = &r.configured;
    let sources: Vec<String> = c
        .sources
        .iter()
        .map(|s| match (s.enabled, s.key_variable, s.key_set) {
            (false, _, _) => format!("{} (disabled)", s.name),
            (true, Some(var), false) => format!("{} (no {var})", s.name),
            _ => s.name.to_string(),
        })
        .collect();
    let codes: Vec<&str> = c.commodities.iter().map(|c| c.as_str()).collect();
    let config_line = format!("{} · sources {}", codes.join(", "), sources.join(", "));
    out.push_str(&paint.bold("CONFIG   "));
    out.push_str("  ");
    out.push_str(wrap(&config_line, 11, 80).trim_start());

    out.push('\n');
    if r.freshness.is_empty() {
        if db.healthy {
            out.push_str("no observations stored yet: run `energy-pipeline run`\n");
        }
    } else {
        out.push_str(&format!(
            "{}\n",
            paint.bold(&format!(
                "FRESHNESS (LATE up to {} trading days past a release, then STALE)",
                c.late_after_days
            ))
        ));
        const N: usize = 6;
        let rows: Vec<[String; N]> = r
            .freshness
            .iter()
            .map(|s| {
                [
                    format!("{}/{}", s.commodity, s.source),
                    s.latest_date.map_or("-".to_owned(), |d| d.to_string()),
                    s.expected_date.to_string(),
                    s.latest_value
                        .as_ref()
                        .map_or("-".to_owned(), |v| v.to_string()),
                    s.state.name().to_owned(),
                    s.missing_periods.map_or("-".to_owned(), |g| g.to_string()),
                ]
            })
            .collect();
        let head = ["SERIES", "LATEST", "EXPECTED", "VALUE", "STATE", "GAPS"];
        let mut w: Vec<usize> = (0..N)
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([head[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        // the sparkline (or "no data yet") takes what is left of the line, at least 20 values;
        // a long series name gives way
        let spark_min = 20;
        let rest = w[1..].iter().sum::<usize>() + 2 * N + spark_min;
        w[0] = w[0].min(WIDTH.saturating_sub(rest)).max(head[0].len());
        let used = w.iter().sum::<usize>() + 2 * N;
        let spark = WIDTH.saturating_sub(used).clamp(
            spark_min,
            energy_orchestrator::status::SPARK_VALUES as usize,
        );
        // the header counts the values a sparkline below actually draws (`LAST 22` over
        // five values said more than there was)
        let drawn = r
            .freshness
            .iter()
            .filter(|s| s.note.is_none())
            .map(|s| s.recent.len().min(spark))
            .max()
            .unwrap_or(0);
        let last = match drawn {
            0 => "LAST".to_owned(),
            n => format!("LAST {n}"),
        };
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:<w4$}  {:>w5$}  {last}\n",
            head[0],
            head[1],
            head[2],
            head[3],
            head[4],
            head[5],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4],
            w5 = w[5],
        ));
        for (row, s) in rows.iter().zip(&r.freshness) {
            let state = match s.state {
                Freshness::Fresh => paint.good(&row[4]),
                Freshness::Late => paint.warn(&row[4]),
                Freshness::Stale => paint.bad(&row[4]),
            };
            let recent = &s.recent[s.recent.len().saturating_sub(spark)..];
            out.push_str(&format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {}  {:>w5$}  {}\n",
                fit(&row[0], w[0]),
                row[1],
                row[2],
                row[3],
                pad_right(&state, row[4].len(), w[4]),
                row[5],
                s.note.clone().unwrap_or_else(|| sparkline(recent)),
                w0 = w[0],
                w1 = w[1],
                w2 = w[2],
                w3 = w[3],
                w5 = w[5],
            ));
        }
    }
    if !r.last_runs.is_empty() {
        out.push('\n');
        out.push_str(&format!("{}\n", paint.bold("LAST RUNS")));
        out.push_str(&runs_table(&r.last_runs));
        if let Some(last) = r.last_runs.first() {
            for line in super::run::cross_source(last, 5).lines() {
                out.push_str(&fit(line, WIDTH));
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod status_tests {
    use chrono::{TimeZone, Utc};
    use energy_core::{
        CommodityCode, Counts, Freshness, ModeKind, RunReport, RunStatus, SourceId, Trigger,
    };
    use energy_orchestrator::status::{
        Configured, ConfiguredSource, DatabaseStatus, SchedulerState, SchedulerStatus,
        SeriesStatus, StatusReport,
    };

    use super::*;

    fn series(
        c: &str,
        s: &str,
        date: &str,
        value: &str,
        age: i64,
        wd: u32,
        state: Freshness,
    ) -> SeriesStatus {
        SeriesStatus {
            commodity: CommodityCode::new(c).unwrap(),
            source: SourceId::new(s).unwrap(),
            latest_date: Some(date.parse().unwrap()),
            latest_value: Some(value.parse().unwrap()),
            unit: "USD/bbl".into(),
            age_days: Some(age),
            age_weekdays: Some(wd),
            age_trading_days: Some(wd),
            expected_date: "2026-11-20".parse().unwrap(),
            due_at: None,
            overdue_trading_days: 0,
            publication: "daily after 18:00 America/New_York".into(),
            missing_periods: Some(u64::from(wd % 3)),
            missing_trading_days: Some(u64::from(wd % 3)),
            resolution: energy_core::Resolution::Daily,
            missing_since: Some("2025-11-23".parse().unwrap()),
            calendar: energy_core::calendar::Calendar::Nymex,
            state,
            note: None,
            recent: (0..30).map(|i| 60.0 + ((i * 7) % 11) as f64).collect(),
        }
    }

    fn run(scheduled: bool, status: RunStatus, seconds: f64) -> RunReport {
        let started = Utc.with_ymd_and_hms(2026, 11, 23, 11, 0, 0).unwrap();
        RunReport {
            cross_source: Vec::new(),
            cross_source_warnings: 0,
            run_id: "r".into(),
            trigger: if scheduled {
                Trigger::Schedule
            } else {
                Trigger::Manual
            },
            scheduled_for: None,
            attempt: None,
            mode: ModeKind::FullRefresh,
            status,
            started_at: started,
            finished_at: Some(started),
            duration_seconds: seconds,
            window: None,
            sources: vec![],
            counts: Counts {
                fetched: 1_234_567,
                stored: 1_234_000,
                unchanged: 0,
                rejected: 567,
            },
            notifications: vec![],
            error: None,
        }
    }

    /// A fixed dashboard: Monday 2026-11-23, Friday's prices fresh, an old series stale.
    fn report() -> StatusReport {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        StatusReport {
            generated_at: now,
            database: DatabaseStatus {
                healthy: true,
                backend: "postgres".into(),
                server_version: Some("PostgreSQL 15.20".into()),
                timescaledb: true,
                message: "ok".into(),
                notice: None,
            },
            freshness: vec![
                series(
                    "BRENT",
                    "eia",
                    "2026-11-20",
                    "63.82",
                    3,
                    1,
                    Freshness::Fresh,
                ),
                series(
                    "NATGAS",
                    "fred",
                    "2026-11-20",
                    "3.1",
                    3,
                    1,
                    Freshness::Fresh,
                ),
                series(
                    "WEST_TEXAS_INTERMEDIATE_CUSHING_",
                    "yahoo",
                    "2026-11-20",
                    "58.1",
                    3,
                    1,
                    Freshness::Fresh,
                ),
                SeriesStatus {
                    latest_date: None,
                    latest_value: None,
                    age_days: None,
                    age_weekdays: None,
                    age_trading_days: None,
                    missing_periods: None,
                    missing_trading_days: None,
                    missing_since: None,
                    state: Freshness::Stale,
                    note: Some("no data yet".into()),
                    recent: Vec::new(),
                    ..series("NATGAS", "yahoo", "2026-11-20", "0", 0, 0, Freshness::Stale)
                },
                series(
                    "WTI",
                    "eia",
                    "2026-08-18",
                    "-36.98",
                    97,
                    69,
                    Freshness::Stale,
                ),
            ],
            last_runs: vec![
                run(true, RunStatus::Interrupted, 245.0),
                run(false, RunStatus::Success, 0.84),
            ],
            scheduler: Some(SchedulerStatus {
                instances: Vec::new(),
                state: SchedulerState::Running,
                host: Some("desk-1".into()),
                pid: Some(4242),
                heartbeat_at: Some(now),
                heartbeat_age_seconds: Some(0),
                schedule: "0 6 * * *".into(),
                timezone: "America/New_York".into(),
                next_run_at: Some("2026-11-24T06:00:00-05:00".into()),
                next_run_at_utc: Some(Utc.with_ymd_and_hms(2026, 11, 24, 11, 0, 0).unwrap()),
            }),
            configured: Configured {
                commodities: ["BRENT", "NATGAS", "WTI"]
                    .map(|c| CommodityCode::new(c).unwrap())
                    .to_vec(),
                sources: vec![
                    ConfiguredSource {
                        name: SourceId::new("eia").unwrap(),
                        enabled: true,
                        key_variable: Some("EIA_API_KEY"),
                        key_set: true,
                    },
                    ConfiguredSource {
                        name: SourceId::new("fred").unwrap(),
                        enabled: true,
                        key_variable: Some("FRED_API_KEY"),
                        key_set: false,
                    },
                ],
                late_after_days: 2,
            },
        }
    }

    #[test]
    fn status_for_people_fits_80_columns() {
        let text = status(&report(), Paint(false));
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} chars: {line}",
                line.chars().count()
            );
        }
        insta::assert_snapshot!(text);
    }

    /// Issue 30, item 12: the header said `LAST 22` over a sparkline of five values.
    #[test]
    fn the_sparkline_header_counts_the_values_drawn() {
        let mut r = report();
        for s in &mut r.freshness {
            s.recent.truncate(5);
        }
        let text = status(&r, Paint(false));
        let head = text.lines().find(|l| l.starts_with("SERIES")).unwrap();
        assert!(head.ends_with("LAST 5"), "{head}");
    }

    /// Issue 30, item 12: `runs` said nothing of why a run failed and which run it was, and
    /// showed its start only to the minute.
    #[test]
    fn a_run_that_did_not_succeed_says_which_and_why_under_its_row() {
        let mut failed = run(false, RunStatus::Failed, 3.0);
        failed.run_id = "0193a1e2-7c4d-7e3a-9f10-3b2c1d0e9a8f".into();
        failed.started_at += chrono::Duration::seconds(7);
        failed.error = Some("cannot reach the database".into());
        let ok = run(false, RunStatus::Success, 1.0);
        let text = runs_table(&[failed, ok]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("2026-11-23 11:00:07"), "{text}");
        assert_eq!(
            lines[2],
            "  └ 0193a1e2-7c4d-7e3a-9f10-3b2c1d0e9a8f: cannot reach the database"
        );
        assert!(lines[3].contains("success"), "{text}");
        assert_eq!(
            lines.len(),
            4,
            "a successful run has no second line: {text}"
        );
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    }

    #[test]
    fn colour_only_when_asked() {
        assert!(!status(&report(), Paint(false)).contains('\x1b'));
        let coloured = status(&report(), Paint(true));
        assert!(coloured.contains("\x1b[31mSTALE\x1b[0m"), "{coloured}");
        assert!(coloured.contains("\x1b[32mFRESH\x1b[0m"));
    }
}
