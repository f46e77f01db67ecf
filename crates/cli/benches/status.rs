//! `cargo xtask bench status`: wall time of `energy-pipeline status` (the release binary, process
//! start included) against a store of 1,000,000 observations in 90 series (30 commodities × 3
//! sources) and a few recorded runs, on SQLite, PostgreSQL (`BENCH_DATABASE_URL`) and
//! PostgreSQL with TimescaleDB (`BENCH_TIMESCALEDB_URL`). Prints a Markdown table.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Instant,
};

use energy_storage::{DatabaseUrl, Store, testing::TestSchema};

#[path = "common/fill.rs"]
mod common;
#[path = "common/config.rs"]
mod config;
use common::fill;
use config::reading_config;

const REPEATS: usize = 15;

fn time_status(dir: &Path, url: &str) -> (f64, f64, usize) {
    let config = reading_config(dir, url);
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
            // no manual ANALYZE: the store refreshes the planner's statistics itself after a
            // large load (issue 24), so this is `status` right after a first fill
            fill(&store).await;
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
