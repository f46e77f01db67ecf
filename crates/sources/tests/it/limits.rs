//! A provider's request budget against a local server: a `Retry-After` holds every request of
//! that provider, not only the retried one, and the rate limit applies to retries too; a
//! `Retry-After` beyond the longest wait is capped, one that is no wait is ignored.

use std::time::{Duration, Instant};

use energy_sources::{SourceError, SourceErrorKind};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, query_param},
};

use crate::support::{Logs, build, fixture, request};

fn observations() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        fixture("fred/dhhngsp-observations-2024-07-01_2024-07-10-with-dot-missing.json")
            .into_bytes(),
        "application/json",
    )
}

#[tokio::test]
async fn a_429_with_retry_after_delays_the_providers_next_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .and(query_param("series_id", "DCOILWTICO"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("Too Many Requests"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .and(query_param("series_id", "DHHNGSP"))
        .respond_with(observations())
        .mount(&server)
        .await;
    // one attempt only: the 429 comes back as an error at once, and its hold stays
    let fred = build("fred", &server, |_, retry| retry.max_attempts = 1);
    let started = Instant::now();
    let err = fred
        .fetch(&request("WTI", "DCOILWTICO", "2024-07-01", "2024-07-10"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SourceError {
                kind: SourceErrorKind::RateLimited { .. },
                ..
            }
        ),
        "{err}"
    );
    // another series of the same provider waits out the Retry-After
    let data = fred
        .fetch(&request("NATGAS", "DHHNGSP", "2024-07-01", "2024-07-10"))
        .await
        .unwrap();
    assert_eq!(data.observations.len(), 7);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the next request went out {:?} after the 429 that asked for 1 s",
        started.elapsed()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn retries_take_their_turn_from_the_rate_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .respond_with(observations())
        .mount(&server)
        .await;
    // 2 requests a second, no burst beyond one: three attempts need at least a second, even
    // though the backoff between them is 10 ms
    let fred = build("fred", &server, |p, _| {
        p.requests_per_second = 2.0;
        p.burst = 1;
    });
    let started = Instant::now();
    fred.fetch(&request("NATGAS", "DHHNGSP", "2024-07-01", "2024-07-10"))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "three attempts within {:?}",
        started.elapsed()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

/// One attempt against a server that answers 429 with `Retry-After: value`: the wait the error
/// carries, and what was logged.
async fn rate_limited_with(value: &str) -> (Option<Duration>, String) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", value)
                .set_body_string("Too Many Requests"),
        )
        .mount(&server)
        .await;
    let fred = build("fred", &server, |_, retry| retry.max_attempts = 1);
    let (logs, guard) = Logs::capture();
    let err = fred
        .fetch(&request("WTI", "DCOILWTICO", "2024-07-01", "2024-07-10"))
        .await
        .unwrap_err();
    drop(guard);
    let SourceErrorKind::RateLimited { retry_after } = err.kind else {
        panic!("Retry-After {value}: {err}");
    };
    (retry_after, logs.text())
}

/// The one warning logged.
fn warning(logs: &str) -> Option<&str> {
    let warnings: Vec<_> = logs.lines().filter(|l| l.contains(" WARN ")).collect();
    assert!(warnings.len() <= 1, "{warnings:?}");
    warnings.first().copied()
}

#[tokio::test]
async fn a_retry_after_beyond_the_longest_wait_is_capped_at_it() {
    // fast_retry's max_backoff_seconds: the retry section's cap on one wait
    let cap = Duration::from_secs(2);
    for value in ["1e20", "3600", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        let (wait, logs) = rate_limited_with(value).await;
        assert_eq!(wait, Some(cap), "Retry-After {value}");
        assert!(
            warning(&logs).is_some_and(|w| w.contains(value) && w.contains("waiting 2 s")),
            "Retry-After {value}: {logs}"
        );
    }
}

#[tokio::test]
async fn a_retry_after_that_is_no_wait_is_ignored_with_a_warning() {
    for value in ["-5", "NaN", "inf", "-inf", "soon"] {
        let (wait, logs) = rate_limited_with(value).await;
        assert_eq!(wait, None, "Retry-After {value}");
        assert!(
            warning(&logs).is_some_and(|w| w.contains(&format!("ignoring Retry-After {value:?}"))),
            "Retry-After {value}: {logs}"
        );
    }
}

#[tokio::test]
async fn a_retry_after_within_the_longest_wait_is_kept_quietly() {
    for (value, wait) in [("1", 1000), ("0.25", 250), ("0", 0)] {
        let (got, logs) = rate_limited_with(value).await;
        assert_eq!(
            got,
            Some(Duration::from_millis(wait)),
            "Retry-After {value}"
        );
        assert_eq!(warning(&logs), None, "Retry-After {value}");
    }
}
