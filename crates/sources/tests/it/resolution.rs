//! Weekly and monthly series: the frequency asked for, the period each row means, the route
//! metadata checked once, and an answer of another resolution refused with both named.

use energy_core::{ErrorKind, Resolution};
use energy_sources::{SeriesRequest, SourceError, SourceErrorKind};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, query_param},
};

use crate::support::{KEY, build, fixture, request};

fn json(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.into_bytes(), "application/json")
}

fn at(resolution: Resolution, req: SeriesRequest) -> SeriesRequest {
    SeriesRequest { resolution, ..req }
}

fn is_wrong_resolution(e: &SourceError) -> bool {
    matches!(e.kind, SourceErrorKind::WrongResolution { .. })
        && e.report_kind() == ErrorKind::SourceConfig
}

#[tokio::test]
async fn a_monthly_eia_series_is_asked_by_month_and_dated_by_its_first_day() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/pri/spt/"))
        .and(query_param("api_key", KEY))
        .respond_with(json(fixture("eia/petroleum-pri-spt-route-metadata.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/pri/spt/data/"))
        .and(query_param("frequency", "monthly"))
        .and(query_param("start", "2025-01"))
        .and(query_param("end", "2025-03"))
        .respond_with(json(fixture(
            "eia/petroleum-pri-spt-RBRTE-monthly-2025Q1.json",
        )))
        .expect(2)
        .mount(&server)
        .await;
    let eia = build("eia", &server, |_, _| {});
    // a window starting mid-month asks for the whole month
    let req = at(
        Resolution::Monthly,
        request(
            "BRENT",
            "petroleum/pri/spt:RBRTE",
            "2025-01-15",
            "2025-03-31",
        ),
    );
    let data = eia.fetch(&req).await.unwrap();
    let rows: Vec<String> = data
        .observations
        .iter()
        .map(|o| format!("{} {}", o.date, o.value))
        .collect();
    assert_eq!(
        rows,
        ["2025-01-01 79.27", "2025-02-01 75.44", "2025-03-01 72.73"]
    );
    assert!(data.outside.is_empty(), "{:?}", data.outside);
    assert_eq!(data.requests, 2, "the route metadata, then one page");
    // the metadata is asked once per route and resolution
    let again = eia.fetch(&req).await.unwrap();
    assert_eq!(again.requests, 1);
}

