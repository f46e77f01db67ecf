//! The HTTP server over real TCP on SQLite and PostgreSQL, a module per topic: `pages` (every
//! route, 404, 405 with `Allow`, HEAD without a body, `/api/status` equal to what `status
//! --json` collects, escaping), `health` (`/healthz` and `/metrics` as the scheduler serves
//! them, with and without the database), `limits` (idle and slow clients, the request head's
//! limits), `promtool` (`/metrics` as Prometheus' linter reads it).

use std::{sync::Arc, time::Duration};

use chrono::{TimeZone, Utc};
use energy_core::Clock;
use energy_core::{CommodityCode, RunMode};
use energy_orchestrator::{
    Config, NoProgress, RunRequest, Secrets, status,
    testing::{Behaviour, Setup, setup_on, setup_with_clock},
};
use energy_web::{Endpoints, Liveness};
use tokio_util::sync::CancellationToken;

mod health;
mod limits;
mod pages;
mod promtool;

async fn serve(
    s: &Setup,
    clock: Clock,
    liveness: Option<Arc<Liveness>>,
) -> (String, CancellationToken) {
    serve_with(s, clock, liveness, Config::default()).await
}

async fn serve_with(
    s: &Setup,
    clock: Clock,
    liveness: Option<Arc<Liveness>>,
    config: Config,
) -> (String, CancellationToken) {
    let stop = CancellationToken::new();
    let endpoints = Endpoints {
        store: s.pipeline.store().clone(),
        liveness,
        clock,
        loop_timeout: Duration::from_secs(60),
        config: Arc::new(config),
        secrets: Arc::new(Secrets::default()),
    };
    let (addr, _task) = energy_web::serve("127.0.0.1:0".parse().unwrap(), endpoints, stop.clone())
        .await
        .unwrap();
    (format!("http://{addr}"), stop)
}
