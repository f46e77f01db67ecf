//! TimescaleDB as production runs it: the full history of 90 series through every write path
//! with the server's default lock settings, chunks a year long, an older hypertable with
//! TimescaleDB's 7-day chunks, a plain table converted once the extension can be used, and a
//! server where the extension is installed but not preloaded.

use std::{collections::BTreeSet, sync::Arc};

use chrono::{Datelike, NaiveDate, Weekday};
use energy_core::{CommodityCode, CommoditySpec, Observation, Price, SourceId};
use energy_storage::{
    CHUNK_INTERVAL_DAYS, DatabaseUrl, ExportFilter, Store, Timescale, WriteCounts,
    testing::{TestSchema, admin, postgres_url, timescaledb_url},
};
use tokio::task::JoinSet;

use crate::support::{TestDb, obs, register_defaults};

/// A connection for looking at the server behind the store's back.
async fn client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test server");
    tokio::spawn(conn);
    client
}

async fn one_i64(c: &tokio_postgres::Client, sql: &str) -> i64 {
    match c.query_one(sql, &[]).await {
        Ok(row) => row.get(0),
        Err(e) => panic!("{sql}: {e:?}"),
    }
}

async fn one_text(c: &tokio_postgres::Client, sql: &str) -> String {
    match c.query_one(sql, &[]).await {
        Ok(row) => row.get(0),
        Err(e) => panic!("{sql}: {e:?}"),
    }
}

/// Weekdays from 1986-01-02 to 2026-11-20 with a value derived from the series and the day.
fn full_history(commodity: &CommodityCode, source: &SourceId, salt: u32) -> Vec<Observation> {
    let mut day = NaiveDate::from_ymd_opt(1986, 1, 2).unwrap();
    let end = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let mut out = Vec::with_capacity(10_800);
    while day <= end {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            let n = day.num_days_from_ce() as u32 + salt;
            let value = format!("{}.{:02}", 10 + n % 90, n % 100);
            out.push(Observation::new(
                commodity.clone(),
                source.clone(),
                day,
                Price::parse(&value).unwrap(),
                "USD/bbl",
            ));
        }
        day = day.succ_opt().unwrap();
    }
    out
}

/// The 365-day slices (aligned on the Unix epoch, as TimescaleDB aligns them) the dates fall in.
fn expected_chunks<'a>(dates: impl Iterator<Item = &'a NaiveDate>) -> usize {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    dates
        .map(|d| (*d - epoch).num_days().div_euclid(CHUNK_INTERVAL_DAYS))
        .collect::<BTreeSet<_>>()
        .len()
}

