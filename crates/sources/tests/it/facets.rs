//! EIA series picked by any facets of their route (`route?facet=value&…`): each facet sent as
//! `facets[facet][]`, each row checked to carry the values asked for.

use energy_core::{Resolution, SourceId};
use energy_sources::{SeriesRequest, SourceErrorKind};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, query_param},
};

use crate::support::{build, fixture, request};

const STOCKS: &str = "petroleum/stoc/wstk?duoarea=NUS&product=EPC0&process=SAE";

fn json(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.into_bytes(), "application/json")
}

fn weekly(series: &str) -> SeriesRequest {
    SeriesRequest {
        resolution: Resolution::Weekly,
        ..request("US_CRUDE_STOCKS", series, "1982-08-16", "1982-08-22")
    }
}

/// The stocks route: its metadata (the recorded spot route's, which offers weekly data as the
/// stocks route does) and the real WCRSTUS1 answer, `edit`ed, for a request of the three facets.
async fn stocks_route(edit: impl Fn(String) -> String) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/stoc/wstk/"))
        .respond_with(json(fixture("eia/petroleum-pri-spt-route-metadata.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/stoc/wstk/data/"))
        .and(query_param("frequency", "weekly"))
        .and(query_param("facets[duoarea][]", "NUS"))
        .and(query_param("facets[product][]", "EPC0"))
        .and(query_param("facets[process][]", "SAE"))
        .respond_with(json(edit(fixture(
            "eia/petroleum-stoc-wstk-WCRSTUS1-weekly-1982-08-20.json",
        ))))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_series_picked_by_its_facets_is_fetched_and_stored_exactly() {
    let server = stocks_route(|body| body).await;
    let data = build("eia", &server, |_, _| {})
        .fetch(&weekly(STOCKS))
        .await
        .unwrap();
    assert_eq!(data.observations.len(), 1, "{data:?}");
    let o = &data.observations[0];
    assert_eq!(o.date.to_string(), "1982-08-20");
    assert_eq!(o.value.to_string(), "609219");
    assert_eq!(o.source, SourceId::new("eia").unwrap());
    // no `facets[series][]` was sent: the selection is the three facets alone
    let asked = server.received_requests().await.unwrap();
    let data_request = asked
        .iter()
        .find(|r| r.url.path().ends_with("/data/"))
        .unwrap();
    assert!(
        !data_request.url.query().unwrap().contains("series"),
        "{}",
        data_request.url
    );
}

#[tokio::test]
async fn a_row_of_another_facet_value_is_a_malformed_answer() {
    // captured format, faulted: the row is of PADD 1, not of the U.S. asked for
    let server =
        stocks_route(|body| body.replace("\"duoarea\":\"NUS\"", "\"duoarea\":\"R10\"")).await;
    let err = build("eia", &server, |_, _| {})
        .fetch(&weekly(STOCKS))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, SourceErrorKind::Malformed { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("duoarea \"R10\", not the \"NUS\" asked for"),
        "{text}"
    );
}
