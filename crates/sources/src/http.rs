//! The HTTP layer every provider uses, written once: User-Agent, gzip, keep-alive, connect and
//! total timeouts, retries with exponential backoff and random jitter (timeouts, connection
//! errors, 5xx and 429 only), `Retry-After` (which holds every request of the provider), a
//! per-provider rate limit with a burst that retries go through too, a cap on the response
//! size, and the redaction of API keys from everything it formats.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use energy_core::{Secret, SourceId};
use reqwest::{StatusCode, header};
use url::Url;

use crate::{SourceError, SourceErrorKind, limit::RateLimit, retry::RetryConfig};

/// How one provider's requests are made.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Total time for one attempt, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Requests per second to this provider, sustained (0 = unlimited).
    pub requests_per_second: f64,
    /// Requests that may go at once before the rate applies.
    pub burst: u32,
    /// Larger responses are refused.
    pub max_response_bytes: u64,
    pub user_agent: String,
    pub retry: RetryConfig,
}

/// A browser-like User-Agent: Yahoo answers 429 to library defaults.
pub const BROWSER_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// Our own User-Agent for APIs that want to know who is calling.
pub const PIPELINE_USER_AGENT: &str = concat!("energy-pipeline/", env!("CARGO_PKG_VERSION"));

/// A received response (any status that is not retried).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Bytes,
    /// The request URL with keys redacted, for messages.
    pub url: String,
    /// Where a redirect pointed (`Location`), when it was not followed.
    pub location: Option<String>,
}

impl Reply {
    pub(crate) fn looks_like_json(&self) -> bool {
        let start = self.body.iter().find(|b| !b.is_ascii_whitespace());
        self.content_type.contains("json") || matches!(start, Some(b'{') | Some(b'['))
    }

    /// What to say of an answer that is not JSON: its content type and the start of its body,
    /// with `hint` (what it may be) after the type.
    pub(crate) fn not_json(&self, http: &Http, hint: &str) -> String {
        format!(
            "expected JSON, got {:?}{hint}: {}",
            self.content_type,
            self.snippet(http)
        )
    }

    /// The start of the body as text, with secrets scrubbed, for error messages; what the
    /// answer was when it has no body (a redirect that was not followed says where to).
    pub(crate) fn snippet(&self, http: &Http) -> String {
        let text = String::from_utf8_lossy(&self.body[..self.body.len().min(200)]);
        let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !one_line.is_empty() {
            return http.scrub(&one_line);
        }
        let reason = self.status.canonical_reason().unwrap_or("no reason given");
        match (&self.location, self.status.is_redirection()) {
            (Some(to), true) => http.scrub(&format!(
                "{reason}, a redirect to {} that was not followed (check the provider's base_url)",
                shorten(to.clone())
            )),
            (None, true) => {
                format!("{reason}, a redirect with no Location (check the provider's base_url)")
            }
            _ => format!("{reason}, with an empty body"),
        }
    }
}

/// The client of one provider.
#[derive(Debug)]
pub(crate) struct Http {
    pub source: SourceId,
    client: reqwest::Client,
    settings: HttpSettings,
    limit: RateLimit,
    secrets: Vec<Secret>,
    /// Requests sent (every attempt).
    sent: std::sync::atomic::AtomicU64,
}

/// The longest URL a message shows: the cause comes first, and a 250-character query string
/// would drown it.
const SHOWN_URL_CHARS: usize = 100;

/// `url` cut to [`SHOWN_URL_CHARS`] characters, marked with `…` where it was cut.
pub(crate) fn shorten(url: String) -> String {
    match url.char_indices().nth(SHOWN_URL_CHARS - 1) {
        Some((i, _)) if url.len() > i + 1 => format!("{}…", &url[..i]),
        _ => url,
    }
}

/// Query parameters whose values are credentials.
const SECRET_PARAMS: [&str; 5] = ["api_key", "apikey", "key", "token", "access_token"];

