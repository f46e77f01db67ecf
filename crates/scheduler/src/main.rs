//! `energy-scheduler`: the daemon that runs the pipeline on its schedule.
//!
//! The daemon itself lands with the scheduler issue; until then this binary checks the
//! configuration it will run with and says plainly that it cannot schedule yet.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;

/// Runs the energy price pipeline on the configured schedule (see `schedule` in pipeline.yaml).
#[derive(Debug, Parser)]
#[command(name = "energy-scheduler", version)]
struct Args {
    /// Configuration file [default: $PIPELINE_CONFIG, else ./pipeline.yaml if it exists, else built-in defaults]
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match energy_orchestrator::config::load(args.config.as_deref()) {
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Ok(_) => {
            eprintln!(
                "error: this build has no scheduler daemon yet; run `energy-pipeline run` from your own scheduler meanwhile"
            );
            ExitCode::from(1)
        }
    }
}
