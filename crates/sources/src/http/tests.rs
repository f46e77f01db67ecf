//! Unit tests of the HTTP layer: key redaction in URLs, the `Retry-After` parse.

use super::*;

#[test]
fn redacts_credential_parameters_only() {
    let url = Url::parse(
        "https://api.eia.gov/v2/x/data/?api_key=SECRET123&frequency=daily&start=2020-01-01",
    )
    .unwrap();
    let shown = redact_url(&url);
    assert!(!shown.contains("SECRET123"), "{shown}");
    assert!(shown.contains("api_key=***"), "{shown}");
    assert!(shown.contains("frequency=daily"), "{shown}");
    let plain =
        Url::parse("https://query1.finance.yahoo.com/v8/finance/chart/CL=F?interval=1d").unwrap();
    assert_eq!(redact_url(&plain), plain.to_string());
    let with_user = Url::parse("http://user:BASE%40PASS@127.0.0.1:18600/v2/x?api_key=K").unwrap();
    assert_eq!(
        redact_url(&with_user),
        "http://user:***@127.0.0.1:18600/v2/x?api_key=***"
    );
}

#[test]
fn retry_after_accepts_seconds_and_dates() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
        .unwrap()
        .to_utc();
    let parse = |v| parse_retry_after(v, now);
    assert_eq!(parse("3"), Ok(Some(Duration::from_secs(3))));
    assert_eq!(parse("0.5"), Ok(Some(Duration::from_millis(500))));
    assert_eq!(
        parse("Wed, 25 Nov 2026 12:00:30 GMT"),
        Ok(Some(Duration::from_secs(30)))
    );
    assert_eq!(parse("Wed, 25 Nov 2026 11:00:00 GMT"), Ok(None));
    assert_eq!(parse("1e20"), Ok(Some(Duration::MAX)));
    assert_eq!(parse("1e400"), Err(()), "parses as infinity");
    for bad in ["-5", "NaN", "inf", "-inf", "soon", ""] {
        assert_eq!(parse(bad), Err(()), "{bad:?}");
    }
}
