//! EIA v2: pagination, unknown facets, empty windows, values as strings, non-daily answers.

use energy_sources::{SourceError, SourceErrorKind};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, query_param},
};

use crate::support::{KEY, build, eia_page, fixture, request, wti_rows};

fn json(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.into_bytes(), "application/json")
}

#[tokio::test]
async fn full_history_is_paginated_over_three_pages() {
    let rows = wti_rows();
    assert!(
        rows.len() > 10_000,
        "the WTI history spans three pages of 5000"
    );
    let server = MockServer::start().await;
    for (i, chunk) in rows.chunks(5000).enumerate() {
        Mock::given(method("GET"))
            .and(path("/v2/petroleum/pri/spt/data/"))
            .and(query_param("offset", (i * 5000).to_string()))
            .and(query_param("length", "5000"))
            .and(query_param("frequency", "daily"))
            .and(query_param("data[0]", "value"))
            .and(query_param("facets[series][]", "RWTC"))
            .and(query_param("sort[0][column]", "period"))
            .and(query_param("sort[0][direction]", "asc"))
            .and(query_param("api_key", KEY))
            .respond_with(json(eia_page(chunk, rows.len())))
            .expect(1)
            .mount(&server)
            .await;
    }
    let eia = build("eia", &server, |_, _| {});
    let data = eia
        .fetch(&request(
            "WTI",
            "petroleum/pri/spt:RWTC",
            "1986-01-01",
            "2026-11-24",
        ))
        .await
        .unwrap();
    assert_eq!(data.requests, 3);
    assert_eq!(data.observations.len(), rows.len());
    assert_eq!(
        data.observations.first().unwrap().date.to_string(),
        "1986-01-02"
    );
    assert_eq!(
        data.observations.last().unwrap().date.to_string(),
        "2026-08-18"
    );
    let neg = data
        .observations
        .iter()
        .find(|o| o.date.to_string() == "2020-04-20")
        .unwrap();
    assert_eq!(neg.value.to_string(), "-36.98");
    assert!(data.observations.windows(2).all(|w| w[0].date < w[1].date));
    server.verify().await;
}

#[tokio::test]
async fn window_is_sent_and_rows_outside_it_are_dropped() {
    let server = MockServer::start().await;
    let rows = vec![
        ("2026-01-02".to_owned(), "61.2".to_owned()),
        ("2026-01-05".to_owned(), "60.1".to_owned()),
    ];
    Mock::given(method("GET"))
        .and(query_param("start", "2026-01-05"))
        .and(query_param("end", "2026-01-09"))
        .respond_with(json(eia_page(&rows, 2)))
        .mount(&server)
        .await;
    let data = build("eia", &server, |_, _| {})
        .fetch(&request(
            "WTI",
            "petroleum/pri/spt:RWTC",
            "2026-01-05",
            "2026-01-09",
        ))
        .await
        .unwrap();
    assert_eq!(data.observations.len(), 1);
    assert_eq!(data.observations[0].date.to_string(), "2026-01-05");
    // the row before the window is not stored, but set aside for quarantine (issue 30)
    assert_eq!(data.outside.len(), 1);
    assert_eq!(data.outside[0].date.to_string(), "2026-01-02");
}

