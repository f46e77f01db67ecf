//! The sections this crate owns: `pipeline` (windows, concurrency, the quality gate),
//! `schedule`, `monitor` and `logging`. The adapters own theirs.

use std::{net::SocketAddr, path::PathBuf, str::FromStr};

use chrono::{NaiveTime, Timelike};
use chrono_tz::Tz;
use energy_core::validation::ValidationSettings;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// `monitor`: how freshness and cross-source agreement are judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorConfig {
    /// Trading days a due release may be missing while the series reads LATE; beyond, STALE.
    /// `stale_after_days`, its name before publication rules, is read as this.
    #[serde(alias = "stale_after_days")]
    pub late_after_days: u32,
    /// How far a spot price and the front-month future of the same commodity may be apart on
    /// a date before a run warns, as a fraction of the larger of the two (0.25 = 25%).
    pub basis_band: f64,
    /// Whether the scheduler checks freshness every hour between runs (and alerts on changes).
    pub hourly_check: bool,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            late_after_days: 2,
            basis_band: 0.25,
            hourly_check: true,
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
