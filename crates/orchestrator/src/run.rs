//! The pipeline run: plan the (source, commodity) batches and their windows from the mode,
//! fetch them concurrently, validate, gate and store each batch atomically, record the run with
//! its report, and notify. One batch failing never stops the others.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, Days, NaiveDate, Utc};
use energy_core::{
    CommodityCode, CommodityReport, CommoditySpec, Counts, DateWindow, RunMode, RunReport,
    RunStatus, SourceId, SourceReport, SourceStatus, Trigger,
    validation::{self, Batch, Gate, RawInvalid},
};
use energy_notify::Notify;
use energy_sources::{BuiltSource, Clock, SeriesRequest, Source, provider_info};
use energy_storage::{RunId, RunStart, Store, StoreError};
use tokio::{sync::Semaphore, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::Config;

/// A run marked `running` whose heartbeat is older than this has lost its process.
const ABANDONED_AFTER: Duration = Duration::from_secs(120);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);
/// Waits between attempts to write a finished run's outcome (a database that blinked).
const RECORD_RETRIES: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    pub mode: RunMode,
    pub trigger: Trigger,
    /// The fire time a scheduled run belongs to.
    pub scheduled_for: Option<DateTime<Utc>>,
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
            sources: Vec::new(),
            commodities: Vec::new(),
        }
    }
}

