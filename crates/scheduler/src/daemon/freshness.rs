//! The scheduler's freshness checks: one after each scheduled run and, with
//! `monitor.hourly_check`, one at start and at every full hour (UTC) between runs. Each runs as
//! a task of its own, one at a time, so that a slow mail relay never holds up the loop.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use energy_orchestrator::Pipeline;
use tokio::task::JoinHandle;

use energy_web::Liveness;

pub(super) struct FreshnessChecks {
    /// When the next hourly check is due.
    next: Option<DateTime<Utc>>,
    /// A run finished: check now.
    after_run: bool,
    running: Option<JoinHandle<()>>,
    liveness: Arc<Liveness>,
}

impl FreshnessChecks {
    /// Checks due from `first` on, every hour (none but after runs without it).
    pub(super) fn new(first: Option<DateTime<Utc>>, liveness: Arc<Liveness>) -> Self {
        Self {
            next: first,
            after_run: false,
            running: None,
            liveness,
        }
    }

    /// A scheduled run finished.
    pub(super) fn after_run(&mut self) {
        self.after_run = true;
    }

    /// Starts a check when one is due and none is going.
    pub(super) fn start_if_due(&mut self, pipeline: &Pipeline, now: DateTime<Utc>) {
        if self.running.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        if !(self.after_run || self.next.is_some_and(|t| now >= t)) {
            return;
        }
        self.after_run = false;
        if self.next.is_some() {
            let hour = TimeDelta::hours(1);
            self.next = Some(now.duration_trunc(hour).unwrap_or(now) + hour);
        }
        let pipeline = pipeline.clone();
        let liveness = self.liveness.clone();
        self.running = Some(tokio::spawn(async move {
            match pipeline.check_freshness().await {
                Ok(check) => {
                    for n in check.notifications.iter().filter(|n| !n.delivered) {
                        tracing::warn!(channel = %n.channel, error = n.error.as_deref().unwrap_or(""), "freshness alert not delivered");
                    }
                }
                Err(e) => tracing::error!(error = %e, "freshness check failed"),
            }
            liveness.freshness_checked();
        }));
    }

    /// Lets a check in progress finish, for up to `grace`.
    pub(super) async fn finish(self, grace: Duration) {
        if let Some(h) = self.running
            && tokio::time::timeout(grace, h).await.is_err()
        {
            tracing::warn!("the freshness check did not finish before the stop");
        }
    }
}
