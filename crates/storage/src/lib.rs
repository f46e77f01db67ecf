//! The time-series store. Only this crate knows the database; callers speak `energy-core` types.

mod config;

pub use config::{Backend, DatabaseConfig, DatabaseUrl};
