//! The run ledger: a row per run from its start, the full report when it ends, and what is needed
//! to find runs whose process died (host, pid, heartbeat).

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use energy_core::{Counts, ModeKind, RunReport, RunStatus, Trigger};

use crate::{
    RunId, Store, StoreError,
    schema::runs,
    store::with_conn,
    types::{CountRow, DbTime},
};

/// The run ledger, reached as [`Store::runs`].
#[derive(Debug, Clone, Copy)]
pub struct Runs<'s> {
    pub(crate) store: &'s Store,
}

impl Store {
    /// The run ledger: a row per run from its start to its report.
    pub fn runs(&self) -> Runs<'_> {
        Runs { store: self }
    }
}

/// What is known when a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    /// Public id of the run (`run_id` in reports).
    pub uuid: String,
    pub trigger: Trigger,
    pub mode: ModeKind,
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Which attempt at its fire time a scheduled run is (1, or more after takeovers).
    pub attempt: Option<u32>,
    pub started_at: DateTime<Utc>,
    pub host: String,
    pub pid: u32,
}

/// A run as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: RunId,
    pub uuid: String,
    pub trigger: Trigger,
    pub mode: ModeKind,
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Which attempt at its fire time a scheduled run is (1, or more after takeovers).
    pub attempt: Option<u32>,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub heartbeat_at: DateTime<Utc>,
    pub host: String,
    pub pid: u32,
    pub counts: Counts,
    /// The full report of a finished run.
    pub report: Option<RunReport>,
}

type RunRow = (
    i64,
    String,
    String,
    String,
    (Option<DbTime>, Option<i32>),
    String,
    DbTime,
    Option<DbTime>,
    DbTime,
    String,
    i32,
    (i64, i64, i64, i64),
    Option<String>,
);

fn enum_from_name<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// Which runs `load_runs` reads.
#[derive(Debug, Clone)]
enum Which {
    /// Those still `running`, oldest first.
    Running,
    /// Every run, newest first.
    Newest,
    /// The one with this id.
    One(RunId),
    /// The one with this UUID (the `run_id` of its report).
    Uuid(String),
}

