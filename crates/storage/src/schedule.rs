//! The scheduler's durable state: the fire ledger (each fire time of a schedule claimed once,
//! by a primary key, so that several schedulers on one database run it exactly once) and the
//! live instances (heartbeat, next fire time, the stop request).

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use crate::{
    RunId, Store, StoreError,
    schema::{schedule_fires, scheduler_instances},
    store::with_conn,
    types::DbTime,
};

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
            _ => return None,
        })
    }
}

/// Whether a registered scheduler process says it runs. (Whether it is alive also depends on
/// its heartbeat: the orchestrator's `SchedulerState` says RUNNING, STOPPED or DEAD.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceState {
    Running,
    Stopped,
}

impl InstanceState {
    pub fn name(&self) -> &'static str {
        match self {
            InstanceState::Running => "running",
            InstanceState::Stopped => "stopped",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => InstanceState::Running,
            "stopped" => InstanceState::Stopped,
            _ => return None,
        })
    }
}

/// One fire time in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireRecord {
    pub schedule_key: String,
    pub scheduled_for: DateTime<Utc>,
    pub state: FireState,
    pub claimed_by: String,
    pub claimed_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub run: Option<RunId>,
    pub note: Option<String>,
}

/// A scheduler process as it registered itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerRecord {
    pub instance_id: String,
    pub host: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    pub next_fire_at: Option<DateTime<Utc>>,
    pub state: InstanceState,
    pub stop_requested: bool,
}

type FireRow = (
    String,
    DbTime,
    String,
    String,
    DbTime,
    Option<DbTime>,
    Option<i64>,
    Option<String>,
);

type InstanceRow = (
    String,
    String,
    i32,
    DbTime,
    DbTime,
    Option<DbTime>,
    String,
    bool,
);

