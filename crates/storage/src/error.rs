//! What can go wrong with the store. Every message names the database (password redacted) and
//! says what to do.

use thiserror::Error;

/// A store operation that failed. Nothing is half-written: each write is one transaction.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "database {db} is unreachable: {reason} (is it running? check database.url or DATABASE_URL)"
    )]
    Unavailable { db: String, reason: String },
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
    /// Whether the database could not be reached at all (as opposed to a query failing).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}
