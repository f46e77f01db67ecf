//! A provider's request budget against a local server: a `Retry-After` holds every request of
//! that provider, not only the retried one, and the rate limit applies to retries too.

use std::time::{Duration, Instant};

use energy_sources::{SourceError, SourceErrorKind};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, query_param},
};

use crate::support::{build, fixture, request};

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
