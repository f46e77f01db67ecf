//! Price providers behind one [`Source`] trait: the EIA Open Data API v2, FRED and the Yahoo
//! Finance chart API. Each provider is one module; the HTTP layer they share (timeouts, retries,
//! rate limits, size limits, key redaction) is written once in `http`.
//!
//! Sources are built from configuration with [`build_sources`] and handed to the orchestrator
//! as `Arc<dyn Source>`; tests point `base_url` at a local server.
//!
//! ```
//! // what each provider is, and the key it needs (read from the environment, never the config)
//! let eia = energy_sources::provider_info("eia").unwrap();
//! assert!(eia.title.contains("Energy Information Administration"));
//! ```

mod bounded;
mod config;
mod eia;
mod error;
mod fred;
mod http;
mod limit;
mod registry;
#[cfg(feature = "replay")]
pub mod replay;
mod retry;
mod yahoo;

use std::{fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::NaiveDate;
use energy_core::{
    Clock, CommodityCode, DateWindow, Observation, Price, Resolution, Secret, SourceId,
    validation::RawInvalid,
};

pub use config::{ProviderConfig, SourcesConfig};
pub use error::{SourceError, SourceErrorKind};
pub use http::{BROWSER_USER_AGENT, HttpSettings, PIPELINE_USER_AGENT, redact_url};
pub use registry::{PROVIDERS, ProviderInfo, provider_info};
pub use retry::RetryConfig;

/// One series to fetch: which commodity, the provider's id for it, and the market dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRequest {
    pub commodity: CommodityCode,
    /// The provider's series id, from `sources.<name>.series.<CODE>`.
    pub series: String,
    /// The unit observations are quoted in (the commodity's configured unit).
    pub unit: String,
    /// Inclusive range of market dates.
    pub window: DateWindow,
    /// How often the series has a value (the commodity's `resolution`): the frequency asked
    /// for, and what the answer must be.
    pub resolution: Resolution,
}

/// What a provider returned for one series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeriesData {
    /// Observations inside the requested window, in date order.
    pub observations: Vec<Observation>,
    /// Days the provider listed without a value (FRED's ".", EIA's null, Yahoo's null bar).
    pub missing: Vec<NaiveDate>,
    /// Values that are not numbers, to be quarantined.
    pub invalid: Vec<RawInvalid>,
    /// Rows dated outside what the request asked for (its window; Yahoo's padded range), as
    /// sent: never observations, quarantined by validation (`future_date` or
    /// `outside_window`). Rows a request is expected to bring beside the window (Yahoo's
    /// padding, another member's dates in an EIA group) are neither.
    pub outside: Vec<RawInvalid>,
    /// HTTP requests it took (pages).
    pub requests: u32,
}

impl SeriesRequest {
    /// The first period date the window reaches: its start, or for a monthly series the first
    /// day of its start's month (a month that overlaps the window is asked for whole).
    pub fn first_period(&self) -> NaiveDate {
        let start = self.window.start();
        self.resolution.periods_before(start, 0).unwrap_or(start)
    }

    /// Whether a row dated `date` is one this request asks for.
    pub fn asks_for(&self, date: NaiveDate) -> bool {
        date >= self.first_period() && date <= self.window.end()
    }
}

impl SeriesData {
    /// A value published for `date` as text: an observation when it is a usable price, else
    /// an invalid value with the reason (quarantined later, never dropped).
    pub(crate) fn push_published(
        &mut self,
        req: &SeriesRequest,
        source: &SourceId,
        date: NaiveDate,
        raw: &str,
    ) {
        match Price::parse(raw) {
            Ok(p) => self.push_price(req, source, date, p),
            Err(_) => self.push_invalid(date, raw.to_owned(), Price::why_unusable(raw)),
        }
    }

    /// A price for `date`.
    pub(crate) fn push_price(
        &mut self,
        req: &SeriesRequest,
        source: &SourceId,
        date: NaiveDate,
        price: Price,
    ) {
        self.observations.push(Observation::new(
            req.commodity.clone(),
            source.clone(),
            date,
            price,
            req.unit.clone(),
        ));
    }

    /// A row for `date` that the provider sent although it is outside `asked`, the dates the
    /// request asked for: `raw` is its value as sent.
    pub(crate) fn push_outside(
        &mut self,
        date: NaiveDate,
        raw: String,
        asked: (NaiveDate, NaiveDate),
    ) {
        self.outside.push(RawInvalid {
            date,
            raw,
            reason: format!(
                "the provider sent {date}, outside the dates {}..{} asked of it",
                asked.0, asked.1
            ),
        });
    }

    /// A value for `date` that is no price, with why.
    pub(crate) fn push_invalid(&mut self, date: NaiveDate, raw: String, reason: &str) {
        self.invalid.push(RawInvalid {
            date,
            raw,
            reason: reason.to_owned(),
        });
    }
}

