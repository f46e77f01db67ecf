//! The configuration: one typed tree with the keys and defaults of INTERFACE.md, loaded once by a
//! binary ([`load`]) and passed down. Each adapter crate owns the shape of its own section.

mod load;
mod locate;

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, str::FromStr};

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use energy_core::{
    CommodityCode, CommoditySpec, Secret, SourceId, bounds::outside, validation::ValidationSettings,
};
use energy_notify::NotificationsConfig;
use energy_sources::{RetryConfig, SourcesConfig};
use energy_storage::DatabaseConfig;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use load::{ConfigError, ConfigOrigin, Loaded, Problem, load, load_from};

/// The longest window a run may ask for, in days (100 years).
const MAX_DAYS: u32 = 36_525;

/// The whole configuration. Every key is optional; [`Config::default`] is the built-in setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where data lives.
    pub database: DatabaseConfig,
    /// How runs choose dates, fetch and gate.
    pub pipeline: PipelineConfig,
    /// HTTP retries for every provider.
    pub retry: RetryConfig,
    /// The commodities the pipeline knows, by code.
    pub commodities: BTreeMap<CommodityCode, CommoditySpec>,
    /// The providers and the series each fetches.
    pub sources: SourcesConfig,
    /// When the scheduler runs the pipeline.
    pub schedule: ScheduleConfig,
    /// Email and Slack after runs.
    pub notifications: NotificationsConfig,
    /// The status dashboard.
    pub monitor: MonitorConfig,
    /// Log files and format.
    pub logging: LoggingConfig,
}

impl Default for Config {
    fn default() -> Self {
        let commodity = |code: &str, name: &str, unit: &str, min: &str, max: &str| {
            (
                CommodityCode::new(code).expect("built-in code is valid"),
                CommoditySpec::new(name, unit)
                    .with_range(min, max)
                    .expect("built-in range is valid"),
            )
        };
        Self {
            database: DatabaseConfig::default(),
            pipeline: PipelineConfig::default(),
            retry: RetryConfig::default(),
            commodities: BTreeMap::from([
                commodity(
                    "WTI",
                    "West Texas Intermediate Crude Oil",
                    "USD/bbl",
                    "-100",
                    "500",
                ),
                commodity("BRENT", "Brent Crude Oil", "USD/bbl", "-100", "500"),
                commodity(
                    "NATGAS",
                    "Natural Gas (Henry Hub)",
                    "USD/MMBtu",
                    "-20",
                    "100",
                ),
            ]),
            sources: SourcesConfig::default(),
            schedule: ScheduleConfig::default(),
            notifications: NotificationsConfig::default(),
            monitor: MonitorConfig::default(),
            logging: LoggingConfig::default(),
        }
    }
}

/// `pipeline`: how a run picks its window and how strict it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Days an incremental run fetches for a series with nothing stored yet.
    pub lookback_days: u32,
    /// Days a full refresh fetches, ending today.
    pub full_refresh_days: u32,
    /// Batches in flight at once per provider, for every provider that does not set its own
    /// `sources.<name>.max_concurrent_requests`. Each provider has its own cap: a slow one
    /// never holds up the others.
    pub max_concurrent_requests: u32,
    /// The data-quality gate.
    pub quality_gate: QualityGateConfig,
    /// Days before the latest stored date an incremental run reads again, to catch revisions.
    pub revision_days: u32,
    /// Thresholds of the warn-level validation rules.
    pub validation: ValidationSettings,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            lookback_days: 30,
            full_refresh_days: 3650,
            max_concurrent_requests: 3,
            quality_gate: QualityGateConfig::default(),
            revision_days: 7,
            validation: ValidationSettings::default(),
        }
    }
}

/// `pipeline.quality_gate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualityGateConfig {
    /// A (source, commodity) batch whose share of accepted rows is below this is not stored at all.
    pub min_quality_score: f64,
}

impl Default for QualityGateConfig {
    fn default() -> Self {
        Self {
            min_quality_score: 0.95,
        }
    }
}

/// How often the schedule fires, at `schedule.time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Every day.
    Daily,
    /// Monday to Friday.
    Weekdays,
    /// Every Monday.
    Weekly,
    /// The first day of every month.
    Monthly,
}

/// `schedule`: when the scheduler runs the pipeline, in a real IANA time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// IANA zone the times are in, e.g. America/New_York (DST handled).
    pub timezone: Tz,
    /// Local wall-clock time of day, HH:MM.
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time")]
    pub time: NaiveTime,
    /// daily, weekdays, weekly or monthly.
    pub frequency: Frequency,
    /// A 5- or 6-field cron expression (6 = with seconds); overrides time and frequency.
    pub cron: Option<String>,
    /// A fire time missed by less than this still runs (once); older ones are recorded as missed.
    pub misfire_grace_seconds: u64,
    /// Address of the scheduler's /metrics and /healthz.
    pub listen: SocketAddr,
}

