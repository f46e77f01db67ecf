//! `cargo xtask bench storage`: upsert throughput, query latency and peak memory of the store,
//! against PostgreSQL (`BENCH_DATABASE_URL`), PostgreSQL with TimescaleDB
//! (`BENCH_TIMESCALEDB_URL`) — each compared with `psql \copy` of the same rows into the same
//! table, in the same run — and a SQLite file. Prints a Markdown table.

use std::{
    io::Write,
    process::Command,
    time::{Duration, Instant},
};

use chrono::{Days, NaiveDate};
use energy_core::{CommodityCode, CommoditySpec, Observation, Price, SourceId};
use energy_storage::{DatabaseUrl, Store};

const ROWS: usize = 1_000_000;
const BATCH: usize = 50_000;
const COMMODITIES: usize = 30;
const SOURCES: [&str; 3] = ["eia", "fred", "yahoo"];
const QUERY_REPEATS: usize = 200;

/// The benchmark's rows, generated lazily in batches (90 series of ~11,112 trading days).
fn batches() -> impl Iterator<Item = Vec<Observation>> {
    batches_with(0)
}

/// As [`batches`], with every value shifted by `salt` cents (a provider revising everything).
fn batches_with(salt: usize) -> impl Iterator<Item = Vec<Observation>> {
    let codes: Vec<CommodityCode> = (0..COMMODITIES)
        .map(|i| CommodityCode::new(&format!("C{i:03}")).unwrap())
        .collect();
    let sources: Vec<SourceId> = SOURCES.iter().map(|s| SourceId::new(s).unwrap()).collect();
    let per_series = ROWS.div_ceil(COMMODITIES * SOURCES.len());
    let start = NaiveDate::from_ymd_opt(1986, 1, 2).unwrap();
    let all = (0..ROWS).map(move |i| {
        let series = i / per_series;
        let day = i % per_series;
        let value = Price::parse(&format!(
            "{}.{:02}",
            10 + (i * 7919) % 140 + salt,
            (i * 31) % 100
        ))
        .unwrap();
        Observation::new(
            codes[series / SOURCES.len()].clone(),
            sources[series % SOURCES.len()].clone(),
            start + Days::new(day as u64),
            value,
            "USD/bbl",
        )
    });
    let mut all = all.peekable();
    std::iter::from_fn(move || {
        let batch: Vec<_> = all.by_ref().take(BATCH).collect();
        (!batch.is_empty()).then_some(batch)
    })
}

async fn register(store: &Store) {
    for i in 0..COMMODITIES {
        let code = CommodityCode::new(&format!("C{i:03}")).unwrap();
        store
            .catalog()
            .register_commodity(
                &code,
                &CommoditySpec::new(format!("commodity {i}"), "USD/bbl"),
            )
            .await
            .unwrap();
    }
    for s in SOURCES {
        store
            .catalog()
            .register_source(&SourceId::new(s).unwrap(), s)
            .await
            .unwrap();
    }
}

/// Upserts all rows in batches; returns (rows/s, stored, unchanged).
async fn upsert_all(store: &Store) -> (f64, u64, u64) {
    upsert_all_with(store, 0).await
}

async fn upsert_all_with(store: &Store, salt: usize) -> (f64, u64, u64) {
    let started = Instant::now();
    let (mut stored, mut unchanged) = (0, 0);
    for batch in batches_with(salt) {
        let c = store.observations().upsert(None, &batch).await.unwrap();
        stored += c.stored();
        unchanged += c.unchanged;
    }
    (
        ROWS as f64 / started.elapsed().as_secs_f64(),
        stored,
        unchanged,
    )
}

/// Median and maximum of `QUERY_REPEATS` timings of `f`.
async fn time_query<F, Fut>(mut f: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await; // warm
    let mut times = Vec::with_capacity(QUERY_REPEATS);
    for _ in 0..QUERY_REPEATS {
        let t = Instant::now();
        f().await;
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], *times.last().unwrap())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct Table(Vec<[String; 3]>);

impl Table {
    fn row(&mut self, what: &str, result: String, target: &str) {
        self.0.push([what.to_owned(), result, target.to_owned()]);
    }
}

async fn queries(store: &Store, table: &mut Table, backend: &str) {
    let (c, s) = (
        CommodityCode::new("C017").unwrap(),
        SourceId::new("fred").unwrap(),
    );
    let (median, max) = time_query(|| async {
        assert!(
            store
                .observations()
                .latest_date(&c, &s)
                .await
                .unwrap()
                .is_some()
        );
    })
    .await;
    table.row(
        &format!("{backend}: latest date of one series (median / max of {QUERY_REPEATS})"),
        format!("{} / {}", ms(median), ms(max)),
        "< 5 ms",
    );
    let (median, max) = time_query(|| async {
        assert_eq!(
            store.observations().freshness().await.unwrap().len(),
            COMMODITIES * SOURCES.len()
        );
    })
    .await;
    table.row(
        &format!("{backend}: freshness of all 90 series (median / max)"),
        format!("{} / {}", ms(median), ms(max)),
        "< 5 ms",
    );
}

