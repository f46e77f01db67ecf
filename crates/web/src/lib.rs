//! The project's HTTP server, on axum: the dashboard page (`pages`: `/`), `/healthz`, `/metrics`
//! and the read-only JSON API
//! (`api`: `/api/status`, `/api/runs`, `/api/runs/{id}`, `/api/series/{commodity}`). The scheduler serves it on
//! `schedule.listen`; `energy-pipeline serve` serves it without a scheduler. Read-only: GET and
//! HEAD, 405 for anything else; every response closes its connection.

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
use energy_sources::Clock;
use energy_storage::Store;
use tokio_util::sync::CancellationToken;

pub use health::health;
pub use liveness::Liveness;
pub use metrics::metrics;

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

/// Binds `addr` and serves until `stop` is cancelled. Returns the bound address (port 0 picks
/// a free one) once listening.
pub async fn serve(
    addr: SocketAddr,
    endpoints: Endpoints,
    stop: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = router(endpoints);
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the HTTP server stopped");
        }
    });
    Ok((local, task))
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

async fn prometheus(State(e): State<Endpoints>) -> Response {
    match metrics(&e).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(err) => unavailable(err),
    }
}

/// 503 with the store's error (never a secret: `StoreError` redacts the URL).
pub(crate) fn unavailable(err: energy_storage::StoreError) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, format!("{err}\n")).into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "not found: try /healthz, /metrics, /api/status, /api/runs or /api/series/{commodity}\n",
    )
        .into_response()
}
