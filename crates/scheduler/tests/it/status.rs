//! The dashboard's data: every configured series is listed, with data or without.

use std::{sync::Arc, time::Duration};

use chrono::{TimeZone, Utc};
use energy_core::Clock;
use energy_core::{CommodityCode, Freshness};
use energy_orchestrator::{
    Config, NoProgress, RunRequest, Secrets, status,
    testing::{Behaviour, setup_with_clock},
};
use energy_web::{Endpoints, Exposition, Liveness, metrics};
use tokio_util::sync::CancellationToken;

/// Issue 13, item 3: after `run --commodity WTI` on a fresh database, BRENT and NATGAS were
/// missing from `status` and `/metrics` had no age for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_series_with_no_data_is_listed_as_stale_with_no_data_yet() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let mut request = RunRequest::manual(energy_core::RunMode::Incremental);
    request.commodities = vec![CommodityCode::new("WTI").unwrap()];
    s.pipeline
        .run(request, CancellationToken::new(), Arc::new(NoProgress))
        .await
        .unwrap();

    let config = Config::default();
    let report = status::collect(&config, &Secrets::default(), s.pipeline.store(), now, 5).await;
    assert_eq!(report.freshness.len(), 9, "{:#?}", report.freshness);
    for series in &report.freshness {
        if series.commodity.as_str() == "WTI" {
            assert_eq!(series.state, Freshness::Fresh, "{series:?}");
            assert!(series.latest_date.is_some());
        } else {
            assert_eq!(series.state, Freshness::Stale, "{series:?}");
            assert_eq!(series.latest_date, None);
            assert_eq!(series.note.as_deref(), Some("no data yet"));
        }
    }

    let text = metrics(
        &Endpoints {
            store: s.pipeline.store().clone(),
            liveness: Some(Arc::new(Liveness::default())),
            clock,
            loop_timeout: Duration::from_secs(60),
            config: Arc::new(config),
            secrets: Arc::new(Secrets::default()),
        },
        Exposition::Text,
    )
    .await
    .unwrap();
    let ages: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("energy_pipeline_series_age_seconds{"))
        .collect();
    assert_eq!(ages.len(), 9, "{text}");
    assert!(
        ages.contains(
            &"energy_pipeline_series_age_seconds{commodity=\"BRENT\",source=\"fred\"} +Inf"
        ),
        "{ages:#?}"
    );
    // issue 15: the expected and latest dates and the state of every series
    let lines = |prefix: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .map(str::to_owned)
            .collect()
    };
    // Wednesday 2026-11-25 06:00 New York: EIA's release of the 18th (through Monday 16th) is
    // the latest due; Yahoo's Tuesday bar
    let day = |d: &str| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
    };
    let expected = lines("energy_pipeline_series_expected_date_timestamp_seconds{");
    assert_eq!(expected.len(), 9, "{text}");
    assert!(expected.contains(&format!(
        "energy_pipeline_series_expected_date_timestamp_seconds{{commodity=\"WTI\",source=\"eia\"}} {}",
        day("2026-11-16")
    )), "{expected:#?}");
    assert!(expected.contains(&format!(
        "energy_pipeline_series_expected_date_timestamp_seconds{{commodity=\"WTI\",source=\"yahoo\"}} {}",
        day("2026-11-24")
    )), "{expected:#?}");
    // only WTI has data
    assert_eq!(
        lines("energy_pipeline_series_latest_date_timestamp_seconds{").len(),
        3,
        "{text}"
    );
    let states = lines("energy_pipeline_series_state{");
    assert_eq!(states.len(), 27, "{text}");
    assert!(
        states.contains(
            &"energy_pipeline_series_state{commodity=\"WTI\",source=\"eia\",state=\"FRESH\"} 1"
                .to_owned()
        ),
        "{states:#?}"
    );
    assert!(
        states.contains(
            &"energy_pipeline_series_state{commodity=\"BRENT\",source=\"eia\",state=\"STALE\"} 1"
                .to_owned()
        ),
        "{states:#?}"
    );
    assert!(
        states.contains(
            &"energy_pipeline_series_state{commodity=\"BRENT\",source=\"eia\",state=\"FRESH\"} 0"
                .to_owned()
        ),
        "{states:#?}"
    );
    assert_eq!(
        lines("energy_pipeline_series_missing_trading_dates{commodity=\"WTI\",source=\"eia\"}"),
        ["energy_pipeline_series_missing_trading_dates{commodity=\"WTI\",source=\"eia\"} 0"]
    );
}
