//! Yahoo: dates in the exchange's time zone, null bars, price-hint rounding, the trading day
//! left out, an empty range, plain-text 429.

use chrono::{TimeZone, Utc};
use energy_sources::{SeriesRequest, SourceError, SourceErrorKind};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, query_param},
};

use crate::support::{build, build_at_time, fixture, request};

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
        .fetch(&SeriesRequest {
            unit: "EUR/share".into(),
            ..request("WTI", "WSU.DE", "2023-08-04", "2023-08-09")
        })
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
    // it is 2020-01-02 15:00 in New York: the 2020-01-02 bar is not settled yet
    let now = Utc.with_ymd_and_hms(2020, 1, 2, 20, 0, 0).unwrap();
    let yahoo = build_at_time("yahoo", &server.uri(), now, |_, _| {});
    let data = yahoo
        .fetch(&request("WTI", "GC=F", "2020-01-01", "2020-01-03"))
        .await
        .unwrap();
    assert!(data.observations.is_empty(), "{data:?}");
}

/// Once the day's bar is due by the provider's publication rule (`daily after 18:00
/// America/New_York`), it has settled and is kept: else a run between 18:00 and midnight in New
/// York could never store the bar `status` expects, and the series would read LATE until the
/// next day.
#[tokio::test]
async fn the_day_settled_by_the_publication_time_is_kept() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(fixture(
            "yahoo/chart-GC=F-futures-1d-2020-01-02-success.json",
        )))
        .mount(&server)
        .await;
    // 2020-01-02 18:30 in New York
    let now = Utc.with_ymd_and_hms(2020, 1, 2, 23, 30, 0).unwrap();
    let yahoo = build_at_time("yahoo", &server.uri(), now, |_, _| {});
    let data = yahoo
        .fetch(&request("WTI", "GC=F", "2020-01-01", "2020-01-03"))
        .await
        .unwrap();
    let days: Vec<String> = data
        .observations
        .iter()
        .map(|o| o.date.to_string())
        .collect();
    assert_eq!(days, ["2020-01-02"], "{data:?}");
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
        .fetch(&request("WTI", "AAPL", "2025-02-01", "2025-02-02"))
        .await
        .unwrap();
    assert!(data.observations.is_empty() && data.missing.is_empty() && data.invalid.is_empty());
}

#[tokio::test]
async fn period_bounds_cover_the_window_in_any_time_zone() {
    let server = MockServer::start().await;
    // 2020-01-01 00:00 UTC minus a day, and 2020-01-03 plus two days
    Mock::given(method("GET"))
        .and(path("/v8/finance/chart/GC=F"))
        .and(query_param("period1", "1577750400"))
        .and(query_param("period2", "1578182400"))
        .respond_with(json(fixture(
            "yahoo/chart-GC=F-futures-1d-2020-01-02-success.json",
        )))
        .expect(1)
        .mount(&server)
        .await;
    build("yahoo", &server, |_, _| {})
        .fetch(&request("WTI", "GC=F", "2020-01-01", "2020-01-03"))
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

/// The GC=F fixture, changed by `edit`.
fn gold(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&fixture(
        "yahoo/chart-GC=F-futures-1d-2020-01-02-success.json",
    ))
    .unwrap();
    edit(&mut v["chart"]["result"][0]);
    v.to_string()
}

async fn fetch_gold(body: String) -> Result<energy_sources::SeriesData, SourceError> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(body))
        .mount(&server)
        .await;
    build("yahoo", &server, |_, _| {})
        .fetch(&request("WTI", "GC=F", "2020-01-01", "2020-01-03"))
        .await
}

