//! Integration tests of energy-orchestrator, one binary with a module per area.

mod alerts;
mod config;
mod freshness;
mod run;
mod upstream;
