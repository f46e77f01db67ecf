//! Whether a series is up to date: its age counted in its market's trading days, so that Monday
//! morning does not call Friday's price stale, nor the day after a holiday the day before's.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// FRESH or STALE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Freshness {
    Fresh,
    Stale,
}

impl Freshness {
    pub fn name(&self) -> &'static str {
        match self {
            Freshness::Fresh => "FRESH",
            Freshness::Stale => "STALE",
        }
    }

    /// STALE when more than `stale_after_days` trading days of `calendar` have passed since
    /// `latest`.
    pub fn of(
        latest: NaiveDate,
        today: NaiveDate,
        calendar: Calendar,
        stale_after_days: u32,
    ) -> Self {
        if trading_day_age(latest, today, calendar) > stale_after_days {
            Freshness::Stale
        } else {
            Freshness::Fresh
        }
    }
}

/// Trading days of `calendar` after `latest` up to and including `today`; 0 when `latest` is
/// today or later.
pub fn trading_day_age(latest: NaiveDate, today: NaiveDate, calendar: Calendar) -> u32 {
    u32::try_from(calendar.trading_days_after(latest, today).len()).unwrap_or(u32::MAX)
}

/// Weekdays (Monday to Friday) after `latest` up to and including `today`; 0 when `latest` is
/// today or later.
pub fn weekday_age(latest: NaiveDate, today: NaiveDate) -> u32 {
    if latest >= today {
        return 0;
    }
    let days = (today - latest).num_days();
    let (weeks, rest) = (days / 7, days % 7);
    let mut n = (weeks * 5) as u32;
    let mut d = latest;
    for _ in 0..rest {
        d = d.checked_add_days(Days::new(1)).unwrap_or(d);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weekends_do_not_age_a_series() {
        // Friday 2026-11-20
        assert_eq!(weekday_age(d("2026-11-20"), d("2026-11-20")), 0);
        assert_eq!(weekday_age(d("2026-11-20"), d("2026-11-21")), 0); // Saturday
        assert_eq!(weekday_age(d("2026-11-20"), d("2026-11-22")), 0); // Sunday
        assert_eq!(weekday_age(d("2026-11-20"), d("2026-11-23")), 1); // Monday
        assert_eq!(weekday_age(d("2026-11-20"), d("2026-11-24")), 2);
        assert_eq!(weekday_age(d("2026-11-20"), d("2026-11-27")), 5);
        assert_eq!(weekday_age(d("2026-11-20"), d("2026-12-04")), 10);
        assert_eq!(weekday_age(d("2026-11-25"), d("2026-11-20")), 0);
    }

    #[test]
    fn monday_morning_does_not_call_fridays_price_stale() {
        let friday = d("2026-11-20");
        assert_eq!(
            Freshness::of(friday, d("2026-11-23"), Calendar::Weekdays, 2),
            Freshness::Fresh
        ); // Monday
        assert_eq!(
            Freshness::of(friday, d("2026-11-24"), Calendar::Weekdays, 2),
            Freshness::Fresh
        ); // Tuesday: 2
        assert_eq!(
            Freshness::of(friday, d("2026-11-25"), Calendar::Weekdays, 2),
            Freshness::Stale
        ); // Wednesday: 3
        // a Wednesday price: Friday is 2 weekdays on, Monday 3
        let wednesday = d("2026-11-18");
        assert_eq!(
            Freshness::of(wednesday, d("2026-11-20"), Calendar::Weekdays, 2),
            Freshness::Fresh
        );
        assert_eq!(
            Freshness::of(wednesday, d("2026-11-22"), Calendar::Weekdays, 2),
            Freshness::Fresh
        ); // Sunday
        assert_eq!(
            Freshness::of(wednesday, d("2026-11-23"), Calendar::Weekdays, 2),
            Freshness::Stale
        );
        assert_eq!(
            Freshness::of(wednesday, d("2026-11-19"), Calendar::Weekdays, 0),
            Freshness::Stale
        );
        assert_eq!(
            Freshness::of(wednesday, d("2026-11-18"), Calendar::Weekdays, 0),
            Freshness::Fresh
        );
    }

    #[test]
    fn a_holiday_does_not_count() {
        // Thanksgiving 2026 (Thursday 26th) on NYMEX: Wednesday's price is 1 trading day old on
        // Friday, 2 on Monday, 3 on Tuesday
        let wednesday = d("2026-11-25");
        let nymex = Calendar::Nymex;
        assert_eq!(trading_day_age(wednesday, d("2026-11-27"), nymex), 1);
        assert_eq!(trading_day_age(wednesday, d("2026-11-30"), nymex), 2);
        assert_eq!(
            Freshness::of(wednesday, d("2026-11-30"), nymex, 2),
            Freshness::Fresh
        );
        assert_eq!(
            Freshness::of(wednesday, d("2026-12-01"), nymex, 2),
            Freshness::Stale
        );
        // the same dates by weekdays: stale a day earlier
        assert_eq!(
            Freshness::of(wednesday, d("2026-11-30"), Calendar::Weekdays, 2),
            Freshness::Stale
        );
    }
}
