//! The cases, written once, run on every backend.

use chrono::{TimeZone, Utc};
use energy_core::{
    CommodityCode, Counts, ModeKind, Price, Rejection, RunReport, RunStatus, SourceId, Trigger,
    validation::RuleId,
};
use energy_storage::{
    CHUNK_INTERVAL_DAYS, ExportFilter, PG_COPY_THRESHOLD, RunStart, StoreError, Timescale,
    WriteCounts,
};

use crate::support::{Kind, TestDb, obs, series};

fn code(c: &str) -> CommodityCode {
    CommodityCode::new(c).unwrap()
}

fn src(s: &str) -> SourceId {
    SourceId::new(s).unwrap()
}

pub(crate) async fn migrations_are_idempotent_and_every_down_reverses_its_up(db: &TestDb) {
    let before = db.store.table_names().await.unwrap();
    assert!(
        before.iter().any(|t| t.ends_with(":observations")),
        "{before:?}"
    );
    // opening again applies nothing and keeps the data
    db.store
        .upsert(None, &[obs("WTI", "eia", "2020-04-20", "-36.98")])
        .await
        .unwrap();
    let again = energy_storage::Store::open(&db.url).await.unwrap();
    assert_eq!(again.table_names().await.unwrap(), before);
    assert_eq!(
        again
            .count_observations(&ExportFilter::default())
            .await
            .unwrap(),
        1
    );
    // every down.sql undoes its up.sql: nothing of the schema is left, and up rebuilds it
    let (after_down, after_up) = db.store.redo_all_migrations_for_test().await.unwrap();
    assert!(
        after_down.is_empty(),
        "left behind by down.sql: {after_down:?}"
    );
    assert_eq!(after_up, before);
}

