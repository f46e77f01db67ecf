//! The domain of the energy price pipeline: what a commodity, a source, an observation, a run mode
//! and a run report are, with their invariants enforced by constructors.
//!
//! This crate does no IO and needs no async runtime, so every other crate (and the machine-learning
//! work that reuses the store) can depend on it freely.

pub mod bounds;
pub mod calendar;
mod commodity;
pub mod crosscheck;
pub mod display;
mod error;
mod failure;
mod freshness;
mod mode;
mod observation;
mod price;
pub mod publication;
mod rejection;
mod report;
mod rule;
mod secret;
mod source;
pub mod text;
pub mod validation;

pub use commodity::{CommodityCode, CommoditySpec};
pub use error::DomainError;
pub use failure::{BatchError, ErrorKind};
pub use freshness::{Freshness, FreshnessChange, Judgement, trading_day_age, weekday_age};
pub use mode::{DateWindow, ModeKind, RunMode, Trigger};
pub use observation::Observation;
pub use price::Price;
pub use publication::Publication;
pub use rejection::Rejection;
pub use report::{
    CROSS_SOURCE_LISTED, CommodityReport, Counts, NotificationReport, RunReport, RunStatus,
    SourceReport, SourceStatus, quality_score,
};
pub use secret::{Secret, redact};
pub use source::SourceId;
