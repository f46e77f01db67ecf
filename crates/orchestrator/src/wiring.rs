//! The real dependencies of a run, built from the configuration: the store, the sources and the
//! notifiers. Both binaries compose a [`Pipeline`] through here; tests build theirs by hand.

use std::sync::Arc;

use energy_core::Clock;
use energy_notify::{Notifiers, NotifySecrets};
use energy_sources::{BuiltSource, build_sources};
use energy_storage::{Store, StoreError};

use crate::{Config, Pipeline, Secrets};

/// Opens (and migrates) the configured database.
pub async fn open_store(config: &Config) -> Result<Store, StoreError> {
    Store::open(&config.database.url).await
}

/// Opens the configured database for a command that only reads: a SQLite file that does not
/// exist yet is an error, not a new empty database.
pub async fn open_existing_store(config: &Config) -> Result<Store, StoreError> {
    Store::open_existing(&config.database.url).await
}

/// Builds every configured provider with its key from `secrets`.
pub fn sources(config: &Config, secrets: &Secrets, clock: Clock) -> Vec<BuiltSource> {
    build_sources(
        &config.sources,
        &config.retry,
        |variable| secrets.by_variable(variable).cloned(),
        clock,
    )
}

/// A pipeline over the real store, providers and notification channels.
pub async fn pipeline(
    config: Arc<Config>,
    secrets: &Secrets,
    clock: Clock,
) -> Result<Pipeline, StoreError> {
    let store = open_store(&config).await?;
    let sources = sources(&config, secrets, clock.clone());
    let notifier = Arc::new(notifiers(&config, secrets));
    Ok(Pipeline::new(config, store, sources, notifier, clock))
}

/// The enabled notification channels with their secrets.
pub fn notifiers(config: &Config, secrets: &Secrets) -> Notifiers {
    Notifiers::from_config(
        &config.notifications,
        &NotifySecrets {
            smtp_user: secrets.smtp_user.clone(),
            smtp_password: secrets.smtp_password.clone(),
            slack_webhook_url: secrets.slack_webhook_url.clone(),
        },
    )
}
