//! `run`: one pipeline run now, with a table or `--json` on stdout, a progress bar on a terminal,
//! and Ctrl-C (or SIGTERM) stopping it cleanly.

use std::{io::IsTerminal, process::ExitCode, sync::Arc};

use chrono::Utc;
use energy_core::system_clock;
use energy_core::{CommodityCode, CommodityReport, RunMode, SourceId};
use energy_orchestrator::{Progress, RunError, RunRequest, config, logs, wiring};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::output::{out, outln};
use crate::{
    args::{GlobalArgs, ModeArg, RunArgs},
    exit::{self, Failure},
    render,
};

pub(super) fn run(global: &GlobalArgs, args: &RunArgs) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let mode = mode(args, &loaded.config, Utc::now())?;
    loaded
        .config
        .check_selection(&args.commodities, &args.sources)?;
    let _log = logs::init(
        global.log_options(),
        &loaded.config.logging,
        Some("energy-pipeline"),
    );
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let config = Arc::new(loaded.config);
        // The database first: if it cannot be reached nothing is fetched.
        let pipeline = wiring::pipeline(config, &loaded.secrets, system_clock()).await?;
        let cancel = CancellationToken::new();
        tokio::spawn(energy_orchestrator::signals::cancel_on_signals(
            cancel.clone(),
        ));
        let bar = bar(global.quiet);
        let request = RunRequest {
            sources: args.sources.clone(),
            commodities: args.commodities.clone(),
            ..RunRequest::manual(mode)
        };
        let outcome = pipeline.run(request, cancel, bar.clone()).await;
        bar.0.finish_and_clear();
        // a run whose outcome could not be recorded still shows its report, then fails
        let (report, unrecorded) = match outcome {
            Ok(report) => (report, None),
            Err(e) => match &e {
                RunError::NotRecorded { report, .. } => ((**report).clone(), Some(e)),
                _ => return Err(e.into()),
            },
        };
        if args.json {
            let json = serde_json::to_string(&report).map_err(|e| {
                Failure::Operational(anyhow::anyhow!("cannot render the report: {e}"))
            })?;
            outln!("{json}");
        } else {
            out!("{}", render::run_report(&report));
        }
        if let Some(e) = unrecorded {
            return Err(e.into());
        }
        Ok(exit::for_run(report.status))
    })
}

/// The run mode from the flags; date flags belong to backfills only.
fn mode(
    args: &RunArgs,
    config: &energy_orchestrator::Config,
    now: chrono::DateTime<Utc>,
) -> Result<RunMode, Failure> {
    match args.mode {
        ModeArg::Backfill => {
            let start = args.start_date.ok_or_else(|| {
                Failure::Usage("--mode backfill needs --start-date YYYY-MM-DD".into())
            })?;
            Ok(config.backfill(start, args.end_date, now)?)
        }
        other => {
            if args.start_date.is_some() || args.end_date.is_some() {
                return Err(Failure::Usage(
                    "--start-date and --end-date go with --mode backfill only".into(),
                ));
            }
            Ok(match other {
                ModeArg::FullRefresh => RunMode::FullRefresh,
                _ => RunMode::Incremental,
            })
        }
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
#[derive(Debug, Clone)]
struct Bar(ProgressBar);

fn bar(quiet: bool) -> Arc<Bar> {
    let target = if !quiet && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} batches {msg}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Arc::new(Bar(bar))
}

impl Progress for Bar {
    fn planned(&self, batches: usize) {
        self.0.set_length(batches as u64);
    }

    fn batch_done(&self, source: &SourceId, commodity: &CommodityCode, report: &CommodityReport) {
        self.0.inc(1);
        self.0.set_message(format!(
            "{source} {commodity}: {} ({} stored)",
            report.status.name(),
            report.counts.stored
        ));
    }
}
