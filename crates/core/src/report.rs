//! What a run did: per commodity, per source and overall, as printed by `run --json` and stored
//! with every run.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{BatchError, CommodityCode, DateWindow, ModeKind, SourceId, Trigger};

/// Row counts of one batch or an aggregate of batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Observations received from the provider (missing days not included).
    pub fetched: u64,
    /// Rows inserted or changed in the store.
    pub stored: u64,
    /// Rows already stored with the same value.
    pub unchanged: u64,
    /// Rows quarantined by validation or by the quality gate.
    pub rejected: u64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.fetched += other.fetched;
        self.stored += other.stored;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
    }
}

impl std::iter::Sum for Counts {
    fn sum<I: Iterator<Item = Counts>>(iter: I) -> Self {
        iter.fold(Counts::default(), |mut acc, c| {
            acc.add(&c);
            acc
        })
    }
}

/// Overall outcome of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going (only ever seen in run history, never in a finished report).
    Running,
    Success,
    /// Some sources or commodities failed; the rest was stored.
    Partial,
    Failed,
    /// Stopped by a signal or a crash before it finished; what was committed stays.
    Interrupted,
}

impl RunStatus {
    pub fn name(&self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// Derives the run's status from its sources' statuses. Skipped sources (disabled for this
    /// run, or missing their API key) neither help nor hurt; a run with nothing but skipped
    /// sources did nothing and has failed.
    pub fn from_sources<'a>(statuses: impl IntoIterator<Item = &'a SourceStatus>) -> Self {
        let (mut ok, mut bad, mut mixed) = (0, 0, 0);
        for s in statuses {
            match s {
                SourceStatus::Success => ok += 1,
                SourceStatus::Failed => bad += 1,
                SourceStatus::Partial => mixed += 1,
                SourceStatus::Skipped => {}
            }
        }
        match (ok, bad, mixed) {
            (0, 0, 0) => RunStatus::Failed,
            (_, 0, 0) => RunStatus::Success,
            (0, _, 0) => RunStatus::Failed,
            _ => RunStatus::Partial,
        }
    }
}

/// Outcome of one source (or one commodity of a source) in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Success,
    Partial,
    Failed,
    Skipped,
}

impl SourceStatus {
    pub fn name(&self) -> &'static str {
        match self {
            SourceStatus::Success => "success",
            SourceStatus::Partial => "partial",
            SourceStatus::Failed => "failed",
            SourceStatus::Skipped => "skipped",
        }
    }
}

/// One (source, commodity) batch of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommodityReport {
    pub commodity: CommodityCode,
    pub status: SourceStatus,
    /// The market dates asked of the provider.
    pub window: Option<DateWindow>,
    #[serde(flatten)]
    pub counts: Counts,
    /// Days the provider listed without a value (FRED's "."): neither stored nor rejected.
    #[serde(default)]
    pub missing: u64,
    /// Stored rows that a warn-level validation rule flagged.
    #[serde(default)]
    pub warnings: u64,
    /// Trading days without a stored value before the window (older than the run re-fetched):
    /// `energy-pipeline gaps` lists them, a backfill over them fetches them again.
    #[serde(default)]
    pub older_gaps: u64,
    /// Accepted over received, in [0, 1]; 1 when nothing was received.
    pub quality_score: f64,
    pub error: Option<BatchError>,
    /// Wall time of the fetch (all pages and retries).
    #[serde(default)]
    pub fetch_seconds: f64,
}

/// One source of a run, with its commodities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceReport {
    pub source: SourceId,
    pub status: SourceStatus,
    #[serde(flatten)]
    pub counts: Counts,
    #[serde(default)]
    pub missing: u64,
    /// Accepted over received across the source's commodities, in [0, 1].
    pub quality_score: f64,
    pub error: Option<BatchError>,
    /// Wall time spent fetching from this source, summed over its commodities.
    #[serde(default)]
    pub fetch_seconds: f64,
    /// HTTP requests sent to this source during the run (pages and retries).
    #[serde(default)]
    pub requests: u64,
    pub commodities: Vec<CommodityReport>,
}

/// The delivery of one notification channel after a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationReport {
    pub channel: String,
    pub delivered: bool,
    pub error: Option<String>,
}

/// Cross-source warnings listed in a report; the rest are counted.
pub const CROSS_SOURCE_LISTED: usize = 20;

