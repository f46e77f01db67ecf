//! The domain of the energy price pipeline: what a commodity, a source, an observation, a run mode
//! and a run report are, with their invariants enforced by constructors.
//!
//! This crate does no IO and needs no async runtime, so every other crate (and the machine-learning
//! work that reuses the store) can depend on it freely.
//!
//! ```
//! use energy_core::{Price, calendar::Calendar};
//!
//! // a price is the decimal as published, negative ones included
//! let settle = Price::parse("-36.98").unwrap();
//! assert!(settle.is_negative());
//! assert_eq!(settle.to_string(), "-36.98");
//! assert_eq!(Price::parse("25.780").unwrap(), Price::parse("25.78").unwrap());
//! // Good Friday 2020: NYMEX did not trade
//! assert!(!Calendar::Nymex.is_trading_day("2020-04-10".parse().unwrap()));
//! ```

pub mod bounds;
pub mod calendar;
mod clock;
mod commodity;
pub mod crosscheck;
pub mod display;
mod error;
mod failure;
mod freshness;
pub mod hours;
mod mode;
mod observation;
pub mod periods;
mod price;
pub mod publication;
mod rejection;
mod report;
mod resolution;
mod rule;
mod secret;
mod source;
pub mod text;
pub mod validation;

pub use clock::{Clock, system_clock};
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
pub use resolution::{RESOLUTIONS, Resolution, UnknownResolution};
pub use secret::{Secret, redact, redact_url_credentials};
pub use source::SourceId;
