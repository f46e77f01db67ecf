//! Exit codes: 0 success, 1 run failed or operational error, 2 usage or configuration error,
//! 3 partial success.

use std::{fmt, process::ExitCode};

use energy_core::RunStatus;

/// A command that could not do its job, with the exit code that says why.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad configuration: exit 2.
    Config(anyhow::Error),
    /// Arguments that make no sense together: exit 2.
    Usage(String),
    /// The work could not be done (database unreachable, output closed, …): exit 1.
    Operational(anyhow::Error),
}

impl Failure {
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Config(_) | Failure::Usage(_) => ExitCode::from(2),
            Failure::Operational(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Config(e) | Failure::Operational(e) => write!(f, "{e:#}"),
            Failure::Usage(m) => f.write_str(m),
        }
    }
}

impl From<energy_orchestrator::ConfigError> for Failure {
    fn from(e: energy_orchestrator::ConfigError) -> Self {
        Failure::Config(e.into())
    }
}

impl From<energy_orchestrator::config::SelectionError> for Failure {
    fn from(e: energy_orchestrator::config::SelectionError) -> Self {
        Failure::Usage(e.to_string())
    }
}

impl From<energy_orchestrator::config::WindowError> for Failure {
    fn from(e: energy_orchestrator::config::WindowError) -> Self {
        Failure::Usage(e.to_string())
    }
}

impl From<energy_storage::StoreError> for Failure {
    fn from(e: energy_storage::StoreError) -> Self {
        match e {
            // pointed at nothing: a usage error, like an unknown commodity
            e @ (energy_storage::StoreError::NoSuchDatabase { .. }
            | energy_storage::StoreError::NoSuchDirectory { .. }) => Failure::Usage(e.to_string()),
            // the configuration contradicts what is stored: fixed in the configuration
            e @ energy_storage::StoreError::ResolutionChanged { .. } => Failure::Config(e.into()),
            e => Failure::Operational(e.into()),
        }
    }
}

impl From<energy_orchestrator::RunError> for Failure {
    fn from(e: energy_orchestrator::RunError) -> Self {
        use energy_orchestrator::RunError;
        match e {
            e @ RunError::Selection(_) => Failure::Usage(e.to_string()),
            RunError::Store(e) => e.into(),
            other => Failure::Operational(other.into()),
        }
    }
}

/// The exit code of a finished run.
pub(crate) fn for_run(status: RunStatus) -> ExitCode {
    match status {
        RunStatus::Success => ExitCode::SUCCESS,
        RunStatus::Partial => ExitCode::from(3),
        RunStatus::Failed | RunStatus::Interrupted | RunStatus::Running => ExitCode::from(1),
    }
}