impl ScheduleLedger<'_> {
    /// Claims `scheduled_for` of `schedule_key` in `state`. Returns false when another claim
    /// exists already (another scheduler has it): the caller must not act on it.
    pub async fn claim_fire(
        self,
        schedule_key: &str,
        scheduled_for: DateTime<Utc>,
        state: FireState,
        instance: &str,
        at: DateTime<Utc>,
        note: Option<&str>,
    ) -> Result<bool, StoreError> {
        use schedule_fires::dsl as f;
        let values = (
            f::schedule_key.eq(schedule_key),
            f::scheduled_for.eq(DbTime(scheduled_for)),
            f::state.eq(state.name()),
            f::claimed_by.eq(instance),
            f::claimed_at.eq(DbTime(at)),
            f::note.eq(note),
            f::finished_at.eq((state != FireState::Running).then_some(DbTime(at))),
        );
        let n = with_conn!(self.store, "claiming a fire time", |conn| {
            diesel::insert_into(f::schedule_fires)
                .values(values)
                .on_conflict_do_nothing()
                .execute(&mut conn)
                .await
        })?;
        Ok(n == 1)
    }

    /// Records how a claimed fire time ended.
    pub async fn finish_fire(
        self,
        schedule_key: &str,
        scheduled_for: DateTime<Utc>,
        state: FireState,
        run: Option<RunId>,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        use schedule_fires::dsl as f;
        with_conn!(self.store, "recording a fire time's outcome", |conn| {
            diesel::update(
                f::schedule_fires
                    .filter(f::schedule_key.eq(schedule_key))
                    .filter(f::scheduled_for.eq(DbTime(scheduled_for))),
            )
            .set((
                f::state.eq(state.name()),
                f::run_id.eq(run.map(|r| r.0)),
                f::note.eq(note),
                f::finished_at.eq(DbTime(at)),
            ))
            .execute(&mut conn)
            .await
        })?;
        Ok(())
    }

    /// The ledger of `schedule_key` (every key when `None`), newest first.
    pub async fn fires(
        self,
        schedule_key: Option<&str>,
        limit: u32,
    ) -> Result<Vec<FireRecord>, StoreError> {
        use schedule_fires::dsl as f;
        let key = schedule_key.map(str::to_owned);
        let rows: Vec<FireRow> = with_conn!(self.store, "reading the schedule ledger", |conn| {
            let mut q = f::schedule_fires
                .select((
                    f::schedule_key,
                    f::scheduled_for,
                    f::state,
                    f::claimed_by,
                    f::claimed_at,
                    f::finished_at,
                    f::run_id,
                    f::note,
                ))
                .order(f::scheduled_for.desc())
                .limit(i64::from(limit))
                .into_boxed();
            if let Some(k) = key.clone() {
                q = q.filter(f::schedule_key.eq(k));
            }
            q.load(&mut conn).await
        })?;
        rows.into_iter()
            .map(|(key, at, state, by, claimed, finished, run, note)| {
                Ok(FireRecord {
                    schedule_key: key,
                    scheduled_for: at.0,
                    state: FireState::parse(&state)
                        .ok_or_else(|| self.store.corrupt("fire state", &state))?,
                    claimed_by: by,
                    claimed_at: claimed.0,
                    finished_at: finished.map(|t| t.0),
                    run: run.map(RunId),
                    note,
                })
            })
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

    /// Registers a scheduler process as running.
    pub async fn register(self, s: &SchedulerRecord) -> Result<(), StoreError> {
        use scheduler_instances::dsl as i;
        let values = (
            i::instance_id.eq(&s.instance_id),
            i::host.eq(&s.host),
            i::pid.eq(s.pid as i32),
            i::started_at.eq(DbTime(s.started_at)),
            i::heartbeat_at.eq(DbTime(s.heartbeat_at)),
            i::next_fire_at.eq(s.next_fire_at.map(DbTime)),
            i::state.eq(InstanceState::Running.name()),
            i::stop_requested.eq(false),
        );
        with_conn!(self.store, "registering the scheduler", |conn| {
            diesel::insert_into(i::scheduler_instances)
                .values(values)
                .execute(&mut conn)
                .await
        })?;
        Ok(())
    }

    /// Records a scheduler's heartbeat and next fire time; returns whether a stop was asked.
    pub async fn heartbeat(
        self,
        instance_id: &str,
        at: DateTime<Utc>,
        next_fire_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        use scheduler_instances::dsl as i;
        let id = instance_id.to_owned();
        let stop: Option<bool> =
            with_conn!(self.store, "recording the scheduler heartbeat", |conn| {
                diesel::update(i::scheduler_instances.filter(i::instance_id.eq(id.clone())))
                    .set((
                        i::heartbeat_at.eq(DbTime(at)),
                        i::next_fire_at.eq(next_fire_at.map(DbTime)),
                    ))
                    .returning(i::stop_requested)
                    .get_result(&mut conn)
                    .await
                    .optional()
            })?;
        Ok(stop.unwrap_or(false))
    }

    /// Marks a scheduler stopped.
    pub async fn stopped(self, instance_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        use scheduler_instances::dsl as i;
        let id = instance_id.to_owned();
        with_conn!(self.store, "recording the scheduler's stop", |conn| {
            diesel::update(i::scheduler_instances.filter(i::instance_id.eq(id.clone())))
                .set((
                    i::state.eq(InstanceState::Stopped.name()),
                    i::heartbeat_at.eq(DbTime(at)),
                    i::next_fire_at.eq(None::<DbTime>),
                ))
                .execute(&mut conn)
                .await
        })?;
        Ok(())
    }

    /// Asks every running scheduler to stop; returns how many were asked.
    pub async fn request_stop(self) -> Result<usize, StoreError> {
        use scheduler_instances::dsl as i;
        with_conn!(self.store, "asking the scheduler to stop", |conn| {
            diesel::update(
                i::scheduler_instances.filter(i::state.eq(InstanceState::Running.name())),
            )
            .set(i::stop_requested.eq(true))
            .execute(&mut conn)
            .await
        })
    }

    /// Every scheduler that ever registered, the most recent heartbeat first.
    pub async fn instances(self) -> Result<Vec<SchedulerRecord>, StoreError> {
        use scheduler_instances::dsl as i;
        let rows: Vec<InstanceRow> = with_conn!(self.store, "reading the schedulers", |conn| {
            i::scheduler_instances
                .select((
                    i::instance_id,
                    i::host,
                    i::pid,
                    i::started_at,
                    i::heartbeat_at,
                    i::next_fire_at,
                    i::state,
                    i::stop_requested,
                ))
                .order(i::heartbeat_at.desc())
                .limit(100)
                .load(&mut conn)
                .await
        })?;
        rows.into_iter()
            .map(|(id, host, pid, started, heartbeat, next, state, stop)| {
                Ok(SchedulerRecord {
                    instance_id: id,
                    host,
                    pid: pid as u32,
                    started_at: started.0,
                    heartbeat_at: heartbeat.0,
                    next_fire_at: next.map(|t| t.0),
                    state: InstanceState::parse(&state)
                        .ok_or_else(|| self.store.corrupt("scheduler state", &state))?,
                    stop_requested: stop,
                })
            })
            .collect()
    }
}