/// Issue 13, item 6: a second bar for a date was dropped without a count, and an answer for
/// another symbol or in another currency was stored.
#[tokio::test]
async fn two_bars_for_a_date_another_symbol_or_another_currency_are_not_stored_quietly() {
    // two bars for 2020-01-02 (00:00 and 09:30 New York) with different closes: both go to
    // validation, which quarantines them as a conflicting duplicate, as for EIA and FRED
    let data = fetch_gold(gold(|r| {
        r["timestamp"] = serde_json::json!([1577941200, 1577975400]);
        r["indicators"]["quote"][0]["close"] = serde_json::json!([1524.5, 1530.25]);
    }))
    .await
    .unwrap();
    let days: Vec<String> = data
        .observations
        .iter()
        .map(|o| format!("{} {}", o.date, o.value))
        .collect();
    assert_eq!(days, ["2020-01-02 1524.5", "2020-01-02 1530.25"]);

    let err = fetch_gold(gold(|r| r["meta"]["symbol"] = "SI=F".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SourceError {
                kind: SourceErrorKind::Malformed { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("SI=F") && text.contains("GC=F"), "{text}");

    let err = fetch_gold(gold(|r| r["meta"]["currency"] = "GBp".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SourceError {
                kind: SourceErrorKind::Malformed { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("GBp") && text.contains("USD/bbl"), "{text}");
}

/// Issue 30, item 1: `meta.priceHint` says how many decimals to round to; a hint beyond what a
/// quote has (no instrument is quoted to more than 12 places), negative or no number is a
/// malformed answer, not a number of decimals to format with.
#[tokio::test]
async fn an_absurd_price_hint_is_malformed() {
    for hint in [
        serde_json::json!(4000000000u64),
        serde_json::json!(18446744073709551615u64),
        serde_json::json!(13),
        serde_json::json!(-1),
        serde_json::json!("two"),
        serde_json::json!(1.5),
    ] {
        let err = fetch_gold(gold(|r| r["meta"]["priceHint"] = hint.clone()))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                SourceError {
                    kind: SourceErrorKind::Malformed { .. },
                    ..
                }
            ),
            "priceHint {hint}: {err:?}"
        );
        assert!(
            err.to_string().contains("priceHint"),
            "priceHint {hint}: {err}"
        );
    }
    // the hints real quotes carry still work
    for hint in [2, 4, 8, 12] {
        let data = fetch_gold(gold(|r| r["meta"]["priceHint"] = hint.into()))
            .await
            .unwrap();
        assert_eq!(
            data.observations[0].value.to_string(),
            "1524.5",
            "priceHint {hint}"
        );
    }
}

/// Issue 30, item 5: bars beyond the padded range asked for, or after today, come back as
/// `outside` (quarantined by validation). Bars in the padding around the window, and the bar of
/// the day still trading, are expected and left out quietly.
#[tokio::test]
async fn bars_outside_the_range_asked_for_are_set_aside_but_the_padding_is_not() {
    let ny = |y, m, d| {
        chrono_tz::America::New_York
            .with_ymd_and_hms(y, m, d, 0, 0, 0)
            .unwrap()
            .timestamp()
    };
    let stamps = [
        ny(1990, 1, 2),
        ny(2026, 7, 31),  // the padding before the window
        ny(2026, 8, 3),   // the window's one bar
        ny(2026, 11, 25), // today, still trading
        ny(2026, 11, 26), // tomorrow
        ny(2099, 1, 1),
    ];
    let body = gold(|r| {
        r["timestamp"] = serde_json::json!(stamps);
        r["indicators"]["quote"][0]["close"] = serde_json::json!([21.1, 62.5, 63.1, 64, 65, 99]);
    });
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(body))
        .mount(&server)
        .await;
    let data = build("yahoo", &server, |_, _| {})
        .fetch(&request("WTI", "GC=F", "2026-08-01", "2026-08-31"))
        .await
        .unwrap();
    assert_eq!(
        data.observations
            .iter()
            .map(|o| format!("{} {}", o.date, o.value))
            .collect::<Vec<_>>(),
        ["2026-08-03 63.1"]
    );
    assert_eq!(
        data.outside
            .iter()
            .map(|r| format!("{} {}", r.date, r.raw))
            .collect::<Vec<_>>(),
        ["1990-01-02 21.1", "2026-11-26 65", "2099-01-01 99"]
    );
}
