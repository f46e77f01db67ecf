//! The `sources` section of the configuration.

use std::collections::BTreeMap;

use energy_core::{CommodityCode, Publication, SourceId, bounds::outside, calendar::Calendar};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::registry::{PROVIDERS, provider_info};

/// The largest answer read, by default. The largest a provider sends for one request is FRED's
/// page of 100,000 observations, about 9.5 MB; 16 MB leaves room, and keeps what responses in
/// flight can hold in memory small.
const DEFAULT_MAX_RESPONSE_MB: f64 = 16.0;

/// The time one HTTP attempt may be given, in seconds.
const TIMEOUT_SECONDS: std::ops::RangeInclusive<f64> = 0.1..=3600.0;

/// Settings of one provider (`sources.<name>`). Keys left out take the provider's defaults.
///
/// `Debug` and `Serialize` (`config show`) show `base_url` with its password as `***`.
#[derive(Clone, PartialEq, Serialize)]
pub struct ProviderConfig {
    /// Whether runs fetch from this provider.
    pub enabled: bool,
    /// API root, e.g. `https://api.eia.gov`; tests point it at a local server. A user and
    /// password in it (a mirror behind basic authentication) are sent as such, and the
    /// password is never shown.
    #[serde(serialize_with = "shown_url")]
    pub base_url: Url,
    /// The provider's series id for each commodity code it should fetch.
    pub series: BTreeMap<CommodityCode, String>,
    /// Time allowed for one HTTP attempt, body included.
    pub timeout_seconds: f64,
    /// Requests per second to this provider, sustained (0 = no limit).
    pub requests_per_second: f64,
    /// Requests that may go at once before `requests_per_second` applies (a token bucket).
    pub burst: u32,
    /// Batches of this provider fetched at the same time; unset: `pipeline.max_concurrent_requests`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent_requests: Option<u32>,
    /// Responses larger than this are refused (a runaway body is an error, not an out-of-memory).
    pub max_response_mb: f64,
    /// The trading calendar of a series when it is not its commodity's (Yahoo's Brent futures
    /// trade on ICE Futures Europe, Brent spot follows the UK bank holidays).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub calendars: BTreeMap<CommodityCode, Calendar>,
    /// When the provider publishes (`daily after 18:00 America/New_York`, `weekly wednesday
    /// 10:30 America/New_York through monday`): what freshness is judged against.
    pub publication: Publication,
    /// Series published otherwise than `publication`, by commodity code (given ones are added
    /// to the provider's defaults).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub publications: BTreeMap<CommodityCode, Publication>,
}

fn shown_url<S: serde::Serializer>(url: &Url, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&energy_core::redact_url_credentials(url.as_str()))
}

/// A URL, refused without repeating it (the `url` crate's own error holds the whole text,
/// password and all).
fn url_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    Url::parse(&text).map(Some).map_err(|e| {
        serde::de::Error::custom(format!(
            "`{}` is not a URL: {e}",
            energy_core::redact_url_credentials(&text)
        ))
    })
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            enabled,
            base_url,
            series,
            timeout_seconds,
            requests_per_second,
            burst,
            max_concurrent_requests,
            max_response_mb,
            calendars,
            publication,
            publications,
        } = self;
        f.debug_struct("ProviderConfig")
            .field("enabled", enabled)
            .field(
                "base_url",
                &energy_core::redact_url_credentials(base_url.as_str()),
            )
            .field("series", series)
            .field("timeout_seconds", timeout_seconds)
            .field("requests_per_second", requests_per_second)
            .field("burst", burst)
            .field("max_concurrent_requests", max_concurrent_requests)
            .field("max_response_mb", max_response_mb)
            .field("calendars", calendars)
            .field("publication", publication)
            .field("publications", publications)
            .finish()
    }
}

impl ProviderConfig {
    /// When the series of `commodity` is published.
    pub fn publication_of(&self, commodity: &CommodityCode) -> Publication {
        self.publications
            .get(commodity)
            .copied()
            .unwrap_or(self.publication)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "url_or_none")]
    base_url: Option<Url>,
    series: Option<BTreeMap<CommodityCode, String>>,
    timeout_seconds: Option<f64>,
    requests_per_second: Option<f64>,
    burst: Option<u32>,
    max_concurrent_requests: Option<u32>,
    max_response_mb: Option<f64>,
    calendars: Option<BTreeMap<CommodityCode, Calendar>>,
    publication: Option<Publication>,
    publications: Option<BTreeMap<CommodityCode, Publication>>,
}

