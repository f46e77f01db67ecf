//! `/healthz` and `/metrics` as the scheduler serves them: its loop, and the database away.

#[allow(unused_imports)]
use super::*;

/// In the scheduler, /healthz also says whether its loop turns: 503 while it has not started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_in_the_scheduler_needs_its_loop() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let liveness = Arc::new(Liveness::default());
    let (base, stop) = serve(&s, clock, Some(liveness.clone())).await;
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("scheduler loop: not started")
    );
    liveness.loop_turned(now);
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("energy_pipeline_scheduler_up 1"), "{text}");
    stop.cancel();
}

/// Issue 30, item 9: with the database away `/metrics` still answers 200 with what needs no
/// database (the scheduler's liveness, `database_up 0`), so `scheduler_up` keeps its series;
/// runs in progress are a gauge, and `runs_total` counts finished runs only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_without_the_database_still_report_the_scheduler() {
    use energy_storage::testing::{Relay, TestSchema, postgres_url};
    let Some(base) = postgres_url() else { return };
    let schema = TestSchema::create(&base, "webmetrics").await;
    let (relay, via) = Relay::in_front_of(&schema.url).await;
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_on(via.as_str(), [Behaviour::Data; 3], clock.clone()).await;
    let mut request = RunRequest::manual(RunMode::Incremental);
    request.commodities = vec![CommodityCode::new("WTI").unwrap()];
    s.pipeline
        .run(request, CancellationToken::new(), Arc::new(NoProgress))
        .await
        .unwrap();
    s.pipeline
        .store()
        .runs()
        .start(&energy_storage::RunStart {
            uuid: "still-going".into(),
            trigger: energy_core::Trigger::Schedule,
            mode: energy_core::ModeKind::Incremental,
            scheduled_for: None,
            attempt: None,
            started_at: now,
            host: "test-host".into(),
            pid: 4242,
        })
        .await
        .unwrap();
    let liveness = Arc::new(Liveness::default());
    liveness.loop_turned(now);
    let (base_url, stop) = serve(&s, clock, Some(liveness)).await;
    let scrape = || async {
        let r = reqwest::get(format!("{base_url}/metrics")).await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let (status, text) = scrape().await;
    assert_eq!(status, 200, "{text}");
    for line in [
        "energy_pipeline_scheduler_up 1",
        "energy_pipeline_database_up 1",
        "energy_pipeline_runs_running 1",
        "energy_pipeline_runs_total{status=\"success\"} 1",
        "energy_pipeline_runs_total{status=\"failed\"} 0",
        "# TYPE energy_pipeline_runs_running gauge",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
    assert!(!text.contains("status=\"running\""), "{text}");

    relay.cut();
    relay.closed().await;
    let (status, text) = scrape().await;
    assert_eq!(status, 200, "{text}");
    for line in [
        "energy_pipeline_scheduler_up 1",
        "energy_pipeline_database_up 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
    // nothing read from the database is made up: no runs, no series
    assert!(!text.contains("energy_pipeline_runs"), "{text}");
    assert!(!text.contains("energy_pipeline_series_"), "{text}");
    stop.cancel();
    relay.restore();
    schema.drop().await;
}

/// Issue 26: a fire time taken over shows its attempt: the runs page says `schedule, attempt
/// 2`, and `/metrics` counts the takeover and gives the last scheduled run's attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_over_fire_time_shows_its_attempt_on_the_runs_page_and_in_metrics() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let ledger = s.pipeline.store().schedule();
    let (key, t) = ("0 11 * * * UTC", now - chrono::Duration::hours(5));
    assert!(
        ledger
            .claim_fire(key, t, energy_storage::FireState::Running, "gone", t, None)
            .await
            .unwrap()
    );
    let attempt = ledger
        .take_over(key, t, 1, "alive", now, "taken over")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attempt, 2);
    let mut request = RunRequest::manual(RunMode::Incremental);
    request.commodities = vec![CommodityCode::new("WTI").unwrap()];
    request.trigger = energy_core::Trigger::Schedule;
    request.scheduled_for = Some(t);
    request.fire = Some(energy_orchestrator::FireAttempt {
        schedule_key: key.into(),
        attempt,
    });
    s.pipeline
        .run_recorded(request, CancellationToken::new(), Arc::new(NoProgress))
        .await
        .unwrap();
    let (base, stop) = serve(&s, clock, None).await;
    let get = |path: &'static str| {
        let base = base.clone();
        async move {
            reqwest::get(format!("{base}{path}"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let runs = get("/runs").await;
    assert!(runs.contains("<td>schedule, attempt 2</td>"), "{runs}");
    let metrics = get("/metrics").await;
    for line in [
        "energy_pipeline_fire_times_taken_over_total 1",
        "energy_pipeline_last_scheduled_run_attempt 2",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing from\n{metrics}"
        );
    }
    stop.cancel();
}
