//! What the configuration refuses: a run request's commodity or source that is not
//! configured, a backfill window that is not allowed, a cron expression that cannot be used.
//! Usage errors (exit 2) for the binaries; each message names what was asked and why.

use chrono::NaiveDate;
use energy_core::{CommodityCode, DomainError, SourceId};

/// A `--commodity` or `--source` that is not configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("unknown commodity {commodity}: configured are {configured}")]
    UnknownCommodity {
        commodity: CommodityCode,
        /// The configured commodities, comma-separated.
        configured: String,
    },
    #[error("unknown source {name}: known are {known}")]
    UnknownSource {
        name: SourceId,
        /// The known sources, comma-separated.
        known: String,
    },
}

/// A backfill window that cannot be asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error(
        "--start-date {start} is after today ({today} in the markets' time zones): nothing is published for it yet"
    )]
    StartsAfterToday { start: NaiveDate, today: NaiveDate },
    #[error(transparent)]
    Invalid(#[from] DomainError),
}

/// A cron expression that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error(
        "invalid cron expression {expr:?}: expected 5 fields (min hour dom month dow) or 6 (sec min hour dom month dow), found {found}"
    )]
    FieldCount { expr: String, found: usize },
    #[error("invalid cron expression {expr:?}: {reason}")]
    Syntax { expr: String, reason: String },
    #[error(
        "cron expression {expr:?} never fires (no such day in any year, e.g. February 30th); fix its day of month or month"
    )]
    NeverFires { expr: String },
}