#[tokio::test]
async fn unknown_facet_answered_with_zero_rows_is_an_unknown_series() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(eia_page(&[], 0)))
        .expect(2)
        .mount(&server)
        .await;
    let err = build("eia", &server, |_, _| {})
        .fetch(&request(
            "WTI",
            "petroleum/pri/spt:RWTCX",
            "2026-01-05",
            "2026-01-09",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SourceError {
                kind: SourceErrorKind::UnknownSeries { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("sources.eia.series"), "{err}");
}

#[tokio::test]
async fn empty_window_of_a_known_series_is_no_data_not_an_error() {
    let server = MockServer::start().await;
    // the window (a weekend) has no rows …
    Mock::given(method("GET"))
        .and(query_param("start", "2026-01-03"))
        .respond_with(json(eia_page(&[], 0)))
        .mount(&server)
        .await;
    // … but the series exists
    let one = vec![("1986-01-02".to_owned(), "25.56".to_owned())];
    Mock::given(method("GET"))
        .and(query_param("length", "1"))
        .respond_with(json(eia_page(&one, 10226)))
        .mount(&server)
        .await;
    let data = build("eia", &server, |_, _| {})
        .fetch(&request(
            "WTI",
            "petroleum/pri/spt:RWTC",
            "2026-01-03",
            "2026-01-04",
        ))
        .await
        .unwrap();
    assert!(data.observations.is_empty());
    assert_eq!(data.requests, 2);
}

#[tokio::test]
async fn null_values_are_missing_and_flags_are_invalid() {
    let server = MockServer::start().await;
    let mut body: serde_json::Value = serde_json::from_str(&eia_page(
        &[
            ("2018-01-04".to_owned(), "61.01".to_owned()),
            ("2018-01-05".to_owned(), "x".to_owned()),
            ("2018-01-08".to_owned(), "w".to_owned()),
            ("2018-01-09".to_owned(), "62.96".to_owned()),
        ],
        4,
    ))
    .unwrap();
    body["response"]["data"][1]["value"] = serde_json::Value::Null;
    body["response"]["data"][3]["value"] = serde_json::json!(62.96); // an older API version's number
    Mock::given(method("GET"))
        .respond_with(json(body.to_string()))
        .mount(&server)
        .await;
    let data = build("eia", &server, |_, _| {})
        .fetch(&request(
            "WTI",
            "petroleum/pri/spt:RWTC",
            "2018-01-01",
            "2018-01-31",
        ))
        .await
        .unwrap();
    assert_eq!(
        data.observations
            .iter()
            .map(|o| o.value.to_string())
            .collect::<Vec<_>>(),
        ["61.01", "62.96"]
    );
    assert_eq!(
        data.missing
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>(),
        ["2018-01-05"]
    );
    assert_eq!(data.invalid.len(), 1);
    assert_eq!(data.invalid[0].raw, "w");
}

#[tokio::test]
async fn monthly_answer_is_refused_clearly() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(fixture(
            "eia/petroleum-pri-spt-RBRTE-monthly-2025Q1.json",
        )))
        .mount(&server)
        .await;
    let err = build("eia", &server, |_, _| {})
        .fetch(&request(
            "BRENT",
            "petroleum/pri/spt:RBRTE",
            "2025-01-01",
            "2025-03-31",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SourceError {
                kind: SourceErrorKind::WrongResolution { .. },
                ..
            }
        ),
        "{err:?}"
    );
    // both resolutions named, and a configuration error, not a provider fault
    assert!(
        err.to_string().contains("configured daily") && err.to_string().contains("monthly data"),
        "{err}"
    );
    assert_eq!(err.report_kind(), energy_core::ErrorKind::SourceConfig);
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn real_henry_hub_route_envelope_parses() {
    // the RNGC4 recording is weekly; with its frequency set to daily its rows parse as is
    let mut body: serde_json::Value = serde_json::from_str(&fixture(
        "eia/natural-gas-pri-fut-RNGC4-weekly-1993-12-24.json",
    ))
    .unwrap();
    body["response"]["frequency"] = "daily".into();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/natural-gas/pri/fut/data/"))
        .respond_with(json(body.to_string()))
        .mount(&server)
        .await;
    let data = build("eia", &server, |_, _| {})
        .fetch(&request(
            "NATGAS",
            "natural-gas/pri/fut:RNGC4",
            "1993-12-01",
            "1993-12-31",
        ))
        .await
        .unwrap();
    assert_eq!(data.observations.len(), 1);
    assert_eq!(data.observations[0].value.to_string(), "1.869");
}

/// A page of the real row shape holding rows of two series (WTI's from its fixture, Brent's
/// from the Brent fixture), ordered by period then series as the API is asked to.
fn two_series_page(rows: &[(&str, &str, &str)], total: usize) -> String {
    let wti: serde_json::Value = serde_json::from_str(&fixture(
        "eia/petroleum-pri-spt-RWTC-weekly-1986-01-03.json",
    ))
    .unwrap();
    let brent: serde_json::Value =
        serde_json::from_str(&fixture("eia/petroleum-pri-spt-RBRTE-monthly-2025Q1.json")).unwrap();
    let mut v = wti.clone();
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|(series, date, value)| {
            let mut row = if *series == "RBRTE" {
                brent["response"]["data"][0].clone()
            } else {
                wti["response"]["data"][0].clone()
            };
            row["period"] = (*date).into();
            row["value"] = (*value).into();
            row
        })
        .collect();
    v["response"]["frequency"] = "daily".into();
    v["response"]["total"] = total.to_string().into();
    v["response"]["data"] = serde_json::Value::Array(data);
    v.to_string()
}

