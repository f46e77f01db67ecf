//! The ledgers: runs, fire times, scheduler instances and freshness alerts.

#[allow(unused_imports)]
use super::*;

pub(crate) async fn run_ledger_records_start_finish_and_interruption(db: &TestDb) {
    let a = db.store.runs().start(&start("run-a")).await.unwrap();
    let mut scheduled = start("run-b");
    scheduled.trigger = Trigger::Schedule;
    scheduled.scheduled_for = Some(Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 0).unwrap());
    let b = db.store.runs().start(&scheduled).await.unwrap();
    assert_eq!(db.store.runs().running().await.unwrap().len(), 2);

    let report = RunReport {
        cross_source: Vec::new(),
        cross_source_warnings: 0,
        run_id: "run-a".into(),
        trigger: Trigger::Manual,
        scheduled_for: None,
        attempt: None,
        mode: ModeKind::Incremental,
        status: RunStatus::Partial,
        started_at: start("run-a").started_at,
        finished_at: Some(Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 2).unwrap()),
        duration_seconds: 2.0,
        window: None,
        sources: vec![],
        counts: Counts {
            fetched: 10,
            stored: 7,
            unchanged: 2,
            rejected: 1,
        },
        notifications: vec![],
        error: None,
    };
    db.store.runs().finish(a, &report).await.unwrap();
    // one run by its id (a single-row read), and none for an id never given
    let one = db.store.runs().get(a).await.unwrap().unwrap();
    assert_eq!(
        (one.uuid.as_str(), one.status),
        ("run-a", RunStatus::Partial)
    );
    assert_eq!(db.store.runs().get(b).await.unwrap().unwrap().uuid, "run-b");
    assert!(
        db.store
            .runs()
            .get(energy_storage::RunId(i64::MAX))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .runs()
            .mark_interrupted(b, Utc::now())
            .await
            .unwrap()
    );
    assert!(
        !db.store
            .runs()
            .mark_interrupted(b, Utc::now())
            .await
            .unwrap(),
        "only a running run is interrupted"
    );
    assert!(db.store.runs().running().await.unwrap().is_empty());

    let history = db.store.runs().recent(10).await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.uuid.as_str()).collect::<Vec<_>>(),
        ["run-b", "run-a"]
    );
    assert_eq!(history[0].status, RunStatus::Interrupted);
    assert_eq!(history[0].trigger, Trigger::Schedule);
    assert_eq!(history[0].scheduled_for, scheduled.scheduled_for);
    assert_eq!(history[1].status, RunStatus::Partial);
    assert_eq!(history[1].counts.stored, 7);
    assert_eq!(history[1].report.as_ref(), Some(&report));
    assert_eq!(
        (history[1].host.as_str(), history[1].pid),
        ("test-host", 4242)
    );
    assert_eq!(db.store.runs().recent(1).await.unwrap().len(), 1);
}

