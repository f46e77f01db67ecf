//! `energy-scheduler`: the daemon that runs the pipeline on its schedule (the same as
//! `energy-pipeline schedule start`). Loads the configuration, starts logging to stderr and a
//! daily `scheduler.log` (`scheduler.json.log` for JSON lines), and runs the scheduler's daemon until SIGINT/SIGTERM or
//! `energy-pipeline schedule stop`.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::Parser;
use energy_orchestrator::{config, config::LogFormat, logs, signals};
use energy_scheduler::{DaemonError, serve_from_config};
use energy_storage::StoreError;
use tokio_util::sync::CancellationToken;

/// Runs the energy price pipeline on the configured schedule (see `schedule` in pipeline.yaml);
/// serves /healthz and /metrics on `schedule.listen`.
#[derive(Debug, Parser)]
#[command(name = "energy-scheduler", version)]
struct Args {
    /// Configuration file [default: $PIPELINE_CONFIG, else ./pipeline.yaml if it exists, else built-in defaults]
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// More log output (-v debug, -vv trace)
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,
    /// Only errors on stderr
    #[arg(short, long)]
    quiet: bool,
    /// Log line format on stderr and in the log file: text or json [default: logging.format]
    #[arg(long, value_name = "FORMAT", value_parser = parse_log_format)]
    log_format: Option<LogFormat>,
}

fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    s.parse()
}

fn main() -> ExitCode {
    let args = Args::parse();
    let loaded = match config::load(args.config.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let _log = logs::init(
        logs::LogOptions {
            quiet: args.quiet,
            verbose: args.verbose,
            format: args.log_format,
        },
        &loaded.config.logging,
        Some("scheduler"),
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    // the scheduler runs on the runtime's workers, not on this thread: a turn of its loop then
    // wakes one thread, not a worker and this one
    let result = runtime.block_on(async move {
        let stop = CancellationToken::new();
        tokio::spawn(signals::cancel_on_signals(stop.clone()));
        tokio::spawn(async move {
            serve_from_config(Arc::new(loaded.config), &loaded.secrets, stop).await
        })
        .await
    });
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the scheduler stopped on an internal error: {e}");
            return ExitCode::from(1);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ DaemonError::Schedule(_)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        // a database URL pointed at nothing is a configuration error, as for the CLI
        Err(DaemonError::Store(
            e @ (StoreError::NoSuchDatabase { .. } | StoreError::NoSuchDirectory { .. }),
        )) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
