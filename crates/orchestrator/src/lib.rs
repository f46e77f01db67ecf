//! What both binaries share: the configuration (loaded once, then passed in), the pipeline run
//! over injected sources, store and notifiers, and the wiring of the real ones.

pub mod config;
pub mod daemon;
pub mod http;
pub mod logs;
pub mod run;
pub mod schedule;
pub mod status;
pub mod wiring;

pub use config::{Config, ConfigError, ConfigOrigin, Loaded, Problem, Secrets};
pub use run::{NoProgress, Pipeline, Progress, RunError, RunRequest};