/// The `sources` section: every known provider, in the order of [`PROVIDERS`].
///
/// A provider missing from the file keeps all its defaults; naming a provider this build does
/// not know is an error.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "BTreeMap<String, RawProviderOrNull>")]
pub struct SourcesConfig {
    providers: BTreeMap<SourceId, ProviderConfig>,
}

impl Serialize for SourcesConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.providers.serialize(s)
    }
}

/// `sources: { eia: }` (an empty key) means "defaults", like leaving it out.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
#[doc(hidden)]
pub struct RawProviderOrNull(Option<RawProvider>);

impl TryFrom<BTreeMap<String, RawProviderOrNull>> for SourcesConfig {
    type Error = String;

    fn try_from(mut raw: BTreeMap<String, RawProviderOrNull>) -> Result<Self, String> {
        let mut providers = BTreeMap::new();
        for info in PROVIDERS {
            let given = raw.remove(info.name).and_then(|r| r.0).unwrap_or_default();
            let series = match given.series {
                Some(s) => s,
                None => default_series(info.series)?,
            };
            providers.insert(
                SourceId::new(info.name).map_err(|e| e.to_string())?,
                ProviderConfig {
                    enabled: given.enabled.unwrap_or(true),
                    base_url: match given.base_url {
                        Some(u) => u,
                        None => Url::parse(info.base_url).map_err(|e| e.to_string())?,
                    },
                    series: series.clone(),
                    timeout_seconds: given.timeout_seconds.unwrap_or(30.0),
                    requests_per_second: given
                        .requests_per_second
                        .unwrap_or(info.requests_per_second),
                    burst: given.burst.unwrap_or(info.burst),
                    max_concurrent_requests: given.max_concurrent_requests,
                    max_response_mb: given.max_response_mb.unwrap_or(DEFAULT_MAX_RESPONSE_MB),
                    calendars: match given.calendars {
                        Some(c) => c,
                        // a default calendar only for a series the provider has
                        None => info
                            .calendars
                            .iter()
                            .map(|(c, cal)| {
                                Ok((CommodityCode::new(c).map_err(|e| e.to_string())?, *cal))
                            })
                            .filter(|r: &Result<(CommodityCode, Calendar), String>| {
                                r.as_ref().map_or(true, |(c, _)| series.contains_key(c))
                            })
                            .collect::<Result<_, String>>()?,
                    },
                    publication: given.publication.unwrap_or(info.publication),
                    publications: {
                        let mut by_code = info
                            .publications
                            .iter()
                            .map(|(c, p)| {
                                Ok((CommodityCode::new(c).map_err(|e| e.to_string())?, *p))
                            })
                            .collect::<Result<BTreeMap<_, _>, String>>()?;
                        by_code.extend(given.publications.unwrap_or_default());
                        by_code
                    },
                },
            );
        }
        if let Some(unknown) = raw.keys().next() {
            let known: Vec<_> = PROVIDERS.iter().map(|p| p.name).collect();
            return Err(format!(
                "unknown source `{unknown}`, expected one of `{}`",
                known.join("`, `")
            ));
        }
        Ok(Self { providers })
    }
}

fn default_series(pairs: &[(&str, &str)]) -> Result<BTreeMap<CommodityCode, String>, String> {
    pairs
        .iter()
        .map(|(c, s)| {
            Ok((
                CommodityCode::new(c).map_err(|e| e.to_string())?,
                (*s).to_owned(),
            ))
        })
        .collect()
}

impl Default for SourcesConfig {
    fn default() -> Self {
        Self::try_from(BTreeMap::new()).expect("built-in provider defaults are valid")
    }
}

impl SourcesConfig {
    /// Every provider with its settings, enabled or not.
    pub fn iter(&self) -> impl Iterator<Item = (&SourceId, &ProviderConfig)> {
        self.providers.iter()
    }

    pub fn get(&self, name: &str) -> Option<&ProviderConfig> {
        self.providers
            .iter()
            .find(|(k, _)| k.as_str() == name)
            .map(|(_, v)| v)
    }