#[tokio::test]
async fn a_weekly_eia_series_keeps_its_week_ending_friday() {
    let server = MockServer::start().await;
    // the recorded metadata of the petroleum spot route, which offers weekly data as the
    // stocks route does
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/stoc/wstk/"))
        .respond_with(json(fixture("eia/petroleum-pri-spt-route-metadata.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/stoc/wstk/data/"))
        .and(query_param("frequency", "weekly"))
        .and(query_param("facets[series][]", "WCRSTUS1"))
        .and(query_param("start", "1982-08-16"))
        .and(query_param("end", "1982-08-22"))
        .respond_with(json(fixture(
            "eia/petroleum-stoc-wstk-WCRSTUS1-weekly-1982-08-20.json",
        )))
        .mount(&server)
        .await;
    let data = build("eia", &server, |_, _| {})
        .fetch(&at(
            Resolution::Weekly,
            request(
                "US_CRUDE_STOCKS",
                "petroleum/stoc/wstk:WCRSTUS1",
                "1982-08-16",
                "1982-08-22",
            ),
        ))
        .await
        .unwrap();
    assert_eq!(data.observations.len(), 1);
    assert_eq!(data.observations[0].date.to_string(), "1982-08-20");
    assert_eq!(data.observations[0].value.to_string(), "609219");
}

#[tokio::test]
async fn a_route_that_does_not_offer_the_resolution_fails_the_batch_before_any_data() {
    let server = MockServer::start().await;
    // captured format, faulted: the spot route's metadata with only its daily frequency left
    let mut meta: serde_json::Value =
        serde_json::from_str(&fixture("eia/petroleum-pri-spt-route-metadata.json")).unwrap();
    let frequencies = meta["response"]["frequency"].as_array_mut().unwrap();
    frequencies.retain(|f| f["id"] == "daily");
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/pri/spt/"))
        .respond_with(json(meta.to_string()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/pri/spt/data/"))
        .respond_with(json(fixture(
            "eia/petroleum-pri-spt-RBRTE-monthly-2025Q1.json",
        )))
        .expect(0)
        .mount(&server)
        .await;
    let err = build("eia", &server, |_, _| {})
        .fetch(&at(
            Resolution::Monthly,
            request(
                "BRENT",
                "petroleum/pri/spt:RBRTE",
                "2025-01-01",
                "2025-03-31",
            ),
        ))
        .await
        .unwrap_err();
    assert!(is_wrong_resolution(&err), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("configured monthly") && message.contains("only at daily"),
        "{message}"
    );
    assert!(!message.contains(KEY), "{message}");
}

#[tokio::test]
async fn a_weekly_answer_to_a_monthly_series_names_both() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/pri/spt/"))
        .respond_with(json(fixture("eia/petroleum-pri-spt-route-metadata.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/petroleum/pri/spt/data/"))
        .respond_with(json(fixture(
            "eia/petroleum-pri-spt-RWTC-weekly-1986-01-03.json",
        )))
        .mount(&server)
        .await;
    let err = build("eia", &server, |_, _| {})
        .fetch(&at(
            Resolution::Monthly,
            request("WTI", "petroleum/pri/spt:RWTC", "1986-01-01", "1986-01-31"),
        ))
        .await
        .unwrap_err();
    assert!(is_wrong_resolution(&err), "{err:?}");
    assert!(
        err.to_string().contains("configured monthly") && err.to_string().contains("weekly data"),
        "{err}"
    );
}

/// FRED's metadata of `id` as it answers it (the real DHHNGSP answer, its id and frequency
/// replaced).
fn fred_metadata(id: &str, frequency: &str, short: &str) -> String {
    fixture("fred/dhhngsp-series-metadata.json")
        .replace("\"DHHNGSP\"", &format!("{id:?}"))
        .replace("\"Daily\"", &format!("{frequency:?}"))
        .replace(
            "\"frequency_short\":\"D\"",
            &format!("\"frequency_short\":{short:?}"),
        )
}

async fn mount_metadata(server: &MockServer, id: &str, body: String, times: u64) {
    Mock::given(method("GET"))
        .and(path("/fred/series"))
        .and(query_param("series_id", id))
        .and(query_param("file_type", "json"))
        .respond_with(json(body))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_monthly_fred_series_is_stored_by_month_and_daily_dates_are_refused() {
    let server = MockServer::start().await;
    // asked once, however often the series is fetched
    mount_metadata(
        &server,
        "EXUSEU",
        fred_metadata("EXUSEU", "Monthly", "M"),
        1,
    )
    .await;
    mount_metadata(
        &server,
        "DHHNGSP",
        fred_metadata("DHHNGSP", "Monthly", "M"),
        1,
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .and(query_param("series_id", "EXUSEU"))
        .and(query_param("observation_start", "2022-08-01"))
        .respond_with(json(fixture(
            "fred/eur_usd-monthly-observations-asc-trailing-dot-TRIMMED-last12-2022-08_2023-07.json",
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .and(query_param("series_id", "DHHNGSP"))
        .respond_with(json(fixture(
            "fred/dhhngsp-observations-2024-07-01_2024-07-10-with-dot-missing.json",
        )))
        .mount(&server)
        .await;
    let fred = build("fred", &server, |_, _| {});
    let data = fred
        .fetch(&at(
            Resolution::Monthly,
            request("EUR_USD", "EXUSEU", "2022-08-10", "2023-07-31"),
        ))
        .await
        .unwrap();
    assert_eq!(data.observations.len(), 11);
    assert_eq!(data.observations[0].date.to_string(), "2022-08-01");
    // as published, to its last digit
    assert_eq!(data.observations[10].value.to_string(), "1.0840");
    assert_eq!(
        data.missing,
        ["2023-07-01".parse::<chrono::NaiveDate>().unwrap()]
    );
    assert_eq!(data.requests, 2, "the metadata, then one page");
    let again = fred
        .fetch(&at(
            Resolution::Monthly,
            request("EUR_USD", "EXUSEU", "2022-08-10", "2023-07-31"),
        ))
        .await
        .unwrap();
    assert_eq!(again.requests, 1, "the metadata is not asked again");

    // metadata that says monthly, observations that are daily: the dates are refused
    let err = fred
        .fetch(&at(
            Resolution::Monthly,
            request("NATGAS", "DHHNGSP", "2024-07-01", "2024-07-10"),
        ))
        .await
        .unwrap_err();
    assert!(is_wrong_resolution(&err), "{err:?}");
    assert!(err.to_string().contains("configured monthly"), "{err}");
}

#[tokio::test]
async fn a_fred_series_of_another_frequency_fails_before_its_observations_are_asked() {
    let server = MockServer::start().await;
    // the real metadata: DHHNGSP is daily
    mount_metadata(
        &server,
        "DHHNGSP",
        fixture("fred/dhhngsp-series-metadata.json"),
        2,
    )
    .await;
    mount_metadata(&server, "GDP", fred_metadata("GDP", "Quarterly", "Q"), 1).await;
    Mock::given(method("GET"))
        .and(path("/fred/series/observations"))
        .respond_with(json(fixture(
            "fred/dhhngsp-observations-2024-07-01_2024-07-10-with-dot-missing.json",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let fred = build("fred", &server, |_, _| {});
    for resolution in [Resolution::Weekly, Resolution::Monthly] {
        let err = fred
            .fetch(&at(
                resolution,
                request("NATGAS", "DHHNGSP", "2024-07-01", "2024-07-10"),
            ))
            .await
            .unwrap_err();
        assert!(is_wrong_resolution(&err), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("configured {resolution}"))
                && text.contains("Daily (FRED's frequency \"D\")"),
            "{text}"
        );
        assert!(!text.contains(KEY), "{text}");
    }
    let err = fred
        .fetch(&at(
            Resolution::Monthly,
            request("GDP", "GDP", "2024-01-01", "2024-12-31"),
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Quarterly"), "{err}");
    // a daily series is fetched as it always was: no metadata request
    let daily = fred
        .fetch(&request("NATGAS", "DHHNGSP", "2024-07-01", "2024-07-10"))
        .await
        .unwrap();
    assert_eq!(daily.requests, 1);
}
