//! Writes: migrations, upserts and their counts, revisions, the COPY path, concurrent
//! writers, exact values and their published scale, an unregistered commodity, and the planner
//! statistics after a large load.

#[allow(unused_imports)]
use super::*;

pub(crate) async fn migrations_are_idempotent_and_every_down_reverses_its_up(db: &TestDb) {
    let before = db.store.table_names().await.unwrap();
    assert!(
        before.iter().any(|t| t.ends_with(":observations")),
        "{before:?}"
    );
    // opening again applies nothing and keeps the data
    db.store
        .observations()
        .upsert(None, &[obs("WTI", "eia", "2020-04-20", "-36.98")])
        .await
        .unwrap();
    let again = energy_storage::Store::open(&db.url).await.unwrap();
    assert_eq!(again.table_names().await.unwrap(), before);
    assert_eq!(
        again
            .history()
            .count(&ExportFilter::default())
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
    let first = db.store.observations().upsert(None, &batch).await.unwrap();
    assert_eq!(
        first,
        WriteCounts {
            inserted: 300,
            changed: 0,
            unchanged: 0,
            quarantined: 0
        }
    );
    let second = db.store.observations().upsert(None, &batch).await.unwrap();
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
            .history()
            .count(&ExportFilter::default())
            .await
            .unwrap(),
        300
    );
    assert!(
        db.store
            .observations()
            .revisions(&code("WTI"), &src("eia"))
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn changed_value_is_counted_and_the_previous_one_kept_in_revisions(db: &TestDb) {
    let run = db.store.runs().start(&start("r-rev")).await.unwrap();
    db.store
        .observations()
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
        .observations()
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
        .observations()
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
        .observations()
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
        db.store
            .observations()
            .upsert(None, &batch)
            .await
            .unwrap()
            .inserted,
        n as u64
    );
    // change every 10th value, add 100 new rows
    for (i, o) in batch.iter_mut().enumerate() {
        if i % 10 == 0 {
            o.value = Price::parse(&format!("{}.5", 1000 + i)).unwrap();
        }
    }
    batch.extend(series("NATGAS", "yahoo", 100, n));
    let counts = db.store.observations().upsert(None, &batch).await.unwrap();
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
            .observations()
            .revisions(&code("NATGAS"), &src("yahoo"))
            .await
            .unwrap()
            .len() as u64,
        changed
    );
    // quarantine alongside a large batch, in the same transaction
    let rej = vec![rejection("NATGAS", "yahoo", "1990-01-01", "NaN", RuleId::NotANumber); 3];
    let counts = db
        .store
        .observations()
        .write_batch(None, &batch, &rej)
        .await
        .unwrap();
    assert_eq!(counts.quarantined, 3);
    assert_eq!(counts.unchanged, batch.len() as u64);
    assert_eq!(db.store.quarantine().of_run(None).await.unwrap().len(), 3);
}

pub(crate) async fn concurrent_overlapping_writers_both_succeed_without_duplicates(db: &TestDb) {
    for size in [400, PG_COPY_THRESHOLD + 1000] {
        let commodity = if size == 400 { "WTI" } else { "BRENT" };
        let a = series(commodity, "eia", size, 0);
        let b = series(commodity, "eia", size, size / 2);
        let (s1, s2) = (db.store.clone(), db.store.clone());
        let t1 = tokio::spawn(async move { s1.observations().upsert(None, &a).await });
        let t2 = tokio::spawn(async move { s2.observations().upsert(None, &b).await });
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
            db.store.history().count(&filter).await.unwrap(),
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
    db.store.observations().upsert(None, &rows).await.unwrap();
    let mut back = Vec::new();
    db.store
        .history()
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
    db.store.observations().upsert(None, &big).await.unwrap();
    let recent = db
        .store
        .observations()
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
        .observations()
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
        .observations()
        .recent_values(&code("WTI"), &src("fred"), None, 5)
        .await
        .unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].1.to_string(), "58.84");
}

pub(crate) async fn unregistered_commodity_fails_the_whole_batch(db: &TestDb) {
    let mut batch = vec![obs("WTI", "eia", "2026-01-02", "61.2")];
    batch.push(obs("COAL", "eia", "2026-01-02", "100"));
    let err = db
        .store
        .observations()
        .upsert(None, &batch)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotRegistered { .. }), "{err}");
    assert!(err.to_string().contains("COAL"), "{err}");
    assert_eq!(
        db.store
            .history()
            .count(&ExportFilter::default())
            .await
            .unwrap(),
        0
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
    db.store.observations().upsert(None, &rows).await.unwrap();
    assert_eq!(exported_values(db).await, values);
    // the same numbers in other spellings: unchanged, and the stored text stays
    let respelt = ["4", "26", "3.1", "-0.5", "100.000", "2.4660"];
    let rows: Vec<_> = respelt
        .iter()
        .enumerate()
        .map(|(i, v)| obs("NATGAS", "eia", &format!("2026-08-{:02}", 3 + i), v))
        .collect();
    let counts = db.store.observations().upsert(None, &rows).await.unwrap();
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
            .observations()
            .revisions(&code("NATGAS"), &src("eia"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(exported_values(db).await, values);
    assert_eq!(
        db.store
            .history()
            .value_scale(&ExportFilter::default())
            .await
            .unwrap(),
        3
    );
    // the bulk path (PostgreSQL COPY) keeps it too
    let mut big = series("BRENT", "fred", PG_COPY_THRESHOLD, 0);
    big[0].value = Price::parse("4.0").unwrap();
    big[1].value = Price::parse("26.00").unwrap();
    db.store.observations().upsert(None, &big).await.unwrap();
    let recent = db
        .store
        .observations()
        .recent_values(&code("BRENT"), &src("fred"), Some(big[2].date), 10)
        .await
        .unwrap();
    let mut shown: Vec<String> = recent.iter().map(|(_, p)| p.to_string()).collect();
    shown.reverse();
    assert_eq!(shown, ["4.0", "26.00"]);
}

/// Issue 24: after the first load of many rows the planner had no statistics until
/// autovacuum came round (`status` took 410–540 ms instead of 63–87 on PostgreSQL). A store
/// that has written 50,000 rows refreshes them; a small write does not.
pub(crate) async fn a_large_load_leaves_planner_statistics(db: &TestDb) {
    let s = &db.store;
    s.observations()
        .upsert(None, &series("WTI", "eia", 1000, 0))
        .await
        .unwrap();
    assert!(
        !s.has_planner_statistics_for_test().await.unwrap(),
        "statistics after 1,000 rows: a small write should not analyze"
    );
    for (commodity, source) in [("WTI", "fred"), ("BRENT", "eia")] {
        s.observations()
            .upsert(None, &series(commodity, source, 25_000, 0))
            .await
            .unwrap();
    }
    assert!(
        s.has_planner_statistics_for_test().await.unwrap(),
        "no planner statistics after 51,000 rows"
    );
}