pub(crate) async fn writing_the_same_batch_twice_reports_the_second_as_unchanged(db: &TestDb) {
    let batch = series("WTI", "eia", 300, 0);
    let first = db.store.upsert(None, &batch).await.unwrap();
    assert_eq!(
        first,
        WriteCounts {
            inserted: 300,
            changed: 0,
            unchanged: 0,
            quarantined: 0
        }
    );
    let second = db.store.upsert(None, &batch).await.unwrap();
    assert_eq!(
        second,
        WriteCounts {
            inserted: 0,
            changed: 0,
            unchanged: 300,
            quarantined: 0
        }
    );
    assert_eq!(
        db.store
            .count_observations(&ExportFilter::default())
            .await
            .unwrap(),
        300
    );
    assert!(
        db.store
            .revisions(&code("WTI"), &src("eia"))
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn changed_value_is_counted_and_the_previous_one_kept_in_revisions(db: &TestDb) {
    let run = db.store.start_run(&start("r-rev")).await.unwrap();
    db.store
        .upsert(
            None,
            &[
                obs("BRENT", "fred", "2024-07-03", "86.9"),
                obs("BRENT", "fred", "2024-07-05", "87.1"),
            ],
        )
        .await
        .unwrap();
    let counts = db
        .store
        .upsert(
            Some(run),
            &[
                obs("BRENT", "fred", "2024-07-03", "86.90"), // same number, other spelling
                obs("BRENT", "fred", "2024-07-05", "87.25"), // revised
                obs("BRENT", "fred", "2024-07-08", "85.5"),  // new
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        WriteCounts {
            inserted: 1,
            changed: 1,
            unchanged: 1,
            quarantined: 0
        }
    );
    let revs = db
        .store
        .revisions(&code("BRENT"), &src("fred"))
        .await
        .unwrap();
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0].date.to_string(), "2024-07-05");
    assert_eq!(revs[0].old_value.to_string(), "87.1");
    assert_eq!(revs[0].new_value.to_string(), "87.25");
    assert_eq!(revs[0].replaced_by_run, Some(run));
    let latest = db
        .store
        .recent_values(&code("BRENT"), &src("fred"), None, 10)
        .await
        .unwrap();
    assert_eq!(latest[1].1.to_string(), "87.25");
}

/// On PostgreSQL batches above the threshold take the COPY path; the counts must not differ.
pub(crate) async fn large_batches_count_like_small_ones(db: &TestDb) {
    let n = PG_COPY_THRESHOLD + 500;
    let mut batch = series("NATGAS", "yahoo", n, 0);
    assert_eq!(
        db.store.upsert(None, &batch).await.unwrap().inserted,
        n as u64
    );
    // change every 10th value, add 100 new rows
    for (i, o) in batch.iter_mut().enumerate() {
        if i % 10 == 0 {
            o.value = Price::parse(&format!("{}.5", 1000 + i)).unwrap();
        }
    }
    batch.extend(series("NATGAS", "yahoo", 100, n));
    let counts = db.store.upsert(None, &batch).await.unwrap();
    let changed = n.div_ceil(10) as u64;
    assert_eq!(
        counts,
        WriteCounts {
            inserted: 100,
            changed,
            unchanged: n as u64 - changed,
            quarantined: 0
        }
    );
    assert_eq!(
        db.store
            .revisions(&code("NATGAS"), &src("yahoo"))
            .await
            .unwrap()
            .len() as u64,
        changed
    );
    // quarantine alongside a large batch, in the same transaction
    let rej = vec![rejection("NATGAS", "yahoo", "1990-01-01", "NaN", RuleId::NotANumber); 3];
    let counts = db.store.write_batch(None, &batch, &rej).await.unwrap();
    assert_eq!(counts.quarantined, 3);
    assert_eq!(counts.unchanged, batch.len() as u64);
    assert_eq!(db.store.quarantined(None).await.unwrap().len(), 3);
}

pub(crate) async fn concurrent_overlapping_writers_both_succeed_without_duplicates(db: &TestDb) {
    for size in [400, PG_COPY_THRESHOLD + 1000] {
        let commodity = if size == 400 { "WTI" } else { "BRENT" };
        let a = series(commodity, "eia", size, 0);
        let b = series(commodity, "eia", size, size / 2);
        let (s1, s2) = (db.store.clone(), db.store.clone());
        let t1 = tokio::spawn(async move { s1.upsert(None, &a).await });
        let t2 = tokio::spawn(async move { s2.upsert(None, &b).await });
        let (r1, r2) = (t1.await.unwrap().unwrap(), t2.await.unwrap().unwrap());
        // the overlap is inserted by one writer and unchanged for the other
        assert_eq!(
            r1.inserted + r2.inserted,
            (size + size / 2) as u64,
            "{r1:?} {r2:?}"
        );
        assert_eq!(
            r1.unchanged + r2.unchanged,
            (size / 2) as u64,
            "{r1:?} {r2:?}"
        );
        let filter = ExportFilter {
            commodities: vec![code(commodity)],
            ..Default::default()
        };
        assert_eq!(
            db.store.count_observations(&filter).await.unwrap(),
            (size + size / 2) as u64
        );
    }
}

pub(crate) async fn values_round_trip_exactly(db: &TestDb) {
    let values = [
        "-36.98",
        "0.1",
        "145.31",
        "1518.1",
        "0.000001",
        "123456789012.123456",
    ];
    let rows: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, v)| obs("WTI", "eia", &format!("2020-04-{:02}", 20 + i), v))
        .collect();
    db.store.upsert(None, &rows).await.unwrap();
    let mut back = Vec::new();
    db.store
        .export(&ExportFilter::default(), |o| {
            back.push(o.value.to_string());
            Ok::<_, ()>(())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back, values);
    // also through the bulk path
    let mut big = series("BRENT", "eia", PG_COPY_THRESHOLD, 0);
    for (i, v) in values.iter().enumerate() {
        big[i].value = Price::parse(v).unwrap();
    }
    db.store.upsert(None, &big).await.unwrap();
    let recent = db
        .store
        .recent_values(
            &code("BRENT"),
            &src("eia"),
            Some(big[values.len()].date),
            100,
        )
        .await
        .unwrap();
    let mut got: Vec<String> = recent.iter().map(|(_, p)| p.to_string()).collect();
    got.reverse();
    assert_eq!(got, values);
}

pub(crate) async fn repeated_key_in_one_batch_keeps_the_last_value(db: &TestDb) {
    let counts = db
        .store
        .upsert(
            None,
            &[
                obs("WTI", "fred", "2025-11-24", "58.8"),
                obs("WTI", "fred", "2025-11-24", "58.84"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        WriteCounts {
            inserted: 1,
            changed: 0,
            unchanged: 1,
            quarantined: 0
        }
    );
    let v = db
        .store
        .recent_values(&code("WTI"), &src("fred"), None, 5)
        .await
        .unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].1.to_string(), "58.84");
}

fn rejection(c: &str, s: &str, date: &str, raw: &str, rule: RuleId) -> Rejection {
    Rejection {
        commodity: code(c),
        source: src(s),
        date: date.parse().unwrap(),
        raw_value: raw.into(),
        rule,
        reason: format!("{rule}: {raw}"),
    }
}

