//! Test hooks (feature `testing`): undo and redo every migration, list the schema's objects.

use diesel_async::RunQueryDsl;
use diesel_migrations::MigrationHarness;

use super::{Db, Store, postgres, sqlite, sqlite::SQLITE_MIGRATIONS, with_conn};
use crate::{
    Backend, StoreError,
    error::describe_diesel,
    startup::{PG_MIGRATIONS, PgSyncConn, migration_error_text},
    types::TextRow,
};

impl Store {
    /// Reverts every migration and applies them again: proves each `down.sql` undoes its
    /// `up.sql`. Destroys all data; for tests only (feature `testing`).
    pub async fn redo_all_migrations_for_test(
        &self,
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let url = self.inner.url.clone();
        let fail = |e: String| StoreError::Migration {
            db: url.redacted(),
            reason: e,
        };
        match &self.inner.db {
            Db::Sqlite(pool) => {
                let mut conn = self.checkout(pool).await?;
                conn.spawn_blocking(|c| {
                    Ok(c.revert_all_migrations(SQLITE_MIGRATIONS)
                        .map(|_| ())
                        .map_err(|e| migration_error_text(&*e)))
                })
                .await
                .map_err(|e| fail(describe_diesel(&e)))?
                .map_err(fail)?;
            }
            Db::Pg(pg) => {
                let connector = pg.connector.clone();
                let handle = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || -> Result<(), String> {
                    let mut c: PgSyncConn = handle
                        .block_on(connector.diesel())
                        .map_err(|e| e.to_string())?
                        .into();
                    c.revert_all_migrations(PG_MIGRATIONS)
                        .map(|_| ())
                        .map_err(|e| migration_error_text(&*e))
                })
                .await
                .map_err(|e| fail(e.to_string()))?
                .map_err(fail)?;
            }
        }
        let after_down = self.table_names().await?;
        match &self.inner.db {
            Db::Sqlite(pool) => sqlite::migrate(self, pool).await?,
            Db::Pg(pg) => {
                postgres::migrate(&self.inner.url, &pg.connector).await?;
            }
        }
        Ok((after_down, self.table_names().await?))
    }

    /// Names of the tables, views, triggers and functions the schema consists of, sorted
    /// (feature `testing`).
    pub async fn table_names(&self) -> Result<Vec<String>, StoreError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT type || ':' || name AS text FROM sqlite_master \
                 WHERE name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY 1"
            }
            Backend::Postgres => {
                "SELECT 'table:' || tablename AS text FROM pg_tables WHERE schemaname = current_schema() \
                   AND tablename <> '__diesel_schema_migrations' \
                 UNION ALL SELECT 'index:' || indexname FROM pg_indexes WHERE schemaname = current_schema() \
                   AND tablename <> '__diesel_schema_migrations' \
                 UNION ALL SELECT 'trigger:' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
                   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = current_schema() \
                 UNION ALL SELECT 'function:' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                   WHERE n.nspname = current_schema() ORDER BY 1"
            }
        };
        let rows: Vec<TextRow> =
            with_conn!(self, "listing the schema", |conn| diesel::sql_query(sql)
                .load(&mut conn)
                .await)?;
        Ok(rows.into_iter().map(|r| r.text).collect())
    }

    /// Whether the planner has statistics of `observations` (an ANALYZE ran on it): SQLite's
    /// `sqlite_stat1`, PostgreSQL's `pg_stats` of the current schema (a hypertable's chunks
    /// count). For tests (feature `testing`).
    pub async fn has_planner_statistics_for_test(&self) -> Result<bool, StoreError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT CAST(count(*) AS TEXT) AS text FROM sqlite_master WHERE name = 'sqlite_stat1'"
            }
            Backend::Postgres => {
                "SELECT CAST(count(*) AS TEXT) AS text FROM pg_stats \
                 WHERE (schemaname = current_schema() AND tablename = 'observations') \
                    OR tablename IN (SELECT c.relname FROM pg_inherits i \
                         JOIN pg_class c ON c.oid = i.inhrelid \
                        WHERE i.inhparent = 'observations'::regclass)"
            }
        };
        let rows: Vec<TextRow> = with_conn!(self, "reading planner statistics", |conn| {
            diesel::sql_query(sql).load(&mut conn).await
        })?;
        let n: u64 = rows
            .into_iter()
            .next()
            .and_then(|r| r.text.parse().ok())
            .unwrap_or(0);
        if n == 0 || self.backend() == Backend::Postgres {
            return Ok(n > 0);
        }
        let rows: Vec<TextRow> = with_conn!(self, "reading planner statistics", |conn| {
            diesel::sql_query(
                "SELECT CAST(count(*) AS TEXT) AS text FROM sqlite_stat1 WHERE tbl = 'observations'",
            )
            .load(&mut conn)
            .await
        })?;
        Ok(rows.into_iter().next().is_some_and(|r| r.text != "0"))
    }
}
