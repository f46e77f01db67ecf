//! Property tests of the three parsers (issue 13): arbitrary bytes, random JSON shapes, and
//! provider-shaped answers with random values never panic, and every value a parser accepts is
//! one that appears in the body (exactly for EIA and FRED; for Yahoo, a number of the body
//! rounded to some number of decimals).

use std::{
    io::{Read, Write},
    net::TcpListener,
    sync::{Arc, Mutex},
};

use energy_core::Price;
use energy_sources::{SeriesData, Source, SourceError};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{build_at, request};

/// A local server answering every request with the body the test set last (200, JSON).
struct OneBody {
    url: String,
    body: Arc<Mutex<Vec<u8>>>,
}

impl OneBody {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let body: Arc<Mutex<Vec<u8>>> = Arc::default();
        let shared = body.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let body = shared.lock().unwrap().clone();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        Self { url, body }
    }

    fn set(&self, body: Vec<u8>) {
        *self.body.lock().unwrap() = body;
    }
}

/// A JSON value of any shape.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".*".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What a provider might put where a value goes.
fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "-?[0-9]{1,6}(\\.[0-9]{1,6})?".prop_map(Value::String),
        1 => "[-+]?([0-9]{0,40}(\\.[0-9]{0,40})?|[0-9]e[0-9]{1,3}|NaN|inf|\\.|)".prop_map(Value::String),
        2 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => any_json(),
    ]
}

fn any_date() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => (2023i32..2025, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| Value::String(format!("{y}-{m:02}-{d:02}"))),
        1 => any_json(),
    ]
}

fn eia_body() -> impl Strategy<Value = Value> {
    prop::collection::vec((any_date(), any_value()), 0..40).prop_map(|rows| {
        let n = rows.len();
        json!({"response": {"total": n, "frequency": "daily", "data": rows
            .into_iter()
            .map(|(period, value)| json!({"period": period, "series": "RWTC", "value": value}))
            .collect::<Vec<_>>()}})
    })
}

fn fred_body() -> impl Strategy<Value = Value> {
    prop::collection::vec((any_date(), any_value()), 0..40).prop_map(|rows| {
        json!({"observations": rows
            .into_iter()
            .map(|(date, value)| json!({"date": date, "value": value}))
            .collect::<Vec<_>>()})
    })
}

fn yahoo_body() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec((1_700_000_000i64..1_740_000_000, any_value()), 0..40),
        0u32..20,
    )
        .prop_map(|(bars, hint)| {
            let (stamps, closes): (Vec<i64>, Vec<Value>) = bars.into_iter().unzip();
            json!({"chart": {"result": [{
                "meta": {"symbol": "CL=F", "currency": "USD", "priceHint": hint,
                         "exchangeTimezoneName": "America/New_York"},
                "timestamp": stamps,
                "indicators": {"quote": [{"close": closes}]}}], "error": null}})
        })
}

/// Every string and number leaf of a JSON text, as text.
fn leaves(body: &[u8]) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            Value::Object(o) => o.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        walk(&v, &mut out);
    }
    out
}

/// The property: every accepted value is a value of the body. Returns how many were accepted.
fn check(provider: &str, body: &[u8], got: &Result<SeriesData, SourceError>) -> usize {
    let Ok(data) = got else { return 0 };
    let leaves = leaves(body);
    for o in &data.observations {
        let found = leaves.iter().any(|leaf| match provider {
            "yahoo" => leaf.parse::<f64>().is_ok_and(|f| {
                (0..=12).any(|d| Price::from_f64_rounded(f, d).is_ok_and(|p| p == o.value))
            }),
            _ => Price::parse(leaf).is_ok_and(|p| p == o.value),
        });
        assert!(found, "{provider}: {} is in no value of the body", o.value);
        assert!(
            ("2024-01-01".parse().unwrap()..="2024-03-31".parse().unwrap()).contains(&o.date),
            "{provider}: {} is outside the window",
            o.date
        );
    }
    data.observations.len()
}

fn run_cases(provider: &str, series: &str, shaped: BoxedStrategy<Value>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = OneBody::start();
    // the parsers are under test, not the rate limits: the local server takes any pace
    let source: Arc<dyn Source> = build_at(provider, &server.url, |p, r| {
        p.timeout_seconds = 5.0;
        p.requests_per_second = 1000.0;
        p.burst = 1000;
        r.max_attempts = 1;
    });
    let req = request("WTI", series, "2024-01-01", "2024-03-31");
    // a fixed seed: the same 256 cases every run. With a fresh seed each run, FRED's cases
    // (a body must pass its metadata check and carry observations) now and then all failed
    // before a value, and the check below failed by luck (CI of 1f84621)
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let rng = proptest::test_runner::TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = proptest::test_runner::TestRunner::new_with_rng(config, rng);
    let bodies = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        any_json().prop_map(|v| v.to_string().into_bytes()),
        shaped.prop_map(|v| v.to_string().into_bytes()),
    ];
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&bodies, |body| {
            server.set(body.clone());
            let got = rt.block_on(source.fetch(&req));
            let n = check(provider, &body, &got);
            accepted.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
        .unwrap();
    // the provider-shaped answers reach the rows: the property was put to the test
    assert!(
        accepted.into_inner() > 0,
        "{provider}: no case got as far as accepting a value"
    );
}

#[test]
fn eia_parser_never_panics_and_accepts_only_values_of_the_body() {
    run_cases("eia", "petroleum/pri/spt:RWTC", eia_body().boxed());
}

#[test]
fn fred_parser_never_panics_and_accepts_only_values_of_the_body() {
    run_cases("fred", "DCOILWTICO", fred_body().boxed());
}

#[test]
fn yahoo_parser_never_panics_and_accepts_only_values_of_the_body() {
    run_cases("yahoo", "CL=F", yahoo_body().boxed());
}
