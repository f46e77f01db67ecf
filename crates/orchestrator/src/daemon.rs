//! The scheduler daemon: computes fire times, claims each one in the database ledger (so that
//! several schedulers on one PostgreSQL run it exactly once), applies the misfire rule, never
//! overlaps runs, heartbeats, and stops cleanly on request (a signal or `schedule stop`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use energy_core::{RunMode, RunReport, RunStatus, Trigger};
use energy_sources::Clock;
use energy_storage::{
    Backend, FireState, InstanceState, RunId, SchedulerRecord, Store, StoreError,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{NoProgress, Pipeline, RunError, RunRequest, run::host_name, schedule::Schedule};

/// A scheduler whose heartbeat is older than this is dead, not running.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "another scheduler is running on this SQLite database ({host}, pid {pid}, heartbeat {age} s ago); stop it first (`energy-pipeline schedule stop`), or use PostgreSQL to run several"
    )]
    AlreadyRunning { host: String, pid: u32, age: i64 },
    /// The schedule in the configuration cannot be used: a configuration error.
    #[error("{0}")]
    Schedule(String),
    /// The endpoints' address cannot be bound (in use, not this machine's): operational.
    #[error("cannot listen on {addr} (schedule.listen): {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// Tunables of the loop; the defaults suit production, tests shorten them.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Fire times missed by more than this are recorded as missed, not run.
    pub misfire_grace_seconds: u64,
    /// How often the heartbeat is written (and a stop request noticed).
    pub heartbeat_every: Duration,
    /// How long an in-flight run may go on after a stop before it is interrupted.
    pub stop_grace: Duration,
    /// What each scheduled run does.
    pub mode: RunMode,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        Self {
            misfire_grace_seconds: 3600,
            heartbeat_every: Duration::from_secs(5),
            stop_grace: Duration::from_secs(5),
            mode: RunMode::Incremental,
        }
    }
}

/// What the HTTP endpoints read: when the loop last turned, and the next fire time.
#[derive(Debug, Default)]
pub struct Liveness {
    last_loop_unix_ms: AtomicI64,
    next_fire_unix: AtomicI64,
}

impl Liveness {
    /// Seconds since the loop last turned (None before it first did).
    pub fn loop_age(&self, now: DateTime<Utc>) -> Option<f64> {
        let ms = self.last_loop_unix_ms.load(Ordering::Relaxed);
        (ms != 0).then(|| (now.timestamp_millis() - ms) as f64 / 1000.0)
    }

    pub fn next_fire(&self) -> Option<DateTime<Utc>> {
        let s = self.next_fire_unix.load(Ordering::Relaxed);
        (s != 0).then(|| DateTime::from_timestamp(s, 0)).flatten()
    }
}

/// The scheduler daemon.
pub struct Daemon {
    pipeline: Pipeline,
    schedule: Schedule,
    options: DaemonOptions,
    clock: Clock,
    instance_id: String,
    liveness: Arc<Liveness>,
    /// Finished runs whose outcome could not be written yet.
    unrecorded: tokio::sync::Mutex<Vec<(RunId, Box<RunReport>)>>,
    /// Fire times whose outcome could not be written yet.
    unfinished: tokio::sync::Mutex<Vec<FireOutcome>>,
}

/// How a fire time ended, kept until it is written.
#[derive(Debug, Clone)]
struct FireOutcome {
    scheduled_for: DateTime<Utc>,
    state: FireState,
    run: Option<RunId>,
    note: String,
}

/// What came of claiming a fire time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// Ours to act on.
    Claimed,
    /// Another scheduler has it.
    Taken,
    /// The database could not be asked: try again later.
    Failed,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("schedule", &self.schedule)
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

struct InFlight {
    scheduled_for: DateTime<Utc>,
    cancel: CancellationToken,
    handle: JoinHandle<Result<(RunId, RunReport), RunError>>,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight")
            .field("scheduled_for", &self.scheduled_for)
            .finish_non_exhaustive()
    }
}

