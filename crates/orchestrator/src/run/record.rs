//! The run's own row in the store while it runs and after: a heartbeat every 15 s, its
//! outcome written with retries (a database that blinked), the runs whose process is gone
//! marked `interrupted`, and a scheduled run's claim on its fire time's one notification.

use std::time::Duration;

use energy_core::RunReport;
use energy_storage::{NotifyClaim, RunId, StoreError};

use super::{Pipeline, RunRequest, host_name, process_alive};

/// A run marked `running` whose heartbeat is older than this has lost its process.
const ABANDONED_AFTER: Duration = Duration::from_secs(120);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);
/// Waits between attempts to write a finished run's outcome (a database that blinked).
const RECORD_RETRIES: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// `step` done, tried again after each of [`RECORD_RETRIES`] while it fails (a database that
/// blinked); the last answer is returned.
async fn retried<T, F, Fut>(run: &str, what: &str, mut step: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut answer = step().await;
    for wait in RECORD_RETRIES {
        let Err(e) = &answer else { break };
        tracing::warn!(run = %run, error = %e, retry_in = ?wait, "cannot {what}; retrying");
        tokio::time::sleep(wait).await;
        answer = step().await;
    }
    answer
}

impl Pipeline {
    /// Marks runs left `running` by a process that is gone as `interrupted`: a process on this
    /// host that no longer exists, or any run whose heartbeat stopped.
    pub async fn recover_abandoned_runs(&self) -> Result<u64, StoreError> {
        let now = (self.clock)();
        let host = host_name();
        let mut n = 0;
        for run in self.store.runs().running().await? {
            let dead_here =
                run.host == host && run.pid != std::process::id() && !process_alive(run.pid);
            let silent = (now - run.heartbeat_at)
                .to_std()
                .is_ok_and(|age| age > ABANDONED_AFTER);
            if (dead_here || silent) && self.store.runs().mark_interrupted(run.id, now).await? {
                tracing::warn!(run = %run.uuid, started_at = %run.started_at, "run left unfinished by a process that is gone: marked interrupted");
                n += 1;
            }
        }
        Ok(n)
    }

    /// Writes a finished run's outcome, retrying while the database blinks; when that keeps
    /// failing, marks the run failed (counts, no report) and logs the report, so that nothing
    /// is lost and no live process leaves it `running`.
    pub(super) async fn record_outcome(
        &self,
        run: RunId,
        report: &RunReport,
    ) -> Result<(), (StoreError, bool)> {
        let attempt = retried(&report.run_id, "record the run's outcome", || {
            self.store.runs().finish(run, report)
        })
        .await;
        let Err(error) = attempt else {
            return Ok(());
        };
        let marked_failed = match self
            .store
            .runs()
            .fail(run, (self.clock)(), report.counts)
            .await
        {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(run = %report.run_id, error = %e, "cannot mark the run failed either");
                false
            }
        };
        tracing::error!(
            run = %report.run_id,
            error = %error,
            report = %serde_json::to_string(report).unwrap_or_default(),
            "the run's outcome could not be recorded; its report follows"
        );
        Err((error, marked_failed))
    }

    /// Whether this run sends its notification: always for a run no schedule started; for a
    /// scheduled one only when its attempt still holds the fire time and no attempt sent one
    /// before (claimed in the ledger, retried while the database blinks). When the ledger cannot
    /// be asked at all it sends: a notification twice is better than a failure nobody hears of.
    pub(super) async fn may_notify(&self, request: &RunRequest, report: &RunReport) -> bool {
        let (Some(fire), Some(t)) = (&request.fire, request.scheduled_for) else {
            return true;
        };
        let answer = retried(&report.run_id, "claim the fire time's notification", || {
            self.store.schedule().claim_notification(
                &fire.schedule_key,
                t,
                fire.attempt,
                (self.clock)(),
            )
        })
        .await;
        match answer {
            Ok(NotifyClaim::Send | NotifyClaim::Unclaimed) => true,
            Ok(NotifyClaim::AlreadySent { by }) => {
                tracing::info!(run = %report.run_id, attempt = fire.attempt, sent_by = by, "the fire time's notification was sent by an earlier attempt: not sent again");
                false
            }
            Ok(NotifyClaim::Superseded { live_attempt }) => {
                tracing::warn!(run = %report.run_id, attempt = fire.attempt, live_attempt, "this attempt was taken over while it ran: the live attempt notifies, this one sends nothing");
                false
            }
            Err(e) => {
                tracing::error!(run = %report.run_id, error = %e, "cannot claim the fire time's notification: sending it anyway");
                true
            }
        }
    }

    pub(super) fn spawn_heartbeat(&self, run: RunId) -> tokio::task::JoinHandle<()> {
        let (store, clock) = (self.store.clone(), self.clock.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT_EVERY).await;
                if let Err(e) = store.runs().heartbeat(run, clock()).await {
                    tracing::warn!(error = %e, "run heartbeat failed");
                }
            }
        })
    }
}
