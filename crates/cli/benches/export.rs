//! `cargo xtask bench export`: the release `energy-pipeline export` of 1,000,000 observations
//! (90 series, `common/fill.rs`) to a file, as CSV and as Parquet in the long layout, as stored
//! now and as of an instant after which 1% of the values were revised; on SQLite, PostgreSQL
//! (`BENCH_DATABASE_URL`) and PostgreSQL with TimescaleDB (`BENCH_TIMESCALEDB_URL`). Wall time
//! is the child process from spawn to exit (process start included); peak memory is its VmHWM,
//! read from /proc every millisecond until it exits. Prints a Markdown table.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use energy_core::{Observation, Price};
use energy_storage::{
    DatabaseUrl, ExportFilter, Store,
    testing::{TestSchema, admin},
};

#[path = "common/fill.rs"]
mod common;
#[path = "common/config.rs"]
mod config;
#[path = "common/memory.rs"]
mod memory;
use common::fill;
use config::reading_config;
use memory::vm_hwm_mb;

const REPEATS: usize = 5;
/// Every this many rows one is revised (1%).
const REVISE_EVERY: usize = 100;

/// One export: (seconds, peak MB, bytes written).
fn export_once(dir: &Path, config: &Path, args: &[&str]) -> (f64, f64, u64) {
    let output = dir.join("export.out");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_energy-pipeline"))
        .arg("--config")
        .arg(config)
        .arg("export")
        .args(args)
        .arg("--output")
        .arg(&output)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start energy-pipeline export");
    let mut peak: f64 = 0.0;
    let status = loop {
        if let Some(mb) = vm_hwm_mb(child.id()) {
            peak = peak.max(mb);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let seconds = started.elapsed().as_secs_f64();
    assert!(status.success(), "export {args:?} failed");
    let bytes = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
    (seconds, peak, bytes)
}

/// Median seconds, max peak MB, bytes.
fn measure(dir: &Path, config: &Path, args: &[&str]) -> (f64, f64, u64) {
    export_once(dir, config, args); // warm the file cache
    let mut times = Vec::new();
    let (mut peak, mut bytes) = (0.0f64, 0);
    for _ in 0..REPEATS {
        let (s, p, b) = export_once(dir, config, args);
        times.push(s);
        peak = peak.max(p);
        bytes = b;
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], peak, bytes)
}

/// Revises every [`REVISE_EVERY`]th stored value at `at`; returns how many.
async fn revise(store: &Store, at: DateTime<Utc>) -> usize {
    let mut chosen = Vec::new();
    let mut i = 0;
    store
        .history()
        .export(&ExportFilter::default(), |o| {
            if i % REVISE_EVERY == 0 {
                let value = Price::from_decimal(o.value.as_decimal() + rust_decimal::Decimal::ONE);
                chosen.push(Observation { value, ..o });
            }
            i += 1;
            Ok::<(), ()>(())
        })
        .await
        .unwrap()
        .unwrap();
    for batch in chosen.chunks(20_000) {
        let counts = store
            .observations()
            .write_batch_at(None, batch, &[], at)
            .await
            .unwrap();
        assert_eq!(counts.changed as usize, batch.len());
    }
    chosen.len()
}

/// (case, median s, peak MB, bytes) for one backend.
fn cases(dir: &Path, url: &str, as_of: DateTime<Utc>) -> Vec<(String, f64, f64, u64)> {
    let config = reading_config(dir, url);
    let as_of = as_of.to_rfc3339();
    let mut out = Vec::new();
    for (name, args) in [
        ("CSV", vec!["--format", "csv"]),
        ("Parquet", vec!["--format", "parquet"]),
        ("CSV as of", vec!["--format", "csv", "--as-of", &as_of]),
        (
            "Parquet as of",
            vec!["--format", "parquet", "--as-of", &as_of],
        ),
    ] {
        let (s, peak, bytes) = measure(dir, &config, &args);
        out.push((name.to_owned(), s, peak, bytes));
    }
    out
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // filled now; 1% revised an hour on; read as of half an hour on
    let revised_at = Utc::now() + chrono::Duration::hours(1);
    let as_of = Utc::now() + chrono::Duration::minutes(30);
    let prepare = |url: String| {
        rt.block_on(async {
            let store = Store::open(&DatabaseUrl::parse(&url).unwrap())
                .await
                .unwrap();
            fill(&store).await;
            let n = revise(&store, revised_at).await;
            assert_eq!(
                store
                    .history()
                    .count(&ExportFilter::default())
                    .await
                    .unwrap(),
                1_000_000
            );
            n
        })
    };
    let mut rows = Vec::new();
    let sqlite = format!("sqlite://{}/export.db", dir.path().display());
    let revised = prepare(sqlite.clone());
    rows.push(("SQLite", cases(dir.path(), &sqlite, as_of)));
    for (backend, variable) in [
        ("PostgreSQL", "BENCH_DATABASE_URL"),
        ("TimescaleDB", "BENCH_TIMESCALEDB_URL"),
    ] {
        let Ok(base) = std::env::var(variable) else {
            eprintln!("bench: {variable} is not set; {backend} skipped");
            continue;
        };
        let schema = rt.block_on(TestSchema::create(&base, "bench_export"));
        prepare(schema.url.clone());
        rt.block_on(admin(&schema.url, "ANALYZE"));
        rows.push((backend, cases(dir.path(), &schema.url, as_of)));
        rt.block_on(schema.drop());
    }
    println!(
        "\n| measurement (release `energy-pipeline export … --output FILE`, spawn to exit, 1,000,000 observations; as of: {revised} values revised after the instant) | result | target |"
    );
    println!("|---|---|---|");
    for (backend, cases) in rows {
        let plain: Vec<f64> = cases.iter().take(2).map(|c| c.1).collect();
        for (i, (name, s, peak, bytes)) in cases.iter().enumerate() {
            let target = match i {
                0 => "< 1.0 s, < 100 MB".to_owned(),
                1 => "< 1.5 s, < 100 MB".to_owned(),
                _ => format!("≤ 2× plain ({:.2}×), < 100 MB", s / plain[i - 2]),
            };
            println!(
                "| {backend}: {name} ({:.1} MB file) | {s:.3} s median of {REPEATS}, {peak:.1} MB peak | {target} |",
                *bytes as f64 / 1e6
            );
        }
    }
}
