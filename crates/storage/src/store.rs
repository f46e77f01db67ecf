//! The `Store` handle: opening either backend, migrations, TimescaleDB, health and the catalog of
//! commodities and sources.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use diesel::{
    ExpressionMethods, QueryDsl, SqliteConnection,
    connection::SimpleConnection,
    sql_types::{Bool, Text},
};
use diesel_async::{
    AsyncConnection, AsyncPgConnection, RunQueryDsl,
    async_connection_wrapper::AsyncConnectionWrapper,
    pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, deadpool::Pool},
    sync_connection_wrapper::SyncConnectionWrapper,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use energy_core::{CommodityCode, CommoditySpec, SourceId};
use tokio::sync::Mutex;

use crate::{Backend, DatabaseUrl, StoreError, schema};

pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// How long to wait for a connection before calling the database unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Arbitrary constant naming the advisory lock that serialises migrations between processes.
const MIGRATION_LOCK: i64 = 0x656e_6572_6779;

#[derive(Clone)]
pub(crate) enum Db {
    Pg(Pool<AsyncPgConnection>),
    Sqlite(Pool<SqliteConn>),
}

/// Runs `$body` with a pooled connection `$c` of whichever backend the store uses. The body is
/// type-checked once per backend, so one query text serves both.
macro_rules! with_conn {
    ($store:expr, $op:expr, |$c:ident| $body:expr) => {{
        let store: &$crate::Store = $store;
        match &store.inner.db {
            $crate::store::Db::Pg(pool) => {
                #[allow(unused_mut)]
                let mut $c = store.checkout(pool).await?;
                let r: ::diesel::QueryResult<_> = $body;
                r.map_err(|e| store.query_error($op, e))
            }
            $crate::store::Db::Sqlite(pool) => {
                #[allow(unused_mut)]
                let mut $c = store.checkout(pool).await?;
                let r: ::diesel::QueryResult<_> = $body;
                r.map_err(|e| store.query_error($op, e))
            }
        }
    }};
}
pub(crate) use with_conn;

/// Ids of the catalog rows, cached: every write maps codes to ids.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    pub commodity_ids: HashMap<CommodityCode, i32>,
    pub commodity_codes: HashMap<i32, CommodityCode>,
    pub source_ids: HashMap<SourceId, i32>,
    pub source_names: HashMap<i32, SourceId>,
}

pub(crate) struct Inner {
    pub db: Db,
    pub url: DatabaseUrl,
    pub catalog: RwLock<Catalog>,
    /// A plain tokio-postgres connection for COPY (diesel-async has none), opened on first use.
    pub copy_client: Mutex<Option<tokio_postgres::Client>>,
}

/// A handle on the time-series store. Cheap to clone; all clones share one connection pool.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.inner.url)
            .finish_non_exhaustive()
    }
}

/// What `health()` found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    pub healthy: bool,
    pub backend: &'static str,
    /// e.g. "PostgreSQL 15.20 …" or "SQLite 3.49.1".
    pub server_version: Option<String>,
    /// TimescaleDB installed and `observations` a hypertable.
    pub timescaledb: bool,
    pub message: String,
}

#[derive(diesel::QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    text: String,
}