/// Why a run could not take place at all (its batches' failures are in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Request(String),
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

    /// Registers the configured commodities and sources, so that their rows can be written.
    async fn register_catalog(&self) -> Result<(), StoreError> {
        for (code, spec) in &self.config.commodities {
            self.store.register_commodity(code, spec).await?;
        }
        for (id, _) in self.config.sources.iter() {
            let title = provider_info(id.as_str())
                .map(|p| p.title)
                .unwrap_or(id.as_str());
            self.store.register_source(id, title).await?;
        }
        Ok(())
    }

    /// Marks runs left `running` by a process that is gone as `interrupted`: a process on this
    /// host that no longer exists, or any run whose heartbeat stopped.
    pub async fn recover_abandoned_runs(&self) -> Result<u64, StoreError> {
        let now = (self.clock)();
        let host = host_name();
        let mut n = 0;
        for run in self.store.running_runs().await? {
            let dead_here =
                run.host == host && run.pid != std::process::id() && !process_alive(run.pid);
            let silent = (now - run.heartbeat_at)
                .to_std()
                .is_ok_and(|age| age > ABANDONED_AFTER);
            if (dead_here || silent) && self.store.mark_run_interrupted(run.id, now).await? {
                tracing::warn!(run = %run.uuid, started_at = %run.started_at, "run left unfinished by a process that is gone: marked interrupted");
                n += 1;
            }
        }
        Ok(n)
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
            .check_selection(&request.commodities, &request.sources)
            .map_err(RunError::Request)?;
        self.recover_abandoned_runs().await?;
        self.register_catalog().await?;

        let started_at = (self.clock)();
        let uuid = uuid::Uuid::now_v7().to_string();
        let run_id = self
            .store
            .start_run(&RunStart {
                uuid: uuid.clone(),
                trigger: request.trigger,
                mode: request.mode.kind(),
                scheduled_for: request.scheduled_for,
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
            run_id: uuid,
            trigger,
            scheduled_for,
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
            run_id: uuid,
            trigger: request.trigger,
            scheduled_for: request.scheduled_for,
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
        let recorded = self.record_outcome(run_id, &report).await;
        tracing::info!(run = %report.run_id, status = report.status.name(), stored = counts.stored, "run finished");
        if let Err((error, _)) = &recorded {
            report.error = Some(format!(
                "the run's outcome could not be recorded in the database: {error}"
            ));
        }

        report.notifications = self.notifier.notify(&report).await;
        for n in report.notifications.iter().filter(|n| !n.delivered) {
            tracing::warn!(channel = %n.channel, error = n.error.as_deref().unwrap_or(""), "notification not delivered");
        }
        match recorded {
            Ok(()) => {
                if !report.notifications.is_empty()
                    && let Err(e) = self.store.finish_run(run_id, &report).await
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

    /// Writes a finished run's outcome, retrying while the database blinks; when that keeps
    /// failing, marks the run failed (counts, no report) and logs the report, so that nothing
    /// is lost and no live process leaves it `running`.
    async fn record_outcome(
        &self,
        run: RunId,
        report: &RunReport,
    ) -> Result<(), (StoreError, bool)> {
        let mut attempt = self.store.finish_run(run, report).await;
        for wait in RECORD_RETRIES {
            let Err(e) = &attempt else { break };
            tracing::warn!(run = %report.run_id, error = %e, retry_in = ?wait, "cannot record the run's outcome; retrying");
            tokio::time::sleep(wait).await;
            attempt = self.store.finish_run(run, report).await;
        }
        let Err(error) = attempt else {
            return Ok(());
        };
        let marked_failed = match self
            .store
            .fail_run(run, (self.clock)(), report.counts)
            .await
        {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(run = %report.run_id, error = %e, "cannot mark the run failed either");
                false
            }
        };
        tracing::error!(
            run = %report.run_id,
            error = %error,
            report = %serde_json::to_string(report).unwrap_or_default(),
            "the run's outcome could not be recorded; its report follows"
        );
        Err((error, marked_failed))
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

    fn spawn_heartbeat(&self, run: RunId) -> tokio::task::JoinHandle<()> {
        let (store, clock) = (self.store.clone(), self.clock.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT_EVERY).await;
                if let Err(e) = store.heartbeat_run(run, clock()).await {
                    tracing::warn!(error = %e, "run heartbeat failed");
                }
            }
        })
    }

    /// The batches to fetch, and a report for every source that takes part.
    fn plan(&self, request: &RunRequest) -> (Vec<Job>, BTreeMap<SourceId, SourceReport>) {
        let mut jobs = Vec::new();
        let mut reports = BTreeMap::new();
        let wanted_source =
            |id: &SourceId| request.sources.is_empty() || request.sources.contains(id);
        let wanted_commodity =
            |c: &CommodityCode| request.commodities.is_empty() || request.commodities.contains(c);
        for built in &self.sources {
            let id = built.id().clone();
            if !wanted_source(&id) {
                continue;
            }
            let report = match built {
                BuiltSource::Ready(source) => {
                    let series = self
                        .config
                        .sources
                        .get(id.as_str())
                        .map(|p| p.series.clone())
                        .unwrap_or_default();
                    for (code, series) in series {
                        let Some(spec) = self.config.commodities.get(&code) else {
                            continue;
                        };
                        if wanted_commodity(&code) {
                            jobs.push(Job {
                                source: source.clone(),
                                commodity: code,
                                spec: spec.clone(),
                                series,
                            });
                        }
                    }
                    empty_source_report(&id, SourceStatus::Success, None)
                }
                BuiltSource::Skipped { reason, .. } => {
                    tracing::warn!(source = %id, "{reason}; skipped");
                    empty_source_report(&id, SourceStatus::Skipped, Some(reason.to_string()))
                }
                BuiltSource::Disabled(_) if request.sources.contains(&id) => empty_source_report(
                    &id,
                    SourceStatus::Skipped,
                    Some(format!("{id} is disabled (sources.{id}.enabled)")),
                ),
                BuiltSource::Disabled(_) => continue,
            };
            reports.insert(id, report);
        }
        (jobs, reports)
    }

    async fn execute(
        &self,
        jobs: Vec<Job>,
        request: &RunRequest,
        run: RunId,
        cancel: &CancellationToken,
        progress: &Arc<dyn Progress>,
    ) -> Vec<(SourceId, CommodityReport)> {
        // every batch's window first, so that each provider hears of all its series before
        // the first fetch (EIA fetches the series of one route together)
        let mut planned = Vec::with_capacity(jobs.len());
        let mut announced: BTreeMap<SourceId, (Arc<dyn Source>, Vec<SeriesRequest>)> =
            BTreeMap::new();
        for job in jobs {
            let window = self.window(&job, request.mode).await;
            if let Ok(w) = &window {
                announced
                    .entry(job.source.id().clone())
                    .or_insert_with(|| (job.source.clone(), Vec::new()))
                    .1
                    .push(job.request(*w));
            }
            planned.push((job, window));
        }
        for (source, requests) in announced.values() {
            source.plan(requests);
        }
        // each provider has its own cap, so a slow provider never holds up the others
        let mut permits: BTreeMap<SourceId, Arc<Semaphore>> = BTreeMap::new();
        let mut set = JoinSet::new();
        // what each task is for, so that one that panics is still reported as its batch
        let mut tasks: BTreeMap<tokio::task::Id, (SourceId, CommodityCode, Option<DateWindow>)> =
            BTreeMap::new();
        for (job, window) in planned {
            let source = job.source.id().clone();
            let cap = self.config.max_concurrent_requests(&source);
            let permits = permits
                .entry(source.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(cap.max(1) as usize)))
                .clone();
            let key = (source, job.commodity.clone(), window.as_ref().ok().copied());
            let (this, cancel) = (self.clone(), cancel.clone());
            let handle = set.spawn(async move {
                let source = job.source.id().clone();
                let report = this.run_batch(&job, window, run, &permits, &cancel).await;
                (source, report)
            });
            tasks.insert(handle.id(), key);
        }
        let mut out = Vec::new();
        while let Some(joined) = set.join_next().await {
            let (source, report) = match joined {
                Ok(done) => done,
                Err(e) => {
                    let Some((source, commodity, window)) = tasks.remove(&e.id()) else {
                        tracing::error!(error = %e, "a batch task of no known batch failed");
                        continue;
                    };
                    let error = format!("the batch {}", panic_text(e));
                    tracing::error!(source = %source, commodity = %commodity, error = %error, "batch failed");
                    let report = CommodityReport {
                        commodity,
                        status: SourceStatus::Failed,
                        window,
                        counts: Counts::default(),
                        missing: 0,
                        warnings: 0,
                        quality_score: 0.0,
                        error: Some(error),
                        fetch_seconds: 0.0,
                    };
                    (source, report)
                }
            };
            progress.batch_done(&source, &report.commodity, &report);
            out.push((source, report));
        }
        out.sort_by(|a, b| (&a.0, &a.1.commodity).cmp(&(&b.0, &b.1.commodity)));
        out
    }

    /// Today's date in the market's time zone.
    fn today(&self, spec: &CommoditySpec) -> NaiveDate {
        spec.today((self.clock)())
    }

    async fn window(&self, job: &Job, mode: RunMode) -> Result<DateWindow, StoreError> {
        let today = self.today(&job.spec);
        let p = &self.config.pipeline;
        Ok(match mode {
            RunMode::Backfill(w) => w,
            RunMode::FullRefresh => DateWindow::ending_at(today, p.full_refresh_days),
            RunMode::Incremental => match self
                .store
                .latest_date(&job.commodity, job.source.id())
                .await?
            {
                Some(latest) => {
                    let start = latest
                        .checked_sub_days(Days::new(u64::from(p.revision_days)))
                        .unwrap_or(latest)
                        .min(today);
                    DateWindow::new(start, today)
                        .unwrap_or_else(|_| DateWindow::ending_at(today, 1))
                }
                None => DateWindow::ending_at(today, p.lookback_days),
            },
        })
    }

    async fn run_batch(
        &self,
        job: &Job,
        window: Result<DateWindow, StoreError>,
        run: RunId,
        permits: &Semaphore,
        cancel: &CancellationToken,
    ) -> CommodityReport {
        let source = job.source.id().clone();
        let mut report = CommodityReport {
            commodity: job.commodity.clone(),
            status: SourceStatus::Failed,
            window: None,
            counts: Counts::default(),
            missing: 0,
            warnings: 0,
            quality_score: 1.0,
            error: None,
            fetch_seconds: 0.0,
        };
        let window = match window {
            Ok(w) => w,
            Err(e) => {
                report.error = Some(e.to_string());
                return report;
            }
        };
        report.window = Some(window);
        let _permit = tokio::select! {
            p = permits.acquire() => p.expect("semaphore never closed"),
            () = cancel.cancelled() => {
                report.error = Some("interrupted before fetching".to_owned());
                return report;
            }
        };
        let started = std::time::Instant::now();
        let request = job.request(window);
        let fetched = tokio::select! {
            r = job.source.fetch(&request) => r,
            () = cancel.cancelled() => {
                report.error = Some("interrupted while fetching".to_owned());
                return report;
            }
        };
        let fetch_seconds = started.elapsed().as_secs_f64();
        report.fetch_seconds = fetch_seconds;
        let data = match fetched {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(source = %source, commodity = %job.commodity, error = %e, "fetch failed");
                report.error = Some(e.to_string());
                report.quality_score = 0.0;
                return report;
            }
        };
        tracing::debug!(source = %source, commodity = %job.commodity, rows = data.observations.len(), fetch_seconds, "fetched");
        report.missing = data.missing.len() as u64;

        let history = match self
            .store
            .recent_values(
                &job.commodity,
                &source,
                Some(window.start()),
                self.config.pipeline.validation.jump_window,
            )
            .await
        {
            Ok(h) => h,
            Err(e) => {
                report.error = Some(e.to_string());
                return report;
            }
        };
        let validated = validation::validate(
            Batch {
                commodity: &job.commodity,
                source: &source,
                spec: &job.spec,
                observations: data.observations,
                invalid: data
                    .invalid
                    .into_iter()
                    .map(|i| RawInvalid {
                        date: i.date,
                        raw: i.raw,
                        reason: i.reason,
                    })
                    .collect(),
                history: &history,
                today: self.today(&job.spec),
            },
            &self.config.pipeline.validation,
        );
        report.counts.fetched = validated.received;
        report.warnings = validated.warnings.len() as u64;
        report.quality_score = validated.quality_score();
        // the rows a warn-level rule flagged are detail (DEBUG); the batch's counts are the news
        for w in &validated.warnings {
            tracing::debug!(source = %source, commodity = %job.commodity, date = %w.date, rule = w.rule.name(), "{}", w.reason);
        }
        let (accepted, rejected, gate_error) = match validation::gate(
            validated,
            self.config.pipeline.quality_gate.min_quality_score,
        ) {
            Gate::Passed(v) => (v.accepted, v.rejected, None),
            Gate::Failed {
                rejected, score, ..
            } => {
                let msg = format!(
                    "quality score {score:.3} below the gate {}: the batch was quarantined, nothing stored",
                    self.config.pipeline.quality_gate.min_quality_score
                );
                tracing::warn!(source = %source, commodity = %job.commodity, "{msg}");
                (Vec::new(), rejected, Some(msg))
            }
        };
        if cancel.is_cancelled() {
            report.error = Some("interrupted before storing".to_owned());
            return report;
        }
        match self
            .store
            .write_batch(Some(run), &accepted, &rejected)
            .await
        {
            Ok(w) => {
                report.counts.stored = w.stored();
                report.counts.unchanged = w.unchanged;
                report.counts.rejected = w.quarantined;
                report.status = if gate_error.is_some() {
                    SourceStatus::Failed
                } else {
                    SourceStatus::Success
                };
                report.error = gate_error;
                tracing::info!(
                    source = %source,
                    commodity = %job.commodity,
                    fetched = report.counts.fetched,
                    stored = report.counts.stored,
                    unchanged = report.counts.unchanged,
                    rejected = report.counts.rejected,
                    warnings = report.warnings,
                    "batch stored"
                );
            }
            Err(e) => {
                tracing::error!(source = %source, commodity = %job.commodity, error = %e, "write failed");
                report.error = Some(e.to_string());
            }
        }
        report
    }
}

