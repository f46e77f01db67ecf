//! One published value: a commodity's price from one source on one market date.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{CommodityCode, Price, SourceId};

/// A daily price as a provider published it.
///
/// `date` is the market's own calendar date (the trading day the price belongs to), never a UTC
/// date derived from a timestamp. The key of an observation is (commodity, source, date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub commodity: CommodityCode,
    pub source: SourceId,
    pub date: NaiveDate,
    pub value: Price,
    pub unit: String,
}

impl Observation {
    pub fn new(
        commodity: CommodityCode,
        source: SourceId,
        date: NaiveDate,
        value: Price,
        unit: impl Into<String>,
    ) -> Self {
        Self {
            commodity,
            source,
            date,
            value,
            unit: unit.into(),
        }
    }
}
