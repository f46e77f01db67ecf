//! The scheduler's HTTP endpoints on `schedule.listen`: `GET /healthz` (200 when the database
//! answers and the loop is alive, 503 otherwise) and `GET /metrics` (Prometheus text format,
//! read from the database at each scrape). A deliberately small HTTP/1.1 server: two GET routes,
//! one response per connection.

use std::{fmt::Write as _, net::SocketAddr, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use energy_core::{CommodityCode, Freshness, RunStatus, SourceId};
use energy_sources::Clock;
use energy_storage::Store;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_util::sync::CancellationToken;

use crate::liveness::Liveness;

/// What the endpoints need.
#[derive(Clone)]
pub struct Endpoints {
    pub store: Store,
    pub liveness: Arc<Liveness>,
    pub clock: Clock,
    /// The loop is dead when it has not turned for this long.
    pub loop_timeout: Duration,
    /// A series' age counts from today in its market's zone, as `status` does.
    pub config: Arc<energy_orchestrator::Config>,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints").finish_non_exhaustive()
    }
}

/// Binds `addr` and serves until `stop` is cancelled. Returns the bound address (port 0 picks
/// a free one) once listening.
pub async fn serve(
    addr: SocketAddr,
    endpoints: Endpoints,
    stop: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let endpoints = endpoints.clone();
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(10), handle(stream, endpoints)).await;
                    });
                }
                () = stop.cancelled() => break,
            }
        }
    });
    Ok((local, task))
}