pub(crate) async fn quarantined_rows_keep_rule_reason_and_run(db: &TestDb) {
    let run = db.store.start_run(&start("r-q")).await.unwrap();
    let counts = db
        .store
        .write_batch(
            Some(run),
            &[obs("WTI", "yahoo", "2026-01-05", "57.1")],
            &[rejection(
                "WTI",
                "yahoo",
                "2026-01-06",
                "9999",
                RuleId::PlausibleRange,
            )],
        )
        .await
        .unwrap();
    assert_eq!(
        counts,
        WriteCounts {
            inserted: 1,
            changed: 0,
            unchanged: 0,
            quarantined: 1
        }
    );
    let q = db.store.quarantined(Some(run)).await.unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].rejection.rule, q[0].rejection.raw_value.as_str()),
        (RuleId::PlausibleRange, "9999")
    );
    assert_eq!(q[0].rejection.reason, "plausible_range: 9999");
    assert_eq!(q[0].run, Some(run));
    assert_eq!(q[0].run_uuid.as_deref(), Some("r-q"));
    assert_eq!(q[0].rejection.date.to_string(), "2026-01-06");
    // the newest first, at most `limit`, with how many match in all; filtered in the database
    db.store
        .write_batch(
            None,
            &[],
            &[
                rejection("WTI", "eia", "2026-01-07", "-1", RuleId::PlausibleRange),
                rejection("WTI", "yahoo", "2026-01-08", "x", RuleId::NotANumber),
            ],
        )
        .await
        .unwrap();
    let newest = |filter: energy_storage::QuarantineFilter| {
        let store = db.store.clone();
        async move {
            let (rows, total) = store.quarantine_newest(&filter).await.unwrap();
            let dates: Vec<String> = rows.iter().map(|r| r.rejection.date.to_string()).collect();
            (dates, total)
        }
    };
    assert_eq!(
        newest(energy_storage::QuarantineFilter {
            limit: Some(2),
            ..Default::default()
        })
        .await,
        (vec!["2026-01-08".to_owned(), "2026-01-07".to_owned()], 3)
    );
    assert_eq!(
        newest(energy_storage::QuarantineFilter {
            source: Some(src("yahoo")),
            limit: Some(1),
            ..Default::default()
        })
        .await,
        (vec!["2026-01-08".to_owned()], 2)
    );
    assert_eq!(
        newest(energy_storage::QuarantineFilter {
            run: Some(run),
            commodity: Some(code("WTI")),
            ..Default::default()
        })
        .await,
        (vec!["2026-01-06".to_owned()], 1)
    );
    assert_eq!(
        newest(energy_storage::QuarantineFilter {
            commodity: Some(code("COAL")),
            ..Default::default()
        })
        .await,
        (vec![], 0),
        "a commodity never stored matches nothing"
    );
}

pub(crate) async fn unregistered_commodity_fails_the_whole_batch(db: &TestDb) {
    let mut batch = vec![obs("WTI", "eia", "2026-01-02", "61.2")];
    batch.push(obs("COAL", "eia", "2026-01-02", "100"));
    let err = db.store.upsert(None, &batch).await.unwrap_err();
    assert!(matches!(err, StoreError::NotRegistered { .. }), "{err}");
    assert!(err.to_string().contains("COAL"), "{err}");
    assert_eq!(
        db.store
            .count_observations(&ExportFilter::default())
            .await
            .unwrap(),
        0
    );
}

pub(crate) async fn latest_date_and_freshness_follow_the_newest_row(db: &TestDb) {
    assert_eq!(
        db.store
            .latest_date(&code("WTI"), &src("eia"))
            .await
            .unwrap(),
        None
    );
    db.store
        .upsert(
            None,
            &[
                obs("WTI", "eia", "2026-08-17", "63.4"),
                obs("WTI", "eia", "2026-08-18", "63.1"),
                obs("NATGAS", "fred", "2026-08-14", "2.9"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        db.store
            .latest_date(&code("WTI"), &src("eia"))
            .await
            .unwrap(),
        Some("2026-08-18".parse().unwrap())
    );
    assert_eq!(
        db.store
            .latest_date(&code("COAL"), &src("eia"))
            .await
            .unwrap(),
        None
    );
    let f = db.store.freshness().await.unwrap();
    let summary: Vec<String> = f
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s.commodity, s.source, s.latest_date, s.latest_value
            )
        })
        .collect();
    assert_eq!(
        summary,
        ["NATGAS fred 2026-08-14 2.9", "WTI eia 2026-08-18 63.1"]
    );
}

