//! The periods a series should have between two of its dates, at its resolution: trading days
//! of its calendar for a daily series, one date every 7 days for a weekly one (the weekday its
//! source dates weeks by), a month's first day for a monthly one. Gaps and gap counts are
//! these, less what is stored.
//!
//! Hourly series are counted by their local dates here until hours are stored as instants.

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::{Resolution, calendar::Calendar};

/// The period dates after `first` up to and including `last` (none when `last` ≤ `first`).
fn after(
    resolution: Resolution,
    calendar: Calendar,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<NaiveDate> {
    match resolution {
        Resolution::Hourly | Resolution::Daily => calendar.trading_days_after(first, last),
        Resolution::Weekly => std::iter::successors(first.checked_add_days(Days::new(7)), |d| {
            d.checked_add_days(Days::new(7))
        })
        .take_while(|d| *d <= last)
        .collect(),
        Resolution::Monthly => {
            let start = first.with_day(1).unwrap_or(first);
            std::iter::successors(start.checked_add_months(Months::new(1)), |d| {
                d.checked_add_months(Months::new(1))
            })
            .take_while(|d| *d <= last)
            .collect()
        }
    }
}

/// Whether `date` is a period a series at `resolution` should have (a trading day for daily
/// series; any stored date of a weekly series; a month's first day).
fn is_period(resolution: Resolution, calendar: Calendar, date: NaiveDate) -> bool {
    match resolution {
        Resolution::Hourly | Resolution::Daily => calendar.is_trading_day(date),
        Resolution::Weekly => true,
        Resolution::Monthly => date.day() == 1,
    }
}

/// How many periods of a history from `first` to `last` holding `stored` values have none:
/// the gap count without reading the dates.
pub fn missing(
    resolution: Resolution,
    calendar: Calendar,
    first: NaiveDate,
    last: NaiveDate,
    stored: u64,
) -> u64 {
    if resolution.is_sub_daily() || resolution == Resolution::Daily {
        return calendar.missing(first, last, stored);
    }
    let periods = after(resolution, calendar, first, last).len() as u64
        + u64::from(is_period(resolution, calendar, first));
    periods.saturating_sub(stored)
}

/// The gaps of a stored history (`dates`, ascending): the periods between its first and its
/// last date that have no value.
pub fn gaps(resolution: Resolution, calendar: Calendar, dates: &[NaiveDate]) -> Vec<NaiveDate> {
    if resolution == Resolution::Daily || resolution.is_sub_daily() {
        return calendar.gaps(dates);
    }
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
        return Vec::new();
    };
    let mut stored = dates.iter().peekable();
    after(resolution, calendar, *first, *last)
        .into_iter()
        .filter(|d| {
            while stored.next_if(|s| *s < d).is_some() {}
            stored.peek() != Some(&d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weekly_gaps_are_missing_weeks_and_a_holiday_friday_is_one() {
        // week-ending Fridays 2026-12-04 .. 2027-01-01; Christmas (the 25th) is missing
        let dates = [
            d("2026-12-04"),
            d("2026-12-11"),
            d("2026-12-18"),
            d("2027-01-01"),
        ];
        assert_eq!(
            gaps(Resolution::Weekly, Calendar::Nymex, &dates),
            [d("2026-12-25")]
        );
        assert_eq!(
            missing(
                Resolution::Weekly,
                Calendar::Nymex,
                d("2026-12-04"),
                d("2027-01-01"),
                4
            ),
            1
        );
    }

    #[test]
    fn monthly_gaps_are_missing_months() {
        let dates = [d("2025-11-01"), d("2026-02-01"), d("2026-03-01")];
        assert_eq!(
            gaps(Resolution::Monthly, Calendar::Weekdays, &dates),
            [d("2025-12-01"), d("2026-01-01")]
        );
        assert_eq!(
            missing(
                Resolution::Monthly,
                Calendar::Weekdays,
                d("2025-11-01"),
                d("2026-03-01"),
                3
            ),
            2
        );
        // counted from a mid-month start: that month is not due
        assert_eq!(
            missing(
                Resolution::Monthly,
                Calendar::Weekdays,
                d("2025-11-15"),
                d("2026-03-01"),
                3
            ),
            1
        );
    }

    #[test]
    fn daily_series_keep_their_trading_calendar() {
        // Thanksgiving 2026 is no gap on NYMEX
        let dates = [d("2026-11-25"), d("2026-11-27")];
        assert!(gaps(Resolution::Daily, Calendar::Nymex, &dates).is_empty());
        assert_eq!(
            gaps(Resolution::Daily, Calendar::Weekdays, &dates),
            [d("2026-11-26")]
        );
    }
}
