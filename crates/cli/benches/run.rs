//! `cargo xtask bench run`: whole pipeline runs of the release binary against the replay server
//! serving the real daily histories (tests/data) in the three providers' formats — a ten-year
//! full refresh and the full history since 1986 of the default 9 series — and 90 series (30
//! commodities × 3 providers) of weekdays since 1986, into SQLite, PostgreSQL
//! (`BENCH_DATABASE_URL`) and PostgreSQL with TimescaleDB (`BENCH_TIMESCALEDB_URL`). Provider
//! rate limits are off (the server is local). Wall time is the child process from spawn to
//! exit; peak memory is its VmHWM, read from /proc every millisecond until it exits. Prints a
//! Markdown table.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

#[path = "common/memory.rs"]
mod memory;
use energy_sources::replay::{Behaviour, Replay, ReplayServer};
use energy_storage::testing::TestSchema;
use memory::vm_hwm_mb;
use serde_json::Value;

const REPEATS: usize = 5;
/// Commodities of the wide case (each served by all three providers).
const WIDE: usize = 30;

struct Measured {
    seconds: f64,
    peak_mb: f64,
    fetched: u64,
    stored: u64,
}

fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

/// The default 9 series, or (`wide`) the 90 series of [`serve_wide`]; provider rate limits off
/// (the throughput cases: the server is local) or (`limits`) as configured by default.
fn write_config(
    dir: &Path,
    server: &ReplayServer,
    db_url: &str,
    wide: bool,
    limits: bool,
) -> PathBuf {
    let path = dir.join("pipeline.yaml");
    let (mut commodities, mut series) =
        (String::new(), [String::new(), String::new(), String::new()]);
    if wide {
        commodities.push_str("commodities:\n");
        for i in 0..WIDE {
            commodities.push_str(&format!(
                "  C{i:02}: {{ name: \"commodity {i}\", unit: \"USD/bbl\", min_value: -100, max_value: 500 }}\n"
            ));
            for (p, id) in wide_ids(i).iter().enumerate() {
                series[p].push_str(&format!("C{i:02}: \"{id}\", "));
            }
        }
    }
    let series_of = |p: usize| {
        if wide {
            format!(", series: {{ {} }}", series[p].trim_end_matches(", "))
        } else {
            String::new()
        }
    };
    let text = format!(
        r#"database: {{ url: "{db_url}" }}
logging: {{ dir: "{logs}" }}
{commodities}sources:
  eia: {{ base_url: "{eia}"{off}{s0} }}
  fred: {{ base_url: "{fred}"{off}{s1} }}
  yahoo: {{ base_url: "{yahoo}"{off}{s2} }}
"#,
        off = if limits {
            ""
        } else {
            ", requests_per_second: 0"
        },
        logs = dir.join("logs").display(),
        eia = server.base_url("eia"),
        fred = server.base_url("fred"),
        yahoo = server.base_url("yahoo"),
        s0 = series_of(0),
        s1 = series_of(1),
        s2 = series_of(2),
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// One benchmarked run.
struct Case<'a> {
    name: &'a str,
    args: &'a [&'a str],
    /// The 90 series of [`serve_wide`] instead of the default 9.
    wide: bool,
    repeats: usize,
    /// Seconds, per backend (SQLite, PostgreSQL, TimescaleDB); NaN: none set.
    targets: [f64; 3],
    memory_target: Option<f64>,
}

/// The EIA, FRED and Yahoo series ids of wide commodity `i`.
fn wide_ids(i: usize) -> [String; 3] {
    [
        format!("petroleum/pri/spt:W{i:02}"),
        format!("WIDE{i:02}"),
        format!("W{i:02}=F"),
    ]
}

