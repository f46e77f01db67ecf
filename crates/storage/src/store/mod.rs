//! The `Store` handle: opening either backend, migrations and the TimescaleDB step, a pooled
//! connection and the errors of an operation; `health` and `catalog` beside it.

use std::{
    sync::{Arc, OnceLock, RwLock},
    time::Duration,
};

use diesel::{SqliteConnection, connection::SimpleConnection};
use diesel_async::{
    AsyncConnection,
    pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, deadpool::Pool},
    sync_connection_wrapper::SyncConnectionWrapper,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tokio::sync::Mutex;

use crate::{
    Backend, DatabaseUrl, StoreError,
    connect::{ConnectFailure, Connector, PgManager, PgPool, unavailable},
    error::{DbCause, DbErrorKind, describe_diesel, describe_pg},
    startup::{StartupError, migration_error_text, pg_startup, report_startup},
    timescale::Timescale,
};

mod catalog;
mod health;
#[cfg(feature = "testing")]
mod hooks;

pub(crate) use catalog::Catalog;
pub use health::Health;

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

/// Loads the rows of `$query` (a diesel query, built per backend) as `$row`s. On SQLite the
/// rows are read in place on the blocking pool: diesel-async's own load first copies every value
/// of every row, which is most of a long read's time.
macro_rules! load_rows {
    ($store:expr, $op:expr, $row:ty, $query:expr) => {{
        let store: &$crate::Store = $store;
        match &store.inner.db {
            $crate::store::Db::Pg(pool) => {
                let mut conn = store.checkout(pool).await?;
                ::diesel_async::RunQueryDsl::load::<$row>($query, &mut conn)
                    .await
                    .map_err(|e| store.query_error($op, e))
            }
            $crate::store::Db::Sqlite(pool) => {
                let mut conn = store.checkout(pool).await?;
                let query = $query;
                conn.spawn_blocking(move |c| {
                    ::diesel::RunQueryDsl::load_iter::<
                        $row,
                        ::diesel::connection::DefaultLoadingMode,
                    >(query, c)?
                    .collect::<::diesel::QueryResult<Vec<$row>>>()
                })
                .await
                .map_err(|e| store.query_error($op, e))
            }
        }
    }};
}
pub(crate) use load_rows;

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
    /// Rows written, for refreshing planner statistics after large writes.
    pub growth: crate::growth::Growth,
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
                if let Some(parent) = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty() && !p.exists())
                {
                    // the file's own directory only (`data/` of the default URL): a typo
                    // higher up the path makes nothing
                    if let Some(above) = parent
                        .parent()
                        .filter(|p| !p.as_os_str().is_empty() && !p.exists())
                    {
                        return Err(StoreError::NoSuchDirectory {
                            db: url.redacted(),
                            path: above.display().to_string(),
                        });
                    }
                    match std::fs::create_dir(parent) {
                        // another process opening the same new file made it first
                        Err(e)
                            if e.kind() == std::io::ErrorKind::AlreadyExists && parent.is_dir() => {
                        }
                        Err(e) => {
                            return Err(StoreError::CreateDir {
                                db: url.redacted(),
                                path: parent.display().to_string(),
                                reason: e.to_string(),
                            });
                        }
                        Ok(()) => {}
                    }
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
                growth: Default::default(),
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
                cause: None,
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
        self.operation_error(operation, describe_diesel(&e), DbCause::of_diesel(e))
    }

    /// A failed tokio-postgres operation (the COPY path), as [`Store::query_error`].
    pub(crate) fn pg_error(&self, operation: &'static str, e: tokio_postgres::Error) -> StoreError {
        self.operation_error(operation, describe_pg(&e), DbCause::of_postgres(e))
    }

    /// A failed operation: the connection was lost, or the database said no.
    fn operation_error(
        &self,
        operation: &'static str,
        reason: String,
        cause: DbCause,
    ) -> StoreError {
        let db = self.inner.url.redacted();
        if cause.kind() == DbErrorKind::ConnectionClosed {
            StoreError::ConnectionLost {
                db,
                operation,
                reason,
                cause,
            }
        } else {
            StoreError::Query {
                db,
                operation,
                reason,
                cause: Some(cause),
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

    pub(crate) fn corrupt(&self, what: &'static str, value: &str) -> StoreError {
        StoreError::Corrupt {
            db: self.inner.url.redacted(),
            what,
            value: value.to_owned(),
        }
    }
}
