//! The `Store` handle: one enum of backends (SQLite's pool, or PostgreSQL's state made whole at
//! open), a pooled connection per operation and the errors of an operation. Opening is in
//! `sqlite` and `postgres`; `health` beside it.

use std::{
    sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard},
    time::Duration,
};

use diesel_async::pooled_connection::deadpool::Pool;

use crate::{
    Backend, DatabaseUrl, StoreError,
    connect::{ConnectFailure, unavailable},
    error::{DbCause, DbErrorKind, describe_diesel, describe_pg},
    timescale::Timescale,
};

mod cache;
mod growth;
mod health;
#[cfg(feature = "testing")]
mod hooks;
mod postgres;
mod sqlite;

pub(crate) use cache::CatalogCache;
pub(crate) use growth::Growth;
pub use health::Health;
pub(crate) use postgres::Postgres;
pub(crate) use sqlite::SqliteConn;

/// How long to wait for a pooled connection while all are busy before giving up.
const POOL_WAIT: Duration = Duration::from_secs(120);

/// The backend a store speaks to, with everything that backend needs.
pub(crate) enum Db {
    Pg(Box<Postgres>),
    Sqlite(Pool<SqliteConn>),
}

/// Runs `$body` with a pooled connection `$c` of whichever backend the store uses. The body is
/// type-checked once per backend, so one query text serves both.
macro_rules! with_conn {
    ($store:expr, $op:expr, |$c:ident| $body:expr) => {{
        let store: &$crate::Store = $store;
        match &store.inner.db {
            $crate::store::Db::Pg(pg) => {
                #[allow(unused_mut)]
                let mut $c = store.checkout(&pg.pool).await?;
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
            $crate::store::Db::Pg(pg) => {
                let mut conn = store.checkout(&pg.pool).await?;
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
    pub catalog: RwLock<CatalogCache>,
    /// Rows written, for refreshing planner statistics after large writes.
    pub growth: Growth,
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

impl Store {
    /// Connects, applies pending migrations and loads the catalog. On PostgreSQL with the
    /// TimescaleDB extension available (and preloaded), `observations` becomes a hypertable.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let db = match url.sqlite_path() {
            Some(path) => Db::Sqlite(sqlite::open_pool(url, &path)?),
            None => Db::Pg(Box::new(Postgres::open(url).await?)),
        };
        let store = Store {
            inner: Arc::new(Inner {
                db,
                url: url.clone(),
                catalog: RwLock::new(CatalogCache::default()),
                growth: Default::default(),
            }),
        };
        if let Db::Sqlite(pool) = &store.inner.db {
            sqlite::migrate(&store, pool).await?;
        }
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
        match &self.inner.db {
            Db::Pg(pg) => Some(&pg.timescale),
            Db::Sqlite(_) => None,
        }
    }

    /// The catalog cache, to read. A writer that panicked left it whole (each update replaces
    /// whole entries), so a poisoned lock is read as is.
    pub(crate) fn catalog_cache(&self) -> RwLockReadGuard<'_, CatalogCache> {
        self.inner
            .catalog
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The catalog cache, to update (see [`Store::catalog_cache`]).
    pub(crate) fn catalog_cache_mut(&self) -> RwLockWriteGuard<'_, CatalogCache> {
        self.inner
            .catalog
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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

    pub(crate) fn corrupt(&self, what: &'static str, value: &str) -> StoreError {
        StoreError::Corrupt {
            db: self.inner.url.redacted(),
            what,
            value: value.to_owned(),
        }
    }
}