/// The store's bulk path on a PostgreSQL server (`backend` names it in the table), then psql's
/// `\copy` of the same rows into the same (emptied) `observations` table as the reference.
async fn postgres(backend: &str, url: &str, table: &mut Table) {
    let admin = |sql: String| {
        let url = url.to_owned();
        async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client.batch_execute(&sql).await.unwrap();
        }
    };
    admin("DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench".into()).await;
    let sep = if url.contains('?') { '&' } else { '?' };
    let schema_url = format!("{url}{sep}options=-csearch_path%3Dbench");
    let db = DatabaseUrl::parse(&schema_url).unwrap();
    let store = Store::open(&db).await.unwrap();
    register(&store).await;
    let hypertable = store.health().await.timescaledb;
    assert_eq!(
        hypertable,
        backend == "TimescaleDB",
        "{backend}: TimescaleDB in use: {hypertable}"
    );

    let (rate, stored, _) = upsert_all(&store).await;
    assert_eq!(stored, ROWS as u64);
    let (rate2, _, unchanged) = upsert_all(&store).await;
    assert_eq!(unchanged, ROWS as u64);
    let (rate3, changed, _) = upsert_all_with(&store, 1).await;
    assert_eq!(changed, ROWS as u64);
    queries(&store, table, backend).await;

    // psql \copy of the same rows into the same table, emptied (its chunks dropped too)
    let csv = std::env::temp_dir().join(format!("energy-bench-{}.csv", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
        let fetched = "2026-11-25 06:00:00+00";
        for batch in batches() {
            for o in batch {
                let cid = o.commodity.as_str()[1..].parse::<i32>().unwrap() + 1;
                let sid = SOURCES
                    .iter()
                    .position(|s| *s == o.source.as_str())
                    .unwrap()
                    + 1;
                writeln!(
                    f,
                    "{cid},{sid},{},{},{},{fetched},",
                    o.date, o.value, o.unit
                )
                .unwrap();
            }
        }
    }
    admin("TRUNCATE bench.observations".into()).await;
    let psql = std::env::var("BENCH_PSQL").unwrap_or_else(|_| "psql".into());
    let started = Instant::now();
    let out = Command::new(&psql)
        .args([&schema_url, "-v", "ON_ERROR_STOP=1", "-q", "-c"])
        .arg(format!(
            "\\copy bench.observations (commodity_id, source_id, date, value, unit, fetched_at, run_id) FROM '{}' WITH (FORMAT csv)",
            csv.display()
        ))
        .output()
        .expect("run psql");
    let copy_rate = ROWS as f64 / started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&csv);

    table.row(
        &format!("{backend}: upsert 1,000,000 rows into an empty table"),
        format!("{rate:.0} rows/s"),
        ">= 200,000 rows/s",
    );
    table.row(
        &format!("{backend}: psql \\copy of the same rows into the same table, emptied"),
        format!("{copy_rate:.0} rows/s"),
        "(reference)",
    );
    table.row(
        &format!("{backend}: upsert rate / psql \\copy rate"),
        format!("{:.2}", rate / copy_rate),
        ">= 0.50",
    );
    table.row(
        &format!("{backend}: the same 1,000,000 again (all unchanged)"),
        format!("{rate2:.0} rows/s"),
        ">= 200,000 rows/s",
    );
    table.row(
        &format!("{backend}: 1,000,000 with every value revised (revisions kept)"),
        format!("{rate3:.0} rows/s"),
        "",
    );
    admin("DROP SCHEMA bench CASCADE".into()).await;
}

async fn sqlite(table: &mut Table) {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&format!("sqlite://{}/bench.db", dir.path().display())).unwrap();
    let store = Store::open(&url).await.unwrap();
    register(&store).await;
    let (rate, stored, _) = upsert_all(&store).await;
    assert_eq!(stored, ROWS as u64);
    let (rate2, _, unchanged) = upsert_all(&store).await;
    assert_eq!(unchanged, ROWS as u64);
    let (rate3, changed, _) = upsert_all_with(&store, 1).await;
    assert_eq!(changed, ROWS as u64);
    table.row(
        "SQLite: upsert 1,000,000 rows into an empty table",
        format!("{rate:.0} rows/s"),
        ">= 150,000 rows/s",
    );
    table.row(
        "SQLite: the same 1,000,000 again (all unchanged)",
        format!("{rate2:.0} rows/s"),
        "",
    );
    table.row(
        "SQLite: 1,000,000 with every value revised (revisions kept)",
        format!("{rate3:.0} rows/s"),
        "",
    );
    queries(&store, table, "SQLite").await;
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut table = Table(Vec::new());
    rt.block_on(async {
        for (backend, variable) in [
            ("PostgreSQL", "BENCH_DATABASE_URL"),
            ("TimescaleDB", "BENCH_TIMESCALEDB_URL"),
        ] {
            match std::env::var(variable) {
                Ok(url) => postgres(backend, &url, &mut table).await,
                Err(_) => eprintln!(
                    "{variable} not set: {backend} part skipped (run `cargo xtask bench storage`)"
                ),
            }
        }
        sqlite(&mut table).await;
    });
    if let Some(mb) = peak_rss_mb() {
        table.row(
            "peak memory (VmHWM) of the benchmark process",
            format!("{mb:.1} MB"),
            "< 100 MB",
        );
    }
    println!("\n| measurement | result | target |\n|---|---|---|");
    for [a, b, c] in &table.0 {
        println!("| {a} | {b} | {c} |");
    }
}
