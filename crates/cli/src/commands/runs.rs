//! `runs`: the run history, newest first, as a table or a JSON array of run reports.

use std::process::ExitCode;

use energy_core::RunReport;
use energy_orchestrator::{config, logs, wiring};
use energy_storage::RunRecord;

use crate::{
    args::{GlobalArgs, RunsArgs},
    exit::Failure,
    output::{out, outln},
    render,
};

pub(super) fn run(global: &GlobalArgs, args: &RunsArgs) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let runtime = super::runtime()?;
    let records = runtime.block_on(async {
        let store = wiring::open_existing_store(&loaded.config).await?;
        store.runs().recent(args.limit).await
    })?;
    if args.json {
        let reports: Vec<RunReport> = records.iter().map(report_of).collect();
        let json = serde_json::to_string(&reports)
            .map_err(|e| Failure::Operational(anyhow::anyhow!("cannot render runs: {e}")))?;
        outln!("{json}");
    } else if records.is_empty() {
        outln!("no runs recorded yet in {}", loaded.config.database.url);
    } else {
        out!("{}", table(&records));
    }
    Ok(ExitCode::SUCCESS)
}

use energy_orchestrator::status::report_of;

pub(super) fn table(records: &[RunRecord]) -> String {
    let reports: Vec<RunReport> = records.iter().map(report_of).collect();
    render::runs_table(&reports)
}