pub(crate) async fn recent_values_come_newest_first_before_a_date(db: &TestDb) {
    db.store
        .upsert(None, &series("WTI", "eia", 50, 0))
        .await
        .unwrap();
    let before = "1990-01-31".parse().unwrap();
    let v = db
        .store
        .recent_values(&code("WTI"), &src("eia"), Some(before), 5)
        .await
        .unwrap();
    let dates: Vec<String> = v.iter().map(|(d, _)| d.to_string()).collect();
    assert_eq!(
        dates,
        [
            "1990-01-30",
            "1990-01-29",
            "1990-01-28",
            "1990-01-27",
            "1990-01-26"
        ]
    );
}

pub(crate) async fn recent_values_of_every_series_match_the_per_series_lookup(db: &TestDb) {
    db.store
        .upsert(None, &series("WTI", "eia", 50, 0))
        .await
        .unwrap();
    db.store
        .upsert(None, &series("NATGAS", "yahoo", 3, 7))
        .await
        .unwrap();
    let all = db.store.recent_values_of_every_series(30).await.unwrap();
    assert_eq!(all.len(), 2, "only series with data: {all:?}");
    for (c, s, n) in [("WTI", "eia", 30), ("NATGAS", "yahoo", 3)] {
        let one = db
            .store
            .recent_values(&code(c), &src(s), None, 30)
            .await
            .unwrap();
        assert_eq!(one.len(), n);
        assert_eq!(all[&(code(c), src(s))], one, "{c}/{s}");
    }
}

pub(crate) async fn export_streams_every_matching_row_in_key_order(db: &TestDb) {
    // more than two pages of 10,000
    db.store
        .upsert(None, &series("WTI", "eia", 12_000, 0))
        .await
        .unwrap();
    db.store
        .upsert(None, &series("WTI", "fred", 11_000, 0))
        .await
        .unwrap();
    db.store
        .upsert(None, &series("BRENT", "eia", 100, 0))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let n = db
        .store
        .export(&ExportFilter::default(), |o| {
            seen.push((o.commodity.to_string(), o.source.to_string(), o.date));
            Ok::<_, ()>(())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 23_100);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| (&a.0 != "WTI", &a.1, a.2).cmp(&(&b.0 != "WTI", &b.1, b.2)));
    assert_eq!(seen, sorted, "export is not in key order");
    assert!(
        seen.windows(2).all(|w| w[0] != w[1]),
        "duplicate rows in export"
    );
    let filter = ExportFilter {
        commodities: vec![code("WTI")],
        sources: vec![src("fred")],
        start: Some("1990-02-01".parse().unwrap()),
        end: Some("1990-02-28".parse().unwrap()),
        as_of: None,
    };
    assert_eq!(db.store.count_observations(&filter).await.unwrap(), 28);
    let none = ExportFilter {
        commodities: vec![code("COAL")],
        ..Default::default()
    };
    assert_eq!(db.store.count_observations(&none).await.unwrap(), 0);
    // a sink error stops the export
    let mut taken = 0;
    let stopped = db
        .store
        .export(&ExportFilter::default(), |_| {
            taken += 1;
            if taken == 3 { Err("enough") } else { Ok(()) }
        })
        .await
        .unwrap();
    assert_eq!(stopped, Err("enough"));
}

fn start(uuid: &str) -> RunStart {
    RunStart {
        uuid: uuid.into(),
        trigger: Trigger::Manual,
        mode: ModeKind::Incremental,
        scheduled_for: None,
        started_at: Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 0).unwrap(),
        host: "test-host".into(),
        pid: 4242,
    }
}

