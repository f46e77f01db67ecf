//! One module per command; each takes the loaded configuration and returns an exit code.

mod config;

use std::process::ExitCode;

use crate::{
    args::{Cli, Command},
    exit::Failure,
};

pub fn dispatch(cli: &Cli) -> Result<ExitCode, Failure> {
    match &cli.command {
        Command::Config(cmd) => config::run(&cli.global, cmd),
    }
}
