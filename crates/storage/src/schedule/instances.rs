//! The live scheduler instances: each registers, heartbeats (with its next fire time, reading
//! a stop request), and says when it stopped.

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use super::ScheduleLedger;
use crate::{
    FireState, StoreError,
    schema::{schedule_fires, scheduler_instances},
    store::{Db, with_conn},
    types::{DbTime, UtcTime},
};

diesel::define_sql_function! {
    /// The PostgreSQL migration's heartbeat function: [stop requested, another's fire time
    /// running], or NULL for a scheduler not registered.
    fn scheduler_heartbeat(
        instance: diesel::sql_types::Text,
        key: diesel::sql_types::Text,
        at: UtcTime,
        next: diesel::sql_types::Nullable<UtcTime>,
    ) -> diesel::sql_types::Nullable<diesel::sql_types::Array<diesel::sql_types::Bool>>;
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

/// What a heartbeat learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Heartbeat {
    /// A stop was asked (`schedule stop`).
    pub stop_requested: bool,
    /// A fire time of the schedule is `running` under another claimant: alive at work, or gone
    /// and to be taken over.
    pub others_running: bool,
}

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

    /// Records a scheduler's heartbeat and next fire time, in one statement that also says
    /// whether a stop was asked and whether a fire time of `schedule_key` is `running` under
    /// another claimant (the only case in which takeovers are worth looking for).
    pub async fn heartbeat(
        self,
        instance_id: &str,
        schedule_key: &str,
        at: DateTime<Utc>,
        next_fire_at: Option<DateTime<Utc>>,
    ) -> Result<Heartbeat, StoreError> {
        use schedule_fires::dsl as f;
        use scheduler_instances::dsl as i;
        const OPERATION: &str = "recording the scheduler heartbeat";
        let store = self.store;
        let (id, key) = (instance_id.to_owned(), schedule_key.to_owned());
        let answer: Option<(bool, bool)> = match &store.inner.db {
            // one statement the connection keeps prepared (see the migration)
            Db::Pg(pg) => {
                let mut conn = store.checkout(&pg.pool).await?;
                let answer: Option<Vec<bool>> = diesel::select(scheduler_heartbeat(
                    id,
                    key,
                    DbTime(at),
                    next_fire_at.map(DbTime),
                ))
                .get_result(&mut conn)
                .await
                .map_err(|e| store.query_error(OPERATION, e))?;
                answer.map(|a| {
                    (
                        matches!(a.as_slice(), [true, ..]),
                        matches!(a.as_slice(), [_, true, ..]),
                    )
                })
            }
            Db::Sqlite(pool) => {
                let mut conn = store.checkout(pool).await?;
                let others_running = diesel::dsl::exists(
                    f::schedule_fires
                        .filter(f::schedule_key.eq(key))
                        .filter(f::state.eq(FireState::Running.name()))
                        .filter(f::claimed_by.ne(id.clone())),
                );
                diesel::update(i::scheduler_instances.filter(i::instance_id.eq(id)))
                    .set((
                        i::heartbeat_at.eq(DbTime(at)),
                        i::next_fire_at.eq(next_fire_at.map(DbTime)),
                    ))
                    .returning((i::stop_requested, others_running))
                    .get_result(&mut conn)
                    .await
                    .optional()
                    .map_err(|e| store.query_error(OPERATION, e))?
            }
        };
        let (stop_requested, others_running) = answer.unwrap_or((false, false));
        Ok(Heartbeat {
            stop_requested,
            others_running,
        })
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
