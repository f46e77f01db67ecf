//! The pipeline run: plan the (source, commodity) batches and their windows from the mode,
//! fetch them concurrently, validate, gate and store each batch atomically, record the run with
//! its report, and notify. One batch failing never stops the others.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Utc};
use energy_core::Clock;
use energy_core::{
    CommodityCode, CommodityReport, CommoditySpec, Counts, DateWindow, RunMode, RunReport,
    RunStatus, SourceId, SourceReport, Trigger,
};
use energy_notify::Notify;
use energy_sources::{BuiltSource, SeriesRequest, Source, provider_info};
use energy_storage::{RunId, RunStart, Store, StoreError};
use tokio_util::sync::CancellationToken;

use crate::Config;

mod batch;
mod crosscheck;
mod host;
mod older_gaps;
mod plan;
mod record;
mod report;

use batch::panic_text;
pub use host::{host_name, process_alive};
use report::{empty_source_report, finish_source};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    pub mode: RunMode,
    pub trigger: Trigger,
    /// The fire time a scheduled run belongs to.
    pub scheduled_for: Option<DateTime<Utc>>,
    /// The attempt at that fire time this run is, in the schedule's ledger: its notification
    /// is sent only while the attempt holds the fire time and none was sent for it before.
    pub fire: Option<FireAttempt>,
    /// Only these sources (empty: every enabled one).
    pub sources: Vec<SourceId>,
    /// Only these commodities (empty: every configured one).
    pub commodities: Vec<CommodityCode>,
}

impl RunRequest {
    pub fn manual(mode: RunMode) -> Self {
        Self {
            mode,
            trigger: Trigger::Manual,
            scheduled_for: None,
            fire: None,
            sources: Vec::new(),
            commodities: Vec::new(),
        }
    }

    /// Which attempt at its fire time this run is, for a scheduled run.
    pub fn attempt(&self) -> Option<u32> {
        self.fire.as_ref().map(|f| f.attempt)
    }
}

/// Which claim of a fire time a scheduled run is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireAttempt {
    /// The schedule's key in the ledger.
    pub schedule_key: String,
    /// 1, or more after takeovers.
    pub attempt: u32,
}

/// Why a run could not take place at all (its batches' failures are in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request names a commodity or source that is not configured: a usage error.
    #[error(transparent)]
    Selection(#[from] crate::config::SelectionError),
    /// The task the run went on in ended without a result (cancelled, or a panic outside the
    /// run's own guard): the run had started; what it recorded is in the run history.
    #[error("the run's task ended without a result: {0}")]
    TaskEnded(String),
    /// The run took place but its outcome could not be written, even after retries. The report
    /// is here (and in the log); the run is marked failed if even that could be written,
    /// otherwise the next command marks it interrupted.
    #[error(
        "the run finished {} but its outcome could not be recorded: {error}; {}",
        report.status.name().to_uppercase(),
        if *marked_failed {
            "it is recorded as failed, and its report is in the log"
        } else {
            "its report is in the log, and the next command marks it interrupted"
        }
    )]
    NotRecorded {
        run: RunId,
        report: Box<RunReport>,
        error: StoreError,
        marked_failed: bool,
    },
    /// The run panicked (a bug): it is recorded failed with the panic in its error, when the
    /// database allowed.
    #[error("{}", report.error.as_deref().unwrap_or("the run panicked"))]
    Panicked {
        run: RunId,
        report: Box<RunReport>,
        recorded: bool,
    },
}

/// Receives progress, e.g. for a progress bar. Every method has an empty default.
pub trait Progress: Send + Sync {
    fn planned(&self, _batches: usize) {}
    fn batch_done(
        &self,
        _source: &SourceId,
        _commodity: &CommodityCode,
        _report: &CommodityReport,
    ) {
    }
}