/// Issue 26: a claim whose claimant died is taken over as the next attempt, once however many
/// try at the same time; the late claimant's outcome is its own, superseded, and leaves the
/// live attempt's alone.
pub(crate) async fn a_fire_time_taken_over_fences_its_late_claimant(db: &TestDb) {
    use energy_storage::{Fenced, FireState};
    let s = &db.store;
    let key = "0 6 * * * America/New_York";
    let t: chrono::DateTime<chrono::Utc> = "2026-11-25T11:00:00Z".parse().unwrap();
    let later = |secs| t + chrono::Duration::seconds(secs);
    assert!(
        s.schedule()
            .claim_fire(key, t, FireState::Running, "a", later(1), None)
            .await
            .unwrap()
    );
    // two schedulers take it over at once: one becomes attempt 2
    let (b, c) = tokio::join!(
        s.schedule()
            .take_over(key, t, 1, "b", later(20), "a is gone"),
        s.schedule()
            .take_over(key, t, 1, "c", later(20), "a is gone"),
    );
    let (b, c) = (b.unwrap(), c.unwrap());
    assert_eq!(
        [b, c].iter().filter(|x| **x == Some(2)).count(),
        1,
        "{b:?} {c:?}"
    );
    let holder = if b.is_some() { "b" } else { "c" };
    // a third that saw attempt 1 is too late
    assert_eq!(
        s.schedule()
            .take_over(key, t, 1, "d", later(21), "a is gone")
            .await
            .unwrap(),
        None
    );
    // the first claimant wakes and finishes: superseded, the fire time untouched
    let late = s
        .schedule()
        .finish_fire(
            key,
            t,
            1,
            FireState::Done,
            None,
            Some("run x success"),
            later(30),
        )
        .await
        .unwrap();
    assert_eq!(
        late,
        Fenced::Superseded {
            live_attempt: 2,
            held_by: holder.into()
        }
    );
    let fire = s.schedule().fires(Some(key), 1).await.unwrap().remove(0);
    assert_eq!(
        (
            fire.state,
            fire.attempt,
            fire.claimed_by.as_str(),
            fire.note
        ),
        (FireState::Running, 2, holder, None)
    );
    let live = s
        .schedule()
        .finish_fire(
            key,
            t,
            2,
            FireState::Done,
            None,
            Some("run y success"),
            later(40),
        )
        .await
        .unwrap();
    assert_eq!(live, Fenced::Recorded);
    let fire = s.schedule().fires(Some(key), 1).await.unwrap().remove(0);
    assert_eq!(
        (fire.state, fire.attempt, fire.note.as_deref()),
        (FireState::Done, 2, Some("run y success"))
    );
    // every attempt is kept, the late one as superseded
    let attempts: Vec<_> = s
        .schedule()
        .attempts(key, t)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.attempt, a.claimed_by, a.state, a.note))
        .collect();
    assert_eq!(
        attempts,
        [
            (
                1,
                "a".to_owned(),
                FireState::Superseded,
                Some("run x success".to_owned())
            ),
            (
                2,
                holder.to_owned(),
                FireState::Done,
                Some("run y success".to_owned())
            ),
        ]
    );
    // a taken-over fire time that is finished is not taken over again
    assert_eq!(
        s.schedule()
            .take_over(key, t, 2, "e", later(50), "gone")
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn fire_ledger_claims_each_fire_time_once(db: &TestDb) {
    use energy_storage::FireState;
    let s = &db.store;
    let t: chrono::DateTime<chrono::Utc> = "2026-11-25T11:00:00Z".parse().unwrap();
    let now = t + chrono::Duration::seconds(1);
    // two claimers at once: exactly one wins
    let (a, b) = tokio::join!(
        s.schedule().claim_fire(
            "0 6 * * * America/New_York",
            t,
            FireState::Running,
            "a",
            now,
            None
        ),
        s.schedule().claim_fire(
            "0 6 * * * America/New_York",
            t,
            FireState::Running,
            "b",
            now,
            None
        )
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one claim wins");
    // another schedule key is another ledger
    assert!(
        s.schedule()
            .claim_fire(
                "0 7 * * * America/New_York",
                t,
                FireState::Missed,
                "a",
                now,
                Some("late")
            )
            .await
            .unwrap()
    );
    s.schedule()
        .finish_fire(
            "0 6 * * * America/New_York",
            t,
            1,
            FireState::Done,
            None,
            Some("run x success"),
            now,
        )
        .await
        .unwrap();
    let fires = s
        .schedule()
        .fires(Some("0 6 * * * America/New_York"), 10)
        .await
        .unwrap();
    assert_eq!(fires.len(), 1);
    assert_eq!(fires[0].state, FireState::Done);
    assert_eq!(fires[0].scheduled_for, t);
    assert_eq!(fires[0].note.as_deref(), Some("run x success"));
    assert_eq!(
        s.schedule()
            .latest_fire("0 7 * * * America/New_York")
            .await
            .unwrap(),
        Some(t)
    );
    assert_eq!(s.schedule().fires(None, 10).await.unwrap().len(), 2);
}

pub(crate) async fn scheduler_instances_heartbeat_and_take_stop_requests(db: &TestDb) {
    use energy_storage::{FireState, Heartbeat, SchedulerRecord};
    let s = &db.store;
    let now: chrono::DateTime<chrono::Utc> = "2026-11-25T11:00:00Z".parse().unwrap();
    s.schedule()
        .register(&SchedulerRecord {
            instance_id: "host:1:x".into(),
            host: "host".into(),
            pid: 1,
            started_at: now,
            heartbeat_at: now,
            next_fire_at: None,
            state: energy_storage::InstanceState::Running,
            stop_requested: false,
        })
        .await
        .unwrap();
    let later = now + chrono::Duration::seconds(5);
    let key = "0 7 * * * America/New_York";
    let beat = |next| s.schedule().heartbeat("host:1:x", key, later, next);
    assert_eq!(beat(Some(later)).await.unwrap(), Heartbeat::default());
    // a fire time running under this scheduler is not another's; under another one it is,
    // until it finishes; another schedule's is not this one's
    let at = |m| now + chrono::Duration::minutes(m);
    let ledger = s.schedule();
    assert!(
        ledger
            .claim_fire(key, at(1), FireState::Running, "host:1:x", now, None)
            .await
            .unwrap()
    );
    assert!(!beat(None).await.unwrap().others_running);
    assert!(
        ledger
            .claim_fire(key, at(2), FireState::Running, "host:2:y", now, None)
            .await
            .unwrap()
    );
    let other = "0 8 * * * America/New_York";
    assert!(
        ledger
            .claim_fire(other, at(3), FireState::Running, "host:2:y", now, None)
            .await
            .unwrap()
    );
    assert!(beat(None).await.unwrap().others_running);
    ledger
        .finish_fire(key, at(2), 1, FireState::Done, None, None, now)
        .await
        .unwrap();
    assert!(!beat(None).await.unwrap().others_running);
    assert_eq!(s.schedule().request_stop().await.unwrap(), 1);
    assert_eq!(
        beat(None).await.unwrap(),
        Heartbeat {
            stop_requested: true,
            others_running: false
        }
    );
    s.schedule().stopped("host:1:x", later).await.unwrap();
    let all = s.schedule().instances().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].state, energy_storage::InstanceState::Stopped);
    assert_eq!(all[0].heartbeat_at, later);
    assert_eq!(
        s.schedule().request_stop().await.unwrap(),
        0,
        "nobody left to ask"
    );
}

