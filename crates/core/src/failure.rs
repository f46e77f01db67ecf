//! Why a batch (one source × commodity), or a whole source, got nothing stored: a kind from a
//! closed set and a message that does not repeat the provider's name (the report says which
//! source it is about), so every view puts `source: message` together without taking a prefix
//! off again.

use serde::{Deserialize, Serialize};

/// What kind of failure: the provider's answer, or a step of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The provider needs a key and none is set.
    MissingKey,
    /// The provider refused the key.
    Unauthorized,
    /// The provider does not know the configured series.
    UnknownSeries,
    /// The provider has nothing for the dates asked.
    NoData,
    /// The provider refused the request (an HTTP 4xx other than the above).
    BadRequest,
    /// The provider kept answering 429.
    RateLimited,
    /// The provider kept failing (5xx, connection errors).
    Unavailable,
    /// The provider did not answer in time, on every attempt.
    Timeout,
    /// The answer could not be read (not JSON, wrong shape, another symbol or currency).
    Malformed,
    /// The answer was larger than `max_response_mb`.
    TooLarge,
    /// The provider's configuration cannot be used.
    SourceConfig,
    /// The store could not read or write the batch.
    Storage,
    /// The batch's quality score was below the gate: quarantined, nothing stored.
    QualityGate,
    /// The run was stopped before the batch finished.
    Interrupted,
    /// A bug: the batch's task panicked.
    Panicked,
    /// A source's commodities failed for different reasons; each commodity's error says which.
    Several,
    /// Stored by an earlier version, before errors had a kind.
    Unclassified,
}

impl ErrorKind {
    /// The spelling in JSON and logs.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::MissingKey => "missing_key",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::UnknownSeries => "unknown_series",
            ErrorKind::NoData => "no_data",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Malformed => "malformed",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::SourceConfig => "source_config",
            ErrorKind::Storage => "storage",
            ErrorKind::QualityGate => "quality_gate",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Panicked => "panicked",
            ErrorKind::Several => "several",
            ErrorKind::Unclassified => "unclassified",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A batch's (or a source's) failure: `{"kind": "timeout", "message": "timed out after …"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Recorded")]
pub struct BatchError {
    pub kind: ErrorKind,
    /// What happened, without the provider's name in front.
    pub message: String,
}

impl BatchError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A stored error as it may be: structured, or the text an earlier version stored.
#[derive(Deserialize)]
#[serde(untagged)]
enum Recorded {
    Structured { kind: ErrorKind, message: String },
    Text(String),
}

impl From<Recorded> for BatchError {
    fn from(r: Recorded) -> Self {
        match r {
            Recorded::Structured { kind, message } => Self { kind, message },
            // the text began with the provider's name (`eia: …`); the report names it already
            Recorded::Text(text) => {
                let provider_end = text
                    .find(": ")
                    .filter(|&at| {
                        at > 0
                            && text[..at].bytes().all(|b| {
                                b.is_ascii_lowercase()
                                    || b.is_ascii_digit()
                                    || b == b'_'
                                    || b == b'-'
                            })
                    })
                    .map_or(0, |at| at + 2);
                Self::new(ErrorKind::Unclassified, &text[provider_end..])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_one_spelling() {
        use ErrorKind::*;
        for k in [
            MissingKey,
            Unauthorized,
            UnknownSeries,
            NoData,
            BadRequest,
            RateLimited,
            Unavailable,
            Timeout,
            Malformed,
            TooLarge,
            SourceConfig,
            Storage,
            QualityGate,
            Interrupted,
            Panicked,
            Several,
            Unclassified,
        ] {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
    }

    #[test]
    fn a_structured_error_round_trips_and_an_old_text_is_read() {
        let e = BatchError::new(ErrorKind::Timeout, "timed out after 3 attempts");
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"timeout","message":"timed out after 3 attempts"}"#
        );
        assert_eq!(serde_json::from_str::<BatchError>(&json).unwrap(), e);
        let old: BatchError =
            serde_json::from_str(r#""fred: the API key was refused (x); check the key""#).unwrap();
        assert_eq!(old.kind, ErrorKind::Unclassified);
        assert_eq!(old.message, "the API key was refused (x); check the key");
        let old: BatchError =
            serde_json::from_str(r#""database sqlite://p.db: writing failed: disk full""#).unwrap();
        assert_eq!(
            old.message,
            "database sqlite://p.db: writing failed: disk full"
        );
    }
}
