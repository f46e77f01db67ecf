//! What both binaries share: the configuration (loaded once, then passed in) and, as the run and
//! scheduler issues land, the pipeline run itself and the schedule.

pub mod config;
pub mod run;
pub mod wiring;

pub use config::{Config, ConfigError, ConfigOrigin, Loaded, Problem, Secrets};
pub use run::{NoProgress, Pipeline, Progress, RunError, RunRequest};
