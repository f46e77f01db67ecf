//! Fire times whose claimant is gone: a fire time left `running` by a scheduler that stopped or
//! died before recording its outcome is taken over as the next attempt. Within the misfire
//! grace of its time it is run again here (when no run of ours is going; else we look again
//! when ours ends); beyond it, it is recorded `missed` with the reason. A claimant is gone when it
//! never registered, said it stopped, its heartbeat is older than [`TAKEOVER_HEARTBEATS`]
//! heartbeat intervals, or it registered from this host and its process is gone.

use chrono::{DateTime, Utc};
use energy_storage::{FireRecord, FireState, SchedulerRecord};

use energy_orchestrator::run::{host_name, process_alive};
use energy_storage::InstanceState;

use super::Daemon;

/// Heartbeat intervals without a heartbeat after which a claimant is taken for gone: one missed
/// heartbeat is a slow write, two are a process that stopped. Takeovers are looked for at each
/// heartbeat, so a paused claimant's fire time is taken over 2 to 3 intervals after its last
/// heartbeat (10 to 15 s by default); a wrong guess costs a rerun, never a second outcome (the
/// attempt fences it).
pub(super) const TAKEOVER_HEARTBEATS: u32 = 2;

/// Why the claimant of a fire time is gone, or None while it lives.
fn gone(
    fire: &FireRecord,
    schedulers: &[SchedulerRecord],
    now: DateTime<Utc>,
    bound: chrono::Duration,
) -> Option<String> {
    let Some(s) = schedulers.iter().find(|s| s.instance_id == fire.claimed_by) else {
        return Some("which is not registered".to_owned());
    };
    if s.state == InstanceState::Stopped {
        return Some("which stopped".to_owned());
    }
    if s.host == host_name() && !process_alive(s.pid) {
        return Some(format!("whose process {} on this host is gone", s.pid));
    }
    let age = now - s.heartbeat_at;
    (age > bound).then(|| {
        format!(
            "whose last heartbeat was {} s before (more than {} s)",
            age.num_seconds(),
            bound.num_seconds()
        )
    })
}

impl Daemon {
    /// Takes over the fire times of `key` whose claimant is gone. Returns the one to run now
    /// (its time and attempt), at most one, and only when `busy` is false.
    pub(super) async fn take_over_orphans(
        &self,
        key: &str,
        now: DateTime<Utc>,
        busy: bool,
    ) -> Option<(DateTime<Utc>, u32)> {
        // the database away: the next heartbeat looks again
        let fires = self.store().schedule().running_fires(key, 100).await.ok()?;
        if fires.is_empty() {
            return None;
        }
        let schedulers = self.store().schedule().instances().await.ok()?;
        let ours: Vec<DateTime<Utc>> = self
            .unfinished
            .lock()
            .await
            .iter()
            .map(|f| f.scheduled_for())
            .collect();
        let bound = chrono::Duration::from_std(self.options.heartbeat_every * TAKEOVER_HEARTBEATS)
            .unwrap_or(chrono::Duration::MAX);
        let grace = chrono::Duration::seconds(
            i64::try_from(self.options.misfire_grace_seconds).unwrap_or(i64::MAX),
        );
        let mut to_run = None;
        // oldest first: the earliest fire time still within the grace is the one run
        for fire in fires.iter().rev().filter(|f| f.state == FireState::Running) {
            if fire.claimed_by == self.instance_id || ours.contains(&fire.scheduled_for) {
                continue;
            }
            let Some(why) = gone(fire, &schedulers, now, bound) else {
                continue;
            };
            let late = now - fire.scheduled_for;
            let within = late <= grace;
            if within && (busy || to_run.is_some()) {
                continue;
            }
            let t = fire.scheduled_for.to_rfc3339();
            let note = format!(
                "claimed by {}, {why}, before recording the outcome: taken over as attempt {} by {}",
                fire.claimed_by,
                fire.attempt + 1,
                self.instance_id
            );
            let attempt = match self
                .store()
                .schedule()
                .take_over(
                    key,
                    fire.scheduled_for,
                    fire.attempt,
                    &self.instance_id,
                    now,
                    &note,
                )
                .await
            {
                Ok(Some(a)) => a,
                // another scheduler took it, or its claimant finished after all
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(scheduled_for = %t, error = %e, "cannot take over a fire time whose claimant is gone");
                    continue;
                }
            };
            if within {
                tracing::warn!(scheduled_for = %t, attempt, claimant = %fire.claimed_by, reason = %why, "fire time taken over: its claimant is gone; running it again");
                to_run = Some((fire.scheduled_for, attempt));
                continue;
            }
            let missed = format!(
                "claimed by {}, {why}, before recording the outcome; {} s after its time, beyond misfire_grace_seconds ({}): not run again",
                fire.claimed_by,
                late.num_seconds(),
                self.options.misfire_grace_seconds
            );
            match self
                .store()
                .schedule()
                .finish_fire(
                    key,
                    fire.scheduled_for,
                    attempt,
                    FireState::Missed,
                    fire.run,
                    Some(&missed),
                    now,
                )
                .await
            {
                Ok(_) => tracing::warn!(scheduled_for = %t, "{missed}: recorded missed"),
                // left running as our attempt: resolved at a later heartbeat, by us or another
                Err(e) => {
                    tracing::warn!(scheduled_for = %t, error = %e, "cannot record a fire time taken over as missed")
                }
            }
        }
        to_run
    }
}
