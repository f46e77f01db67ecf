//! `run`, `runs` and `export` end to end: the real binary against the replay server, on SQLite,
//! PostgreSQL and TimescaleDB.

use energy_sources::replay::{Behaviour, Replay};
use serde_json::Value;

use crate::{
    pipeline::{
        Db, EIA_KEY, Env, FRED_KEY, batch, check_report_shape, everywhere, real_data,
        recent_weekdays, source, start_with_yahoo_stalled, u,
    },
    support::{stderr, stdout},
};

async fn full_refresh_twice_on(db: Db) {
    let Some(env) = Env::new(real_data(), db).await else {
        return;
    };
    let (code, first, err) = env.run_json(&["--mode", "full-refresh"]).await;
    assert_eq!(code, Some(0), "{first}\n{err}");
    check_report_shape(&first);
    assert_eq!(first["status"], "success");
    assert_eq!(first["mode"], "full_refresh");
    assert_eq!(first["trigger"], "manual");
    // 3 providers × 3 commodities of the real history over the last ten years
    assert!(u(&first["fetched"]) > 15_000, "{}", first["fetched"]);
    assert_eq!(u(&first["stored"]), u(&first["fetched"]));
    assert_eq!(u(&first["rejected"]), 0);
    // FRED lists holidays as "." : counted as missing, neither stored nor rejected
    assert!(u(&source(&first, "fred")["missing"]) > 0);
    // ten years fit in one page everywhere; EIA's WTI and Brent share a route and a request;
    // the report counts what the replay server answered
    for (provider, requests) in [("eia", 2), ("fred", 3), ("yahoo", 3)] {
        assert_eq!(
            u(&source(&first, provider)["requests"]),
            requests,
            "{provider}"
        );
        assert_eq!(env.server.replay().requests_of(provider), requests);
    }

    // the negative WTI settlement of 2020-04-20 is data, stored exactly
    let wti = env
        .export(&[
            "--commodity",
            "WTI",
            "--source",
            "eia",
            "--start-date",
            "2020-04-17",
            "--end-date",
            "2020-04-21",
        ])
        .await;
    assert_eq!(
        wti,
        [
            "WTI,eia,2020-04-17,18.31",
            "WTI,eia,2020-04-20,-36.98",
            "WTI,eia,2020-04-21,8.91"
        ]
    );
    // Yahoo's float32 noise is gone: the same digits as the other providers
    let yahoo = env
        .export(&[
            "--commodity",
            "WTI",
            "--source",
            "yahoo",
            "--start-date",
            "2020-04-20",
            "--end-date",
            "2020-04-20",
        ])
        .await;
    assert_eq!(yahoo, ["WTI,yahoo,2020-04-20,-36.98"]);

    // what the report says was stored is what export returns
    let all = env.export(&[]).await;
    assert_eq!(all.len() as u64, u(&first["stored"]));

    // the second identical full refresh stores nothing new
    let (code, second, err) = env.run_json(&["--mode", "full_refresh"]).await;
    assert_eq!(code, Some(0), "{second}\n{err}");
    assert_eq!(u(&second["stored"]), 0);
    // a run that stores nothing new says so in a handful of lines: one per batch and the run's
    // start and end, not one per row a warn-level rule flagged
    assert!(err.lines().count() <= 12, "{err}");
    assert_eq!(err.matches("batch stored").count(), 9, "{err}");
    assert!(!err.contains("jump"), "{err}");
    assert_eq!(u(&second["unchanged"]), u(&first["stored"]));
    assert_eq!(env.export(&[]).await.len(), all.len());

    // both runs are in the history, newest first
    let out = env.run(&["runs", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let runs: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["run_id"], second["run_id"]);
    assert_eq!(runs[1]["run_id"], first["run_id"]);
    assert_eq!(runs[1]["stored"], first["stored"]);
    let table = stdout(&env.run(&["runs"]).await);
    assert!(
        table.contains("full_refresh") && table.contains("success"),
        "{table}"
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_refresh_stores_everything_once_on_sqlite() {
    full_refresh_twice_on(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_refresh_stores_everything_once_on_postgres() {
    full_refresh_twice_on(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_refresh_stores_everything_once_on_timescaledb() {
    full_refresh_twice_on(Db::Timescale).await;
}

/// The server refuses one commodity's rows (a trigger raises, as a full disk, a lock limit or
/// a dropped table would): its batches fail with the server's own message and hint, on the
/// COPY path (a ten-year refresh) and on the small-batch path, the others are stored, and the
/// run is recorded partial, never left running.
async fn a_server_error_in_a_batch_is_reported_in_its_words_on(db: Db) {
    let Some(env) = Env::new(real_data(), db).await else {
        return;
    };
    let (code, report, err) = env
        .run_json(&["--mode", "full-refresh", "--commodity", "WTI"])
        .await;
    assert_eq!(code, Some(0), "{report}\n{err}");
    env.sql(
        "CREATE FUNCTION refuse_brent() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF NEW.commodity_id = (SELECT id FROM commodities WHERE code = 'BRENT') THEN \
             RAISE EXCEPTION 'injected failure for BRENT' \
               USING DETAIL = 'a test trigger refused the row', HINT = 'drop the trigger refuse_brent'; \
           END IF; \
           RETURN NEW; \
         END $$; \
         CREATE TRIGGER refuse_brent BEFORE INSERT ON observations \
           FOR EACH ROW EXECUTE FUNCTION refuse_brent()",
    )
    .await;
    for args in [
        &["--mode", "full-refresh"][..],
        &[
            "--mode",
            "backfill",
            "--start-date",
            "2026-07-01",
            "--end-date",
            "2026-08-18",
        ][..],
    ] {
        let (code, report, err) = env.run_json(args).await;
        assert_eq!(code, Some(3), "{report}\n{err}");
        assert_eq!(report["status"], "partial", "{report}");
        for provider in ["eia", "fred", "yahoo"] {
            let brent = batch(&report, provider, "BRENT");
            assert_eq!(brent["status"], "failed", "{brent}");
            assert_eq!(brent["error"]["kind"], "storage", "{brent}");
            let error = brent["error"]["message"].as_str().unwrap();
            assert!(error.contains("injected failure for BRENT"), "{error}");
            assert!(error.contains("a test trigger refused the row"), "{error}");
            assert!(
                error.contains("hint: drop the trigger refuse_brent"),
                "{error}"
            );
            assert!(!error.contains("unreachable"), "{error}");
            assert_eq!(batch(&report, provider, "NATGAS")["status"], "success");
        }
    }
    let out = env.run(&["runs", "--json"]).await;
    let runs: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r["status"] != "running"), "{runs:?}");
    assert_eq!(runs[0]["status"], "partial");
    env.cleanup().await;
}

/// A PostgreSQL set-up with one run stored, whose server then fails the first `failures`
/// writes of a run's outcome (an UPDATE of `runs` with a report); a sequence counts them, since
/// a failed statement rolls back anything else. Then a second run: its exit code, report and
/// stderr.
async fn run_with_refused_outcomes(failures: i64) -> Option<(Env, Option<i32>, Value, String)> {
    let env = Env::new(real_data(), Db::Postgres).await?;
    let (code, _, err) = env
        .run_json(&["--mode", "backfill", "--start-date", "2026-08-01"])
        .await;
    assert_eq!(code, Some(0), "{err}");
    env.sql(&format!(
        "CREATE SEQUENCE outcome_writes; \
         CREATE FUNCTION refuse_outcome() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF NEW.report IS NOT NULL AND nextval('outcome_writes') <= {failures} THEN \
             RAISE EXCEPTION 'injected: the outcome write failed'; \
           END IF; \
           RETURN NEW; \
         END $$; \
         CREATE TRIGGER refuse_outcome BEFORE UPDATE ON runs \
           FOR EACH ROW EXECUTE FUNCTION refuse_outcome()"
    ))
    .await;
    let (code, report, err) = env
        .run_json(&["--mode", "backfill", "--start-date", "2026-08-10"])
        .await;
    Some((env, code, report, err))
}

/// A database that refuses the run's outcome twice: the write is retried and the run is
/// recorded with its report, not left running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_outcome_write_is_retried_until_the_run_is_recorded() {
    let Some((env, code, report, err)) = run_with_refused_outcomes(2).await else {
        return;
    };
    assert_eq!(code, Some(0), "{report}\n{err}");
    assert!(err.contains("retrying"), "{err}");
    let out = env.run(&["runs", "--json"]).await;
    let runs: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(runs[0]["run_id"], report["run_id"]);
    assert_eq!(runs[0]["status"], "success");
    assert_eq!(runs[0]["fetched"], report["fetched"]);
    assert!(
        !runs[0]["sources"].as_array().unwrap().is_empty(),
        "the full report is stored"
    );
    env.cleanup().await;
}

/// A database that never takes the run's outcome: the report is still printed (and logged),
/// the run is recorded failed with its counts, and the command fails with exit 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_that_cannot_be_written_leaves_the_run_failed_not_running() {
    let Some((env, code, report, err)) = run_with_refused_outcomes(1_000_000).await else {
        return;
    };
    assert_eq!(code, Some(1), "{report}\n{err}");
    assert!(
        err.contains("could not be recorded") && err.contains("injected: the outcome write failed"),
        "{err}"
    );
    assert!(err.contains("recorded as failed"), "{err}");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("could not be recorded"),
        "{report}"
    );
    let out = env.run(&["runs", "--json"]).await;
    let runs: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(runs[0]["run_id"], report["run_id"]);
    assert_eq!(runs[0]["status"], "failed");
    assert_eq!(runs[0]["fetched"], report["fetched"]);
    assert!(runs.iter().all(|r| r["status"] != "running"), "{runs:?}");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_in_a_batch_is_reported_in_its_words_on_postgres() {
    a_server_error_in_a_batch_is_reported_in_its_words_on(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_in_a_batch_is_reported_in_its_words_on_timescaledb() {
    a_server_error_in_a_batch_is_reported_in_its_words_on(Db::Timescale).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_provider_refusing_its_key_gives_partial_and_exit_3() {
    let replay = real_data();
    replay.behave(
        "fred",
        Behaviour {
            fail_with: Some(403),
            ..Behaviour::default()
        },
    );
    let env = Env::new(replay, Db::Sqlite).await.unwrap();
    let (code, report, err) = env
        .run_json(&[
            "--mode",
            "backfill",
            "--start-date",
            "2024-01-01",
            "--end-date",
            "2024-03-31",
        ])
        .await;
    assert_eq!(code, Some(3), "{report}\n{err}");
    check_report_shape(&report);
    assert_eq!(report["status"], "partial");
    assert_eq!(source(&report, "fred")["status"], "failed");
    assert_eq!(source(&report, "eia")["status"], "success");
    assert_eq!(source(&report, "yahoo")["status"], "success");
    // the error is structured: its kind, and a message without the provider in front
    let error = &source(&report, "fred")["error"];
    assert_eq!(error["kind"], "unauthorized", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("FRED_API_KEY"), "{message}");
    assert!(!message.starts_with("fred:"), "{message}");
    // the others' data is stored; FRED's is not
    assert!(!env.export(&["--source", "eia"]).await.is_empty());
    assert!(env.export(&["--source", "fred"]).await.is_empty());
    // no key anywhere: not in the report, not in the logs, not in the log file
    let logs = std::fs::read_dir(env.scratch.path().join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    for text in [report.to_string(), err, logs] {
        assert!(
            !text.contains(FRED_KEY) && !text.contains(EIA_KEY),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_down_fails_with_exit_1() {
    let replay = real_data();
    for p in ["eia", "fred", "yahoo"] {
        replay.behave(
            p,
            Behaviour {
                fail_with: Some(503),
                ..Behaviour::default()
            },
        );
    }
    let env = Env::new(replay, Db::Sqlite).await.unwrap();
    let (code, report, err) = env.run_json(&["--mode", "full-refresh"]).await;
    assert_eq!(code, Some(1), "{report}\n{err}");
    assert_eq!(report["status"], "failed");
    assert_eq!(u(&report["stored"]), 0);
    check_report_shape(&report);
    // 503 is retried: 8 requests (EIA's WTI and Brent share one) × 2 attempts
    assert_eq!(env.server.replay().requests(), 16);
    for (provider, requests) in [("eia", 4), ("fred", 6), ("yahoo", 6)] {
        assert_eq!(
            u(&source(&report, provider)["requests"]),
            requests,
            "{provider}"
        );
    }
    // each failure said once: the attempt that is retried, then each batch's final error
    // with the count
    assert!(!err.contains("after 1 attempts"), "{err}");
    assert_eq!(err.matches("request failed, retrying").count(), 8, "{err}");
    assert_eq!(err.matches("after 2 attempts").count(), 9, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_below_the_quality_gate_is_quarantined_not_stored() {
    let replay = real_data();
    // FRED's Henry Hub series turns to garbage for half of the window: out of the plausible range
    let rows = recent_weekdays(16, 3, |i| {
        if i % 2 == 0 {
            "3.1".into()
        } else {
            "31000".into()
        }
    });
    replay.series("fred", "DHHNGSP", rows);
    let env = Env::new(replay, Db::Sqlite).await.unwrap();
    let (code, report, err) = env
        .run_json(&[
            "--mode",
            "incremental",
            "--commodity",
            "NATGAS",
            "--source",
            "fred",
        ])
        .await;
    assert_eq!(code, Some(1), "{report}\n{err}");
    let b = batch(&report, "fred", "NATGAS");
    assert_eq!(b["status"], "failed");
    assert_eq!(u(&b["fetched"]), 16);
    assert_eq!(u(&b["stored"]), 0);
    assert_eq!(
        u(&b["rejected"]),
        16,
        "every row of a gated batch is quarantined"
    );
    assert_eq!(b["quality_score"].as_f64(), Some(0.5));
    assert_eq!(b["error"]["kind"], "quality_gate", "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("below the gate"),
        "{b}"
    );
    assert!(env.export(&["--source", "fred"]).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_resumes_after_the_latest_stored_date_and_keeps_revisions() {
    let replay = Replay::new();
    let rows = recent_weekdays(30, 10, |i| format!("{}.5", 60 + i % 3));
    everywhere(&replay, "WTI", &rows);
    let env = Env::new(replay.clone(), Db::Sqlite).await.unwrap();
    let args = ["--mode", "incremental", "--commodity", "WTI"];
    let (code, first, err) = env.run_json(&args).await;
    assert_eq!(code, Some(0), "{first}\n{err}");
    // nothing stored yet: the last lookback_days (30) days
    let w = &first["window"];
    let start: chrono::NaiveDate = w["start"].as_str().unwrap().parse().unwrap();
    let end: chrono::NaiveDate = w["end"].as_str().unwrap().parse().unwrap();
    assert_eq!((end - start).num_days(), 29);
    let first_stored = u(&first["stored"]);
    assert!(first_stored > 0);

    // two new days, and the provider revises the latest stored value
    let mut newer = recent_weekdays(32, 0, |i| format!("{}.5", 60 + i % 3));
    newer.retain(|(d, _)| *d > rows[0].0);
    let latest = rows.last().unwrap().0;
    for r in newer.iter_mut() {
        if r.0 == latest {
            r.1 = "99.25".into();
        }
    }
    everywhere(&replay, "WTI", &newer);
    let (code, second, err) = env.run_json(&args).await;
    assert_eq!(code, Some(0), "{second}\n{err}");
    let b = batch(&second, "eia", "WTI");
    // the window starts revision_days (7) before the latest stored date
    assert_eq!(
        b["window"]["start"].as_str().unwrap(),
        (latest - chrono::Days::new(7)).to_string()
    );
    let new_days = newer.iter().filter(|(d, _)| *d > latest).count() as u64;
    assert_eq!(
        u(&b["stored"]),
        new_days + 1,
        "new days plus the revised one"
    );
    let revised = env
        .export(&[
            "--source",
            "eia",
            "--start-date",
            &latest.to_string(),
            "--end-date",
            &latest.to_string(),
        ])
        .await;
    assert_eq!(revised, [format!("WTI,eia,{latest},99.25")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_stores_exactly_the_range() {
    let env = Env::new(real_data(), Db::Sqlite).await.unwrap();
    let (code, report, err) = env
        .run_json(&[
            "--mode",
            "backfill",
            "--start-date",
            "2008-07-01",
            "--end-date",
            "2008-07-31",
            "--source",
            "eia",
        ])
        .await;
    assert_eq!(code, Some(0), "{report}\n{err}");
    assert_eq!(report["mode"], "backfill");
    assert_eq!(report["window"]["start"], "2008-07-01");
    let rows = env.export(&[]).await;
    // 22 trading days in July 2008 (the 4th is a holiday), for each of 3 commodities
    assert_eq!(rows.len(), 66, "{rows:?}");
    assert!(rows.iter().all(|r| r.contains(",eia,2008-07-")));
    assert!(
        rows.contains(&"WTI,eia,2008-07-03,145.31".to_owned()),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_ends_the_run_before_fetching() {
    let env = Env::new(real_data(), Db::Sqlite).await.unwrap();
    let out = env.run(&["run", "--mode", "full-refresh"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let before = env.server.replay().requests();
    let out = env
        .run_with(
            &["run", "--mode", "full-refresh"],
            &[(
                "DATABASE_URL",
                "postgres://pipeline:hunter2secret@127.0.0.1:1/prices",
            )],
        )
        .await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("127.0.0.1:1") && err.contains("unreachable"),
        "{err}"
    );
    assert!(!err.contains("hunter2secret"), "{err}");
    assert_eq!(
        env.server.replay().requests(),
        before,
        "nothing was fetched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2() {
    let env = Env::new(Replay::new(), Db::Sqlite).await.unwrap();
    let out = env.run(&["run", "--mode", "backfill"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--start-date"), "{}", stderr(&out));
    let out = env.run(&["run", "--commodity", "COAL"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown commodity COAL"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.server.replay().requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_json_lines_with_exact_values() {
    let env = Env::new(real_data(), Db::Sqlite).await.unwrap();
    let (code, _, err) = env
        .run_json(&[
            "--mode",
            "backfill",
            "--start-date",
            "2020-04-20",
            "--end-date",
            "2020-04-20",
            "--source",
            "eia",
            "--commodity",
            "WTI",
        ])
        .await;
    assert_eq!(code, Some(0), "{err}");
    let out = env.run(&["export", "--format", "jsonl"]).await;
    assert_eq!(
        stdout(&out),
        "{\"commodity\":\"WTI\",\"source\":\"eia\",\"date\":\"2020-04-20\",\"value\":-36.98,\"unit\":\"USD/bbl\"}\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_loses_nothing_and_is_marked_interrupted_next_time() {
    let replay = real_data();
    let env = Env::new(replay.clone(), Db::Sqlite).await.unwrap();
    // Yahoo stalls, so the run is still going after EIA and FRED are stored
    let (mut child, stored_before_kill) = start_with_yahoo_stalled(&env, 2015, false).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(
        env.export(&[]).await.len(),
        stored_before_kill,
        "nothing committed was lost"
    );

    replay.behave("yahoo", Behaviour::default());
    let (code, report, err) = env
        .run_json(&[
            "--mode",
            "backfill",
            "--start-date",
            "2015-01-01",
            "--end-date",
            "2015-12-31",
        ])
        .await;
    assert_eq!(code, Some(0), "{report}\n{err}");
    assert!(err.contains("marked interrupted"), "{err}");
    // the rerun completes the data without duplicates
    assert_eq!(
        u(&report["stored"]) as usize + stored_before_kill,
        env.export(&[]).await.len()
    );
    assert_eq!(u(&report["unchanged"]) as usize, stored_before_kill);
    let runs: Vec<Value> =
        serde_json::from_str(&stdout(&env.run(&["runs", "--json"]).await)).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["status"], "interrupted");
    assert_eq!(runs[0]["status"], "success");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_cleanly_and_records_the_run_as_interrupted() {
    let env = Env::new(real_data(), Db::Sqlite).await.unwrap();
    let (child, stored) = start_with_yahoo_stalled(&env, 2016, true).await;
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        started.elapsed().as_secs() < 10,
        "the run did not stop promptly"
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["status"], "interrupted");
    assert_eq!(u(&report["stored"]) as usize, stored);
    assert_eq!(
        env.export(&[]).await.len(),
        stored,
        "what was stored stays stored"
    );
    let runs: Vec<Value> =
        serde_json::from_str(&stdout(&env.run(&["runs", "--json"]).await)).unwrap();
    assert_eq!(runs[0]["status"], "interrupted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_notification_channel_leaves_the_run_outcome_alone() {
    let env = Env::new(real_data(), Db::Sqlite).await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = format!("http://127.0.0.1:{closed}/services/T1/B2/hooksecret");
    let out = env
        .run_with(
            &[
                "run",
                "--mode",
                "backfill",
                "--start-date",
                "2020-04-20",
                "--end-date",
                "2020-04-24",
                "--json",
            ],
            &[
                ("PIPELINE_NOTIFICATIONS__SLACK__ENABLED", "true"),
                ("PIPELINE_NOTIFICATIONS__SLACK__SEND_ON_SUCCESS", "true"),
                ("SLACK_WEBHOOK_URL", &hook),
            ],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["status"], "success");
    assert_eq!(report["notifications"][0]["channel"], "slack");
    assert_eq!(report["notifications"][0]["delivered"], false);
    let all = format!("{report}{}", stderr(&out));
    assert!(!all.contains("hooksecret"), "{all}");
    // the stored report has it too
    let runs: Vec<Value> =
        serde_json::from_str(&stdout(&env.run(&["runs", "--json"]).await)).unwrap();
    assert_eq!(runs[0]["notifications"][0]["delivered"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_test_says_per_channel_whether_it_was_delivered() {
    let env = Env::new(Replay::new(), Db::Sqlite).await.unwrap();
    let out = env.run(&["notify", "test"]).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "nothing enabled: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("no notification channel is enabled"));

    // a local stand-in for Slack that records what it receives
    let hook = Replay::new().serve().await.unwrap();
    let url = format!("{}/services/T1/B2/hooksecret", hook.base_url("slack"));
    let out = env
        .run_with(
            &["notify", "test"],
            &[
                ("PIPELINE_NOTIFICATIONS__SLACK__ENABLED", "true"),
                ("SLACK_WEBHOOK_URL", &url),
            ],
        )
        .await;
    // the replay server answers 404 for a prefix it does not serve: not delivered, exit 1
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("slack  NOT delivered") && text.contains("404"),
        "{text}"
    );
    assert!(!text.contains("hooksecret"), "{text}");
    assert_eq!(hook.replay().requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_go_to_stderr_and_a_daily_file_as_json_lines_when_asked() {
    let env = Env::new(real_data(), Db::Sqlite).await.unwrap();
    let (code, _, err) = env
        .run_json(&[
            "--mode",
            "backfill",
            "--start-date",
            "2020-04-20",
            "--end-date",
            "2020-04-24",
            "--log-format",
            "json",
        ])
        .await;
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v.get("level").is_some() && v.get("fields").is_some(), "{l}");
    }
    assert!(err.contains("run finished"), "{err}");
    let files: Vec<_> = std::fs::read_dir(env.scratch.path().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    // daily files named by the UTC date; the run may have crossed midnight
    let today = chrono::Utc::now().date_naive();
    let named: Vec<String> = [today.pred_opt().unwrap(), today]
        .iter()
        .map(|d| format!("energy-pipeline.json.log.{d}"))
        .collect();
    assert!(named.contains(&files[0]), "{files:?}");
    let logged = std::fs::read_to_string(env.scratch.path().join("logs").join(&files[0])).unwrap();
    assert!(logged.contains("run finished"), "{logged}");
}

/// Issue 13, item 10: `notify test` with email used to abort (exit 134) when the SMTP
/// transport was dropped after its runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_test_delivers_email_to_a_local_smtp_server() {
    let env = Env::new(Replay::new(), Db::Sqlite).await.unwrap();
    let smtp = energy_notify::testing::smtp::SmtpServer::start(false).await;
    let port = smtp.port.to_string();
    let out = env
        .run_with(
            &["notify", "test"],
            &[
                ("PIPELINE_NOTIFICATIONS__EMAIL__ENABLED", "true"),
                ("PIPELINE_NOTIFICATIONS__EMAIL__SMTP_SERVER", "127.0.0.1"),
                ("PIPELINE_NOTIFICATIONS__EMAIL__SMTP_PORT", &port),
                ("PIPELINE_NOTIFICATIONS__EMAIL__TLS", "none"),
                ("SMTP_USER", "desk"),
                ("SMTP_PASSWORD", "smtp-pass-secret"),
            ],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("email  delivered"),
        "{}",
        stdout(&out)
    );
    let got = smtp.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].data.contains("TEST"), "{}", got[0].data);
    assert!(!stderr(&out).contains("smtp-pass-secret"));
}

/// Issue 13, item 7, with processes: several `run` and `runs` started at once on a SQLite file
/// that does not exist yet all succeed (14 of 20 failed with `database is locked`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_started_at_once_on_a_new_sqlite_file_all_succeed() {
    let env = Env::new(real_data(), Db::Sqlite).await.unwrap();
    // every process is started before any is waited for
    let children: Vec<_> = (0..6)
        .map(|_| {
            env.scratch
                .command(&[
                    "run",
                    "--mode",
                    "backfill",
                    "--start-date",
                    "2020-04-20",
                    "--end-date",
                    "2020-04-24",
                    "--json",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("binary starts")
        })
        .collect();
    let outs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().expect("binary runs"))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for out in &outs {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    }
    let runs: Vec<Value> =
        serde_json::from_str(&stdout(&env.run(&["runs", "--json"]).await)).unwrap();
    assert_eq!(runs.len(), 6);
}
