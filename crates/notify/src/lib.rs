//! Notifications after each run: email over SMTP and Slack webhooks, each with its own
//! per-status triggers. A channel that fails is reported, never fatal: it cannot change a run's
//! outcome.

mod config;

use async_trait::async_trait;
use energy_core::{NotificationReport, RunReport};

pub use config::{EmailConfig, NotificationsConfig, SlackConfig, SmtpTls, Triggers};

/// Something that announces finished runs. The orchestrator takes one as a dependency.
#[async_trait]
pub trait Notify: Send + Sync + std::fmt::Debug {
    /// Sends `report` to every channel whose trigger matches its status; one entry per channel
    /// that tried.
    async fn notify(&self, report: &RunReport) -> Vec<NotificationReport>;
}

/// The configured channels.
///
/// The SMTP and Slack transports arrive with the notifications issue. Until then an enabled
/// channel whose trigger matches is reported as not delivered, with the reason, so that nobody
/// believes a message went out.
#[derive(Debug, Clone, Default)]
pub struct Notifiers {
    config: NotificationsConfig,
}

impl Notifiers {
    pub fn from_config(config: &NotificationsConfig) -> Self {
        Self {
            config: config.clone(),
        }
    }

    /// Names of the enabled channels.
    pub fn enabled(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.config.email.enabled {
            out.push("email");
        }
        if self.config.slack.enabled {
            out.push("slack");
        }
        out
    }
}

#[async_trait]
impl Notify for Notifiers {
    async fn notify(&self, report: &RunReport) -> Vec<NotificationReport> {
        let mut out = Vec::new();
        let channels = [
            (
                "email",
                self.config.email.enabled,
                self.config.email.triggers(),
            ),
            (
                "slack",
                self.config.slack.enabled,
                self.config.slack.triggers(),
            ),
        ];
        for (channel, enabled, triggers) in channels {
            if enabled && triggers.matches(report.status) {
                out.push(NotificationReport {
                    channel: channel.to_owned(),
                    delivered: false,
                    error: Some(format!(
                        "this build cannot send {channel} notifications yet; set notifications.{channel}.enabled: false to silence this"
                    )),
                });
            }
        }
        out
    }
}