/// Three series of one route announced together: one request for all of them (and a probe for
/// the one the API does not know), each series exactly its own rows within its own window.
#[tokio::test]
async fn series_of_one_route_share_requests_and_get_exactly_their_own_rows() {
    let server = MockServer::start().await;
    let rows = [
        ("RBRTE", "2024-07-01", "86.38"),
        ("RWTC", "2024-07-01", "83.38"),
        ("RBRTE", "2024-07-02", "87.06"),
        ("RWTC", "2024-07-02", "82.81"),
        ("RBRTE", "2024-07-03", "87.34"),
        ("RWTC", "2024-07-03", "83.88"),
    ];
    // the shared request names all three series, over the union of their windows
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/pri/spt/data/"))
        .and(query_param("facets[series][]", "RWTC"))
        .and(query_param("facets[series][]", "RBRTE"))
        .and(query_param("facets[series][]", "RXXX"))
        .and(query_param("start", "2024-07-01"))
        .and(query_param("end", "2024-07-03"))
        .and(query_param("sort[1][column]", "series"))
        .respond_with(json(two_series_page(&rows, rows.len())))
        .expect(1)
        .mount(&server)
        .await;
    // RXXX has no row in the answer: the probe says the API has none at all
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/pri/spt/data/"))
        .and(query_param("facets[series][]", "RXXX"))
        .and(query_param("length", "1"))
        .respond_with(json(eia_page(&[], 0)))
        .expect(1)
        .mount(&server)
        .await;
    let eia = build("eia", &server, |_, _| {});
    let wti = request("WTI", "petroleum/pri/spt:RWTC", "2024-07-01", "2024-07-03");
    let brent = request(
        "BRENT",
        "petroleum/pri/spt:RBRTE",
        "2024-07-02",
        "2024-07-03",
    );
    let other = request(
        "OTHER",
        "petroleum/pri/spt:RXXX",
        "2024-07-01",
        "2024-07-02",
    );
    eia.plan(&[wti.clone(), brent.clone(), other.clone()]);
    let (w, b, o) = tokio::join!(eia.fetch(&wti), eia.fetch(&brent), eia.fetch(&other));
    let show = |d: &energy_sources::SeriesData| -> Vec<String> {
        d.observations
            .iter()
            .map(|o| format!("{} {} {}", o.commodity, o.date, o.value))
            .collect()
    };
    assert_eq!(
        show(&w.unwrap()),
        [
            "WTI 2024-07-01 83.38",
            "WTI 2024-07-02 82.81",
            "WTI 2024-07-03 83.88"
        ]
    );
    // Brent's own window starts a day later
    assert_eq!(
        show(&b.unwrap()),
        ["BRENT 2024-07-02 87.06", "BRENT 2024-07-03 87.34"]
    );
    let err = o.unwrap_err();
    assert!(
        matches!(
            err,
            SourceError {
                kind: SourceErrorKind::UnknownSeries { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("RXXX"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(eia.http_requests(), 2);
}

/// Issue 30, item 1: `response.total` sized an allocation before anything checked it (an
/// answer of 5 rows with `"total":"4000000000"` took 6.3 GB, with u64::MAX the process
/// aborted). A total the window cannot hold, or that is no count at all, is a malformed answer,
/// refused after the first request.
#[tokio::test]
async fn an_absurd_total_is_malformed_before_it_sizes_anything() {
    let rows: Vec<(String, String)> = (3..=7)
        .map(|d| (format!("2026-08-{d:02}"), "63.1".to_owned()))
        .collect();
    for total in [
        serde_json::json!("4000000000"),
        serde_json::json!("18446744073709551615"),
        serde_json::json!(18446744073709551615u64),
        serde_json::json!("-1"),
        serde_json::json!(-1),
        serde_json::json!("many"),
        serde_json::json!(1.5),
        // more rows than one series has days in the 31-day window
        serde_json::json!("32"),
    ] {
        let mut body: serde_json::Value = serde_json::from_str(&eia_page(&rows, 5)).unwrap();
        body["response"]["total"] = total.clone();
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(json(body.to_string()))
            .mount(&server)
            .await;
        let err = build("eia", &server, |_, _| {})
            .fetch(&request(
                "WTI",
                "petroleum/pri/spt:RWTC",
                "2026-08-01",
                "2026-08-31",
            ))
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
            "total {total}: {err:?}"
        );
        assert!(err.to_string().contains("total"), "total {total}: {err}");
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            1,
            "total {total}: refused after the first page"
        );
    }
}

/// A total the window allows but that takes more pages than any daily history: refused from
/// the page count (total / page size, computed, not listed), before a second request.
#[tokio::test]
async fn a_total_of_more_pages_than_allowed_is_refused_from_its_page_count() {
    // one row a page, as a server that pages by one would send
    let rows = vec![("1990-01-02".to_owned(), "21.1".to_owned())];
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(eia_page(&rows, 9000)))
        .mount(&server)
        .await;
    let err = build("eia", &server, |_, _| {})
        .fetch(&request(
            "WTI",
            "petroleum/pri/spt:RWTC",
            "1986-01-01",
            "2026-08-31",
        ))
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
    assert!(err.to_string().contains("pages"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// Issue 30, item 5: rows an upstream sends outside the requested window were dropped with no
/// count. They come back as `outside` (validation quarantines them), never as observations.
#[tokio::test]
async fn rows_outside_the_window_asked_for_are_set_aside_not_dropped() {
    let rows: Vec<(String, String)> = [
        ("1800-01-01", "1.5"),
        ("1990-01-02", "21.1"),
        ("2026-08-03", "63.1"),
        ("2026-11-26", "64"), // tomorrow, by the tests' clock
        ("2099-01-01", "99"),
    ]
    .iter()
    .map(|(d, v)| ((*d).to_owned(), (*v).to_owned()))
    .collect();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(eia_page(&rows, rows.len())))
        .mount(&server)
        .await;
    let data = build("eia", &server, |_, _| {})
        .fetch(&request(
            "WTI",
            "petroleum/pri/spt:RWTC",
            "2026-08-01",
            "2026-08-31",
        ))
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
        [
            "1800-01-01 1.5",
            "1990-01-02 21.1",
            "2026-11-26 64",
            "2099-01-01 99"
        ]
    );
    assert!(
        data.outside[0]
            .reason
            .contains("outside the dates 2026-08-01..2026-08-31 asked of it"),
        "{:?}",
        data.outside[0]
    );
}

/// Issue 30, item 5: an answer holding only rows of a series not asked for (`EVIL`) was a
/// success with 0 rows. It is a malformed answer, as it already was for a group's request.
#[tokio::test]
async fn an_answer_about_a_series_not_asked_for_is_malformed() {
    let mut body: serde_json::Value = serde_json::from_str(&eia_page(
        &[("2026-08-03".to_owned(), "63.1".to_owned())],
        1,
    ))
    .unwrap();
    body["response"]["data"][0]["series"] = "EVIL".into();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(body.to_string()))
        .mount(&server)
        .await;
    let err = build("eia", &server, |_, _| {})
        .fetch(&request(
            "WTI",
            "petroleum/pri/spt:RWTC",
            "2026-08-01",
            "2026-08-31",
        ))
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
    assert!(
        err.to_string().contains("EVIL") && err.to_string().contains("RWTC"),
        "{err}"
    );
}

/// In a group's shared request a member's rows outside its own window but inside the group's
/// are expected (another member asked for those dates) and left out quietly; a row outside
/// the whole request is the provider's error and set aside for that member.
#[tokio::test]
async fn a_group_sets_aside_only_rows_outside_the_whole_request() {
    let server = MockServer::start().await;
    let rows = [
        ("RBRTE", "2024-06-28", "85.0"),
        ("RBRTE", "2024-07-01", "86.38"),
        ("RWTC", "2024-07-01", "83.38"),
        ("RBRTE", "2024-07-02", "87.06"),
        ("RWTC", "2024-07-02", "82.81"),
    ];
    Mock::given(method("GET"))
        .and(query_param("length", "5000"))
        .respond_with(json(two_series_page(&rows, rows.len())))
        .mount(&server)
        .await;
    let eia = build("eia", &server, |_, _| {});
    let wti = request("WTI", "petroleum/pri/spt:RWTC", "2024-07-01", "2024-07-03");
    let brent = request(
        "BRENT",
        "petroleum/pri/spt:RBRTE",
        "2024-07-02",
        "2024-07-02",
    );
    eia.plan(&[wti.clone(), brent.clone()]);
    let (w, b) = tokio::join!(eia.fetch(&wti), eia.fetch(&brent));
    let (w, b) = (w.unwrap(), b.unwrap());
    assert_eq!(w.observations.len(), 2);
    assert!(w.outside.is_empty(), "{:?}", w.outside);
    assert_eq!(b.observations.len(), 1);
    assert_eq!(
        b.outside
            .iter()
            .map(|r| r.date.to_string())
            .collect::<Vec<_>>(),
        ["2024-06-28"]
    );
}