/// Serves 90 series of weekdays from 1986-01-02 to 2026-11-20, each a bounded random walk in
/// cents (exact two-decimal values, like the real ones).
fn serve_wide(replay: &Replay) -> u64 {
    let mut total = 0;
    for i in 0..WIDE {
        for (p, (provider, id)) in ["eia", "fred", "yahoo"].iter().zip(wide_ids(i)).enumerate() {
            let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ ((i * 3 + p) as u64);
            let mut cents: i64 = 5_000 + (i as i64) * 97;
            let mut rows = Vec::new();
            let mut day = chrono::NaiveDate::from_ymd_opt(1986, 1, 2).unwrap();
            let end = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
            while day <= end {
                use chrono::Datelike;
                if day.weekday().number_from_monday() <= 5 {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    cents = (cents + (state >> 33) as i64 % 301 - 150).clamp(1_000, 15_000);
                    rows.push((day, format!("{}.{:02}", cents / 100, cents % 100)));
                }
                day = day.succ_opt().unwrap();
            }
            total += rows.len() as u64;
            replay.series(provider, &id, rows);
        }
    }
    total
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

const PROVIDERS: [&str; 3] = ["eia", "fred", "yahoo"];

/// Requests answered per provider so far.
fn requests(replay: &Replay) -> [u64; 3] {
    PROVIDERS.map(|p| replay.requests_of(p))
}

/// The least time the default rate limits allow for these requests per provider (providers
/// run side by side): a token bucket lets `burst` requests go at once, then one per 1/rate.
fn imposed_by_limits(requests: [u64; 3]) -> f64 {
    PROVIDERS
        .iter()
        .zip(requests)
        .map(|(p, n)| {
            let info = energy_sources::provider_info(p).expect("known provider");
            let burst = info.burst as f64;
            ((n as f64 - burst).max(0.0)) / info.requests_per_second
        })
        .fold(0.0, f64::max)
}

fn per_provider(requests: [u64; 3]) -> String {
    PROVIDERS
        .iter()
        .zip(requests)
        .map(|(p, n)| format!("{p} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The everyday job with the default settings (rate limits on, SQLite): a daily incremental
/// run with every upstream answering after 250 ms, a ten-year full refresh, and the 90 series
/// since 1986.
fn default_settings(replay: &Replay, server: &ReplayServer, rows: &mut Vec<[String; 3]>) {
    let latency = Duration::from_millis(250);
    // the daily job: the store holds the history; each upstream answers after 250 ms
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let fill = write_config(dir.path(), server, &url, false, false);
    run_once(&fill, &["--mode", "backfill", "--start-date", "2025-01-01"]);
    let config = write_config(dir.path(), server, &url, false, true);
    for p in PROVIDERS {
        replay.behave(
            p,
            Behaviour {
                delay: latency,
                ..Behaviour::default()
            },
        );
    }
    let (mut times, before) = (Vec::new(), requests(replay));
    for _ in 0..REPEATS {
        times.push(run_once(&config, &["--mode", "incremental"]).seconds);
    }
    let after = requests(replay);
    let each = [0, 1, 2].map(|i| (after[i] - before[i]) / REPEATS as u64);
    rows.push([
        format!(
            "default settings, upstream latency 250 ms: daily incremental run of the 9 series ({} requests per run: {})",
            each.iter().sum::<u64>(),
            per_provider(each)
        ),
        format!(
            "{:.3} s median, {:.3} s max of {REPEATS}",
            median(times.clone()),
            times.iter().cloned().fold(0.0, f64::max)
        ),
        "< 0.6 s".to_owned(),
    ]);
    for p in PROVIDERS {
        replay.behave(p, Behaviour::default());
    }
    // a ten-year full refresh and the 90 series since 1986, no added latency
    for (name, wide, args, repeats, target) in [
        (
            "full refresh of the 9 series, 10 years".to_owned(),
            false,
            &["--mode", "full-refresh"][..],
            REPEATS,
            "< 0.3 s",
        ),
        (
            "90 series × 41 years (backfill since 1986)".to_owned(),
            true,
            &["--mode", "backfill", "--start-date", "1986-01-01"][..],
            1,
            "< 20 s, within 1.2× of the limits' own time",
        ),
    ] {
        let mut times = Vec::new();
        let mut each = [0; 3];
        for _ in 0..repeats {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/bench.db", dir.path().display());
            let config = write_config(dir.path(), server, &url, wide, true);
            let before = requests(replay);
            times.push(run_once(&config, args).seconds);
            let after = requests(replay);
            each = [0, 1, 2].map(|i| after[i] - before[i]);
        }
        rows.push([
            format!(
                "default settings: {name} ({} requests: {}; the rate limits alone take {:.2} s)",
                each.iter().sum::<u64>(),
                per_provider(each),
                imposed_by_limits(each)
            ),
            format!(
                "{:.3} s median, {:.3} s max of {repeats}",
                median(times.clone()),
                times.iter().cloned().fold(0.0, f64::max)
            ),
            target.to_owned(),
        ]);
    }
}

/// A FRED answer of `rows` observations.
fn fred_rows(rows: usize) -> String {
    let mut body = String::with_capacity(rows * 40 + 64);
    body.push_str("{\"count\":");
    body.push_str(&rows.to_string());
    body.push_str(",\"observations\":[");
    for i in 0..rows {
        if i > 0 {
            body.push(',');
        }
        body.push_str("{\"date\":\"2026-01-02\",\"value\":\"61.2\"}");
    }
    body.push_str("]}");
    body
}

/// An EIA answer of five rows whose `total` claims 2^64 - 1 (issue 30): about 1 KB.
fn eia_absurd_total() -> String {
    let rows: Vec<String> = (5..10)
        .map(|d| {
            format!("{{\"period\":\"2026-01-0{d}\",\"series\":\"RWTC\",\"value\":\"6{d}.25\",\"units\":\"$/BBL\"}}")
        })
        .collect();
    format!(
        "{{\"response\":{{\"total\":\"18446744073709551615\",\"frequency\":\"daily\",\"data\":[{}]}},\"apiVersion\":\"2.1.13\"}}",
        rows.join(",")
    )
}

/// A stand-in that answers every request with the same body.
fn serve_hostile(rt: &tokio::runtime::Runtime, body: String) -> (u16, usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let len = body.len();
    let response: std::sync::Arc<Vec<u8>> = std::sync::Arc::new(
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n{body}"
        )
        .into_bytes(),
    );
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    rt.spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream.write_all(&response).await;
            });
        }
    });
    (port, len)
}

