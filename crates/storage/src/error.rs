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
    },
    #[error(
        "database {db}: {kind} `{name}` is not registered; register it before writing its observations"
    )]
    NotRegistered {
        db: String,
        kind: &'static str,
        name: String,
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

/// Whether a Diesel error means the connection itself broke.
pub(crate) fn diesel_connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        e,
        Error::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            _
        ) | Error::BrokenTransactionManager
    )
}

/// Whether a tokio-postgres error means the connection itself broke (closed, an IO error, or
/// the server shutting the session down).
pub(crate) fn pg_connection_lost(e: &tokio_postgres::Error) -> bool {
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