#[derive(diesel::QueryableByName)]
struct BoolRow {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

impl Store {
    /// Connects, applies pending migrations and loads the catalog. On PostgreSQL with the
    /// TimescaleDB extension available, `observations` becomes a hypertable.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let db = match url.backend() {
            Backend::Postgres => {
                let mut config = ManagerConfig::<AsyncPgConnection>::default();
                config.custom_setup = Box::new(|target| {
                    Box::pin(async move {
                        let mut conn = AsyncPgConnection::establish(target).await?;
                        // Every query of the store is a handful of index lookups; JIT compiling
                        // them (triggered by the planner's guesses about tiny tables) costs
                        // tens of milliseconds and gains nothing.
                        diesel_async::SimpleAsyncConnection::batch_execute(
                            &mut conn,
                            "SET jit = off",
                        )
                        .await
                        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        Ok(conn)
                    })
                });
                let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
                    url.expose(),
                    config,
                );
                Db::Pg(
                    Pool::builder(manager)
                        .max_size(8)
                        .build()
                        .map_err(|e| unavailable(url, e))?,
                )
            }
            Backend::Sqlite => {
                let path = url.sqlite_path().expect("sqlite URL has a path");
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| StoreError::CreateDir {
                        db: url.redacted(),
                        path: parent.display().to_string(),
                        reason: e.to_string(),
                    })?;
                }
                let mut config = ManagerConfig::<SqliteConn>::default();
                config.custom_setup = Box::new(|target| {
                    Box::pin(async move {
                        let mut conn = SqliteConn::establish(target).await?;
                        conn.spawn_blocking(|c| {
                            c.batch_execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                            )
                        })
                        .await
                        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                        Ok(conn)
                    })
                });
                let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(
                    path.to_string_lossy(),
                    config,
                );
                Db::Sqlite(
                    Pool::builder(manager)
                        .max_size(4)
                        .build()
                        .map_err(|e| unavailable(url, e))?,
                )
            }
        };
        let store = Store {
            inner: Arc::new(Inner {
                db,
                url: url.clone(),
                catalog: RwLock::new(Catalog::default()),
                copy_client: Mutex::new(None),
            }),
        };
        store.migrate().await?;
        if url.backend() == Backend::Postgres {
            store.enable_timescaledb().await;
        }
        store.reload_catalog().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.inner.url.backend()
    }

    /// The database URL with any password redacted.
    pub fn describe(&self) -> String {
        self.inner.url.redacted()
    }

    pub(crate) async fn checkout<C>(
        &self,
        pool: &Pool<C>,
    ) -> Result<diesel_async::pooled_connection::deadpool::Object<C>, StoreError>
    where
        AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C, Error = diesel_async::pooled_connection::PoolError>,
    {
        match tokio::time::timeout(CONNECT_TIMEOUT, pool.get()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(unavailable(&self.inner.url, e)),
            Err(_) => Err(unavailable(
                &self.inner.url,
                format!("no connection within {} s", CONNECT_TIMEOUT.as_secs()),
            )),
        }
    }

    pub(crate) fn query_error(
        &self,
        operation: &'static str,
        e: impl std::fmt::Display,
    ) -> StoreError {
        let reason = e.to_string();
        // A connection that broke mid-query is the database going away, not a bad query.
        let gone = [
            "connection closed",
            "Connection refused",
            "terminating connection",
            "broken pipe",
            "connection reset",
        ]
        .iter()
        .any(|s| reason.to_lowercase().contains(&s.to_lowercase()));
        if gone {
            unavailable(&self.inner.url, reason)
        } else {
            StoreError::Query {
                db: self.inner.url.redacted(),
                operation,
                reason,
            }
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let url = self.inner.url.clone();
        let failed = |reason: String| StoreError::Migration {
            db: url.redacted(),
            reason,
        };
        match &self.inner.db {
            Db::Sqlite(pool) => {
                let mut conn = self.checkout(pool).await?;
                conn.spawn_blocking(|c| {
                    Ok(c.run_pending_migrations(SQLITE_MIGRATIONS)
                        .map(|v| v.len())
                        .map_err(|e| e.to_string()))
                })
                .await
                .map_err(|e| failed(e.to_string()))?
                .map_err(failed)?;
            }
            Db::Pg(_) => {
                // Migrations run on a blocking thread with their own connection, so they work on
                // any runtime flavour; an advisory lock keeps two processes from racing.
                let target = url.expose().to_owned();
                let result = tokio::task::spawn_blocking(move || -> Result<usize, String> {
                    let mut c = <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&target)
                        .map_err(|e| format!("connect: {e}"))?;
                    c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                        .map_err(|e| e.to_string())?;
                    let applied = c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()).map_err(|e| e.to_string());
                    let _ = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
                    applied
                })
                .await
                .map_err(|e| failed(e.to_string()))?;
                match result {
                    Ok(n) if n > 0 => tracing::info!(applied = n, "database migrations applied"),
                    Ok(_) => {}
                    Err(e) if e.starts_with("connect: ") => return Err(unavailable(&url, &e[9..])),
                    Err(e) => return Err(failed(e)),
                }
            }
        }
        Ok(())
    }

    /// Turns `observations` into a hypertable when the server has TimescaleDB; otherwise (or if
    /// that fails, e.g. the library is not preloaded) the store works on plain PostgreSQL.
    async fn enable_timescaledb(&self) {
        let Db::Pg(pool) = &self.inner.db else { return };
        let Ok(mut conn) = self.checkout(pool).await else {
            return;
        };
        let available: Vec<BoolRow> = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS flag",
        )
        .load(&mut conn)
        .await
        .unwrap_or_default();
        if !available.iter().any(|r| r.flag) {
            return;
        }
        let sql = "CREATE EXTENSION IF NOT EXISTS timescaledb; \
                   SELECT create_hypertable('observations', 'date', if_not_exists => TRUE, migrate_data => TRUE);";
        if let Err(e) = diesel_async::SimpleAsyncConnection::batch_execute(&mut *conn, sql).await {
            tracing::warn!(error = %e, "TimescaleDB is available but could not be enabled; using plain PostgreSQL tables");
        }
    }

    /// Reachability, backend, server version and TimescaleDB. Never fails: an unreachable
    /// database is reported as unhealthy with the reason.
    pub async fn health(&self) -> Health {
        let backend = self.backend().name();
        let probe = async {
            let version = match &self.inner.db {
                Db::Pg(pool) => {
                    let mut c = self.checkout(pool).await?;
                    let v: Vec<TextRow> = diesel::sql_query("SELECT version() AS text")
                        .load(&mut c)
                        .await
                        .map_err(|e| self.query_error("health check", e))?;
                    let ts: Vec<BoolRow> = diesel::sql_query(
                        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS flag",
                    )
                    .load(&mut c)
                    .await
                    .map_err(|e| self.query_error("health check", e))?;
                    let ts = ts.iter().any(|r| r.flag) && self.is_hypertable(&mut c).await;
                    (v.into_iter().next().map(|r| r.text), ts)
                }
                Db::Sqlite(pool) => {
                    let mut c = self.checkout(pool).await?;
                    let v: Vec<TextRow> =
                        diesel::sql_query("SELECT 'SQLite ' || sqlite_version() AS text")
                            .load(&mut c)
                            .await
                            .map_err(|e| self.query_error("health check", e))?;
                    (v.into_iter().next().map(|r| r.text), false)
                }
            };
            Ok::<_, StoreError>(version)
        };
        match probe.await {
            Ok((version, timescaledb)) => Health {
                healthy: true,
                backend,
                server_version: version,
                timescaledb,
                message: match (self.backend(), timescaledb) {
                    (Backend::Postgres, true) => {
                        "database healthy (TimescaleDB hypertable)".to_owned()
                    }
                    (Backend::Postgres, false) => {
                        "database healthy (plain PostgreSQL, no TimescaleDB)".to_owned()
                    }
                    (Backend::Sqlite, _) => "database healthy".to_owned(),
                },
            },
            Err(e) => Health {
                healthy: false,
                backend,
                server_version: None,
                timescaledb: false,
                message: e.to_string(),
            },
        }
    }

    async fn is_hypertable(&self, c: &mut AsyncPgConnection) -> bool {
        let rows: Vec<BoolRow> = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables \
             WHERE hypertable_name = 'observations') AS flag",
        )
        .load(c)
        .await
        .unwrap_or_default();
        rows.iter().any(|r| r.flag)
    }

    /// Adds or updates a commodity (name and unit) so that its observations can be written.
    pub async fn register_commodity(
        &self,
        code: &CommodityCode,
        spec: &CommoditySpec,
    ) -> Result<(), StoreError> {
        use schema::commodities::dsl as c;
        let row = (
            c::code.eq(code.as_str()),
            c::name.eq(&spec.name),
            c::unit.eq(&spec.unit),
        );
        let id: i32 = with_conn!(self, "registering a commodity", |conn| {
            diesel::insert_into(c::commodities)
                .values(row)
                .on_conflict(c::code)
                .do_update()
                .set((c::name.eq(&spec.name), c::unit.eq(&spec.unit)))
                .returning(c::id)
                .get_result(&mut conn)
                .await
        })?;
        let mut cat = self.inner.catalog.write().expect("catalog lock");
        cat.commodity_ids.insert(code.clone(), id);
        cat.commodity_codes.insert(id, code.clone());
        Ok(())
    }

    /// Adds or updates a source so that its observations can be written.
    pub async fn register_source(&self, name: &SourceId, title: &str) -> Result<(), StoreError> {
        use schema::sources::dsl as s;
        let id: i32 = with_conn!(self, "registering a source", |conn| {
            diesel::insert_into(s::sources)
                .values((s::name.eq(name.as_str()), s::title.eq(title)))
                .on_conflict(s::name)
                .do_update()
                .set(s::title.eq(title))
                .returning(s::id)
                .get_result(&mut conn)
                .await
        })?;
        let mut cat = self.inner.catalog.write().expect("catalog lock");
        cat.source_ids.insert(name.clone(), id);
        cat.source_names.insert(id, name.clone());
        Ok(())
    }

    /// The registered commodities (code, name, unit), by code.
    pub async fn commodities(&self) -> Result<Vec<(CommodityCode, CommoditySpec)>, StoreError> {
        use schema::commodities::dsl as c;
        let rows: Vec<(String, String, String)> =
            with_conn!(self, "listing commodities", |conn| {
                c::commodities
                    .select((c::code, c::name, c::unit))
                    .order(c::code)
                    .load(&mut conn)
                    .await
            })?;
        rows.into_iter()
            .map(|(code, name, unit)| {
                let code =
                    CommodityCode::new(&code).map_err(|_| self.corrupt("commodity code", &code))?;
                Ok((code, CommoditySpec::new(name, unit)))
            })
            .collect()
    }

    async fn reload_catalog(&self) -> Result<(), StoreError> {
        use schema::{commodities::dsl as c, sources::dsl as s};
        let commodities: Vec<(i32, String)> = with_conn!(self, "loading commodities", |conn| {
            c::commodities
                .select((c::id, c::code))
                .load(&mut conn)
                .await
        })?;
        let sources: Vec<(i32, String)> = with_conn!(self, "loading sources", |conn| {
            s::sources.select((s::id, s::name)).load(&mut conn).await
        })?;
        let mut cat = Catalog::default();
        for (id, code) in commodities {
            let code =
                CommodityCode::new(&code).map_err(|_| self.corrupt("commodity code", &code))?;
            cat.commodity_ids.insert(code.clone(), id);
            cat.commodity_codes.insert(id, code);
        }
        for (id, name) in sources {
            let name = SourceId::new(&name).map_err(|_| self.corrupt("source name", &name))?;
            cat.source_ids.insert(name.clone(), id);
            cat.source_names.insert(id, name);
        }
        *self.inner.catalog.write().expect("catalog lock") = cat;
        Ok(())
    }

    pub(crate) fn corrupt(&self, what: &'static str, value: &str) -> StoreError {
        StoreError::Corrupt {
            db: self.inner.url.redacted(),
            what,
            value: value.to_owned(),
        }
    }

    pub(crate) fn commodity_id(&self, code: &CommodityCode) -> Result<i32, StoreError> {
        let cat = self.inner.catalog.read().expect("catalog lock");
        cat.commodity_ids
            .get(code)
            .copied()
            .ok_or_else(|| StoreError::NotRegistered {
                db: self.inner.url.redacted(),
                kind: "commodity",
                name: code.to_string(),
            })
    }

    pub(crate) fn source_id(&self, name: &SourceId) -> Result<i32, StoreError> {
        let cat = self.inner.catalog.read().expect("catalog lock");
        cat.source_ids
            .get(name)
            .copied()
            .ok_or_else(|| StoreError::NotRegistered {
                db: self.inner.url.redacted(),
                kind: "source",
                name: name.to_string(),
            })
    }

    /// Reverts every migration and applies them again: proves each `down.sql` undoes its
    /// `up.sql`. Destroys all data; for tests only.
    #[doc(hidden)]
    pub async fn redo_all_migrations_for_test(
        &self,
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let url = self.inner.url.clone();
        let fail = |e: String| StoreError::Migration {
            db: url.redacted(),
            reason: e,
        };
        let tables = self.table_names().await?;
        match &self.inner.db {
            Db::Sqlite(pool) => {
                let mut conn = self.checkout(pool).await?;
                conn.spawn_blocking(|c| {
                    Ok(c.revert_all_migrations(SQLITE_MIGRATIONS)
                        .map(|_| ())
                        .map_err(|e| e.to_string()))
                })
                .await
                .map_err(|e| fail(e.to_string()))?
                .map_err(fail)?;
            }
            Db::Pg(_) => {
                let target = url.expose().to_owned();
                tokio::task::spawn_blocking(move || -> Result<(), String> {
                    let mut c = <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&target)
                        .map_err(|e| e.to_string())?;
                    c.revert_all_migrations(PG_MIGRATIONS).map(|_| ()).map_err(|e| e.to_string())
                })
                .await
                .map_err(|e| fail(e.to_string()))?
                .map_err(fail)?;
            }
        }
        let after_down = self.table_names().await?;
        self.migrate().await?;
        let _ = tables;
        Ok((after_down, self.table_names().await?))
    }

    /// Names of the tables, views, triggers and functions the schema consists of, sorted.
    #[doc(hidden)]
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
}

pub(crate) fn unavailable(url: &DatabaseUrl, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable {
        db: url.redacted(),
        reason: e.to_string(),
    }
}
