//! Commodity codes (`WTI`, `BRENT`, `NATGAS`, …) and their descriptions.

use std::{fmt, str::FromStr, sync::Arc};

use serde::{Deserialize, Deserializer, Serialize};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::{DomainError, Price, Resolution, calendar::Calendar};

/// A validated commodity code: 1–32 characters of `A-Z`, `0-9` and `_`, starting with a letter.
///
/// Cheap to clone (a shared string), because every observation carries one.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CommodityCode(Arc<str>);

impl CommodityCode {
    /// Checks `code` and wraps it.
    pub fn new(code: &str) -> Result<Self, DomainError> {
        let mut chars = code.chars();
        let valid = code.len() <= 32
            && chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(Self(Arc::from(code)))
        } else {
            Err(DomainError::InvalidCommodityCode(code.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CommodityCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for CommodityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for CommodityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl<'de> Deserialize<'de> for CommodityCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

/// What a commodity is, as configured under `commodities.<CODE>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommoditySpec {
    /// Human-readable name, e.g. "West Texas Intermediate Crude Oil".
    pub name: String,
    /// Unit every observation of this commodity is quoted in, e.g. "USD/bbl".
    pub unit: String,
    /// The market's time zone: its calendar dates the prices, and "today" is counted in it.
    #[serde(default = "default_timezone")]
    pub timezone: Tz,
    /// Lowest plausible price; lower values are rejected. Negative prices can be real data.
    #[serde(default)]
    pub min_value: Option<Price>,
    /// Highest plausible price; higher values are rejected.
    #[serde(default)]
    pub max_value: Option<Price>,
    /// The market's trading calendar: which days have a price (`nymex`, `ice_futures_europe`,
    /// `uk_bank_holidays`, `weekdays`).
    #[serde(default = "default_calendar")]
    pub calendar: Calendar,
    /// How often the series has a value (`hourly`, `daily`, `weekly`, `monthly`); `daily` when
    /// not given, which is what every configuration before resolutions meant.
    #[serde(default)]
    pub resolution: Resolution,
}

fn default_calendar() -> Calendar {
    Calendar::Weekdays
}

fn default_timezone() -> Tz {
    chrono_tz::America::New_York
}

impl CommoditySpec {
    /// A commodity with the default market time zone (America/New_York) and no range check.
    pub fn new(name: impl Into<String>, unit: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            unit: unit.into(),
            timezone: default_timezone(),
            min_value: None,
            max_value: None,
            calendar: default_calendar(),
            resolution: Resolution::Daily,
        }
    }

    /// The same, at `resolution`.
    pub fn at(mut self, resolution: Resolution) -> Self {
        self.resolution = resolution;
        self
    }

    /// The same, on `calendar`.
    pub fn on(mut self, calendar: Calendar) -> Self {
        self.calendar = calendar;
        self
    }

    /// The same, with a plausible range.
    pub fn with_range(mut self, min: &str, max: &str) -> Result<Self, DomainError> {
        self.min_value = Some(Price::parse(min)?);
        self.max_value = Some(Price::parse(max)?);
        Ok(self)
    }

    /// Today's date in the market's time zone at `now`: what windows end on, what a future
    /// date is judged against and what a series' age counts from.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.timezone).date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_default_codes_and_rejects_malformed_ones() {
        for ok in ["WTI", "BRENT", "NATGAS", "HH_1", "A"] {
            assert_eq!(CommodityCode::new(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "wti", "1WTI", "WTI-1", "W TI", &"A".repeat(33)] {
            assert!(CommodityCode::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn deserialize_rejects_invalid_code_with_guidance() {
        let err = serde_json::from_str::<CommodityCode>("\"wti\"").unwrap_err();
        assert!(err.to_string().contains("upper-case"), "{err}");
    }
}
