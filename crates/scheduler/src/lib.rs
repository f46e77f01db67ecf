//! The scheduler: when the pipeline fires (`schedule`, pure fire-time arithmetic), the loop
//! that claims each fire time in the store's ledger and runs the pipeline (`daemon`), and the
//! endpoints it serves (`http`). The `energy-scheduler` binary and the CLI's `schedule`
//! commands call it; the run itself and the configuration are the orchestrator's.

pub mod daemon;
pub mod http;
pub mod liveness;
pub mod schedule;

pub use daemon::{Daemon, DaemonError, DaemonOptions, serve_from_config};
pub use liveness::Liveness;
pub use schedule::Schedule;
