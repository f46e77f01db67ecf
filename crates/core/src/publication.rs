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
//! - `weekly wednesday 10:30 America/New_York week ending friday`: a weekly series (one value a
//!   week) released on that day and time, its value dated by the `ending` day before the release
//!   (EIA's Weekly Petroleum Status Report: stocks for the week ending the Friday before, out on
//!   Wednesday at 10:30 Eastern, a day later in a week with a federal holiday).
//! - `monthly on day 15 17:00 America/Chicago`: a monthly series released on that day of each
//!   month (the next business day when it is a weekend or federal holiday), carrying the month
//!   before; `lag N` for a series that is N months behind (`lag 0`: the current month).

use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
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
    /// A weekly series: once a week on `day` at `at` (local, `zone`), its value dated by the last
    /// `ending` day before the release day.
    WeekEnding {
        day: Weekday,
        at: NaiveTime,
        zone: Tz,
        ending: Weekday,
    },
    /// A monthly series: on `day` of each month at `at` (local, `zone`; the next business day
    /// when that is not one), with the month `lag` months before the release month.
    Monthly {
        day: u32,
        at: NaiveTime,
        zone: Tz,
        lag: u32,
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
            Publication::Daily { zone, .. }
            | Publication::Weekly { zone, .. }
            | Publication::WeekEnding { zone, .. }
            | Publication::Monthly { zone, .. } => *zone,
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
            Publication::Monthly { .. } => {
                // a release moved past a weekend can fall in the next month: walk back until due
                let mut release = self.monthly(today);
                for _ in 0..3 {
                    if release.due <= now {
                        break;
                    }
                    release = self.previous(&release, calendar);
                }
                release
            }
            Publication::Weekly { .. } | Publication::WeekEnding { .. } => {
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
            Publication::Weekly { zone, .. } | Publication::WeekEnding { zone, .. } => {
                let due_day = release.due.with_timezone(&zone).date_naive();
                self.weekly(monday_of(due_day) - Days::new(7), calendar)
            }
            Publication::Monthly { lag, .. } => {
                // the month the release belongs to is the one after its covered month by `lag`
                let month = release.covers + Months::new(lag);
                self.monthly(previous_month(month))
            }
        }
    }

    /// The latest market date that should be stored by `now`.
    pub fn expected(&self, now: DateTime<Utc>, calendar: Calendar) -> NaiveDate {
        self.latest_release(now, calendar).covers
    }

    /// The release of the week starting on `monday`.
    fn weekly(&self, monday: NaiveDate, calendar: Calendar) -> Release {
        let (day, at, zone, dated) = match *self {
            Publication::Weekly {
                day,
                at,
                zone,
                through,
            } => (day, at, zone, Dated::Through(through)),
            Publication::WeekEnding {
                day,
                at,
                zone,
                ending,
            } => (day, at, zone, Dated::Ending(ending)),
            _ => return daily(monday, NaiveTime::MIN, self.zone()),
        };
        let federal = Calendar::UsFederal;
        let nominal = monday + Days::new(day.num_days_from_monday().into());
        let mut release = nominal;
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
        let covers = match dated {
            Dated::Ending(ending) => {
                let back = (day.num_days_from_monday() + 7 - ending.num_days_from_monday()) % 7;
                nominal - Days::new(u64::from(if back == 0 { 7 } else { back }))
            }
            Dated::Through(through) => {
                let last = monday + Days::new(through.num_days_from_monday().into());
                if calendar.is_trading_day(last) {
                    last
                } else {
                    calendar.previous_trading_day(last)
                }
            }
        };
        Release {
            due: at_time(zone, release, at),
            covers,
        }
    }

    /// The release of the month `in_month` is in.
    fn monthly(&self, in_month: NaiveDate) -> Release {
        let Publication::Monthly { day, at, zone, lag } = *self else {
            return daily(in_month, NaiveTime::MIN, self.zone());
        };
        let first = first_of_month(in_month);
        let last = previous_month(first + Months::new(2)) - Days::new(1);
        let mut release = first.with_day(day).filter(|d| *d <= last).unwrap_or(last);
        while !Calendar::UsFederal.is_trading_day(release) {
            release = release + Days::new(1);
        }
        Release {
            due: at_time(zone, release, at),
            covers: first.checked_sub_months(Months::new(lag)).unwrap_or(first),
        }
    }
}

/// What a weekly release's date is: the last trading day through a day of the release week, or
/// the week-ending day before the release.
enum Dated {
    Through(Weekday),
    Ending(Weekday),
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The first day of the month before `day`'s.
fn previous_month(day: NaiveDate) -> NaiveDate {
    let first = first_of_month(day);
    first.checked_sub_months(Months::new(1)).unwrap_or(first)
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
            Publication::WeekEnding {
                day,
                at,
                zone,
                ending,
            } => write!(
                f,
                "weekly {} {} {} week ending {}",
                day_name(*day),
                at.format("%H:%M"),
                zone.name(),
                day_name(*ending)
            ),
            Publication::Monthly { day, at, zone, lag } => {
                write!(
                    f,
                    "monthly on day {day} {} {}",
                    at.format("%H:%M"),
                    zone.name()
                )?;
                if *lag != 1 {
                    write!(f, " lag {lag}")?;
                }
                Ok(())
            }
        }
    }
}

const FORMS: &str = "`daily after HH:MM <IANA zone>`, \
                     `weekly <day> HH:MM <IANA zone> through <day>`, \
                     `weekly <day> HH:MM <IANA zone> week ending <day>` or \
                     `monthly on day <1-31> HH:MM <IANA zone> [lag <months>]`";

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
            ["weekly", d, t, z, "week", "ending", last] => Ok(Publication::WeekEnding {
                day: day(d)?,
                at: time(t)?,
                zone: zone(z)?,
                ending: day(last)?,
            }),
            ["monthly", "on", "day", n, t, z, rest @ ..] => {
                let day = n
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=31).contains(n))
                    .ok_or_else(|| bad(format!("`{n}` is not a day of the month 1-31")))?;
                let lag = match rest {
                    [] => 1,
                    ["lag", l] => l
                        .parse::<u32>()
                        .ok()
                        .filter(|l| *l <= 24)
                        .ok_or_else(|| bad(format!("`{l}` is not a lag of 0-24 months")))?,
                    _ => return Err(bad("unrecognised form".to_owned())),
                };
                Ok(Publication::Monthly {
                    day,
                    at: time(t)?,
                    zone: zone(z)?,
                    lag,
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
