//! Opening a SQLite store: the file's directory, a pool of connections set up for WAL with a
//! busy timeout, and the migrations under one write lock.

use std::{path::Path, time::Duration};

use diesel::{SqliteConnection, connection::SimpleConnection};
use diesel_async::{
    AsyncConnection,
    pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, deadpool::Pool},
    sync_connection_wrapper::SyncConnectionWrapper,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::{
    DatabaseUrl, Store, StoreError, connect::ConnectFailure, error::describe_diesel,
    startup::migration_error_text,
};

pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

pub(crate) const SQLITE_MIGRATIONS: EmbeddedMigrations =
    embed_migrations!("../../migrations/sqlite");

/// Connections in the SQLite pool.
const POOL_SIZE: usize = 4;
/// How long SQLite waits for another process's lock (the busy timeout).
const SQLITE_BUSY_WAIT: Duration = Duration::from_secs(10);

/// SQLite's "database is locked" (SQLITE_BUSY), which Diesel reports as text only.
fn is_sqlite_busy(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(_, info) if info.message().contains("database is locked"))
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

/// Makes the file's own directory when it is missing (`data/` of the default URL); a typo
/// higher up the path makes nothing.
fn make_directory(url: &DatabaseUrl, path: &Path) -> Result<(), StoreError> {
    let Some(parent) = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty() && !p.exists())
    else {
        return Ok(());
    };
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
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && parent.is_dir() => Ok(()),
        Err(e) => Err(StoreError::CreateDir {
            db: url.redacted(),
            path: parent.display().to_string(),
            reason: e.to_string(),
        }),
        Ok(()) => Ok(()),
    }
}

/// The pool of connections to the file at `path`, each in WAL mode with a busy timeout and
/// foreign keys on. Connections open lazily; the migrations open the first.
pub(crate) fn open_pool(url: &DatabaseUrl, path: &Path) -> Result<Pool<SqliteConn>, StoreError> {
    make_directory(url, path)?;
    let mut config = ManagerConfig::<SqliteConn>::default();
    config.custom_setup = Box::new(|target| {
        Box::pin(async move {
            let mut conn = SqliteConn::establish(target).await?;
            conn.spawn_blocking(|c| {
                // The busy timeout first. Switching a new file to WAL needs a lock SQLite does
                // not wait for (no busy handler, to avoid deadlock), so a process opening the
                // file at the same moment as another retries for as long as the busy timeout.
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
                        Err(e) if is_sqlite_busy(&e) && started.elapsed() < SQLITE_BUSY_WAIT => {
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
    let manager =
        AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path.to_string_lossy(), config);
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .build()
        .map_err(|e| sqlite_open_error(url, e.to_string()))
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

/// Applies the pending migrations. One process at a time: the write lock (BEGIN IMMEDIATE) is
/// taken before the applied versions are read, so a second process waits (busy timeout) and
/// then finds nothing left to do. Each migration runs in a savepoint inside it; a failed
/// migration rolls the whole step back.
pub(crate) async fn migrate(store: &Store, pool: &Pool<SqliteConn>) -> Result<(), StoreError> {
    let failed = |reason: String| StoreError::Migration {
        db: store.describe(),
        reason,
    };
    let mut conn = store.checkout(pool).await?;
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
    Ok(())
}