impl ScheduleConfig {
    /// The cron pattern this section means: `cron` as given, else one made of `time` and
    /// `frequency`.
    pub fn pattern(&self) -> String {
        match &self.cron {
            Some(expr) => expr.trim().to_owned(),
            None => {
                let (m, h) = (self.time.minute(), self.time.hour());
                match self.frequency {
                    Frequency::Daily => format!("{m} {h} * * *"),
                    Frequency::Weekdays => format!("{m} {h} * * 1-5"),
                    Frequency::Weekly => format!("{m} {h} * * 1"),
                    Frequency::Monthly => format!("{m} {h} 1 * *"),
                }
            }
        }
    }
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            timezone: chrono_tz::America::New_York,
            time: NaiveTime::from_hms_opt(6, 0, 0).expect("valid time"),
            frequency: Frequency::Daily,
            cron: None,
            misfire_grace_seconds: 3600,
            listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
        }
    }
}

fn ser_time<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.format("%H:%M").to_string())
}

fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
    let s = String::deserialize(d)?;
    NaiveTime::parse_from_str(&s, "%H:%M").map_err(|_| {
        serde::de::Error::custom(format!(
            "invalid time {s:?}: expected HH:MM, e.g. \"06:00\""
        ))
    })
}

/// `monitor`: the status dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorConfig {
    /// A series whose latest date is older than this many weekdays is STALE.
    pub stale_after_days: u32,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            stale_after_days: 2,
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!(
                "invalid log format {other:?}: expected text or json"
            )),
        }
    }
}

/// `logging`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// Directory of the daily-rotated log files.
    pub dir: PathBuf,
    /// text or json.
    pub format: LogFormat,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("logs"),
            format: LogFormat::Text,
        }
    }
}

/// Secrets, read only from the environment. Each is absent when its variable is unset or empty.
/// Which providers need a key, and in which variable, is the provider registry's knowledge
/// (`energy_sources::PROVIDERS`): a new provider needs no change here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// API keys by the environment variable they came from.
    provider_keys: BTreeMap<&'static str, Secret>,
    pub smtp_user: Option<Secret>,
    pub smtp_password: Option<Secret>,
    pub slack_webhook_url: Option<Secret>,
}

/// The variables of the providers that need a key, in the registry's order.
fn provider_key_variables() -> impl Iterator<Item = &'static str> {
    energy_sources::PROVIDERS
        .iter()
        .filter_map(|p| p.api_key_env)
}

/// The notification channels' variables.
const NOTIFY_VARIABLES: [&str; 3] = ["SMTP_USER", "SMTP_PASSWORD", "SLACK_WEBHOOK_URL"];

impl Secrets {
    /// The environment variables secrets come from, in display order: each provider's key
    /// variable, then the notification channels'.
    pub fn variables() -> Vec<&'static str> {
        provider_key_variables().chain(NOTIFY_VARIABLES).collect()
    }

    /// Reads the secrets through `get` (normally `std::env::var`).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str| get(name).filter(|v| !v.trim().is_empty()).map(Secret::new);
        Self {
            provider_keys: provider_key_variables()
                .filter_map(|var| read(var).map(|s| (var, s)))
                .collect(),
            smtp_user: read("SMTP_USER"),
            smtp_password: read("SMTP_PASSWORD"),
            slack_webhook_url: read("SLACK_WEBHOOK_URL"),
        }
    }

    /// The secret held in environment variable `name`, if that is one of [`Self::variables`].
    pub fn by_variable(&self, name: &str) -> Option<&Secret> {
        match name {
            "SMTP_USER" => self.smtp_user.as_ref(),
            "SMTP_PASSWORD" => self.smtp_password.as_ref(),
            "SLACK_WEBHOOK_URL" => self.slack_webhook_url.as_ref(),
            provider => self.provider_keys.get(provider),
        }
    }

    /// Every secret value that is set, for scrubbing text before it is shown.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.provider_keys
            .values()
            .chain(
                [
                    &self.smtp_user,
                    &self.smtp_password,
                    &self.slack_webhook_url,
                ]
                .into_iter()
                .flatten(),
            )
            .map(Secret::expose)
    }
}

impl Config {
    /// Batches of `source` fetched at the same time.
    pub fn max_concurrent_requests(&self, source: &SourceId) -> u32 {
        self.sources
            .get(source.as_str())
            .and_then(|p| p.max_concurrent_requests)
            .unwrap_or(self.pipeline.max_concurrent_requests)
    }

    /// The (commodity, source) series runs fetch: each series of an enabled source whose
    /// commodity is defined.
    pub fn configured_series(&self) -> Vec<(CommodityCode, SourceId)> {
        self.sources
            .iter()
            .filter(|(_, p)| p.enabled)
            .flat_map(|(id, p)| {
                p.series
                    .keys()
                    .filter(|c| self.commodities.contains_key(*c))
                    .map(move |c| (c.clone(), id.clone()))
            })
            .collect()
    }

