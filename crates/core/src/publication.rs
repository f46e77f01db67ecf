//! When a source publishes: the latest market date it should have out by a given moment, so that
//! freshness is judged against what could be stored rather than against the calendar.
//!
//! Two shapes, written in configuration as one line:
//! - `daily after 18:00 America/New_York`: each trading day's value is out that day at the time
//!   given (Yahoo's daily bar after the settlement).
//! - `weekly wednesday 10:30 America/New_York through monday`: one release a week on that day
//!   and time, with the trading days up to the `through` day of the release week (EIA's spot
//!   prices with the Weekly Petroleum Status Report). The release moves a day later in a week
//!   with a US federal holiday on or before its day, and on past a weekend or holiday.

use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::calendar::Calendar;

/// How a series is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Publication {
    /// Every trading day, `at` that day's local time in `zone`.
    Daily { at: NaiveTime, zone: Tz },
    /// Once a week on `day` at `at` (local, `zone`), with the trading days through `through`
    /// of the same week.
    Weekly {
        day: Weekday,
        at: NaiveTime,
        zone: Tz,
        through: Weekday,
    },
}

/// One release: when it is due and the latest market date it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    pub due: DateTime<Utc>,
    pub covers: NaiveDate,
}

impl Publication {
    /// The zone its times are in.
    pub fn zone(&self) -> Tz {
        match self {
            Publication::Daily { zone, .. } | Publication::Weekly { zone, .. } => *zone,
        }
    }

    /// The latest release due at or before `now`, for a market trading on `calendar`.
    pub fn latest_release(&self, now: DateTime<Utc>, calendar: Calendar) -> Release {
        let today = now.with_timezone(&self.zone()).date_naive();
        match *self {
            Publication::Daily { at, zone } => {
                let day = if calendar.is_trading_day(today) && at_time(zone, today, at) <= now {
                    today
                } else {
                    calendar.previous_trading_day(today)
                };
                daily(day, at, zone)
            }
            Publication::Weekly { .. } => {
                let monday = monday_of(today);
                let this_week = self.weekly(monday, calendar);
                if this_week.due <= now {
                    this_week
                } else {
                    self.weekly(monday - Days::new(7), calendar)
                }
            }
        }
    }

    /// The release before `release`.
    pub fn previous(&self, release: &Release, calendar: Calendar) -> Release {
        match *self {
            Publication::Daily { at, zone } => {
                daily(calendar.previous_trading_day(release.covers), at, zone)
            }
            Publication::Weekly { zone, .. } => {
                let due_day = release.due.with_timezone(&zone).date_naive();
                self.weekly(monday_of(due_day) - Days::new(7), calendar)
            }
        }
    }

    /// The latest market date that should be stored by `now`.
    pub fn expected(&self, now: DateTime<Utc>, calendar: Calendar) -> NaiveDate {
        self.latest_release(now, calendar).covers
    }

    /// The release of the week starting on `monday`.
    fn weekly(&self, monday: NaiveDate, calendar: Calendar) -> Release {
        let Publication::Weekly {
            day,
            at,
            zone,
            through,
        } = *self
        else {
            return daily(monday, NaiveTime::MIN, self.zone());
        };
        let federal = Calendar::UsFederal;
        let mut release = monday + Days::new(day.num_days_from_monday().into());
        if federal
            .trading_days_after(monday - Days::new(1), release)
            .len()
            < (day.num_days_from_monday() + 1) as usize
        {
            // a federal holiday on a weekday up to the release day: a day later
            release = release + Days::new(1);
        }
        while !federal.is_trading_day(release) {
            release = release + Days::new(1);
        }
        let last = monday + Days::new(through.num_days_from_monday().into());
        let covers = if calendar.is_trading_day(last) {
            last
        } else {
            calendar.previous_trading_day(last)
        };
        Release {
            due: at_time(zone, release, at),
            covers,
        }
    }
}

fn daily(day: NaiveDate, at: NaiveTime, zone: Tz) -> Release {
    Release {
        due: at_time(zone, day, at),
        covers: day,
    }
}

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(day.weekday().num_days_from_monday().into())
}

/// `day` at local `at` in `zone`, as UTC (the earlier instant of an ambiguous time; an hour later
/// for a time the clocks skip).
fn at_time(zone: Tz, day: NaiveDate, at: NaiveTime) -> DateTime<Utc> {
    let local = day.and_time(at);
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

const DAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

fn day_name(day: Weekday) -> &'static str {
    DAYS[day.num_days_from_monday() as usize].0
}

impl std::fmt::Display for Publication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Publication::Daily { at, zone } => {
                write!(f, "daily after {} {}", at.format("%H:%M"), zone.name())
            }
            Publication::Weekly {
                day,
                at,
                zone,
                through,
            } => write!(
                f,
                "weekly {} {} {} through {}",
                day_name(*day),
                at.format("%H:%M"),
                zone.name(),
                day_name(*through)
            ),
        }
    }
}

const FORMS: &str = "`daily after HH:MM <IANA zone>` or \
                     `weekly <day> HH:MM <IANA zone> through <day>`";

impl FromStr for Publication {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: String| format!("invalid publication rule `{s}`: {why}; expected {FORMS}");
        let time = |t: &str| {
            NaiveTime::parse_from_str(t, "%H:%M")
                .map_err(|_| bad(format!("`{t}` is not a time HH:MM")))
        };
        let zone = |z: &str| {
            z.parse::<Tz>()
                .map_err(|_| bad(format!("`{z}` is not an IANA time zone")))
        };
        let day = |d: &str| {
            DAYS.iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(d))
                .map(|(_, w)| *w)
                .ok_or_else(|| bad(format!("`{d}` is not a day of the week")))
        };
        let words: Vec<&str> = s.split_whitespace().collect();
        match words.as_slice() {
            ["daily", "after", t, z] => Ok(Publication::Daily {
                at: time(t)?,
                zone: zone(z)?,
            }),
            ["weekly", d, t, z, "through", last] => {
                let (day, through) = (day(d)?, day(last)?);
                if through.num_days_from_monday() > day.num_days_from_monday() {
                    return Err(bad(format!(
                        "a release on {} cannot carry {}, which comes after it",
                        day_name(day),
                        day_name(through)
                    )));
                }
                Ok(Publication::Weekly {
                    day,
                    at: time(t)?,
                    zone: zone(z)?,
                    through,
                })
            }
            _ => Err(bad("unrecognised form".to_owned())),
        }
    }
}

impl Serialize for Publication {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Publication {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
