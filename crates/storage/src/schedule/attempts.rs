//! Claims as attempts: the first claim of a fire time is attempt 1; a live scheduler takes over
//! a claim whose claimant died as the next attempt (compare-and-set on the attempt it saw); an
//! outcome is written to the fire time only by the attempt that holds it (the attempt number is
//! the fencing token), so a claimant that wakes after a takeover records its attempt
//! `superseded` and leaves the live attempt's outcome alone. Each step is one transaction, and
//! `fire_attempts` keeps every attempt.
//!
//! Under PostgreSQL's read committed isolation each step is a single-row `UPDATE … WHERE
//! attempt = seen`: a concurrent step on the same row waits for the first to commit, then
//! re-reads the row and finds the attempt changed, so of two takeovers (or a takeover and a late
//! outcome) exactly one matches. SQLite runs one writer at a time.

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::{FireState, ScheduleLedger};
use crate::{
    RunId, StoreError,
    schema::{fire_attempts, schedule_fires},
    store::with_conn,
    types::DbTime,
};

/// What became of writing an attempt's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fenced {
    /// The attempt held the fire time: its outcome is the fire time's.
    Recorded,
    /// The fire time was taken over: the outcome is kept as the attempt's, `superseded`.
    Superseded { live_attempt: u32, held_by: String },
}

/// One attempt at a fire time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub attempt: u32,
    pub claimed_by: String,
    pub claimed_at: DateTime<Utc>,
    pub state: FireState,
    pub finished_at: Option<DateTime<Utc>>,
    pub run: Option<RunId>,
    pub note: Option<String>,
}

type AttemptRow = (
    i32,
    String,
    DbTime,
    String,
    Option<DbTime>,
    Option<i64>,
    Option<String>,
);

