//! The run with injected fakes: sources that answer from memory (or fail, or hang), a notifier
//! that records, and a real SQLite store.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use chrono::{NaiveDate, TimeZone, Utc};
use energy_core::Clock;
use energy_core::{ErrorKind, RunMode, RunReport, RunStatus, SourceStatus};
use energy_orchestrator::{
    NoProgress, RunRequest,
    testing::{Behaviour, Setup, setup_configured, setup_with_clock},
};
use tokio_util::sync::CancellationToken;

/// A manual backfill of [`backfill`]'s window, run to the end.
async fn run_backfill(s: &Setup) -> RunReport {
    s.pipeline
        .run(
            RunRequest::manual(backfill()),
            CancellationToken::new(),
            Arc::new(NoProgress),
        )
        .await
        .unwrap()
}

async fn setup(behaviours: [Behaviour; 3], max_concurrent: u32, delay: Duration) -> Setup {
    let clock: Clock = Arc::new(|| Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 0).unwrap());
    setup_with_clock(behaviours, max_concurrent, delay, clock).await
}

fn backfill() -> RunMode {
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    RunMode::Backfill(energy_core::DateWindow::new(d("2026-11-02"), d("2026-11-13")).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_source_never_stops_the_others() {
    use Behaviour::*;
    let s = setup([Data, Refuse, Data], 3, Duration::ZERO).await;
    let report = run_backfill(&s).await;
    assert_eq!(report.status, RunStatus::Partial);
    let by = |n: &str| {
        report
            .sources
            .iter()
            .find(|r| r.source.as_str() == n)
            .unwrap()
    };
    assert_eq!(by("fred").status, SourceStatus::Failed);
    let error = by("fred").error.clone().unwrap();
    // the kind says what failed; the message has no provider name in front
    assert_eq!(error.kind, ErrorKind::Unauthorized, "{error:?}");
    assert!(error.message.contains("FRED_API_KEY"), "{error:?}");
    assert!(!error.message.contains("fred:"), "{error:?}");
    assert_eq!(by("fred").quality_score, 0.0);
    // 10 weekdays × 3 commodities from each of the two others
    assert_eq!(by("eia").counts.stored, 30);
    assert_eq!(by("yahoo").counts.stored, 30);
    assert_eq!(report.counts.stored, 60);
    // a notification that failed is in the report and changes nothing
    assert_eq!(*s.notifier.seen.lock().unwrap(), [RunStatus::Partial]);
    assert_eq!(report.notifications.len(), 1);
    assert!(!report.notifications[0].delivered);
    let recorded = s.pipeline.store().runs().recent(1).await.unwrap();
    assert_eq!(recorded[0].status, RunStatus::Partial);
    assert_eq!(recorded[0].report.as_ref().unwrap().notifications.len(), 1);
}

/// Issue 13, item 1: a batch whose task panicked was logged and left out, so the run read
/// `success` with the source listed as successful and no series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_batch_is_a_failed_batch_with_the_panic_in_its_error() {
    use Behaviour::*;
    let s = setup([Panic, Data, Data], 3, Duration::ZERO).await;
    let report = run_backfill(&s).await;
    assert_eq!(report.status, RunStatus::Partial);
    let eia = report
        .sources
        .iter()
        .find(|r| r.source.as_str() == "eia")
        .unwrap();
    assert_eq!(eia.status, SourceStatus::Failed);
    assert_eq!(eia.commodities.len(), 3, "{eia:?}");
    for c in &eia.commodities {
        assert_eq!(c.status, SourceStatus::Failed);
        let error = c.error.as_ref().unwrap();
        assert_eq!(error.kind, ErrorKind::Panicked);
        let error = &error.message;
        assert!(
            error.contains("panicked") && error.contains("cannot convert float seconds"),
            "{error}"
        );
    }
    // every source panicking: the run failed
    let s = setup([Panic, Panic, Panic], 3, Duration::ZERO).await;
    assert_eq!(run_backfill(&s).await.status, RunStatus::Failed);
}

/// Issue 14: a run that panicked outside its batches stayed `running` (then `interrupted`), and
/// its caller saw a usage error. It is recorded failed, with the panic in its error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_run_is_recorded_failed_with_the_panic_in_its_error() {
    use Behaviour::*;
    let s = setup([PanicInPlan, Data, Data], 3, Duration::ZERO).await;
    let err = s
        .pipeline
        .run(
            RunRequest::manual(backfill()),
            CancellationToken::new(),
            Arc::new(NoProgress),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            energy_orchestrator::RunError::Panicked { recorded: true, .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("a bug outside any batch"), "{err}");
    let recorded = s.pipeline.store().runs().recent(1).await.unwrap();
    assert_eq!(recorded[0].status, RunStatus::Failed);
    let error = recorded[0].report.as_ref().unwrap().error.clone().unwrap();
    assert!(error.contains("panicked"), "{error}");
}

/// Each provider's cap holds, and providers do not queue behind each other: with a cap of 2,
/// three providers have up to 6 fetches in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_provider_has_its_own_cap_on_concurrent_fetches() {
    use Behaviour::*;
    let s = setup([Data, Data, Data], 2, Duration::from_millis(30)).await;
    let report = run_backfill(&s).await;
    assert_eq!(report.status, RunStatus::Success);
    for each in &s.max_in_flight_each {
        assert_eq!(each.load(Ordering::SeqCst), 2);
    }
    assert!(s.max_in_flight.load(Ordering::SeqCst) > 2);
}

