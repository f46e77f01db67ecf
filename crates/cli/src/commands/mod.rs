//! One module per command; each loads the configuration, does its work and returns an exit code.

mod config;
mod export;
mod gaps;
mod notify;
mod run;
mod runs;
mod schedule;
mod serve;
mod status;

use std::process::ExitCode;

use crate::{
    args::{Cli, Command, NotifyCommand},
    exit::Failure,
};

pub(crate) fn dispatch(cli: &Cli) -> Result<ExitCode, Failure> {
    match &cli.command {
        Command::Run(args) => run::run(&cli.global, args),
        Command::Status(args) => status::run(&cli.global, args),
        Command::Runs(args) => runs::run(&cli.global, args),
        Command::Export(args) => export::run(&cli.global, args),
        Command::Gaps(args) => gaps::run(&cli.global, args),
        Command::Schedule(cmd) => schedule::run(&cli.global, cmd),
        Command::Serve(args) => serve::run(&cli.global, args),
        Command::Notify(NotifyCommand::Test) => notify::test(&cli.global),
        Command::Config(cmd) => config::run(&cli.global, cmd),
    }
}

/// The async runtime for commands that talk to the database or the providers.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Operational(anyhow::anyhow!("cannot start the async runtime: {e}")))
}