/// `url` with the values of credential parameters and the password of its user (a
/// `base_url` may carry one for a mirror behind basic authentication) replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    if !url
        .query_pairs()
        .any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref()))
    {
        return energy_core::redact_url_credentials(url.as_str());
    }
    let mut shown = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                "***".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    shown.query_pairs_mut().clear().extend_pairs(pairs);
    energy_core::redact_url_credentials(&shown.to_string().replace("%2A%2A%2A", "***"))
}

impl Http {
    pub(crate) fn new(
        source: SourceId,
        base: &Url,
        settings: HttpSettings,
        secrets: Vec<Secret>,
    ) -> Result<Self, SourceError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .gzip(true)
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(5));
        // Never send requests for a local server (tests, a local mirror) through a proxy.
        if base.host_str().is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }) {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| {
            SourceError::new(
                source.clone(),
                SourceErrorKind::Config {
                    message: format!("cannot build the HTTP client: {}", e.without_url()),
                },
            )
        })?;
        // the base URL's password, as written and decoded, wherever an answer repeats it
        let mut secrets = secrets;
        if let Some(password) = base.password() {
            secrets.push(Secret::new(password));
            secrets.push(Secret::new(energy_core::text::percent_decode(password)));
        }
        Ok(Self {
            source,
            client,
            limit: RateLimit::new(settings.requests_per_second, settings.burst),
            settings,
            secrets,
            sent: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Requests sent so far, retries included.
    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Replaces every secret in `text` with `***`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        energy_core::redact(text, self.secrets.iter().map(Secret::expose))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let r = &self.settings.retry;
        let base = r.initial_backoff_seconds * 2f64.powi(attempt.saturating_sub(1) as i32);
        // jitter: 50–100 % of the exponential step, so that parallel clients spread out
        let jitter = 0.5 + 0.5 * rand::random::<f64>();
        Duration::from_secs_f64((base * jitter).min(r.max_backoff_seconds).max(0.0))
    }

    /// The longest wait: the retry section's `max_backoff_seconds`, for a backoff and for a
    /// server's `Retry-After` alike.
    fn longest_wait(&self) -> Duration {
        Duration::try_from_secs_f64(self.settings.retry.max_backoff_seconds).unwrap_or_default()
    }

    /// The wait a response's `Retry-After` asks for, at most the longest wait. A longer one is
    /// capped and one that is no wait (negative, not finite, unreadable) ignored, each with a
    /// warning: a provider's header never stops a batch.
    fn retry_after(&self, headers: &header::HeaderMap) -> Option<Duration> {
        let raw = headers.get(header::RETRY_AFTER)?;
        let value = String::from_utf8_lossy(raw.as_bytes());
        let value = value.trim();
        // upstream text in a log line: escaped by `{:?}` and cut
        let shown: String = value.chars().take(64).collect();
        match parse_retry_after(value, chrono::Utc::now()) {
            Err(()) => {
                tracing::warn!(source = %self.source, "ignoring Retry-After {shown:?}: neither seconds (0 or more) nor an HTTP date");
                None
            }
            Ok(None) => None,
            Ok(Some(wait)) if wait > self.longest_wait() => {
                let longest = self.longest_wait();
                tracing::warn!(source = %self.source, "Retry-After {shown:?} is beyond the longest wait (retry.max_backoff_seconds): waiting {} s", longest.as_secs_f64());
                Some(longest)
            }
            Ok(Some(wait)) => Some(wait),
        }
    }

    /// GETs `url`, retrying what is worth retrying. Returns any response that is not retried
    /// (2xx, and 4xx other than 429) for the provider to interpret.
    pub(crate) async fn get(&self, url: &Url) -> Result<Reply, SourceError> {
        let shown = shorten(redact_url(url));
        let attempts = self.settings.retry.max_attempts.max(1);
        let mut last: Option<SourceError> = None;
        for attempt in 1..=attempts {
            // every attempt, retries too, takes its turn from the provider's budget
            self.limit.until_ready().await;
            let wait = match self.attempt(url, &shown).await {
                Attempt::Done(reply) => return Ok(reply),
                Attempt::Fatal(e) => return Err(e),
                Attempt::Retry { error, retry_after } => {
                    // said once per attempt that will be retried; the last one is the final
                    // error's to say
                    if attempt < attempts {
                        tracing::warn!(source = %self.source, attempt, of = attempts, "request failed, retrying: {}", error.attempt_cause());
                    } else {
                        tracing::debug!(source = %self.source, attempt, of = attempts, "request failed: {}", error.attempt_cause());
                    }
                    last = Some(error);
                    match retry_after {
                        // the provider said when to come back: none of its requests go sooner
                        Some(d) => {
                            self.limit.hold_for(d).await;
                            d
                        }
                        None => self.backoff(attempt),
                    }
                }
            };
            if attempt < attempts {
                tokio::time::sleep(wait).await;
            }
        }
        let mut last = last.expect("at least one attempt");
        if matches!(
            last.kind,
            SourceErrorKind::RateLimited { .. }
                | SourceErrorKind::Unavailable { .. }
                | SourceErrorKind::Timeout { .. }
        ) {
            last.attempts = attempts;
        }
        Err(last)
    }

    async fn attempt(&self, url: &Url, shown: &str) -> Attempt {
        let timeout = || {
            SourceError::new(
                self.source.clone(),
                SourceErrorKind::Timeout {
                    seconds: self.settings.timeout.as_secs_f64(),
                    url: shown.to_owned(),
                },
            )
        };
        let unavailable = |message: String| {
            SourceError::new(
                self.source.clone(),
                SourceErrorKind::Unavailable {
                    message: self.scrub(&message),
                },
            )
        };
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = match self.client.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Attempt::Retry {
                    error: timeout(),
                    retry_after: None,
                };
            }
            Err(e) => {
                // without_url: reqwest would otherwise print the URL, key and all
                let e = e.without_url();
                return Attempt::Retry {
                    error: unavailable(format!("{e}: {} ({shown})", source_chain(&e))),
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = self.retry_after(response.headers());
            let error = SourceError::new(
                self.source.clone(),
                SourceErrorKind::RateLimited { retry_after },
            );
            return Attempt::Retry { error, retry_after };
        }
        if status.is_server_error() {
            return Attempt::Retry {
                error: unavailable(format!("HTTP {status} ({shown})")),
                retry_after: self.retry_after(response.headers()),
            };
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let limit = self.settings.max_response_bytes;
        let too_large = || {
            SourceError::new(
                self.source.clone(),
                SourceErrorKind::TooLarge {
                    url: shown.to_owned(),
                    limit_bytes: limit,
                },
            )
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Attempt::Fatal(too_large());
        }
        // the announced length, exactly: growing by doubling would hold up to twice the body
        let mut body =
            BytesMut::with_capacity(response.content_length().unwrap_or(0).min(limit) as usize);
        let mut response = response;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > limit {
                        return Attempt::Fatal(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => {
                    return Attempt::Retry {
                        error: timeout(),
                        retry_after: None,
                    };
                }
                Err(e) => {
                    let e = e.without_url();
                    return Attempt::Retry {
                        error: unavailable(format!("response body broken off: {e} ({shown})")),
                        retry_after: None,
                    };
                }
            }
        }
        Attempt::Done(Reply {
            status,
            content_type,
            body: body.freeze(),
            url: shown.to_owned(),
            location,
        })
    }
}

enum Attempt {
    Done(Reply),
    Retry {
        error: SourceError,
        retry_after: Option<Duration>,
    },
    Fatal(SourceError),
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    parts.join(": ")
}

/// `Retry-After` as seconds or as an HTTP date: the wait it asks for (`Duration::MAX` for one
/// too long to be a `Duration`), `Ok(None)` for a date already past, `Err` for what is no wait.
fn parse_retry_after(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Duration>, ()> {
    if let Ok(secs) = value.parse::<f64>() {
        if !(secs.is_finite() && secs >= 0.0) {
            return Err(());
        }
        // checked like the limiter's rate: 1e20 s is more than a Duration holds
        return Ok(Some(
            Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX),
        ));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).map_err(|_| ())?;
    Ok((when.with_timezone(&chrono::Utc) - now).to_std().ok())
}

#[cfg(test)]
mod tests;
