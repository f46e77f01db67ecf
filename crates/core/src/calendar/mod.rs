//! Market calendars: which days a market trades (and its prices are published for), with
//! holidays computed by rule for any year, so that freshness and gaps count trading days, not
//! weekdays.
//!
//! - `nymex`: CME/NYMEX energy settlements (WTI, Henry Hub, `CL=F`, `NG=F`). No settlement on
//!   New Year's Day, Martin Luther King Jr. Day, Presidents' Day, Good Friday, Memorial Day,
//!   Juneteenth (from 2022), Independence Day, Labor Day, Thanksgiving and Christmas. A holiday
//!   on a Saturday is observed the Friday before and one on a Sunday the Monday after; except
//!   New Year's Day on a Saturday, which is not observed (the year's last trading day stays).
//! - `ice_futures_europe`: ICE Futures Europe (Brent futures, `BZ=F`), closed on New Year's Day,
//!   Good Friday, Christmas Day and Boxing Day (each, on a weekend, on the next free weekday);
//!   it trades on the other UK bank holidays and on US holidays.
//! - `uk_bank_holidays`: England and Wales bank holidays, which the London assessments of Brent
//!   spot (EIA's `RBRTE`, FRED's `DCOILBRENTEU`) follow: also Easter Monday, the early May, spring
//!   and summer bank holidays, and the one-off days proclaimed (2020-05-08 moved, 2022's jubilee
//!   and state funeral, 2023's coronation).
//! - `us_federal`: the US federal holidays (5 U.S.C. 6103, as OPM lists them): the NYMEX ones
//!   without Good Friday, plus Columbus Day and Veterans Day, with Juneteenth from 2021. EIA's
//!   weekly releases move a day later in a week with one of these; and EIA's daily spot series
//!   have no value on Columbus and Veterans Day since 2022.
//! - `weekdays`: Monday to Friday, for a market without a calendar here.

use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// A market's trading calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calendar {
    Nymex,
    IceFuturesEurope,
    UkBankHolidays,
    UsFederal,
    Weekdays,
}

impl Calendar {
    /// Every calendar, for documentation and `config check`'s message.
    pub const ALL: [Calendar; 5] = [
        Calendar::Nymex,
        Calendar::IceFuturesEurope,
        Calendar::UkBankHolidays,
        Calendar::UsFederal,
        Calendar::Weekdays,
    ];

    /// The spelling in configuration.
    pub fn name(&self) -> &'static str {
        match self {
            Calendar::Nymex => "nymex",
            Calendar::IceFuturesEurope => "ice_futures_europe",
            Calendar::UkBankHolidays => "uk_bank_holidays",
            Calendar::UsFederal => "us_federal",
            Calendar::Weekdays => "weekdays",
        }
    }

    /// The weekdays of `year` on which the market is closed, with the holiday's name, in date
    /// order.
    pub fn holidays(&self, year: i32) -> Vec<(NaiveDate, &'static str)> {
        let mut out = match self {
            Calendar::Nymex => nymex(year),
            Calendar::IceFuturesEurope => ice_futures_europe(year),
            Calendar::UkBankHolidays => uk_bank_holidays(year),
            Calendar::UsFederal => us_federal(year),
            Calendar::Weekdays => Vec::new(),
        };
        out.retain(|(d, _)| d.year() == year && is_weekday(*d));
        out.sort();
        out.dedup_by_key(|(d, _)| *d);
        out
    }

    /// Whether the market trades on `date`.
    pub fn is_trading_day(&self, date: NaiveDate) -> bool {
        is_weekday(date) && !self.holidays(date.year()).iter().any(|(d, _)| *d == date)
    }

    /// The last trading day strictly before `date`.
    pub fn previous_trading_day(&self, date: NaiveDate) -> NaiveDate {
        let mut d = date;
        loop {
            d = d.pred_opt().unwrap_or(NaiveDate::MIN);
            if d == NaiveDate::MIN || self.is_trading_day(d) {
                return d;
            }
        }
    }

    /// The trading days after `from` up to and including `to`, in order (none when `to` is not
    /// after `from`).
    pub fn trading_days_after(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        // the holidays of the year being walked, computed once a year rather than once a day
        let mut year: Option<(i32, Vec<NaiveDate>)> = None;
        let mut d = from;
        while d < to {
            d = d.checked_add_days(Days::new(1)).unwrap_or(to);
            if !is_weekday(d) {
                continue;
            }
            if year.as_ref().is_none_or(|(y, _)| *y != d.year()) {
                let days = self.holidays(d.year()).into_iter().map(|h| h.0).collect();
                year = Some((d.year(), days));
            }
            if year.as_ref().is_some_and(|(_, days)| !days.contains(&d)) {
                out.push(d);
            }
        }
        out
    }
}

impl Calendar {
    /// How many trading days of a history from `first` to `last` (ascending, one value a date)
    /// holding `stored` values have none: the gap count without reading the dates (exact
    /// while nothing is stored on a non-trading day).
    pub fn missing(&self, first: NaiveDate, last: NaiveDate, stored: u64) -> u64 {
        let days = self.trading_days_after(first, last).len() as u64
            + u64::from(self.is_trading_day(first));
        days.saturating_sub(stored)
    }

    /// The gaps of a stored history: the trading days between its first and its last date
    /// (`dates`, ascending) that have no value. A holiday is no gap; nor is anything before
    /// the first date or after the last.
    pub fn gaps(&self, dates: &[NaiveDate]) -> Vec<NaiveDate> {
        let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
            return Vec::new();
        };
        let mut stored = dates.iter().peekable();
        self.trading_days_after(*first, *last)
            .into_iter()
            .filter(|d| {
                while stored.next_if(|s| *s < d).is_some() {}
                stored.peek() != Some(&d)
            })
            .collect()
    }
}

