//! `cargo xtask bench web`: wall time of the dashboard `/` and of `/series/C000?range=all` (the
//! whole history of one commodity from three sources) served by the release `energy-pipeline
//! serve` over a store of 1,000,000 observations in 90 series, on SQLite, PostgreSQL
//! (`BENCH_DATABASE_URL`) and PostgreSQL with TimescaleDB (`BENCH_TIMESCALEDB_URL`): from
//! connecting to the last byte, the server warmed by one request first. Prints a Markdown table.

use std::{
    io::{Read, Write},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use energy_storage::{
    DatabaseUrl, Store,
    testing::{TestSchema, admin},
};

#[path = "common/fill.rs"]
mod common;
use common::fill;

const REPEATS: usize = 15;
const PAGES: [&str; 2] = ["/", "/series/C000?range=all"];

/// One GET: (status, bytes, milliseconds from connecting to the last byte).
fn get(port: u16, path: &str) -> (u16, usize, f64) {
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let text = String::from_utf8_lossy(&bytes);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, bytes.len(), ms)
}

fn serve(dir: &Path, url: &str) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("pipeline.yaml");
    std::fs::write(
        &config,
        format!(
            "database: {{ url: \"{url}\" }}\nlogging: {{ dir: \"{}\" }}\ncommodities:\n  C000: {{ name: \"commodity 0\", unit: USD/bbl, min_value: -100, max_value: 500 }}\nsources:\n  eia: {{ series: {{ C000: \"petroleum/pri/spt:RWTC\" }} }}\n  fred: {{ series: {{ C000: DCOILWTICO }} }}\n  yahoo: {{ series: {{ C000: \"CL=F\" }} }}\n",
            dir.join("logs").display()
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_energy-pipeline"))
        .arg("--config")
        .arg(&config)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start energy-pipeline serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

/// Per page: (median ms, max ms, bytes).
fn time_pages(dir: &Path, url: &str) -> Vec<(f64, f64, usize)> {
    let (mut child, port) = serve(dir, url);
    let out = PAGES
        .iter()
        .map(|page| {
            let (status, _, _) = get(port, page);
            assert_eq!(status, 200, "{page}");
            let mut times = Vec::new();
            let mut size = 0;
            for _ in 0..REPEATS {
                let (status, bytes, ms) = get(port, page);
                assert_eq!(status, 200, "{page}");
                times.push(ms);
                size = bytes;
            }
            times.sort_by(f64::total_cmp);
            (times[times.len() / 2], times[times.len() - 1], size)
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    out
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/web.db", dir.path().display());
    rt.block_on(async {
        let store = Store::open(&DatabaseUrl::parse(&sqlite).unwrap())
            .await
            .unwrap();
        fill(&store).await;
    });
    rows.push(("SQLite", time_pages(dir.path(), &sqlite)));
    for (backend, variable) in [
        ("PostgreSQL", "BENCH_DATABASE_URL"),
        ("TimescaleDB", "BENCH_TIMESCALEDB_URL"),
    ] {
        let Ok(base) = std::env::var(variable) else {
            eprintln!("bench: {variable} is not set; {backend} skipped");
            continue;
        };
        let schema = rt.block_on(async {
            let schema = TestSchema::create(&base, "bench_web").await;
            let store = Store::open(&DatabaseUrl::parse(&schema.url).unwrap())
                .await
                .unwrap();
            fill(&store).await;
            admin(&schema.url, "ANALYZE").await;
            schema
        });
        rows.push((backend, time_pages(dir.path(), &schema.url)));
        rt.block_on(schema.drop());
    }
    println!(
        "\n| measurement (release `energy-pipeline serve`, connect to last byte) | result | target |"
    );
    println!("|---|---|---|");
    for (backend, pages) in rows {
        for (page, (median, max, bytes)) in PAGES.iter().zip(pages) {
            println!(
                "| {backend}: `GET {page}` on 1,000,000 observations ({bytes} bytes) | {median:.1} ms median, {max:.1} ms max of {REPEATS} | < 50 ms |"
            );
        }
    }
}