/// Issue 15: a freshness change is announced by one claimer; claiming it again (or from a state
/// the series is no longer in) fails; the ledger reads back what was last announced.
pub(crate) async fn freshness_alert_changes_are_claimed_once(db: &TestDb) {
    use energy_storage::Alerted;
    let s = &db.store;
    let t: chrono::DateTime<chrono::Utc> = "2026-11-25T16:00:00Z".parse().unwrap();
    let (wti, eia) = (code("WTI"), src("eia"));
    assert!(s.alerts().last().await.unwrap().is_empty());
    let (a, b) = tokio::join!(
        s.alerts().claim(&wti, &eia, Alerted::Ok, Alerted::Stale, t),
        s.alerts().claim(&wti, &eia, Alerted::Ok, Alerted::Stale, t)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one claim wins");
    assert!(
        !s.alerts()
            .claim(&wti, &eia, Alerted::Ok, Alerted::Stale, t)
            .await
            .unwrap()
    );
    let alerted = s.alerts().last().await.unwrap();
    assert_eq!(
        alerted.get(&(wti.clone(), eia.clone())),
        Some(&Alerted::Stale)
    );
    // recovery, once
    assert!(
        s.alerts()
            .claim(&wti, &eia, Alerted::Stale, Alerted::Ok, t)
            .await
            .unwrap()
    );
    assert!(
        !s.alerts()
            .claim(&wti, &eia, Alerted::Stale, Alerted::Ok, t)
            .await
            .unwrap()
    );
    assert_eq!(
        s.alerts().last().await.unwrap().get(&(wti, eia)),
        Some(&Alerted::Ok)
    );
}

/// Issue 26: a fire time's notification is claimed once whatever its attempts: the attempt
/// holding it gets it, a superseded attempt and a later attempt after a notified one do not;
/// a scheduled run's record says which attempt it is.
pub(crate) async fn a_fire_time_is_notified_once_whatever_its_attempts(db: &TestDb) {
    use energy_storage::{FireState, NotifyClaim};
    let s = &db.store;
    let key = "0 6 * * * America/New_York";
    let t: chrono::DateTime<chrono::Utc> = "2026-11-25T11:00:00Z".parse().unwrap();
    let later = |secs| t + chrono::Duration::seconds(secs);
    let claim = |attempt, secs| {
        s.schedule()
            .claim_notification(key, t, attempt, later(secs))
    };
    assert_eq!(claim(1, 0).await.unwrap(), NotifyClaim::Unclaimed);
    assert!(
        s.schedule()
            .claim_fire(key, t, FireState::Running, "a", later(1), None)
            .await
            .unwrap()
    );
    assert_eq!(
        s.schedule()
            .take_over(key, t, 1, "b", later(20), "a is gone")
            .await
            .unwrap(),
        Some(2)
    );
    // attempt 1 wakes after the takeover: it sends nothing
    assert_eq!(
        claim(1, 25).await.unwrap(),
        NotifyClaim::Superseded { live_attempt: 2 }
    );
    // two claims by the live attempt at once (a retry racing the first): one sends
    let (x, y) = tokio::join!(claim(2, 30), claim(2, 30));
    let sent = [x.unwrap(), y.unwrap()];
    assert_eq!(
        sent.iter().filter(|c| **c == NotifyClaim::Send).count(),
        1,
        "{sent:?}"
    );
    assert!(
        sent.contains(&NotifyClaim::AlreadySent { by: 2 }),
        "{sent:?}"
    );
    // attempt 2 dies after notifying; attempt 3 runs it and sends nothing again
    assert_eq!(
        s.schedule()
            .take_over(key, t, 2, "c", later(60), "b is gone")
            .await
            .unwrap(),
        Some(3)
    );
    assert_eq!(
        claim(3, 70).await.unwrap(),
        NotifyClaim::AlreadySent { by: 2 }
    );

    let mut start = super::start("attempt-3");
    start.trigger = energy_core::Trigger::Schedule;
    start.scheduled_for = Some(t);
    start.attempt = Some(3);
    let run = s.runs().start(&start).await.unwrap();
    let record = s.runs().get(run).await.unwrap().unwrap();
    assert_eq!((record.scheduled_for, record.attempt), (Some(t), Some(3)));
    let manual = s.runs().start(&super::start("manual")).await.unwrap();
    assert_eq!(s.runs().get(manual).await.unwrap().unwrap().attempt, None);
}
