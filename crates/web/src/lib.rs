//! The project's HTTP server, on axum: the dashboard page (`pages`: `/`), `/healthz`, `/metrics`
//! and the read-only JSON API
//! (`api`: `/api/status`, `/api/runs`, `/api/runs/{id}`, `/api/series/{commodity}`). The scheduler serves it on
//! `schedule.listen`; `energy-pipeline serve` serves it without a scheduler. Read-only: GET and
//! HEAD, 405 for anything else; every response closes its connection.
//!
//! ```no_run
//! # async fn serve(endpoints: energy_web::Endpoints) -> std::io::Result<()> {
//! // serve until the token is cancelled (SIGTERM, say)
//! let stop = tokio_util::sync::CancellationToken::new();
//! let (addr, task) = energy_web::serve("127.0.0.1:9464".parse().unwrap(), endpoints, stop).await?;
//! println!("dashboard on http://{addr}/");
//! let _ = task.await;
//! # Ok(()) }
//! ```

mod api;
mod health;
mod liveness;
mod metrics;
mod pages;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use energy_core::Clock;
use energy_storage::Store;
use tokio_util::sync::CancellationToken;

pub use health::health;
pub use liveness::Liveness;
pub use metrics::{Exposition, metrics};

/// What the routes read.
#[derive(Clone)]
pub struct Endpoints {
    pub store: Store,
    /// The scheduler loop's liveness, where a scheduler runs in this process.
    pub liveness: Option<Arc<Liveness>>,
    pub clock: Clock,
    /// The loop is dead when it has not turned for this long.
    pub loop_timeout: Duration,
    /// How series are judged (calendars, publication rules), as `status` does.
    pub config: Arc<energy_orchestrator::Config>,
    /// For the configured sources' key status in `/api/status` (never the keys themselves).
    pub secrets: Arc<energy_orchestrator::Secrets>,
}

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints").finish_non_exhaustive()
    }
}

/// How long a request may take, reading the database included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `/metrics` waits for the store before it answers without it: within
/// [`REQUEST_TIMEOUT`] and Prometheus' default scrape timeout (10 s).
const METRICS_STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// The routes.
pub fn router(endpoints: Endpoints) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/series/{commodity}", get(pages::series))
        .route("/runs", get(pages::runs))
        .route("/runs/{id}", get(pages::run))
        .route("/quarantine", get(pages::quarantine))
        .route("/healthz", get(healthz))
        .route("/metrics", get(prometheus))
        .route("/api/status", get(api::status_document))
        .route("/api/runs", get(api::runs))
        .route("/api/runs/{id}", get(api::run))
        .route("/api/series/{commodity}", get(api::series))
        .fallback(not_found)
        .layer(middleware::from_fn(guard))
        .with_state(endpoints)
}

/// How long a client may take, and how much it may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From the first byte of a request to the end of its head; a client that drips its head
    /// slower is disconnected.
    pub header_read: Duration,
    /// The largest request head (request line and headers), in bytes; a larger one is
    /// answered 431 and its connection closed.
    pub max_head_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            max_head_bytes: 64 * 1024,
        }
    }
}

/// Binds `addr` and serves until `stop` is cancelled, with the default [`Limits`]. Returns the
/// bound address (port 0 picks a free one) once listening.
pub async fn serve(
    addr: SocketAddr,
    endpoints: Endpoints,
    stop: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    serve_with(addr, endpoints, Limits::default(), stop).await
}

/// [`serve`] with the given limits. Each connection is its own task, so an idle or slow client
/// holds only itself; on `stop` requests in flight are answered and idle connections closed.
///
/// This is its own accept loop on hyper rather than `axum::serve`, because `axum::serve` sets
/// no header-read timeout and no head-size limit: a client dripping one byte a second would hold
/// a connection forever. Here hyper's connection builder gets both from [`Limits`].
pub async fn serve_with(
    addr: SocketAddr,
    endpoints: Endpoints,
    limits: Limits,
    stop: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = router(endpoints);
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        connections.spawn(connection(stream, app.clone(), limits, stop.clone()));
                    }
                    Err(e) => {
                        // out of file descriptors, say: the listener stays; try again shortly
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        drop(listener);
        while connections.join_next().await.is_some() {}
    });
    Ok((local, task))
}

/// One HTTP/1.1 connection: one request (every answer closes), its head within the limits.
async fn connection(
    stream: tokio::net::TcpStream,
    app: Router,
    limits: Limits,
    stop: CancellationToken,
) {
    let service = hyper_util::service::TowerToHyperService::new(app);
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read)
        // the head's own limit, counted by the parser: the read buffer's size alone let a head
        // larger than it through when one read brought the rest of the head (a 100,000-byte
        // header was answered 200)
        .max_header_size(limits.max_head_bytes)
        .max_buf_size(limits.max_head_bytes.max(8192))
        .keep_alive(false)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let finished = tokio::select! {
        r = conn.as_mut() => r,
        () = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = finished {
        tracing::debug!(error = %e, "a connection ended with an error");
    }
}

/// Read-only and bounded: GET and HEAD only (405 with `Allow` otherwise), a time limit per
/// request, and `Connection: close` on every answer.
async fn guard(request: Request, next: Next) -> Response {
    let mut response = if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut r = (StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n").into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        r
    } else {
        match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
            Ok(r) => r,
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "no answer within 10 s: the database is slow or away\n",
            )
                .into_response(),
        }
    };
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

async fn healthz(State(e): State<Endpoints>) -> Response {
    let (ok, text) = health(&e).await;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, text).into_response()
}

/// The metrics in OpenMetrics for a scraper that asks for it (Prometheus does) and in the
/// 0.0.4 text format otherwise (curl, promtool).
async fn prometheus(State(e): State<Endpoints>, headers: axum::http::HeaderMap) -> Response {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let (format, content_type) = if openmetrics {
        (
            Exposition::OpenMetrics,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
    } else {
        (Exposition::Text, "text/plain; version=0.0.4; charset=utf-8")
    };
    // the database away is something to report, not a failed scrape: a 503 would make
    // Prometheus drop every series of the target, `scheduler_up` with them
    let text = match tokio::time::timeout(METRICS_STORE_TIMEOUT, metrics(&e, format)).await {
        Ok(Ok(text)) => text,
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "/metrics could not read the store");
            metrics::without_store(&e, format)
        }
        Err(_) => {
            tracing::debug!("/metrics had no answer from the store within 5 s");
            metrics::without_store(&e, format)
        }
    };
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// 503 with the store's error (never a secret: `StoreError` redacts the URL), its control
/// characters escaped (the server's message is upstream text).
pub(crate) fn unavailable(err: energy_storage::StoreError) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{}\n", energy_core::text::printable(&err.to_string())),
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "not found: try /healthz, /metrics, /api/status, /api/runs or /api/series/{commodity}\n",
    )
        .into_response()
}