/// Everything a run did: the JSON of `run --json`, stored with the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub run_id: String,
    pub trigger: Trigger,
    /// The fire time a scheduled run belongs to.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Which attempt at its fire time a scheduled run is: 1, or 2, 3, … when the fire time was
    /// taken over from a scheduler that died. Absent for runs not started by a schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    pub mode: ModeKind,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_seconds: f64,
    /// The span of market dates the run asked for, over all series.
    pub window: Option<DateWindow>,
    pub sources: Vec<SourceReport>,
    #[serde(flatten)]
    pub counts: Counts,
    /// Notification deliveries; a failed channel never changes `status`.
    #[serde(default)]
    pub notifications: Vec<NotificationReport>,
    /// Where sources disagree on a date within the run's window (at most
    /// [`CROSS_SOURCE_LISTED`]; `cross_source_warnings` counts them all). Warnings: the run's
    /// status does not change.
    #[serde(default)]
    pub cross_source: Vec<crate::crosscheck::CrossSourceWarning>,
    #[serde(default)]
    pub cross_source_warnings: u64,
    /// Why the run failed as a whole, when it did not get as far as its sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunReport {
    /// Why the run did not fully succeed, in one line: the run's own error, else the first
    /// failed batch as `source COMMODITY: message` and how many others failed. `None` when no
    /// error was recorded.
    pub fn failure_summary(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(e.clone());
        }
        let mut failed = self.sources.iter().flat_map(|s| {
            let own = s
                .error
                .as_ref()
                .filter(|_| s.commodities.iter().all(|c| c.error.is_none()))
                .map(|e| format!("{}: {}", s.source, e.message));
            own.into_iter()
                .chain(s.commodities.iter().filter_map(move |c| {
                    Some(format!(
                        "{} {}: {}",
                        s.source,
                        c.commodity,
                        c.error.as_ref()?.message
                    ))
                }))
        });
        let first = failed.next()?;
        let more = failed.count();
        Some(match more {
            0 => first,
            n => format!("{first} (and {n} more)"),
        })
    }
}

/// Quality score of a batch: accepted over received, 1 when nothing was received.
pub fn quality_score(received: u64, rejected: u64) -> f64 {
    if received == 0 {
        1.0
    } else {
        (received.saturating_sub(rejected)) as f64 / received as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_status_follows_its_sources() {
        use SourceStatus::*;
        assert_eq!(
            RunStatus::from_sources(&[Success, Success]),
            RunStatus::Success
        );
        assert_eq!(
            RunStatus::from_sources(&[Success, Skipped]),
            RunStatus::Success
        );
        assert_eq!(
            RunStatus::from_sources(&[Success, Failed]),
            RunStatus::Partial
        );
        assert_eq!(RunStatus::from_sources(&[Partial]), RunStatus::Partial);
        assert_eq!(
            RunStatus::from_sources(&[Failed, Failed]),
            RunStatus::Failed
        );
        assert_eq!(RunStatus::from_sources(&[Skipped]), RunStatus::Failed);
        assert_eq!(RunStatus::from_sources(&[]), RunStatus::Failed);
    }

    #[test]
    fn quality_score_stays_in_unit_interval() {
        assert_eq!(quality_score(0, 0), 1.0);
        assert_eq!(quality_score(4, 1), 0.75);
        assert_eq!(quality_score(2, 5), 0.0);
    }

    #[test]
    fn report_serialises_to_the_interface_shape() {
        let report = RunReport {
            cross_source: Vec::new(),
            cross_source_warnings: 0,
            run_id: "r1".into(),
            trigger: Trigger::Manual,
            scheduled_for: None,
            attempt: None,
            mode: ModeKind::FullRefresh,
            status: RunStatus::Success,
            started_at: "2026-11-25T06:00:00Z".parse().unwrap(),
            finished_at: Some("2026-11-25T06:00:01Z".parse().unwrap()),
            duration_seconds: 0.84,
            window: Some(
                DateWindow::new("2016-11-27".parse().unwrap(), "2026-11-25".parse().unwrap())
                    .unwrap(),
            ),
            sources: vec![SourceReport {
                source: SourceId::new("eia").unwrap(),
                status: SourceStatus::Success,
                counts: Counts {
                    fetched: 2,
                    stored: 2,
                    unchanged: 0,
                    rejected: 0,
                },
                missing: 0,
                quality_score: 1.0,
                error: None,
                fetch_seconds: 0.1,
                requests: 0,
                commodities: vec![],
            }],
            counts: Counts {
                fetched: 2,
                stored: 2,
                unchanged: 0,
                rejected: 0,
            },
            notifications: vec![],
            error: None,
        };
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(v["mode"], "full_refresh");
        assert_eq!(v["trigger"], "manual");
        assert_eq!(v["status"], "success");
        assert_eq!(v["window"]["start"], "2016-11-27");
        assert_eq!(v["sources"][0]["fetched"], 2);
        assert_eq!(v["sources"][0]["error"], serde_json::Value::Null);
        assert_eq!(v["stored"], 2);
        assert!(v.get("error").is_none());
        let back: RunReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, report);
    }
}
