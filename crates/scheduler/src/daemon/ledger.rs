//! The daemon's side of the fire ledger: claiming fire times and writing what became of them
//! (again at every heartbeat while the database is away), fenced by the attempt that ran.

use chrono::{DateTime, Utc};
use energy_core::RunStatus;
use energy_storage::{Fenced, FireState, RunId};

use energy_orchestrator::RunError;

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
    /// The attempt that ran: the outcome is the fire time's only while it holds it.
    attempt: u32,
    state: FireState,
    run: Option<RunId>,
    note: String,
}

impl FireOutcome {
    pub(super) fn scheduled_for(&self) -> DateTime<Utc> {
        self.scheduled_for
    }
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
            .schedule()
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
            match self.store().runs().finish(run, &report).await {
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
                .schedule()
                .finish_fire(
                    &key,
                    f.scheduled_for,
                    f.attempt,
                    f.state,
                    f.run,
                    Some(&f.note),
                    (self.clock)(),
                )
                .await
            {
                Ok(fenced) => {
                    superseded(f.scheduled_for, f.attempt, &fenced);
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

    /// Records the outcome of a finished run in the ledger.
    pub(super) async fn reap(&self, key: &str, f: InFlight) {
        let outcome = match f.handle.await {
            Ok(r) => r,
            // the run catches its own panics; this is the task around it
            Err(e) => Err(RunError::TaskEnded(e.to_string())),
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
            Err(e @ RunError::TaskEnded(_)) => (FireState::Failed, None, e.to_string()),
            Err(e) => (
                FireState::Failed,
                None,
                format!("the run could not start: {e}"),
            ),
        };
        match self
            .store()
            .schedule()
            .finish_fire(
                key,
                f.scheduled_for,
                f.attempt,
                state,
                run,
                Some(&note),
                (self.clock)(),
            )
            .await
        {
            Ok(fenced) => superseded(f.scheduled_for, f.attempt, &fenced),
            Err(e) => {
                tracing::error!(error = %e, "cannot record the fire time's outcome; retried at every heartbeat");
                self.unfinished.lock().await.push(FireOutcome {
                    scheduled_for: f.scheduled_for,
                    attempt: f.attempt,
                    state,
                    run,
                    note,
                });
            }
        }
    }
}

/// Says so when an attempt's outcome was not the fire time's: it was taken over meanwhile.
fn superseded(scheduled_for: DateTime<Utc>, attempt: u32, fenced: &Fenced) {
    if let Fenced::Superseded {
        live_attempt,
        held_by,
    } = fenced
    {
        tracing::warn!(
            scheduled_for = %scheduled_for.to_rfc3339(),
            attempt,
            live_attempt,
            held_by = %held_by,
            "this attempt was taken over while it ran: its outcome is recorded as superseded, not as the fire time's"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use chrono::{DateTime, Utc};
    use energy_orchestrator::testing::{Behaviour, setup_with_clock};
    use energy_storage::FireState;
    use tokio_util::sync::CancellationToken;

    use super::super::{Daemon, DaemonOptions, InFlight};
    use crate::Schedule;

    /// Issue 24: a run's task that ended without a result (here aborted) was recorded as "the
    /// run could not start" through a catch-all request error, about a run that had started.
    /// It is its own kind now: the fire time is failed, saying the task ended.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_run_task_that_ends_without_a_result_is_recorded_as_such() {
        let now: DateTime<Utc> = "2026-11-25T11:00:00Z".parse().unwrap();
        let s = setup_with_clock(
            [Behaviour::Data; 3],
            3,
            Duration::ZERO,
            Arc::new(move || now),
        )
        .await;
        let schedule = Schedule::new("0 6 * * *", chrono_tz::America::New_York).unwrap();
        let key = schedule.key();
        let daemon = Daemon::new(
            s.pipeline.clone(),
            schedule,
            DaemonOptions::default(),
            Arc::new(move || now),
        );
        assert_eq!(
            daemon.claim(&key, now, FireState::Running, None).await,
            super::Claim::Claimed
        );
        let handle = tokio::spawn(std::future::pending());
        handle.abort();
        daemon
            .reap(
                &key,
                InFlight {
                    scheduled_for: now,
                    attempt: 1,
                    cancel: CancellationToken::new(),
                    handle,
                },
            )
            .await;
        let fire = daemon
            .store()
            .schedule()
            .fires(Some(&key), 1)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(fire.state, FireState::Failed);
        let note = fire.note.unwrap_or_default();
        assert!(
            note.starts_with("the run's task ended without a result"),
            "{note}"
        );
        assert!(!note.contains("could not start"), "{note}");
    }
}