/// 30 commodities × 3 sources × 41 years (about 960,000 rows), written 8 batches at a time as
/// a run writes them: straight COPY on the first load, COPY + staged upsert when everything is
/// already there and a tenth of the values changed, and small upserts that touch every chunk.
/// The server keeps PostgreSQL's default lock table, which 2,120 seven-day chunks overflowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_history_of_90_series_fits_in_year_chunks_with_default_lock_settings() {
    let Some(db) = TestDb::timescaledb().await else {
        return;
    };
    let admin_client = client(db.url.expose()).await;
    assert_eq!(
        one_text(&admin_client, "SHOW max_locks_per_transaction").await,
        "64",
        "the test must run with the server's default lock table"
    );
    let commodities: Vec<CommodityCode> = (0..30)
        .map(|i| CommodityCode::new(&format!("C{i:02}")).unwrap())
        .collect();
    for c in &commodities {
        db.store
            .catalog()
            .register_commodity(c, &CommoditySpec::new(c.as_str(), "USD/bbl"))
            .await
            .unwrap();
    }
    let sources: Vec<SourceId> = ["eia", "fred", "yahoo"]
        .iter()
        .map(|s| SourceId::new(s).unwrap())
        .collect();
    let batches: Vec<Arc<Vec<Observation>>> = commodities
        .iter()
        .flat_map(|c| sources.iter().map(move |s| (c, s)))
        .enumerate()
        .map(|(i, (c, s))| Arc::new(full_history(c, s, i as u32)))
        .collect();
    let total: u64 = batches.iter().map(|b| b.len() as u64).sum();
    assert!(total > 900_000, "{total}");

    // first load: every batch goes straight into the hypertable
    let write_all = |batches: Vec<Arc<Vec<Observation>>>| {
        let store = db.store.clone();
        async move {
            let permits = Arc::new(tokio::sync::Semaphore::new(8));
            let mut set = JoinSet::new();
            for batch in batches {
                let (store, permits) = (store.clone(), permits.clone());
                set.spawn(async move {
                    let _p = permits.acquire().await.unwrap();
                    store.observations().upsert(None, &batch).await
                });
            }
            let mut sum = WriteCounts::default();
            while let Some(r) = set.join_next().await {
                let c = r.unwrap().unwrap_or_else(|e| panic!("a batch failed: {e}"));
                sum.inserted += c.inserted;
                sum.changed += c.changed;
                sum.unchanged += c.unchanged;
            }
            sum
        }
    };
    let first = write_all(batches.clone()).await;
    assert_eq!((first.inserted, first.changed), (total, 0));

    // everything again, a tenth of the values revised: staging table + one upsert per batch
    let revised: Vec<Arc<Vec<Observation>>> = batches
        .iter()
        .map(|b| {
            Arc::new(
                b.iter()
                    .enumerate()
                    .map(|(i, o)| {
                        let mut o = o.clone();
                        if i % 10 == 0 {
                            o.value = Price::parse(&format!("{}1", o.value)).unwrap();
                        }
                        o
                    })
                    .collect(),
            )
        })
        .collect();
    let expected_changes: u64 = revised.iter().map(|b| b.len().div_ceil(10) as u64).sum();
    let second = write_all(revised).await;
    assert_eq!(second.inserted, 0);
    assert_eq!(second.changed, expected_changes);
    assert_eq!(second.unchanged, total - expected_changes);

    // small batches (the Diesel upsert) that span every chunk: one new value per year
    let sparse: Vec<Arc<Vec<Observation>>> = batches
        .iter()
        .map(|b| {
            Arc::new(
                b.iter()
                    .filter(|o| o.date.month() == 6 && o.date.day() <= 7)
                    .take(41)
                    .map(|o| {
                        let mut o = o.clone();
                        o.value = Price::parse("-1.5").unwrap();
                        o
                    })
                    .collect(),
            )
        })
        .collect();
    let third = write_all(sparse).await;
    assert_eq!(third.inserted, 0);
    assert_eq!(third.changed, 90 * 41);

    let chunks = one_i64(
        &admin_client,
        "SELECT count(*) FROM public.show_chunks('observations')",
    )
    .await as usize;
    let expected = expected_chunks(batches[0].iter().map(|o| &o.date));
    assert_eq!(chunks, expected, "chunks of 365 days for 1986..2026");
    assert!(chunks <= 60, "{chunks} chunks");
    assert_eq!(
        db.store
            .history()
            .count(&ExportFilter::default())
            .await
            .unwrap(),
        total
    );
    db.drop_schema().await;
}

/// A hypertable made with TimescaleDB's default 7-day chunks keeps them and keeps working; the
/// store's start-up makes new chunks a year long.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hypertable_with_week_chunks_keeps_working_and_new_chunks_span_a_year() {
    let Some(db) = TestDb::timescaledb().await else {
        return;
    };
    let c = client(db.url.expose()).await;
    // as TimescaleDB's default made it
    c.batch_execute("SELECT public.set_chunk_time_interval('observations', INTERVAL '7 days')")
        .await
        .unwrap();
    let old: Vec<Observation> = (0..21)
        .map(|i| {
            let d = NaiveDate::from_ymd_opt(2020, 3, 2).unwrap() + chrono::Days::new(i);
            obs("WTI", "eia", &d.to_string(), &format!("{}.5", 30 + i))
        })
        .collect();
    db.store.observations().upsert(None, &old).await.unwrap();
    let week_chunks = one_i64(
        &c,
        "SELECT count(*) FROM public.show_chunks('observations')",
    )
    .await;
    assert!(week_chunks >= 3, "{week_chunks}");

    // the next start-up lengthens the interval for new chunks only
    let store = Store::open(&db.url).await.unwrap();
    register_defaults(&store).await;
    assert_eq!(
        store.timescale(),
        Some(&Timescale::Hypertable {
            chunk_interval_days: CHUNK_INTERVAL_DAYS
        })
    );
    let counts = store
        .observations()
        .upsert(
            None,
            &[
                obs("WTI", "eia", "2020-03-03", "99.25"), // a revision in a week chunk
                obs("WTI", "eia", "2024-07-01", "81.5"),  // a new year-long chunk
            ],
        )
        .await
        .unwrap();
    assert_eq!((counts.inserted, counts.changed), (1, 1));
    assert_eq!(
        one_i64(
            &c,
            "SELECT count(*) FROM public.show_chunks('observations')"
        )
        .await,
        week_chunks + 1
    );
    let newest_days = one_i64(
        &c,
        "SELECT (EXTRACT(EPOCH FROM range_end - range_start) / 86400)::bigint \
           FROM timescaledb_information.chunks \
          WHERE hypertable_schema = current_schema() AND hypertable_name = 'observations' \
          ORDER BY range_start DESC LIMIT 1",
    )
    .await;
    assert_eq!(newest_days, CHUNK_INTERVAL_DAYS);
    assert_eq!(
        store
            .observations()
            .revisions(
                &CommodityCode::new("WTI").unwrap(),
                &SourceId::new("eia").unwrap()
            )
            .await
            .unwrap()
            .len(),
        1
    );
    db.drop_schema().await;
}

