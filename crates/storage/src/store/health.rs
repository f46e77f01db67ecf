//! Whether the database answers, what it is, and whether TimescaleDB is in use.

use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{Db, Store};
use crate::{
    StoreError,
    timescale::{self, Step, Timescale},
    types::TextRow,
};

/// What `health()` found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    pub healthy: bool,
    pub backend: &'static str,
    /// e.g. "PostgreSQL 15.20 …" or "SQLite 3.49.1".
    pub server_version: Option<String>,
    /// TimescaleDB installed and `observations` a hypertable.
    pub timescaledb: bool,
    /// Says what the store uses and, when TimescaleDB is on the server but unused, what to do.
    pub message: String,
    /// What needs doing although the database works (TimescaleDB on the server but unused).
    #[serde(skip_serializing)]
    pub notice: Option<String>,
}

impl Store {
    /// Reachability, backend, server version and TimescaleDB. Never fails: an unreachable
    /// database is reported as unhealthy with the reason.
    pub async fn health(&self) -> Health {
        let backend = self.backend().name();
        let probe = async {
            let version = match &self.inner.db {
                Db::Pg(pg) => {
                    let mut c = self.checkout(&pg.pool).await?;
                    let v: Vec<TextRow> = diesel::sql_query("SELECT version() AS text")
                        .load(&mut c)
                        .await
                        .map_err(|e| self.query_error("health check", e))?;
                    let ts = self
                        .timescale_now(&mut c)
                        .await
                        .map_err(|e| self.query_error("health check", e))?;
                    (v.into_iter().next().map(|r| r.text), Some(ts))
                }
                Db::Sqlite(pool) => {
                    let mut c = self.checkout(pool).await?;
                    let v: Vec<TextRow> =
                        diesel::sql_query("SELECT 'SQLite ' || sqlite_version() AS text")
                            .load(&mut c)
                            .await
                            .map_err(|e| self.query_error("health check", e))?;
                    (v.into_iter().next().map(|r| r.text), None)
                }
            };
            Ok::<_, StoreError>(version)
        };
        match probe.await {
            Ok((version, timescale)) => Health {
                healthy: true,
                backend,
                server_version: version,
                timescaledb: timescale.as_ref().is_some_and(Timescale::is_hypertable),
                message: match &timescale {
                    Some(t) => format!("database healthy ({})", t.describe()),
                    None => "database healthy".to_owned(),
                },
                notice: timescale
                    .filter(|t| matches!(t, Timescale::NotPreloaded | Timescale::NotEnabled(_)))
                    .map(|t| t.describe()),
            },
            Err(e) => Health {
                healthy: false,
                backend,
                server_version: None,
                timescaledb: false,
                message: e.to_string(),
                notice: None,
            },
        }
    }

    /// TimescaleDB as the server offers it now (read-only).
    async fn timescale_now(&self, c: &mut AsyncPgConnection) -> diesel::QueryResult<Timescale> {
        let probe: timescale::Probe = diesel::sql_query(timescale::PROBE_SQL)
            .get_result(c)
            .await?;
        let interval = if probe.schema.is_some() {
            let rows: Vec<timescale::ChunkInterval> =
                diesel::sql_query(timescale::CHUNK_INTERVAL_SQL)
                    .load(c)
                    .await?;
            rows.into_iter().next().map(|r| r.days)
        } else {
            None
        };
        Ok(match timescale::plan(&probe, interval) {
            Step::Keep { days, .. } => Timescale::Hypertable {
                chunk_interval_days: days,
            },
            Step::Report(t) => t,
            // usable but not in use: start-up tried and failed (its finding says why)
            Step::Convert { .. } => match self.timescale() {
                Some(t @ Timescale::NotEnabled(_)) => t.clone(),
                _ => Timescale::NotEnabled(
                    "observations is not a hypertable yet; the next start-up converts it"
                        .to_owned(),
                ),
            },
        })
    }
}
