//! Series ids, request grouping and EIA's error envelopes.

use super::{page::error_text, series::Selector, *};

#[test]
fn a_route_s_series_are_dealt_into_groups_of_at_most_ten() {
    let eia = Eia {
        id: SourceId::new("eia").unwrap(),
        http: Http::new(
            SourceId::new("eia").unwrap(),
            &Url::parse("http://127.0.0.1:1/").unwrap(),
            crate::HttpSettings {
                timeout: std::time::Duration::from_secs(1),
                connect_timeout: std::time::Duration::from_secs(1),
                requests_per_second: 0.0,
                burst: 1,
                max_response_bytes: 1,
                user_agent: "test".into(),
                retry: crate::retry::RetryConfig::default(),
            },
            Vec::new(),
        )
        .unwrap(),
        base: Url::parse("http://127.0.0.1:1/").unwrap(),
        key: Secret::new("k"),
        key_variable: "KEY",
        groups: Mutex::new(Vec::new()),
        offered: Mutex::new(std::collections::HashSet::new()),
    };
    let window =
        energy_core::DateWindow::new("2024-01-01".parse().unwrap(), "2024-01-31".parse().unwrap())
            .unwrap();
    let req = |series: String| SeriesRequest {
        commodity: energy_core::CommodityCode::new("WTI").unwrap(),
        series,
        unit: "USD/bbl".into(),
        window,
        resolution: energy_core::Resolution::Daily,
    };
    let mut requests: Vec<SeriesRequest> = (0..25)
        .map(|i| req(format!("petroleum/pri/spt:S{i:02}")))
        .collect();
    requests.push(req("natural-gas/pri/fut:RNGWHHD".into()));
    // the series facet spelt as a query is the same selection; other facets go alone
    requests.push(req("natural-gas/pri/fut?series=RNGC1".into()));
    requests.push(req("petroleum/pri/spt?duoarea=NUS&product=EPCWTI".into()));
    requests.push(req("petroleum/pri/spt?duoarea=NUS&product=EPCBRENT".into()));
    eia.plan(&requests);
    let groups = eia.groups.lock().unwrap();
    let sizes: Vec<usize> = groups.iter().map(|g| g.members.len()).collect();
    // 25 on one route: three groups; the two gas series share one; facet selections go alone
    assert_eq!(sizes, [2, 9, 8, 8]);
    // the first three series announced start three different groups
    for (i, g) in groups[1..].iter().enumerate() {
        assert_eq!(g.members[0].series, format!("petroleum/pri/spt:S{i:02}"));
    }
}

#[test]
fn series_must_be_route_and_facet() {
    assert!(check_series("petroleum/pri/spt:RWTC").is_ok());
    assert!(check_series("natural-gas/pri/fut:RNGWHHD").is_ok());
    for bad in [
        "RWTC",
        "petroleum/pri/spt:",
        ":RWTC",
        "/petroleum:RWTC",
        "petroleum/pri/spt:RW TC",
        "a?b:RWTC",
        "electricity/rto/region-data?",
        "electricity/rto/region-data?respondent",
        "electricity/rto/region-data?respondent=",
        "electricity/rto/region-data?=PJM",
        "electricity/rto/region-data?respondent=PJM&",
        "electricity/rto/region-data?respondent=PJM&respondent=MISO",
        "electricity/rto/region-data?respondent=P JM",
        "electricity/rto/region-data?facets[respondent][]=PJM",
        "/electricity?respondent=PJM",
        "?respondent=PJM",
    ] {
        assert!(check_series(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_series_is_a_route_and_its_facet_values() {
    let s = Selector::parse("electricity/rto/region-data?respondent=PJM&type=D").unwrap();
    assert_eq!(s.route, "electricity/rto/region-data");
    assert_eq!(s.facets, [("respondent", "PJM"), ("type", "D")]);
    assert_eq!(s.series(), None);
    let colon = Selector::parse("petroleum/pri/spt:RWTC").unwrap();
    let query = Selector::parse("petroleum/pri/spt?series=RWTC").unwrap();
    assert_eq!(colon, query);
    assert_eq!(query.series(), Some("RWTC"));
    let err = check_series("electricity/rto/region-data?type=D&type=NG").unwrap_err();
    assert!(err.contains("`type` is given twice"), "{err}");
}

#[test]
fn both_error_envelopes_are_read() {
    let (code, msg) = error_text(
        br#"{"error":{"code":"API_KEY_INVALID","message":"An invalid api_key was supplied."}}"#,
    )
    .unwrap();
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("API_KEY_INVALID", "An invalid api_key was supplied.")
    );
    let (code, msg) =
        error_text(br#"{"error":"Invalid frequency 'hourly' provided.","code":400}"#).unwrap();
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("", "Invalid frequency 'hourly' provided.")
    );
    assert!(error_text(b"<html>").is_none());
}
