//! The quarantine: rows kept with their rule, reason and run, and read back filtered.

#[allow(unused_imports)]
use super::*;

pub(crate) async fn quarantined_rows_keep_rule_reason_and_run(db: &TestDb) {
    let run = db.store.runs().start(&start("r-q")).await.unwrap();
    let counts = db
        .store
        .observations()
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
    let q = db.store.quarantine().of_run(Some(run)).await.unwrap();
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
        .observations()
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
            let (rows, total) = store.quarantine().newest(&filter).await.unwrap();
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
