//! End-to-end tests of the `energy-pipeline` binary: real process, real files, real exit codes.

mod browser;
mod calendars;
mod config;
mod crosscheck;
mod export;
mod facets;
mod hostile;
// the benchmarks' peak-memory reading, shared with the tests that check memory
mod hygiene;
#[path = "../../benches/common/memory.rs"]
mod memory;
mod pipeline;
mod redaction;
mod refusals;
mod resolutions;
mod run;
mod schedule;
mod status;
mod support;
