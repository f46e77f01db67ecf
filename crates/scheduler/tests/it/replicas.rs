//! Issue 26: `energy-scheduler` replicas as processes on one PostgreSQL. The replica running a
//! fire time is killed (SIGKILL) or paused (SIGSTOP) mid-run; the other takes the fire time over
//! and completes it once, and a paused claimant that wakes records `superseded` and notifies
//! nothing. Upstreams answer after 4 s, as in the reproduction.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use energy_scheduler::Schedule;
use energy_sources::replay::{Behaviour, Replay, ReplayServer};
use energy_storage::{
    DatabaseUrl, FireRecord, FireState, Store,
    testing::{TestSchema, postgres_url},
};

#[allow(dead_code)] // what only the chaos suite uses
#[path = "../../examples/chaos/replicas.rs"]
mod fleet;
#[allow(dead_code)]
#[path = "../../examples/chaos/sink.rs"]
mod sink;

use fleet::{Fleet, Replica};

/// Every 15 seconds: a run (one EIA request answered after 4 s) ends well before the next.
const CRON: &str = "*/15 * * * * *";

struct Setup {
    schema: TestSchema,
    store: Store,
    key: String,
    fleet: Fleet,
    sink: sink::Sink,
    _server: ReplayServer,
    _dir: tempfile::TempDir,
}

async fn setup(name: &str) -> Option<Setup> {
    let base = postgres_url()?;
    let schema = TestSchema::create(&base, name).await;
    let store = Store::open(&DatabaseUrl::parse(&schema.url).unwrap())
        .await
        .unwrap();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let replay = Replay::from_data_dir(&data).unwrap();
    replay.behave(
        "eia",
        Behaviour {
            delay: Duration::from_secs(4),
            ..Behaviour::default()
        },
    );
    let server = replay.serve().await.unwrap();
    let (sink, webhook) = sink::Sink::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = Fleet::new(
        std::path::PathBuf::from(env!("CARGO_BIN_EXE_energy-scheduler")),
        dir.path(),
        &schema.url,
        ["eia", "fred", "yahoo"].map(|p| server.base_url(p)),
        webhook,
    )
    .unwrap();
    for (k, v) in [
        ("PIPELINE_SOURCES__FRED__ENABLED", "false"),
        ("PIPELINE_SOURCES__YAHOO__ENABLED", "false"),
    ] {
        fleet.env.push((k.into(), v.into()));
    }
    let key = Schedule::new(CRON, chrono_tz::America::New_York)
        .unwrap()
        .key();
    Some(Setup {
        schema,
        store,
        key,
        fleet,
        sink,
        _server: server,
        _dir: dir,
    })
}

/// Polls the ledger for up to `within` until a fire time of `key` is as `wanted`; returns it.
async fn wait_for(
    s: &Setup,
    within: Duration,
    what: &str,
    wanted: impl Fn(&FireRecord) -> bool,
) -> FireRecord {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(fires) = s.store.schedule().fires(Some(&s.key), 100).await
            && let Some(fire) = fires.into_iter().find(&wanted)
        {
            return fire;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {within:?}; ledger: {:#?}",
            s.store.schedule().fires(Some(&s.key), 10).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The replica of `replicas` whose process claimed `fire`.
fn claimant<'a>(replicas: &'a mut [Replica], fire: &FireRecord) -> &'a mut Replica {
    let pid: u32 = fire.claimed_by.split(':').nth(1).unwrap().parse().unwrap();
    replicas
        .iter_mut()
        .find(|r| r.pid == pid)
        .unwrap_or_else(|| panic!("no replica has pid {pid}: {fire:?}"))
}

/// Starts two replicas and returns them with the first fire time one of them is running.
async fn two_replicas_and_a_running_fire(s: &Setup) -> (Vec<Replica>, FireRecord) {
    let replicas: Vec<Replica> = (0..2).map(|i| s.fleet.start(i, CRON).unwrap()).collect();
    let fire = wait_for(s, Duration::from_secs(60), "a fire time running", |f| {
        f.state == FireState::Running
    })
    .await;
    (replicas, fire)
}

/// The runs of fire time `t`, as (attempt, run uuid).
async fn runs_of(s: &Setup, t: DateTime<Utc>) -> Vec<(Option<u32>, String)> {
    let mut runs: Vec<_> = s
        .store
        .runs()
        .recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.scheduled_for == Some(t))
        .map(|r| (r.attempt, r.uuid))
        .collect();
    runs.sort();
    runs
}

