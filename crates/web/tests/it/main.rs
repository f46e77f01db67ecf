//! The HTTP server over real TCP on SQLite and PostgreSQL: every route, 404, 405 with `Allow`,
//! HEAD without a body, a closed connection after each answer, and `/api/status` equal to what
//! `status --json` collects.

use std::{sync::Arc, time::Duration};

use chrono::{TimeZone, Utc};
use energy_core::Clock;
use energy_core::{CommodityCode, RunMode};
use energy_orchestrator::{
    Config, NoProgress, RunRequest, Secrets, status,
    testing::{Behaviour, Setup, setup_on, setup_with_clock},
};
use energy_web::{Endpoints, Liveness};
use tokio_util::sync::CancellationToken;

mod promtool;

async fn serve(
    s: &Setup,
    clock: Clock,
    liveness: Option<Arc<Liveness>>,
) -> (String, CancellationToken) {
    serve_with(s, clock, liveness, Config::default()).await
}

async fn serve_with(
    s: &Setup,
    clock: Clock,
    liveness: Option<Arc<Liveness>>,
    config: Config,
) -> (String, CancellationToken) {
    let stop = CancellationToken::new();
    let endpoints = Endpoints {
        store: s.pipeline.store().clone(),
        liveness,
        clock,
        loop_timeout: Duration::from_secs(60),
        config: Arc::new(config),
        secrets: Arc::new(Secrets::default()),
    };
    let (addr, _task) = energy_web::serve("127.0.0.1:0".parse().unwrap(), endpoints, stop.clone())
        .await
        .unwrap();
    (format!("http://{addr}"), stop)
}

