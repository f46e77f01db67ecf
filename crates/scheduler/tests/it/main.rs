//! Integration tests of the scheduler, one binary with a module per area.

mod binary;
mod daemon;
mod replicas;
mod status;
