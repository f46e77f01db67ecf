//! The known providers: their names, defaults, the environment variable holding their key, the
//! User-Agent they are sent, and how to build them. Adding a provider adds one entry here and one module beside this one.

use std::sync::Arc;

use chrono::{NaiveTime, Weekday};
use chrono_tz::America::New_York;
use energy_core::{Publication, Resolution, calendar::Calendar, crosscheck::Instrument};

use crate::{
    ProviderContext, Source, SourceError, eia, fred,
    http::{BROWSER_USER_AGENT, PIPELINE_USER_AGENT},
    yahoo,
};

/// Static facts about one provider.
#[derive(Debug, Clone, Copy)]
pub struct ProviderInfo {
    /// The provider's name in configuration and reports (`sources.<name>`).
    pub name: &'static str,
    /// What it is, for people.
    pub title: &'static str,
    /// Default API root.
    pub base_url: &'static str,
    /// Default series per commodity code.
    pub series: &'static [(&'static str, &'static str)],
    /// The environment variable that holds its API key, if it needs one.
    pub api_key_env: Option<&'static str>,
    /// Default request rate limit.
    pub requests_per_second: f64,
    /// Default number of requests that may go at once before the rate applies.
    pub burst: u32,
    /// The User-Agent its requests carry.
    pub user_agent: &'static str,
    /// Series whose market calendar is not their commodity's, by default.
    pub calendars: &'static [(&'static str, Calendar)],
    /// What its series are: spot prices or front-month futures (cross-source checks compare
    /// copies of one instrument exactly, different instruments within a band).
    pub instrument: Instrument,
    /// When it publishes, by default (README, "How freshness is judged", has the sources).
    pub publication: Publication,
    /// Series published otherwise, by default.
    pub publications: &'static [(&'static str, Publication)],
    /// The resolutions it serves besides daily, each with when a series of it is published by
    /// default (a commodity's entry in `publications` overrides it).
    pub resolutions: &'static [(Resolution, Publication)],

    /// Checks one configured series id.
    pub check_series: fn(&str) -> Result<(), String>,
    /// Builds the source.
    pub build: fn(ProviderContext) -> Result<Arc<dyn Source>, SourceError>,
}

