//! `energy-pipeline`: parses the command line, loads the configuration once, runs one command and
//! maps its outcome to the exit codes of INTERFACE.md.

mod args;
mod commands;
mod exit;
mod output;
mod render;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match commands::dispatch(&cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    };
    match output::finish() {
        Some(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            ExitCode::from(1)
        }
        None => code,
    }
}
