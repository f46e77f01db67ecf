//! What can go wrong with the store. Every message names the database (password redacted),
//! keeps the server's own words (message, detail, hint, SQLSTATE) and says what to do.

use thiserror::Error;

/// A store operation that failed. Nothing is half-written: each write is one transaction.
#[derive(Debug, Error)]
pub enum StoreError {
    /// No connection could be made: nothing answered, or not in time.
    #[error(
        "database {db} is unreachable: {reason} (is it running? check database.url or DATABASE_URL)"
    )]
    Unavailable { db: String, reason: String },
    /// The server answered but would not open a session (authentication, no such database,
    /// too many clients, out of memory).
    #[error("database {db} refused the connection: {reason}")]
    Refused { db: String, reason: String },
    /// TLS could not be set up or the server's certificate was not accepted.
    #[error(
        "database {db}: TLS failed: {reason} (check sslmode and sslrootcert in the database URL)"
    )]
    Tls { db: String, reason: String },
    /// An open connection broke during an operation (the server restarted or the network
    /// went); the operation's transaction was not committed.
    #[error(
        "database {db}: the connection was lost while {operation}: {reason} (nothing of it was committed; is the server still up?)"
    )]
    ConnectionLost {
        db: String,
        operation: &'static str,
        reason: String,
        /// The driver's error.
        #[source]
        cause: DbCause,
    },
    /// The SQLite file could not be opened: another process held it locked for longer than the
    /// busy timeout, or the file or its directory cannot be written.
    #[error("database {db}: cannot open the SQLite file: {reason} ({advice})")]
    SqliteOpen {
        db: String,
        reason: String,
        advice: String,
    },
    /// A command that only reads was pointed at a SQLite file that does not exist.
    #[error(
        "no SQLite database at {path}: nothing has been stored there yet (run `energy-pipeline run` first, or check database.url or DATABASE_URL)"
    )]
    NoSuchDatabase { path: String },
    /// The SQLite file's directory is missing, and so is the one above it: only the file's own
    /// directory is created (a typo in a path makes nothing).
    #[error(
        "database {db}: the directory {path} does not exist, so the SQLite file cannot be created there (only the file's own directory is made): create it, or check database.url or DATABASE_URL"
    )]
    NoSuchDirectory { db: String, path: String },
    #[error("cannot create the directory {path} for the SQLite database {db}: {reason}")]
    CreateDir {
        db: String,
        path: String,
        reason: String,
    },
    #[error("database {db}: applying the schema migrations failed: {reason}")]
    Migration { db: String, reason: String },
    #[error("database {db}: {operation} failed: {reason}")]
    Query {
        db: String,
        operation: &'static str,
        reason: String,
        /// The database's error, when the database said no (not for a wait that timed out).
        #[source]
        cause: Option<DbCause>,
    },
    #[error(
        "database {db}: {kind} `{name}` is not registered; register it before writing its observations"
    )]
    NotRegistered {
        db: String,
        kind: &'static str,
        name: String,
    },
    /// The configuration gives a commodity a resolution other than the one its stored rows
    /// have: a configuration error, since reading those rows at the new resolution would be
    /// wrong.
    #[error(
        "database {db}: commodity {commodity} is configured {configured} but its stored rows are {stored}; \
         keep `resolution: {stored}` for {commodity}, or give the {configured} series a new commodity code \
         (the {stored} rows stay under {commodity})"
    )]
    ResolutionChanged {
        db: String,
        commodity: String,
        stored: String,
        configured: String,
    },
    #[error("database {db}: stored value {value:?} is not a valid {what}; the row needs repair")]
    Corrupt {
        db: String,
        what: &'static str,
        value: String,
    },
}

impl StoreError {
    /// Whether the database could not be used because it is not there: no connection could
    /// be made, or an open one broke. A query the server refused is not this.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable { .. }
                | StoreError::ConnectionLost { .. }
                | StoreError::SqliteOpen { .. }
        )
    }

    /// What the database's error was, for an operation the database failed.
    pub fn db_cause(&self) -> Option<&DbCause> {
        match self {
            StoreError::ConnectionLost { cause, .. } => Some(cause),
            StoreError::Query { cause, .. } => cause.as_ref(),
            _ => None,
        }
    }
}

/// Which kind of database error, whichever backend and driver said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    /// The connection broke (closed, an IO error, the server shutting the session down).
    /// Told from the driver's error kind and SQLSTATE class 57P, never from the message text,
    /// which changes with the server's version and locale.
    ConnectionClosed,
    UniqueViolation,
    ForeignKeyViolation,
    NotNullViolation,
    CheckViolation,
    /// A concurrent transaction got in the way; the operation may be retried.
    SerializationFailure,
    /// The database or transaction is read-only (a standby, `default_transaction_read_only`).
    ReadOnly,
    Other,
}