impl Daemon {
    pub fn new(
        pipeline: Pipeline,
        schedule: Schedule,
        options: DaemonOptions,
        clock: Clock,
    ) -> Self {
        let instance_id = format!(
            "{}:{}:{}",
            host_name(),
            std::process::id(),
            uuid::Uuid::now_v7()
        );
        Self {
            pipeline,
            schedule,
            options,
            clock,
            instance_id,
            liveness: Arc::new(Liveness::default()),
            unrecorded: tokio::sync::Mutex::new(Vec::new()),
            unfinished: tokio::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn liveness(&self) -> Arc<Liveness> {
        self.liveness.clone()
    }

    pub fn store(&self) -> &Store {
        self.pipeline.store()
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// Registers this process; on SQLite, refuses when another live scheduler is registered.
    async fn register(&self, now: DateTime<Utc>) -> Result<(), DaemonError> {
        let store = self.store();
        if store.backend() == Backend::Sqlite {
            let schedulers = store.schedulers().await?;
            if let (SchedulerState::Running, Some(s)) = scheduler_state(&schedulers, now) {
                return Err(DaemonError::AlreadyRunning {
                    host: s.host.clone(),
                    pid: s.pid,
                    age: (now - s.heartbeat_at).num_seconds(),
                });
            }
        }
        store
            .register_scheduler(&SchedulerRecord {
                instance_id: self.instance_id.clone(),
                host: host_name(),
                pid: std::process::id(),
                started_at: now,
                heartbeat_at: now,
                next_fire_at: self.schedule.next_after(now),
                state: InstanceState::Running,
                stop_requested: false,
            })
            .await?;
        Ok(())
    }

    /// Runs until `stop` is cancelled or a stop is requested through the database.
    pub async fn run(&self, stop: CancellationToken) -> Result<(), DaemonError> {
        let key = self.schedule.key();
        let start = (self.clock)();
        self.register(start).await?;
        tracing::info!(
            schedule = %self.schedule.pattern(),
            timezone = %self.schedule.timezone(),
            instance = %self.instance_id,
            next = ?self.schedule.next_after(start),
            "scheduler started"
        );
        // Where to look for fire times missed while no scheduler ran: since the last recorded
        // one (at most 31 days back). A first start of this schedule on this database owes
        // nothing from before it: it starts with the next fire time.
        let mut checked = match self.store().latest_fire(&key).await? {
            Some(t) => t.max(start - chrono::Duration::days(31)),
            None => start,
        };
        let mut in_flight: Option<InFlight> = None;
        let mut last_heartbeat: Option<std::time::Instant> = None;
        loop {
            let now = (self.clock)();
            self.liveness
                .last_loop_unix_ms
                .store(now.timestamp_millis(), Ordering::Relaxed);
            if in_flight.as_ref().is_some_and(|f| f.handle.is_finished())
                && let Some(f) = in_flight.take()
            {
                self.reap(&key, f).await;
            }
            let due = self
                .schedule
                .due(checked, now, self.options.misfire_grace_seconds);
            // A fire time whose claim failed (the database is away) is looked at again at the
            // next turn: then it runs if still within the grace, or is recorded missed.
            let mut retry_from: Option<DateTime<Utc>> = None;
            let mut failed = |t: DateTime<Utc>| {
                let before = t - chrono::Duration::seconds(1);
                retry_from = Some(retry_from.map_or(before, |r: DateTime<Utc>| r.min(before)));
            };
            // each fire time is recorded; the log says it once per kind
            if let (Some(first), Some(last)) = (due.missed.first(), due.missed.last()) {
                tracing::warn!(
                    count = due.missed.len(),
                    first = %first.to_rfc3339(),
                    last = %last.to_rfc3339(),
                    grace_seconds = self.options.misfire_grace_seconds,
                    "fire times missed beyond misfire_grace_seconds: recorded as missed, not run"
                );
            }
            for t in &due.missed {
                let note = format!(
                    "missed by {} s, beyond misfire_grace_seconds ({})",
                    (now - *t).num_seconds(),
                    self.options.misfire_grace_seconds
                );
                if self.claim(&key, *t, FireState::Missed, Some(&note)).await == Claim::Failed {
                    failed(*t);
                }
            }
            if let Some(t) = due.run {
                if let (Some(first), Some(last)) = (due.coalesced.first(), due.coalesced.last()) {
                    tracing::info!(
                        count = due.coalesced.len(),
                        first = %first.to_rfc3339(),
                        last = %last.to_rfc3339(),
                        into = %t.to_rfc3339(),
                        "fire times coalesced into one run"
                    );
                }
                for c in &due.coalesced {
                    let note = format!("coalesced into the run for {}", t.to_rfc3339());
                    if self
                        .claim(&key, *c, FireState::Coalesced, Some(&note))
                        .await
                        == Claim::Failed
                    {
                        failed(*c);
                    }
                }
                let claimed = if let Some(f) = &in_flight {
                    let note = format!(
                        "the run for {} was still going",
                        f.scheduled_for.to_rfc3339()
                    );
                    self.claim(&key, t, FireState::Skipped, Some(&note)).await
                } else {
                    let claimed = self.claim(&key, t, FireState::Running, None).await;
                    if claimed == Claim::Claimed {
                        in_flight = Some(self.start_run(t));
                    }
                    claimed
                };
                if claimed == Claim::Failed {
                    failed(t);
                }
            }
            checked = retry_from.unwrap_or(now);
            let next = self.schedule.next_after(now);
            self.liveness
                .next_fire_unix
                .store(next.map(|t| t.timestamp()).unwrap_or(0), Ordering::Relaxed);
            if last_heartbeat.is_none_or(|at| at.elapsed() >= self.options.heartbeat_every) {
                last_heartbeat = Some(std::time::Instant::now());
                self.record_unrecorded().await;
                self.resolve_stuck_fires(&key, now).await;
                match self
                    .store()
                    .scheduler_heartbeat(&self.instance_id, now, next)
                    .await
                {
                    Ok(true) => {
                        tracing::info!("stop requested through the database");
                        stop.cancel();
                    }
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "scheduler heartbeat failed"),
                }
            }
            if stop.is_cancelled() {
                break;
            }
            // wake at the next fire time, or within a second to notice stops, finished runs
            // and wall-clock jumps (a machine that slept)
            let until_next = next
                .and_then(|t| (t - now).to_std().ok())
                .unwrap_or(Duration::from_secs(1));
            let wait = until_next.clamp(Duration::from_millis(10), Duration::from_secs(1));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stop.cancelled() => {}
            }
        }
        if let Some(f) = in_flight.take() {
            tracing::info!(
                grace = ?self.options.stop_grace,
                "waiting for the run in flight before stopping"
            );
            let deadline = tokio::time::Instant::now() + self.options.stop_grace;
            while !f.handle.is_finished() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if !f.handle.is_finished() {
                tracing::warn!("the run in flight did not finish in time: interrupting it");
                f.cancel.cancel();
            }
            self.reap(&key, f).await;
        }
        self.record_unrecorded().await;
        self.store()
            .scheduler_stopped(&self.instance_id, (self.clock)())
            .await?;
        tracing::info!(instance = %self.instance_id, "scheduler stopped");
        Ok(())
    }

    /// Claims a fire time.
    async fn claim(
        &self,
        key: &str,
        t: DateTime<Utc>,
        state: FireState,
        note: Option<&str>,
    ) -> Claim {
        match self
            .store()
            .claim_fire(key, t, state, &self.instance_id, (self.clock)(), note)
            .await
        {
            Ok(true) => {
                // missed and coalesced ones were summed up in one line already
                if matches!(state, FireState::Missed | FireState::Coalesced) {
                    tracing::debug!(scheduled_for = %t.to_rfc3339(), state = state.name(), note, "fire time claimed");
                } else {
                    tracing::info!(scheduled_for = %t.to_rfc3339(), state = state.name(), note, "fire time claimed");
                }
                Claim::Claimed
            }
            Ok(false) => {
                tracing::debug!(scheduled_for = %t.to_rfc3339(), "fire time already claimed by another scheduler");
                Claim::Taken
            }
            Err(e) => {
                tracing::error!(scheduled_for = %t.to_rfc3339(), error = %e, "cannot claim the fire time; it is looked at again when the database answers");
                Claim::Failed
            }
        }
    }

    fn start_run(&self, scheduled_for: DateTime<Utc>) -> InFlight {
        let cancel = CancellationToken::new();
        let pipeline = self.pipeline.clone();
        let request = RunRequest {
            trigger: Trigger::Schedule,
            scheduled_for: Some(scheduled_for),
            ..RunRequest::manual(self.options.mode)
        };
        let token = cancel.clone();
        let handle = tokio::spawn(async move {
            pipeline
                .run_recorded(request, token, Arc::new(NoProgress))
                .await
        });
        InFlight {
            scheduled_for,
            cancel,
            handle,
        }
    }

    /// Writes the outcomes of runs whose recording failed; a live scheduler never leaves its
    /// runs `running`.
    async fn record_unrecorded(&self) {
        let mut pending = self.unrecorded.lock().await;
        let mut still = Vec::new();
        for (run, report) in pending.drain(..) {
            match self.store().finish_run(run, &report).await {
                Ok(()) => {
                    tracing::info!(run = %report.run_id, status = report.status.name(), "the run's outcome is recorded at last")
                }
                Err(e) => {
                    tracing::warn!(run = %report.run_id, error = %e, "the run's outcome still cannot be recorded");
                    still.push((run, report));
                }
            }
        }
        *pending = still;
        drop(pending);
        let key = self.schedule.key();
        let mut pending = self.unfinished.lock().await;
        let mut still = Vec::new();
        for f in pending.drain(..) {
            match self
                .store()
                .finish_fire(
                    &key,
                    f.scheduled_for,
                    f.state,
                    f.run,
                    Some(&f.note),
                    (self.clock)(),
                )
                .await
            {
                Ok(()) => {
                    tracing::info!(scheduled_for = %f.scheduled_for.to_rfc3339(), state = f.state.name(), "the fire time's outcome is recorded at last")
                }
                Err(e) => {
                    tracing::warn!(scheduled_for = %f.scheduled_for.to_rfc3339(), error = %e, "the fire time's outcome still cannot be recorded");
                    still.push(f);
                }
            }
        }
        *pending = still;
    }

    /// Fire times left `running` by a scheduler that is gone (it stopped or died before it
    /// could record the outcome) are recorded `interrupted`: nothing stays running for good.
    async fn resolve_stuck_fires(&self, key: &str, now: DateTime<Utc>) {
        let (Ok(fires), Ok(schedulers)) = (
            self.store().fires(Some(key), 100).await,
            self.store().schedulers().await,
        ) else {
            return; // the database is away: the next heartbeat looks again
        };
        let ours: Vec<DateTime<Utc>> = self
            .unfinished
            .lock()
            .await
            .iter()
            .map(|f| f.scheduled_for)
            .collect();
        for fire in fires.iter().filter(|f| f.state == FireState::Running) {
            let owner_alive = schedulers
                .iter()
                .any(|s| s.instance_id == fire.claimed_by && alive(s, now));
            if owner_alive || ours.contains(&fire.scheduled_for) {
                continue;
            }
            let note = format!(
                "claimed by {}, which stopped or died before recording the outcome",
                fire.claimed_by
            );
            match self
                .store()
                .finish_fire(
                    key,
                    fire.scheduled_for,
                    FireState::Interrupted,
                    fire.run,
                    Some(&note),
                    now,
                )
                .await
            {
                Ok(()) => {
                    tracing::warn!(scheduled_for = %fire.scheduled_for.to_rfc3339(), "{note}: recorded interrupted")
                }
                Err(e) => tracing::warn!(error = %e, "cannot resolve a fire time left running"),
            }
        }
    }

    /// Records the outcome of a finished run in the ledger.
    async fn reap(&self, key: &str, f: InFlight) {
        let outcome = match f.handle.await {
            Ok(r) => r,
            // the run catches its own panics; this is the task around it
            Err(e) => Err(RunError::Request(format!("the run's task ended: {e}"))),
        };
        let (state, run, note) = match outcome {
            Ok((run, report)) => {
                let state = if report.status == RunStatus::Interrupted {
                    FireState::Interrupted
                } else {
                    FireState::Done
                };
                (
                    state,
                    Some(run),
                    format!("run {} {}", report.run_id, report.status.name()),
                )
            }
            Err(RunError::NotRecorded { run, report, .. }) => {
                let note = format!(
                    "run {} {}; its outcome is not recorded yet (retried at every heartbeat)",
                    report.run_id,
                    report.status.name()
                );
                self.unrecorded.lock().await.push((run, report));
                (FireState::Done, Some(run), note)
            }
            Err(RunError::Panicked { run, report, .. }) => (
                FireState::Failed,
                Some(run),
                format!(
                    "run {} failed: {}",
                    report.run_id,
                    report.error.as_deref().unwrap_or("a panic")
                ),
            ),
            Err(e) => (
                FireState::Failed,
                None,
                format!("the run could not start: {e}"),
            ),
        };
        if let Err(e) = self
            .store()
            .finish_fire(
                key,
                f.scheduled_for,
                state,
                run,
                Some(&note),
                (self.clock)(),
            )
            .await
        {
            tracing::error!(error = %e, "cannot record the fire time's outcome; retried at every heartbeat");
            self.unfinished.lock().await.push(FireOutcome {
                scheduled_for: f.scheduled_for,
                state,
                run,
                note,
            });
        }
    }
}

/// The daemon as both binaries start it: the real pipeline, the configured schedule, the HTTP
/// endpoints on `schedule.listen`, until `stop` (a signal) or `schedule stop`.
pub async fn serve_from_config(
    config: Arc<crate::Config>,
    secrets: &crate::Secrets,
    stop: CancellationToken,
) -> Result<(), DaemonError> {
    let clock = energy_sources::system_clock();
    let schedule = Schedule::from_config(&config.schedule).map_err(DaemonError::Schedule)?;
    let pipeline = crate::wiring::pipeline(config.clone(), secrets, clock.clone()).await?;
    let options = DaemonOptions {
        misfire_grace_seconds: config.schedule.misfire_grace_seconds,
        ..DaemonOptions::default()
    };
    let daemon = Daemon::new(pipeline, schedule, options, clock.clone());
    let endpoints = crate::http::Endpoints {
        store: daemon.store().clone(),
        liveness: daemon.liveness(),
        clock,
        loop_timeout: Duration::from_secs(30),
        config: config.clone(),
    };
    let http_stop = CancellationToken::new();
    let (addr, http) = crate::http::serve(config.schedule.listen, endpoints, http_stop.clone())
        .await
        .map_err(|source| DaemonError::Listen {
            addr: config.schedule.listen,
            source,
        })?;
    tracing::info!(%addr, "serving /healthz and /metrics");
    let result = daemon.run(stop).await;
    http_stop.cancel();
    let _ = http.await;
    result
}

/// Cancels `token` on Ctrl-C or SIGTERM.
pub async fn cancel_on_signals(token: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::warn!("stop requested by a signal");
    token.cancel();
}

/// What `schedule status` and `status` say about the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchedulerState {
    /// Registered, heartbeat fresh.
    Running,
    /// Stopped cleanly, or never started.
    Stopped,
    /// Registered as running, but its heartbeat is stale: the process is gone.
    Dead,
}

