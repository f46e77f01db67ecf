//! The scheduler: when the pipeline fires (`schedule`, pure fire-time arithmetic), the loop
//! that claims each fire time in the store's ledger and runs the pipeline (`daemon`); it serves
//! `energy-web`'s routes on `schedule.listen`. The `energy-scheduler` binary and the CLI's `schedule`
//! commands call it; the run itself and the configuration are the orchestrator's.
//!
//! ```
//! use energy_scheduler::Schedule;
//!
//! // 06:00 on weekdays in New York, whatever the machine's zone
//! let schedule = Schedule::new("0 6 * * 1-5", chrono_tz::America::New_York).unwrap();
//! let after = "2026-11-27T12:00:00Z".parse().unwrap(); // a Friday
//! let next = schedule.next_after(after).unwrap();
//! assert_eq!(next.to_rfc3339(), "2026-11-30T11:00:00+00:00"); // Monday 06:00 EST
//! ```

pub mod daemon;
pub mod schedule;

pub use daemon::{Daemon, DaemonError, DaemonOptions, serve_from_config};
pub use energy_web::Liveness;
pub use schedule::Schedule;
