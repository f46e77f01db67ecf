//! Issue 30 (hardening 2): what an upstream, a configuration or a terminal can throw at the
//! binary, each case reproduced from the hostile pass that found it.

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{
    memory::vm_hwm_mb,
    support::{Scratch, stderr, stdout},
};

/// A local HTTP server answering every request with `body` (200, JSON), on a thread.
fn serve_every_request(body: String) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

/// An EIA answer of five RWTC rows whose `total` claims `total` rows: about 1 KB.
fn eia_answer_claiming(total: &str) -> String {
    let rows: Vec<String> = (3..8)
        .map(|d| {
            format!(
                "{{\"period\":\"2026-08-0{d}\",\"series\":\"RWTC\",\"series-description\":\"Cushing, OK WTI Spot Price FOB (Dollars per Barrel)\",\"value\":\"6{d}.25\",\"units\":\"$/BBL\"}}"
            )
        })
        .collect();
    format!(
        "{{\"response\":{{\"total\":\"{total}\",\"dateFormat\":\"YYYY-MM-DD\",\"frequency\":\"daily\",\"data\":[{}]}},\"apiVersion\":\"2.1.13\"}}",
        rows.join(",")
    )
}

/// Critical: EIA's `total` sized an allocation before the page count was checked. An answer of
/// five rows with `"total":"4000000000"` took the CLI to 6.3 GB in 14 s, and 2^64 - 1 had it
/// killed (exit 137) or aborted. Each is a `malformed` failure of the batch now: exit 1, a
/// clear reason, memory small.
#[test]
fn an_absurd_eia_total_is_a_malformed_answer_not_an_allocation() {
    for total in ["4000000000", "18446744073709551615"] {
        let addr = serve_every_request(eia_answer_claiming(total));
        let s = Scratch::new()
            .env("DATABASE_URL", "sqlite://p.db")
            .env("EIA_API_KEY", "test-key-eia");
        s.write(
            "pipeline.yaml",
            &format!(
                "sources:\n  fred: {{ enabled: false }}\n  yahoo: {{ enabled: false }}\n\
                 \x20 eia: {{ base_url: \"http://{addr}\", series: {{ WTI: \"petroleum/pri/spt:RWTC\" }} }}\n\
                 retry: {{ max_attempts: 1 }}\n"
            ),
        );
        let mut child = s
            .command(&[
                "--config",
                "pipeline.yaml",
                "run",
                "--commodity",
                "WTI",
                "--mode",
                "backfill",
                "--start-date",
                "2026-08-01",
                "--end-date",
                "2026-08-31",
                "--json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut peak: f64 = 0.0;
        while child.try_wait().unwrap().is_none() {
            if let Some(mb) = vm_hwm_mb(pid) {
                peak = peak.max(mb);
            }
            if peak >= 100.0 || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("total {total}: {peak:.1} MB and still running");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "total {total}: {}",
            stderr(&out)
        );
        let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(report["status"], "failed", "{report:#}");
        let batch = &report["sources"][0]["commodities"][0];
        assert_eq!(batch["error"]["kind"], "malformed", "{report:#}");
        let message = batch["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(total),
            "the reason names the total: {message}"
        );
        assert!(!message.contains("test-key-eia"), "{message}");
    }
}

/// `config check` on `yaml`: its exit code and stderr.
fn config_check(yaml: &str) -> (Option<i32>, String) {
    let s = Scratch::new().env("DATABASE_URL", "sqlite://p.db");
    s.write("pipeline.yaml", yaml);
    let out = s.run(&["config", "check"]);
    (out.status.code(), stderr(&out))
}

/// Item 4: configurations that can do nothing passed `config check`: a cron of February 30th
/// (never fires), every provider with `series: {}` (the run said SUCCESS with 0 batches), and
/// unencrypted SMTP to a remote server (the README says `tls: none` is for a relay on this
/// host). Each is a configuration error naming its key; the working neighbours still pass.
#[test]
fn configurations_that_can_do_nothing_or_leak_are_refused_by_config_check() {
    let (code, err) = config_check("schedule: { cron: \"0 0 30 2 *\" }\n");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("schedule.cron") && err.contains("never fires"),
        "{err}"
    );
    // February 29th does fire, every four years
    let (code, err) = config_check("schedule: { cron: \"0 0 29 2 *\" }\n");
    assert_eq!(code, Some(0), "{err}");

    let (code, err) = config_check(
        "sources:\n  eia: { series: {} }\n  fred: { series: {} }\n  yahoo: { series: {} }\n",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("nothing to fetch"), "{err}");
    let (code, err) = config_check("sources:\n  eia: { series: {} }\n  fred: { series: {} }\n");
    assert_eq!(code, Some(0), "yahoo still has series: {err}");

    let email = |server: &str| {
        format!(
            "notifications:\n  email: {{ enabled: true, tls: none, smtp_server: {server}, smtp_port: 25, from_email: a@example.com, to_emails: [b@example.com] }}\n"
        )
    };
    let (code, err) = config_check(&email("smtp.gmail.com"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("notifications.email.tls") && err.contains("smtp.gmail.com"),
        "{err}"
    );
    for local in ["localhost", "127.0.0.1", "\"::1\""] {
        let (code, err) = config_check(&email(local));
        assert_eq!(code, Some(0), "{local}: {err}");
    }
}

/// Item 4: `schedule next --after 9999-12-31T23:59:59Z` printed nothing and exited 0. Fire
/// times are computed up to the year 5000: past it is a usage error that says so.
#[test]
fn schedule_next_past_the_last_computable_year_says_so() {
    let s = Scratch::new().env("DATABASE_URL", "sqlite://p.db");
    let out = s.run(&["schedule", "next", "--after", "9999-12-31T23:59:59Z"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("5000"), "{}", stderr(&out));
    let out = s.run(&[
        "schedule",
        "next",
        "--after",
        "2026-08-10T00:00:00Z",
        "--count",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
}

/// Item 12: `schedule status` after both replicas stopped showed only one of them. Each
/// replica of the last session is named; an older, earlier session's is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_status_names_every_replica_that_stopped() {
    use energy_storage::{DatabaseUrl, InstanceState, SchedulerRecord, Store};
    let s = Scratch::new().env("DATABASE_URL", "sqlite://p.db");
    let url = DatabaseUrl::parse(&format!("sqlite://{}/p.db", s.path().display())).unwrap();
    let store = Store::open(&url).await.unwrap();
    let t =
        |h: u32| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, h, 0, 0).unwrap();
    for (host, pid, from, to) in [
        ("desk-old", 99, 1, 2),
        ("desk-a", 101, 5, 9),
        ("desk-b", 202, 6, 8),
    ] {
        store
            .schedule()
            .register(&SchedulerRecord {
                instance_id: format!("{host}:{pid}"),
                host: host.into(),
                pid,
                started_at: t(from),
                heartbeat_at: t(to),
                next_fire_at: None,
                state: InstanceState::Running,
                stop_requested: false,
            })
            .await
            .unwrap();
        store
            .schedule()
            .stopped(&format!("{host}:{pid}"), t(to))
            .await
            .unwrap();
    }
    let out = s.run(&["schedule", "status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("STOPPED (last on desk-a, pid 101, at 2026-11-25 09:00:00 UTC)"),
        "{text}"
    );
    assert!(
        text.contains("(last on desk-b, pid 202, at 2026-11-25 08:00:00 UTC)"),
        "{text}"
    );
    assert!(!text.contains("desk-old"), "{text}");
}

/// Item 12: `runs` showed an interrupted run's TIME as the time until another process
/// noticed it (here a minute), not how long it was seen working (until its last heartbeat,
/// 3 s), started only to the minute, with no run id nor reason. Now: to the second, the time
/// it worked, and a line with its id and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_shows_an_interrupted_run_by_the_time_it_worked_with_its_id_and_why() {
    use energy_storage::{DatabaseUrl, RunStart, Store};
    let s = Scratch::new().env("DATABASE_URL", "sqlite://p.db");
    let url = DatabaseUrl::parse(&format!("sqlite://{}/p.db", s.path().display())).unwrap();
    let store = Store::open(&url).await.unwrap();
    let started: chrono::DateTime<chrono::Utc> = "2026-11-25T11:00:07Z".parse().unwrap();
    let uuid = "0193a1e2-7c4d-7e3a-9f10-3b2c1d0e9a8f";
    let run = store
        .runs()
        .start(&RunStart {
            uuid: uuid.into(),
            trigger: energy_core::Trigger::Manual,
            mode: energy_core::ModeKind::Incremental,
            scheduled_for: None,
            attempt: None,
            started_at: started,
            host: "elsewhere".into(),
            pid: 1,
        })
        .await
        .unwrap();
    store
        .runs()
        .heartbeat(run, started + chrono::Duration::seconds(3))
        .await
        .unwrap();
    assert!(
        store
            .runs()
            .mark_interrupted(run, started + chrono::Duration::seconds(60))
            .await
            .unwrap()
    );
    let out = s.run(&["runs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|l| l.starts_with("2026-11-25 11:00:07"))
        .unwrap_or_else(|| panic!("no row started to the second: {text}"));
    assert!(
        row.contains("interrupted") && row.contains("3.00s"),
        "{row}"
    );
    assert!(
        text.contains(&format!("  └ {uuid}: the run was interrupted")),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}
