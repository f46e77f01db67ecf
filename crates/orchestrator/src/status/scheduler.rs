//! What the scheduler is, read from its registrations in the store: RUNNING (heartbeat fresh),
//! STOPPED or DEAD, which instances are alive, and the next fire time to show. `status`, the
//! scheduler's own `schedule status` and its refusal of a second SQLite scheduler read it here.

use std::time::Duration;

use chrono::{DateTime, Utc};
use energy_storage::{InstanceState, SchedulerRecord};

/// A scheduler whose heartbeat is older than this is dead, not running.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

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
/// [`STALE_AFTER`], and — when it registered from this host — its process still there (a
/// crashed scheduler's fresh heartbeat does not keep it alive for 30 s).
pub fn alive(s: &SchedulerRecord, now: DateTime<Utc>) -> bool {
    s.state == InstanceState::Running
        && (now - s.heartbeat_at).num_seconds() < STALE_AFTER.as_secs() as i64
        && (s.host != crate::run::host_name() || crate::run::process_alive(s.pid))
}

/// The next fire time to show: only while a scheduler runs (a stopped or dead one fires
/// nothing), as the running scheduler recorded it at its last heartbeat. `status` and
/// `schedule status` both say it this way.
pub fn shown_next_fire(
    state: SchedulerState,
    shown: Option<&SchedulerRecord>,
) -> Option<DateTime<Utc>> {
    shown
        .filter(|_| state == SchedulerState::Running)
        .and_then(|s| s.next_fire_at)
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

/// The scheduler as the status views show it, from its registrations (newest heartbeat
/// first) at `now`. A stopped (or dead) scheduler fires nothing: no next run, as INTERFACE.md
/// shows.
pub fn describe(
    schedule: &crate::config::ScheduleConfig,
    records: &[SchedulerRecord],
    now: DateTime<Utc>,
) -> super::SchedulerStatus {
    let (state, shown) = scheduler_state(records, now);
    let next = shown_next_fire(state, shown);
    let zone = schedule.timezone;
    let age = |s: &SchedulerRecord| (now - s.heartbeat_at).num_seconds();
    super::SchedulerStatus {
        instances: running_schedulers(records, now)
            .into_iter()
            .map(|s| super::SchedulerInstance {
                host: s.host.clone(),
                pid: s.pid,
                started_at: s.started_at,
                heartbeat_at: s.heartbeat_at,
                heartbeat_age_seconds: age(s),
            })
            .collect(),
        state,
        host: shown.map(|s| s.host.clone()),
        pid: shown.map(|s| s.pid),
        heartbeat_at: shown.map(|s| s.heartbeat_at),
        heartbeat_age_seconds: shown.map(age),
        schedule: schedule.pattern(),
        timezone: zone.name().to_owned(),
        next_run_at: next.map(|t| t.with_timezone(&zone).to_rfc3339()),
        next_run_at_utc: next,
    }
}

/// The schedulers that ran alongside the most recently seen one (itself included), newest
/// first: the replicas of the last session, to name when all of them have stopped.
pub fn last_replicas(records: &[SchedulerRecord]) -> Vec<&SchedulerRecord> {
    let Some(last) = records.iter().max_by_key(|s| s.heartbeat_at) else {
        return Vec::new();
    };
    let mut out: Vec<&SchedulerRecord> = records
        .iter()
        .filter(|s| s.heartbeat_at >= last.started_at && s.started_at <= last.heartbeat_at)
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.heartbeat_at));
    out
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
