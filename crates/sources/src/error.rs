//! What can go wrong when fetching from a provider. Callers branch on the variant (skip, retry
//! later, tell the operator to fix the configuration); messages never contain an API key.

use std::time::Duration;

use energy_core::{SourceId, text::printable};
use thiserror::Error;

/// A fetch that failed. Every message names the provider and says what to do.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SourceError {
    #[error("{provider}: no API key: set the environment variable {variable}")]
    MissingKey {
        provider: SourceId,
        variable: &'static str,
    },
    #[error("{provider}: the API key was refused ({m_}); check {variable}", m_ = printable(.message))]
    Unauthorized {
        provider: SourceId,
        variable: &'static str,
        message: String,
    },
    #[error("{provider}: unknown series `{s_}` ({m_}); check sources.{provider}.series", m_ = printable(.message), s_ = printable(.series))]
    UnknownSeries {
        provider: SourceId,
        series: String,
        message: String,
    },
    #[error("{provider}: no data for the requested dates ({m_})", m_ = printable(.message))]
    NoData { provider: SourceId, message: String },
    #[error("{provider}: request rejected with HTTP {status}: {m_}", m_ = printable(.message))]
    BadRequest {
        provider: SourceId,
        status: u16,
        message: String,
    },
    #[error(
        "{provider}: rate limited (HTTP 429) after {attempts} attempts; try again later or lower sources.{provider}.requests_per_second"
    )]
    RateLimited {
        provider: SourceId,
        attempts: u32,
        retry_after: Option<Duration>,
    },
    #[error("{provider}: provider unavailable after {attempts} attempts: {m_}", m_ = printable(.message))]
    Unavailable {
        provider: SourceId,
        attempts: u32,
        message: String,
    },
    #[error("{provider}: timed out after {attempts} attempts of {seconds} s each ({u_})", u_ = printable(.url))]
    Timeout {
        provider: SourceId,
        attempts: u32,
        seconds: f64,
        url: String,
    },
    #[error("{provider}: malformed response: {m_} (from {u_})", m_ = printable(.message), u_ = printable(.url))]
    Malformed {
        provider: SourceId,
        url: String,
        message: String,
    },
    #[error(
        "{provider}: the response is larger than sources.{provider}.max_response_mb ({mb} MB); narrow the date window or raise max_response_mb (from {u_})",
        u_ = printable(.url),
        mb = *.limit_bytes as f64 / 1_048_576.0
    )]
    TooLarge {
        provider: SourceId,
        url: String,
        limit_bytes: u64,
    },
    #[error("{provider}: {m_}", m_ = printable(.message))]
    Config { provider: SourceId, message: String },
}

impl SourceError {
    /// The provider the error is about.
    pub fn source_id(&self) -> &SourceId {
        match self {
            SourceError::MissingKey { provider, .. }
            | SourceError::Unauthorized { provider, .. }
            | SourceError::UnknownSeries { provider, .. }
            | SourceError::NoData { provider, .. }
            | SourceError::BadRequest { provider, .. }
            | SourceError::RateLimited { provider, .. }
            | SourceError::Unavailable { provider, .. }
            | SourceError::Timeout { provider, .. }
            | SourceError::Malformed { provider, .. }
            | SourceError::TooLarge { provider, .. }
            | SourceError::Config { provider, .. } => provider,
        }
    }

    /// What went wrong in one attempt, without the provider and attempt count that the final
    /// error states once.
    pub(crate) fn attempt_cause(&self) -> String {
        match self {
            SourceError::Unavailable { message, .. } => printable(message),
            SourceError::RateLimited { retry_after, .. } => match retry_after {
                Some(d) => format!("HTTP 429 (rate limited; Retry-After {} s)", d.as_secs_f64()),
                None => "HTTP 429 (rate limited)".to_owned(),
            },
            SourceError::Timeout { seconds, url, .. } => {
                format!("no complete answer within {seconds} s ({url})")
            }
            other => other.to_string(),
        }
    }
}