pub(crate) async fn run_ledger_records_start_finish_and_interruption(db: &TestDb) {
    let a = db.store.start_run(&start("run-a")).await.unwrap();
    let mut scheduled = start("run-b");
    scheduled.trigger = Trigger::Schedule;
    scheduled.scheduled_for = Some(Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 0).unwrap());
    let b = db.store.start_run(&scheduled).await.unwrap();
    assert_eq!(db.store.running_runs().await.unwrap().len(), 2);

    let report = RunReport {
        cross_source: Vec::new(),
        cross_source_warnings: 0,
        run_id: "run-a".into(),
        trigger: Trigger::Manual,
        scheduled_for: None,
        mode: ModeKind::Incremental,
        status: RunStatus::Partial,
        started_at: start("run-a").started_at,
        finished_at: Some(Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 2).unwrap()),
        duration_seconds: 2.0,
        window: None,
        sources: vec![],
        counts: Counts {
            fetched: 10,
            stored: 7,
            unchanged: 2,
            rejected: 1,
        },
        notifications: vec![],
        error: None,
    };
    db.store.finish_run(a, &report).await.unwrap();
    // one run by its id (a single-row read), and none for an id never given
    let one = db.store.run(a).await.unwrap().unwrap();
    assert_eq!(
        (one.uuid.as_str(), one.status),
        ("run-a", RunStatus::Partial)
    );
    assert_eq!(db.store.run(b).await.unwrap().unwrap().uuid, "run-b");
    assert!(
        db.store
            .run(energy_storage::RunId(i64::MAX))
            .await
            .unwrap()
            .is_none()
    );
    assert!(db.store.mark_run_interrupted(b, Utc::now()).await.unwrap());
    assert!(
        !db.store.mark_run_interrupted(b, Utc::now()).await.unwrap(),
        "only a running run is interrupted"
    );
    assert!(db.store.running_runs().await.unwrap().is_empty());

    let history = db.store.recent_runs(10).await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.uuid.as_str()).collect::<Vec<_>>(),
        ["run-b", "run-a"]
    );
    assert_eq!(history[0].status, RunStatus::Interrupted);
    assert_eq!(history[0].trigger, Trigger::Schedule);
    assert_eq!(history[0].scheduled_for, scheduled.scheduled_for);
    assert_eq!(history[1].status, RunStatus::Partial);
    assert_eq!(history[1].counts.stored, 7);
    assert_eq!(history[1].report.as_ref(), Some(&report));
    assert_eq!(
        (history[1].host.as_str(), history[1].pid),
        ("test-host", 4242)
    );
    assert_eq!(db.store.recent_runs(1).await.unwrap().len(), 1);
}

pub(crate) async fn health_names_backend_and_version(db: &TestDb) {
    let h = db.store.health().await;
    assert!(h.healthy, "{h:?}");
    if db.is_postgres() {
        assert_eq!(h.backend, "postgres");
        assert!(
            h.server_version
                .as_deref()
                .unwrap_or("")
                .starts_with("PostgreSQL"),
            "{h:?}"
        );
        let found = db
            .store
            .timescale()
            .expect("a PostgreSQL store ran the TimescaleDB step");
        assert!(h.message.contains(&found.describe()), "{h:?}");
        if db.kind == Kind::TimescaleDb {
            assert!(h.timescaledb, "{h:?}");
            assert_eq!(
                found,
                &Timescale::Hypertable {
                    chunk_interval_days: CHUNK_INTERVAL_DAYS
                }
            );
            assert!(
                h.message.contains("TimescaleDB hypertable, 365-day chunks"),
                "{h:?}"
            );
        } else {
            assert!(!h.timescaledb, "{h:?}");
            assert!(h.message.contains("plain PostgreSQL"), "{h:?}");
        }
    } else {
        assert_eq!(h.backend, "sqlite");
        assert!(
            h.server_version
                .as_deref()
                .unwrap_or("")
                .starts_with("SQLite 3."),
            "{h:?}"
        );
    }
}