fn empty_source_report(id: &SourceId, status: SourceStatus, error: Option<String>) -> SourceReport {
    SourceReport {
        source: id.clone(),
        status,
        counts: Counts::default(),
        missing: 0,
        quality_score: 1.0,
        error,
        fetch_seconds: 0.0,
        requests: 0,
        commodities: Vec::new(),
    }
}

/// Aggregates a source's commodity reports into its counts, score and status.
fn finish_source(mut r: SourceReport) -> SourceReport {
    if r.status == SourceStatus::Skipped {
        return r;
    }
    r.counts = r.commodities.iter().map(|c| c.counts).sum();
    r.missing = r.commodities.iter().map(|c| c.missing).sum();
    r.fetch_seconds = r.commodities.iter().map(|c| c.fetch_seconds).sum();
    let failed_fetch = r
        .commodities
        .iter()
        .filter(|c| c.status == SourceStatus::Failed && c.counts.fetched == 0)
        .count();
    r.quality_score = if failed_fetch == r.commodities.len() && !r.commodities.is_empty() {
        0.0
    } else {
        energy_core::quality_score(r.counts.fetched, r.counts.rejected)
    };
    let ok = r
        .commodities
        .iter()
        .filter(|c| c.status == SourceStatus::Success)
        .count();
    r.status = match (ok, r.commodities.len()) {
        (_, 0) => SourceStatus::Success,
        (ok, n) if ok == n => SourceStatus::Success,
        (0, _) => SourceStatus::Failed,
        _ => SourceStatus::Partial,
    };
    let prefix = format!("{}: ", r.source);
    let errors: Vec<String> = r
        .commodities
        .iter()
        .filter_map(|c| {
            c.error
                .as_ref()
                .map(|e| format!("{}: {}", c.commodity, e.strip_prefix(&prefix).unwrap_or(e)))
        })
        .collect();
    if !errors.is_empty() {
        r.error = Some(errors.join("; "));
    }
    r
}

/// This machine's name, for the run ledger.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// Whether a process with this id exists on this machine (Linux: /proc). Elsewhere we cannot
/// tell and say yes, leaving the heartbeat to decide.
fn process_alive(pid: u32) -> bool {
    if std::path::Path::new("/proc/self").exists() {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// What became of a task that ended without its result: "panicked (…): message", or that it
/// was lost.
fn panic_text(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            format!("panicked (a bug; please report it): {message}")
        }
        Err(e) => format!("was lost before it finished: {e}"),
    }
}
