//! The daemon's side of the fire ledger: claiming fire times, writing what became of them (again
//! at every heartbeat while the database is away), and resolving fire times left running by a
//! scheduler that is gone.

use chrono::{DateTime, Utc};
use energy_core::RunStatus;
use energy_storage::{FireState, RunId};

use energy_orchestrator::{RunError, status::scheduler::alive};

use super::{Daemon, InFlight};

/// Characters of a failed run's reason kept in its fire time's note (the run's record has all).
const NOTE_REASON_CHARS: usize = 300;

/// `text` cut to `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// How a fire time ended, kept until it is written.
#[derive(Debug, Clone)]
pub(super) struct FireOutcome {
    scheduled_for: DateTime<Utc>,
    state: FireState,
    run: Option<RunId>,
    note: String,
}

/// What came of claiming a fire time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Claim {
    /// Ours to act on.
    Claimed,
    /// Another scheduler has it.
    Taken,
    /// The database could not be asked: try again later.
    Failed,
}

impl Daemon {
    /// Claims a fire time.
    pub(super) async fn claim(
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

    /// Writes the outcomes of runs whose recording failed; a live scheduler never leaves its
    /// runs `running`.
    pub(super) async fn record_unrecorded(&self) {
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
    pub(super) async fn resolve_stuck_fires(&self, key: &str, now: DateTime<Utc>) {
        // the database away: the next heartbeat looks again
        let Ok(fires) = self.store().fires(Some(key), 100).await else {
            return;
        };
        if !fires.iter().any(|f| f.state == FireState::Running) {
            return;
        }
        let Ok(schedulers) = self.store().schedulers().await else {
            return;
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
    pub(super) async fn reap(&self, key: &str, f: InFlight) {
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
                let mut note = format!("run {} {}", report.run_id, report.status.name());
                if report.status != RunStatus::Success
                    && let Some(why) = report.failure_summary()
                {
                    note.push_str(": ");
                    note.push_str(&cut(&why, NOTE_REASON_CHARS));
                }
                (state, Some(run), note)
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
