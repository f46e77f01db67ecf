//! Exit codes: 0 success, 1 run failed or operational error, 2 usage or configuration error,
//! 3 partial success.

use std::{fmt, process::ExitCode};

/// A command that could not do its job, with the exit code that says why.
#[derive(Debug)]
pub enum Failure {
    /// Bad configuration or arguments: exit 2.
    Config(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Config(_) => ExitCode::from(2),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Config(e) => write!(f, "{e:#}"),
        }
    }
}

impl From<energy_orchestrator::ConfigError> for Failure {
    fn from(e: energy_orchestrator::ConfigError) -> Self {
        Failure::Config(e.into())
    }
}
