//! The scheduler daemon with an injectable clock, fake sources and a real SQLite store:
//! misfires, coalescing, no overlap, a clean stop, and SQLite's one-scheduler rule.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use energy_core::Clock;
use energy_orchestrator::testing::{Behaviour, setup_on, setup_with_clock};
use energy_scheduler::{Daemon, DaemonError, DaemonOptions, Schedule};
use energy_storage::{FireState, Store};
use tokio_util::sync::CancellationToken;

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
        .schedule()
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
            .schedule()
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
    let runs = store.runs().recent(10).await.unwrap();
    assert_eq!(runs.len(), 1, "exactly one run for all that came due");
    assert_eq!(runs[0].scheduled_for, Some(ny(10, 0)));
    assert_eq!(runs[0].trigger, energy_core::Trigger::Schedule);
    let fire = store.schedule().fires(None, 1).await.unwrap().remove(0);
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
        .schedule()
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
    assert!(store.runs().recent(10).await.unwrap().is_empty());
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
    let fires = store.schedule().fires(None, 100).await.unwrap();
    let count = |state| fires.iter().filter(|f| f.state == state).count();
    assert_eq!(count(FireState::Interrupted), 1, "{fires:?}");
    assert!(count(FireState::Skipped) >= 2, "{fires:?}");
    assert_eq!(count(FireState::Running), 0, "{fires:?}");
    let runs = store.runs().recent(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, energy_core::RunStatus::Interrupted);
    let me = store.schedule().instances().await.unwrap().remove(0);
    assert_eq!(me.state, energy_storage::InstanceState::Stopped);
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
    assert_eq!(store.schedule().request_stop().await.unwrap(), 1);
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("stopped within 5 s")
        .unwrap()
        .unwrap();
    assert_eq!(
        store.schedule().instances().await.unwrap()[0].state,
        energy_storage::InstanceState::Stopped
    );
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
    assert_eq!(store.schedule().fires(None, 10_000).await.unwrap().len(), 0);
    assert!(store.runs().recent(10).await.unwrap().is_empty());
}

/// A clock the test moves by hand.
#[derive(Clone)]
struct HandClock(Arc<std::sync::atomic::AtomicI64>);

impl HandClock {
    fn at(t: DateTime<Utc>) -> Self {
        Self(Arc::new(std::sync::atomic::AtomicI64::new(
            t.timestamp_millis(),
        )))
    }

    fn set(&self, t: DateTime<Utc>) {
        self.0
            .store(t.timestamp_millis(), std::sync::atomic::Ordering::SeqCst);
    }

    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0.load(std::sync::atomic::Ordering::SeqCst)).unwrap()
    }

    fn clock(&self) -> Clock {
        let this = self.clone();
        Arc::new(move || this.now())
    }
}

fn ny_hms(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(2026, 11, 25, h, m, s)
        .unwrap()
        .with_timezone(&Utc)
}

/// The heartbeat of a daemon whose clock a test moves by hand: the loop turns at each heartbeat,
/// so it sees the clock moved soon.
const TURN_SOON: Duration = Duration::from_millis(50);

