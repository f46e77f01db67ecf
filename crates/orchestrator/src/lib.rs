//! What both binaries share: the configuration (loaded once, then passed in), the pipeline run
//! over injected sources, store and notifiers, and the wiring of the real ones.
//!
//! ```
//! use energy_core::{CommodityCode, SourceId, calendar::Calendar};
//! use energy_orchestrator::Config;
//!
//! // the built-in configuration: three commodities, three sources, their markets' calendars
//! let config = Config::default();
//! let wti = CommodityCode::new("WTI").unwrap();
//! assert!(config.commodities.contains_key(&wti));
//! assert_eq!(config.calendar(&wti, &SourceId::new("eia").unwrap()), Calendar::Nymex);
//! ```

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
pub use run::{FireAttempt, NoProgress, Pipeline, Progress, RunError, RunRequest};
