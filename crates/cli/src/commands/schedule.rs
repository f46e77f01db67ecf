//! `schedule start|stop|status|next`: the scheduler daemon in the foreground, asking it to
//! stop through the database, its state, and the next fire times.

use std::{process::ExitCode, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use energy_core::display::{utc_time, zoned_time};
use energy_orchestrator::{
    config, logs, signals,
    status::scheduler::{
        SchedulerState, alive, describe, last_replicas, running_schedulers, scheduler_state,
        shown_next_fire,
    },
    wiring,
};
use energy_scheduler::{DaemonError, Schedule, serve_from_config};
use tokio_util::sync::CancellationToken;

use crate::output::outln;
use crate::{
    args::{GlobalArgs, ScheduleCommand},
    exit::Failure,
};

pub(super) fn run(global: &GlobalArgs, cmd: &ScheduleCommand) -> Result<ExitCode, Failure> {
    match cmd {
        ScheduleCommand::Start => start(global),
        ScheduleCommand::Stop { timeout } => stop(global, *timeout),
        ScheduleCommand::Status { json } => status(global, *json),
        ScheduleCommand::Next { count, after } => next(global, usize::from(*count), *after),
    }
}

/// Runs the daemon until SIGINT/SIGTERM or `schedule stop` (also `energy-scheduler`).
pub(super) fn start(global: &GlobalArgs) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let _log = logs::init(
        global.log_options(),
        &loaded.config.logging,
        Some("scheduler"),
    );
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let stop = CancellationToken::new();
        tokio::spawn(signals::cancel_on_signals(stop.clone()));
        serve_from_config(Arc::new(loaded.config), &loaded.secrets, stop)
            .await
            .map_err(|e| match e {
                e @ DaemonError::Schedule(_) => Failure::Usage(e.to_string()),
                other => Failure::Operational(other.into()),
            })
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The registered schedulers whose heartbeat is still fresh.
async fn alive_schedulers(
    store: &energy_storage::Store,
) -> Result<Vec<energy_storage::SchedulerRecord>, energy_storage::StoreError> {
    let now = Utc::now();
    Ok(store
        .schedule()
        .instances()
        .await?
        .into_iter()
        .filter(|s| alive(s, now))
        .collect())
}

fn stop(global: &GlobalArgs, timeout: u64) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let store = wiring::open_existing_store(&loaded.config).await?;
        let asked = store.schedule().request_stop().await?;
        let running = alive_schedulers(&store).await?;
        if asked == 0 || running.is_empty() {
            outln!("no scheduler is running");
            return Ok(ExitCode::SUCCESS);
        }
        for s in &running {
            outln!("asked the scheduler on {} (pid {}) to stop", s.host, s.pid);
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(timeout);
        loop {
            let left = alive_schedulers(&store).await?;
            if left.is_empty() {
                outln!("stopped");
                return Ok(ExitCode::SUCCESS);
            }
            if std::time::Instant::now() >= deadline {
                return Err(Failure::Operational(anyhow::anyhow!(
                    "the scheduler has not stopped after {timeout} s (it may be finishing a run); check `schedule status`"
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

fn status(global: &GlobalArgs, json_out: bool) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let schedule = Schedule::from_config(&loaded.config.schedule)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let runtime = super::runtime()?;
    let (schedulers, last) = runtime.block_on(async {
        let store = wiring::open_existing_store(&loaded.config).await?;
        let schedulers = store.schedule().instances().await?;
        let runs = store.runs().recent(50).await?;
        let last = runs
            .into_iter()
            .find(|r| r.trigger == energy_core::Trigger::Schedule);
        Ok::<_, Failure>((schedulers, last))
    })?;
    let now = Utc::now();
    let (state, shown) = scheduler_state(&schedulers, now);
    let next = shown_next_fire(state, shown);
    let running = running_schedulers(&schedulers, now);
    let next_local = next.map(|t| t.with_timezone(&schedule.timezone()));
    if json_out {
        let shown = energy_orchestrator::status::ScheduleStatus {
            scheduler: describe(&loaded.config.schedule, &schedulers, now),
            last_run: last.as_ref().map(energy_orchestrator::status::report_of),
        };
        let text = serde_json::to_string(&shown)
            .map_err(|e| Failure::Operational(anyhow::anyhow!("cannot write JSON: {e}")))?;
        outln!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    match (state, shown) {
        (SchedulerState::Running, Some(_)) => {
            for s in &running {
                outln!(
                    "scheduler   RUNNING on {} (pid {}), heartbeat {} s ago",
                    s.host,
                    s.pid,
                    (now - s.heartbeat_at).num_seconds()
                );
            }
        }
        (SchedulerState::Dead, Some(s)) => outln!(
            "scheduler   DEAD: registered on {} (pid {}) but silent for {} s; start it again",
            s.host,
            s.pid,
            (now - s.heartbeat_at).num_seconds()
        ),
        (_, Some(_)) => {
            // every replica of the last session, not only the one that stopped last
            for (i, s) in last_replicas(&schedulers).into_iter().enumerate() {
                outln!(
                    "{} (last on {}, pid {}, at {})",
                    if i == 0 {
                        "scheduler   STOPPED"
                    } else {
                        "                   "
                    },
                    s.host,
                    s.pid,
                    utc_time(s.heartbeat_at)
                );
            }
        }
        _ => outln!("scheduler   STOPPED (never started on this database)"),
    }
    outln!(
        "schedule    {:?} in {}",
        schedule.pattern(),
        schedule.timezone()
    );
    match (next_local, next) {
        (Some(l), Some(u)) => outln!("next fire   {} ({})", zoned_time(l), utc_time(u)),
        _ => outln!("next fire   none"),
    }
    match &last {
        Some(r) => outln!(
            "last run    {} for {}{}: {}",
            utc_time(r.started_at),
            r.scheduled_for.map(|t| t.to_rfc3339()).unwrap_or_default(),
            match r.attempt {
                Some(n) if n > 1 => format!(" (attempt {n}: taken over)"),
                _ => String::new(),
            },
            r.status.name()
        ),
        None => outln!("last run    none by the scheduler yet"),
    }
    Ok(ExitCode::SUCCESS)
}

fn next(
    global: &GlobalArgs,
    count: usize,
    after: Option<DateTime<chrono::FixedOffset>>,
) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let schedule = Schedule::from_config(&loaded.config.schedule)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let after = after
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    let times = schedule.upcoming(after, count);
    if times.is_empty() {
        // the configuration check refuses a schedule that never fires: this is the end of
        // the calendar that fire times are computed over
        return Err(Failure::Usage(format!(
            "no fire time after {}: fire times are computed up to the year {} (give an earlier --after)",
            after.to_rfc3339(),
            energy_scheduler::schedule::LAST_YEAR
        )));
    }
    for t in times {
        outln!("{}", t.to_rfc3339());
    }
    Ok(ExitCode::SUCCESS)
}