/// Hostile upstreams, each answering every request with one body:
/// - issue 13, item 8: three FRED series answered at once with bodies of many rows (the
///   issue's 1.2 M rows within a 64 MB cap, and a body just under the default 16 MB cap): the
///   run refuses them (more rows than a FRED page holds);
/// - issue 30: an EIA answer of five rows claiming 2^64 - 1 in `total` (it once sized an
///   allocation): the run refuses it as malformed at once.
///
/// In each the run fails and its peak memory stays small.
fn hostile_upstream(rt: &tokio::runtime::Runtime, rows: &mut Vec<[String; 3]>) {
    struct Case {
        label: &'static str,
        provider: &'static str,
        body: String,
        cap: Option<u32>,
        target: &'static str,
    }
    let cases = [
        Case {
            label: "3 FRED series at once, 1.2 M rows per body, max_response_mb: 64",
            provider: "fred",
            body: fred_rows(1_200_000),
            cap: Some(64),
            target: "< 200 MB",
        },
        Case {
            label: "3 FRED series at once, 430 k rows per body, default max_response_mb (16)",
            provider: "fred",
            body: fred_rows(430_000),
            cap: None,
            target: "< 200 MB",
        },
        Case {
            label: "EIA: 5 rows claiming a total of 18446744073709551615",
            provider: "eia",
            body: eia_absurd_total(),
            cap: None,
            target: "< 100 MB, failed in < 1 s",
        },
    ];
    for case in cases {
        let (port, len) = serve_hostile(rt, case.body);
        let dir = tempfile::tempdir().expect("temp dir");
        let cap = case
            .cap
            .map(|mb| format!(", max_response_mb: {mb}"))
            .unwrap_or_default();
        let others: Vec<&str> = ["eia", "fred", "yahoo"]
            .into_iter()
            .filter(|p| *p != case.provider)
            .collect();
        let config = dir.path().join("pipeline.yaml");
        std::fs::write(
            &config,
            format!(
                "database: {{ url: \"sqlite://{}/bench.db\" }}\n\
                 sources:\n  {}: {{ enabled: false }}\n  {}: {{ enabled: false }}\n\
                 \x20 {}: {{ base_url: \"http://127.0.0.1:{port}\"{cap} }}\n\
                 logging: {{ dir: \"{}/logs\" }}\n",
                dir.path().display(),
                others[0],
                others[1],
                case.provider,
                dir.path().display()
            ),
        )
        .expect("write config");
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_energy-pipeline"))
            .arg("--config")
            .arg(&config)
            .args([
                "--quiet",
                "run",
                "--mode",
                "backfill",
                "--start-date",
                "2026-01-01",
                "--json",
            ])
            .env("FRED_API_KEY", "bench-key-fred")
            .env("EIA_API_KEY", "bench-key-eia")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start energy-pipeline");
        let pid = child.id();
        let mut peak: f64 = 0.0;
        while child.try_wait().expect("wait").is_none() {
            if let Some(mb) = vm_hwm_mb(pid) {
                peak = peak.max(mb);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let seconds = started.elapsed().as_secs_f64();
        let out = child.wait_with_output().expect("output");
        let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
        let status = report["status"].as_str().unwrap_or("?").to_owned();
        let error = report["sources"][0]["commodities"][0]["error"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| report["sources"][0]["commodities"][0]["error"].to_string());
        eprintln!("bench: hostile upstream ({}): {error}", case.label);
        rows.push([
            format!(
                "hostile upstream: {}, {} each; run {status} in {seconds:.2} s",
                case.label,
                if len < 1_048_576 {
                    format!("{len} bytes")
                } else {
                    format!("{:.1} MB", len as f64 / 1_048_576.0)
                }
            ),
            format!("{peak:.1} MB peak (VmHWM)"),
            case.target.to_owned(),
        ]);
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
    let wide_rows = serve_wide(&replay);
    let replay_handle = replay.clone();
    let server = rt.block_on(replay.serve()).expect("replay server");
    let servers = [
        ("PostgreSQL", std::env::var("BENCH_DATABASE_URL").ok()),
        ("TimescaleDB", std::env::var("BENCH_TIMESCALEDB_URL").ok()),
    ];
    let mut rows: Vec<[String; 3]> = Vec::new();
    let wide_name = format!("90 series × 41 years (backfill since 1986, {wide_rows} rows)");
    let cases = [
        Case {
            name: "full refresh, 3 providers × 3 commodities × 10 years",
            args: &["--mode", "full-refresh"],
            wide: false,
            repeats: REPEATS,
            targets: [0.5, 0.5, 0.5],
            memory_target: Some(50.0),
        },
        Case {
            name: "full history since 1986 (backfill, EIA paginated)",
            args: &["--mode", "backfill", "--start-date", "1986-01-01"],
            wide: false,
            repeats: REPEATS,
            targets: [1.5, 1.5, 1.5],
            memory_target: None,
        },
        Case {
            name: &wide_name,
            args: &["--mode", "backfill", "--start-date", "1986-01-01"],
            wide: true,
            repeats: 3,
            targets: [f64::NAN, 5.0, 10.0],
            memory_target: None,
        },
    ];
    // BENCH_ONLY=text runs the cases whose name contains it (while working on one)
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    for Case {
        name,
        args,
        wide,
        repeats,
        targets,
        memory_target,
    } in cases
    {
        if !name.contains(&only) {
            continue;
        }
        for (b, backend) in ["SQLite", "PostgreSQL", "TimescaleDB"]
            .into_iter()
            .enumerate()
        {
            let base = match backend {
                "SQLite" => None,
                _ => match &servers[b - 1].1 {
                    Some(url) => Some(url.clone()),
                    None => {
                        eprintln!("bench: no {backend} server given; skipped");
                        continue;
                    }
                },
            };
            let mut times = Vec::new();
            let mut peaks = Vec::new();
            let mut counts = (0, 0);
            for _ in 0..repeats {
                let dir = tempfile::tempdir().expect("temp dir");
                let (url, schema) = match &base {
                    None => (format!("sqlite://{}/bench.db", dir.path().display()), None),
                    Some(base) => {
                        let schema = rt.block_on(TestSchema::create(base, "bench_run"));
                        (schema.url.clone(), Some(schema))
                    }
                };
                let config = write_config(dir.path(), &server, &url, wide, false);
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
            let target = targets[b];
            rows.push([
                format!(
                    "{backend}: {name} ({} fetched, {} stored)",
                    counts.0, counts.1
                ),
                format!("{med:.3} s median, {max:.3} s max of {repeats}"),
                if target.is_nan() {
                    "(none set)".to_owned()
                } else {
                    format!("< {target} s")
                },
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
    if "default settings".contains(&only) {
        default_settings(&replay_handle, &server, &mut rows);
    }
    if "hostile upstream".contains(&only) {
        hostile_upstream(&rt, &mut rows);
    }
    println!("\n| measurement (release binary, replay server on 127.0.0.1) | result | target |");
    println!("|---|---|---|");
    for [a, b, c] in rows {
        println!("| {a} | {b} | {c} |");
    }
    drop(server);
}
