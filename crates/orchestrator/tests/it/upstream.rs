//! Whole runs over the real providers' code against a local server that answers what a
//! misbehaving upstream might (issue 30): what is sent outside the window asked for, or dated
//! on a day no market trades, is quarantined with its rule and counted, never stored quietly.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use energy_core::Clock;
use energy_core::{
    CommodityCode, CommodityReport, DateWindow, ErrorKind, RunMode, Secret, SourceId, SourceStatus,
};
use energy_orchestrator::{Config, NoProgress, Pipeline, RunRequest, testing::RecordingNotifier};
use energy_sources::build_sources;
use energy_storage::{DatabaseUrl, Store};
use tokio_util::sync::CancellationToken;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

/// Runs a backfill of August 2026 of WTI from `source` alone, on a new SQLite store, with the
/// quality gate off (so that the batch's rows are judged one by one), against `server`.
/// Returns the batch's report and the quarantined rows as "date raw rule".
async fn run_august(source: &str, server: &MockServer) -> (CommodityReport, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&format!("sqlite://{}/p.db", dir.path().display())).unwrap();
    let store = Store::open(&url).await.unwrap();
    let mut config = Config::default();
    config.pipeline.quality_gate.min_quality_score = 0.0;
    config.retry.max_attempts = 1;
    config.sources.get_mut(source).unwrap().base_url = server.uri().parse().unwrap();
    let clock: Clock = Arc::new(|| Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap());
    let sources = build_sources(
        &config.sources,
        &config.retry,
        |_| Some(Secret::new("k3yk3yk3y")),
        clock.clone(),
    );
    let pipeline = Pipeline::new(
        Arc::new(config),
        store,
        sources,
        Arc::new(RecordingNotifier::default()),
        clock,
    );
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    let mut request = RunRequest::manual(RunMode::Backfill(
        DateWindow::new(d("2026-08-01"), d("2026-08-31")).unwrap(),
    ));
    request.sources = vec![SourceId::new(source).unwrap()];
    request.commodities = vec![CommodityCode::new("WTI").unwrap()];
    let report = pipeline
        .run(request, CancellationToken::new(), Arc::new(NoProgress))
        .await
        .unwrap();
    let batch = report.sources[0].commodities[0].clone();
    let quarantined = pipeline
        .store()
        .quarantine()
        .of_run(None)
        .await
        .unwrap()
        .into_iter()
        .map(|q| {
            format!(
                "{} {} {}",
                q.rejection.date, q.rejection.raw_value, q.rejection.rule
            )
        })
        .collect();
    (batch, quarantined)
}

fn json(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string().into_bytes(), "application/json")
}

/// An EIA answer of RWTC rows (period, value), or of another `series`.
fn eia_answer(series: &str, rows: &[(&str, &str)]) -> serde_json::Value {
    let data: Vec<_> = rows
        .iter()
        .map(|(period, value)| {
            serde_json::json!({"period": period, "series": series, "value": value, "units": "$/BBL"})
        })
        .collect();
    serde_json::json!({"response": {"total": rows.len().to_string(), "frequency": "daily", "data": data}})
}

/// Issue 30, item 5: rows dated 2099-01-01, tomorrow, 1800-01-01 and 1990-01-02 beside one
/// valid row of an August window were dropped with no count (`fetched=1`, quarantine empty).
#[tokio::test]
async fn rows_sent_outside_the_window_are_quarantined_and_counted_as_rejected() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(eia_answer(
            "RWTC",
            &[
                ("1800-01-01", "1.5"),
                ("1990-01-02", "21.1"),
                ("2026-08-03", "63.1"),
                ("2026-11-26", "64"),
                ("2099-01-01", "99"),
            ],
        )))
        .mount(&server)
        .await;
    let (batch, quarantined) = run_august("eia", &server).await;
    assert_eq!(batch.status, SourceStatus::Success, "{batch:?}");
    assert_eq!(batch.counts.fetched, 5, "{batch:?}");
    assert_eq!(batch.counts.stored, 1, "{batch:?}");
    assert_eq!(batch.counts.rejected, 4, "{batch:?}");
    let mut quarantined = quarantined;
    quarantined.sort();
    assert_eq!(
        quarantined,
        [
            "1800-01-01 1.5 outside_window",
            "1990-01-02 21.1 outside_window",
            "2026-11-26 64 future_date",
            "2099-01-01 99 future_date"
        ]
    );
}

/// Issue 30, item 5: an EIA answer holding only rows of a series not asked for was a success
/// with 0 rows.
#[tokio::test]
async fn an_answer_about_another_series_fails_the_batch() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(eia_answer("EVIL", &[("2026-08-03", "63.1")])))
        .mount(&server)
        .await;
    let (batch, quarantined) = run_august("eia", &server).await;
    assert_eq!(batch.status, SourceStatus::Failed, "{batch:?}");
    let error = batch.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Malformed, "{error:?}");
    assert!(error.message.contains("EVIL"), "{error:?}");
    assert!(quarantined.is_empty());
}

/// Issue 30, item 1: an EIA answer of a few rows with an absurd `total` took gigabytes (or
/// aborted the process); it fails its batch at the first page.
#[tokio::test]
async fn an_absurd_total_fails_the_batch_at_once() {
    let server = MockServer::start().await;
    let mut body = eia_answer("RWTC", &[("2026-08-03", "63.1")]);
    body["response"]["total"] = "18446744073709551615".into();
    Mock::given(method("GET"))
        .respond_with(json(body))
        .mount(&server)
        .await;
    let (batch, _) = run_august("eia", &server).await;
    assert_eq!(batch.status, SourceStatus::Failed, "{batch:?}");
    assert_eq!(batch.error.unwrap().kind, ErrorKind::Malformed);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// Issue 30, item 6: a Yahoo bar stamped 00:00 UTC (20:00 in New York the evening before) was
/// stored on Sunday 2026-08-09, no NYMEX day, without a word. A weekend date is quarantined.
#[tokio::test]
async fn a_bar_dated_on_a_sunday_is_quarantined_not_stored() {
    let ny = |d: u32| {
        chrono_tz::America::New_York
            .with_ymd_and_hms(2026, 8, d, 0, 0, 0)
            .unwrap()
            .timestamp()
    };
    let sunday_evening = Utc
        .with_ymd_and_hms(2026, 8, 10, 0, 0, 0)
        .unwrap()
        .timestamp();
    let body = serde_json::json!({"chart": {"result": [{
        "meta": {"currency": "USD", "symbol": "CL=F", "exchangeTimezoneName": "America/New_York",
                 "priceHint": 2},
        "timestamp": [ny(7), sunday_evening, ny(11)],
        "indicators": {"quote": [{"close": [63.1, 64.0, 64.5]}]}
    }], "error": null}});
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(body))
        .mount(&server)
        .await;
    let (batch, quarantined) = run_august("yahoo", &server).await;
    assert_eq!(batch.counts.stored, 2, "{batch:?}");
    assert_eq!(batch.counts.rejected, 1, "{batch:?}");
    assert_eq!(quarantined, ["2026-08-09 64 weekend_date"]);
}