impl SchedulerState {
    pub fn name(&self) -> &'static str {
        match self {
            SchedulerState::Running => "RUNNING",
            SchedulerState::Stopped => "STOPPED",
            SchedulerState::Dead => "DEAD",
        }
    }
}

/// Whether a registered scheduler is alive: running, with a heartbeat younger than
/// [`STALE_AFTER`].
pub fn alive(s: &SchedulerRecord, now: DateTime<Utc>) -> bool {
    s.state == InstanceState::Running
        && (now - s.heartbeat_at).num_seconds() < STALE_AFTER.as_secs() as i64
}

/// The next fire time to show: only while a scheduler runs (a stopped or dead one fires
/// nothing), as it announced it, else as the schedule computes it. `status` and `schedule
/// status` both say it this way.
pub fn shown_next_fire(
    state: SchedulerState,
    shown: Option<&SchedulerRecord>,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    shown
        .filter(|_| state == SchedulerState::Running)
        .and_then(|s| s.next_fire_at.or_else(|| schedule.next_after(now)))
}

/// Every registered scheduler that is alive now (several may share one PostgreSQL).
pub fn running_schedulers(
    records: &[SchedulerRecord],
    now: DateTime<Utc>,
) -> Vec<&SchedulerRecord> {
    records.iter().filter(|s| alive(s, now)).collect()
}

