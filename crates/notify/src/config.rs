//! The `notifications` section: which channels are on, where they send, and on which outcomes.

use energy_core::RunStatus;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587). The default.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or in tests.
    None,
}

/// Whether `host` names this machine: `localhost` or a loopback address.
fn is_this_host(host: &str) -> bool {
    let host = host.trim();
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// When a channel sends, by run outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triggers {
    pub send_on_success: bool,
    pub send_on_failure: bool,
    pub send_on_partial: bool,
    /// Announce a series that goes STALE, and its recovery.
    pub send_on_stale: bool,
}

impl Triggers {
    /// Whether a run that ended with `status` should be announced. Interrupted runs count as
    /// failures: somebody should look.
    pub fn matches(&self, status: RunStatus) -> bool {
        match status {
            RunStatus::Success => self.send_on_success,
            RunStatus::Partial => self.send_on_partial,
            RunStatus::Failed | RunStatus::Interrupted => self.send_on_failure,
            RunStatus::Running => false,
        }
    }
}

/// `notifications.email`. Credentials come from `SMTP_USER` and `SMTP_PASSWORD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// Send email at all.
    pub enabled: bool,
    /// SMTP relay host name.
    pub smtp_server: String,
    /// SMTP port: 587 for STARTTLS, 465 for TLS, 25 or any for none.
    pub smtp_port: u16,
    /// `starttls`, `tls` or `none`.
    pub tls: SmtpTls,
    /// Sender address.
    pub from_email: String,
    /// Recipient addresses (at least one when enabled).
    pub to_emails: Vec<String>,
    /// Send after a successful run.
    pub send_on_success: bool,
    /// Send after a failed or interrupted run.
    pub send_on_failure: bool,
    /// Send after a partially successful run.
    pub send_on_partial: bool,
    /// Send when a series goes STALE (its source is overdue by more than
    /// `monitor.late_after_days`), and when it recovers; once each.
    pub send_on_stale: bool,
    /// Seconds a delivery may take, connection included.
    pub timeout_seconds: u64,
    /// A PEM file of extra certificate authorities to trust for the relay's TLS certificate
    /// (a company CA); the public web roots are always trusted.
    pub ca_file: Option<PathBuf>,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            smtp_server: "smtp.gmail.com".to_owned(),
            smtp_port: 587,
            tls: SmtpTls::Starttls,
            from_email: "pipeline@example.com".to_owned(),
            to_emails: vec!["admin@example.com".to_owned()],
            send_on_success: false,
            send_on_failure: true,
            send_on_partial: true,
            send_on_stale: true,
            timeout_seconds: 30,
            ca_file: None,
        }
    }
}

impl EmailConfig {
    pub fn triggers(&self) -> Triggers {
        Triggers {
            send_on_success: self.send_on_success,
            send_on_failure: self.send_on_failure,
            send_on_partial: self.send_on_partial,
            send_on_stale: self.send_on_stale,
        }
    }

    /// Problems with the values, each as (key, message). Only checked when enabled.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !self.enabled {
            return out;
        }
        if self.smtp_server.trim().is_empty() {
            out.push((
                "smtp_server".to_owned(),
                "must name the SMTP host".to_owned(),
            ));
        }
        if let Some(m) = energy_core::bounds::outside(self.timeout_seconds, 1..=3600, "seconds") {
            out.push(("timeout_seconds".to_owned(), m));
        }
        if self.tls == SmtpTls::None && !is_this_host(&self.smtp_server) {
            out.push((
                "tls".to_owned(),
                format!(
                    "`none` sends the SMTP password and every message unencrypted; it is for a relay on this host only (localhost, 127.0.0.1, ::1), not {:?}: use `starttls` (port 587) or `tls` (port 465)",
                    self.smtp_server.trim()
                ),
            ));
        }
        if self.smtp_port == 0 {
            out.push((
                "smtp_port".to_owned(),
                "must be a port number 1-65535".to_owned(),
            ));
        }
        if !looks_like_address(&self.from_email) {
            out.push((
                "from_email".to_owned(),
                format!("{:?} is not an email address", self.from_email),
            ));
        }
        if self.to_emails.is_empty() {
            out.push((
                "to_emails".to_owned(),
                "needs at least one recipient".to_owned(),
            ));
        }
        for (i, a) in self.to_emails.iter().enumerate() {
            if !looks_like_address(a) {
                out.push((
                    format!("to_emails.{i}"),
                    format!("{a:?} is not an email address"),
                ));
            }
        }
        out
    }
}

/// A deliberately loose check (one `@`, something on both sides, no spaces); the SMTP library
/// does the strict parse when the channel is built.
fn looks_like_address(a: &str) -> bool {
    let mut parts = a.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None)
            if !local.is_empty() && !domain.is_empty() && !a.contains(char::is_whitespace)
    )
}

/// `notifications.slack`. The webhook URL comes from `SLACK_WEBHOOK_URL`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlackConfig {
    /// Post to Slack at all.
    pub enabled: bool,
    /// Post after a successful run.
    pub send_on_success: bool,
    /// Post after a failed or interrupted run.
    pub send_on_failure: bool,
    /// Post after a partially successful run.
    pub send_on_partial: bool,
    /// Post when a series goes STALE, and when it recovers; once each.
    pub send_on_stale: bool,
    /// Seconds a post may take.
    pub timeout_seconds: u64,
}

impl Default for SlackConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            send_on_success: false,
            send_on_failure: true,
            send_on_partial: true,
            send_on_stale: true,
            timeout_seconds: 10,
        }
    }
}

impl SlackConfig {
    /// Problems with the values, each as (key, message). Only checked when enabled.
    pub fn problems(&self) -> Vec<(String, String)> {
        if !self.enabled {
            return Vec::new();
        }
        energy_core::bounds::outside(self.timeout_seconds, 1..=3600, "seconds")
            .map(|m| ("timeout_seconds".to_owned(), m))
            .into_iter()
            .collect()
    }

    pub fn triggers(&self) -> Triggers {
        Triggers {
            send_on_success: self.send_on_success,
            send_on_failure: self.send_on_failure,
            send_on_partial: self.send_on_partial,
            send_on_stale: self.send_on_stale,
        }
    }
}

/// The `notifications` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// Email over SMTP.
    pub email: EmailConfig,
    /// Slack incoming webhook.
    pub slack: SlackConfig,
}

impl NotificationsConfig {
    /// Problems with the values of the enabled channels, each as (key below `notifications`,
    /// message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let email = self
            .email
            .problems()
            .into_iter()
            .map(|(k, m)| (format!("email.{k}"), m));
        let slack = self
            .slack
            .problems()
            .into_iter()
            .map(|(k, m)| (format!("slack.{k}"), m));
        email.chain(slack).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_follow_status() {
        let t = EmailConfig::default().triggers();
        assert!(!t.matches(RunStatus::Success));
        assert!(t.matches(RunStatus::Partial));
        assert!(t.matches(RunStatus::Failed));
        assert!(t.matches(RunStatus::Interrupted));
    }

    #[test]
    fn enabled_email_needs_addresses() {
        let cfg: EmailConfig =
            serde_yaml::from_str("enabled: true\nfrom_email: nobody\nto_emails: []").unwrap();
        let keys: Vec<_> = cfg.problems().into_iter().map(|p| p.0).collect();
        assert_eq!(keys, ["from_email", "to_emails"]);
    }
}
