//! The conformance check every provider passes: happy path; each error fixture mapped to its
//! error; HTML with 200, an empty body, truncated JSON and an oversized body rejected without a
//! panic; 503-then-200 and 429 with Retry-After retried (the wait honoured); 401/403 not
//! retried; a hung server ends in a timeout; and the API key in no error, Debug or log line.

use std::time::{Duration, Instant};

use energy_sources::{SeriesData, SeriesRequest, SourceError, SourceErrorKind};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path_regex},
};

use crate::support::{KEY, Logs, build, build_at, eia_page, fixture, request, wti_rows};

/// An error answer: (status, body, content type, what the error must be).
pub(crate) type ErrorCase = (u16, String, &'static str, fn(&SourceError) -> bool);

/// What the conformance check needs to know about one provider.
pub(crate) struct Spec {
    pub name: &'static str,
    pub request: SeriesRequest,
    /// Regex of the request path.
    pub path: &'static str,
    pub happy: String,
    pub check_happy: fn(&SeriesData),
    pub errors: Vec<ErrorCase>,
    /// Whether the provider sends an API key (and should reject it on 401/403 as unauthorized).
    pub has_key: bool,
}

fn json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

async fn mount(server: &MockServer, spec: &Spec, template: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path_regex(spec.path))
        .respond_with(template)
        .mount(server)
        .await;
}

fn assert_no_key(what: &str, text: &str) {
    assert!(!text.contains(KEY), "{what} contains the API key:\n{text}");
}

fn check_err(spec: &Spec, case: &str, err: &SourceError, ok: bool) {
    assert!(ok, "{}: {case}: unexpected error {err:?}", spec.name);
    assert_eq!(err.provider.as_str(), spec.name);
    assert_no_key(case, &format!("{err} {err:?}"));
}