    /// Refuses a `--commodity` or `--source` that names nothing configured, the same way in
    /// every command.
    pub fn check_selection(
        &self,
        commodities: &[CommodityCode],
        sources: &[SourceId],
    ) -> Result<(), String> {
        let join = |names: Vec<&str>| names.join(", ");
        for c in commodities {
            if !self.commodities.contains_key(c) {
                return Err(format!(
                    "unknown commodity {c}: configured are {}",
                    join(self.commodities.keys().map(CommodityCode::as_str).collect())
                ));
            }
        }
        for s in sources {
            if self.sources.get(s.as_str()).is_none() {
                return Err(format!(
                    "unknown source {s}: known are {}",
                    join(self.sources.iter().map(|(id, _)| id.as_str()).collect())
                ));
            }
        }
        Ok(())
    }

    /// A backfill from `start` to `end`, by default to today in the markets' zones (the latest
    /// of them: no market has a date after it yet; `schedule.timezone` has no say). A start
    /// after that today asks for what nobody has published.
    pub fn backfill(
        &self,
        start: NaiveDate,
        end: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<energy_core::RunMode, String> {
        let today = self.latest_market_today(now);
        if start > today {
            return Err(format!(
                "--start-date {start} is after today ({today} in the markets' time zones): nothing is published for it yet"
            ));
        }
        energy_core::DateWindow::new(start, end.unwrap_or(today))
            .map(energy_core::RunMode::Backfill)
            .map_err(|e| e.to_string())
    }

    /// The latest "today" of the configured markets: no market has a date after it yet.
    pub fn latest_market_today(&self, now: DateTime<Utc>) -> NaiveDate {
        self.commodities
            .values()
            .map(|spec| spec.today(now))
            .max()
            .unwrap_or_else(|| now.date_naive())
    }

    /// Today in the market's zone of `commodity` (UTC for one no longer configured).
    pub fn market_today(&self, commodity: &CommodityCode, now: DateTime<Utc>) -> NaiveDate {
        self.commodities
            .get(commodity)
            .map_or(now.date_naive(), |spec| spec.today(now))
    }

    /// Checks what types alone cannot: ranges, cross-references between sections, the cron
    /// expression. Returns every problem as (dotted key, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let p = &self.pipeline;
        let v = &p.validation;
        let s = &self.schedule;
        let checks = [
            (
                "pipeline.lookback_days",
                outside(p.lookback_days, 1..=MAX_DAYS, "days"),
            ),
            (
                "pipeline.full_refresh_days",
                outside(p.full_refresh_days, 1..=MAX_DAYS, "days"),
            ),
            (
                "pipeline.revision_days",
                outside(p.revision_days, 0..=3660, "days"),
            ),
            (
                "pipeline.max_concurrent_requests",
                outside(p.max_concurrent_requests, 1..=64, ""),
            ),
            (
                "pipeline.validation.jump_threshold",
                outside(
                    v.jump_threshold,
                    0.001..=1000.0,
                    "(a fraction of the median, e.g. 0.5)",
                ),
            ),
            (
                "pipeline.validation.jump_window",
                outside(v.jump_window, 1..=1000, "values"),
            ),
            (
                "pipeline.validation.repeat_days",
                outside(v.repeat_days, 1..=1000, "observations"),
            ),
            (
                "schedule.misfire_grace_seconds",
                outside(s.misfire_grace_seconds, 0..=604_800, "seconds (a week)"),
            ),
            (
                "monitor.stale_after_days",
                outside(self.monitor.stale_after_days, 0..=3660, "days"),
            ),
        ];
        for (key, problem) in checks {
            if let Some(msg) = problem {
                out.push((key.to_owned(), msg));
            }
        }
        let score = p.quality_gate.min_quality_score;
        if !(0.0..=1.0).contains(&score) {
            out.push((
                "pipeline.quality_gate.min_quality_score".into(),
                format!("{score} is outside [0, 1]"),
            ));
        }
        for (key, msg) in self.retry.problems() {
            out.push((format!("retry.{key}"), msg));
        }
        for (key, msg) in self.sources.problems() {
            out.push((format!("sources.{key}"), msg));
        }
        for (name, provider) in self.sources.iter() {
            for (code, series) in &provider.series {
                // with no commodity at all, the one line above says it
                if !self.commodities.is_empty() && !self.commodities.contains_key(code) {
                    out.push((
                        format!("sources.{name}.series.{code}"),
                        format!("commodity {code} is not defined under `commodities`"),
                    ));
                }
                if series.trim().is_empty() {
                    out.push((
                        format!("sources.{name}.series.{code}"),
                        "series id is empty".into(),
                    ));
                }
            }
            if !matches!(provider.base_url.scheme(), "http" | "https") {
                out.push((
                    format!("sources.{name}.base_url"),
                    "must be an http(s) URL".into(),
                ));
            }
        }
        if self.commodities.is_empty() {
            out.push((
                "commodities".into(),
                "no commodity is configured: there is nothing to fetch; define at least one (see pipeline.example.yaml)".into(),
            ));
        }
        if self.sources.iter().all(|(_, p)| !p.enabled) {
            out.push((
                "sources".into(),
                "every source is disabled: there is nothing to fetch; set sources.<name>.enabled: true for at least one".into(),
            ));
        }
        for (code, spec) in &self.commodities {
            for (key, bound) in [("min_value", spec.min_value), ("max_value", spec.max_value)] {
                if bound.is_none() {
                    out.push((
                        format!("commodities.{code}.{key}"),
                        "is required: the plausible price range, outside which a value is quarantined (e.g. min_value: -100, max_value: 500 for crude in USD/bbl)".into(),
                    ));
                }
            }
            if spec.unit.trim().is_empty() {
                out.push((
                    format!("commodities.{code}.unit"),
                    "must not be empty".into(),
                ));
            }
            if let (Some(min), Some(max)) = (spec.min_value, spec.max_value)
                && min >= max
            {
                out.push((
                    format!("commodities.{code}.min_value"),
                    format!("{min} must be below max_value {max}"),
                ));
            }
        }
        if let Some(Err(e)) = self.schedule.cron.as_deref().map(parse_cron) {
            out.push(("schedule.cron".into(), e));
        }
        for (key, msg) in self.notifications.problems() {
            out.push((format!("notifications.{key}"), msg));
        }
        out
    }
}

