//! Notifications after each run. This crate owns the `notifications` configuration; the channels
//! themselves (SMTP email, Slack) arrive with the notifications issue.

mod config;

pub use config::{EmailConfig, NotificationsConfig, SlackConfig, SmtpTls, Triggers};
