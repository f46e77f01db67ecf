//! The secrets: read only from the environment, never from the file, shown as `***`.

use std::collections::BTreeMap;

use energy_core::Secret;

/// Secrets, read only from the environment. Each is absent when its variable is unset or empty.
/// Which providers need a key, and in which variable, is the provider registry's knowledge
/// (`energy_sources::PROVIDERS`): a new provider needs no change here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// API keys by the environment variable they came from.
    provider_keys: BTreeMap<&'static str, Secret>,
    pub smtp_user: Option<Secret>,
    pub smtp_password: Option<Secret>,
    pub slack_webhook_url: Option<Secret>,
}

/// The variables of the providers that need a key, in the registry's order.
fn provider_key_variables() -> impl Iterator<Item = &'static str> {
    energy_sources::PROVIDERS
        .iter()
        .filter_map(|p| p.api_key_env)
}

/// The notification channels' variables.
const NOTIFY_VARIABLES: [&str; 3] = ["SMTP_USER", "SMTP_PASSWORD", "SLACK_WEBHOOK_URL"];

impl Secrets {
    /// The environment variables secrets come from, in display order: each provider's key
    /// variable, then the notification channels'.
    pub fn variables() -> Vec<&'static str> {
        provider_key_variables().chain(NOTIFY_VARIABLES).collect()
    }

    /// Reads the secrets through `get` (normally `std::env::var`).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str| get(name).filter(|v| !v.trim().is_empty()).map(Secret::new);
        Self {
            provider_keys: provider_key_variables()
                .filter_map(|var| read(var).map(|s| (var, s)))
                .collect(),
            smtp_user: read("SMTP_USER"),
            smtp_password: read("SMTP_PASSWORD"),
            slack_webhook_url: read("SLACK_WEBHOOK_URL"),
        }
    }

    /// The secret held in environment variable `name`, if that is one of [`Self::variables`].
    pub fn by_variable(&self, name: &str) -> Option<&Secret> {
        match name {
            "SMTP_USER" => self.smtp_user.as_ref(),
            "SMTP_PASSWORD" => self.smtp_password.as_ref(),
            "SLACK_WEBHOOK_URL" => self.slack_webhook_url.as_ref(),
            provider => self.provider_keys.get(provider),
        }
    }

    /// Every secret value that is set, for scrubbing text before it is shown.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.provider_keys
            .values()
            .chain(
                [
                    &self.smtp_user,
                    &self.smtp_password,
                    &self.slack_webhook_url,
                ]
                .into_iter()
                .flatten(),
            )
            .map(Secret::expose)
    }
}