/// Sets the clock to `t` and waits until the loop has finished a turn at `t` (it turned at
/// `t`, and then at `t` + 1 ms, which it can only see after the turn at `t` ended).
async fn turn_at(clock: &HandClock, daemon: &Daemon, t: DateTime<Utc>) {
    for at in [t, t + chrono::Duration::milliseconds(1)] {
        clock.set(at);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while daemon.liveness().loop_age(at) != Some(0.0) {
            assert!(
                std::time::Instant::now() < deadline,
                "the loop did not turn at {at}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn wait_for_fire(store: &Store, t: DateTime<Utc>, state: FireState) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let fires = store.schedule().fires(None, 100).await.unwrap();
        if fires
            .iter()
            .any(|f| f.scheduled_for == t && f.state == state)
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{t} never became {state:?}: {fires:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Issue 13, item 2: a fire time that came while the database refused connections was neither
/// run nor recorded, and a fire left `running` stayed so for good. After recovery a fire time
/// within the grace runs, one beyond it is recorded missed, and a stuck `running` fire is
/// resolved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fire_times_that_came_during_a_database_outage_run_or_are_recorded_after_it() {
    use energy_storage::testing::{Relay, TestSchema, postgres_url};
    let Some(base) = postgres_url() else {
        return;
    };
    let schema = TestSchema::create(&base, "outage").await;
    let (relay, via) = Relay::in_front_of(&schema.url).await;
    let clock = HandClock::at(ny_hms(9, 59, 50));
    let s = setup_on(via.as_str(), [Behaviour::Data; 3], clock.clock()).await;
    let store = s.pipeline.store().clone();
    let schedule = Schedule::new("0 * * * *", New_York).unwrap();
    // a fire time left running by a scheduler that is gone
    store
        .schedule()
        .claim_fire(
            &schedule.key(),
            ny(9, 0),
            FireState::Running,
            "ghost:1:gone",
            ny(9, 0),
            None,
        )
        .await
        .unwrap();
    let options = DaemonOptions {
        misfire_grace_seconds: 600,
        heartbeat_every: TURN_SOON,
        ..DaemonOptions::default()
    };
    let daemon = Arc::new(Daemon::new(
        s.pipeline.clone(),
        schedule,
        options,
        clock.clock(),
    ));
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let (daemon, stop) = (daemon.clone(), stop.clone());
        async move { daemon.run(stop).await }
    });
    turn_at(&clock, &daemon, ny_hms(9, 59, 51)).await;
    wait_for_fire(&store, ny(9, 0), FireState::Missed).await;

    // 10:00 comes while the database is away, and again while it is back within the grace
    relay.cut();
    relay.closed().await;
    turn_at(&clock, &daemon, ny_hms(10, 0, 5)).await;
    relay.restore();
    turn_at(&clock, &daemon, ny_hms(10, 0, 10)).await;
    wait_for_fire(&store, ny(10, 0), FireState::Done).await;
    let runs = store.runs().recent(10).await.unwrap();
    assert_eq!(runs[0].scheduled_for, Some(ny(10, 0)), "{runs:#?}");

    // 11:00 comes while the database is away, which is back only beyond the grace: the clock
    // passes the grace before the database returns (restored first, a turn still at 11:00:05
    // could rightly run it)
    relay.cut();
    relay.closed().await;
    turn_at(&clock, &daemon, ny_hms(11, 0, 5)).await;
    turn_at(&clock, &daemon, ny_hms(11, 20, 0)).await;
    relay.restore();
    turn_at(&clock, &daemon, ny_hms(11, 20, 1)).await;
    wait_for_fire(&store, ny(11, 0), FireState::Missed).await;

    stop.cancel();
    running.await.unwrap().unwrap();
    schema.drop().await;
}

/// Issue 14: the fire time of a run that panicked was recorded `done`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fire_time_of_a_panicking_run_is_recorded_failed() {
    use Behaviour::*;
    let now = ny(10, 20);
    let s = setup_with_clock([PanicInPlan, Data, Data], 3, Duration::ZERO, fixed(now)).await;
    let schedule = Schedule::new("0 * * * *", New_York).unwrap();
    let store = s.pipeline.store().clone();
    store
        .schedule()
        .claim_fire(
            &schedule.key(),
            ny(9, 0),
            FireState::Done,
            "earlier",
            ny(9, 0),
            None,
        )
        .await
        .unwrap();
    let options = DaemonOptions {
        misfire_grace_seconds: 3600,
        ..DaemonOptions::default()
    };
    let daemon = Arc::new(Daemon::new(
        s.pipeline.clone(),
        schedule,
        options,
        fixed(now),
    ));
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let (daemon, stop) = (daemon.clone(), stop.clone());
        async move { daemon.run(stop).await }
    });
    wait_for_fire(&store, ny(10, 0), FireState::Failed).await;
    stop.cancel();
    running.await.unwrap().unwrap();
    let fire = store.schedule().fires(None, 1).await.unwrap().remove(0);
    assert!(
        fire.note.as_deref().unwrap_or("").contains("panicked"),
        "{fire:?}"
    );
    assert!(fire.run.is_some());
}

