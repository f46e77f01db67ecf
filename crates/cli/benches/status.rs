//! `cargo xtask bench status`: wall time of `energy-pipeline status` (the release binary, process
//! start included) against a store of 1,000,000 observations in 90 series (30 commodities × 3
//! sources) and a few recorded runs, on SQLite, PostgreSQL (`BENCH_DATABASE_URL`) and
//! PostgreSQL with TimescaleDB (`BENCH_TIMESCALEDB_URL`). Prints a Markdown table.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use chrono::{Days, NaiveDate, Utc};
use energy_core::{
    CommodityCode, CommoditySpec, Counts, ModeKind, Observation, Price, RunReport, RunStatus,
    SourceId, Trigger,
};
use energy_storage::{
    DatabaseUrl, RunStart, Store,
    testing::{TestSchema, admin},
};

const ROWS: usize = 1_000_000;
const COMMODITIES: usize = 30;
const SOURCES: [&str; 3] = ["eia", "fred", "yahoo"];
const BATCH: usize = 50_000;
const REPEATS: usize = 15;

async fn fill(store: &Store) {
    let codes: Vec<CommodityCode> = (0..COMMODITIES)
        .map(|i| CommodityCode::new(&format!("C{i:03}")).unwrap())
        .collect();
    for (i, c) in codes.iter().enumerate() {
        store
            .register_commodity(c, &CommoditySpec::new(format!("commodity {i}"), "USD/bbl"))
            .await
            .unwrap();
    }
    let sources: Vec<SourceId> = SOURCES.iter().map(|s| SourceId::new(s).unwrap()).collect();
    for s in &sources {
        store.register_source(s, s.as_str()).await.unwrap();
    }
    let per_series = ROWS.div_ceil(COMMODITIES * SOURCES.len());
    let start = NaiveDate::from_ymd_opt(1996, 1, 1).unwrap();
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..ROWS {
        let series = i / per_series;
        let day = i % per_series;
        batch.push(Observation::new(
            codes[series / SOURCES.len()].clone(),
            sources[series % SOURCES.len()].clone(),
            start + Days::new(day as u64),
            Price::parse(&format!("{}.{:02}", 20 + (i * 7919) % 90, (i * 31) % 100)).unwrap(),
            "USD/bbl",
        ));
        if batch.len() == BATCH {
            store.upsert(None, &batch).await.unwrap();
            batch.clear();
        }
    }
    store.upsert(None, &batch).await.unwrap();
    for k in 0..20 {
        let started = Utc::now();
        let id = store
            .start_run(&RunStart {
                uuid: format!("bench-{k}"),
                trigger: Trigger::Schedule,
                mode: ModeKind::Incremental,
                scheduled_for: Some(started),
                started_at: started,
                host: "bench".into(),
                pid: 1,
            })
            .await
            .unwrap();
        let report = RunReport {
            cross_source: Vec::new(),
            cross_source_warnings: 0,
            run_id: format!("bench-{k}"),
            trigger: Trigger::Schedule,
            scheduled_for: Some(started),
            mode: ModeKind::Incremental,
            status: RunStatus::Success,
            started_at: started,
            finished_at: Some(Utc::now()),
            duration_seconds: 0.3,
            window: None,
            sources: vec![],
            counts: Counts {
                fetched: 90,
                stored: 90,
                unchanged: 0,
                rejected: 0,
            },
            notifications: vec![],
            error: None,
        };
        store.finish_run(id, &report).await.unwrap();
    }
}

fn time_status(dir: &Path, url: &str) -> (f64, f64, usize) {
    let config = dir.join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            "database: {{ url: \"{url}\" }}\nlogging: {{ dir: \"{}\" }}\n",
            dir.join("logs").display()
        ),
    )
    .unwrap();
    let mut times = Vec::new();
    let mut series = 0;
    for _ in 0..REPEATS {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_energy-pipeline"))
            .arg("--config")
            .arg(&config)
            .args(["status", "--json"])
            .stderr(Stdio::inherit())
            .output()
            .expect("run energy-pipeline status");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(out.status.success(), "status failed");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        series = v["freshness"].as_array().unwrap().len();
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1], series)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/status.db", dir.path().display());
    rt.block_on(async {
        let store = Store::open(&DatabaseUrl::parse(&sqlite).unwrap())
            .await
            .unwrap();
        fill(&store).await;
    });
    let (median, max, series) = time_status(dir.path(), &sqlite);
    rows.push(("SQLite", median, max, series));
    for (backend, variable) in [
        ("PostgreSQL", "BENCH_DATABASE_URL"),
        ("TimescaleDB", "BENCH_TIMESCALEDB_URL"),
    ] {
        let Ok(base) = std::env::var(variable) else {
            eprintln!("bench: {variable} is not set; {backend} skipped");
            continue;
        };
        let schema = rt.block_on(async {
            let schema = TestSchema::create(&base, "bench_status").await;
            let store = Store::open(&DatabaseUrl::parse(&schema.url).unwrap())
                .await
                .unwrap();
            assert_eq!(store.health().await.timescaledb, backend == "TimescaleDB");
            fill(&store).await;
            admin(&schema.url, "ANALYZE").await;
            schema
        });
        let (median, max, series) = time_status(dir.path(), &schema.url);
        rows.push((backend, median, max, series));
        rt.block_on(schema.drop());
    }
    println!("\n| measurement (release binary, process start included) | result | target |");
    println!("|---|---|---|");
    for (backend, median, max, series) in rows {
        println!(
            "| {backend}: `status --json` on 1,000,000 observations ({series} series) | {median:.1} ms median, {max:.1} ms max of {REPEATS} | < 100 ms |"
        );
    }
}
