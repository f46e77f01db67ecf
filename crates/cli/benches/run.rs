//! `cargo xtask bench run`: whole pipeline runs of the release binary against the replay server
//! serving the real daily histories (tests/data) in the three providers' formats: a ten-year
//! full refresh and the full history since 1986, into SQLite and into PostgreSQL
//! (`BENCH_DATABASE_URL`). Wall time is the child process from spawn to exit; peak memory is its
//! VmHWM, read from /proc every millisecond until it exits. Prints a Markdown table.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use energy_sources::replay::{Replay, ReplayServer};
use energy_storage::testing::TestSchema;
use serde_json::Value;

const REPEATS: usize = 5;

struct Measured {
    seconds: f64,
    peak_mb: f64,
    fetched: u64,
    stored: u64,
}

fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

fn vm_hwm_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn write_config(dir: &Path, server: &ReplayServer, db_url: &str) -> PathBuf {
    let path = dir.join("pipeline.yaml");
    let text = format!(
        r#"database: {{ url: "{db_url}" }}
logging: {{ dir: "{logs}" }}
sources:
  eia: {{ base_url: "{eia}", requests_per_second: 0 }}
  fred: {{ base_url: "{fred}", requests_per_second: 0 }}
  yahoo: {{ base_url: "{yahoo}", requests_per_second: 0 }}
"#,
        logs = dir.join("logs").display(),
        eia = server.base_url("eia"),
        fred = server.base_url("fred"),
        yahoo = server.base_url("yahoo"),
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// One run of the release binary; the database is fresh.
fn run_once(config: &Path, args: &[&str]) -> Measured {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_energy-pipeline"))
        .arg("--config")
        .arg(config)
        .arg("--quiet")
        .arg("run")
        .args(args)
        .arg("--json")
        .env("EIA_API_KEY", "bench-key-eia")
        .env("FRED_API_KEY", "bench-key-fred")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start energy-pipeline");
    let pid = child.id();
    let mut peak: f64 = 0.0;
    loop {
        if let Some(mb) = vm_hwm_mb(pid) {
            peak = peak.max(mb);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let seconds = started.elapsed().as_secs_f64();
    let out = child.wait_with_output().expect("output");
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert_eq!(report["status"], "success", "{report}");
    Measured {
        seconds,
        peak_mb: peak,
        fetched: report["fetched"].as_u64().unwrap(),
        stored: report["stored"].as_u64().unwrap(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let replay = Replay::from_data_dir(&data_dir()).expect("tests/data");
    let server = rt.block_on(replay.serve()).expect("replay server");
    let pg = std::env::var("BENCH_DATABASE_URL").ok();
    let mut rows: Vec<[String; 3]> = Vec::new();
    // (name, arguments, time target, memory target)
    let cases: [(&str, &[&str], f64, Option<f64>); 2] = [
        (
            "full refresh, 3 providers × 3 commodities × 10 years",
            &["--mode", "full-refresh"],
            0.5,
            Some(50.0),
        ),
        (
            "full history since 1986 (backfill, EIA paginated)",
            &["--mode", "backfill", "--start-date", "1986-01-01"],
            1.5,
            None,
        ),
    ];
    for (name, args, target, memory_target) in cases {
        for backend in ["SQLite", "PostgreSQL"] {
            if backend == "PostgreSQL" && pg.is_none() {
                eprintln!("bench: BENCH_DATABASE_URL is not set; PostgreSQL skipped");
                continue;
            }
            let mut times = Vec::new();
            let mut peaks = Vec::new();
            let mut counts = (0, 0);
            for _ in 0..REPEATS {
                let dir = tempfile::tempdir().expect("temp dir");
                let (url, schema) = if backend == "SQLite" {
                    (format!("sqlite://{}/bench.db", dir.path().display()), None)
                } else {
                    let schema =
                        rt.block_on(TestSchema::create(pg.as_deref().unwrap(), "bench_run"));
                    (schema.url.clone(), Some(schema))
                };
                let config = write_config(dir.path(), &server, &url);
                let m = run_once(&config, args);
                times.push(m.seconds);
                peaks.push(m.peak_mb);
                counts = (m.fetched, m.stored);
                if let Some(schema) = schema {
                    rt.block_on(schema.drop());
                }
            }
            let med = median(times.clone());
            let max = times.iter().cloned().fold(0.0, f64::max);
            let peak = peaks.iter().cloned().fold(0.0, f64::max);
            rows.push([
                format!(
                    "{backend}: {name} ({} fetched, {} stored)",
                    counts.0, counts.1
                ),
                format!("{med:.3} s median, {max:.3} s max of {REPEATS}"),
                format!("< {target} s"),
            ]);
            rows.push([
                format!("{backend}: peak memory (VmHWM) of that run"),
                format!("{peak:.1} MB"),
                memory_target
                    .map(|mb| format!("< {mb} MB"))
                    .unwrap_or_else(|| "(none set)".to_owned()),
            ]);
        }
    }
    println!("\n| measurement (release binary, replay server on 127.0.0.1) | result | target |");
    println!("|---|---|---|");
    for [a, b, c] in rows {
        println!("| {a} | {b} | {c} |");
    }
    drop(server);
}
