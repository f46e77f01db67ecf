//! Building sources against a mock server, fixtures, and capturing logs.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, TimeZone, Utc};
use energy_core::{CommodityCode, DateWindow, Secret};
use energy_sources::{
    BuiltSource, ProviderConfig, RetryConfig, SeriesRequest, Source, SourcesConfig, build_sources,
};
use serde_json::Value;
use wiremock::MockServer;

/// A distinctive API key, so that a leak is easy to spot.
pub(crate) const KEY: &str = "k3ySECRETabcdef0123456789abcdef0";

pub(crate) fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Fast retries for tests: 3 attempts, 10 ms first backoff, at most 2 s (also caps Retry-After).
pub(crate) fn fast_retry() -> RetryConfig {
    RetryConfig {
        max_attempts: 3,
        initial_backoff_seconds: 0.01,
        max_backoff_seconds: 2.0,
    }
}

/// Builds provider `name` against `server`, after `tweak`ing its configuration.
pub(crate) fn build(
    name: &str,
    server: &MockServer,
    tweak: impl FnOnce(&mut ProviderConfig, &mut RetryConfig),
) -> Arc<dyn Source> {
    build_at(name, &server.uri(), tweak)
}

/// Builds provider `name` against the server at `base_url`, after `tweak`ing its configuration.
pub(crate) fn build_at(
    name: &str,
    base_url: &str,
    tweak: impl FnOnce(&mut ProviderConfig, &mut RetryConfig),
) -> Arc<dyn Source> {
    // "now" is fixed, so that Yahoo's "today is still trading" rule is deterministic
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    build_at_time(name, base_url, now, tweak)
}

/// Builds provider `name` against the server at `base_url` with its clock stopped at `now`.
pub(crate) fn build_at_time(
    name: &str,
    base_url: &str,
    now: DateTime<Utc>,
    tweak: impl FnOnce(&mut ProviderConfig, &mut RetryConfig),
) -> Arc<dyn Source> {
    let mut config = SourcesConfig::default();
    let mut retry = fast_retry();
    {
        let p = config.get_mut(name).expect("known provider");
        p.base_url = base_url.parse().unwrap();
        p.timeout_seconds = 5.0;
        tweak(p, &mut retry);
    }
    let clock = Arc::new(move || now);
    let built = build_sources(&config, &retry, |_| Some(Secret::new(KEY)), clock);
    built
        .into_iter()
        .find_map(|b| match b {
            BuiltSource::Ready(s) if s.id().as_str() == name => Some(s),
            _ => None,
        })
        .expect("source built")
}

pub(crate) fn request(commodity: &str, series: &str, start: &str, end: &str) -> SeriesRequest {
    SeriesRequest {
        commodity: CommodityCode::new(commodity).unwrap(),
        series: series.to_owned(),
        unit: "USD/bbl".to_owned(),
        window: DateWindow::new(start.parse().unwrap(), end.parse().unwrap()).unwrap(),
        resolution: energy_core::Resolution::Daily,
    }
}

/// (date, value) rows of the real WTI daily history.
pub(crate) fn wti_rows() -> Vec<(String, String)> {
    fixture("wti-daily.csv")
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (d, v) = l.trim_end_matches('\r').split_once(',')?;
            Some((d.to_owned(), v.to_owned()))
        })
        .collect()
}

/// An EIA v2 daily answer: the real RWTC envelope with `rows` as its data.
pub(crate) fn eia_page(rows: &[(String, String)], total: usize) -> String {
    let mut v: Value = serde_json::from_str(&fixture(
        "eia/petroleum-pri-spt-RWTC-weekly-1986-01-03.json",
    ))
    .unwrap();
    let template = v["response"]["data"][0].clone();
    let data: Vec<Value> = rows
        .iter()
        .map(|(d, val)| {
            let mut row = template.clone();
            row["period"] = Value::String(d.clone());
            row["value"] = Value::String(val.clone());
            row
        })
        .collect();
    v["response"]["frequency"] = Value::String("daily".into());
    v["response"]["total"] = Value::String(total.to_string());
    v["response"]["data"] = Value::Array(data);
    v["request"]["params"]["frequency"] = Value::String("daily".into());
    v.to_string()
}

/// Everything logged while the guard lives (on this thread), as text.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub(crate) fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs.clone(), tracing::subscriber::set_default(subscriber))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
