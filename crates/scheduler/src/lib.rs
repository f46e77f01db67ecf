//! The scheduler: when the pipeline fires (`schedule`, pure fire-time arithmetic), the loop
//! that claims each fire time in the store's ledger and runs the pipeline (`daemon`); it serves
//! `energy-web`'s routes on `schedule.listen`. The `energy-scheduler` binary and the CLI's `schedule`
//! commands call it; the run itself and the configuration are the orchestrator's.

pub mod daemon;
pub mod schedule;

pub use daemon::{Daemon, DaemonError, DaemonOptions, serve_from_config};
pub use energy_web::Liveness;
pub use schedule::Schedule;