/// Issue 26, the reproduction: the replica running a fire time is sent SIGKILL mid-run. The
/// fire time was marked `interrupted` and never run; it is taken over by the other replica as
/// attempt 2 and completed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fire_time_whose_replica_is_killed_mid_run_is_taken_over_and_completed_once() {
    let Some(s) = setup("replicas_kill").await else {
        return;
    };
    let (mut replicas, fire) = two_replicas_and_a_running_fire(&s).await;
    let t = fire.scheduled_for;
    // mid-run: the upstream answers after 4 s
    claimant(&mut replicas, &fire).kill();
    wait_for(&s, Duration::from_secs(60), "the fire time done", |f| {
        f.scheduled_for == t && f.state == FireState::Done
    })
    .await;
    for r in &mut replicas {
        let _ = r.stop(Duration::from_secs(20));
    }
    let attempts = s.store.schedule().attempts(&s.key, t).await.unwrap();
    let states: Vec<_> = attempts.iter().map(|a| (a.attempt, a.state)).collect();
    assert_eq!(
        states,
        [(1, FireState::Interrupted), (2, FireState::Done)],
        "{attempts:#?}"
    );
    assert_ne!(attempts[0].claimed_by, attempts[1].claimed_by);
    let runs = runs_of(&s, t).await;
    assert_eq!(
        runs.iter().filter(|(a, _)| *a == Some(2)).count(),
        1,
        "one run of attempt 2: {runs:?}"
    );
    assert!(
        runs.iter().all(|(a, _)| matches!(a, Some(1 | 2))),
        "{runs:?}"
    );
    s.schema.drop().await;
}

/// Issue 26: the claimant of a running fire time is paused (SIGSTOP) beyond the takeover bound;
/// the other replica completes it as attempt 2. Resumed, the paused one finishes its run,
/// records its attempt `superseded`, and sends no notification: the fire time is notified
/// once, by attempt 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_claimant_resumed_after_its_takeover_is_superseded_and_sends_nothing() {
    let Some(s) = setup("replicas_pause").await else {
        return;
    };
    let (mut replicas, fire) = two_replicas_and_a_running_fire(&s).await;
    let t = fire.scheduled_for;
    let paused_pid = {
        let paused = claimant(&mut replicas, &fire);
        paused.pause().unwrap();
        paused.pid
    };
    wait_for(&s, Duration::from_secs(90), "attempt 2 done", |f| {
        f.scheduled_for == t && f.state == FireState::Done && f.attempt == 2
    })
    .await;
    replicas
        .iter_mut()
        .find(|r| r.pid == paused_pid)
        .unwrap()
        .resume()
        .unwrap();
    // the resumed attempt ends and records what became of it
    let deadline = Instant::now() + Duration::from_secs(60);
    let attempts = loop {
        let attempts = s.store.schedule().attempts(&s.key, t).await.unwrap();
        if attempts[0].state == FireState::Superseded {
            break attempts;
        }
        assert!(
            Instant::now() < deadline,
            "attempt 1 not superseded: {attempts:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for r in &mut replicas {
        let _ = r.stop(Duration::from_secs(20));
    }
    let fire = wait_for(&s, Duration::ZERO, "the fire time", |f| {
        f.scheduled_for == t
    })
    .await;
    assert_eq!((fire.state, fire.attempt), (FireState::Done, 2), "{fire:?}");
    assert_eq!(attempts[1].state, FireState::Done, "{attempts:#?}");
    let runs = runs_of(&s, t).await;
    let of = |attempt: u32| {
        runs.iter()
            .filter(|(a, _)| *a == Some(attempt))
            .map(|(_, u)| u.clone())
            .collect::<Vec<_>>()
    };
    let (first, second) = (of(1), of(2));
    assert_eq!((first.len(), second.len()), (1, 1), "{runs:?}");
    let messages = s.sink.messages();
    let naming = |uuid: &str| messages.iter().filter(|m| m.contains(uuid)).count();
    assert_eq!(
        naming(&first[0]),
        0,
        "the superseded attempt notified: {messages:#?}"
    );
    assert_eq!(
        naming(&second[0]),
        1,
        "attempt 2 notifies once: {messages:#?}"
    );
    // both attempts wrote the same observations: one row per key, each as replayed
    let resumed = s.store.runs().by_uuid(&first[0]).await.unwrap().unwrap();
    assert!(
        resumed.counts.fetched > 0 && resumed.counts.unchanged == resumed.counts.fetched,
        "the resumed attempt fetched and found every row written already: {:?}",
        resumed.counts
    );
    let mut keys = Vec::new();
    s.store
        .history()
        .export(&energy_storage::ExportFilter::default(), |o| {
            keys.push((
                o.commodity.to_string(),
                o.source.to_string(),
                o.date,
                o.value,
            ));
            Ok::<(), std::convert::Infallible>(())
        })
        .await
        .unwrap()
        .unwrap();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let wti: std::collections::HashMap<_, _> = Replay::read_csv(&data.join("wti-daily.csv"))
        .unwrap()
        .into_iter()
        .collect();
    let stored_wti: Vec<_> = keys.iter().filter(|k| k.0 == "WTI").collect();
    assert!(!stored_wti.is_empty());
    for (_, _, date, value) in &stored_wti {
        let replayed = wti
            .get(date)
            .and_then(|v| v.parse::<energy_core::Price>().ok());
        assert_eq!(Some(*value), replayed, "WTI {date}");
    }
    let mut distinct: Vec<_> = keys.iter().map(|k| (&k.0, &k.1, k.2)).collect();
    distinct.dedup();
    assert_eq!(distinct.len(), keys.len(), "a key stored twice");
    s.schema.drop().await;
}
