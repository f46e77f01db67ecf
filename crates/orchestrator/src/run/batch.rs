//! Running the batches: each provider's batches side by side under its cap, each one fetched,
//! validated, gated and stored on its own; a batch that panics is a failed batch.

use std::{collections::BTreeMap, sync::Arc};

use energy_core::{
    BatchError, CommodityCode, CommodityReport, Counts, DateWindow, ErrorKind, SourceId,
    SourceStatus,
    validation::{self, Batch, Gate},
};
use energy_sources::{SeriesRequest, Source};
use energy_storage::{RunId, StoreError};
use tokio::{sync::Semaphore, task::JoinSet};
use tokio_util::sync::CancellationToken;

use super::{Job, Pipeline, Progress, RunRequest};

impl Pipeline {
    pub(super) async fn execute(
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
                        older_gaps: 0,
                        quality_score: 0.0,
                        error: Some(BatchError::new(ErrorKind::Panicked, error)),
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
            older_gaps: 0,
            quality_score: 1.0,
            error: None,
            fetch_seconds: 0.0,
        };
        let window = match window {
            Ok(w) => w,
            Err(e) => {
                report.error = Some(storage_error(&e));
                return report;
            }
        };
        report.window = Some(window);
        let _permit = tokio::select! {
            p = permits.acquire() => p.expect("semaphore never closed"),
            () = cancel.cancelled() => {
                report.error = Some(BatchError::new(ErrorKind::Interrupted, "interrupted before fetching"));
                return report;
            }
        };
        let started = std::time::Instant::now();
        let request = job.request(window);
        let fetched = tokio::select! {
            r = job.source.fetch(&request) => r,
            () = cancel.cancelled() => {
                report.error = Some(BatchError::new(ErrorKind::Interrupted, "interrupted while fetching"));
                return report;
            }
        };
        let fetch_seconds = started.elapsed().as_secs_f64();
        report.fetch_seconds = fetch_seconds;
        let data = match fetched {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(source = %source, commodity = %job.commodity, error = %e, "fetch failed");
                report.error = Some(e.to_batch_error());
                report.quality_score = 0.0;
                return report;
            }
        };
        tracing::debug!(source = %source, commodity = %job.commodity, rows = data.observations.len(), fetch_seconds, "fetched");
        report.missing = data.missing.len() as u64;

        let history = match self
            .store
            .observations()
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
                report.error = Some(storage_error(&e));
                return report;
            }
        };
        let validated = validation::validate(
            Batch {
                commodity: &job.commodity,
                source: &source,
                spec: &job.spec,
                observations: data.observations,
                invalid: data.invalid,
                outside: data.outside,
                calendar: self.config.calendar(&job.commodity, &source),
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
                (
                    Vec::new(),
                    rejected,
                    Some(BatchError::new(ErrorKind::QualityGate, msg)),
                )
            }
        };
        if cancel.is_cancelled() {
            report.error = Some(BatchError::new(
                ErrorKind::Interrupted,
                "interrupted before storing",
            ));
            return report;
        }
        match self
            .store
            .observations()
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
                report.error = Some(storage_error(&e));
            }
        }
        report
    }
}

/// A store failure as a batch's error.
fn storage_error(e: &StoreError) -> BatchError {
    BatchError::new(ErrorKind::Storage, e.to_string())
}

/// What became of a task that ended without its result: "panicked (…): message", or that it
/// was lost.
pub(super) fn panic_text(e: tokio::task::JoinError) -> String {
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
