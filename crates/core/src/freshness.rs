//! Whether a series is up to date: its latest stored date against the date its source should
//! have published by now ([`Publication`]), with the lateness counted in its market's trading
//! days, so that neither a weekly release nor a holiday reads as an outage.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::publication::{Publication, Release};

/// FRESH, LATE or STALE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Freshness {
    /// The latest date the source should have published is stored.
    Fresh,
    /// A release is due and not stored, for no more than the tolerance.
    Late,
    /// Behind for longer than the tolerance, or nothing stored.
    Stale,
}

impl Freshness {
    pub fn name(&self) -> &'static str {
        match self {
            Freshness::Fresh => "FRESH",
            Freshness::Late => "LATE",
            Freshness::Stale => "STALE",
        }
    }
}

/// How far the weekly walk back looks for the oldest missing release: older is STALE anyway.
const MAX_RELEASES_BACK: usize = 400;

/// A series judged at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    pub state: Freshness,
    /// The latest market date the source should have published by then.
    pub expected: NaiveDate,
    /// When the oldest release not stored was due; None when FRESH.
    pub due: Option<DateTime<Utc>>,
    /// Trading days since that release was due (0 on the day it was due); 0 when FRESH.
    pub overdue_days: u32,
}

impl Judgement {
    /// Judges a series whose latest stored date is `latest` at `now`: FRESH when `latest` is
    /// at least the expected date; else LATE while the oldest missing release is due no more
    /// than `tolerance` trading days ago, STALE beyond (and with nothing stored).
    pub fn of(
        latest: Option<NaiveDate>,
        now: DateTime<Utc>,
        rule: &Publication,
        calendar: Calendar,
        tolerance: u32,
    ) -> Self {
        let newest = rule.latest_release(now, calendar);
        let Some(latest) = latest else {
            return Judgement {
                state: Freshness::Stale,
                expected: newest.covers,
                due: Some(newest.due),
                overdue_days: 0,
            };
        };
        if latest >= newest.covers {
            return Judgement {
                state: Freshness::Fresh,
                expected: newest.covers,
                due: None,
                overdue_days: 0,
            };
        }
        let mut oldest: Release = newest;
        let mut walked = 0;
        loop {
            let before = rule.previous(&oldest, calendar);
            if before.covers <= latest || before.due >= oldest.due {
                break;
            }
            oldest = before;
            walked += 1;
            if walked == MAX_RELEASES_BACK {
                break;
            }
        }
        let zone = rule.zone();
        let due_day = oldest.due.with_timezone(&zone).date_naive();
        let today = now.with_timezone(&zone).date_naive();
        let overdue_days = trading_day_age(due_day, today, calendar);
        Judgement {
            state: if overdue_days <= tolerance && walked < MAX_RELEASES_BACK {
                Freshness::Late
            } else {
                Freshness::Stale
            },
            expected: newest.covers,
            due: Some(oldest.due),
            overdue_days,
        }
    }
}

/// A series that went STALE, or came back from it: what a freshness alert announces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreshnessChange {
    pub commodity: crate::CommodityCode,
    pub source: crate::SourceId,
    /// STALE when it went stale; FRESH or LATE when it recovered.
    pub state: Freshness,
    /// The latest stored market date.
    pub latest: Option<NaiveDate>,
    /// The latest market date its source should have published.
    pub expected: NaiveDate,
    /// Trading days since the oldest missing release was due.
    pub overdue_days: u32,
    /// The publication rule judged against.
    pub publication: String,
    /// When it was judged.
    pub judged_at: DateTime<Utc>,
}

impl FreshnessChange {
    /// Whether this announces a recovery.
    pub fn recovered(&self) -> bool {
        self.state != Freshness::Stale
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
    fn a_holiday_does_not_count() {
        // Thanksgiving 2026 (Thursday 26th) on NYMEX: Wednesday's price is 1 trading day old on
        // Friday, 2 on Monday
        let wednesday = d("2026-11-25");
        assert_eq!(
            trading_day_age(wednesday, d("2026-11-27"), Calendar::Nymex),
            1
        );
        assert_eq!(
            trading_day_age(wednesday, d("2026-11-30"), Calendar::Nymex),
            2
        );
        assert_eq!(
            trading_day_age(wednesday, d("2026-11-30"), Calendar::Weekdays),
            3
        );
    }
}
