//! Writing observations and quarantined rows: one transaction per batch, with inserted /
//! changed / unchanged counts. Changed values keep their previous value in `revisions` (a trigger
//! in the schema does that, so it holds for any writer; on a hypertable TimescaleDB propagates
//! the trigger to every chunk).
//!
//! Three write paths, one contract (equal rows untouched by the upsert's
//! `WHERE value <> excluded.value`, inserted and changed counted, all on hypertables too):
//! SQLite's multi-row upsert as SQL text (Diesel's SQLite batch upsert has no `WHERE`);
//! PostgreSQL batches under [`PG_COPY_THRESHOLD`] rows through Diesel with
//! `RETURNING (xmax = 0)`; larger ones through binary COPY (`copy.rs`).

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, QueryDsl, dsl::sql, sql_types::Bool, upsert::excluded};
use energy_core::{Observation, Rejection};

use super::Observations;
use crate::{
    RunId, StoreError,
    connect::ConnectFailure,
    schema::{observations, quarantine, revisions},
    store::Db,
    types::{DbPrice, DbTime},
};

use super::{
    copy::copy_upsert,
    rows::{NewObservation, NewQuarantine},
};

/// Rows per INSERT statement: 7 binds a row stays far below both backends' bind limits.
const CHUNK: usize = 1000;
/// On PostgreSQL, batches at least this large go through COPY into a staging table.
pub const PG_COPY_THRESHOLD: usize = 2000;

/// What a write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WriteCounts {
    /// New keys.
    pub inserted: u64,
    /// Existing keys whose value changed (the old value is in `revisions`).
    pub changed: u64,
    /// Rows already stored with the same value (and repeats of a key within the batch).
    pub unchanged: u64,
    /// Rows written to the quarantine.
    pub quarantined: u64,
}

impl WriteCounts {
    /// Rows inserted or changed.
    pub fn stored(&self) -> u64 {
        self.inserted + self.changed
    }
}