async fn handle(mut stream: TcpStream, endpoints: Endpoints) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    // HEAD is GET without the body (monitors and load balancers probe with it)
    let head_only = method == "HEAD";
    let method = if head_only { "GET" } else { method };
    let (status, content_type, body) = match (method, path) {
        ("GET", "/healthz") => {
            let (ok, text) = health(&endpoints).await;
            (
                if ok { 200 } else { 503 },
                "text/plain; charset=utf-8",
                text,
            )
        }
        ("GET", "/metrics") => match metrics(&endpoints).await {
            Ok(text) => (200, "text/plain; version=0.0.4; charset=utf-8", text),
            Err(e) => (503, "text/plain; charset=utf-8", format!("{e}\n")),
        },
        ("GET", _) => (
            404,
            "text/plain; charset=utf-8",
            "not found: try /healthz or /metrics\n".into(),
        ),
        _ => (
            405,
            "text/plain; charset=utf-8",
            "only GET and HEAD\n".into(),
        ),
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let allow = if status == 405 {
        "allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n{allow}connection: close\r\n\r\n{}",
        body.len(),
        if head_only { "" } else { body.as_str() }
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// Whether the database answers and the loop turns, with a line saying so.
pub async fn health(e: &Endpoints) -> (bool, String) {
    let now = (e.clock)();
    let db = tokio::time::timeout(Duration::from_secs(3), e.store.health()).await;
    let db_ok = matches!(&db, Ok(h) if h.healthy);
    let loop_age = e.liveness.loop_age(now);
    let loop_ok = loop_age.is_some_and(|age| age <= e.loop_timeout.as_secs_f64());
    let mut text = String::new();
    match db {
        Ok(h) if h.healthy => {
            let _ = writeln!(text, "database: ok ({})", h.backend);
        }
        Ok(h) => {
            let _ = writeln!(text, "database: DOWN: {}", h.message);
        }
        Err(_) => {
            let _ = writeln!(text, "database: DOWN: no answer within 3 s");
        }
    }
    match loop_age {
        Some(age) if loop_ok => {
            let _ = writeln!(text, "scheduler loop: ok (turned {age:.1} s ago)");
        }
        Some(age) => {
            let _ = writeln!(text, "scheduler loop: STUCK (last turned {age:.1} s ago)");
        }
        None => {
            let _ = writeln!(text, "scheduler loop: not started");
        }
    }
    (db_ok && loop_ok, text)
}

fn unix(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A market date as the Unix time of its midnight UTC.
fn day_seconds(day: chrono::NaiveDate) -> f64 {
    day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp() as f64
}

/// The metrics, in Prometheus text format.
pub async fn metrics(e: &Endpoints) -> Result<String, energy_storage::StoreError> {
    let now = (e.clock)();
    let runs = e.store.recent_runs(200).await?;
    let by_status = e.store.run_counts_by_status().await?;
    let stored = e.store.observations_by_source().await?;
    let freshness = e.store.freshness().await?;
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            // Prometheus' text format spells infinity +Inf
            if value == f64::INFINITY {
                let _ = writeln!(out, "{name}{labels} +Inf");
            } else {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        }
    };
    family(
        "energy_pipeline_scheduler_up",
        "gauge",
        "1 while the scheduler loop turns.",
        vec![(
            String::new(),
            if e.liveness
                .loop_age(now)
                .is_some_and(|a| a <= e.loop_timeout.as_secs_f64())
            {
                1.0
            } else {
                0.0
            },
        )],
    );
    let last = runs.iter().find(|r| r.status != RunStatus::Running);
    family(
        "energy_pipeline_last_run_timestamp_seconds",
        "gauge",
        "When the last finished run started (Unix time).",
        last.map(|r| (String::new(), unix(r.started_at)))
            .into_iter()
            .collect(),
    );
    let last_success = runs.iter().find(|r| r.status == RunStatus::Success);
    family(
        "energy_pipeline_last_success_timestamp_seconds",
        "gauge",
        "When the last successful run started (Unix time).",
        last_success
            .map(|r| (String::new(), unix(r.started_at)))
            .into_iter()
            .collect(),
    );
    family(
        "energy_pipeline_runs_total",
        "counter",
        "Runs recorded, by status.",
        by_status
            .iter()
            .map(|(s, n)| (format!("{{status=\"{}\"}}", label(s)), *n as f64))
            .collect(),
    );
    family(
        "energy_pipeline_observations_stored",
        "gauge",
        "Observations in the store, by source.",
        stored
            .iter()
            .map(|(s, n)| (format!("{{source=\"{}\"}}", label(s)), *n as f64))
            .collect(),
    );
    let fetch: Vec<(String, f64)> = last
        .and_then(|r| r.report.as_ref())
        .map(|report| {
            report
                .sources
                .iter()
                .map(|s| {
                    (
                        format!("{{source=\"{}\"}}", label(s.source.as_str())),
                        s.fetch_seconds,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    family(
        "energy_pipeline_fetch_duration_seconds",
        "gauge",
        "Time spent fetching from each source in the last finished run.",
        fetch,
    );
    let series = energy_orchestrator::status::every_series(&e.config, freshness);
    let series_label = |commodity: &CommodityCode, source: &SourceId| {
        format!(
            "commodity=\"{}\",source=\"{}\"",
            label(commodity.as_str()),
            label(source.as_str())
        )
    };
    family(
        "energy_pipeline_series_age_days",
        "gauge",
        "Days since the latest stored observation of each series (+Inf: no data yet).",
        series
            .iter()
            .map(|(commodity, source, latest)| {
                (
                    format!("{{{}}}", series_label(commodity, source)),
                    latest.as_ref().map_or(f64::INFINITY, |l| {
                        (e.config.market_today(commodity, now) - l.latest_date).num_days() as f64
                    }),
                )
            })
            .collect(),
    );
    let judged: Vec<_> = series
        .iter()
        .map(|(commodity, source, latest)| {
            let latest_date = latest.as_ref().map(|l| l.latest_date);
            let (judgement, _, calendar) =
                energy_orchestrator::status::judge(&e.config, commodity, source, latest_date, now);
            (series_label(commodity, source), latest, judgement, calendar)
        })
        .collect();
    family(
        "energy_pipeline_series_latest_date_timestamp_seconds",
        "gauge",
        "The latest stored market date of each series (Unix time of its midnight UTC).",
        judged
            .iter()
            .filter_map(|(l, latest, _, _)| {
                latest
                    .as_ref()
                    .map(|s| (format!("{{{l}}}"), day_seconds(s.latest_date)))
            })
            .collect(),
    );
    family(
        "energy_pipeline_series_expected_date_timestamp_seconds",
        "gauge",
        "The latest market date each series' source should have published by now (Unix time of its midnight UTC).",
        judged
            .iter()
            .map(|(l, _, j, _)| (format!("{{{l}}}"), day_seconds(j.expected)))
            .collect(),
    );
    family(
        "energy_pipeline_series_state",
        "gauge",
        "1 for each series' freshness state (FRESH, LATE or STALE), 0 for the others.",
        judged
            .iter()
            .flat_map(|(l, _, j, _)| {
                [Freshness::Fresh, Freshness::Late, Freshness::Stale].map(|state| {
                    (
                        format!("{{{l},state=\"{}\"}}", state.name()),
                        f64::from(u8::from(j.state == state)),
                    )
                })
            })
            .collect(),
    );
    family(
        "energy_pipeline_series_missing_trading_days",
        "gauge",
        "Trading days without a value between the first and the latest stored date of each series.",
        judged
            .iter()
            .filter_map(|(l, latest, _, calendar)| {
                latest.as_ref().map(|s| {
                    (
                        format!("{{{l}}}"),
                        calendar.missing(s.first_date, s.latest_date, s.stored) as f64,
                    )
                })
            })
            .collect(),
    );
    family(
        "energy_pipeline_next_fire_timestamp_seconds",
        "gauge",
        "The scheduler's next fire time (Unix time).",
        e.liveness
            .next_fire()
            .map(|t| (String::new(), unix(t)))
            .into_iter()
            .collect(),
    );
    Ok(out)
}