pub(crate) async fn run(spec: Spec) {
    let (logs, _guard) = Logs::capture();

    // happy path
    let server = MockServer::start().await;
    mount(&server, &spec, json(200, &spec.happy)).await;
    let data = build(spec.name, &server, |_, _| {})
        .fetch(&spec.request)
        .await
        .unwrap();
    (spec.check_happy)(&data);
    if spec.has_key {
        let received = server.received_requests().await.unwrap();
        assert!(
            received[0].url.query().unwrap_or("").contains(KEY),
            "the key was not sent"
        );
    }

    // error fixtures
    for (status, body, content_type, expect) in &spec.errors {
        let server = MockServer::start().await;
        mount(
            &server,
            &spec,
            ResponseTemplate::new(*status).set_body_raw(body.as_bytes().to_vec(), content_type),
        )
        .await;
        let err = build(spec.name, &server, |_, _| {})
            .fetch(&spec.request)
            .await
            .unwrap_err();
        check_err(&spec, &format!("HTTP {status} fixture"), &err, expect(&err));
    }

    // bodies that are not what they should be: rejected, clearly, without a panic
    let half = &spec.happy[..spec.happy.len() / 2];
    let bad_bodies = [
        (
            "HTML with 200",
            ResponseTemplate::new(200).set_body_raw(
                b"<!DOCTYPE html><html><body>Consent</body></html>".to_vec(),
                "text/html",
            ),
        ),
        (
            "empty body",
            ResponseTemplate::new(200).set_body_raw(Vec::new(), "application/json"),
        ),
        ("truncated JSON", json(200, half)),
        ("not an object", json(200, "[1, 2, 3]")),
    ];
    for (case, template) in bad_bodies {
        let server = MockServer::start().await;
        mount(&server, &spec, template).await;
        let err = build(spec.name, &server, |_, _| {})
            .fetch(&spec.request)
            .await
            .unwrap_err();
        check_err(
            &spec,
            case,
            &err,
            matches!(
                err,
                SourceError {
                    kind: SourceErrorKind::Malformed { .. },
                    ..
                }
            ),
        );
        if case == "truncated JSON" {
            assert!(err.to_string().contains("truncated"), "{err}");
        }
    }

    // oversized
    let server = MockServer::start().await;
    mount(
        &server,
        &spec,
        json(200, &format!("{{\"pad\": \"{}\"}}", "x".repeat(64 * 1024))),
    )
    .await;
    let err = build(spec.name, &server, |p, _| p.max_response_mb = 0.01)
        .fetch(&spec.request)
        .await
        .unwrap_err();
    check_err(
        &spec,
        "oversized",
        &err,
        matches!(
            err,
            SourceError {
                kind: SourceErrorKind::TooLarge { .. },
                ..
            }
        ),
    );

    // 503 then 200: retried
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(spec.path))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount(&server, &spec, json(200, &spec.happy)).await;
    let data = build(spec.name, &server, |_, _| {})
        .fetch(&spec.request)
        .await
        .unwrap();
    (spec.check_happy)(&data);
    assert_eq!(
        server.received_requests().await.unwrap().len() as u32,
        1 + data.requests
    );

    // 429 with Retry-After: 1 then 200: retried after the wait
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex(spec.path))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("Too Many Requests"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount(&server, &spec, json(200, &spec.happy)).await;
    let started = Instant::now();
    let data = build(spec.name, &server, |_, _| {})
        .fetch(&spec.request)
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After not honoured: {:?}",
        started.elapsed()
    );
    (spec.check_happy)(&data);

    // 429 for ever: rate limited after all attempts
    let server = MockServer::start().await;
    mount(
        &server,
        &spec,
        ResponseTemplate::new(429).set_body_string("Too Many Requests"),
    )
    .await;
    let err = build(spec.name, &server, |_, _| {})
        .fetch(&spec.request)
        .await
        .unwrap_err();
    check_err(
        &spec,
        "429 always",
        &err,
        matches!(
            err,
            SourceError {
                attempts: 3,
                kind: SourceErrorKind::RateLimited { .. },
                ..
            }
        ),
    );

    // 401 and 403: one request, no retry
    for status in [401u16, 403] {
        let server = MockServer::start().await;
        // an echoed key (EIA does echo it) must be scrubbed; Yahoo has no key to echo
        let echoed = if spec.has_key { KEY } else { "" };
        let body = format!(
            r#"{{"error":{{"code":"API_KEY_INVALID","message":"An invalid api_key was supplied: {echoed}"}}}}"#
        );
        Mock::given(method("GET"))
            .and(path_regex(spec.path))
            .respond_with(json(status, &body))
            .expect(1)
            .mount(&server)
            .await;
        let err = build(spec.name, &server, |_, _| {})
            .fetch(&spec.request)
            .await
            .unwrap_err();
        let expected = if spec.has_key {
            matches!(
                err,
                SourceError {
                    kind: SourceErrorKind::Unauthorized { .. },
                    ..
                }
            )
        } else {
            matches!(
                err,
                SourceError {
                    kind: SourceErrorKind::BadRequest { .. },
                    ..
                }
            )
        };
        check_err(&spec, &format!("HTTP {status}"), &err, expected);
        server.verify().await;
    }

    // a server that never answers: a timeout, after the configured attempts
    let server = MockServer::start().await;
    mount(
        &server,
        &spec,
        json(200, &spec.happy).set_delay(Duration::from_secs(5)),
    )
    .await;
    let started = Instant::now();
    let err = build(spec.name, &server, |p, r| {
        p.timeout_seconds = 0.3;
        r.max_attempts = 2;
    })
    .fetch(&spec.request)
    .await
    .unwrap_err();
    check_err(
        &spec,
        "hung server",
        &err,
        matches!(
            err,
            SourceError {
                attempts: 2,
                kind: SourceErrorKind::Timeout { .. },
                ..
            }
        ),
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // a connection refused: unavailable
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = build(spec.name, &server, |p, _| {
        p.base_url = format!("http://127.0.0.1:{port}/").parse().unwrap()
    })
    .fetch(&spec.request)
    .await
    .unwrap_err();
    check_err(
        &spec,
        "connection refused",
        &err,
        matches!(
            err,
            SourceError {
                attempts: 3,
                kind: SourceErrorKind::Unavailable { .. },
                ..
            }
        ),
    );

    let logged = logs.text();
    assert!(logged.contains("retrying"), "retries are logged:\n{logged}");
    assert_no_key("the log", &logged);
}