/// Waits until the daemon has finished `n` freshness checks.
async fn wait_for_checks(daemon: &Daemon, n: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while daemon.freshness_checks() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{} freshness checks, not {n}",
            daemon.freshness_checks()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Issue 15: the scheduler checks freshness at start, at every full hour and after each
/// scheduled run; a series that went STALE is announced once, however many checks see it, and
/// its recovery once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_announces_a_stale_series_once_and_its_recovery_after_a_run() {
    use energy_core::{Freshness, RunMode};
    use energy_orchestrator::{NoProgress, RunRequest};
    let at = |d: u32, h: u32, m: u32| {
        let (month, day) = if d > 30 { (12, d - 30) } else { (11, d) };
        New_York
            .with_ymd_and_hms(2026, month, day, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    let clock = HandClock::at(at(16, 12, 0));
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clock()).await;
    // every series through Monday 16 November
    s.pipeline
        .run(
            RunRequest::manual(RunMode::Incremental),
            CancellationToken::new(),
            Arc::new(NoProgress),
        )
        .await
        .unwrap();
    // Tuesday 1 December 09:00: every series is STALE
    clock.set(at(31, 9, 0));
    let schedule = Schedule::new("30 10 * * *", New_York).unwrap();
    let daemon = Arc::new(Daemon::new(
        s.pipeline.clone(),
        schedule,
        DaemonOptions {
            heartbeat_every: TURN_SOON,
            ..DaemonOptions::default()
        },
        clock.clock(),
    ));
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let (daemon, stop) = (daemon.clone(), stop.clone());
        async move { daemon.run(stop).await }
    });
    let alerts = || s.notifier.freshness.lock().unwrap().clone();
    wait_for_checks(&daemon, 1).await; // at start
    assert_eq!(alerts().len(), 1);
    assert_eq!(alerts()[0].len(), 9, "{:#?}", alerts());
    assert!(alerts()[0].iter().all(|c| c.state == Freshness::Stale));
    // half past: no check due; ten o'clock: the hourly one, which has nothing new to say
    turn_at(&clock, &daemon, at(31, 9, 30)).await;
    assert_eq!(daemon.freshness_checks(), 1);
    turn_at(&clock, &daemon, at(31, 10, 0)).await;
    wait_for_checks(&daemon, 2).await;
    assert_eq!(alerts().len(), 1, "announced once");
    // 10:30: the scheduled run brings the data; the check after it announces the recoveries
    turn_at(&clock, &daemon, at(31, 10, 30)).await;
    wait_for_checks(&daemon, 3).await;
    assert_eq!(alerts().len(), 2, "{:#?}", alerts());
    assert_eq!(alerts()[1].len(), 9);
    assert!(
        alerts()[1].iter().all(|c| c.recovered()),
        "{:#?}",
        alerts()[1]
    );
    stop.cancel();
    task.await.unwrap().unwrap();
}

