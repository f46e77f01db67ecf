//! The one error type of the domain: a value that breaks an invariant.

use thiserror::Error;

/// A value that does not satisfy a domain invariant. Each variant names the offending input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error(
        "invalid commodity code {0:?}: use 1 to 32 upper-case letters, digits or '_', starting with a letter (e.g. WTI)"
    )]
    InvalidCommodityCode(String),
    #[error(
        "invalid source name {0:?}: use 1 to 32 lower-case letters, digits, '_' or '-', starting with a letter (e.g. eia)"
    )]
    InvalidSourceId(String),
    #[error("invalid price {0:?}: expected a decimal number such as 25.78 or -36.98")]
    InvalidPrice(String),
    #[error("price {0} cannot be represented exactly (not finite or too many digits)")]
    UnrepresentablePrice(String),
    #[error("invalid date window: start {start} is after end {end}")]
    InvalidWindow {
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    },
    #[error("invalid run mode {0:?}: expected incremental, full-refresh or backfill")]
    InvalidRunMode(String),
    #[error("backfill needs a start date (--start-date YYYY-MM-DD)")]
    BackfillWithoutStart,
}
