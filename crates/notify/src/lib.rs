//! Notifications after each run, and when a series goes STALE or recovers: email over SMTP and
//! Slack webhooks, each with its own triggers. A channel that fails is reported, never fatal: it cannot change a run's
//! outcome. No secret (SMTP credentials, the webhook URL) appears in a message, an error or a log.
//!
//! ```
//! use energy_core::{RunStatus, SourceId};
//!
//! // what a run's email says in its subject line
//! let now = "2026-11-25T11:00:00Z".parse().unwrap();
//! let mut report = energy_notify::sample_report(now, &[SourceId::new("eia").unwrap()]);
//! report.status = RunStatus::Partial;
//! assert!(energy_notify::render::subject(&report, false).contains("PARTIAL"));
//! ```

pub mod alert;
mod config;
mod email;
pub mod render;
mod slack;
#[cfg(feature = "testing")]
pub mod testing;

use std::fmt;

use async_trait::async_trait;
use energy_core::{FreshnessChange, NotificationReport, RunReport, Secret, SourceId};
use slack_hook::Payload;

pub use config::{EmailConfig, NotificationsConfig, SlackConfig, SmtpTls, Triggers};

use crate::{email::EmailChannel, slack::SlackChannel};

/// Why a channel did not deliver. Every text in it is scrubbed of secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Enabled but unusable as configured: a missing secret, a bad address, an unreadable CA
    /// file. Fixing the configuration fixes it.
    #[error("{0}")]
    Unusable(String),
    /// The message itself could not be put together.
    #[error("cannot build the {what}: {reason}")]
    Compose { what: &'static str, reason: String },
    /// The relay or the webhook refused it, or could not be reached.
    #[error("{target}: {reason}")]
    Delivery { target: String, reason: String },
    /// No answer within the channel's timeout.
    #[error("{target}: no answer within {seconds} s")]
    Timeout { target: String, seconds: u64 },
}

/// Something that announces finished runs. The orchestrator takes one as a dependency.
#[async_trait]
pub trait Notify: Send + Sync + fmt::Debug {
    /// Sends `report` to every channel whose trigger matches its status; one entry per channel
    /// that tried.
    async fn notify(&self, report: &RunReport) -> Vec<NotificationReport>;

    /// Announces series that went STALE or recovered, in one message, through every channel
    /// with `send_on_stale`; one entry per channel that tried.
    async fn notify_freshness(&self, changes: &[FreshnessChange]) -> Vec<NotificationReport>;
}

/// What a channel announces.
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    /// A finished run (`test`: the sample `notify test` sends).
    Run { report: &'a RunReport, test: bool },
    /// Series that went STALE, or recovered.
    Freshness(&'a [FreshnessChange]),
}

impl Message<'_> {
    /// For the log.
    fn label(&self) -> String {
        match self {
            Message::Run { report, .. } => format!("run {}", report.run_id),
            Message::Freshness(changes) => format!("freshness alert ({} series)", changes.len()),
        }
    }

    /// The email's subject, plain text and HTML.
    fn email(&self) -> Composed {
        match *self {
            Message::Run { report, test } => Composed {
                subject: render::subject(report, test),
                text: render::text_body(report, test),
                html: render::html_body(report, test),
            },
            Message::Freshness(changes) => Composed {
                subject: alert::subject(changes),
                text: alert::text_body(changes),
                html: alert::html_body(changes),
            },
        }
    }

    fn slack(&self) -> Result<Payload, NotifyError> {
        match *self {
            Message::Run { report, test } => render::slack_payload(report, test),
            Message::Freshness(changes) => alert::slack_payload(changes),
        }
        .map_err(|e| NotifyError::Compose {
            what: "Slack message",
            reason: e.to_string(),
        })
    }
}

/// An email put together.
pub(crate) struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The secrets the channels need, from the environment.
#[derive(Debug, Clone, Default)]
pub struct NotifySecrets {
    pub smtp_user: Option<Secret>,
    pub smtp_password: Option<Secret>,
    pub slack_webhook_url: Option<Secret>,
}

#[derive(Debug)]
enum Channel {
    Email(EmailChannel),
    Slack(SlackChannel),
    /// Enabled but unusable (e.g. its secret is missing): every delivery reports why.
    Broken {
        name: &'static str,
        triggers: Triggers,
        reason: NotifyError,
    },
}

impl Channel {
    fn name(&self) -> &'static str {
        match self {
            Channel::Email(_) => "email",
            Channel::Slack(_) => "slack",
            Channel::Broken { name, .. } => name,
        }
    }

    fn triggers(&self) -> Triggers {
        match self {
            Channel::Email(c) => c.triggers,
            Channel::Slack(c) => c.triggers,
            Channel::Broken { triggers, .. } => *triggers,
        }
    }

    async fn send(&self, message: Message<'_>) -> NotificationReport {
        let result = match self {
            Channel::Email(c) => c.send(&message.email()).await,
            Channel::Slack(c) => match message.slack() {
                Ok(payload) => c.send(&payload).await,
                Err(e) => Err(e),
            },
            Channel::Broken { reason, .. } => Err(reason.clone()),
        };
        let channel = self.name().to_owned();
        let what = message.label();
        match result {
            Ok(()) => {
                tracing::info!(channel, %what, "notification delivered");
                NotificationReport {
                    channel,
                    delivered: true,
                    error: None,
                }
            }
            Err(error) => {
                tracing::warn!(channel, %what, %error, "notification not delivered");
                NotificationReport {
                    channel,
                    delivered: false,
                    error: Some(error.to_string()),
                }
            }
        }
    }
}

