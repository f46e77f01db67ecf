//! `status`: the monitoring dashboard — database health, per-series freshness with sparklines,
//! the last runs, the scheduler, what is configured; `--json` for scripts. Exit 1 when the
//! database cannot be reached.

use std::process::ExitCode;

use chrono::Utc;
use energy_orchestrator::{config, logs, status, wiring};

use crate::output::{out, outln};
use crate::{
    args::{GlobalArgs, StatusArgs},
    exit::Failure,
    render::{self, Paint},
};

pub(super) fn run(global: &GlobalArgs, args: &StatusArgs) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let runtime = super::runtime()?;
    let now = Utc::now();
    let report = runtime.block_on(async {
        match wiring::open_existing_store(&loaded.config).await {
            Ok(store) => {
                Ok(status::collect(&loaded.config, &loaded.secrets, &store, now, args.runs).await)
            }
            // pointed at nothing: say so instead of calling a database that never was down
            Err(e @ energy_storage::StoreError::NoSuchDatabase { .. }) => Err(Failure::from(e)),
            Err(e) => Ok(status::unreachable(
                &loaded.config,
                &loaded.secrets,
                &e,
                now,
            )),
        }
    })?;
    if args.json {
        let json = serde_json::to_string(&report)
            .map_err(|e| Failure::Operational(anyhow::anyhow!("cannot render the status: {e}")))?;
        outln!("{json}");
    } else {
        out!("{}", render::status(&report, Paint::for_stdout()));
    }
    Ok(if report.healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