    /// Mutable access, for tests and tools that point a provider elsewhere.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut ProviderConfig> {
        self.providers
            .iter_mut()
            .find(|(k, _)| k.as_str() == name)
            .map(|(_, v)| v)
    }

    /// The environment variable holding `name`'s API key, if it needs one.
    pub fn api_key_env(name: &str) -> Option<&'static str> {
        provider_info(name).and_then(|p| p.api_key_env)
    }

    /// Problems with the values, each as (key below `sources`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, p) in &self.providers {
            let info = provider_info(name.as_str());
            for (code, series) in &p.series {
                if let Some(Err(e)) = info.map(|i| (i.check_series)(series)) {
                    out.push((format!("{name}.series.{code}"), e));
                }
            }
            for code in p.calendars.keys().filter(|c| !p.series.contains_key(*c)) {
                out.push((
                    format!("{name}.calendars.{code}"),
                    format!("{name} has no series for {code}: add it to sources.{name}.series or remove the calendar"),
                ));
            }
            let defaults = info.map_or(&[][..], |i| i.publications);
            for code in p.publications.keys().filter(|c| {
                !p.series.contains_key(*c) && !defaults.iter().any(|(d, _)| *d == c.as_str())
            }) {
                out.push((
                    format!("{name}.publications.{code}"),
                    format!("{name} has no series for {code}: add it to sources.{name}.series or remove the rule"),
                ));
            }
            let checks = [
                (
                    "timeout_seconds",
                    outside(p.timeout_seconds, TIMEOUT_SECONDS, "seconds"),
                ),
                (
                    "requests_per_second",
                    (p.requests_per_second != 0.0)
                        .then(|| {
                            outside(
                                p.requests_per_second,
                                0.001..=1000.0,
                                "requests per second, or 0 for no limit",
                            )
                        })
                        .flatten(),
                ),
                ("burst", outside(p.burst, 1..=1000, "requests")),
                (
                    "max_concurrent_requests",
                    p.max_concurrent_requests
                        .and_then(|n| outside(n, 1..=64, "")),
                ),
                (
                    "max_response_mb",
                    outside(p.max_response_mb, 0.001..=4096.0, "MB"),
                ),
            ];
            for (key, problem) in checks {
                if let Some(msg) = problem {
                    out.push((format!("{name}.{key}"), msg));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_providers_and_keys_take_their_defaults() {
        let cfg: SourcesConfig =
            serde_yaml::from_str("fred: { enabled: false }\nyahoo:\n").unwrap();
        let fred = cfg.get("fred").unwrap();
        assert!(!fred.enabled);
        assert_eq!(fred.base_url.as_str(), "https://api.stlouisfed.org/");
        assert_eq!(fred.series.len(), 3);
        assert!(cfg.get("eia").unwrap().enabled);
        assert!(cfg.get("yahoo").unwrap().enabled);
    }

    #[test]
    fn a_base_url_password_is_used_but_never_shown() {
        let cfg: SourcesConfig =
            serde_yaml::from_str("eia: { base_url: \"http://user:BASEPASS@127.0.0.1:18600\" }")
                .unwrap();
        assert_eq!(
            cfg.get("eia").unwrap().base_url.password(),
            Some("BASEPASS")
        );
        let shown = format!("{} {cfg:?}", serde_yaml::to_string(&cfg).unwrap());
        assert!(!shown.contains("BASEPASS"), "{shown}");
        assert!(
            shown.contains("http://user:***@127.0.0.1:18600/"),
            "{shown}"
        );
        let err = serde_yaml::from_str::<SourcesConfig>(
            "eia: { base_url: \"http://user:BASEPASS@[::1\" }",
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("BASEPASS"), "{err}");
        assert!(err.contains("http://user:***@"), "{err}");
    }

    #[test]
    fn unknown_provider_and_unknown_key_are_errors() {
        let err = serde_yaml::from_str::<SourcesConfig>("bloomberg: {}").unwrap_err();
        assert!(
            err.to_string().contains("unknown source `bloomberg`"),
            "{err}"
        );
        let err = serde_yaml::from_str::<SourcesConfig>("eia: { api_key: x }").unwrap_err();
        assert!(err.to_string().contains("unknown field `api_key`"), "{err}");
    }
}
