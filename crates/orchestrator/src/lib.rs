//! What both binaries share: the configuration (loaded once, then passed in), the pipeline run
//! over injected sources, store and notifiers, and the wiring of the real ones.

pub mod alerts;
pub mod config;
pub mod gaps;
pub mod logs;
pub mod run;
pub mod signals;
pub mod status;
pub mod wiring;

/// Scripted sources and a recording notifier over a real store, for the tests of this crate
/// and of the scheduler.
#[cfg(feature = "testing")]
pub mod testing;

pub use config::{Config, ConfigError, ConfigOrigin, Loaded, Problem, Secrets};
pub use run::{NoProgress, Pipeline, Progress, RunError, RunRequest};