/// No progress display.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// The run's dependencies, injected: the binaries pass real ones, tests fakes.
#[derive(Clone)]
pub struct Pipeline {
    config: Arc<Config>,
    store: Store,
    sources: Vec<BuiltSource>,
    notifier: Arc<dyn Notify>,
    clock: Clock,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("store", &self.store)
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// One (source, commodity) batch to fetch.
struct Job {
    source: Arc<dyn Source>,
    commodity: CommodityCode,
    spec: CommoditySpec,
    series: String,
}

impl Job {
    /// What to ask the provider for over `window`.
    fn request(&self, window: DateWindow) -> SeriesRequest {
        SeriesRequest {
            commodity: self.commodity.clone(),
            series: self.series.clone(),
            unit: self.spec.unit.clone(),
            window,
            resolution: self.spec.resolution,
        }
    }
}

impl Pipeline {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        sources: Vec<BuiltSource>,
        notifier: Arc<dyn Notify>,
        clock: Clock,
    ) -> Self {
        Self {
            config,
            store,
            sources,
            notifier,
            clock,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Its configuration, notifier and clock, for the freshness check.
    pub(crate) fn parts(&self) -> (&Config, &dyn Notify, &Clock) {
        (&self.config, self.notifier.as_ref(), &self.clock)
    }

    /// Registers the configured commodities and sources, so that their rows can be written.
    async fn register_catalog(&self) -> Result<(), StoreError> {
        for (code, spec) in &self.config.commodities {
            self.store.catalog().register_commodity(code, spec).await?;
        }
        for (id, _) in self.config.sources.iter() {
            let title = provider_info(id.as_str())
                .map(|p| p.title)
                .unwrap_or(id.as_str());
            self.store.catalog().register_source(id, title).await?;
        }
        Ok(())
    }

    /// Runs the pipeline once. `cancel` stops it cleanly: batches not yet written are skipped,
    /// what was written stays, and the run is recorded as interrupted.
    pub async fn run(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
        progress: Arc<dyn Progress>,
    ) -> Result<RunReport, RunError> {
        self.run_recorded(request, cancel, progress)
            .await
            .map(|(_, report)| report)
    }

    /// As [`Pipeline::run`], with the run's id in the store.
    pub async fn run_recorded(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
        progress: Arc<dyn Progress>,
    ) -> Result<(RunId, RunReport), RunError> {
        self.config
            .check_selection(&request.commodities, &request.sources)?;
        self.recover_abandoned_runs().await?;
        self.register_catalog().await?;

        let started_at = (self.clock)();
        let uuid = uuid::Uuid::now_v7().to_string();
        let run_id = self
            .store
            .runs()
            .start(&RunStart {
                uuid: uuid.clone(),
                trigger: request.trigger,
                mode: request.mode.kind(),
                scheduled_for: request.scheduled_for,
                attempt: request.attempt(),
                started_at,
                host: host_name(),
                pid: std::process::id(),
            })
            .await?;
        tracing::info!(run = %uuid, mode = request.mode.name(), "run started");
        let heartbeat = self.spawn_heartbeat(run_id);
        // The run goes on in a task of its own, so that a panic in it (a bug) still ends as a
        // recorded, failed run instead of one left running.
        let (trigger, scheduled_for, mode) =
            (request.trigger, request.scheduled_for, request.mode.kind());
        let attempt = request.attempt();
        let task = tokio::spawn({
            let this = self.clone();
            let uuid = uuid.clone();
            async move {
                this.run_started(run_id, uuid, started_at, request, cancel, progress)
                    .await
            }
        });
        let joined = task.await;
        heartbeat.abort();
        let error = match joined {
            Ok(outcome) => return outcome,
            Err(e) => format!("the run {}", panic_text(e)),
        };
        tracing::error!(run = %uuid, error = %error, "run failed");
        let finished_at = (self.clock)();
        let report = RunReport {
            cross_source: Vec::new(),
            cross_source_warnings: 0,
            run_id: uuid,
            trigger,
            scheduled_for,
            attempt,
            mode,
            status: RunStatus::Failed,
            started_at,
            finished_at: Some(finished_at),
            duration_seconds: (finished_at - started_at).num_milliseconds().max(0) as f64 / 1000.0,
            window: None,
            sources: Vec::new(),
            counts: Counts::default(),
            notifications: Vec::new(),
            error: Some(error),
        };
        let recorded = self.record_outcome(run_id, &report).await;
        Err(RunError::Panicked {
            run: run_id,
            report: Box::new(report),
            recorded: recorded.is_ok(),
        })
    }

    /// The run after its record exists: fetch, validate, gate, store, record, notify.
    async fn run_started(
        &self,
        run_id: RunId,
        uuid: String,
        started_at: DateTime<Utc>,
        request: RunRequest,
        cancel: CancellationToken,
        progress: Arc<dyn Progress>,
    ) -> Result<(RunId, RunReport), RunError> {
        let (jobs, mut source_reports) = self.plan(&request);
        progress.planned(jobs.len());
        let requests_before = self.http_requests();
        let results = self
            .execute(jobs, &request, run_id, &cancel, &progress)
            .await;
        for (id, after) in self.http_requests() {
            if let Some(r) = source_reports.get_mut(&id) {
                r.requests = after - requests_before.get(&id).copied().unwrap_or(0);
            }
        }

        for (source, commodity_report) in results {
            if let Some(r) = source_reports.get_mut(&source) {
                r.commodities.push(commodity_report);
            }
        }
        let sources: Vec<SourceReport> = source_reports.into_values().map(finish_source).collect();
        let counts: Counts = sources.iter().map(|s| s.counts).sum();
        let window = sources
            .iter()
            .flat_map(|s| s.commodities.iter().filter_map(|c| c.window))
            .reduce(|a, b| a.union(&b));
        let status = if cancel.is_cancelled() {
            RunStatus::Interrupted
        } else {
            RunStatus::from_sources(sources.iter().map(|s| &s.status))
        };
        let finished_at = (self.clock)();
        let mut report = RunReport {
            cross_source: Vec::new(),
            cross_source_warnings: 0,
            run_id: uuid,
            trigger: request.trigger,
            scheduled_for: request.scheduled_for,
            attempt: request.attempt(),
            mode: request.mode.kind(),
            status,
            started_at,
            finished_at: Some(finished_at),
            duration_seconds: (finished_at - started_at).num_milliseconds().max(0) as f64 / 1000.0,
            window,
            sources,
            counts,
            notifications: Vec::new(),
            error: None,
        };
        if !cancel.is_cancelled() {
            crosscheck::annotate(&self.config, &self.store, &mut report).await;
            older_gaps::annotate(&self.config, &self.store, &mut report).await;
        }
        let recorded = self.record_outcome(run_id, &report).await;
        tracing::info!(run = %report.run_id, status = report.status.name(), stored = counts.stored, "run finished");
        if let Err((error, _)) = &recorded {
            report.error = Some(format!(
                "the run's outcome could not be recorded in the database: {error}"
            ));
        }

        if self.may_notify(&request, &report).await {
            report.notifications = self.notifier.notify(&report).await;
        }
        for n in report.notifications.iter().filter(|n| !n.delivered) {
            tracing::warn!(channel = %n.channel, error = n.error.as_deref().unwrap_or(""), "notification not delivered");
        }
        match recorded {
            Ok(()) => {
                if !report.notifications.is_empty()
                    && let Err(e) = self.store.runs().finish(run_id, &report).await
                {
                    // the outcome is recorded; only the delivery results are not
                    tracing::warn!(run = %report.run_id, error = %e, "cannot record the notification results");
                }
                Ok((run_id, report))
            }
            Err((error, marked_failed)) => Err(RunError::NotRecorded {
                run: run_id,
                report: Box::new(report),
                error,
                marked_failed,
            }),
        }
    }

    /// HTTP requests each ready source has sent so far.
    fn http_requests(&self) -> BTreeMap<SourceId, u64> {
        self.sources
            .iter()
            .filter_map(|b| match b {
                BuiltSource::Ready(s) => Some((s.id().clone(), s.http_requests())),
                _ => None,
            })
            .collect()
    }
}
