//! The `Store` handle: opening either backend, migrations and the TimescaleDB step, health and
//! the catalog of commodities and sources.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock, RwLock},
    time::Duration,
};

use diesel::{ExpressionMethods, QueryDsl, SqliteConnection, connection::SimpleConnection};
use diesel_async::{
    AsyncConnection, AsyncPgConnection, RunQueryDsl,
    pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, deadpool::Pool},
    sync_connection_wrapper::SyncConnectionWrapper,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use energy_core::{CommodityCode, CommoditySpec, SourceId};
use tokio::sync::Mutex;

#[cfg(feature = "testing")]
use crate::startup::{PG_MIGRATIONS, PgSyncConn};
use crate::{
    Backend, DatabaseUrl, StoreError,
    connect::{ConnectFailure, Connector, PgManager, PgPool, unavailable},
    error::{describe_diesel, diesel_connection_lost},
    schema,
    startup::{StartupError, migration_error_text, pg_startup, report_startup},
    timescale::{self, Step, Timescale},
    types::TextRow,
};

pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Connections in the PostgreSQL pool.
const PG_POOL_SIZE: usize = 8;
/// How long SQLite waits for another process's lock (the busy timeout).
const SQLITE_BUSY_WAIT: Duration = Duration::from_secs(10);

/// SQLite's "database is locked" (SQLITE_BUSY), which Diesel reports as text only.
fn is_sqlite_busy(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(_, info) if info.message().contains("database is locked"))
}

/// How long to wait for a pooled connection while all are busy before giving up.
const POOL_WAIT: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub(crate) enum Db {
    Pg(PgPool),
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
    /// PostgreSQL: how connections are opened (TLS included), shared by the pool, COPY and
    /// migrations.
    pub connector: Option<Arc<Connector>>,
    /// A plain tokio-postgres connection for COPY (diesel-async has none), opened on first use.
    pub copy_client: Mutex<Option<tokio_postgres::Client>>,
    /// PostgreSQL: what the TimescaleDB step found at start-up.
    pub timescale: OnceLock<Timescale>,
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
    /// Says what the store uses and, when TimescaleDB is on the server but unused, what to do.
    pub message: String,
    /// What needs doing although the database works (TimescaleDB on the server but unused).
    #[serde(skip_serializing)]
    pub notice: Option<String>,
}

/// Only the SQLite pool uses Diesel's manager: a failure is about the local file, never a
/// server that is not running.
impl ConnectFailure for diesel_async::pooled_connection::PoolError {
    fn into_store_error(self, url: &DatabaseUrl) -> StoreError {
        sqlite_open_error(url, self.to_string())
    }
}

fn sqlite_open_error(url: &DatabaseUrl, reason: String) -> StoreError {
    let advice = if reason.contains("database is locked") {
        format!(
            "another process kept it locked for more than {} s: a long run or a scheduler on the same file? try again when it is done",
            SQLITE_BUSY_WAIT.as_secs()
        )
    } else {
        "check that the file and its directory exist and are writable by this user".to_owned()
    };
    StoreError::SqliteOpen {
        db: url.redacted(),
        reason,
        advice,
    }
}

/// Why the SQLite migration step failed: the database, or a migration.
enum SqliteMigration {
    Db(diesel::result::Error),
    Failed(String),
}