impl Runs<'_> {
    /// Records a run as `running` and returns its id.
    pub async fn start(self, start: &RunStart) -> Result<RunId, StoreError> {
        use runs::dsl as r;
        let values = (
            r::run_uuid.eq(&start.uuid),
            r::run_trigger.eq(start.trigger.name()),
            r::mode.eq(start.mode.name()),
            r::scheduled_for.eq(start.scheduled_for.map(DbTime)),
            r::attempt.eq(start.attempt.map(|a| a as i32)),
            r::status.eq(RunStatus::Running.name()),
            r::started_at.eq(DbTime(start.started_at)),
            r::heartbeat_at.eq(DbTime(start.started_at)),
            r::host.eq(&start.host),
            r::pid.eq(start.pid as i32),
        );
        let id: i64 = with_conn!(self.store, "recording the run start", |conn| {
            diesel::insert_into(r::runs)
                .values(values)
                .returning(r::id)
                .get_result(&mut conn)
                .await
        })?;
        Ok(RunId(id))
    }

    /// Says the run is still alive.
    pub async fn heartbeat(self, run: RunId, at: DateTime<Utc>) -> Result<(), StoreError> {
        use runs::dsl as r;
        with_conn!(self.store, "recording a run heartbeat", |conn| {
            diesel::update(r::runs.filter(r::id.eq(run.0)))
                .set(r::heartbeat_at.eq(DbTime(at)))
                .execute(&mut conn)
                .await
        })?;
        Ok(())
    }

    /// Records the outcome and the full report of a run.
    pub async fn finish(self, run: RunId, report: &RunReport) -> Result<(), StoreError> {
        use runs::dsl as r;
        let json = serde_json::to_string(report).map_err(|e| StoreError::Query {
            db: self.store.describe(),
            operation: "serialising the run report",
            reason: e.to_string(),
            cause: None,
        })?;
        let finished = report.finished_at.unwrap_or_else(Utc::now);
        let c = report.counts;
        with_conn!(self.store, "recording the run outcome", |conn| {
            diesel::update(r::runs.filter(r::id.eq(run.0)))
                .set((
                    r::status.eq(report.status.name()),
                    r::finished_at.eq(DbTime(finished)),
                    r::heartbeat_at.eq(DbTime(finished)),
                    r::fetched.eq(c.fetched as i64),
                    r::stored.eq(c.stored as i64),
                    r::unchanged.eq(c.unchanged as i64),
                    r::rejected.eq(c.rejected as i64),
                    r::report.eq(&json),
                ))
                .execute(&mut conn)
                .await
        })?;
        Ok(())
    }

    /// Marks a run that is still `running` as `failed` with its counts but no report: the
    /// fallback when its full outcome cannot be written. Returns whether it was still running.
    pub async fn fail(
        self,
        run: RunId,
        at: DateTime<Utc>,
        counts: Counts,
    ) -> Result<bool, StoreError> {
        use runs::dsl as r;
        let n = with_conn!(self.store, "marking a run failed", |conn| {
            diesel::update(
                r::runs
                    .filter(r::id.eq(run.0))
                    .filter(r::status.eq(RunStatus::Running.name())),
            )
            .set((
                r::status.eq(RunStatus::Failed.name()),
                r::finished_at.eq(DbTime(at)),
                r::heartbeat_at.eq(DbTime(at)),
                r::fetched.eq(counts.fetched as i64),
                r::stored.eq(counts.stored as i64),
                r::unchanged.eq(counts.unchanged as i64),
                r::rejected.eq(counts.rejected as i64),
            ))
            .execute(&mut conn)
            .await
        })?;
        Ok(n > 0)
    }

    /// Marks a run that is still `running` as `interrupted` (its process died or was stopped).
    /// Returns whether it was still running.
    pub async fn mark_interrupted(self, run: RunId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        use runs::dsl as r;
        let n = with_conn!(self.store, "marking a run interrupted", |conn| {
            diesel::update(
                r::runs
                    .filter(r::id.eq(run.0))
                    .filter(r::status.eq(RunStatus::Running.name())),
            )
            .set((
                r::status.eq(RunStatus::Interrupted.name()),
                r::finished_at.eq(DbTime(at)),
            ))
            .execute(&mut conn)
            .await
        })?;
        Ok(n > 0)
    }

    /// Runs recorded as `running`, oldest first.
    pub async fn running(self) -> Result<Vec<RunRecord>, StoreError> {
        self.load_runs(Which::Running, i64::MAX).await
    }

    /// The latest `limit` runs, newest first.
    pub async fn recent(self, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        self.load_runs(Which::Newest, i64::from(limit)).await
    }

    /// One run by id.
    pub async fn get(self, run: RunId) -> Result<Option<RunRecord>, StoreError> {
        Ok(self.load_runs(Which::One(run), 1).await?.into_iter().next())
    }

    /// One run by its UUID, the `run_id` its report shows.
    pub async fn by_uuid(self, uuid: &str) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .load_runs(Which::Uuid(uuid.to_owned()), 1)
            .await?
            .into_iter()
            .next())
    }

    async fn load_runs(self, which: Which, limit: i64) -> Result<Vec<RunRecord>, StoreError> {
        use runs::dsl as r;
        let rows: Vec<RunRow> = with_conn!(self.store, "reading run history", |conn| {
            let mut q = r::runs
                .select((
                    r::id,
                    r::run_uuid,
                    r::run_trigger,
                    r::mode,
                    (r::scheduled_for, r::attempt),
                    r::status,
                    r::started_at,
                    r::finished_at,
                    r::heartbeat_at,
                    r::host,
                    r::pid,
                    (r::fetched, r::stored, r::unchanged, r::rejected),
                    r::report,
                ))
                .limit(limit)
                .into_boxed();
            q = match which {
                Which::Running => q
                    .filter(r::status.eq(RunStatus::Running.name()))
                    .order(r::id.asc()),
                Which::Newest => q.order(r::id.desc()),
                // one row, by its primary key
                Which::One(id) => q.filter(r::id.eq(id.0)),
                Which::Uuid(ref uuid) => q.filter(r::run_uuid.eq(uuid.clone())),
            };
            q.load(&mut conn).await
        })?;
        rows.into_iter()
            .map(|row| {
                let (
                    id,
                    uuid,
                    trigger,
                    mode,
                    (scheduled_for, attempt),
                    status,
                    started,
                    finished,
                    heartbeat,
                    host,
                    pid,
                    c,
                    report,
                ) = row;
                Ok(RunRecord {
                    id: RunId(id),
                    uuid,
                    trigger: enum_from_name(&trigger)
                        .ok_or_else(|| self.store.corrupt("run trigger", &trigger))?,
                    mode: enum_from_name(&mode)
                        .ok_or_else(|| self.store.corrupt("run mode", &mode))?,
                    scheduled_for: scheduled_for.map(|t| t.0),
                    attempt: attempt.map(|a| a.max(1) as u32),
                    status: enum_from_name(&status)
                        .ok_or_else(|| self.store.corrupt("run status", &status))?,
                    started_at: started.0,
                    finished_at: finished.map(|t| t.0),
                    heartbeat_at: heartbeat.0,
                    host,
                    pid: pid as u32,
                    counts: Counts {
                        fetched: c.0 as u64,
                        stored: c.1 as u64,
                        unchanged: c.2 as u64,
                        rejected: c.3 as u64,
                    },
                    report: match report {
                        Some(json) => Some(
                            serde_json::from_str(&json)
                                .map_err(|_| self.store.corrupt("run report", &json))?,
                        ),
                        None => None,
                    },
                })
            })
            .collect()
    }

    /// How many runs ended in each status (`running` included), for metrics.
    pub async fn counts_by_status(self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<CountRow> = with_conn!(self.store, "counting runs", |conn| {
            diesel::sql_query(
                "SELECT status AS label, COUNT(*) AS n FROM runs GROUP BY status ORDER BY status",
            )
            .load(&mut conn)
            .await
        })?;
        Ok(rows.into_iter().map(|r| (r.label, r.n as u64)).collect())
    }
}