/// Parses a 5-field (minute precision) or 6-field (with seconds) cron expression.
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    let fields = expr.split_whitespace().count();
    if !(5..=6).contains(&fields) {
        return Err(format!(
            "invalid cron expression {expr:?}: expected 5 fields (min hour dom month dow) or 6 (sec min hour dom month dow), found {fields}"
        ));
    }
    croner::parser::CronParser::builder()
        .seconds(if fields == 6 {
            croner::parser::Seconds::Required
        } else {
            croner::parser::Seconds::Disallowed
        })
        .build()
        .parse(expr)
        .map_err(|e| format!("invalid cron expression {expr:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../../pipeline.example.yaml");

    /// A provider's key variable comes from the registry alone (issue 14).
    #[test]
    fn each_provider_key_variable_comes_from_the_registry() {
        let registry: Vec<&str> = energy_sources::PROVIDERS
            .iter()
            .filter_map(|p| p.api_key_env)
            .collect();
        assert!(!registry.is_empty());
        let variables = Secrets::variables();
        for var in &registry {
            assert!(variables.contains(var), "{var} missing from {variables:?}");
        }
        let secrets =
            Secrets::from_lookup(|name| registry.contains(&name).then(|| format!("key-of-{name}")));
        for var in &registry {
            assert_eq!(
                secrets.by_variable(var).map(Secret::expose),
                Some(format!("key-of-{var}").as_str())
            );
        }
        assert_eq!(secrets.values().count(), registry.len());
        assert!(secrets.by_variable("SMTP_USER").is_none());
    }

    #[test]
    fn example_file_equals_the_defaults() {
        let from_file: Config = serde_yaml::from_str(EXAMPLE).expect("example parses");
        assert_eq!(
            from_file,
            Config::default(),
            "pipeline.example.yaml and Config::default() disagree"
        );
    }

    /// Every key of the defaults is written in the example, with a comment on the line above
    /// (or at the end of the line).
    #[test]
    fn example_file_shows_and_comments_every_key() {
        let value = serde_yaml::to_value(Config::default()).unwrap();
        let mut leaves = Vec::new();
        collect_keys(&value, &mut Vec::new(), &mut leaves);
        let lines: Vec<&str> = EXAMPLE.lines().collect();
        for path in leaves {
            let line = locate::line_of(EXAMPLE, &path).unwrap_or_else(|| {
                panic!("`{}` missing from pipeline.example.yaml", path.join("."))
            });
            let this = lines[line - 1];
            let above = lines.get(line.wrapping_sub(2)).copied().unwrap_or("");
            assert!(
                this.contains(" # ") || above.trim_start().starts_with('#'),
                "`{}` (line {line}) has no comment",
                path.join(".")
            );
        }
    }

    fn collect_keys(v: &serde_yaml::Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if let serde_yaml::Value::Mapping(m) = v {
            for (k, v) in m {
                let k = k.as_str().expect("string keys").to_owned();
                prefix.push(k);
                out.push(prefix.clone());
                collect_keys(v, prefix, out);
                prefix.pop();
            }
        }
    }
}
