//! The scheduler through the real binary (`energy-pipeline schedule …`): exactly once with two
//! processes on one PostgreSQL, stop by command and by SIGTERM, status, next fire times, and
//! the HTTP endpoints (a parsed /metrics; /healthz turning 503 when the database goes away).

use std::{
    io::{Read, Write},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use energy_sources::replay::Replay;
use energy_storage::testing::Relay;
use serde_json::Value;

use crate::{
    pipeline::{Db, Env, everywhere, recent_weekdays},
    support::{stderr, stdout},
};

/// Recent data for every commodity under every provider, so that scheduled runs succeed.
pub(crate) fn recent_data() -> Replay {
    let replay = Replay::new();
    for (c, base) in [("WTI", 60), ("BRENT", 64), ("NATGAS", 3)] {
        everywhere(
            &replay,
            c,
            &recent_weekdays(15, 1, |i| format!("{base}.{}", i % 10)),
        );
    }
    replay
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scheduler(env: &Env, cron: &str, listen_port: u16, db_url: Option<&str>) -> Child {
    let mut cmd: Command = env.scratch.command(&["schedule", "start"]);
    cmd.env("PIPELINE_SCHEDULE__CRON", format!("\"{cron}\""))
        .env(
            "PIPELINE_SCHEDULE__LISTEN",
            format!("\"127.0.0.1:{listen_port}\""),
        )
        .env("PIPELINE_SCHEDULE__MISFIRE_GRACE_SECONDS", "30")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(url) = db_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.spawn().expect("start the scheduler")
}

/// `GET path` on 127.0.0.1:port: (status, body), or None when nothing answers.
pub(crate) fn get(port: u16, path: &str) -> Option<(u16, String)> {
    request(port, "GET", path)
}

fn request(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

pub(crate) async fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_exit(mut child: Child, within: Duration) -> (Option<i32>, String) {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return (status.code(), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the scheduler did not stop within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn status_json(env: &Env) -> Value {
    let out = env.run(&["schedule", "status", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_next_prints_fire_times_in_the_zone_across_dst() {
    let env = Env::new(Replay::new(), Db::Sqlite).await.unwrap();
    let out = env
        .run(&[
            "schedule",
            "next",
            "--count",
            "3",
            "--after",
            "2026-03-06T17:00:00Z",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "2026-03-07T06:00:00-05:00\n2026-03-08T06:00:00-04:00\n2026-03-09T06:00:00-04:00\n"
    );
    let out = env.run(&["schedule", "next", "--after", "yesterday"]).await;
    assert_eq!(out.status.code(), Some(2));
}

async fn two_schedulers_run_each_fire_time_exactly_once_on(db: Db) {
    let Some(env) = Env::new(recent_data(), db).await else {
        return;
    };
    let a = scheduler(&env, "*/2 * * * * *", free_port(), None);
    let b = scheduler(&env, "*/2 * * * * *", free_port(), None);
    // at least five fire times, two seconds apart
    tokio::time::sleep(Duration::from_secs(13)).await;
    let out = env.run(&["schedule", "stop", "--timeout", "20"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (code_a, err_a) = wait_exit(a, Duration::from_secs(10)).await;
    let (code_b, err_b) = wait_exit(b, Duration::from_secs(10)).await;
    assert_eq!(code_a, Some(0), "{err_a}");
    assert_eq!(code_b, Some(0), "{err_b}");

    let url = env.db_url();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let fires = client
        .query(
            "SELECT extract(epoch FROM scheduled_for)::bigint, state, claimed_by FROM schedule_fires ORDER BY scheduled_for",
            &[],
        )
        .await
        .unwrap();
    let times: Vec<i64> = fires.iter().map(|r| r.get(0)).collect();
    let states: Vec<String> = fires.iter().map(|r| r.get(1)).collect();
    let done = states.iter().filter(|s| *s == "done").count();
    assert!(done >= 5, "{states:?}");
    // one ledger row per fire time, and no fire time between the first and the last is absent
    for w in times.windows(2) {
        assert_eq!(w[1] - w[0], 2, "{times:?}");
    }
    // every fire time that ran has exactly one run
    let runs = client
        .query(
            "SELECT extract(epoch FROM scheduled_for)::bigint, count(*) FROM runs WHERE run_trigger = 'schedule' GROUP BY scheduled_for",
            &[],
        )
        .await
        .unwrap();
    for r in &runs {
        let n: i64 = r.get(1);
        assert_eq!(n, 1, "a fire time ran {n} times");
    }
    let ran: usize = fires
        .iter()
        .filter(|r| matches!(r.get::<_, String>(1).as_str(), "done" | "interrupted"))
        .count();
    assert_eq!(runs.len(), ran, "one run per fire time that was run");
    // both processes were there the whole time (which of them wins a claim is a race)
    let instances = client
        .query(
            "SELECT state FROM scheduler_instances ORDER BY instance_id",
            &[],
        )
        .await
        .unwrap();
    let states: Vec<String> = instances.iter().map(|r| r.get(0)).collect();
    assert_eq!(states, ["stopped", "stopped"]);
    let claimers: std::collections::BTreeSet<String> = fires.iter().map(|r| r.get(2)).collect();
    eprintln!("fire times claimed by {} process(es)", claimers.len());
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_on_one_postgres_run_each_fire_time_exactly_once() {
    two_schedulers_run_each_fire_time_exactly_once_on(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_on_one_timescaledb_run_each_fire_time_exactly_once() {
    two_schedulers_run_each_fire_time_exactly_once_on(Db::Timescale).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_schedule_stop_end_the_daemon_within_10_s() {
    let env = Env::new(recent_data(), Db::Sqlite).await.unwrap();
    // by SIGTERM
    let port = free_port();
    let child = scheduler(&env, "0 6 * * *", port, None);
    wait_for("/healthz", Duration::from_secs(20), || {
        get(port, "/healthz").is_some_and(|(s, _)| s == 200)
    })
    .await;
    let status = status_json(&env).await;
    assert_eq!(status["state"], "RUNNING", "{status}");
    assert_eq!(status["pid"], child.id());
    assert_eq!(status["timezone"], "America/New_York");
    assert!(
        status["next_run_at"]
            .as_str()
            .unwrap()
            .contains("T06:00:00-0"),
        "{status}"
    );
    let started = Instant::now();
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let (code, err) = wait_exit(child, Duration::from_secs(10)).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status_json(&env).await["state"], "STOPPED");

    // by `schedule stop`, with a run in flight: it finishes or is recorded interrupted
    let port = free_port();
    let child = scheduler(&env, "* * * * * *", port, None);
    wait_for("a scheduled run", Duration::from_secs(20), || {
        std::process::Command::new(env!("CARGO_BIN_EXE_energy-pipeline"))
            .args(["--config"])
            .arg(env.scratch.path().join("pipeline.yaml"))
            .args(["runs", "--json"])
            .output()
            .ok()
            .and_then(|o| serde_json::from_slice::<Vec<Value>>(&o.stdout).ok())
            .is_some_and(|runs| runs.iter().any(|r| r["trigger"] == "schedule"))
    })
    .await;
    let started = Instant::now();
    let out = env.run(&["schedule", "stop"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("stopped"), "{}", stdout(&out));
    let (code, err) = wait_exit(child, Duration::from_secs(10)).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // nothing is left running in the run history
    let runs: Vec<Value> =
        serde_json::from_str(&stdout(&env.run(&["runs", "--json"]).await)).unwrap();
    assert!(runs.iter().all(|r| r["status"] != "running"), "{runs:?}");
    let out = env.run(&["schedule", "status"]).await;
    assert!(stdout(&out).contains("STOPPED"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_scheduler_on_sqlite_is_refused_with_a_clear_message() {
    let env = Env::new(recent_data(), Db::Sqlite).await.unwrap();
    let port = free_port();
    let first = scheduler(&env, "0 6 * * *", port, None);
    wait_for("/healthz", Duration::from_secs(20), || {
        get(port, "/healthz").is_some_and(|(s, _)| s == 200)
    })
    .await;
    let second = scheduler(&env, "0 6 * * *", free_port(), None);
    let (code, err) = wait_exit(second, Duration::from_secs(10)).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("another scheduler is running"), "{err}");
    Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    wait_exit(first, Duration::from_secs(10)).await;
}

async fn metrics_parse_and_healthz_turns_503_without_the_database_on(db: Db) {
    let Some(env) = Env::new(recent_data(), db).await else {
        return;
    };
    // the same schema, reached through a relay the test can cut
    let (relay, proxied) = Relay::in_front_of(&env.db_url()).await;
    // one run first, so that every metric has something to say
    let (code, report, err) = env.run_json(&["--mode", "incremental"]).await;
    assert_eq!(code, Some(0), "{report}\n{err}");

    let port = free_port();
    let child = scheduler(&env, "0 6 * * *", port, Some(proxied.as_str()));
    wait_for("/healthz", Duration::from_secs(20), || {
        get(port, "/healthz").is_some_and(|(s, _)| s == 200)
    })
    .await;
    let (status, body) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200, "{body}");
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let names: std::collections::BTreeSet<&str> =
        scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    for expected in [
        "energy_pipeline_scheduler_up",
        "energy_pipeline_last_run_timestamp_seconds",
        "energy_pipeline_last_success_timestamp_seconds",
        "energy_pipeline_runs_total",
        "energy_pipeline_observations_stored",
        "energy_pipeline_fetch_duration_seconds",
        "energy_pipeline_series_age_seconds",
        "energy_pipeline_series_missing_trading_dates",
        "energy_pipeline_next_fire_timestamp_seconds",
    ] {
        assert!(names.contains(expected), "{expected} missing from\n{body}");
    }
    let stored_eia = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "energy_pipeline_observations_stored"
                && s.labels.get("source") == Some("eia")
        })
        .unwrap();
    match stored_eia.value {
        prometheus_parse::Value::Gauge(v) => assert!(v > 0.0, "{body}"),
        ref other => panic!("{other:?}"),
    }
    // a series' age counts from today in its market's zone, the days `status` shows in seconds
    let age = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "energy_pipeline_series_age_seconds"
                && s.labels.get("commodity") == Some("WTI")
                && s.labels.get("source") == Some("eia")
        })
        .unwrap();
    let status: Value =
        serde_json::from_str(&stdout(&env.run(&["status", "--json"]).await)).unwrap();
    let shown = status["freshness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["commodity"] == "WTI" && s["source"] == "eia")
        .unwrap()["age_days"]
        .as_f64()
        .unwrap();
    match age.value {
        prometheus_parse::Value::Gauge(v) => assert_eq!(v, shown * 86_400.0, "{body}"),
        ref other => panic!("{other:?}"),
    }
    assert_eq!(get(port, "/nope").unwrap().0, 404);
    // issue 13, item 15: HEAD answered 405
    for path in ["/metrics", "/healthz"] {
        let (status, body) = request(port, "HEAD", path).unwrap();
        assert_eq!((status, body.as_str()), (200, ""), "HEAD {path}");
    }
    assert_eq!(request(port, "POST", "/metrics").unwrap().0, 405);
    // every metric the Grafana dashboard charts is one that is served
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/grafana/energy-pipeline.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut charted = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("energy_pipeline_") {
                    charted += 1;
                    assert!(
                        names.contains(word),
                        "the dashboard charts {word}, which is not served"
                    );
                }
            }
        }
    }
    assert!(charted >= 8, "{charted}");

    relay.cut();
    wait_for("/healthz to turn 503", Duration::from_secs(20), || {
        get(port, "/healthz").is_some_and(|(s, _)| s == 503)
    })
    .await;
    let (_, body) = get(port, "/healthz").unwrap();
    assert!(body.contains("database: DOWN"), "{body}");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let (_code, _err) = wait_exit(child, Duration::from_secs(15)).await;
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_healthz_turns_503_without_the_database() {
    metrics_parse_and_healthz_turns_503_without_the_database_on(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_healthz_on_timescaledb() {
    metrics_parse_and_healthz_turns_503_without_the_database_on(Db::Timescale).await;
}

/// Issue 16 (first step): `energy-pipeline serve` serves /healthz, /metrics and /api/status
/// without a scheduler, read-only, until SIGTERM; a taken address is a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_read_only_without_a_scheduler_and_stops_on_sigterm() {
    let env = Env::new(recent_data(), Db::Sqlite).await.unwrap();
    let (code, _, err) = env.run_json(&["--commodity", "WTI"]).await;
    assert_eq!(code, Some(0), "{err}");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = env
        .scratch
        .command(&["serve", "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("/healthz", Duration::from_secs(20), || {
        get(port, "/healthz").is_some_and(|(s, _)| s == 200)
    })
    .await;
    let (status, body) = get(port, "/api/status").unwrap();
    assert_eq!(status, 200, "{body}");
    let api: Value = serde_json::from_str(&body).unwrap();
    let wti = api["freshness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["commodity"] == "WTI" && s["source"] == "eia")
        .unwrap();
    assert!(wti["latest_date"].is_string(), "{wti}");
    assert_eq!(api["scheduler"]["state"], "STOPPED");
    let (status, body) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("energy_pipeline_series_age_seconds{commodity=\"WTI\",source=\"eia\"}"));
    assert_eq!(request(port, "POST", "/api/status").unwrap().0, 405);
    // the address is taken now
    let out = env.run(&["serve", "--listen", &listen]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("cannot listen on {listen}")),
        "{}",
        stderr(&out)
    );
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let (code, err) = wait_exit(child, Duration::from_secs(10)).await;
    assert_eq!(code, Some(0), "{err}");
    env.cleanup().await;
}
