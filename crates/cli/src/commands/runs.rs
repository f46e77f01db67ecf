//! `runs`: the run history, newest first, as a table or a JSON array of run reports.

use std::process::ExitCode;

use energy_core::{RunReport, RunStatus};
use energy_orchestrator::{config, logs, wiring};
use energy_storage::RunRecord;

use crate::{
    args::{GlobalArgs, RunsArgs},
    exit::Failure,
    render::{self, Align, Table},
};

pub fn run(global: &GlobalArgs, args: &RunsArgs) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let runtime = super::runtime()?;
    let records = runtime.block_on(async {
        let store = wiring::open_store(&loaded.config).await?;
        store.recent_runs(args.limit).await
    })?;
    if args.json {
        let reports: Vec<RunReport> = records.iter().map(report_of).collect();
        let json = serde_json::to_string(&reports)
            .map_err(|e| Failure::Operational(anyhow::anyhow!("cannot render runs: {e}")))?;
        println!("{json}");
    } else if records.is_empty() {
        println!("no runs recorded yet in {}", loaded.config.database.url);
    } else {
        print!("{}", table(&records));
    }
    Ok(ExitCode::SUCCESS)
}

/// The report of a run; for one still going (or cut off), what the ledger knows.
pub fn report_of(r: &RunRecord) -> RunReport {
    if let Some(report) = &r.report {
        let mut report = report.clone();
        // the ledger has the last word on status (e.g. a run marked interrupted afterwards)
        report.status = r.status;
        return report;
    }
    RunReport {
        run_id: r.uuid.clone(),
        trigger: r.trigger,
        scheduled_for: r.scheduled_for,
        mode: r.mode,
        status: r.status,
        started_at: r.started_at,
        finished_at: r.finished_at,
        duration_seconds: r
            .finished_at
            .map(|f| (f - r.started_at).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0),
        window: None,
        sources: Vec::new(),
        counts: r.counts,
        notifications: Vec::new(),
        error: (r.status == RunStatus::Interrupted)
            .then(|| "the run was interrupted before it finished".to_owned()),
    }
}

pub fn table(records: &[RunRecord]) -> String {
    let mut t = Table::new(&[
        ("ID", Align::Right),
        ("STARTED (UTC)", Align::Left),
        ("MODE", Align::Left),
        ("STATUS", Align::Left),
        ("DURATION", Align::Right),
        ("FETCHED", Align::Right),
        ("STORED", Align::Right),
        ("REJECTED", Align::Right),
    ]);
    for r in records {
        let report = report_of(r);
        t.row(vec![
            r.id.0.to_string(),
            r.started_at.format("%Y-%m-%d %H:%M").to_string(),
            format!(
                "{}{}",
                serde_json::to_value(r.mode)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                if r.trigger == energy_core::Trigger::Schedule {
                    " (s)"
                } else {
                    ""
                }
            ),
            r.status.name().to_owned(),
            if r.finished_at.is_some() {
                render::duration(report.duration_seconds)
            } else {
                "-".to_owned()
            },
            r.counts.fetched.to_string(),
            r.counts.stored.to_string(),
            r.counts.rejected.to_string(),
        ]);
    }
    let mut out = t.render();
    if records
        .iter()
        .any(|r| r.trigger == energy_core::Trigger::Schedule)
    {
        out.push_str("(s): started by the scheduler\n");
    }
    out
}
