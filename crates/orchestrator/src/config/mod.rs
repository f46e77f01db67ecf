//! The configuration: one typed tree with the keys and defaults of INTERFACE.md, loaded once by a
//! binary ([`load`]) and passed down. Each adapter crate owns the shape of its own section.

mod load;
mod locate;
mod refusal;
mod secrets;
mod sections;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use energy_core::{
    CommodityCode, CommoditySpec, Publication, Resolution, SourceId, bounds::outside,
    calendar::Calendar,
};
use energy_notify::NotificationsConfig;
use energy_sources::{RetryConfig, SourcesConfig};
use energy_storage::DatabaseConfig;
use serde::{Deserialize, Serialize};

pub use load::{ConfigError, ConfigOrigin, Loaded, Problem, load, load_from};
pub use refusal::{CronError, SelectionError, WindowError};
pub use secrets::Secrets;
pub use sections::{
    Frequency, LogFormat, LoggingConfig, MonitorConfig, PipelineConfig, QualityGateConfig,
    ScheduleConfig,
};

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
        let commodity =
            |code: &str, name: &str, unit: &str, min: &str, max: &str, calendar: Calendar| {
                (
                    CommodityCode::new(code).expect("built-in code is valid"),
                    CommoditySpec::new(name, unit)
                        .with_range(min, max)
                        .expect("built-in range is valid")
                        .on(calendar),
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
                    Calendar::Nymex,
                ),
                // Brent spot is assessed in London: it follows the UK bank holidays (Brent
                // futures, ICE Futures Europe, trade on most of them)
                commodity(
                    "BRENT",
                    "Brent Crude Oil",
                    "USD/bbl",
                    "-100",
                    "500",
                    Calendar::UkBankHolidays,
                ),
                commodity(
                    "NATGAS",
                    "Natural Gas (Henry Hub)",
                    "USD/MMBtu",
                    "-20",
                    "100",
                    Calendar::Nymex,
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
    ) -> Result<(), SelectionError> {
        let join = |names: Vec<&str>| names.join(", ");
        for c in commodities {
            if !self.commodities.contains_key(c) {
                return Err(SelectionError::UnknownCommodity {
                    commodity: c.clone(),
                    configured: join(self.commodities.keys().map(CommodityCode::as_str).collect()),
                });
            }
        }
        for s in sources {
            if self.sources.get(s.as_str()).is_none() {
                return Err(SelectionError::UnknownSource {
                    name: s.clone(),
                    known: join(self.sources.iter().map(|(id, _)| id.as_str()).collect()),
                });
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
    ) -> Result<energy_core::RunMode, WindowError> {
        let today = self.latest_market_today(now);
        if start > today {
            return Err(WindowError::StartsAfterToday { start, today });
        }
        Ok(energy_core::RunMode::Backfill(
            energy_core::DateWindow::new(start, end.unwrap_or(today))?,
        ))
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

    /// The trading calendar of the series (`commodity`, `source`): the source's own for it
    /// (`sources.<name>.calendars`), else the commodity's (weekdays for one no longer
    /// configured).
    pub fn calendar(&self, commodity: &CommodityCode, source: &SourceId) -> Calendar {
        self.sources
            .get(source.as_str())
            .and_then(|p| p.calendars.get(commodity).copied())
            .or_else(|| self.commodities.get(commodity).map(|spec| spec.calendar))
            .unwrap_or(Calendar::Weekdays)
    }

    /// How often `commodity` has a value (daily for one no longer configured).
    pub fn resolution(&self, commodity: &CommodityCode) -> Resolution {
        self.commodities
            .get(commodity)
            .map_or(Resolution::Daily, |spec| spec.resolution)
    }

    /// When the series (`commodity`, `source`) is published: the source's rule for it
    /// (`sources.<name>.publications`), else, for a weekly or monthly commodity, the provider's
    /// rule for that resolution, else the source's (`sources.<name>.publication`); for a
    /// source no longer configured, daily at midnight in the commodity's zone.
    pub fn publication(&self, commodity: &CommodityCode, source: &SourceId) -> Publication {
        let by_resolution = energy_sources::provider_info(source.as_str())
            .and_then(|info| info.publication_at(self.resolution(commodity)));
        self.sources
            .get(source.as_str())
            .map(|p| match (p.publications.get(commodity), by_resolution) {
                (Some(own), _) => *own,
                (None, Some(rule)) => rule,
                (None, None) => p.publication,
            })
            .unwrap_or(Publication::Daily {
                at: chrono::NaiveTime::MIN,
                zone: self
                    .commodities
                    .get(commodity)
                    .map_or(chrono_tz::UTC, |spec| spec.timezone),
            })
    }

    /// What `source`'s series are (spot for a provider this build does not know).
    pub fn instrument(&self, source: &SourceId) -> energy_core::crosscheck::Instrument {
        energy_sources::provider_info(source.as_str())
            .map_or(energy_core::crosscheck::Instrument::Spot, |p| p.instrument)
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
                "monitor.late_after_days",
                outside(self.monitor.late_after_days, 0..=3660, "days"),
            ),
            (
                "monitor.basis_band",
                outside(
                    self.monitor.basis_band,
                    0.0..=10.0,
                    "(a fraction of the price, e.g. 0.25)",
                ),
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
                let resolution = self.resolution(code);
                if let Some(info) = energy_sources::provider_info(name.as_str())
                    && !info.serves(resolution)
                {
                    out.push((
                        format!("sources.{name}.series.{code}"),
                        format!(
                            "{name} does not serve {resolution} series (it serves {}); fetch {code} from another source or change commodities.{code}.resolution",
                            std::iter::once("daily")
                                .chain(info.resolutions.iter().map(|(r, _)| r.name()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
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
        } else if !self.commodities.is_empty()
            && self
                .sources
                .iter()
                .filter(|(_, p)| p.enabled)
                .all(|(_, p)| p.series.keys().all(|c| !self.commodities.contains_key(c)))
        {
            out.push((
                "sources".into(),
                "no enabled source has a series of a configured commodity: there is nothing to fetch; add one under sources.<name>.series (see pipeline.example.yaml)".into(),
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
            out.push(("schedule.cron".into(), e.to_string()));
        }
        for (key, msg) in self.notifications.problems() {
            out.push((format!("notifications.{key}"), msg));
        }
        out
    }
}

/// Parses a 5-field (minute precision) or 6-field (with seconds) cron expression.
pub fn parse_cron(expr: &str) -> Result<croner::Cron, CronError> {
    let fields = expr.split_whitespace().count();
    if !(5..=6).contains(&fields) {
        return Err(CronError::FieldCount {
            expr: expr.to_owned(),
            found: fields,
        });
    }
    let cron = croner::parser::CronParser::builder()
        .seconds(if fields == 6 {
            croner::parser::Seconds::Required
        } else {
            croner::parser::Seconds::Disallowed
        })
        .build()
        .parse(expr)
        .map_err(|e| CronError::Syntax {
            expr: expr.to_owned(),
            reason: e.to_string(),
        })?;
    // A pattern that fires once fires again within the Gregorian calendar's 400-year cycle, so
    // one search from a fixed instant tells a pattern that never fires (February 30th), on
    // whatever day the check runs.
    let since = chrono::DateTime::<chrono::Utc>::from_timestamp(946_684_800, 0)
        .expect("2000-01-01T00:00:00Z");
    if cron.find_next_occurrence(&since, false).is_err() {
        return Err(CronError::NeverFires {
            expr: expr.to_owned(),
        });
    }
    Ok(cron)
}

#[cfg(test)]
mod tests;