/// The database's own error behind a [`StoreError`]: its kind, its SQLSTATE when the server
/// sent one, and the driver's error as the source (the storage crate's drivers stay hidden).
#[derive(Debug)]
pub struct DbCause {
    kind: DbErrorKind,
    sqlstate: Option<String>,
    error: Box<dyn std::error::Error + Send + Sync>,
}

impl DbErrorKind {
    /// The kind of a Diesel error.
    pub(crate) fn of_diesel(e: &diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error};
        match e {
            Error::DatabaseError(k, _) => match k {
                K::UnableToSendCommand | K::ClosedConnection => DbErrorKind::ConnectionClosed,
                K::UniqueViolation => DbErrorKind::UniqueViolation,
                K::ForeignKeyViolation => DbErrorKind::ForeignKeyViolation,
                K::NotNullViolation => DbErrorKind::NotNullViolation,
                K::CheckViolation => DbErrorKind::CheckViolation,
                K::SerializationFailure => DbErrorKind::SerializationFailure,
                K::ReadOnlyTransaction => DbErrorKind::ReadOnly,
                _ => DbErrorKind::Other,
            },
            Error::BrokenTransactionManager => DbErrorKind::ConnectionClosed,
            _ => DbErrorKind::Other,
        }
    }
}

impl DbCause {
    pub fn kind(&self) -> DbErrorKind {
        self.kind
    }

    /// The five-character SQLSTATE, when the server sent one (PostgreSQL through the COPY
    /// path; Diesel does not pass it on).
    pub fn sqlstate(&self) -> Option<&str> {
        self.sqlstate.as_deref()
    }

    pub(crate) fn of_diesel(e: diesel::result::Error) -> Self {
        Self {
            kind: DbErrorKind::of_diesel(&e),
            sqlstate: None,
            error: Box::new(e),
        }
    }

    pub(crate) fn of_postgres(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        let sqlstate = e.code().map(|c| c.code().to_owned());
        let kind = if pg_connection_lost(&e) {
            DbErrorKind::ConnectionClosed
        } else {
            match e.code() {
                Some(c) if *c == SqlState::UNIQUE_VIOLATION => DbErrorKind::UniqueViolation,
                Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => {
                    DbErrorKind::ForeignKeyViolation
                }
                Some(c) if *c == SqlState::NOT_NULL_VIOLATION => DbErrorKind::NotNullViolation,
                Some(c) if *c == SqlState::CHECK_VIOLATION => DbErrorKind::CheckViolation,
                Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => {
                    DbErrorKind::SerializationFailure
                }
                Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => DbErrorKind::ReadOnly,
                _ => DbErrorKind::Other,
            }
        };
        Self {
            kind,
            sqlstate,
            error: Box::new(e),
        }
    }
}

impl std::fmt::Display for DbCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:?})", self.error, self.kind)
    }
}

impl std::error::Error for DbCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

/// A server error in one line: message, SQLSTATE, detail and hint.
pub(crate) fn describe_db_error(
    message: &str,
    code: Option<&str>,
    detail: Option<&str>,
    hint: Option<&str>,
) -> String {
    let mut text = message.to_owned();
    if let Some(code) = code {
        text.push_str(&format!(" (SQLSTATE {code})"));
    }
    if let Some(detail) = detail {
        text.push_str(&format!("; detail: {detail}"));
    }
    if let Some(hint) = hint {
        text.push_str(&format!("; hint: {hint}"));
    }
    text
}

/// A tokio-postgres error with its cause: the server's words for a server error, the chain of
/// causes otherwise (its `Display` alone says only "db error" or "error connecting to server").
pub(crate) fn describe_pg(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return describe_db_error(db.message(), Some(db.code().code()), db.detail(), db.hint());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// A Diesel error with the server's detail and hint when it has them.
pub(crate) fn describe_diesel(e: &diesel::result::Error) -> String {
    match e {
        diesel::result::Error::DatabaseError(_, info) => {
            describe_db_error(info.message(), None, info.details(), info.hint())
        }
        other => other.to_string(),
    }
}

/// Whether a tokio-postgres error means the connection itself broke (closed, an IO error, or
/// the server shutting the session down).
fn pg_connection_lost(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        // class 57P: operator intervention (admin shutdown, crash shutdown, cannot connect now)
        return db.code().code().starts_with("57P");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}