impl ScheduleLedger<'_> {
    /// Claims `scheduled_for` of `schedule_key` in `state`, as its attempt 1. Returns false when
    /// another claim exists already (another scheduler has it): the caller must not act on it.
    pub async fn claim_fire(
        self,
        schedule_key: &str,
        scheduled_for: DateTime<Utc>,
        state: FireState,
        instance: &str,
        at: DateTime<Utc>,
        note: Option<&str>,
    ) -> Result<bool, StoreError> {
        use fire_attempts::dsl as a;
        use schedule_fires::dsl as f;
        let finished = (state != FireState::Running).then_some(DbTime(at));
        let fire = (
            f::schedule_key.eq(schedule_key),
            f::scheduled_for.eq(DbTime(scheduled_for)),
            f::attempt.eq(1),
            f::state.eq(state.name()),
            f::claimed_by.eq(instance),
            f::claimed_at.eq(DbTime(at)),
            f::note.eq(note),
            f::finished_at.eq(finished),
        );
        let attempt = (
            a::schedule_key.eq(schedule_key),
            a::scheduled_for.eq(DbTime(scheduled_for)),
            a::attempt.eq(1),
            a::state.eq(state.name()),
            a::claimed_by.eq(instance),
            a::claimed_at.eq(DbTime(at)),
            a::note.eq(note),
            a::finished_at.eq(finished),
        );
        let n = with_conn!(self.store, "claiming a fire time", |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |c| {
                let n = diesel::insert_into(f::schedule_fires)
                    .values(fire)
                    .on_conflict_do_nothing()
                    .execute(c)
                    .await?;
                if n == 1 {
                    diesel::insert_into(a::fire_attempts)
                        .values(attempt)
                        .execute(c)
                        .await?;
                }
                Ok(n)
            })
            .await
        })?;
        Ok(n == 1)
    }

    /// Takes over `scheduled_for`, still `running` as attempt `seen` of a claimant that is
    /// gone: it becomes attempt `seen + 1`, claimed by `instance`, and attempt `seen` is
    /// recorded interrupted with `note`. Returns the new attempt, or None when the fire time
    /// changed since it was seen (another scheduler took it over, or its claimant finished).
    pub async fn take_over(
        self,
        schedule_key: &str,
        scheduled_for: DateTime<Utc>,
        seen: u32,
        instance: &str,
        at: DateTime<Utc>,
        note: &str,
    ) -> Result<Option<u32>, StoreError> {
        use fire_attempts::dsl as a;
        use schedule_fires::dsl as f;
        let (seen, next) = (seen as i32, seen as i32 + 1);
        let n = with_conn!(self.store, "taking over a fire time", |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |c| {
                let n = diesel::update(
                    f::schedule_fires
                        .filter(f::schedule_key.eq(schedule_key))
                        .filter(f::scheduled_for.eq(DbTime(scheduled_for)))
                        .filter(f::attempt.eq(seen))
                        .filter(f::state.eq(FireState::Running.name())),
                )
                .set((
                    f::attempt.eq(next),
                    f::claimed_by.eq(instance),
                    f::claimed_at.eq(DbTime(at)),
                    f::run_id.eq(None::<i64>),
                    f::note.eq(None::<&str>),
                ))
                .execute(c)
                .await?;
                if n == 1 {
                    diesel::update(
                        a::fire_attempts
                            .filter(a::schedule_key.eq(schedule_key))
                            .filter(a::scheduled_for.eq(DbTime(scheduled_for)))
                            .filter(a::attempt.eq(seen)),
                    )
                    .set((
                        a::state.eq(FireState::Interrupted.name()),
                        a::finished_at.eq(DbTime(at)),
                        a::note.eq(note),
                    ))
                    .execute(c)
                    .await?;
                    diesel::insert_into(a::fire_attempts)
                        .values((
                            a::schedule_key.eq(schedule_key),
                            a::scheduled_for.eq(DbTime(scheduled_for)),
                            a::attempt.eq(next),
                            a::state.eq(FireState::Running.name()),
                            a::claimed_by.eq(instance),
                            a::claimed_at.eq(DbTime(at)),
                        ))
                        .execute(c)
                        .await?;
                }
                Ok(n)
            })
            .await
        })?;
        Ok((n == 1).then_some(next as u32))
    }

    /// Records how attempt `attempt` of a fire time ended: as the fire time's outcome while the
    /// attempt holds it, else as the attempt's own, `superseded`.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_fire(
        self,
        schedule_key: &str,
        scheduled_for: DateTime<Utc>,
        attempt: u32,
        state: FireState,
        run: Option<RunId>,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Fenced, StoreError> {
        use fire_attempts::dsl as a;
        use schedule_fires::dsl as f;
        let mine = attempt as i32;
        let live: Option<(i32, String)> =
            with_conn!(self.store, "recording a fire time's outcome", |conn| {
                conn.transaction::<_, diesel::result::Error, _>(async |c| {
                    let n = diesel::update(
                        f::schedule_fires
                            .filter(f::schedule_key.eq(schedule_key))
                            .filter(f::scheduled_for.eq(DbTime(scheduled_for)))
                            .filter(f::attempt.eq(mine)),
                    )
                    .set((
                        f::state.eq(state.name()),
                        f::run_id.eq(run.map(|r| r.0)),
                        f::note.eq(note),
                        f::finished_at.eq(DbTime(at)),
                    ))
                    .execute(c)
                    .await?;
                    let own = if n == 1 { state } else { FireState::Superseded };
                    diesel::update(
                        a::fire_attempts
                            .filter(a::schedule_key.eq(schedule_key))
                            .filter(a::scheduled_for.eq(DbTime(scheduled_for)))
                            .filter(a::attempt.eq(mine)),
                    )
                    .set((
                        a::state.eq(own.name()),
                        a::run_id.eq(run.map(|r| r.0)),
                        a::note.eq(note),
                        a::finished_at.eq(DbTime(at)),
                    ))
                    .execute(c)
                    .await?;
                    if n == 1 {
                        return Ok(None);
                    }
                    f::schedule_fires
                        .filter(f::schedule_key.eq(schedule_key))
                        .filter(f::scheduled_for.eq(DbTime(scheduled_for)))
                        .select((f::attempt, f::claimed_by))
                        .first(c)
                        .await
                        .optional()
                })
                .await
            })?;
        Ok(match live {
            None => Fenced::Recorded,
            Some((live, held_by)) => Fenced::Superseded {
                live_attempt: live.max(1) as u32,
                held_by,
            },
        })
    }

    /// Every attempt at `scheduled_for` of `schedule_key`, the first first.
    pub async fn attempts(
        self,
        schedule_key: &str,
        scheduled_for: DateTime<Utc>,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        use fire_attempts::dsl as a;
        let rows: Vec<AttemptRow> =
            with_conn!(self.store, "reading a fire time's attempts", |conn| {
                a::fire_attempts
                    .filter(a::schedule_key.eq(schedule_key))
                    .filter(a::scheduled_for.eq(DbTime(scheduled_for)))
                    .select((
                        a::attempt,
                        a::claimed_by,
                        a::claimed_at,
                        a::state,
                        a::finished_at,
                        a::run_id,
                        a::note,
                    ))
                    .order(a::attempt.asc())
                    .load(&mut conn)
                    .await
            })?;
        rows.into_iter()
            .map(|(attempt, by, claimed, state, finished, run, note)| {
                Ok(AttemptRecord {
                    attempt: attempt.max(1) as u32,
                    claimed_by: by,
                    claimed_at: claimed.0,
                    state: FireState::parse(&state)
                        .ok_or_else(|| self.store.corrupt("fire state", &state))?,
                    finished_at: finished.map(|t| t.0),
                    run: run.map(RunId),
                    note,
                })
            })
            .collect()
    }
}
