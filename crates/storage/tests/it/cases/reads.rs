//! Reads: the latest date and freshness, recent values, the export in key order, a
//! commodity's values for the chart, and the store as of an instant.

#[allow(unused_imports)]
use super::*;

pub(crate) async fn latest_date_and_freshness_follow_the_newest_row(db: &TestDb) {
    assert_eq!(
        db.store
            .observations()
            .latest_date(&code("WTI"), &src("eia"))
            .await
            .unwrap(),
        None
    );
    db.store
        .observations()
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
            .observations()
            .latest_date(&code("WTI"), &src("eia"))
            .await
            .unwrap(),
        Some("2026-08-18".parse().unwrap())
    );
    assert_eq!(
        db.store
            .observations()
            .latest_date(&code("COAL"), &src("eia"))
            .await
            .unwrap(),
        None
    );
    let f = db.store.observations().freshness().await.unwrap();
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
        .observations()
        .upsert(None, &series("WTI", "eia", 50, 0))
        .await
        .unwrap();
    let before = "1990-01-31".parse().unwrap();
    let v = db
        .store
        .observations()
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
        .observations()
        .upsert(None, &series("WTI", "eia", 50, 0))
        .await
        .unwrap();
    db.store
        .observations()
        .upsert(None, &series("NATGAS", "yahoo", 3, 7))
        .await
        .unwrap();
    let all = db
        .store
        .observations()
        .recent_values_of_every_series(30)
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "only series with data: {all:?}");
    for (c, s, n) in [("WTI", "eia", 30), ("NATGAS", "yahoo", 3)] {
        let one = db
            .store
            .observations()
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
        .observations()
        .upsert(None, &series("WTI", "eia", 12_000, 0))
        .await
        .unwrap();
    db.store
        .observations()
        .upsert(None, &series("WTI", "fred", 11_000, 0))
        .await
        .unwrap();
    db.store
        .observations()
        .upsert(None, &series("BRENT", "eia", 100, 0))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let n = db
        .store
        .history()
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
    assert_eq!(db.store.history().count(&filter).await.unwrap(), 28);
    let none = ExportFilter {
        commodities: vec![code("COAL")],
        ..Default::default()
    };
    assert_eq!(db.store.history().count(&none).await.unwrap(), 0);
    // a sink error stops the export
    let mut taken = 0;
    let stopped = db
        .store
        .history()
        .export(&ExportFilter::default(), |_| {
            taken += 1;
            if taken == 3 { Err("enough") } else { Ok(()) }
        })
        .await
        .unwrap();
    assert_eq!(stopped, Err("enough"));
}

/// The chart read: a commodity's values per source in date order, from a start or all, exact.
pub(crate) async fn commodity_values_come_per_source_in_date_order(db: &TestDb) {
    use crate::support::obs;
    db.store
        .observations()
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
        .observations()
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
        .observations()
        .commodity_values(&code("WTI"), Some("2020-04-20".parse().unwrap()), None)
        .await
        .unwrap();
    assert_eq!(from[&src("eia")].len(), 1);
    assert!(
        db.store
            .observations()
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
        async move {
            store
                .observations()
                .write_batch_at(None, &rows, &[], at)
                .await
                .unwrap()
        }
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
                .history()
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
                .history()
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
        .history()
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

pub(crate) async fn stored_dates_come_per_series_in_key_order(db: &TestDb) {
    let none = db.store.history().dates(&[], &[]).await.unwrap();
    assert!(none.is_empty());
    db.store
        .observations()
        .upsert(
            None,
            &[
                obs("WTI", "eia", "2026-08-18", "63.1"),
                obs("NATGAS", "fred", "2026-08-14", "2.9"),
                obs("WTI", "eia", "2026-08-14", "63.4"),
                obs("WTI", "yahoo", "2026-08-17", "63.2"),
                obs("NATGAS", "fred", "2026-08-17", "3.0"),
            ],
        )
        .await
        .unwrap();
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let all = db.store.history().dates(&[], &[]).await.unwrap();
    let shape: Vec<(String, String, Vec<chrono::NaiveDate>)> = all
        .iter()
        .map(|s| {
            (
                s.commodity.to_string(),
                s.source.to_string(),
                s.dates.clone(),
            )
        })
        .collect();
    // key order is by catalog id; every series once, its dates ascending
    let mut sorted = shape.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            (
                "NATGAS".into(),
                "fred".into(),
                vec![d("2026-08-14"), d("2026-08-17")]
            ),
            (
                "WTI".into(),
                "eia".into(),
                vec![d("2026-08-14"), d("2026-08-18")]
            ),
            ("WTI".into(), "yahoo".into(), vec![d("2026-08-17")]),
        ]
    );
    let wti = db.store.history().dates(&[code("WTI")], &[]).await.unwrap();
    assert_eq!(wti.len(), 2);
    let eia = db
        .store
        .history()
        .dates(&[code("WTI")], &[src("eia")])
        .await
        .unwrap();
    assert_eq!(eia.len(), 1);
    assert_eq!(eia[0].dates, [d("2026-08-14"), d("2026-08-18")]);
    // a code never stored matches nothing
    let unknown = db
        .store
        .history()
        .dates(&[code("BRENT")], &[])
        .await
        .unwrap();
    assert!(unknown.is_empty());
}
