//! The scheduler's durable state: the fire ledger (each fire time of a schedule claimed once,
//! by a primary key, so that several schedulers on one database run it exactly once; a claim
//! whose claimant died is taken over as the next attempt, and only the attempt holding the claim
//! writes the outcome), every attempt of each fire time (`attempts.rs`), its one notification
//! (`notified.rs`), and the live instances (`instances.rs`: heartbeat, next fire time, the stop
//! request).

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use crate::{RunId, Store, StoreError, schema::schedule_fires, store::with_conn, types::DbTime};

mod attempts;
mod instances;
mod notified;

pub use attempts::{AttemptRecord, Fenced};
pub use instances::{Heartbeat, InstanceState, SchedulerRecord};
pub use notified::NotifyClaim;

/// The scheduler's durable state, reached as [`Store::schedule`].
#[derive(Debug, Clone, Copy)]
pub struct ScheduleLedger<'s> {
    pub(crate) store: &'s Store,
}

impl Store {
    /// The scheduler's durable state: the fire ledger and the live instances.
    pub fn schedule(&self) -> ScheduleLedger<'_> {
        ScheduleLedger { store: self }
    }
}

/// What became of one fire time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FireState {
    /// Claimed; its run is going.
    Running,
    /// Its run finished (whatever the run's own status).
    Done,
    /// Its run was cut short by a stop.
    Interrupted,
    /// Its run failed before it could finish (a panic: a bug).
    Failed,
    /// Came due while the previous run was still going: not run.
    Skipped,
    /// Missed by more than the grace period (the scheduler was down or asleep): not run.
    Missed,
    /// Missed within the grace period, folded into a later fire time's run.
    Coalesced,
    /// An attempt whose claim was taken over while it went on: its outcome is not the fire
    /// time's (only in [`ScheduleLedger::attempts`]).
    Superseded,
}

impl FireState {
    pub fn name(&self) -> &'static str {
        match self {
            FireState::Running => "running",
            FireState::Done => "done",
            FireState::Interrupted => "interrupted",
            FireState::Failed => "failed",
            FireState::Skipped => "skipped",
            FireState::Missed => "missed",
            FireState::Coalesced => "coalesced",
            FireState::Superseded => "superseded",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => FireState::Running,
            "done" => FireState::Done,
            "interrupted" => FireState::Interrupted,
            "failed" => FireState::Failed,
            "skipped" => FireState::Skipped,
            "missed" => FireState::Missed,
            "coalesced" => FireState::Coalesced,
            "superseded" => FireState::Superseded,
            _ => return None,
        })
    }
}

/// One fire time in the ledger: its live attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireRecord {
    pub schedule_key: String,
    pub scheduled_for: DateTime<Utc>,
    /// 1 for the first claim, one more at each takeover: the fencing token.
    pub attempt: u32,
    pub state: FireState,
    pub claimed_by: String,
    pub claimed_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub run: Option<RunId>,
    pub note: Option<String>,
    /// The attempt that claimed the fire time's notification, once one did.
    pub notified_attempt: Option<u32>,
}

type FireRow = (
    String,
    DbTime,
    i32,
    String,
    String,
    DbTime,
    Option<DbTime>,
    Option<i64>,
    Option<String>,
    Option<i32>,
);

impl ScheduleLedger<'_> {
    /// The ledger of `schedule_key` (every key when `None`), newest first.
    pub async fn fires(
        self,
        schedule_key: Option<&str>,
        limit: u32,
    ) -> Result<Vec<FireRecord>, StoreError> {
        self.fires_where(schedule_key, limit, false).await
    }

    /// The fire times of `schedule_key` still `running` (a claimant at work, or gone), newest
    /// first: what a scheduler looks at for takeovers at every heartbeat, usually nothing.
    pub async fn running_fires(
        self,
        schedule_key: &str,
        limit: u32,
    ) -> Result<Vec<FireRecord>, StoreError> {
        self.fires_where(Some(schedule_key), limit, true).await
    }

    async fn fires_where(
        self,
        schedule_key: Option<&str>,
        limit: u32,
        running_only: bool,
    ) -> Result<Vec<FireRecord>, StoreError> {
        use schedule_fires::dsl as f;
        let key = schedule_key.map(str::to_owned);
        let rows: Vec<FireRow> = with_conn!(self.store, "reading the schedule ledger", |conn| {
            let mut q = f::schedule_fires
                .select((
                    f::schedule_key,
                    f::scheduled_for,
                    f::attempt,
                    f::state,
                    f::claimed_by,
                    f::claimed_at,
                    f::finished_at,
                    f::run_id,
                    f::note,
                    f::notified_attempt,
                ))
                .order(f::scheduled_for.desc())
                .limit(i64::from(limit))
                .into_boxed();
            if let Some(k) = key.clone() {
                q = q.filter(f::schedule_key.eq(k));
            }
            if running_only {
                q = q.filter(f::state.eq(FireState::Running.name()));
            }
            q.load(&mut conn).await
        })?;
        rows.into_iter()
            .map(
                |(key, at, attempt, state, by, claimed, finished, run, note, notified)| {
                    Ok(FireRecord {
                        schedule_key: key,
                        scheduled_for: at.0,
                        attempt: attempt.max(1) as u32,
                        state: FireState::parse(&state)
                            .ok_or_else(|| self.store.corrupt("fire state", &state))?,
                        claimed_by: by,
                        claimed_at: claimed.0,
                        finished_at: finished.map(|t| t.0),
                        run: run.map(RunId),
                        note,
                        notified_attempt: notified.and_then(|a| u32::try_from(a).ok()),
                    })
                },
            )
            .collect()
    }

    /// The latest fire time recorded for `schedule_key`.
    pub async fn latest_fire(
        self,
        schedule_key: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        use schedule_fires::dsl as f;
        let key = schedule_key.to_owned();
        let t: Option<DbTime> = with_conn!(self.store, "reading the schedule ledger", |conn| {
            f::schedule_fires
                .filter(f::schedule_key.eq(key.clone()))
                .select(f::scheduled_for)
                .order(f::scheduled_for.desc())
                .first(&mut conn)
                .await
                .optional()
        })?;
        Ok(t.map(|t| t.0))
    }

    /// How many fire times were run by a later attempt than the first (taken over from a
    /// scheduler that died or stalled), over the whole ledger.
    pub async fn taken_over_count(self) -> Result<u64, StoreError> {
        use schedule_fires::dsl as f;
        let n: i64 = with_conn!(self.store, "reading the schedule ledger", |conn| {
            f::schedule_fires
                .filter(f::attempt.gt(1))
                .count()
                .get_result(&mut conn)
                .await
        })?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
