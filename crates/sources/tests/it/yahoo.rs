//! Yahoo: dates in the exchange's time zone, null bars, price-hint rounding, the trading day
//! left out, an empty range, plain-text 429.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use energy_core::Secret;
use energy_sources::{BuiltSource, SourcesConfig, build_sources};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, query_param},
};

use crate::support::{build, fast_retry, fixture, request};

fn json(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.into_bytes(), "application/json")
}

#[tokio::test]
async fn bars_are_dated_in_the_exchange_zone_nulls_are_missing_and_noise_is_rounded() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v8/finance/chart/WSU.DE"))
        .and(query_param("interval", "1d"))
        .respond_with(json(fixture(
            "yahoo/chart-WSU.DE-equity-1d-null-bar-2023-08-07.json",
        )))
        .mount(&server)
        .await;
    let data = build("yahoo", &server, |_, _| {})
        .fetch(&request("WTI", "WSU.DE", "2023-08-04", "2023-08-09"))
        .await
        .unwrap();
    // 09:00 Europe/Berlin bars; 34.45000076293945 and 33.20000076293945 with priceHint 2
    let days: Vec<String> = data
        .observations
        .iter()
        .map(|o| format!("{} {}", o.date, o.value))
        .collect();
    assert_eq!(days, ["2023-08-04 34.45", "2023-08-08 33.2"]);
    assert_eq!(
        data.missing
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>(),
        ["2023-08-07"]
    );
}

#[tokio::test]
async fn trailing_null_bar_and_half_past_nine_stamps() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(fixture(
            "yahoo/chart-0P0000XTS7-mutualfund-1d-trailing-null-row.json",
        )))
        .mount(&server)
        .await;
    let data = build("yahoo", &server, |_, _| {})
        .fetch(&request("WTI", "0P0000XTS7", "2024-09-12", "2024-09-16"))
        .await
        .unwrap();
    let days: Vec<String> = data
        .observations
        .iter()
        .map(|o| format!("{} {}", o.date, o.value))
        .collect();
    assert_eq!(days, ["2024-09-12 11887.1"]); // 11887.099609375 with priceHint 2
    assert_eq!(
        data.missing
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>(),
        ["2024-09-13"]
    );
}

#[tokio::test]
async fn the_day_still_trading_waits_for_the_next_run() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(fixture(
            "yahoo/chart-GC=F-futures-1d-2020-01-02-success.json",
        )))
        .mount(&server)
        .await;
    let mut config = SourcesConfig::default();
    config.get_mut("yahoo").unwrap().base_url = server.uri().parse().unwrap();
    // it is 2020-01-02 15:00 in New York: the 2020-01-02 bar is not settled yet
    let clock = Arc::new(|| Utc.with_ymd_and_hms(2020, 1, 2, 20, 0, 0).unwrap());
    let yahoo = build_sources(&config, &fast_retry(), |_| None::<Secret>, clock)
        .into_iter()
        .find_map(|b| match b {
            BuiltSource::Ready(s) => Some(s),
            _ => None,
        })
        .unwrap();
    let data = yahoo
        .fetch(&request("WTI", "GC=F", "2020-01-01", "2020-01-03"))
        .await
        .unwrap();
    assert!(data.observations.is_empty(), "{data:?}");
}

#[tokio::test]
async fn empty_range_without_timestamps_is_no_data() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(fixture(
            "yahoo/chart-AAPL-1m-weekend-range-empty-no-timestamp.json",
        )))
        .mount(&server)
        .await;
    let data = build("yahoo", &server, |_, _| {})
        .fetch(&request("WTI", "CL=F", "2025-02-01", "2025-02-02"))
        .await
        .unwrap();
    assert!(data.observations.is_empty() && data.missing.is_empty() && data.invalid.is_empty());
}

#[tokio::test]
async fn period_bounds_cover_the_window_in_any_time_zone() {
    let server = MockServer::start().await;
    // 2020-01-01 00:00 UTC minus a day, and 2020-01-03 plus two days
    Mock::given(method("GET"))
        .and(path("/v8/finance/chart/CL=F"))
        .and(query_param("period1", "1577750400"))
        .and(query_param("period2", "1578182400"))
        .respond_with(json(fixture(
            "yahoo/chart-GC=F-futures-1d-2020-01-02-success.json",
        )))
        .expect(1)
        .mount(&server)
        .await;
    build("yahoo", &server, |_, _| {})
        .fetch(&request("WTI", "CL=F", "2020-01-01", "2020-01-03"))
        .await
        .unwrap();
    server.verify().await;
}

#[tokio::test]
async fn browser_user_agent_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(fixture(
            "yahoo/chart-GC=F-futures-1d-2020-01-02-success.json",
        )))
        .mount(&server)
        .await;
    build("yahoo", &server, |_, _| {})
        .fetch(&request("WTI", "GC=F", "2020-01-01", "2020-01-03"))
        .await
        .unwrap();
    let req = &server.received_requests().await.unwrap()[0];
    let ua = req.headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(ua.starts_with("Mozilla/5.0"), "{ua}");
}
