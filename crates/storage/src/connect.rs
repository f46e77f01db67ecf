//! How the store reaches PostgreSQL: one connect function (with the URL's TLS settings, see
//! `target`) for the pool, the bulk-load connection and the migrations, the pool's manager, and a
//! failed connection told apart by kind (unreachable, refused by the server, TLS).

use std::{sync::Arc, time::Duration};

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use tokio_postgres::{Socket, tls::MakeTlsConnect};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{
    DatabaseUrl, StoreError,
    error::describe_pg,
    target::{CONNECT_TIMEOUT, PgTarget},
};

/// A pool's connection failure, turned into the store's error for that database.
pub(crate) trait ConnectFailure {
    fn into_store_error(self, url: &DatabaseUrl) -> StoreError;
}

/// No connection could be made to the database at `url`.
pub(crate) fn unavailable(url: &DatabaseUrl, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable {
        db: url.redacted(),
        reason: e.to_string(),
    }
}

/// Why no connection was made.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// Nothing answered (refused, timed out, no route, closed during start-up).
    Unreachable(String),
    /// The server answered and said no (authentication, no such database, too many clients).
    Refused(String),
    /// TLS could not be negotiated or the certificate was not accepted.
    Tls(String),
}

impl ConnectError {
    fn classify(e: &tokio_postgres::Error) -> Self {
        let text = describe_pg(e);
        if e.as_db_error().is_some() {
            return Self::Refused(text);
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(s) = source {
            let inner = s
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|i| i as &(dyn std::error::Error + 'static));
            if s.is::<rustls::Error>() || inner.is_some_and(|i| i.is::<rustls::Error>()) {
                return Self::Tls(text);
            }
            source = s.source();
        }
        // tokio-postgres' own TLS failures ("server does not support TLS") carry no typed cause
        if text.starts_with("error performing TLS handshake") {
            return Self::Tls(text);
        }
        Self::Unreachable(text)
    }
}

impl ConnectFailure for ConnectError {
    fn into_store_error(self, url: &DatabaseUrl) -> StoreError {
        let db = url.redacted();
        match self {
            Self::Unreachable(reason) => StoreError::Unavailable { db, reason },
            Self::Refused(reason) => StoreError::Refused { db, reason },
            Self::Tls(reason) => StoreError::Tls { db, reason },
        }
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(r) | Self::Refused(r) | Self::Tls(r) => f.write_str(r),
        }
    }
}

/// The stream type of a TLS-capable connection.
pub(crate) type PgStream = <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream;

/// Opens connections to one PostgreSQL database with the URL's TLS settings; shared by the
/// pool, the bulk-load connection and the migrations.
pub(crate) struct Connector {
    target: PgTarget,
    tls: MakeRustlsConnect,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("sslmode", &self.target.ssl)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Reads the URL's TLS settings (and CA file); fails with what to fix.
    pub(crate) fn new(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let target = PgTarget::parse(url.expose()).map_err(|reason| StoreError::Tls {
            db: url.redacted(),
            reason,
        })?;
        let tls = target.tls_config().map_err(|reason| StoreError::Tls {
            db: url.redacted(),
            reason,
        })?;
        Ok(Self {
            target,
            tls: MakeRustlsConnect::new(tls),
        })
    }

    /// A tokio-postgres client and the connection future that drives it.
    pub(crate) async fn connect(
        &self,
    ) -> Result<
        (
            tokio_postgres::Client,
            tokio_postgres::Connection<Socket, PgStream>,
        ),
        ConnectError,
    > {
        // the config's connect_timeout covers each TCP connect; this covers the whole start-up
        match tokio::time::timeout(
            CONNECT_TIMEOUT + Duration::from_secs(5),
            self.target.config.connect(self.tls.clone()),
        )
        .await
        {
            Ok(Ok(pair)) => Ok(pair),
            Ok(Err(e)) => Err(ConnectError::classify(&e)),
            Err(_) => Err(ConnectError::Unreachable(format!(
                "no connection within {} s",
                CONNECT_TIMEOUT.as_secs() + 5
            ))),
        }
    }

    /// A Diesel connection, set up as every store connection is.
    pub(crate) async fn diesel(&self) -> Result<AsyncPgConnection, ConnectError> {
        let (client, connection) = self.connect().await?;
        let mut conn = AsyncPgConnection::try_from_client_and_connection(client, connection)
            .await
            .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
        // Every query of the store is a handful of index lookups; JIT compiling them (triggered
        // by the planner's guesses about tiny tables) costs tens of milliseconds and gains
        // nothing.
        conn.batch_execute("SET jit = off")
            .await
            .map_err(|e| ConnectError::Refused(crate::error::describe_diesel(&e)))?;
        Ok(conn)
    }
}

/// The deadpool manager of the PostgreSQL pool: connections come from the [`Connector`], so
/// a failure keeps its kind; a connection is reused unless it broke or fails a ping after
/// [`TRUSTED_FOR`] unused.
#[derive(Debug)]
pub(crate) struct PgManager(pub Arc<Connector>);

impl deadpool::managed::Manager for PgManager {
    type Type = AsyncPgConnection;
    type Error = ConnectError;

    async fn create(&self) -> Result<AsyncPgConnection, ConnectError> {
        self.0.diesel().await
    }

    async fn recycle(
        &self,
        conn: &mut AsyncPgConnection,
        metrics: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<ConnectError> {
        use diesel_async::pooled_connection::{PoolableConnection, RecyclingMethod};
        if std::thread::panicking() || conn.is_broken() {
            return Err(deadpool::managed::RecycleError::message(
                "broken connection",
            ));
        }
        // A connection whose server process ended (a restart, `pg_terminate_backend`) is seen
        // broken: its socket closed, and its task ended. One used just now is handed out as it
        // is; one that sat longer (a network cut closes nothing, a NAT forgets idle sockets)
        // gets a `SELECT 1` first, and is replaced if that fails, instead of failing the
        // caller's first query. Pinging each checkout cost an idle scheduler a second round
        // trip per heartbeat, and a run one per statement.
        if metrics.last_used() < TRUSTED_FOR {
            return Ok(());
        }
        conn.ping(&RecyclingMethod::Verified)
            .await
            .map_err(|e| deadpool::managed::RecycleError::message(format!("dead connection: {e}")))
    }
}

/// How long after its last use a pooled connection is handed out again without a `SELECT 1`.
const TRUSTED_FOR: Duration = Duration::from_secs(30);

pub(crate) type PgPool = deadpool::managed::Pool<PgManager>;
