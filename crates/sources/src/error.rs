//! What can go wrong when fetching from a provider: which provider, after how many attempts,
//! and what kind of failure (callers branch on the kind: skip, retry later, tell the operator
//! to fix the configuration). Messages never contain an API key; upstream text is escaped.

use std::time::Duration;

use energy_core::{BatchError, ErrorKind, Resolution, SourceId, text::printable};

/// A fetch that failed. Its message names the provider and says what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceError {
    pub provider: SourceId,
    /// Requests made for it, the first included (1 for what no retry could change).
    pub attempts: u32,
    pub kind: SourceErrorKind,
}

/// What failed, with what the message needs.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceErrorKind {
    /// The provider needs a key and its variable is not set.
    MissingKey {
        variable: &'static str,
    },
    /// The provider refused the key.
    Unauthorized {
        variable: &'static str,
        message: String,
    },
    UnknownSeries {
        series: String,
        message: String,
    },
    NoData {
        message: String,
    },
    BadRequest {
        status: u16,
        message: String,
    },
    RateLimited {
        retry_after: Option<Duration>,
    },
    Unavailable {
        message: String,
    },
    Timeout {
        seconds: f64,
        url: String,
    },
    Malformed {
        url: String,
        message: String,
    },
    TooLarge {
        url: String,
        limit_bytes: u64,
    },
    Config {
        message: String,
    },
    /// The provider sent (or only offers) another resolution than the series is configured at:
    /// nothing of the batch is stored.
    WrongResolution {
        series: String,
        configured: Resolution,
        sent: String,
        url: String,
    },
}

impl SourceError {
    /// A failure of `provider` after one attempt.
    pub fn new(provider: SourceId, kind: SourceErrorKind) -> Self {
        Self {
            provider,
            attempts: 1,
            kind,
        }
    }

    /// The same failure after `attempts` attempts.
    pub fn after(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// What happened and what to do, without the provider's name in front.
    pub fn message(&self) -> String {
        let (provider, attempts) = (&self.provider, self.attempts);
        match &self.kind {
            SourceErrorKind::MissingKey { variable } => {
                format!("no API key: set the environment variable {variable}")
            }
            SourceErrorKind::Unauthorized { variable, message } => format!(
                "the API key was refused ({}); check {variable}",
                printable(message)
            ),
            SourceErrorKind::UnknownSeries { series, message } => format!(
                "unknown series `{}` ({}); check sources.{provider}.series",
                printable(series),
                printable(message)
            ),
            SourceErrorKind::NoData { message } => {
                format!("no data for the requested dates ({})", printable(message))
            }
            SourceErrorKind::BadRequest { status, message } => format!(
                "request rejected with HTTP {status}: {}",
                printable(message)
            ),
            SourceErrorKind::RateLimited { .. } => format!(
                "rate limited (HTTP 429) after {attempts} attempts; try again later or lower sources.{provider}.requests_per_second"
            ),
            SourceErrorKind::Unavailable { message } => format!(
                "provider unavailable after {attempts} attempts: {}",
                printable(message)
            ),
            SourceErrorKind::Timeout { seconds, url } => format!(
                "timed out after {attempts} attempts of {seconds} s each ({})",
                printable(url)
            ),
            SourceErrorKind::Malformed { url, message } => format!(
                "malformed response: {} (from {})",
                printable(message),
                printable(url)
            ),
            SourceErrorKind::TooLarge { url, limit_bytes } => format!(
                "the response is larger than sources.{provider}.max_response_mb ({} MB); narrow the date window or raise max_response_mb (from {})",
                *limit_bytes as f64 / 1_048_576.0,
                printable(url)
            ),
            SourceErrorKind::Config { message } => printable(message),
            SourceErrorKind::WrongResolution {
                series,
                configured,
                sent,
                url,
            } => format!(
                "series `{}` is configured {configured} but the provider has it {} (from {}); \
                 set the commodity's `resolution` to what the series is, or configure a {configured} series in sources.{provider}.series",
                printable(series),
                printable(sent),
                printable(url)
            ),
        }
    }

    /// The kind the run report records.
    pub fn report_kind(&self) -> ErrorKind {
        match &self.kind {
            SourceErrorKind::MissingKey { .. } => ErrorKind::MissingKey,
            SourceErrorKind::Unauthorized { .. } => ErrorKind::Unauthorized,
            SourceErrorKind::UnknownSeries { .. } => ErrorKind::UnknownSeries,
            SourceErrorKind::NoData { .. } => ErrorKind::NoData,
            SourceErrorKind::BadRequest { .. } => ErrorKind::BadRequest,
            SourceErrorKind::RateLimited { .. } => ErrorKind::RateLimited,
            SourceErrorKind::Unavailable { .. } => ErrorKind::Unavailable,
            SourceErrorKind::Timeout { .. } => ErrorKind::Timeout,
            SourceErrorKind::Malformed { .. } => ErrorKind::Malformed,
            SourceErrorKind::TooLarge { .. } => ErrorKind::TooLarge,
            SourceErrorKind::Config { .. } | SourceErrorKind::WrongResolution { .. } => {
                ErrorKind::SourceConfig
            }
        }
    }

    /// The error as the run report records it: kind and message, no provider prefix.
    pub fn to_batch_error(&self) -> BatchError {
        BatchError::new(self.report_kind(), self.message())
    }

    /// What went wrong in one attempt, without the provider and attempt count that the final
    /// error states once.
    pub(crate) fn attempt_cause(&self) -> String {
        match &self.kind {
            SourceErrorKind::Unavailable { message } => printable(message),
            SourceErrorKind::RateLimited { retry_after } => match retry_after {
                Some(d) => format!("HTTP 429 (rate limited; Retry-After {} s)", d.as_secs_f64()),
                None => "HTTP 429 (rate limited)".to_owned(),
            },
            SourceErrorKind::Timeout { seconds, url } => {
                format!("no complete answer within {seconds} s ({url})")
            }
            _ => self.message(),
        }
    }
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.provider, self.message())
    }
}

impl std::error::Error for SourceError {}