impl From<diesel::result::Error> for SqliteMigration {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

impl Store {
    /// Connects, applies pending migrations and loads the catalog. On PostgreSQL with the
    /// TimescaleDB extension available (and preloaded), `observations` becomes a hypertable.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let (db, connector) = match url.backend() {
            Backend::Postgres => {
                let connector = Arc::new(Connector::new(url)?);
                let pool = PgPool::builder(PgManager(connector.clone()))
                    .max_size(PG_POOL_SIZE)
                    .build()
                    .map_err(|e| unavailable(url, e))?;
                (Db::Pg(pool), Some(connector))
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
                            // The busy timeout first. Switching a new file to WAL needs a lock
                            // SQLite does not wait for (no busy handler, to avoid deadlock), so
                            // a process opening the file at the same moment as another retries
                            // for as long as the busy timeout.
                            c.batch_execute(&format!(
                                "PRAGMA busy_timeout = {};",
                                SQLITE_BUSY_WAIT.as_millis()
                            ))?;
                            let started = std::time::Instant::now();
                            loop {
                                match c.batch_execute(
                                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                     PRAGMA foreign_keys = ON;",
                                ) {
                                    Err(e)
                                        if is_sqlite_busy(&e)
                                            && started.elapsed() < SQLITE_BUSY_WAIT =>
                                    {
                                        std::thread::sleep(Duration::from_millis(20));
                                    }
                                    other => return other,
                                }
                            }
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
                let pool = Pool::builder(manager)
                    .max_size(4)
                    .build()
                    .map_err(|e| sqlite_open_error(url, e.to_string()))?;
                (Db::Sqlite(pool), None)
            }
        };
        let store = Store {
            inner: Arc::new(Inner {
                db,
                url: url.clone(),
                catalog: RwLock::new(Catalog::default()),
                connector,
                copy_client: Mutex::new(None),
                timescale: OnceLock::new(),
            }),
        };
        store.migrate().await?;
        store.reload_catalog().await?;
        Ok(store)
    }

    /// As [`Store::open`], for commands that only read: a SQLite file that does not exist is
    /// [`StoreError::NoSuchDatabase`] instead of a new, empty database (and its directories).
    pub async fn open_existing(url: &DatabaseUrl) -> Result<Self, StoreError> {
        if let Some(path) = url.sqlite_path()
            && !path.exists()
        {
            return Err(StoreError::NoSuchDatabase {
                path: path.display().to_string(),
            });
        }
        Self::open(url).await
    }

    pub fn backend(&self) -> Backend {
        self.inner.url.backend()
    }

    /// The database URL with any password redacted.
    pub fn describe(&self) -> String {
        self.inner.url.redacted()
    }

    /// PostgreSQL: what the TimescaleDB step found when the store was opened.
    pub fn timescale(&self) -> Option<&Timescale> {
        self.inner.timescale.get()
    }

    pub(crate) fn connector(&self) -> &Arc<Connector> {
        self.inner
            .connector
            .as_ref()
            .expect("a PostgreSQL store has a connector")
    }

    pub(crate) async fn checkout<M>(
        &self,
        pool: &deadpool::managed::Pool<M>,
    ) -> Result<deadpool::managed::Object<M>, StoreError>
    where
        M: deadpool::managed::Manager,
        M::Error: ConnectFailure + std::fmt::Display,
    {
        use deadpool::managed::PoolError;
        match tokio::time::timeout(POOL_WAIT, pool.get()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(PoolError::Backend(e))) => Err(e.into_store_error(&self.inner.url)),
            Ok(Err(e)) => Err(unavailable(&self.inner.url, e)),
            // every connection is in use (a new one would have failed within the connect
            // timeout instead): the database is busy, not unreachable
            Err(_) => Err(StoreError::Query {
                db: self.inner.url.redacted(),
                operation: "waiting for a free connection",
                reason: format!(
                    "all {} connections stayed busy for {} s",
                    pool.status().max_size,
                    POOL_WAIT.as_secs()
                ),
            }),
        }
    }

    /// A failed Diesel query: the server's message, detail and hint; a connection that broke
    /// mid-query is said to be lost.
    pub(crate) fn query_error(
        &self,
        operation: &'static str,
        e: diesel::result::Error,
    ) -> StoreError {
        self.operation_error(operation, describe_diesel(&e), diesel_connection_lost(&e))
    }

    /// A failed tokio-postgres operation (the COPY path), as [`Store::query_error`].
    pub(crate) fn pg_error(&self, operation: &'static str, e: tokio_postgres::Error) -> StoreError {
        self.operation_error(
            operation,
            crate::error::describe_pg(&e),
            crate::error::pg_connection_lost(&e),
        )
    }

    fn operation_error(&self, operation: &'static str, reason: String, lost: bool) -> StoreError {
        let db = self.inner.url.redacted();
        if lost {
            StoreError::ConnectionLost {
                db,
                operation,
                reason,
            }
        } else {
            StoreError::Query {
                db,
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
                // One process at a time: the write lock (BEGIN IMMEDIATE) is taken before the
                // applied versions are read, so a second process waits (busy timeout) and then
                // finds nothing left to do. Each migration runs in a savepoint inside it.
                // A failed migration rolls the whole step back.
                conn.spawn_blocking(|c| {
                    match c.immediate_transaction(|c| {
                        c.run_pending_migrations(SQLITE_MIGRATIONS)
                            .map(|v| v.len())
                            .map_err(|e| SqliteMigration::Failed(migration_error_text(&*e)))
                    }) {
                        Ok(n) => Ok(Ok(n)),
                        Err(SqliteMigration::Failed(text)) => Ok(Err(text)),
                        Err(SqliteMigration::Db(e)) => Err(e),
                    }
                })
                .await
                .map_err(|e| failed(describe_diesel(&e)))?
                .map_err(failed)?;
            }
            Db::Pg(_) => {
                // Migrations and the TimescaleDB step run on a blocking thread with their own
                // connection, so they work on any runtime flavour; an advisory lock keeps two
                // processes from racing.
                let connector = self.connector().clone();
                let handle = tokio::runtime::Handle::current();
                let outcome = tokio::task::spawn_blocking(move || pg_startup(&handle, &connector))
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                let done = match outcome {
                    Ok(done) => done,
                    Err(StartupError::Connect(e)) => return Err(e.into_store_error(&url)),
                    Err(StartupError::Failed(e)) => return Err(failed(e)),
                };
                report_startup(&self.describe(), &done);
                let _ = self.inner.timescale.set(done.timescale);
            }
        }
        Ok(())
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
    /// `up.sql`. Destroys all data; for tests only (feature `testing`).
    #[cfg(feature = "testing")]
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
            Db::Pg(_) => {
                let connector = self.connector().clone();
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
        self.migrate().await?;
        Ok((after_down, self.table_names().await?))
    }

    /// Names of the tables, views, triggers and functions the schema consists of, sorted
    /// (feature `testing`).
    #[cfg(feature = "testing")]
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
