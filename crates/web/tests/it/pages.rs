//! Every page and API route on SQLite and PostgreSQL, and what a name or value from outside
//! may hold: markup and control characters render as text.

#[allow(unused_imports)]
use super::*;

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
    let record = s
        .pipeline
        .store()
        .runs()
        .by_uuid(id)
        .await
        .unwrap()
        .unwrap();
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
        .observations()
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
    let run = s.pipeline.store().runs().recent(1).await.unwrap().remove(0);
    let hostile = "\x1b[31mRED\x1b]0;T\x07 \u{7f}\u{9b}2J";
    s.pipeline
        .store()
        .observations()
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