/// Every provider this build knows, in display order.
pub const PROVIDERS: &[ProviderInfo] = &[
    ProviderInfo {
        name: "eia",
        title: "U.S. Energy Information Administration (Open Data API v2)",
        base_url: "https://api.eia.gov",
        series: &[
            ("WTI", "petroleum/pri/spt:RWTC"),
            ("BRENT", "petroleum/pri/spt:RBRTE"),
            ("NATGAS", "natural-gas/pri/fut:RNGWHHD"),
        ],
        api_key_env: Some("EIA_API_KEY"),
        // EIA's guidance (opendata FAQ): sustained below ~9,000 an hour, bursts below 5 a
        // second; a run makes tens of requests, so the hourly budget is far away
        requests_per_second: 4.0,
        burst: 4,
        user_agent: PIPELINE_USER_AGENT,
        calendars: &[],
        instrument: Instrument::Spot,
        // the Weekly Petroleum Status Report's spot prices: Wednesday 10:30 Eastern, through
        // the Monday of that week; Henry Hub through the Tuesday
        publication: weekly(Weekday::Wed, 10, 30, Weekday::Mon),
        publications: &[("NATGAS", weekly(Weekday::Wed, 10, 30, Weekday::Tue))],
        // weekly series (the WPSR's stocks, e.g. WCESTUS1): Wednesday 10:30 Eastern with the
        // week ending the Friday before (eia.gov/petroleum/supply/weekly, "release schedule");
        // monthly series: by the 14th at 10:30 Eastern, the month before (the monthly spot
        // averages come with the first weekly release of the month, the Petroleum Supply
        // Monthly at the month's end: the 14th is late enough for the first, override per
        // series in `publications` for the second)
        resolutions: &[
            (Resolution::Weekly, week_ending(Weekday::Wed, 10, 30)),
            (Resolution::Monthly, monthly(14, 10, 30)),
        ],
        check_series: eia::check_series,
        build: eia::build,
    },
    ProviderInfo {
        name: "fred",
        title: "Federal Reserve Economic Data (St. Louis Fed)",
        base_url: "https://api.stlouisfed.org",
        series: &[
            ("WTI", "DCOILWTICO"),
            ("BRENT", "DCOILBRENTEU"),
            ("NATGAS", "DHHNGSP"),
        ],
        api_key_env: Some("FRED_API_KEY"),
        // FRED documents 120 requests a minute per key: 12 at once plus 1.8/s keeps any
        // 60-second window at 120
        requests_per_second: 1.8,
        burst: 12,
        user_agent: PIPELINE_USER_AGENT,
        calendars: &[],
        // FRED's DCOILWTICO, DCOILBRENTEU and DHHNGSP are EIA's spot prices
        instrument: Instrument::Spot,
        // EIA's releases, copied the same afternoon (DHHNGSP was updated 2024-09-18 12:31 CDT
        // with 2024-09-17)
        publication: weekly(Weekday::Wed, 14, 0, Weekday::Mon),
        publications: &[("NATGAS", weekly(Weekday::Wed, 14, 0, Weekday::Tue))],
        // FRED's weekly copies of EIA's weekly series (week ending Friday) the same afternoon
        // as EIA; its monthly averages (MCOILWTICO: "Monthly, Average" of DCOILWTICO) once
        // the month's dailies are in, by the 20th at 17:00 Eastern as a conservative day
        resolutions: &[
            (Resolution::Weekly, week_ending(Weekday::Wed, 14, 0)),
            (Resolution::Monthly, monthly(20, 17, 0)),
        ],
        check_series: fred::check_series,
        build: fred::build,
    },
    ProviderInfo {
        name: "yahoo",
        title: "Yahoo Finance chart API (front-month futures)",
        base_url: "https://query1.finance.yahoo.com",
        series: &[("WTI", "CL=F"), ("BRENT", "BZ=F"), ("NATGAS", "NG=F")],
        api_key_env: None,
        // Yahoo publishes no limit for this unofficial API and answers 429 to clients it
        // finds too eager: a modest rate and burst
        requests_per_second: 2.0,
        burst: 5,
        // Yahoo answers 429 to library User-Agents
        user_agent: BROWSER_USER_AGENT,
        // Brent futures (BZ=F) trade on ICE Futures Europe, also on most UK bank holidays
        calendars: &[("BRENT", Calendar::IceFuturesEurope)],
        instrument: Instrument::FrontMonthFuture,
        // each day's bar after the settlements (NYMEX 14:30 Eastern; ICE Brent 19:30 London)
        publication: Publication::Daily {
            at: time(18, 0),
            zone: New_York,
        },
        publications: &[],
        resolutions: &[],
        check_series: yahoo::check_series,
        build: yahoo::build,
    },
];

const fn time(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    }
}

/// A weekly release on `day` at `hour:minute` New York time, through `through`.
const fn weekly(day: Weekday, hour: u32, minute: u32, through: Weekday) -> Publication {
    Publication::Weekly {
        day,
        at: time(hour, minute),
        zone: New_York,
        through,
    }
}

/// A weekly series' release on `day` at `hour:minute` New York time, dated by the Friday before.
const fn week_ending(day: Weekday, hour: u32, minute: u32) -> Publication {
    Publication::WeekEnding {
        day,
        at: time(hour, minute),
        zone: New_York,
        ending: Weekday::Fri,
    }
}

/// A monthly series' release on `day` of each month at `hour:minute` New York time, carrying
/// the month before.
const fn monthly(day: u32, hour: u32, minute: u32) -> Publication {
    Publication::Monthly {
        day,
        at: time(hour, minute),
        zone: New_York,
        lag: 1,
    }
}

impl ProviderInfo {
    /// Whether it serves series at `resolution`.
    pub fn serves(&self, resolution: Resolution) -> bool {
        resolution == Resolution::Daily || self.resolutions.iter().any(|(r, _)| *r == resolution)
    }

    /// When a series at `resolution` is published by default; None for daily (the provider's
    /// `publication`) and for a resolution it does not serve.
    pub fn publication_at(&self, resolution: Resolution) -> Option<Publication> {
        self.resolutions
            .iter()
            .find(|(r, _)| *r == resolution)
            .map(|(_, p)| *p)
    }
}

/// Looks a provider up by name.
pub fn provider_info(name: &str) -> Option<&'static ProviderInfo> {
    PROVIDERS.iter().find(|p| p.name == name)
}
