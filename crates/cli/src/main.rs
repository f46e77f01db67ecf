//! `energy-pipeline`: parses the command line, loads the configuration once, runs one command and
//! maps its outcome to the exit codes of INTERFACE.md.

mod args;
mod commands;
mod exit;
mod render;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::dispatch(&cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}
