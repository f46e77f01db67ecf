//! FRED: "." is a missing day, the window and sort order are sent, XML errors are read.

use energy_sources::{SourceError, SourceErrorKind};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, query_param},
};

use crate::support::{KEY, build, fixture, request};

#[tokio::test]
async fn dot_is_a_missing_day_not_a_value_nor_a_rejection() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .and(query_param("series_id", "DHHNGSP"))
        .and(query_param("file_type", "json"))
        .and(query_param("observation_start", "2024-07-01"))
        .and(query_param("observation_end", "2024-07-10"))
        .and(query_param("api_key", KEY))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                fixture("fred/dhhngsp-observations-2024-07-01_2024-07-10-with-dot-missing.json")
                    .into_bytes(),
                "application/json",
            ),
        )
        .mount(&server)
        .await;
    let data = build("fred", &server, |_, _| {})
        .fetch(&request("NATGAS", "DHHNGSP", "2024-07-01", "2024-07-10"))
        .await
        .unwrap();
    let days: Vec<String> = data
        .observations
        .iter()
        .map(|o| format!("{} {}", o.date, o.value))
        .collect();
    assert_eq!(
        days,
        [
            "2024-07-01 2.21",
            "2024-07-02 2.06",
            "2024-07-03 2.02",
            "2024-07-05 2.02",
            "2024-07-08 2.1",
            "2024-07-09 2.42",
            "2024-07-10 2.4"
        ]
    );
    assert_eq!(
        data.missing
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>(),
        ["2024-07-04"]
    );
    assert!(data.invalid.is_empty());
}

#[tokio::test]
async fn descending_answer_with_two_holidays_comes_back_in_date_order() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            fixture("fred/dcoilwtico-observations-desc-limit60-with-dot-missing.json").into_bytes(),
            "application/json",
        ))
        .mount(&server)
        .await;
    let data = build("fred", &server, |_, _| {})
        // the recording asked for no window: its count (10408) is the whole history's
        .fetch(&request("WTI", "DCOILWTICO", "1986-01-02", "2025-11-27"))
        .await
        .unwrap();
    assert_eq!(
        data.missing
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>(),
        ["2025-11-11", "2025-10-13"]
    );
    assert!(data.observations.windows(2).all(|w| w[0].date < w[1].date));
    assert_eq!(
        data.observations.last().unwrap().date.to_string(),
        "2025-11-24"
    );
    assert_eq!(data.observations.len() + data.missing.len(), 60);
}

#[tokio::test]
async fn xml_error_body_is_read_and_its_message_kept() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            br#"<?xml version="1.0" encoding="utf-8" ?><error code="400" message="Bad Request.  Variable api_key has not been set."/>"#.to_vec(),
            "text/xml",
        ))
        .mount(&server)
        .await;
    let err = build("fred", &server, |_, _| {})
        .fetch(&request("WTI", "DCOILWTICO", "2025-01-01", "2025-12-31"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SourceError {
                kind: SourceErrorKind::Unauthorized { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("api_key has not been set")
            && err.to_string().contains("FRED_API_KEY"),
        "{err}"
    );
}

/// Issue 13, item 8: three answers of 1.2 M rows each peaked at 1.2 GB, as each was read into a
/// document tree first. Rows are now read straight into their type, and an answer with more
/// rows than one FRED page holds (100,000) is refused as soon as it passes that
/// (`cargo xtask bench run` measures the memory: "hostile upstream").
#[tokio::test]
async fn an_answer_with_more_rows_than_a_page_is_refused() {
    let mut body = String::from("{\"count\":100001,\"observations\":[");
    for i in 0..100_001 {
        if i > 0 {
            body.push(',');
        }
        body.push_str("{\"date\":\"2024-01-02\",\"value\":\"61.2\"}");
    }
    body.push_str("]}");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(body.into_bytes(), "application/json"),
        )
        .mount(&server)
        .await;
    let err = build("fred", &server, |_, _| {})
        .fetch(&request("WTI", "DCOILWTICO", "2024-01-02", "2024-01-05"))
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
    assert!(err.to_string().contains("more than 100000 rows"), "{err}");
}

/// Issue 30, item 1: `count` is checked before it is used. A count that no window of daily
/// observations can hold (more than its days), or that is no count, is a malformed answer; a
/// short page beside it is no excuse.
#[tokio::test]
async fn an_absurd_count_is_malformed() {
    let rows: Vec<serde_json::Value> = (3..=7)
        .map(|d| serde_json::json!({"date": format!("2026-08-{d:02}"), "value": "63.1"}))
        .collect();
    for count in [
        serde_json::json!(4000000000u64),
        serde_json::json!(18446744073709551615u64),
        serde_json::json!(-1),
        serde_json::json!("many"),
        serde_json::json!("5"),
        serde_json::json!(1.5),
        // more observations than the 31-day window has days
        serde_json::json!(32),
    ] {
        let body =
            serde_json::json!({"count": count, "offset": 0, "limit": 100000, "observations": rows});
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_raw(body.to_string().into_bytes(), "application/json"),
            )
            .mount(&server)
            .await;
        let err = build("fred", &server, |_, _| {})
            .fetch(&request("WTI", "DCOILWTICO", "2026-08-01", "2026-08-31"))
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
            "count {count}: {err:?}"
        );
        assert!(err.to_string().contains("count"), "count {count}: {err}");
        assert!(!err.to_string().contains(KEY), "{err}");
    }
}

/// Issue 30, item 5: observations dated outside the window asked for come back as `outside`
/// (quarantined by validation), not dropped.
#[tokio::test]
async fn observations_outside_the_window_are_set_aside_not_dropped() {
    let body = serde_json::json!({"count": 5, "offset": 0, "limit": 100000, "observations": [
        {"date": "1800-01-01", "value": "1.5"},
        {"date": "1990-01-02", "value": "21.1"},
        {"date": "2026-08-03", "value": "63.1"},
        {"date": "2026-11-26", "value": "64"},
        {"date": "2099-01-01", "value": "."},
    ]});
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(body.to_string().into_bytes(), "application/json"),
        )
        .mount(&server)
        .await;
    let data = build("fred", &server, |_, _| {})
        .fetch(&request("WTI", "DCOILWTICO", "2026-08-01", "2026-08-31"))
        .await
        .unwrap();
    assert_eq!(data.observations.len(), 1);
    assert!(data.missing.is_empty());
    assert_eq!(
        data.outside
            .iter()
            .map(|r| format!("{} {}", r.date, r.raw))
            .collect::<Vec<_>>(),
        [
            "1800-01-01 1.5",
            "1990-01-02 21.1",
            "2026-11-26 64",
            "2099-01-01 ."
        ]
    );
}