impl Observations<'_> {
    /// Upserts `rows`: new keys are inserted, changed values replace the stored ones (the old
    /// value goes to `revisions`), equal values are left alone. Atomic: all or nothing.
    pub async fn upsert(
        self,
        run: Option<RunId>,
        rows: &[Observation],
    ) -> Result<WriteCounts, StoreError> {
        self.write_batch(run, rows, &[]).await
    }

    /// Writes accepted observations and quarantined rows of one batch in one transaction.
    pub async fn write_batch(
        self,
        run: Option<RunId>,
        rows: &[Observation],
        rejected: &[Rejection],
    ) -> Result<WriteCounts, StoreError> {
        self.write_batch_at(run, rows, rejected, Utc::now()).await
    }

    /// [`Observations::write_batch`] recorded as fetched at `now`: the instant point-in-time reads
    /// ([`ExportFilter::as_of`](crate::ExportFilter)) see the values from. For imports of
    /// history and for tests; a run writes at the current time.
    pub async fn write_batch_at(
        self,
        run: Option<RunId>,
        rows: &[Observation],
        rejected: &[Rejection],
        now: chrono::DateTime<Utc>,
    ) -> Result<WriteCounts, StoreError> {
        let run_id = run.map(|r| r.0);
        let new_rows = self.prepare_observations(rows, now, run_id)?;
        let repeats = (rows.len() - new_rows.len()) as u64;
        let new_quarantine = rejected
            .iter()
            .map(|r| {
                Ok(NewQuarantine {
                    run_id,
                    commodity_id: self.store.commodity_id(&r.commodity)?,
                    source_id: self.store.source_id(&r.source)?,
                    date: r.date,
                    raw_value: r.raw_value.clone(),
                    rule: r.rule.name().to_owned(),
                    reason: r.reason.clone(),
                    quarantined_at: DbTime(now),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let quarantined = new_quarantine.len() as u64;
        let total = new_rows.len() as u64;

        let (inserted, changed) = match &self.store.inner.db {
            Db::Sqlite(pool) => {
                let mut conn = self.store.checkout(pool).await?;
                conn.spawn_blocking(move |c| sqlite_write(c, &new_rows, &new_quarantine))
                    .await
                    .map_err(|e| self.store.query_error("writing observations", e))?
            }
            Db::Pg(pg) if new_rows.len() >= PG_COPY_THRESHOLD => {
                self.pg_copy_write(pg, &new_rows, &new_quarantine).await?
            }
            Db::Pg(pg) => {
                let mut conn = self.store.checkout(&pg.pool).await?;
                pg_write(&mut conn, &new_rows, &new_quarantine)
                    .await
                    .map_err(|e| self.store.query_error("writing observations", e))?
            }
        };
        self.after_write(inserted).await;
        Ok(WriteCounts {
            inserted,
            changed,
            unchanged: total - inserted - changed + repeats,
            quarantined,
        })
    }

    /// Maps codes to ids, sorts by key (a fixed lock order: concurrent writers cannot deadlock)
    /// and keeps the last of repeated keys.
    fn prepare_observations(
        self,
        rows: &[Observation],
        now: DateTime<Utc>,
        run_id: Option<i64>,
    ) -> Result<Vec<NewObservation>, StoreError> {
        let mut out = rows
            .iter()
            .map(|o| {
                Ok(NewObservation {
                    commodity_id: self.store.commodity_id(&o.commodity)?,
                    source_id: self.store.source_id(&o.source)?,
                    date: o.date,
                    value: DbPrice(o.value),
                    unit: o.unit.clone(),
                    fetched_at: DbTime(now),
                    run_id,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // stable sort: among repeats the later row stays last, and dedup keeps the first, so
        // reverse, dedup, reverse keeps the last
        out.sort_by_key(|r| (r.commodity_id, r.source_id, r.date));
        out.reverse();
        out.dedup_by_key(|r| (r.commodity_id, r.source_id, r.date));
        out.reverse();
        Ok(out)
    }

    /// PostgreSQL bulk path: binary COPY into a temporary staging table, then one upsert.
    async fn pg_copy_write(
        self,
        pg: &crate::store::Postgres,
        rows: &[NewObservation],
        rejected: &[NewQuarantine],
    ) -> Result<(u64, u64), StoreError> {
        let mut guard = pg.copy_client.lock().await;
        let client = if let Some(open) = guard.take().filter(|c| !c.is_closed()) {
            guard.insert(open)
        } else {
            let (client, connection) = pg
                .connector
                .connect()
                .await
                .map_err(|e| e.into_store_error(&self.store.inner.url))?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "bulk-load connection closed");
                }
            });
            tokio_postgres::Client::batch_execute(
                &client,
                "SET jit = off; \
                 CREATE TEMP TABLE obs_staging (commodity_id int4, source_id int4, date date, \
                 value numeric, unit text, fetched_at timestamptz, run_id int8) ON COMMIT DELETE ROWS",
            )
            .await
            .map_err(|e| self.store.pg_error("preparing the bulk load", e))?;
            guard.insert(client)
        };
        let result = copy_upsert(client, rows, rejected).await;
        if result.is_err() && client.is_closed() {
            *guard = None;
        }
        result.map_err(|e| self.store.pg_error("bulk-loading observations", e))
    }
}

/// The upsert for SQLite, as SQL text: Diesel cannot express a multi-row `INSERT … ON CONFLICT
/// DO UPDATE … WHERE` for SQLite (its batch upsert has no WHERE), and without the WHERE every
/// unchanged row would be rewritten.
fn sqlite_upsert_sql(rows: usize) -> String {
    let mut sql = String::with_capacity(120 + rows * 24);
    sql.push_str("INSERT INTO observations (commodity_id, source_id, date, value, unit, fetched_at, run_id) VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?)");
    }
    // the values are decimal text with their published scale (`4.0`): compared as numbers,
    // as PostgreSQL compares NUMERIC, so that `4` after `4.0` is unchanged, not a revision
    sql.push_str(&format!(
        " ON CONFLICT (commodity_id, source_id, date) DO UPDATE SET value = excluded.value, \
         unit = excluded.unit, fetched_at = excluded.fetched_at, run_id = excluded.run_id \
         WHERE {} <> {}",
        sqlite_number("observations.value"),
        sqlite_number("excluded.value")
    ));
    sql
}

/// SQLite SQL for the decimal text in `column` without trailing zeros after its point (`4.0`
/// and `4.00` are `4`, `3.10` is `3.1`): one spelling per number, as `Price` writes them
/// (never an exponent, never `-0`).
fn sqlite_number(column: &str) -> String {
    format!(
        "(CASE WHEN instr({column}, '.') > 0 THEN rtrim(rtrim({column}, '0'), '.') ELSE {column} END)"
    )
}

fn sqlite_write(
    c: &mut diesel::SqliteConnection,
    rows: &[NewObservation],
    rejected: &[NewQuarantine],
) -> diesel::QueryResult<(u64, u64)> {
    use diesel::{
        RunQueryDsl,
        sql_types::{BigInt, Date, Integer, Nullable, Text},
        sqlite::Sqlite,
    };
    let full_chunk_sql = sqlite_upsert_sql(CHUNK);
    c.immediate_transaction(|c| {
        // The revision trigger adds one row per changed value; SQLite serialises writers, so
        // the growth of the revisions table during this transaction is our changed count.
        let before: Option<i64> = revisions::table
            .select(diesel::dsl::max(revisions::id))
            .first(c)?;
        let mut written = 0u64;
        for chunk in rows.chunks(CHUNK) {
            let sql = if chunk.len() == CHUNK {
                full_chunk_sql.clone()
            } else {
                sqlite_upsert_sql(chunk.len())
            };
            let mut query = diesel::sql_query(sql).into_boxed::<Sqlite>();
            for r in chunk {
                query = query
                    .bind::<Integer, _>(r.commodity_id)
                    .bind::<Integer, _>(r.source_id)
                    .bind::<Date, _>(r.date)
                    .bind::<Text, _>(r.value.0.to_string())
                    .bind::<Text, _>(r.unit.clone())
                    .bind::<Text, _>(crate::types::sqlite_time(&r.fetched_at.0))
                    .bind::<Nullable<BigInt>, _>(r.run_id);
            }
            written += query.execute(c)? as u64;
        }
        let after: Option<i64> = revisions::table
            .select(diesel::dsl::max(revisions::id))
            .first(c)?;
        let changed = (after.unwrap_or(0) - before.unwrap_or(0)) as u64;
        for chunk in rejected.chunks(CHUNK) {
            diesel::insert_into(quarantine::table)
                .values(chunk)
                .execute(c)?;
        }
        Ok((written - changed, changed))
    })
}

async fn pg_write(
    conn: &mut diesel_async::AsyncPgConnection,
    rows: &[NewObservation],
    rejected: &[NewQuarantine],
) -> diesel::QueryResult<(u64, u64)> {
    use diesel::query_dsl::methods::FilterDsl;
    use diesel_async::{AsyncConnection, RunQueryDsl};
    use observations::dsl as o;
    conn.transaction::<_, diesel::result::Error, _>(async |c| {
        let (mut inserted, mut changed) = (0u64, 0u64);
        for chunk in rows.chunks(CHUNK) {
            // xmax = 0 only on a freshly inserted row version: tells inserts from updates
            let flags: Vec<bool> = diesel::insert_into(o::observations)
                .values(chunk)
                .on_conflict((o::commodity_id, o::source_id, o::date))
                .do_update()
                .set((
                    o::value.eq(excluded(o::value)),
                    o::unit.eq(excluded(o::unit)),
                    o::fetched_at.eq(excluded(o::fetched_at)),
                    o::run_id.eq(excluded(o::run_id)),
                ))
                .filter(o::value.ne(excluded(o::value)))
                .returning(sql::<Bool>("xmax = 0"))
                .get_results(c)
                .await?;
            let new = flags.iter().filter(|f| **f).count() as u64;
            inserted += new;
            changed += flags.len() as u64 - new;
        }
        for chunk in rejected.chunks(CHUNK) {
            diesel::insert_into(quarantine::table)
                .values(chunk)
                .execute(c)
                .await?;
        }
        Ok((inserted, changed))
    })
    .await
}
