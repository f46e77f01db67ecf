//! `cargo xtask bench status`: wall time of `energy-pipeline status` (the release binary, process
//! start included) against a store of 1,000,000 observations in 90 series (30 commodities × 3
//! sources) and a few recorded runs, on SQLite, PostgreSQL (`BENCH_DATABASE_URL`) and
//! PostgreSQL with TimescaleDB (`BENCH_TIMESCALEDB_URL`); then `gaps --json` over the same
//! stores (every calendar day is stored, so it finds no gaps, but it reads every stored date).
//! Prints a Markdown table.

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

/// Median and max wall time of `energy-pipeline <args>` over [`REPEATS`] runs, and its last
/// output as JSON.
fn time_command(dir: &Path, url: &str, args: &[&str]) -> (f64, f64, serde_json::Value) {
    let config = reading_config(dir, url);
    let mut times = Vec::new();
    let mut last = serde_json::Value::Null;
    for _ in 0..REPEATS {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_energy-pipeline"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .stderr(Stdio::inherit())
            .output()
            .expect("run energy-pipeline");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(out.status.success(), "{args:?} failed");
        last = serde_json::from_slice(&out.stdout).unwrap();
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1], last)
}

/// `status --json` and `gaps --json` on one store: (what, median, max, detail).
fn time_both(dir: &Path, url: &str) -> [(&'static str, f64, f64, String); 2] {
    let (median, max, status) = time_command(dir, url, &["status", "--json"]);
    let series = status["freshness"].as_array().unwrap().len();
    let status = ("status", median, max, format!("{series} series"));
    let (median, max, gaps) = time_command(dir, url, &["gaps", "--json"]);
    let found: usize = gaps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["gaps"].as_array().unwrap().len())
        .sum();
    let series = gaps.as_array().unwrap().len();
    let gaps = (
        "gaps",
        median,
        max,
        format!("{series} series, {found} gaps found"),
    );
    [status, gaps]
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
    rows.push(("SQLite", time_both(dir.path(), &sqlite)));
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
        rows.push((backend, time_both(dir.path(), &schema.url)));
        rt.block_on(schema.drop());
    }
    println!("\n| measurement (release binary, process start included) | result | target |");
    println!("|---|---|---|");
    for (backend, measured) in rows {
        for (what, median, max, detail) in measured {
            let target = if what == "status" { 100 } else { 250 };
            println!(
                "| {backend}: `{what} --json` on 1,000,000 observations ({detail}) | {median:.1} ms median, {max:.1} ms max of {REPEATS} | < {target} ms |"
            );
        }
    }
}
