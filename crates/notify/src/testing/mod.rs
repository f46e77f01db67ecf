//! Test doubles for the channels' far ends (feature `testing`): a local SMTP server that records
//! what it was sent. Used by this crate's tests and by the binaries' end-to-end tests.

pub mod smtp;
