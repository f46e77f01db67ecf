//! Gaps: the periods inside a series' stored history (between its first and its last stored
//! date) that have no value: trading days of its calendar for a daily series (a holiday is no
//! gap), weeks of a weekly one, months of a monthly one.

use chrono::NaiveDate;
use energy_core::{CommodityCode, Resolution, SourceId, calendar::Calendar};
use energy_storage::{SeriesDates, Store, StoreError};
use serde::Serialize;

use crate::Config;

/// One stored series and its gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeriesGaps {
    pub commodity: CommodityCode,
    pub source: SourceId,
    /// How often the series has a value: what a gap is a period of.
    pub resolution: Resolution,
    /// The calendar the gaps of a daily series are judged on.
    pub calendar: Calendar,
    /// The first and the last stored date.
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// Stored values.
    pub stored: u64,
    /// Periods between `first` and `last` without a value, in order.
    pub gaps: Vec<NaiveDate>,
}

/// The gaps of every stored series of `commodities` and `sources` (all when empty), in
/// (commodity, source) order. Reads only the stored dates, in one pass down the primary key.
pub async fn find(
    config: &Config,
    store: &Store,
    commodities: &[CommodityCode],
    sources: &[SourceId],
) -> Result<Vec<SeriesGaps>, StoreError> {
    Ok(store
        .history()
        .dates(commodities, sources)
        .await?
        .into_iter()
        .filter_map(
            |SeriesDates {
                 commodity,
                 source,
                 dates,
             }| {
                let (first, last) = (*dates.first()?, *dates.last()?);
                let calendar = config.calendar(&commodity, &source);
                let resolution = config.resolution(&commodity);
                Some(SeriesGaps {
                    gaps: energy_core::periods::gaps(resolution, calendar, &dates),
                    resolution,
                    stored: dates.len() as u64,
                    calendar,
                    first,
                    last,
                    commodity,
                    source,
                })
            },
        )
        .collect())
}
