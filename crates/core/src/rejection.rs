//! A value that was not stored: which rule refused it and why. Rejections are quarantined,
//! never dropped.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{CommodityCode, SourceId, rule::RuleId};

/// One quarantined row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub commodity: CommodityCode,
    pub source: SourceId,
    pub date: NaiveDate,
    /// The value as received, in text (it may not even be a number).
    pub raw_value: String,
    /// The rule that refused it.
    pub rule: RuleId,
    /// Why, for people.
    pub reason: String,
}