pub(crate) async fn fire_ledger_claims_each_fire_time_once(db: &TestDb) {
    use energy_storage::FireState;
    let s = &db.store;
    let t: chrono::DateTime<chrono::Utc> = "2026-11-25T11:00:00Z".parse().unwrap();
    let now = t + chrono::Duration::seconds(1);
    // two claimers at once: exactly one wins
    let (a, b) = tokio::join!(
        s.claim_fire(
            "0 6 * * * America/New_York",
            t,
            FireState::Running,
            "a",
            now,
            None
        ),
        s.claim_fire(
            "0 6 * * * America/New_York",
            t,
            FireState::Running,
            "b",
            now,
            None
        )
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one claim wins");
    // another schedule key is another ledger
    assert!(
        s.claim_fire(
            "0 7 * * * America/New_York",
            t,
            FireState::Missed,
            "a",
            now,
            Some("late")
        )
        .await
        .unwrap()
    );
    s.finish_fire(
        "0 6 * * * America/New_York",
        t,
        FireState::Done,
        None,
        Some("run x success"),
        now,
    )
    .await
    .unwrap();
    let fires = s
        .fires(Some("0 6 * * * America/New_York"), 10)
        .await
        .unwrap();
    assert_eq!(fires.len(), 1);
    assert_eq!(fires[0].state, FireState::Done);
    assert_eq!(fires[0].scheduled_for, t);
    assert_eq!(fires[0].note.as_deref(), Some("run x success"));
    assert_eq!(
        s.latest_fire("0 7 * * * America/New_York").await.unwrap(),
        Some(t)
    );
    assert_eq!(s.fires(None, 10).await.unwrap().len(), 2);
}

pub(crate) async fn scheduler_instances_heartbeat_and_take_stop_requests(db: &TestDb) {
    use energy_storage::SchedulerRecord;
    let s = &db.store;
    let now: chrono::DateTime<chrono::Utc> = "2026-11-25T11:00:00Z".parse().unwrap();
    s.register_scheduler(&SchedulerRecord {
        instance_id: "host:1:x".into(),
        host: "host".into(),
        pid: 1,
        started_at: now,
        heartbeat_at: now,
        next_fire_at: None,
        state: energy_storage::InstanceState::Running,
        stop_requested: false,
    })
    .await
    .unwrap();
    let later = now + chrono::Duration::seconds(5);
    assert!(
        !s.scheduler_heartbeat("host:1:x", later, Some(later))
            .await
            .unwrap()
    );
    assert_eq!(s.request_scheduler_stop().await.unwrap(), 1);
    assert!(
        s.scheduler_heartbeat("host:1:x", later, None)
            .await
            .unwrap()
    );
    s.scheduler_stopped("host:1:x", later).await.unwrap();
    let all = s.schedulers().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].state, energy_storage::InstanceState::Stopped);
    assert_eq!(all[0].heartbeat_at, later);
    assert_eq!(
        s.request_scheduler_stop().await.unwrap(),
        0,
        "nobody left to ask"
    );
}

