//! `status` end to end: the JSON schema, FRESH and STALE from real runs, no colour when piped,
//! and an unreachable database.

use serde_json::Value;

use crate::{
    pipeline::{Db, Env, everywhere, real_data, recent_weekdays},
    support::{stderr, stdout},
};

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_has_stable_keys_and_judges_freshness() {
    let replay = real_data();
    // WTI is recent everywhere, through today in New York (whatever the hour: every source
    // owes at most today's price); BRENT and NATGAS keep the real history, which ends in August
    everywhere(
        &replay,
        "WTI",
        &recent_weekdays(10, 0, |i| format!("6{i}.5")),
    );
    let env = Env::new(replay, Db::Sqlite).await.unwrap();
    let (code, _, err) = env
        .run_json(&["--mode", "backfill", "--start-date", "2026-07-01"])
        .await;
    assert_eq!(code, Some(0), "{err}");

    let out = env.run(&["status", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        keys(&v),
        [
            "configured",
            "database",
            "freshness",
            "generated_at",
            "last_runs",
            "scheduler"
        ]
    );
    assert_eq!(
        keys(&v["database"]),
        [
            "backend",
            "healthy",
            "message",
            "server_version",
            "timescaledb"
        ]
    );
    assert_eq!(v["database"]["healthy"], true);
    assert_eq!(v["database"]["backend"], "sqlite");
    let series = v["freshness"].as_array().unwrap();
    assert_eq!(series.len(), 9, "{series:?}");
    for s in series {
        assert_eq!(
            keys(s),
            [
                "age_days",
                "age_trading_days",
                "age_weekdays",
                "calendar",
                "commodity",
                "due_at",
                "expected_date",
                "latest_date",
                "latest_value",
                "missing_periods",
                "missing_since",
                "missing_trading_days",
                "note",
                "overdue_trading_days",
                "publication",
                "recent",
                "resolution",
                "source",
                "state",
                "unit"
            ]
        );
        assert!(s["latest_value"].is_number(), "{s}");
        assert!(s["recent"].as_array().unwrap().len() <= 30);
        let expected = if s["commodity"] == "WTI" {
            "FRESH"
        } else {
            "STALE"
        };
        assert_eq!(s["state"], expected, "{s}");
    }
    let brent = series
        .iter()
        .find(|s| s["commodity"] == "BRENT" && s["source"] == "eia")
        .unwrap();
    assert_eq!(brent["latest_date"], "2026-08-18");
    assert!(brent["age_days"].as_i64().unwrap() > 90);
    assert_eq!(brent["recent"].as_array().unwrap().len(), 30);
    assert_eq!(v["last_runs"][0]["status"], "success");
    assert_eq!(v["scheduler"]["state"], "STOPPED");
    assert!(
        v["scheduler"]["next_run_at"].is_null(),
        "a stopped scheduler fires nothing"
    );
    assert_eq!(v["scheduler"]["timezone"], "America/New_York");
    assert_eq!(v["configured"]["late_after_days"], 2);

    // for people: no colour when stdout is not a terminal
    let out = env.run(&["status"]).await;
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.contains("FRESH") && text.contains("STALE"), "{text}");
    assert!(
        text.contains("WTI/eia") && text.contains("LAST RUNS"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

/// On TimescaleDB the dashboard says the store is a hypertable and with which chunks; on a
/// plain PostgreSQL whose server has TimescaleDB installed but not preloaded it says what to
/// do, in the JSON message and on the terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_whether_timescaledb_is_used_and_what_to_do_when_it_is_not() {
    if let Some(env) = Env::new(real_data(), Db::Timescale).await {
        let out = env.run(&["status", "--json"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(v["database"]["timescaledb"], true, "{v}");
        let message = v["database"]["message"].as_str().unwrap();
        assert!(message.contains("hypertable, 365-day chunks"), "{message}");
        let text = stdout(&env.run(&["status"]).await);
        assert!(text.contains("TimescaleDB yes"), "{text}");
        env.cleanup().await;
    }
    let Some(env) = Env::new(real_data(), Db::Postgres).await else {
        return;
    };
    let out = env.run(&["status", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["database"]["timescaledb"], false, "{v}");
    let message = v["database"]["message"].as_str().unwrap().to_owned();
    let text = stdout(&env.run(&["status"]).await);
    assert!(text.contains("TimescaleDB no"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    if message.contains("not preloaded") {
        assert!(message.contains("shared_preload_libraries"), "{message}");
        assert!(text.contains("shared_preload_libraries"), "{text}");
    } else {
        assert!(message.contains("no TimescaleDB"), "{message}");
    }
    env.cleanup().await;
}

const UNREACHABLE: &[(&str, &str)] = &[(
    "DATABASE_URL",
    "postgres://pipeline:hunter2secret@127.0.0.1:1/prices",
)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_with_the_database_unreachable_says_so_and_exits_1() {
    let env = Env::new(real_data(), Db::Sqlite).await.unwrap();
    let out = env.run_with(&["status"], UNREACHABLE).await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("UNREACHABLE") && text.contains("127.0.0.1:1"),
        "{text}"
    );
    assert!(!text.contains("hunter2secret") && !stderr(&out).contains("hunter2secret"));

    let out = env.run_with(&["status", "--json"], UNREACHABLE).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["database"]["healthy"], false);
    assert!(
        v["database"]["message"]
            .as_str()
            .unwrap()
            .contains("unreachable")
    );
}