/// The state of the scheduler from its registrations (newest heartbeat first), and the
/// registration it is about.
pub fn scheduler_state(
    records: &[SchedulerRecord],
    now: DateTime<Utc>,
) -> (SchedulerState, Option<&SchedulerRecord>) {
    if let Some(s) = records.iter().find(|s| alive(s, now)) {
        return (SchedulerState::Running, Some(s));
    }
    match records.first() {
        Some(s) if s.state == InstanceState::Running => (SchedulerState::Dead, Some(s)),
        other => (SchedulerState::Stopped, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: InstanceState, heartbeat_ago: i64, now: DateTime<Utc>) -> SchedulerRecord {
        SchedulerRecord {
            instance_id: format!("h:1:{heartbeat_ago}"),
            host: "h".into(),
            pid: 1,
            started_at: now,
            heartbeat_at: now - chrono::Duration::seconds(heartbeat_ago),
            next_fire_at: None,
            state,
            stop_requested: false,
        }
    }

    #[test]
    fn a_stale_heartbeat_is_dead_not_running() {
        let now: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
        let state = |records: &[SchedulerRecord]| scheduler_state(records, now).0;
        assert_eq!(state(&[]), SchedulerState::Stopped);
        assert_eq!(
            state(&[record(InstanceState::Running, 3, now)]),
            SchedulerState::Running
        );
        assert_eq!(
            state(&[record(InstanceState::Running, 29, now)]),
            SchedulerState::Running
        );
        assert_eq!(
            state(&[record(InstanceState::Running, 31, now)]),
            SchedulerState::Dead
        );
        assert_eq!(
            state(&[record(InstanceState::Stopped, 1, now)]),
            SchedulerState::Stopped
        );
        // a live one wins over an older dead registration
        assert_eq!(
            state(&[
                record(InstanceState::Running, 40, now),
                record(InstanceState::Running, 2, now)
            ]),
            SchedulerState::Running
        );
    }
}