/// Issue 15: a freshness change is announced by one claimer; claiming it again (or from a state
/// the series is no longer in) fails; the ledger reads back what was last announced.
pub(crate) async fn freshness_alert_changes_are_claimed_once(db: &TestDb) {
    use energy_storage::Alerted;
    let s = &db.store;
    let t: chrono::DateTime<chrono::Utc> = "2026-11-25T16:00:00Z".parse().unwrap();
    let (wti, eia) = (code("WTI"), src("eia"));
    assert!(s.alerted().await.unwrap().is_empty());
    let (a, b) = tokio::join!(
        s.claim_alert(&wti, &eia, Alerted::Ok, Alerted::Stale, t),
        s.claim_alert(&wti, &eia, Alerted::Ok, Alerted::Stale, t)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one claim wins");
    assert!(
        !s.claim_alert(&wti, &eia, Alerted::Ok, Alerted::Stale, t)
            .await
            .unwrap()
    );
    let alerted = s.alerted().await.unwrap();
    assert_eq!(
        alerted.get(&(wti.clone(), eia.clone())),
        Some(&Alerted::Stale)
    );
    // recovery, once
    assert!(
        s.claim_alert(&wti, &eia, Alerted::Stale, Alerted::Ok, t)
            .await
            .unwrap()
    );
    assert!(
        !s.claim_alert(&wti, &eia, Alerted::Stale, Alerted::Ok, t)
            .await
            .unwrap()
    );
    assert_eq!(
        s.alerted().await.unwrap().get(&(wti, eia)),
        Some(&Alerted::Ok)
    );
}

/// The chart read: a commodity's values per source in date order, from a start or all, exact.
pub(crate) async fn commodity_values_come_per_source_in_date_order(db: &TestDb) {
    use crate::support::obs;
    db.store
        .upsert(
            None,
            &[
                obs("WTI", "fred", "2020-04-21", "8.91"),
                obs("WTI", "eia", "2020-04-20", "-36.98"),
                obs("WTI", "eia", "2020-04-17", "18.27"),
                obs("BRENT", "eia", "2020-04-20", "25.57"),
            ],
        )
        .await
        .unwrap();
    let all = db
        .store
        .commodity_values(&code("WTI"), None, None)
        .await
        .unwrap();
    let shown: Vec<(String, Vec<(String, String)>)> = all
        .iter()
        .map(|(s, v)| {
            (
                s.to_string(),
                v.iter()
                    .map(|(d, p)| (d.to_string(), p.to_string()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "eia".to_owned(),
                vec![
                    ("2020-04-17".to_owned(), "18.27".to_owned()),
                    ("2020-04-20".to_owned(), "-36.98".to_owned())
                ]
            ),
            (
                "fred".to_owned(),
                vec![("2020-04-21".to_owned(), "8.91".to_owned())]
            )
        ]
    );
    let from = db
        .store
        .commodity_values(&code("WTI"), Some("2020-04-20".parse().unwrap()), None)
        .await
        .unwrap();
    assert_eq!(from[&src("eia")].len(), 1);
    assert!(
        db.store
            .commodity_values(&code("GOLD"), None, None)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Issue 17: reading the store as it was at an instant: a value first fetched on day 2 is absent
/// as of day 1; a value revised on day 3 shows the old value as of day 2 and the new one as of
/// day 4; the export, `series` and `panel` agree.
pub(crate) async fn as_of_reads_show_what_the_store_knew_then(db: &TestDb) {
    use energy_storage::SeriesQuery;
    let day = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 15, 0, 0).unwrap();
    let write = |rows: Vec<energy_core::Observation>, at| {
        let store = db.store.clone();
        async move { store.write_batch_at(None, &rows, &[], at).await.unwrap() }
    };
    // day 1: two dates of WTI/eia; day 2: a third date and Brent; day 3: WTI's first date
    // revised; day 5: revised again
    write(
        vec![
            obs("WTI", "eia", "2026-11-02", "60.1"),
            obs("WTI", "eia", "2026-11-03", "60.2"),
        ],
        day(1),
    )
    .await;
    write(
        vec![
            obs("WTI", "eia", "2026-11-04", "60.3"),
            obs("BRENT", "eia", "2026-11-03", "64"),
        ],
        day(2),
    )
    .await;
    let revised = write(vec![obs("WTI", "eia", "2026-11-02", "-36.98")], day(3)).await;
    assert_eq!(revised.changed, 1);
    write(vec![obs("WTI", "eia", "2026-11-02", "61")], day(5)).await;

    let export = |as_of: Option<chrono::DateTime<Utc>>| {
        let store = db.store.clone();
        async move {
            let mut rows = Vec::new();
            store
                .export(
                    &ExportFilter {
                        as_of,
                        ..Default::default()
                    },
                    |o| {
                        rows.push(format!(
                            "{}/{} {} {}",
                            o.commodity, o.source, o.date, o.value
                        ));
                        Ok::<(), ()>(())
                    },
                )
                .await
                .unwrap()
                .unwrap();
            rows
        }
    };
    assert_eq!(
        export(Some(day(1))).await,
        ["WTI/eia 2026-11-02 60.1", "WTI/eia 2026-11-03 60.2"],
        "fetched on day 2: absent as of day 1"
    );
    assert_eq!(
        export(Some(day(2))).await,
        [
            "WTI/eia 2026-11-02 60.1",
            "WTI/eia 2026-11-03 60.2",
            "WTI/eia 2026-11-04 60.3",
            "BRENT/eia 2026-11-03 64"
        ],
        "revised on day 3: the old value as of day 2 (key order: WTI was stored first)"
    );
    assert_eq!(export(Some(day(4))).await[0], "WTI/eia 2026-11-02 -36.98");
    assert_eq!(export(Some(day(6))).await, export(None).await);
    assert_eq!(export(None).await[0], "WTI/eia 2026-11-02 61");
    // the instant a value was fetched belongs to it
    assert_eq!(export(Some(day(3))).await[0], "WTI/eia 2026-11-02 -36.98");
    assert!(
        export(Some(Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()))
            .await
            .is_empty()
    );

    // one series, typed
    let wti = SeriesQuery::new(code("WTI"), src("eia"));
    let values = |q: SeriesQuery| {
        let store = db.store.clone();
        async move {
            store
                .series(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|o| (o.date.to_string(), o.value.to_string()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        values(wti.clone().as_of(day(2))).await,
        [
            ("2026-11-02".to_owned(), "60.1".to_owned()),
            ("2026-11-03".to_owned(), "60.2".to_owned()),
            ("2026-11-04".to_owned(), "60.3".to_owned())
        ]
    );
    assert_eq!(
        values(
            wti.clone()
                .between(
                    Some("2026-11-02".parse().unwrap()),
                    Some("2026-11-02".parse().unwrap())
                )
                .as_of(day(4))
        )
        .await,
        [("2026-11-02".to_owned(), "-36.98".to_owned())]
    );
    // the wide panel as of day 2: Brent has no value on the 2nd or the 4th
    let panel = db
        .store
        .panel(&ExportFilter {
            as_of: Some(day(2)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(panel.shape(), (3, 2));
    let names: Vec<String> = panel.columns.iter().map(|c| c.name()).collect();
    assert_eq!(names, ["BRENT/eia", "WTI/eia"]);
    assert_eq!(
        panel.columns[0]
            .values
            .iter()
            .map(|v| v.map(|p| p.to_string()))
            .collect::<Vec<_>>(),
        [None, Some("64".to_owned()), None]
    );
    assert_eq!(
        panel.row("2026-11-02".parse().unwrap()).unwrap()[1].map(|p| p.to_string()),
        Some("60.1".to_owned())
    );
}

/// Issue 30, item 7: a value published as `4.0` was stored and exported as `4` (71 NATGAS rows
/// per source); the README promises values exactly as published. The published scale is kept
/// on every backend and every write path, while the same number spelt otherwise (`4`, `4.00`)
/// is still the same value: unchanged, no revision, the first spelling kept.
pub(crate) async fn values_keep_their_published_scale_and_equal_numbers_stay_unchanged(
    db: &TestDb,
) {
    // (a zero keeps no scale on PostgreSQL: both drivers write 0.0 as 0)
    let values = ["4.0", "26.00", "3.10", "-0.50", "100", "2.466"];
    let rows: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, v)| obs("NATGAS", "eia", &format!("2026-08-{:02}", 3 + i), v))
        .collect();
    db.store.upsert(None, &rows).await.unwrap();
    assert_eq!(exported_values(db).await, values);
    // the same numbers in other spellings: unchanged, and the stored text stays
    let respelt = ["4", "26", "3.1", "-0.5", "100.000", "2.4660"];
    let rows: Vec<_> = respelt
        .iter()
        .enumerate()
        .map(|(i, v)| obs("NATGAS", "eia", &format!("2026-08-{:02}", 3 + i), v))
        .collect();
    let counts = db.store.upsert(None, &rows).await.unwrap();
    assert_eq!(
        counts,
        WriteCounts {
            inserted: 0,
            changed: 0,
            unchanged: values.len() as u64,
            quarantined: 0
        }
    );
    assert!(
        db.store
            .revisions(&code("NATGAS"), &src("eia"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(exported_values(db).await, values);
    assert_eq!(
        db.store
            .value_scale(&ExportFilter::default())
            .await
            .unwrap(),
        3
    );
    // the bulk path (PostgreSQL COPY) keeps it too
    let mut big = series("BRENT", "fred", PG_COPY_THRESHOLD, 0);
    big[0].value = Price::parse("4.0").unwrap();
    big[1].value = Price::parse("26.00").unwrap();
    db.store.upsert(None, &big).await.unwrap();
    let recent = db
        .store
        .recent_values(&code("BRENT"), &src("fred"), Some(big[2].date), 10)
        .await
        .unwrap();
    let mut shown: Vec<String> = recent.iter().map(|(_, p)| p.to_string()).collect();
    shown.reverse();
    assert_eq!(shown, ["4.0", "26.00"]);
}

/// Every stored value as text, in key order.
async fn exported_values(db: &TestDb) -> Vec<String> {
    let mut back = Vec::new();
    db.store
        .export(&ExportFilter::default(), |o| {
            back.push(o.value.to_string());
            Ok::<_, ()>(())
        })
        .await
        .unwrap()
        .unwrap();
    back
}

/// Issue 24: after the first load of many rows the planner had no statistics until
/// autovacuum came round (`status` took 410–540 ms instead of 63–87 on PostgreSQL). A store
/// that has written 50,000 rows refreshes them; a small write does not.
pub(crate) async fn a_large_load_leaves_planner_statistics(db: &TestDb) {
    let s = &db.store;
    s.upsert(None, &series("WTI", "eia", 1000, 0))
        .await
        .unwrap();
    assert!(
        !s.has_planner_statistics_for_test().await.unwrap(),
        "statistics after 1,000 rows: a small write should not analyze"
    );
    for (commodity, source) in [("WTI", "fred"), ("BRENT", "eia")] {
        s.upsert(None, &series(commodity, source, 25_000, 0))
            .await
            .unwrap();
    }
    assert!(
        s.has_planner_statistics_for_test().await.unwrap(),
        "no planner statistics after 51,000 rows"
    );
}
