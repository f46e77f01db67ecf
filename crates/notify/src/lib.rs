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
