//! How often a series has a value: `hourly`, `daily` (the default), `weekly` or `monthly`, and
//! the period a market date belongs to at each.
//!
//! A daily series has a value per trading day of its calendar; a weekly one per week, dated by
//! the day its source publishes (EIA's week-ending Friday); a monthly one per month, dated by
//! the month's first day. Finer resolutions (15 minutes) would be new variants here.

use std::{fmt, str::FromStr};

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The resolution of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Resolution {
    /// One value per hour, keyed by the UTC instant the hour starts.
    Hourly,
    /// One value per trading day.
    #[default]
    Daily,
    /// One value per week, dated as its source dates it.
    Weekly,
    /// One value per month, dated by the month's first day.
    Monthly,
}

/// Every resolution, finest first.
pub const RESOLUTIONS: [Resolution; 4] = [
    Resolution::Hourly,
    Resolution::Daily,
    Resolution::Weekly,
    Resolution::Monthly,
];

/// A resolution name that is none of [`RESOLUTIONS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown resolution `{0}`: expected one of hourly, daily, weekly, monthly")]
pub struct UnknownResolution(pub String);

impl Resolution {
    /// The name used in configuration, storage and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Resolution::Hourly => "hourly",
            Resolution::Daily => "daily",
            Resolution::Weekly => "weekly",
            Resolution::Monthly => "monthly",
        }
    }

    /// Whether a value covers less than a day (its key is an instant, not a date).
    pub fn is_sub_daily(self) -> bool {
        matches!(self, Resolution::Hourly)
    }

    /// Whether `date` is a valid period date at this resolution: any date for hourly, daily and
    /// weekly series (a weekly source picks its own day), the first of a month for monthly.
    pub fn is_period_date(self, date: NaiveDate) -> bool {
        match self {
            Resolution::Monthly => date.day() == 1,
            _ => true,
        }
    }

    /// The period date `periods` periods before `date` (a week is 7 days, a month a calendar
    /// month; hourly and daily count days). None beyond the calendar's range.
    pub fn periods_before(self, date: NaiveDate, periods: u32) -> Option<NaiveDate> {
        match self {
            Resolution::Hourly | Resolution::Daily => {
                date.checked_sub_days(Days::new(periods.into()))
            }
            Resolution::Weekly => date.checked_sub_days(Days::new(u64::from(periods) * 7)),
            Resolution::Monthly => date
                .with_day(1)
                .and_then(|first| first.checked_sub_months(Months::new(periods))),
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Resolution {
    type Err = UnknownResolution;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RESOLUTIONS
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownResolution(s.to_owned()))
    }
}

impl Serialize for Resolution {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Resolution {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn names_round_trip_and_unknown_ones_say_what_is_accepted() {
        for r in RESOLUTIONS {
            assert_eq!(r.name().parse::<Resolution>().unwrap(), r);
        }
        assert_eq!(Resolution::default(), Resolution::Daily);
        let err = "quarterly".parse::<Resolution>().unwrap_err().to_string();
        assert!(
            err.contains("`quarterly`") && err.contains("monthly"),
            "{err}"
        );
    }

    #[test]
    fn periods_count_back_in_their_own_unit() {
        assert_eq!(
            Resolution::Daily.periods_before(d("2024-03-01"), 1),
            Some(d("2024-02-29"))
        );
        assert_eq!(
            Resolution::Weekly.periods_before(d("2026-11-27"), 2),
            Some(d("2026-11-13"))
        );
        assert_eq!(
            Resolution::Monthly.periods_before(d("2026-03-01"), 13),
            Some(d("2025-02-01"))
        );
        assert!(Resolution::Monthly.is_period_date(d("2026-10-01")));
        assert!(!Resolution::Monthly.is_period_date(d("2026-10-02")));
    }
}