/// Issue 26: a fire time whose claimant died mid-run was recorded `interrupted` and never run.
/// Within the grace a live scheduler takes it over as attempt 2 and completes it, once; a
/// claimant that is alive keeps its fire time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fire_time_whose_claimant_died_is_taken_over_and_completed_once() {
    use energy_storage::testing::{TestSchema, postgres_url};
    // replicas share a PostgreSQL (on SQLite a second live scheduler is refused)
    let Some(base) = postgres_url() else {
        return;
    };
    let schema = TestSchema::create(&base, "takeover").await;
    let now = ny_hms(10, 0, 40);
    let s = setup_on(schema.url.as_str(), [Behaviour::Data; 3], fixed(now)).await;
    let schedule = Schedule::new("0 * * * *", New_York).unwrap();
    let store = s.pipeline.store().clone();
    // 09:00 is held by a claimant on another host that heartbeats; 10:00 by one that died (its
    // process is gone from this host)
    let dead_pid = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    for (id, host, pid) in [
        ("alive-elsewhere", "another-host", 1),
        (
            "dead-here",
            energy_orchestrator::run::host_name().as_str(),
            dead_pid,
        ),
    ] {
        store
            .schedule()
            .register(&energy_storage::SchedulerRecord {
                instance_id: id.into(),
                host: host.into(),
                pid,
                started_at: now,
                heartbeat_at: now,
                next_fire_at: None,
                state: energy_storage::InstanceState::Running,
                stop_requested: false,
            })
            .await
            .unwrap();
    }
    for (t, by) in [(ny(9, 0), "alive-elsewhere"), (ny(10, 0), "dead-here")] {
        store
            .schedule()
            .claim_fire(&schedule.key(), t, FireState::Running, by, t, None)
            .await
            .unwrap();
    }
    let options = DaemonOptions {
        misfire_grace_seconds: 7200,
        ..DaemonOptions::default()
    };
    let daemon = Arc::new(Daemon::new(
        s.pipeline.clone(),
        schedule,
        options,
        fixed(now),
    ));
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let (daemon, stop) = (daemon.clone(), stop.clone());
        async move { daemon.run(stop).await }
    });
    wait_for_fire(&store, ny(10, 0), FireState::Done).await;
    stop.cancel();
    running.await.unwrap().unwrap();
    let fires = store.schedule().fires(None, 10).await.unwrap();
    let ten = fires.iter().find(|f| f.scheduled_for == ny(10, 0)).unwrap();
    assert_eq!(ten.attempt, 2, "{ten:?}");
    assert_eq!(ten.claimed_by, daemon.instance_id(), "{ten:?}");
    let nine = fires.iter().find(|f| f.scheduled_for == ny(9, 0)).unwrap();
    assert_eq!(
        (nine.state, nine.attempt, nine.claimed_by.as_str()),
        (FireState::Running, 1, "alive-elsewhere"),
        "{nine:?}"
    );
    // one run, for 10:00
    let runs = store.runs().recent(10).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].scheduled_for, Some(ny(10, 0)));
    let attempts = store
        .schedule()
        .attempts(&daemon.schedule().key(), ny(10, 0))
        .await
        .unwrap();
    let states: Vec<_> = attempts
        .iter()
        .map(|a| (a.attempt, a.state, a.claimed_by.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            (1, FireState::Interrupted, "dead-here"),
            (2, FireState::Done, daemon.instance_id()),
        ]
    );
    assert!(
        attempts[0]
            .note
            .as_deref()
            .unwrap_or("")
            .contains("taken over"),
        "{attempts:#?}"
    );
    schema.drop().await;
}

/// Issue 26: a single scheduler on SQLite restarted after a crash runs the fire time its dead
/// predecessor claimed, as attempt 2, when it is still within the grace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_scheduler_restarted_after_a_crash_completes_its_fire_time() {
    let now = ny_hms(10, 5, 0);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, fixed(now)).await;
    let schedule = Schedule::new("0 * * * *", New_York).unwrap();
    let store = s.pipeline.store().clone();
    let dead_pid = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    store
        .schedule()
        .register(&energy_storage::SchedulerRecord {
            instance_id: "before-the-crash".into(),
            host: energy_orchestrator::run::host_name(),
            pid: dead_pid,
            started_at: ny(9, 0),
            heartbeat_at: ny_hms(10, 4, 58),
            next_fire_at: None,
            state: energy_storage::InstanceState::Running,
            stop_requested: false,
        })
        .await
        .unwrap();
    store
        .schedule()
        .claim_fire(
            &schedule.key(),
            ny(10, 0),
            FireState::Running,
            "before-the-crash",
            ny(10, 0),
            None,
        )
        .await
        .unwrap();
    let daemon = Arc::new(Daemon::new(
        s.pipeline.clone(),
        schedule,
        DaemonOptions::default(),
        fixed(now),
    ));
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let (daemon, stop) = (daemon.clone(), stop.clone());
        async move { daemon.run(stop).await }
    });
    wait_for_fire(&store, ny(10, 0), FireState::Done).await;
    stop.cancel();
    running.await.unwrap().unwrap();
    let fire = store.schedule().fires(None, 1).await.unwrap().remove(0);
    assert_eq!(
        (fire.attempt, fire.claimed_by.as_str()),
        (2, daemon.instance_id())
    );
    assert_eq!(store.runs().recent(10).await.unwrap().len(), 1);
}
