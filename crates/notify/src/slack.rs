//! The Slack channel: slack-hook posting to the incoming webhook in `SLACK_WEBHOOK_URL`, with a
//! client that has a timeout. The URL is a secret: it never appears in an error.

use std::time::Duration;

use slack_hook::{Payload, Slack};

use crate::{NotifyError, NotifySecrets, SlackConfig, Triggers, scrub};

pub(crate) struct SlackChannel {
    slack: Slack,
    pub(crate) triggers: Triggers,
    secrets: Vec<String>,
}

impl std::fmt::Debug for SlackChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackChannel").finish_non_exhaustive()
    }
}

impl SlackChannel {
    pub(crate) fn build(cfg: &SlackConfig, secrets: &NotifySecrets) -> Result<Self, NotifyError> {
        Self::configure(cfg, secrets).map_err(NotifyError::Unusable)
    }

    fn configure(cfg: &SlackConfig, secrets: &NotifySecrets) -> Result<Self, String> {
        let url = secrets.slack_webhook_url.as_ref().ok_or_else(|| {
            "SLACK_WEBHOOK_URL is not set: set it to the incoming webhook's URL".to_owned()
        })?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(cfg.timeout_seconds.max(1)))
            .connect_timeout(Duration::from_secs(cfg.timeout_seconds.clamp(1, 10)))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let slack = Slack::new_with_client(url.expose(), client)
            .map_err(|_| "SLACK_WEBHOOK_URL is not a valid URL".to_owned())?;
        let mut hidden = vec![url.expose().to_owned()];
        if let Ok(parsed) = reqwest::Url::parse(url.expose()) {
            hidden.push(parsed.as_str().to_owned());
            if parsed.path().len() > 1 {
                hidden.push(parsed.path().to_owned());
            }
        }
        Ok(Self {
            slack,
            triggers: cfg.triggers(),
            secrets: hidden,
        })
    }

    pub(crate) async fn send(&self, payload: &Payload) -> Result<(), NotifyError> {
        self.slack.send(payload).await.map_err(|e| {
            let text = match e {
                slack_hook::Error::Reqwest(e) if e.is_timeout() => {
                    "the webhook did not answer in time".to_owned()
                }
                slack_hook::Error::Reqwest(e) => e.without_url().to_string(),
                other => other.to_string(),
            };
            NotifyError::Delivery {
                target: "Slack webhook".to_owned(),
                reason: scrub(&text, &self.secrets),
            }
        })
    }
}