/// A price provider.
#[async_trait]
pub trait Source: Send + Sync + fmt::Debug {
    /// The provider's name, as in configuration and reports.
    fn id(&self) -> &SourceId;

    /// Fetches one series for a window of market dates.
    async fn fetch(&self, request: &SeriesRequest) -> Result<SeriesData, SourceError>;

    /// The series a run is about to fetch from this provider, announced before any `fetch`.
    /// A provider whose API returns several series per request (EIA) fetches those together
    /// when they are asked for; the default does nothing.
    fn plan(&self, _requests: &[SeriesRequest]) {}

    /// HTTP requests sent so far (every attempt, retries included); 0 for a source that makes
    /// none.
    fn http_requests(&self) -> u64 {
        0
    }
}

/// What a provider's `build` gets.
pub struct ProviderContext {
    pub id: SourceId,
    pub config: ProviderConfig,
    pub key: Option<Secret>,
    /// The environment variable the key comes from, as the registry says.
    pub key_variable: Option<&'static str>,
    pub http: HttpSettings,
    pub clock: Clock,
}

impl ProviderContext {
    /// The API key of a provider that needs one, and the variable it comes from.
    pub(crate) fn required_key(&self) -> Result<(Secret, &'static str), SourceError> {
        let variable = self.key_variable.unwrap_or("its API key variable");
        match &self.key {
            Some(key) => Ok((key.clone(), variable)),
            None => Err(SourceError::new(
                self.id.clone(),
                SourceErrorKind::MissingKey { variable },
            )),
        }
    }
}

impl fmt::Debug for ProviderContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderContext")
            .field("id", &self.id)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// One configured provider after building.
#[derive(Debug, Clone)]
pub enum BuiltSource {
    Ready(Arc<dyn Source>),
    /// Enabled but not usable (its API key is missing): runs report it as skipped.
    Skipped {
        id: SourceId,
        reason: SourceError,
    },
    /// `enabled: false`.
    Disabled(SourceId),
}

impl BuiltSource {
    pub fn id(&self) -> &SourceId {
        match self {
            BuiltSource::Ready(s) => s.id(),
            BuiltSource::Skipped { id, .. } | BuiltSource::Disabled(id) => id,
        }
    }
}

/// Builds every configured provider. `key` looks up a secret by environment-variable name
/// (the configuration's secrets); `clock` is normally `Utc::now`.
pub fn build_sources(
    config: &SourcesConfig,
    retry: &RetryConfig,
    key: impl Fn(&str) -> Option<Secret>,
    clock: Clock,
) -> Vec<BuiltSource> {
    let mut out = Vec::new();
    for (id, provider) in config.iter() {
        let Some(info) = provider_info(id.as_str()) else {
            continue;
        };
        if !provider.enabled {
            out.push(BuiltSource::Disabled(id.clone()));
            continue;
        }
        let secret = info.api_key_env.and_then(&key);
        if let (Some(variable), None) = (info.api_key_env, &secret) {
            out.push(BuiltSource::Skipped {
                id: id.clone(),
                reason: SourceError::new(id.clone(), SourceErrorKind::MissingKey { variable }),
            });
            continue;
        }
        let http = HttpSettings {
            timeout: Duration::from_secs_f64(provider.timeout_seconds.max(0.001)),
            connect_timeout: Duration::from_secs_f64(provider.timeout_seconds.clamp(0.001, 10.0)),
            requests_per_second: provider.requests_per_second,
            burst: provider.burst,
            max_response_bytes: (provider.max_response_mb * 1024.0 * 1024.0) as u64,
            user_agent: info.user_agent.to_owned(),
            retry: retry.clone(),
        };
        let context = ProviderContext {
            id: id.clone(),
            config: provider.clone(),
            key: secret,
            key_variable: info.api_key_env,
            http,
            clock: clock.clone(),
        };
        match (info.build)(context) {
            Ok(source) => out.push(BuiltSource::Ready(source)),
            Err(reason) => out.push(BuiltSource::Skipped {
                id: id.clone(),
                reason,
            }),
        }
    }
    out
}

/// A base URL whose path ends with `/`, so that joining a relative path appends to it.
pub(crate) fn with_trailing_slash(mut url: url::Url) -> url::Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// Parses JSON, describing a failure (truncated, not JSON) in words.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_eof() {
            format!("truncated JSON ({e})")
        } else {
            format!("invalid JSON ({e})")
        }
    })
}

/// Helpers on date windows the providers share.
pub(crate) trait DateWindowExt {
    /// Unix seconds of `start` 00:00 UTC minus a day, and of `end` + 2 days: a UTC range that
    /// surely covers the window's market days in any time zone.
    fn padded_unix_range(&self) -> (i64, i64);
}

impl DateWindowExt for DateWindow {
    fn padded_unix_range(&self) -> (i64, i64) {
        let day = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .expect("midnight exists")
                .and_utc()
                .timestamp()
        };
        (day(self.start()) - 86_400, day(self.end()) + 2 * 86_400)
    }
}