async fn routes_on(s: Setup, clock: Clock) {
    let now = clock();
    let mut request = RunRequest::manual(RunMode::Incremental);
    request.commodities = vec![CommodityCode::new("WTI").unwrap()];
    s.pipeline
        .run(request, CancellationToken::new(), Arc::new(NoProgress))
        .await
        .unwrap();
    let (base, stop) = serve(&s, clock.clone(), None).await;
    let http = reqwest::Client::new();

    // /healthz without a scheduler in the process: the database decides
    let r = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["connection"], "close");
    let text = r.text().await.unwrap();
    assert!(text.starts_with("database: ok"), "{text}");
    assert!(!text.contains("scheduler loop"), "{text}");

    // /metrics: Prometheus text; no scheduler_up sample where no scheduler runs
    let r = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains("energy_pipeline_series_age_seconds{commodity=\"WTI\",source=\"eia\"} 0"),
        "{text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("energy_pipeline_scheduler_up ")),
        "{text}"
    );
    // the 0.0.4 text names a counter as its samples are, and has no `# EOF`
    for line in [
        "# HELP energy_pipeline_runs_total Finished runs recorded, by status",
        "# TYPE energy_pipeline_runs_total counter",
        "energy_pipeline_runs_total{status=\"success\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
    assert!(!text.contains("# EOF"), "{text}");

    // OpenMetrics as prometheus-client encodes it, for a scraper asking for it: the counter's
    // family without `_total`, its samples with it, integers print as integers
    let r = http
        .get(format!("{base}/metrics"))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.1",
        )
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text; version=1.0.0")
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains("# TYPE energy_pipeline_runs counter\n"),
        "{text}"
    );
    assert!(
        text.contains("\nenergy_pipeline_runs_total{status=\"success\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("\nenergy_pipeline_observations_stored{source=\"eia\"} "),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");

    // /api/status is the `status --json` document
    let r = http.get(format!("{base}/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let api: serde_json::Value = r.json().await.unwrap();
    let collected = status::collect(
        &Config::default(),
        &Secrets::default(),
        s.pipeline.store(),
        now,
        5,
    )
    .await;
    let mut expected = serde_json::to_value(&collected).unwrap();
    // generated_at is the request's own now: the same clock, the same instant
    expected["generated_at"] = api["generated_at"].clone();
    assert_eq!(api, expected);
    assert_eq!(api["freshness"].as_array().unwrap().len(), 9);

    // /api/runs and /api/runs/{id}: the run just made
    let runs: serde_json::Value = http
        .get(format!("{base}/api/runs?limit=5"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let id = runs[0]["run_id"].as_str().unwrap();
    let one: serde_json::Value = http
        .get(format!("{base}/api/runs/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one, runs[0]);
    let r = http
        .get(format!("{base}/api/runs/no-such-run"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        http.get(format!("{base}/api/runs?limit=0"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        http.get(format!("{base}/api/runs?limit=x"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );

    // /api/series/{commodity}: every source's values, in date order, within start..end
    let doc: serde_json::Value = http
        .get(format!(
            "{base}/api/series/WTI?start=2026-11-02&end=2026-11-06"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["unit"], "USD/bbl");
    let sources = doc["sources"].as_object().unwrap();
    assert_eq!(sources.keys().collect::<Vec<_>>(), ["eia", "fred", "yahoo"]);
    assert_eq!(
        sources["eia"],
        serde_json::json!([
            ["2026-11-02", 60.0],
            ["2026-11-03", 60.0],
            ["2026-11-04", 60.0],
            ["2026-11-05", 60.0],
            ["2026-11-06", 60.0]
        ])
    );
    // BRENT is configured but nothing is stored: an empty document, not an error
    let doc: serde_json::Value = http
        .get(format!("{base}/api/series/BRENT"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["sources"], serde_json::json!({}));
    for bad in ["GOLD", "%3Cscript%3E"] {
        let r = http
            .get(format!("{base}/api/series/{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{bad}");
    }
    let r = http
        .get(format!(
            "{base}/api/series/WTI?start=2026-11-06&end=2026-11-02"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .get(format!("{base}/api/series/WTI?start=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // the dashboard page: every series with its state, a chart where there is data
    let r = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text().await.unwrap();
    assert_eq!(page.matches("<tr data-series=").count(), 9, "{page}");
    assert!(page.contains("<tr data-series=\"WTI/eia\">"), "{page}");
    assert_eq!(page.matches("<svg class=\"spark\"").count(), 3, "{page}");
    assert!(page.contains("<span class=\"badge STALE\">STALE</span>"));
    assert!(page.contains("no data yet"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "nothing fetched from elsewhere"
    );
    assert_eq!(
        http.post(format!("{base}/")).send().await.unwrap().status(),
        405
    );

    // the series page: one chart with a line per source, the range links, the latest values
    let r = http.get(format!("{base}/series/WTI")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("<svg class=\"chart\""), "{page}");
    for source in ["eia", "fred", "yahoo"] {
        assert!(
            page.contains(&format!("<path data-source=\"{source}\"")),
            "{source}: {page}"
        );
    }
    assert!(page.contains("<strong>1Y</strong>") && page.contains("href=\"/series/WTI?range=5Y\""));
    assert!(page.contains("<table id=\"latest\">") && page.contains(">USD/bbl</text>"));
    assert_eq!(
        http.get(format!("{base}/series/GOLD"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        http.get(format!("{base}/series/WTI?range=2Y"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    // ten years of three sources stay under 300 KB
    let mut request = RunRequest::manual(RunMode::Backfill(
        energy_core::DateWindow::new(
            chrono::NaiveDate::from_ymd_opt(2016, 11, 25).unwrap(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
        )
        .unwrap(),
    ));
    request.commodities = vec![CommodityCode::new("WTI").unwrap()];
    s.pipeline
        .run(request, CancellationToken::new(), Arc::new(NoProgress))
        .await
        .unwrap();
    let page = http
        .get(format!("{base}/series/WTI?range=all"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(">2016-11-25</text>"),
        "the axis starts at the first date"
    );
    eprintln!("series page, 10 years of 3 sources: {} bytes", page.len());
    assert!(page.len() < 300_000, "{} bytes", page.len());

    // run pages and the quarantine
    let page = http
        .get(format!("{base}/runs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("<a href=\"/runs/{id}\">")), "{page}");
    let r = http.get(format!("{base}/runs/{id}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert_eq!(
        page.matches("<tr><td>").count(),
        3,
        "one row per source for WTI: {page}"
    );
    assert!(page.contains("<span class=\"badge success\">success</span>"));
    assert_eq!(
        http.get(format!("{base}/runs/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let page = http
        .get(format!("{base}/quarantine?commodity=WTI"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<p>0 rejected rows match</p>"), "{page}");
    // quarantined rows of the run: the page links the run; filters by commodity and source
    let record = s.pipeline.store().run_by_uuid(id).await.unwrap().unwrap();
    let rejected = |commodity: &str, source: &str, raw: &str| energy_core::Rejection {
        commodity: CommodityCode::new(commodity).unwrap(),
        source: energy_core::SourceId::new(source).unwrap(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        raw_value: raw.into(),
        rule: energy_core::validation::RuleId::PlausibleRange,
        reason: "outside the range".into(),
    };
    s.pipeline
        .store()
        .write_batch(
            Some(record.id),
            &[],
            &[
                rejected("WTI", "eia", "9999"),
                rejected("WTI", "fred", "<b>x</b>"),
                rejected("BRENT", "eia", "-1"),
            ],
        )
        .await
        .unwrap();
    let page = http
        .get(format!("{base}/quarantine?commodity=WTI"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<p>2 rejected rows match</p>"), "{page}");
    assert_eq!(
        page.matches(&format!("<a href=\"/runs/{id}\">")).count(),
        2,
        "{page}"
    );
    assert!(page.contains("&lt;b&gt;x&lt;/b&gt;") && !page.contains("BRENT/eia"));
    let page = http
        .get(format!("{base}/quarantine?commodity=WTI&source=fred"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<p>1 rejected rows match</p>"), "{page}");
    let page = http
        .get(format!("{base}/series/WTI"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("the newest 2 of 2"), "{page}");
    assert!(
        page.contains("<td>WTI/eia</td><td>2026-11-20</td><td>9999</td><td>plausible_range</td>"),
        "{page}"
    );

    // 404, 405 with Allow, HEAD without a body
    let r = http.get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let r = http
            .request(method.clone(), format!("{base}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method}");
        assert_eq!(r.headers()["allow"], "GET, HEAD");
    }
    let r = http
        .head(format!("{base}/api/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), 0);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_on_sqlite() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    routes_on(s, clock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_on_postgres() {
    use energy_storage::testing::{TestSchema, postgres_url};
    let Some(base) = postgres_url() else { return };
    let schema = TestSchema::create(&base, "web").await;
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_on(&schema.url, [Behaviour::Data; 3], clock.clone()).await;
    routes_on(s, clock).await;
    schema.drop().await;
}

/// In the scheduler, /healthz also says whether its loop turns: 503 while it has not started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_in_the_scheduler_needs_its_loop() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let liveness = Arc::new(Liveness::default());
    let (base, stop) = serve(&s, clock, Some(liveness.clone())).await;
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("scheduler loop: not started")
    );
    liveness.loop_turned(now);
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("energy_pipeline_scheduler_up 1"), "{text}");
    stop.cancel();
}

/// A name from configuration is text on the page, never markup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commodity_named_like_a_script_renders_as_text() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let mut config = Config::default();
    let wti = config
        .commodities
        .get_mut(&CommodityCode::new("WTI").unwrap())
        .unwrap();
    wti.name = "<script>alert('x')</script>".into();
    wti.unit = "<b>USD</b>".into();
    let (base, stop) = serve_with(&s, clock, None, config).await;
    let page = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<b>"), "{page}");
    stop.cancel();
}

/// The soft limit on open files, raised (up to the hard one) to at least `needed`: the server
/// and 1,000 idle clients share this process. `prlimit` is util-linux's.
fn raise_open_files(needed: u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if soft >= needed {
        return;
    }
    let ok = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={needed}:"),
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "this test needs {needed} open files (the soft limit is {soft}) and prlimit could not raise it: `ulimit -n {needed}`"
    );
}

/// The server keeps answering while 1,000 connections sit idle and a client drips a request a
/// byte at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_serving_with_a_thousand_idle_connections_and_a_slow_client() {
    use tokio::io::AsyncWriteExt;
    raise_open_files(2_400);
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let (base, stop) = serve(&s, clock, None).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..1_000 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HT").await.unwrap();
    let http = reqwest::Client::new();
    for path in ["/healthz", "/api/status", "/"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // the slow client, once it finishes, is answered too
    slow.write_all(b"TP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut slow, &mut answer)
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(idle.len(), 1_000);
    stop.cancel();
}

#[tokio::test]
async fn a_client_slower_than_the_head_limit_is_cut_off_and_an_oversized_head_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let stop = CancellationToken::new();
    let endpoints = Endpoints {
        store: s.pipeline.store().clone(),
        liveness: None,
        clock,
        loop_timeout: Duration::from_secs(60),
        config: Arc::new(Config::default()),
        secrets: Arc::new(Secrets::default()),
    };
    let limits = energy_web::Limits {
        header_read: Duration::from_millis(300),
        ..energy_web::Limits::default()
    };
    let (addr, _task) = energy_web::serve_with(
        "127.0.0.1:0".parse().unwrap(),
        endpoints,
        limits,
        stop.clone(),
    )
    .await
    .unwrap();
    // a head that never ends: the server closes the connection once the limit has passed
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Drip: ")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut answer))
        .await
        .expect("the server cut the slow client off");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        closed.is_err() || !answer.contains("200 OK"),
        "the unfinished request was not answered: {answer}"
    );
    // a head over the size limit (64 KiB by default) is refused, not read on: one header of
    // 100,000 bytes (which hyper's read buffer alone let through) as well as one of 200 KiB;
    // a head just under the limit is answered
    let head = |header_bytes: usize| {
        format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(header_bytes)
        )
    };
    for header_bytes in [100_000, 200 * 1024, 64 * 1024] {
        let mut big = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = big.write_all(head(header_bytes).as_bytes()).await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), big.read_to_end(&mut answer))
            .await
            .expect("the server answered or closed");
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
            "{header_bytes}: {answer}"
        );
    }
    let under = head(64 * 1024 - 100);
    assert!(under.len() <= 64 * 1024);
    let mut fits = tokio::net::TcpStream::connect(addr).await.unwrap();
    fits.write_all(under.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    fits.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // and the server still serves
    let r = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    stop.cancel();
}

/// Issue 30, item 8: control characters from data or configuration (a quarantined value with
/// terminal escapes, ESC, BEL and NUL in a commodity's name) reach no page raw, so `curl` to a
/// terminal shows them instead of obeying them; the JSON API escapes them as JSON does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_reach_no_page_raw() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let mut request = RunRequest::manual(RunMode::Incremental);
    request.commodities = vec![CommodityCode::new("WTI").unwrap()];
    s.pipeline
        .run(request, CancellationToken::new(), Arc::new(NoProgress))
        .await
        .unwrap();
    let run = s.pipeline.store().recent_runs(1).await.unwrap().remove(0);
    let hostile = "\x1b[31mRED\x1b]0;T\x07 \u{7f}\u{9b}2J";
    s.pipeline
        .store()
        .write_batch(
            Some(run.id),
            &[],
            &[energy_core::Rejection {
                commodity: CommodityCode::new("WTI").unwrap(),
                source: energy_core::SourceId::new("eia").unwrap(),
                date: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
                raw_value: hostile.into(),
                rule: energy_core::validation::RuleId::PlausibleRange,
                reason: format!("not a number: {hostile}"),
            }],
        )
        .await
        .unwrap();
    let mut config = Config::default();
    let wti = config
        .commodities
        .get_mut(&CommodityCode::new("WTI").unwrap())
        .unwrap();
    wti.name = "West\x1b[2J Texas\x07\0 Intermediate".into();
    wti.unit = "USD\x1b[5m/bbl\u{7f}\u{9b}".into();
    let (base, stop) = serve_with(&s, clock, None, config).await;
    let pages = [
        "/".to_owned(),
        "/series/WTI".to_owned(),
        "/quarantine".to_owned(),
        "/quarantine?commodity=%1B%5B31m&source=%07".to_owned(),
        "/runs".to_owned(),
        format!("/runs/{}", run.uuid),
        "/runs/%1B%5B2J".to_owned(),
    ];
    for path in &pages {
        let body = reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let raw: Vec<char> = body
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\n' | '\t'))
            .collect();
        assert!(raw.is_empty(), "{path}: raw {raw:?} in\n{body}");
    }
    // the value and the name are shown, their control characters written out
    let quarantine = reqwest::get(format!("{base}/quarantine"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        quarantine.contains("<td>\\u{1b}[31mRED\\u{1b}]0;T\\u{7} \\u{7f}\\u{9b}2J</td>"),
        "{quarantine}"
    );
    let home = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("title=\"West\\u{1b}[2J Texas\\u{7}\\u{0} Intermediate\""),
        "{home}"
    );
    let series = reqwest::get(format!("{base}/series/WTI"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        series.contains(">USD\\u{1b}[5m/bbl\\u{7f}\\u{9b}</text>"),
        "{series}"
    );
    // the JSON API: the same text, every control character a JSON escape, nothing raw
    for path in [
        "/api/status".to_owned(),
        "/api/runs".to_owned(),
        format!("/api/runs/{}", run.uuid),
        "/api/runs/%1B%5B2J".to_owned(),
        "/api/series/WTI".to_owned(),
    ] {
        let body = reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let raw: Vec<char> = body
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .collect();
        assert!(raw.is_empty(), "{path}: raw {raw:?} in\n{body}");
    }
    // and parsed, the text is what was configured
    let doc: serde_json::Value = reqwest::get(format!("{base}/api/series/WTI"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["unit"], "USD\x1b[5m/bbl\u{7f}\u{9b}");
    stop.cancel();
}

/// Issue 30, item 9: with the database away `/metrics` still answers 200 with what needs no
/// database (the scheduler's liveness, `database_up 0`), so `scheduler_up` keeps its series;
/// runs in progress are a gauge, and `runs_total` counts finished runs only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_without_the_database_still_report_the_scheduler() {
    use energy_storage::testing::{Relay, TestSchema, postgres_url};
    let Some(base) = postgres_url() else { return };
    let schema = TestSchema::create(&base, "webmetrics").await;
    let (relay, via) = Relay::in_front_of(&schema.url).await;
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_on(via.as_str(), [Behaviour::Data; 3], clock.clone()).await;
    let mut request = RunRequest::manual(RunMode::Incremental);
    request.commodities = vec![CommodityCode::new("WTI").unwrap()];
    s.pipeline
        .run(request, CancellationToken::new(), Arc::new(NoProgress))
        .await
        .unwrap();
    s.pipeline
        .store()
        .start_run(&energy_storage::RunStart {
            uuid: "still-going".into(),
            trigger: energy_core::Trigger::Schedule,
            mode: energy_core::ModeKind::Incremental,
            scheduled_for: None,
            started_at: now,
            host: "test-host".into(),
            pid: 4242,
        })
        .await
        .unwrap();
    let liveness = Arc::new(Liveness::default());
    liveness.loop_turned(now);
    let (base_url, stop) = serve(&s, clock, Some(liveness)).await;
    let scrape = || async {
        let r = reqwest::get(format!("{base_url}/metrics")).await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    let (status, text) = scrape().await;
    assert_eq!(status, 200, "{text}");
    for line in [
        "energy_pipeline_scheduler_up 1",
        "energy_pipeline_database_up 1",
        "energy_pipeline_runs_running 1",
        "energy_pipeline_runs_total{status=\"success\"} 1",
        "energy_pipeline_runs_total{status=\"failed\"} 0",
        "# TYPE energy_pipeline_runs_running gauge",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
    assert!(!text.contains("status=\"running\""), "{text}");

    relay.cut();
    relay.closed().await;
    let (status, text) = scrape().await;
    assert_eq!(status, 200, "{text}");
    for line in [
        "energy_pipeline_scheduler_up 1",
        "energy_pipeline_database_up 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
    // nothing read from the database is made up: no runs, no series
    assert!(!text.contains("energy_pipeline_runs"), "{text}");
    assert!(!text.contains("energy_pipeline_series_"), "{text}");
    stop.cancel();
    relay.restore();
    schema.drop().await;
}
