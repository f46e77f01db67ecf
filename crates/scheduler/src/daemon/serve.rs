//! The daemon as the binaries start it: the real parts from configuration and the HTTP
//! endpoints.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use super::{Daemon, DaemonError, DaemonOptions};
use crate::schedule::Schedule;

/// The daemon as both binaries start it: the real pipeline, the configured schedule, the HTTP
/// endpoints on `schedule.listen`, until `stop` (a signal) or `schedule stop`.
pub async fn serve_from_config(
    config: Arc<energy_orchestrator::Config>,
    secrets: &energy_orchestrator::Secrets,
    stop: CancellationToken,
) -> Result<(), DaemonError> {
    let clock = energy_core::system_clock();
    let schedule = Schedule::from_config(&config.schedule).map_err(DaemonError::Schedule)?;
    let pipeline =
        energy_orchestrator::wiring::pipeline(config.clone(), secrets, clock.clone()).await?;
    let options = DaemonOptions {
        misfire_grace_seconds: config.schedule.misfire_grace_seconds,
        hourly_freshness_check: config.monitor.hourly_check,
        ..DaemonOptions::default()
    };
    let daemon = Daemon::new(pipeline, schedule, options, clock.clone());
    // refused before anything is served or said
    daemon.refuse_a_second(clock()).await?;
    let endpoints = energy_web::Endpoints {
        store: daemon.store().clone(),
        liveness: Some(daemon.liveness()),
        clock,
        loop_timeout: Duration::from_secs(30),
        config: config.clone(),
        secrets: Arc::new(secrets.clone()),
    };
    let http_stop = CancellationToken::new();
    let (addr, http) = energy_web::serve(config.schedule.listen, endpoints, http_stop.clone())
        .await
        .map_err(|source| DaemonError::Listen {
            addr: config.schedule.listen,
            source,
        })?;
    tracing::info!(%addr, "serving /healthz, /metrics and /api/status");
    let result = daemon.run(stop).await;
    http_stop.cancel();
    let _ = http.await;
    result
}
