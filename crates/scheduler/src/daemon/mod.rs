//! The scheduler daemon: computes fire times, claims each one in the database ledger (so that
//! several schedulers on one PostgreSQL run it exactly once), applies the misfire rule, never
//! overlaps runs, heartbeats, and stops cleanly on request (a signal or `schedule stop`).

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use energy_core::Clock;
use energy_core::{RunMode, RunReport, Trigger};
use energy_storage::{
    Backend, FireState, InstanceState, RunId, SchedulerRecord, Store, StoreError,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use energy_orchestrator::{
    FireAttempt, NoProgress, Pipeline, RunError, RunRequest,
    run::host_name,
    status::{SchedulerState, scheduler_state},
};

use crate::schedule::{NextFire, Schedule};
use energy_web::Liveness;
use freshness::FreshnessChecks;

mod freshness;
mod ledger;
mod serve;
mod sleep;
mod takeover;

use ledger::{Claim, FireOutcome};

pub use serve::serve_from_config;

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
    #[error(transparent)]
    Schedule(#[from] energy_orchestrator::config::CronError),
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
    /// How often the heartbeat is written (and a stop request noticed). The loop turns at each
    /// heartbeat and fire time, and when a run ends; in between it sleeps.
    pub heartbeat_every: Duration,
    /// How long an in-flight run may go on after a stop before it is interrupted.
    pub stop_grace: Duration,
    /// What each scheduled run does.
    pub mode: RunMode,
    /// Whether freshness is checked at start and at every hour (UTC) besides after each run
    /// (`monitor.hourly_check`).
    pub hourly_freshness_check: bool,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        Self {
            misfire_grace_seconds: 3600,
            heartbeat_every: Duration::from_secs(5),
            stop_grace: Duration::from_secs(5),
            mode: RunMode::Incremental,
            hourly_freshness_check: true,
        }
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
    /// Told when a run of ours ends (or panics): the loop wakes to reap it.
    run_ended: Arc<tokio::sync::Notify>,
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
    /// Which attempt at the fire time this run is (1, or more after takeovers).
    attempt: u32,
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
            run_ended: Arc::new(tokio::sync::Notify::new()),
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

    /// On SQLite, refuses when another live scheduler is registered (one whose process on
    /// this host is gone is not live, whatever its heartbeat says).
    pub(super) async fn refuse_a_second(&self, now: DateTime<Utc>) -> Result<(), DaemonError> {
        let store = self.store();
        if store.backend() == Backend::Sqlite {
            let schedulers = store.schedule().instances().await?;
            if let (SchedulerState::Running, Some(s)) = scheduler_state(&schedulers, now) {
                return Err(DaemonError::AlreadyRunning {
                    host: s.host.clone(),
                    pid: s.pid,
                    age: (now - s.heartbeat_at).num_seconds(),
                });
            }
        }
        Ok(())
    }

    /// Registers this process; on SQLite, refuses when another live scheduler is registered.
    async fn register(&self, now: DateTime<Utc>) -> Result<(), DaemonError> {
        self.refuse_a_second(now).await?;
        let store = self.store();
        store
            .schedule()
            .register(&SchedulerRecord {
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
        let mut checked = match self.store().schedule().latest_fire(&key).await? {
            Some(t) => t.max(start - chrono::Duration::days(31)),
            None => start,
        };
        let mut in_flight: Option<InFlight> = None;
        let mut last_heartbeat: Option<std::time::Instant> = None;
        let mut upcoming = NextFire::default();
        let mut sleeper = sleep::Sleeper::new();
        let mut freshness = FreshnessChecks::new(
            self.options.hourly_freshness_check.then_some(start),
            self.liveness.clone(),
        );
        loop {
            let now = (self.clock)();
            self.liveness.loop_turned(now);
            let mut reaped = false;
            if in_flight.as_ref().is_some_and(|f| f.handle.is_finished())
                && let Some(f) = in_flight.take()
            {
                self.reap(&key, f).await;
                freshness.after_run();
                reaped = true;
            }
            if in_flight.is_none() {
                freshness.start_if_due(&self.pipeline, now);
            }
            let due = upcoming.due(
                &self.schedule,
                checked,
                now,
                self.options.misfire_grace_seconds,
            );
            // A fire time whose claim failed (the database is away) is looked at again at the
            // next turn: then it runs if still within the grace, or is recorded missed.
            let mut retry_from: Option<DateTime<Utc>> = None;
            let mut failed = |t: DateTime<Utc>| {
                let before = t - chrono::Duration::seconds(1);
                retry_from = Some(retry_from.map_or(before, |r: DateTime<Utc>| r.min(before)));
            };
            // each fire time is recorded; the log says it once per kind, after the records
            // are written, with what was written
            let mut recorded = Vec::new();
            let mut unrecorded = 0usize;
            for t in &due.missed {
                let note = format!(
                    "missed by {} s, beyond misfire_grace_seconds ({})",
                    (now - *t).num_seconds(),
                    self.options.misfire_grace_seconds
                );
                match self.claim(&key, *t, FireState::Missed, Some(&note)).await {
                    Claim::Claimed => recorded.push(*t),
                    Claim::Taken => {}
                    Claim::Failed => {
                        unrecorded += 1;
                        failed(*t);
                    }
                }
            }
            if let (Some(first), Some(last)) = (recorded.first(), recorded.last()) {
                tracing::warn!(
                    count = recorded.len(),
                    first = %first.to_rfc3339(),
                    last = %last.to_rfc3339(),
                    grace_seconds = self.options.misfire_grace_seconds,
                    "fire times missed beyond misfire_grace_seconds: recorded as missed, not run"
                );
            }
            if unrecorded > 0 {
                tracing::warn!(
                    count = unrecorded,
                    "fire times missed beyond misfire_grace_seconds could not be recorded yet (the database is away): tried again at the next turn"
                );
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
                        in_flight = Some(self.start_run(t, 1));
                    }
                    claimed
                };
                if claimed == Claim::Failed {
                    failed(t);
                }
            }
            checked = retry_from.unwrap_or(now);
            let next = upcoming.after(&self.schedule, now);
            self.liveness.next_fire_is(next);
            let beat = last_heartbeat.is_none_or(|at| at.elapsed() >= self.options.heartbeat_every);
            if beat {
                last_heartbeat = Some(std::time::Instant::now());
                self.record_unrecorded().await;
            }
            // the heartbeat says whether a fire time is running under another claimant; only
            // then is one whose claimant died looked for, to run again here when within the
            // grace. Looked for at each such heartbeat, and as soon as a run of ours ends (a
            // busy scheduler leaves it to the others, or to its next look)
            let mut others_running = reaped;
            if beat {
                match self
                    .store()
                    .schedule()
                    .heartbeat(&self.instance_id, &key, now, next)
                    .await
                {
                    Ok(h) => {
                        if h.stop_requested {
                            tracing::info!("stop requested through the database");
                            stop.cancel();
                        }
                        others_running |= h.others_running;
                    }
                    Err(e) => tracing::error!(error = %e, "scheduler heartbeat failed"),
                }
            }
            if others_running
                && (beat || in_flight.is_none())
                && let Some((t, attempt)) =
                    self.take_over_orphans(&key, now, in_flight.is_some()).await
            {
                in_flight = Some(self.start_run(t, attempt));
            }
            if stop.is_cancelled() {
                break;
            }
            // sleep until the next fire time or heartbeat, whichever is first, or until a run
            // of ours ends or a stop comes; a wall-clock jump (a machine that slept) is seen by
            // the next heartbeat's turn
            let until_beat = last_heartbeat.map_or(Duration::ZERO, |at| {
                self.options.heartbeat_every.saturating_sub(at.elapsed())
            });
            let until_next = next.map_or(until_beat, |t| {
                (t - now).to_std().unwrap_or(Duration::ZERO).min(until_beat)
            });
            tokio::select! {
                () = sleeper.sleep(until_next.max(Duration::from_millis(10))) => {}
                () = self.run_ended.notified() => {}
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
        freshness.finish(self.options.stop_grace).await;
        self.record_unrecorded().await;
        self.store()
            .schedule()
            .stopped(&self.instance_id, (self.clock)())
            .await?;
        tracing::info!(instance = %self.instance_id, "scheduler stopped");
        Ok(())
    }

    /// How many freshness checks have finished (tests wait on it).
    pub fn freshness_checks(&self) -> u64 {
        self.liveness.freshness_checks()
    }

    fn start_run(&self, scheduled_for: DateTime<Utc>, attempt: u32) -> InFlight {
        let cancel = CancellationToken::new();
        let pipeline = self.pipeline.clone();
        let request = RunRequest {
            trigger: Trigger::Schedule,
            scheduled_for: Some(scheduled_for),
            fire: Some(FireAttempt {
                schedule_key: self.schedule.key(),
                attempt,
            }),
            ..RunRequest::manual(self.options.mode)
        };
        let token = cancel.clone();
        let ended = sleep::WakeOnDrop(self.run_ended.clone());
        let handle = tokio::spawn(async move {
            let _ended = ended;
            pipeline
                .run_recorded(request, token, Arc::new(NoProgress))
                .await
        });
        InFlight {
            scheduled_for,
            attempt,
            cancel,
            handle,
        }
    }
}
