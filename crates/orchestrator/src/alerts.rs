//! Freshness alerts: every configured series with data is judged; one that went STALE since it
//! was last announced, or recovered from STALE, is announced once through the channels with
//! `send_on_stale`. The store's alert ledger makes "once" hold across processes and restarts:
//! each change is claimed before it is sent, and handed back when no channel delivered it, so
//! that the next check tries again.

use chrono::{DateTime, Utc};
use energy_core::{Freshness, FreshnessChange, NotificationReport};
use energy_notify::Notify;
use energy_storage::{Alerted, Store, StoreError};

use crate::{Config, Pipeline, status};

impl Pipeline {
    /// The freshness check ([`check`]) at the pipeline's clock's now.
    pub async fn check_freshness(&self) -> Result<FreshnessCheck, StoreError> {
        let (config, notifier, clock) = self.parts();
        check(config, self.store(), notifier, clock()).await
    }
}

/// What one check found and sent.
#[derive(Debug, Clone, Default)]
pub struct FreshnessCheck {
    /// The changes announced (claimed by this check).
    pub changes: Vec<FreshnessChange>,
    /// One entry per channel that tried.
    pub notifications: Vec<NotificationReport>,
}

/// Judges every configured series at `now` and announces what changed.
pub async fn check(
    config: &Config,
    store: &Store,
    notifier: &dyn Notify,
    now: DateTime<Utc>,
) -> Result<FreshnessCheck, StoreError> {
    let stored = store.observations().freshness().await?;
    let alerted = store.alerts().last().await?;
    let configured = config.configured_series();
    let mut changes = Vec::new();
    let mut claimed = Vec::new();
    for (commodity, source, latest) in status::every_series(config, stored) {
        // a series with nothing stored never went stale (status says "no data yet"); one no
        // longer configured is nobody's concern
        let Some(latest) = latest else { continue };
        if !configured.contains(&(commodity.clone(), source.clone())) {
            continue;
        }
        let (judged, rule, _) =
            status::judge(config, &commodity, &source, Some(latest.latest_date), now);
        let was = alerted
            .get(&(commodity.clone(), source.clone()))
            .copied()
            .unwrap_or(Alerted::Ok);
        let is = if judged.state == Freshness::Stale {
            Alerted::Stale
        } else {
            Alerted::Ok
        };
        if was == is
            || !store
                .alerts()
                .claim(&commodity, &source, was, is, now)
                .await?
        {
            continue;
        }
        claimed.push((commodity.clone(), source.clone(), was, is));
        changes.push(FreshnessChange {
            commodity,
            source,
            state: judged.state,
            latest: Some(latest.latest_date),
            expected: judged.expected,
            overdue_days: judged.overdue_days,
            publication: rule.to_string(),
            judged_at: now,
        });
    }
    if changes.is_empty() {
        return Ok(FreshnessCheck::default());
    }
    for c in &changes {
        let what = if c.recovered() {
            "recovered"
        } else {
            "went STALE"
        };
        tracing::warn!(commodity = %c.commodity, source = %c.source, expected = %c.expected, latest = ?c.latest, "series {what}");
    }
    let notifications = notifier.notify_freshness(&changes).await;
    if !notifications.is_empty() && notifications.iter().all(|n| !n.delivered) {
        // nobody was told: hand the changes back for the next check
        for (commodity, source, was, is) in claimed {
            store
                .alerts()
                .claim(&commodity, &source, is, was, now)
                .await?;
        }
        tracing::warn!("no channel delivered the freshness alert; the next check tries again");
    }
    Ok(FreshnessCheck {
        changes,
        notifications,
    })
}