#[tokio::test]
async fn eia_conforms() {
    let rows: Vec<_> = wti_rows()
        .into_iter()
        .filter(|(d, _)| ("2020-04-13".."2020-04-25").contains(&d.as_str()))
        .collect();
    run(Spec {
        name: "eia",
        request: request("WTI", "petroleum/pri/spt:RWTC", "2020-04-13", "2020-04-24"),
        path: "^/v2/petroleum/pri/spt/data/$",
        happy: eia_page(&rows, rows.len()),
        check_happy: |d| {
            assert_eq!(d.observations.len(), 10);
            let neg = d.observations.iter().find(|o| o.date.to_string() == "2020-04-20").unwrap();
            assert_eq!(neg.value.to_string(), "-36.98");
        },
        errors: vec![
            (403, r#"{"error":{"code":"API_KEY_MISSING","message":"No api_key was supplied.  Please register for one at https://www.eia.gov/opendata/register.php"}}"#.into(), "application/json", |e| matches!(e, SourceError { kind: SourceErrorKind::Unauthorized { .. }, .. })),
            (400, r#"{"error":"Invalid frequency 'hourly' provided. The frequency must be one of the following: daily, weekly, monthly, annual","code":400}"#.into(), "application/json", |e| matches!(e, SourceError { kind: SourceErrorKind::BadRequest { status: 400, .. }, .. }) && e.to_string().contains("Invalid frequency")),
            (404, r#"{"error":"Not found.","code":404}"#.into(), "application/json", |e| matches!(e, SourceError { kind: SourceErrorKind::UnknownSeries { .. }, .. })),
            (200, fixture("eia/petroleum-pri-spt-RWTC-weekly-1986-01-03.json"), "application/json", |e| matches!(e, SourceError { kind: SourceErrorKind::WrongResolution { .. }, .. }) && e.to_string().contains("weekly")),
        ],
        has_key: true,
    })
    .await;
}

#[tokio::test]
async fn fred_conforms() {
    run(Spec {
        name: "fred",
        request: request("NATGAS", "DHHNGSP", "2024-07-01", "2024-07-10"),
        path: "^/fred/series/observations$",
        happy: fixture("fred/dhhngsp-observations-2024-07-01_2024-07-10-with-dot-missing.json"),
        check_happy: |d| {
            assert_eq!(d.observations.len(), 7);
            assert_eq!(d.missing.len(), 1);
        },
        errors: vec![
            (400, fixture("fred/error-400-api-key-not-registered-DOCS-EXAMPLE.json"), "application/json", |e| matches!(e, SourceError { kind: SourceErrorKind::Unauthorized { .. }, .. })),
            (400, r#"{"error_code":400,"error_message":"Bad Request.  The series does not exist."}"#.into(), "application/json", |e| matches!(e, SourceError { kind: SourceErrorKind::UnknownSeries { .. }, .. })),
            (400, r#"{"error_code":400,"error_message":"Bad Request.  Variable observation_start is not a date."}"#.into(), "application/json", |e| matches!(e, SourceError { kind: SourceErrorKind::BadRequest { .. }, .. })),
        ],
        has_key: true,
    })
    .await;
}

#[tokio::test]
async fn yahoo_conforms() {
    run(Spec {
        name: "yahoo",
        request: request("WTI", "GC=F", "2020-01-01", "2020-01-03"),
        path: "^/v8/finance/chart/GC=F$",
        happy: fixture("yahoo/chart-GC=F-futures-1d-2020-01-02-success.json"),
        check_happy: |d| {
            assert_eq!(d.observations.len(), 1);
            assert_eq!(d.observations[0].date.to_string(), "2020-01-02");
            assert_eq!(d.observations[0].value.to_string(), "1524.5");
        },
        errors: vec![
            (404, fixture("yahoo/chart-error-404-no-data-found-symbol-may-be-delisted.json"), "application/json", |e| matches!(e, SourceError { kind: SourceErrorKind::UnknownSeries { .. }, .. })),
            (400, fixture("yahoo/chart-error-400-data-doesnt-exist-for-date-range.json"), "application/json", |e| matches!(e, SourceError { kind: SourceErrorKind::NoData { .. }, .. })),
            (200, r#"{"chart":{"result":null,"error":{"code":"Internal","description":"something odd"}}}"#.into(), "application/json", |e| matches!(e, SourceError { kind: SourceErrorKind::BadRequest { .. }, .. })),
        ],
        has_key: false,
    })
    .await;
}

/// Issue 13, item 12: an upstream error text reached the terminal and the log raw, so it could
/// clear the screen or forge a log line. Every provider's error says it with its control
/// characters escaped, from a plain-text body and from a JSON message alike.
#[tokio::test]
async fn upstream_control_characters_are_escaped_in_every_error() {
    const EVIL: &str = "\u{1b}[2J\u{1b}[31mPWNED\r\nfake: line";
    let json_error = |provider: &str| match provider {
        "eia" => serde_json::json!({"error": EVIL, "code": 400}),
        "fred" => serde_json::json!({"error_code": 400, "error_message": EVIL}),
        _ => {
            serde_json::json!({"chart": {"result": null, "error": {"code": "Bad Request", "description": EVIL}}})
        }
    };
    for (provider, series) in [
        ("eia", "petroleum/pri/spt:RWTC"),
        ("fred", "DCOILWTICO"),
        ("yahoo", "CL=F"),
    ] {
        for body in [
            wiremock::ResponseTemplate::new(400)
                .set_body_raw(EVIL.as_bytes().to_vec(), "text/plain"),
            wiremock::ResponseTemplate::new(400).set_body_raw(
                json_error(provider).to_string().into_bytes(),
                "application/json",
            ),
        ] {
            let server = wiremock::MockServer::start().await;
            wiremock::Mock::given(wiremock::matchers::any())
                .respond_with(body)
                .mount(&server)
                .await;
            let err = crate::support::build(provider, &server, |_, _| {})
                .fetch(&crate::support::request(
                    "WTI",
                    series,
                    "2024-01-02",
                    "2024-01-05",
                ))
                .await
                .unwrap_err()
                .to_string();
            assert!(
                !err.chars().any(char::is_control),
                "{provider}: a control character in {err:?}"
            );
            assert!(err.contains("PWNED"), "{provider}: {err}");
        }
    }
}

async fn answer(template: wiremock::ResponseTemplate) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// Issue 13, item 14: messages that misled: `1e308` was "not a finite number", a 34-digit
/// decimal "not a number", HTTP 302 had an empty reason, the size limit never named
/// `max_response_mb`, and a long URL came before the cause.
#[tokio::test]
async fn messages_say_what_is_wrong_and_put_the_cause_first() {
    // a FRED value with 34 digits, and a Yahoo close of 1e308
    let fred = serde_json::json!({"observations": [
        {"date": "2024-01-02", "value": "1234567890123456789012345678.901234"}]});
    let server = answer(
        wiremock::ResponseTemplate::new(200)
            .set_body_raw(fred.to_string().into_bytes(), "application/json"),
    )
    .await;
    let data = crate::support::build("fred", &server, |_, _| {})
        .fetch(&crate::support::request(
            "WTI",
            "DCOILWTICO",
            "2024-01-02",
            "2024-01-05",
        ))
        .await
        .unwrap();
    assert!(
        data.invalid[0].reason.contains("more significant digits"),
        "{:?}",
        data.invalid
    );
    let mut yahoo: serde_json::Value = serde_json::from_str(&crate::support::fixture(
        "yahoo/chart-GC=F-futures-1d-2020-01-02-success.json",
    ))
    .unwrap();
    yahoo["chart"]["result"][0]["indicators"]["quote"][0]["close"] = serde_json::json!([1e308]);
    let server = answer(
        wiremock::ResponseTemplate::new(200)
            .set_body_raw(yahoo.to_string().into_bytes(), "application/json"),
    )
    .await;
    let data = crate::support::build("yahoo", &server, |_, _| {})
        .fetch(&crate::support::request(
            "WTI",
            "GC=F",
            "2020-01-01",
            "2020-01-03",
        ))
        .await
        .unwrap();
    assert!(
        data.invalid[0].reason.starts_with("too large"),
        "{:?}",
        data.invalid
    );

    // a redirect with nowhere to go
    let server = answer(wiremock::ResponseTemplate::new(302)).await;
    let err = crate::support::build("fred", &server, |_, _| {})
        .fetch(&crate::support::request(
            "WTI",
            "DCOILWTICO",
            "2024-01-02",
            "2024-01-05",
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 302") && err.contains("redirect"),
        "{err}"
    );

    // the size limit names its key
    let server = answer(
        wiremock::ResponseTemplate::new(200).set_body_raw(vec![b' '; 20_000], "application/json"),
    )
    .await;
    let err = crate::support::build("yahoo", &server, |p, _| p.max_response_mb = 0.01)
        .fetch(&crate::support::request(
            "WTI",
            "GC=F",
            "2020-01-01",
            "2020-01-03",
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("sources.yahoo.max_response_mb"), "{err}");

    // the cause first, the URL after it and cut short
    let server = answer(
        wiremock::ResponseTemplate::new(200)
            .set_body_raw(b"{\"chart\": 5}".to_vec(), "application/json"),
    )
    .await;
    let err = crate::support::build("eia", &server, |_, _| {})
        .fetch(&crate::support::request(
            "WTI",
            "petroleum/pri/spt:RWTC",
            "2024-01-02",
            "2024-01-05",
        ))
        .await
        .unwrap_err()
        .to_string();
    let (cause, url) = err.split_once(" (from ").unwrap_or_else(|| panic!("{err}"));
    assert!(cause.starts_with("eia: malformed response: "), "{err}");
    assert!(
        url.chars().count() <= 102,
        "{} chars: {url}",
        url.chars().count()
    );
}

/// Issue 30: a `base_url` with a user and password (a mirror behind basic authentication)
/// keeps working, and its password is in no error, log line or Debug output, whatever the
/// answer: a 500, a 403 that repeats the request, a redirect that names the URL.
#[tokio::test]
async fn a_password_in_base_url_is_sent_and_never_shown() {
    const PASS: &str = "BASEPASSsecret55";
    for (name, request) in [
        (
            "eia",
            request("WTI", "petroleum/pri/spt:RWTC", "2020-04-01", "2020-04-30"),
        ),
        (
            "fred",
            request("WTI", "DCOILWTICO", "2020-04-01", "2020-04-30"),
        ),
        ("yahoo", request("WTI", "CL=F", "2020-04-01", "2020-04-30")),
    ] {
        let (logs, _guard) = Logs::capture();
        for template in [
            ResponseTemplate::new(500),
            ResponseTemplate::new(403).set_body_string(format!("forbidden: user:{PASS}")),
        ] {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .respond_with(template)
                .mount(&server)
                .await;
            let base = server
                .uri()
                .replacen("http://", &format!("http://user:{PASS}@"), 1);
            let source = build_at(name, &base, |_, _| {});
            let err = source.fetch(&request).await.unwrap_err();
            let shown = format!("{err} {err:?} {}", err.message());
            assert!(!shown.contains(PASS), "{name}: {shown}");
            let received = server.received_requests().await.unwrap();
            let auth = received[0]
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned());
            assert!(
                auth.is_some_and(|a| a.starts_with("Basic ")),
                "{name}: the credentials were not sent"
            );
        }
        let logged = logs.text();
        assert!(!logged.contains(PASS), "{name}: {logged}");
    }
}