/// The enabled channels, built from configuration.
#[derive(Debug, Default)]
pub struct Notifiers {
    channels: Vec<Channel>,
}

impl Notifiers {
    /// Builds every enabled channel. A channel that cannot be built (no webhook URL, a bad
    /// address, an unreadable CA file) stays in the set and reports why at each delivery.
    ///
    /// Call it inside a Tokio runtime and drop the result there: the email channel keeps a
    /// connection pool whose upkeep runs as a task on that runtime.
    pub fn from_config(config: &NotificationsConfig, secrets: &NotifySecrets) -> Self {
        let mut channels = Vec::new();
        if config.email.enabled {
            channels.push(match EmailChannel::build(&config.email, secrets) {
                Ok(c) => Channel::Email(c),
                Err(reason) => Channel::Broken {
                    name: "email",
                    triggers: config.email.triggers(),
                    reason,
                },
            });
        }
        if config.slack.enabled {
            channels.push(match SlackChannel::build(&config.slack, secrets) {
                Ok(c) => Channel::Slack(c),
                Err(reason) => Channel::Broken {
                    name: "slack",
                    triggers: config.slack.triggers(),
                    reason,
                },
            });
        }
        Self { channels }
    }

    /// Names of the enabled channels.
    pub fn enabled(&self) -> Vec<&'static str> {
        self.channels.iter().map(Channel::name).collect()
    }

    /// Sends `sample` as a clearly marked test message through every enabled channel, whatever
    /// its triggers say: how users check their configuration.
    pub async fn send_test(&self, sample: &RunReport) -> Vec<NotificationReport> {
        let mut out = Vec::new();
        for c in &self.channels {
            out.push(
                c.send(Message::Run {
                    report: sample,
                    test: true,
                })
                .await,
            );
        }
        out
    }
}

#[async_trait]
impl Notify for Notifiers {
    async fn notify(&self, report: &RunReport) -> Vec<NotificationReport> {
        let mut out = Vec::new();
        for c in &self.channels {
            if c.triggers().matches(report.status) {
                out.push(
                    c.send(Message::Run {
                        report,
                        test: false,
                    })
                    .await,
                );
            }
        }
        out
    }

    async fn notify_freshness(&self, changes: &[FreshnessChange]) -> Vec<NotificationReport> {
        let mut out = Vec::new();
        if changes.is_empty() {
            return out;
        }
        for c in &self.channels {
            if c.triggers().send_on_stale {
                out.push(c.send(Message::Freshness(changes)).await);
            }
        }
        out
    }
}

/// Replaces every secret value in `text` with `***`.
fn scrub(text: &str, secrets: &[String]) -> String {
    energy_core::redact(text, secrets.iter().map(String::as_str))
}

/// An example report for `notify test` over the configured `sources`: a partial full refresh
/// in which the second source timed out (the first, with one source), so that every part of
/// the message shows.
pub fn sample_report(now: chrono::DateTime<chrono::Utc>, sources: &[SourceId]) -> RunReport {
    use energy_core::{
        BatchError, Counts, DateWindow, ErrorKind, ModeKind, RunStatus, SourceReport, SourceStatus,
        Trigger,
    };
    let source = |id: &SourceId, status, fetched, error: Option<BatchError>| SourceReport {
        source: id.clone(),
        status,
        counts: Counts {
            fetched,
            stored: fetched,
            unchanged: 0,
            rejected: 0,
        },
        missing: 0,
        quality_score: if status == SourceStatus::Failed {
            0.0
        } else {
            1.0
        },
        error,
        fetch_seconds: 0.2,
        requests: 0,
        commodities: Vec::new(),
    };
    let failing = usize::from(sources.len() > 1);
    let sources: Vec<SourceReport> = sources
        .iter()
        .enumerate()
        .map(|(i, id)| {
            if i == failing {
                source(
                    id,
                    SourceStatus::Failed,
                    0,
                    Some(BatchError::new(
                        ErrorKind::Timeout,
                        "timed out after 3 attempts of 30 s each (an example error)",
                    )),
                )
            } else {
                source(id, SourceStatus::Success, 7542 - 36 * i as u64, None)
            }
        })
        .collect();
    let counts: Counts = sources.iter().map(|s| s.counts).sum();
    let status = if sources.iter().any(|s| s.status == SourceStatus::Success) {
        RunStatus::Partial
    } else {
        RunStatus::Failed
    };
    let today = now.date_naive();
    RunReport {
        cross_source: Vec::new(),
        cross_source_warnings: 0,
        run_id: "00000000-test-0000-0000-000000000000".to_owned(),
        trigger: Trigger::Manual,
        scheduled_for: None,
        attempt: None,
        mode: ModeKind::FullRefresh,
        status,
        started_at: now,
        finished_at: Some(now),
        duration_seconds: 0.84,
        window: Some(DateWindow::ending_at(today, 3650)),
        sources,
        counts,
        notifications: Vec::new(),
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_report_is_about_the_configured_sources() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
            .unwrap()
            .to_utc();
        let ids: Vec<SourceId> = ["alpha", "beta", "gamma"]
            .iter()
            .map(|n| SourceId::new(n).unwrap())
            .collect();
        let r = sample_report(now, &ids);
        let shown: Vec<(&str, &str)> = r
            .sources
            .iter()
            .map(|s| (s.source.as_str(), s.status.name()))
            .collect();
        assert_eq!(
            shown,
            [
                ("alpha", "success"),
                ("beta", "failed"),
                ("gamma", "success")
            ]
        );
        assert_eq!(r.status, energy_core::RunStatus::Partial);
        let one = sample_report(now, &ids[..1]);
        assert_eq!(one.status, energy_core::RunStatus::Failed);
    }
}
