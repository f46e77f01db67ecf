//! The scheduler daemon with an injectable clock, fake sources and a real SQLite store:
//! misfires, coalescing, no overlap, a clean stop, and SQLite's one-scheduler rule.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use energy_orchestrator::{
    daemon::{Daemon, DaemonError, DaemonOptions},
    schedule::Schedule,
};
use energy_sources::Clock;
use energy_storage::{FireState, Store};
use tokio_util::sync::CancellationToken;

use crate::run::{Behaviour, setup_with_clock};

fn fixed(t: DateTime<Utc>) -> Clock {
    Arc::new(move || t)
}

fn ny(h: u32, m: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(2026, 11, 25, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn run_for(daemon: &Daemon, how_long: Duration) -> Result<(), DaemonError> {
    let stop = CancellationToken::new();
    let s = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(how_long).await;
        s.cancel();
    });
    daemon.run(stop).await
}

async fn ledger(store: &Store) -> Vec<(u32, FireState)> {
    use chrono::Timelike;
    let mut v: Vec<_> = store
        .fires(None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.scheduled_for.with_timezone(&New_York).hour(), f.state))
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fire_times_missed_beyond_the_grace_are_recorded_and_those_within_run_once() {
    use Behaviour::*;
    let now = ny(10, 20);
    let s = setup_with_clock([Data, Data, Data], 3, Duration::ZERO, fixed(now)).await;
    let schedule = Schedule::new("0 * * * *", New_York).unwrap();
    let store = s.pipeline.store().clone();
    // the last scheduler recorded 05:00, then the machine slept
    assert!(
        store
            .claim_fire(
                &schedule.key(),
                ny(5, 0),
                FireState::Done,
                "earlier",
                ny(5, 0),
                None
            )
            .await
            .unwrap()
    );
    let options = DaemonOptions {
        misfire_grace_seconds: 3 * 3600,
        stop_grace: Duration::from_secs(5),
        ..DaemonOptions::default()
    };
    let daemon = Daemon::new(s.pipeline.clone(), schedule, options, fixed(now));
    run_for(&daemon, Duration::from_millis(500)).await.unwrap();
    use FireState::*;
    assert_eq!(
        ledger(&store).await,
        [
            (5, Done),
            (6, Missed),
            (7, Missed),
            (8, Coalesced),
            (9, Coalesced),
            (10, Done)
        ]
    );
    let runs = store.recent_runs(10).await.unwrap();
    assert_eq!(runs.len(), 1, "exactly one run for all that came due");
    assert_eq!(runs[0].scheduled_for, Some(ny(10, 0)));
    assert_eq!(runs[0].trigger, energy_core::Trigger::Schedule);
    let fire = store.fires(None, 1).await.unwrap().remove(0);
    assert_eq!(fire.run, Some(runs[0].id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fire_times_all_beyond_the_grace_run_nothing() {
    use Behaviour::*;
    let now = ny(10, 20);
    let s = setup_with_clock([Data, Data, Data], 3, Duration::ZERO, fixed(now)).await;
    let schedule = Schedule::new("0 * * * *", New_York).unwrap();
    let store = s.pipeline.store().clone();
    store
        .claim_fire(
            &schedule.key(),
            ny(8, 0),
            FireState::Done,
            "earlier",
            ny(8, 0),
            None,
        )
        .await
        .unwrap();
    let options = DaemonOptions {
        misfire_grace_seconds: 60,
        ..DaemonOptions::default()
    };
    let daemon = Daemon::new(s.pipeline.clone(), schedule, options, fixed(now));
    run_for(&daemon, Duration::from_millis(300)).await.unwrap();
    use FireState::*;
    assert_eq!(ledger(&store).await, [(8, Done), (9, Missed), (10, Missed)]);
    assert!(store.recent_runs(10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fire_time_during_a_run_is_skipped_and_a_stop_interrupts_the_run() {
    use Behaviour::*;
    let clock: Clock = Arc::new(Utc::now);
    let s = setup_with_clock([Hang, Hang, Hang], 3, Duration::ZERO, clock.clone()).await;
    let schedule = Schedule::new("* * * * * *", New_York).unwrap(); // every second
    let store = s.pipeline.store().clone();
    let options = DaemonOptions {
        misfire_grace_seconds: 60,
        stop_grace: Duration::from_millis(300),
        ..DaemonOptions::default()
    };
    let daemon = Daemon::new(s.pipeline.clone(), schedule, options, clock);
    let started = std::time::Instant::now();
    run_for(&daemon, Duration::from_millis(3500)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(6));
    let fires = store.fires(None, 100).await.unwrap();
    let count = |state| fires.iter().filter(|f| f.state == state).count();
    assert_eq!(count(FireState::Interrupted), 1, "{fires:?}");
    assert!(count(FireState::Skipped) >= 2, "{fires:?}");
    assert_eq!(count(FireState::Running), 0, "{fires:?}");
    let runs = store.recent_runs(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, energy_core::RunStatus::Interrupted);
    let me = store.schedulers().await.unwrap().remove(0);
    assert_eq!(me.state, "stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_scheduler_on_sqlite_refuses_to_start() {
    use Behaviour::*;
    let clock: Clock = Arc::new(Utc::now);
    let s = setup_with_clock([Data, Data, Data], 3, Duration::ZERO, clock.clone()).await;
    let schedule = Schedule::new("0 6 * * *", New_York).unwrap();
    let first = Daemon::new(
        s.pipeline.clone(),
        schedule.clone(),
        DaemonOptions::default(),
        clock.clone(),
    );
    let stop = CancellationToken::new();
    let running = {
        let stop = stop.clone();
        tokio::spawn(async move { first.run(stop).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = Daemon::new(
        s.pipeline.clone(),
        schedule,
        DaemonOptions::default(),
        clock,
    );
    let err = second.run(CancellationToken::new()).await.unwrap_err();
    assert!(matches!(err, DaemonError::AlreadyRunning { .. }), "{err}");
    assert!(err.to_string().contains("schedule stop"), "{err}");
    stop.cancel();
    running.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_requested_through_the_database_ends_the_loop() {
    use Behaviour::*;
    let clock: Clock = Arc::new(Utc::now);
    let s = setup_with_clock([Data, Data, Data], 3, Duration::ZERO, clock.clone()).await;
    let store = s.pipeline.store().clone();
    let options = DaemonOptions {
        heartbeat_every: Duration::from_millis(100),
        ..DaemonOptions::default()
    };
    let daemon = Daemon::new(
        s.pipeline.clone(),
        Schedule::new("0 6 * * *", New_York).unwrap(),
        options,
        clock,
    );
    let running = tokio::spawn(async move { daemon.run(CancellationToken::new()).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.request_scheduler_stop().await.unwrap(), 1);
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("stopped within 5 s")
        .unwrap()
        .unwrap();
    assert_eq!(store.schedulers().await.unwrap()[0].state, "stopped");
}

/// Issue 13, item 9: a first start on a new database with `*/2 * * * * *` recorded 1,799
/// `coalesced` fire times for the hour before it ever ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_records_nothing_from_before_it_started() {
    use Behaviour::*;
    let now = ny(10, 20);
    let s = setup_with_clock([Data, Data, Data], 3, Duration::ZERO, fixed(now)).await;
    let schedule = Schedule::new("*/2 * * * * *", New_York).unwrap();
    let store = s.pipeline.store().clone();
    let options = DaemonOptions {
        misfire_grace_seconds: 3600,
        ..DaemonOptions::default()
    };
    let daemon = Daemon::new(s.pipeline.clone(), schedule, options, fixed(now));
    run_for(&daemon, Duration::from_millis(300)).await.unwrap();
    assert_eq!(store.fires(None, 10_000).await.unwrap().len(), 0);
    assert!(store.recent_runs(10).await.unwrap().is_empty());
}
