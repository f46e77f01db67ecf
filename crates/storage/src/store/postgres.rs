//! A PostgreSQL store's state, made whole at open: the pool, the connector every connection
//! is opened with (TLS included), the bulk-load connection COPY uses, and what the TimescaleDB
//! step found. Migrations and that step run before the pool serves anything.

use std::sync::Arc;

use tokio::sync::Mutex;

use crate::{
    DatabaseUrl, StoreError,
    connect::{ConnectFailure, Connector, PgManager, PgPool, unavailable},
    startup::{StartupError, pg_startup, report_startup},
    timescale::Timescale,
};

/// Connections in the PostgreSQL pool.
const POOL_SIZE: usize = 8;

/// Everything a PostgreSQL store holds beside the URL.
pub(crate) struct Postgres {
    pub pool: PgPool,
    /// How connections are opened, shared by the pool, COPY and migrations.
    pub connector: Arc<Connector>,
    /// A plain tokio-postgres connection for COPY (diesel-async has none), opened on first use.
    pub copy_client: Mutex<Option<tokio_postgres::Client>>,
    /// What the TimescaleDB step found at open.
    pub timescale: Timescale,
}

impl Postgres {
    /// Connects, applies pending migrations and the TimescaleDB step, and builds the pool.
    pub(crate) async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let connector = Arc::new(Connector::new(url)?);
        let timescale = migrate(url, &connector).await?;
        let pool = PgPool::builder(PgManager(connector.clone()))
            .max_size(POOL_SIZE)
            // the connection used last is handed out first: a quiet process keeps using one,
            // which stays trusted (see `connect::TRUSTED_FOR`), and the others age
            .queue_mode(deadpool::managed::QueueMode::Lifo)
            .build()
            .map_err(|e| unavailable(url, e))?;
        Ok(Self {
            pool,
            connector,
            copy_client: Mutex::new(None),
            timescale,
        })
    }
}

/// Migrations and the TimescaleDB step, on a blocking thread with their own connection (so
/// they work on any runtime flavour) under an advisory lock that keeps two processes from
/// racing; logs what they did and returns what the TimescaleDB step found.
pub(crate) async fn migrate(
    url: &DatabaseUrl,
    connector: &Arc<Connector>,
) -> Result<Timescale, StoreError> {
    let failed = |reason: String| StoreError::Migration {
        db: url.redacted(),
        reason,
    };
    let connector = connector.clone();
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || pg_startup(&handle, &connector))
        .await
        .map_err(|e| failed(e.to_string()))?;
    let done = match outcome {
        Ok(done) => done,
        Err(StartupError::Connect(e)) => return Err(e.into_store_error(url)),
        Err(StartupError::Failed(e)) => return Err(failed(e)),
    };
    report_startup(&url.redacted(), &done);
    Ok(done.timescale)
}