impl std::fmt::Display for Calendar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Calendar {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(Calendar::name).collect();
                format!("unknown calendar `{s}`; one of {}", names.join(", "))
            })
    }
}

fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// The `n`th (from 1) `weekday` of a month.
fn nth(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).unwrap_or(NaiveDate::MIN)
}

/// The last `weekday` of a month.
fn last(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, 5)
        .or_else(|| NaiveDate::from_weekday_of_month_opt(year, month, weekday, 4))
        .unwrap_or(NaiveDate::MIN)
}

/// Easter Sunday (Gregorian), by the anonymous algorithm (Meeus/Jones/Butcher).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    date(year, month as u32, day as u32)
}

fn good_friday(year: i32) -> NaiveDate {
    easter(year) - Days::new(2)
}

/// A US holiday on a weekend: Saturday's is observed on Friday, Sunday's on Monday.
fn us_observed(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d - Days::new(1),
        Weekday::Sun => d + Days::new(1),
        _ => d,
    }
}

fn nymex(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut out = vec![
        (nth(year, 1, Weekday::Mon, 3), "Martin Luther King Jr. Day"),
        (nth(year, 2, Weekday::Mon, 3), "Presidents' Day"),
        (good_friday(year), "Good Friday"),
        (last(year, 5, Weekday::Mon), "Memorial Day"),
        (us_observed(date(year, 7, 4)), "Independence Day"),
        (nth(year, 9, Weekday::Mon, 1), "Labor Day"),
        (nth(year, 11, Weekday::Thu, 4), "Thanksgiving Day"),
        (us_observed(date(year, 12, 25)), "Christmas Day"),
    ];
    // New Year's Day on a Saturday is not moved to the last day of the year before
    let new_year = date(year, 1, 1);
    if new_year.weekday() != Weekday::Sat {
        out.push((us_observed(new_year), "New Year's Day"));
    }
    if year >= 2022 {
        out.push((us_observed(date(year, 6, 19)), "Juneteenth"));
    }
    out
}

fn us_federal(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut out = vec![
        (us_observed(date(year, 1, 1)), "New Year's Day"),
        // next year's New Year's Day on a Saturday is observed on this year's 31 December
        (us_observed(date(year + 1, 1, 1)), "New Year's Day"),
        (nth(year, 1, Weekday::Mon, 3), "Martin Luther King Jr. Day"),
        (nth(year, 2, Weekday::Mon, 3), "Washington's Birthday"),
        (last(year, 5, Weekday::Mon), "Memorial Day"),
        (us_observed(date(year, 7, 4)), "Independence Day"),
        (nth(year, 9, Weekday::Mon, 1), "Labor Day"),
        (nth(year, 10, Weekday::Mon, 2), "Columbus Day"),
        (us_observed(date(year, 11, 11)), "Veterans Day"),
        (nth(year, 11, Weekday::Thu, 4), "Thanksgiving Day"),
        (us_observed(date(year, 12, 25)), "Christmas Day"),
    ];
    if year >= 2021 {
        out.push((us_observed(date(year, 6, 19)), "Juneteenth"));
    }
    out
}

/// A UK holiday on a weekend moves to the next weekday not already a holiday.
fn uk_substitutes(days: &[(NaiveDate, &'static str)]) -> Vec<(NaiveDate, &'static str)> {
    let mut out: Vec<(NaiveDate, &'static str)> = Vec::new();
    for (d, name) in days {
        let mut day = *d;
        while !is_weekday(day) || out.iter().any(|(taken, _)| *taken == day) {
            day = day + Days::new(1);
        }
        out.push((day, name));
    }
    out
}

fn ice_futures_europe(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut out = uk_substitutes(&[(date(year, 1, 1), "New Year's Day")]);
    out.push((good_friday(year), "Good Friday"));
    out.extend(uk_substitutes(&[
        (date(year, 12, 25), "Christmas Day"),
        (date(year, 12, 26), "Boxing Day"),
    ]));
    out
}

fn uk_bank_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut out = ice_futures_europe(year);
    out.push((easter(year) + Days::new(1), "Easter Monday"));
    // the early May bank holiday moved to VE Day's 75th anniversary in 2020
    out.push(match year {
        2020 => (date(2020, 5, 8), "Early May bank holiday (VE Day)"),
        _ => (nth(year, 5, Weekday::Mon, 1), "Early May bank holiday"),
    });
    // the spring bank holiday moved for the jubilees of 2002, 2012 and 2022
    match year {
        2002 => out.push((date(2002, 6, 4), "Spring bank holiday")),
        2012 => out.push((date(2012, 6, 4), "Spring bank holiday")),
        2022 => out.push((date(2022, 6, 2), "Spring bank holiday")),
        _ => out.push((last(year, 5, Weekday::Mon), "Spring bank holiday")),
    }
    out.push((last(year, 8, Weekday::Mon), "Summer bank holiday"));
    for (d, name) in [
        (date(2002, 6, 3), "Golden Jubilee"),
        (date(2011, 4, 29), "Royal wedding"),
        (date(2012, 6, 5), "Diamond Jubilee"),
        (date(2022, 6, 3), "Platinum Jubilee"),
        (date(2022, 9, 19), "State funeral of Queen Elizabeth II"),
        (date(2023, 5, 8), "Coronation of King Charles III"),
    ] {
        if d.year() == year {
            out.push((d, name));
        }
    }
    out
}
