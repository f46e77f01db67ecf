//! Hours in a market's zone: an hourly value is keyed by the UTC instant its hour starts, and
//! belongs to the local date (of the series' zone) of that instant, so a local day has 23, 24
//! or 25 hours. A source's hour label is turned into that instant by its convention (EIA labels
//! an hour by its end), and a label given in local time with its offset is checked against the
//! zone: a wall time the zone never shows with that offset (02:30 on 2024-03-10 in New York) is
//! an error, never shifted silently.
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use chrono_tz::America::New_York;
//! use energy_core::hours::{HourConvention, hours_in, local_date};
//!
//! let d = |s: &str| s.parse::<NaiveDate>().unwrap();
//! assert_eq!(hours_in(d("2024-03-10"), d("2024-03-10"), New_York).count(), 23);
//! assert_eq!(hours_in(d("2024-11-02"), d("2024-11-04"), New_York).count(), 73);
//! // EIA's `2024-03-10T07` (UTC, hour ending) is the hour that starts at 06:00 UTC,
//! // 01:00 EST: the 10th in New York
//! let start = HourConvention::Ending.start(Utc.with_ymd_and_hms(2024, 3, 10, 7, 0, 0).unwrap());
//! assert_eq!(start, Utc.with_ymd_and_hms(2024, 3, 10, 6, 0, 0).unwrap());
//! assert_eq!(local_date(start, New_York), d("2024-03-10"));
//! ```

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;

/// How a source labels an hour: by the instant it starts or the instant it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HourConvention {
    /// `T07` is the hour 07:00–08:00.
    Beginning,
    /// `T07` is the hour 06:00–07:00 (EIA's convention for its hourly grid data).
    Ending,
}

impl HourConvention {
    /// The instant the hour labelled `label` starts.
    pub fn start(self, label: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            HourConvention::Beginning => label,
            HourConvention::Ending => label - Duration::hours(1),
        }
    }

    /// The name used in documentation and messages.
    pub fn name(self) -> &'static str {
        match self {
            HourConvention::Beginning => "hour-beginning",
            HourConvention::Ending => "hour-ending",
        }
    }
}

/// A local wall time given with an offset that `zone` does not show at that instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{local} at UTC{offset} is not a time {zone} shows (there it is {actual} at UTC{actual_offset}): \
     a local time that does not exist or a wrong offset"
)]
pub struct NonexistentLocalTime {
    pub local: NaiveDateTime,
    pub offset: FixedOffset,
    pub zone: Tz,
    pub actual: NaiveDateTime,
    pub actual_offset: FixedOffset,
}

/// The instant of `local` wall time at `offset`, checked to be what `zone` shows then.
pub fn local_instant(
    local: NaiveDateTime,
    offset: FixedOffset,
    zone: Tz,
) -> Result<DateTime<Utc>, NonexistentLocalTime> {
    let instant = (local - Duration::seconds(offset.local_minus_utc().into())).and_utc();
    let actual_offset = zone.offset_from_utc_datetime(&instant.naive_utc()).fix();
    if actual_offset == offset {
        Ok(instant)
    } else {
        Err(NonexistentLocalTime {
            local,
            offset,
            zone,
            actual: instant.with_timezone(&zone).naive_local(),
            actual_offset,
        })
    }
}

/// The market-local date of `instant` in `zone`.
pub fn local_date(instant: DateTime<Utc>, zone: Tz) -> NaiveDate {
    instant.with_timezone(&zone).date_naive()
}

/// The first instant of the local day `date` in `zone`: its midnight, or the first moment after
/// it when the zone skips midnight that day (the earlier one when midnight repeats). None only
/// beyond the calendar's range.
pub fn day_start(date: NaiveDate, zone: Tz) -> Option<DateTime<Utc>> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    // a skipped midnight: the day starts where the gap ends, found a quarter-hour at a time
    // (every zone's offsets are whole quarter-hours; no gap lasts a day)
    (0..24 * 4).find_map(|quarter| {
        let wall = midnight + Duration::minutes(15 * quarter);
        match zone.from_local_datetime(&wall) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(earliest, _) => Some(earliest.with_timezone(&Utc)),
            LocalResult::None => None,
        }
    })
}

/// The UTC starts of the hours whose start falls on a local date from `first` to `last` in
/// `zone`, in order: 23 for the day clocks go forward, 25 for the day they go back. (In a zone
/// whose offset is not whole hours the hours are still UTC hours: each belongs to the local
/// date its start falls on.)
pub fn hours_in(
    first: NaiveDate,
    last: NaiveDate,
    zone: Tz,
) -> impl Iterator<Item = DateTime<Utc>> {
    let start = day_start(first, zone).map(ceil_hour);
    let end = last.succ_opt().and_then(|next| day_start(next, zone));
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        _ => (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MIN_UTC),
    };
    std::iter::successors(Some(start), |h| h.checked_add_signed(Duration::hours(1)))
        .take_while(move |h| *h < end)
}

/// The hours of the local day `date` in `zone`: 23, 24 or 25.
pub fn hours_of_day(date: NaiveDate, zone: Tz) -> usize {
    hours_in(date, date, zone).count()
}

/// `instant` rounded up to a whole UTC hour.
fn ceil_hour(instant: DateTime<Utc>) -> DateTime<Utc> {
    let floor = instant
        .with_nanosecond(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_minute(0))
        .unwrap_or(instant);
    if floor == instant {
        instant
    } else {
        floor + Duration::hours(1)
    }
}

#[cfg(test)]
mod tests;