/// A user who may not create the extension (no CREATE privilege on the database) gets plain
/// tables and a finding that says what to do; once the owner has created it, the next start-up
/// converts the stored rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tables_with_rows_become_a_hypertable_once_the_extension_exists() {
    let Some(base) = timescaledb_url() else {
        return;
    };
    let name = format!("tsconv_{}", std::process::id());
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("DROP ROLE IF EXISTS {name}"),
        format!("CREATE ROLE {name} LOGIN"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin(&base, &sql).await;
    }
    let mut owner = url::Url::parse(&base).unwrap();
    owner.set_path(&format!("/{name}"));
    admin(
        owner.as_str(),
        &format!("GRANT CREATE ON SCHEMA public TO {name}"),
    )
    .await;
    let mut app = url::Url::parse(&base).unwrap();
    app.set_username(&name).unwrap();
    app.set_path(&format!("/{name}"));
    let url = DatabaseUrl::parse(app.as_str()).unwrap();

    let store = Store::open(&url).await.unwrap();
    let found = store.timescale().unwrap().clone();
    let Timescale::NotEnabled(reason) = &found else {
        panic!("expected the extension to be refused to a plain user: {found:?}");
    };
    assert!(reason.contains("timescaledb"), "{reason}");
    let health = store.health().await;
    assert!(health.healthy && !health.timescaledb, "{health:?}");
    assert!(
        health.message.contains("CREATE EXTENSION timescaledb"),
        "{health:?}"
    );
    register_defaults(&store).await;
    let rows: Vec<Observation> = (0..3000)
        .map(|i| {
            let d = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap() + chrono::Days::new(i);
            obs(
                "BRENT",
                "fred",
                &d.to_string(),
                &format!("{}.25", 50 + i % 40),
            )
        })
        .collect();
    store.observations().upsert(None, &rows).await.unwrap();
    drop(store);

    // the owner's fix, as the message says
    admin(owner.as_str(), "CREATE EXTENSION timescaledb").await;

    let store = Store::open(&url).await.unwrap();
    assert_eq!(
        store.timescale(),
        Some(&Timescale::Hypertable {
            chunk_interval_days: CHUNK_INTERVAL_DAYS
        })
    );
    assert!(store.health().await.timescaledb);
    assert_eq!(
        store
            .history()
            .count(&ExportFilter::default())
            .await
            .unwrap(),
        3000
    );
    let c = client(app.as_str()).await;
    // 2010-01-01 + 3000 days reaches 2018-03: nine year-long slices
    let expected = expected_chunks(rows.iter().map(|o| &o.date));
    assert_eq!(
        one_i64(
            &c,
            "SELECT count(*) FROM public.show_chunks('observations')"
        )
        .await as usize,
        expected
    );
    drop(c);
    drop(store);
    admin(&base, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
    admin(&base, &format!("DROP ROLE {name}")).await;
}

/// On a server without TimescaleDB preloaded the store uses plain tables; when the extension
/// is installed there, the finding says what to do and is recorded, so it is reported once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_timescaledb_preloaded_gets_plain_tables_and_says_why() {
    let Some(base) = postgres_url() else {
        return;
    };
    let schema = TestSchema::create(&base, "tsplain").await;
    let url = DatabaseUrl::parse(&schema.url).unwrap();
    let store = Store::open(&url).await.unwrap();
    let c = client(&schema.url).await;
    let available = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')",
            &[],
        )
        .await
        .unwrap()
        .get::<_, bool>(0);
    let found = store.timescale().unwrap().clone();
    let health = store.health().await;
    assert!(!health.timescaledb, "{health:?}");
    if available {
        assert_eq!(found, Timescale::NotPreloaded);
        assert!(
            health.message.contains("shared_preload_libraries"),
            "{health:?}"
        );
        assert_eq!(
            one_text(
                &c,
                "SELECT value FROM store_state WHERE key = 'timescaledb'"
            )
            .await,
            "not_preloaded"
        );
    } else {
        assert_eq!(found, Timescale::NotInstalled);
        assert!(health.message.contains("no TimescaleDB"), "{health:?}");
    }
    // a second start-up finds the same and changes nothing
    let noted = one_text(&c, "SELECT noted_at::text FROM store_state").await;
    drop(Store::open(&url).await.unwrap());
    assert_eq!(
        one_text(&c, "SELECT noted_at::text FROM store_state").await,
        noted
    );
    drop(c);
    schema.drop().await;
}
