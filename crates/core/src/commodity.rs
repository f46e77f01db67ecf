//! Commodity codes (`WTI`, `BRENT`, `NATGAS`, …) and their descriptions.

use std::{fmt, str::FromStr, sync::Arc};

use serde::{Deserialize, Deserializer, Serialize};

use crate::DomainError;

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