/// `sources.<name>.max_concurrent_requests` overrides the pipeline-wide default for one
/// provider; a provider that hangs holds only its own permits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_cap_overrides_the_default_and_a_hung_provider_blocks_no_one() {
    use Behaviour::*;
    let clock: Clock = Arc::new(|| Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 0).unwrap());
    let s = setup_configured(
        [Data, Hang, Data],
        3,
        Duration::from_millis(30),
        clock,
        |c| {
            c.sources.get_mut("yahoo").unwrap().max_concurrent_requests = Some(1);
        },
    )
    .await;
    let cancel = CancellationToken::new();
    let run = {
        let (pipeline, cancel) = (s.pipeline.clone(), cancel.clone());
        tokio::spawn(async move {
            pipeline
                .run(RunRequest::manual(backfill()), cancel, Arc::new(NoProgress))
                .await
        })
    };
    // eia and yahoo finish while fred hangs (a shared cap would let fred's batches starve
    // them); then the run is stopped
    let stored = async {
        while s
            .pipeline
            .store()
            .history()
            .count(&Default::default())
            .await
            .unwrap()
            < 60
        {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), stored)
        .await
        .expect("eia and yahoo were held up by the hung provider");
    cancel.cancel();
    let report = run.await.unwrap().unwrap();
    assert_eq!(report.counts.stored, 60);
    assert_eq!(s.max_in_flight_each[0].load(Ordering::SeqCst), 3);
    assert_eq!(s.max_in_flight_each[2].load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_keeps_what_it_stored_and_is_recorded_interrupted() {
    use Behaviour::*;
    // room for all nine batches, so that the hanging ones block nobody
    let s = setup([Data, Hang, Data], 9, Duration::ZERO).await;
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stopper.cancel();
    });
    let report = s
        .pipeline
        .run(RunRequest::manual(backfill()), cancel, Arc::new(NoProgress))
        .await
        .unwrap();
    assert_eq!(report.status, RunStatus::Interrupted);
    assert_eq!(report.counts.stored, 60, "what was written stays written");
    let recorded = s.pipeline.store().runs().recent(1).await.unwrap();
    assert_eq!(recorded[0].status, RunStatus::Interrupted);
    assert_eq!(recorded[0].counts.stored, 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_commodity_or_source_is_refused_before_anything_runs() {
    use Behaviour::*;
    let s = setup([Data, Data, Data], 3, Duration::ZERO).await;
    let mut request = RunRequest::manual(backfill());
    request.commodities = vec![energy_core::CommodityCode::new("COAL").unwrap()];
    let err = s
        .pipeline
        .run(request, CancellationToken::new(), Arc::new(NoProgress))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown commodity COAL"), "{err}");
    assert!(
        s.pipeline
            .store()
            .runs()
            .recent(5)
            .await
            .unwrap()
            .is_empty()
    );
}
