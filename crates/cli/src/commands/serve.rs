//! `serve`: the read-only HTTP server (`/healthz`, `/metrics`, `/api/status`) without the
//! scheduler, for a desk that schedules its runs elsewhere; until SIGINT or SIGTERM.

use std::{process::ExitCode, sync::Arc, time::Duration};

use anyhow::anyhow;
use energy_orchestrator::{config, logs, signals, wiring};
use tokio_util::sync::CancellationToken;

use crate::{
    args::{GlobalArgs, ServeArgs},
    exit::Failure,
};

pub(super) fn run(global: &GlobalArgs, args: &ServeArgs) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let addr = args.listen.unwrap_or(loaded.config.schedule.listen);
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let store = wiring::open_existing_store(&loaded.config).await?;
        let endpoints = energy_web::Endpoints {
            store,
            liveness: None,
            clock: energy_core::system_clock(),
            loop_timeout: Duration::from_secs(30),
            config: Arc::new(loaded.config),
            secrets: Arc::new(loaded.secrets),
        };
        let stop = CancellationToken::new();
        tokio::spawn(signals::cancel_on_signals(stop.clone()));
        let (bound, task) = energy_web::serve(addr, endpoints, stop)
            .await
            .map_err(|e| {
                Failure::Operational(anyhow!(
                    "cannot listen on {addr}: {e} (a scheduler serves the same routes on schedule.listen; pass --listen for another address)"
                ))
            })?;
        tracing::info!(addr = %bound, "serving /healthz, /metrics and /api/status");
        eprintln!("serving http://{bound}/ (the dashboard, /healthz, /metrics, /api/…); Ctrl-C stops");
        task.await
            .map_err(|e| Failure::Operational(anyhow!("the HTTP server failed: {e}")))?;
        Ok::<_, Failure>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
