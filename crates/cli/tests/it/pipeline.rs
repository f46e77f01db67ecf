//! A pipeline set-up for `run`, `runs` and `export` tests: a replay server standing in for the
//! three providers, a scratch directory with its configuration, and a database (a SQLite file,
//! or a fresh PostgreSQL schema).

use std::{path::PathBuf, process::Output};

use chrono::{Days, NaiveDate, Utc};
use energy_sources::replay::{Replay, ReplayServer};
use energy_storage::testing::{TestSchema, server_url};
use serde_json::Value;

use crate::support::{Scratch, stderr, stdout};

pub(crate) const EIA_KEY: &str = "eiaKEYsecret0123456789abcdef0000";
pub(crate) const FRED_KEY: &str = "fredkeysecret0123456789abcdef000";

/// The real daily histories in `shared/data`, as the crate ships them for tests.
pub(crate) fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

pub(crate) enum Db {
    Sqlite,
    Postgres,
    /// PostgreSQL with TimescaleDB (`TEST_TIMESCALEDB_URL`).
    Timescale,
}

pub(crate) struct Env {
    pub scratch: Scratch,
    pub server: ReplayServer,
    db_url: String,
    pg: Option<TestSchema>,
}

impl Env {
    /// A scratch set-up serving `replay`, or `None` when PostgreSQL is asked for but not
    /// configured outside CI.
    pub(crate) async fn new(replay: Replay, db: Db) -> Option<Self> {
        let server = replay.serve().await.expect("replay server");
        let scratch = Scratch::new();
        let (db_url, pg) = match db {
            Db::Sqlite => (
                format!("sqlite://{}/db/pipeline.db", scratch.path().display()),
                None,
            ),
            Db::Postgres | Db::Timescale => {
                let server = server_url(matches!(db, Db::Timescale))?;
                let schema = TestSchema::create(&server, "e2e").await;
                (schema.url.clone(), Some(schema))
            }
        };
        let config = format!(
            r#"# written by the end-to-end tests
database: {{ url: "{db_url}" }}
retry: {{ max_attempts: 2, initial_backoff_seconds: 0.01, max_backoff_seconds: 0.05 }}
sources:
  eia: {{ base_url: "{eia}", timeout_seconds: 10 }}
  fred: {{ base_url: "{fred}", timeout_seconds: 10 }}
  yahoo: {{ base_url: "{yahoo}", timeout_seconds: 10 }}
"#,
            eia = server.base_url("eia"),
            fred = server.base_url("fred"),
            yahoo = server.base_url("yahoo"),
        );
        scratch.write("pipeline.yaml", &config);
        let scratch = scratch
            .env("EIA_API_KEY", EIA_KEY)
            .env("FRED_API_KEY", FRED_KEY);
        Some(Self {
            scratch,
            server,
            db_url,
            pg,
        })
    }

    pub(crate) fn db_url(&self) -> String {
        self.db_url.clone()
    }

    /// Runs the binary on a blocking thread, so that the replay server keeps answering.
    pub(crate) async fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[]).await
    }

    /// As [`Env::run`], with extra environment variables.
    pub(crate) async fn run_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut cmd = self.scratch.command(args);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        tokio::task::spawn_blocking(move || cmd.output().expect("binary runs"))
            .await
            .expect("join")
    }

    /// `run … --json`, checked to be exactly one JSON object.
    pub(crate) async fn run_json(&self, args: &[&str]) -> (Option<i32>, Value, String) {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.push("--json");
        let out = self.run(&all).await;
        let text = stdout(&out);
        let mut stream = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
        let report = match stream.next() {
            Some(Ok(v)) if v.is_object() => v,
            other => panic!(
                "expected one JSON object on stdout, got {other:?}\nstdout: {text}\nstderr: {}",
                stderr(&out)
            ),
        };
        assert!(
            stream.next().is_none(),
            "more than one JSON value on stdout: {text}"
        );
        (out.status.code(), report, stderr(&out))
    }

    /// `export` as CSV lines (header removed).
    pub(crate) async fn export(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["export"];
        all.extend_from_slice(args);
        let out = self.run(&all).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("commodity,source,date,value"));
        lines.map(str::to_owned).collect()
    }

    /// Runs SQL on the PostgreSQL schema behind the store (for tests that break things).
    pub(crate) async fn sql(&self, sql: &str) {
        let schema = self.pg.as_ref().expect("a PostgreSQL set-up");
        energy_storage::testing::admin(&schema.url, sql).await;
    }

    pub(crate) async fn cleanup(self) {
        if let Some(schema) = &self.pg {
            schema.drop().await;
        }
    }
}

/// The real histories under every provider's default series.
pub(crate) fn real_data() -> Replay {
    Replay::from_data_dir(&data_dir()).expect("test data")
}

/// Weekdays ending `days_ago` before today in the markets' zone (every default series trades in
/// New York; between midnight UTC and midnight New York the UTC date is a day ahead, and a row
/// dated "today" in UTC lies in the market's future), oldest first, with values from `value(i)`.
pub(crate) fn recent_weekdays(
    count: usize,
    days_ago: u64,
    value: impl Fn(usize) -> String,
) -> Vec<(NaiveDate, String)> {
    use chrono::Datelike;
    let mut day = Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive()
        - Days::new(days_ago);
    let mut out = Vec::new();
    while out.len() < count {
        if day.weekday().number_from_monday() <= 5 {
            out.push(day);
        }
        day = day.pred_opt().unwrap();
    }
    out.reverse();
    out.into_iter()
        .enumerate()
        .map(|(i, d)| (d, value(i)))
        .collect()
}

/// Sets the same rows for every provider's default series of `commodity`.
pub(crate) fn everywhere(replay: &Replay, commodity: &str, rows: &[(NaiveDate, String)]) {
    for info in energy_sources::PROVIDERS {
        if let Some((_, id)) = info.series.iter().find(|(c, _)| *c == commodity) {
            replay.series(info.name, id, rows.to_vec());
        }
    }
}

pub(crate) fn u(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("expected a count, got {v}"))
}

/// The report of one (source, commodity).
pub(crate) fn batch<'a>(report: &'a Value, source: &str, commodity: &str) -> &'a Value {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == source)
        .and_then(|s| {
            s["commodities"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["commodity"] == commodity)
        })
        .unwrap_or_else(|| panic!("no {source} {commodity} in {report}"))
}

pub(crate) fn source<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {report}"))
}

/// Every quality score in the report is in [0, 1] and the totals add up.
pub(crate) fn check_report_shape(report: &Value) {
    for key in [
        "run_id",
        "trigger",
        "scheduled_for",
        "mode",
        "status",
        "started_at",
        "finished_at",
        "duration_seconds",
        "window",
        "sources",
        "fetched",
        "stored",
        "unchanged",
        "rejected",
    ] {
        assert!(report.get(key).is_some(), "missing `{key}` in {report}");
    }
    let mut sum = [0u64; 4];
    for s in report["sources"].as_array().unwrap() {
        let q = s["quality_score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&q), "{s}");
        for c in s["commodities"].as_array().unwrap() {
            let q = c["quality_score"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&q), "{c}");
        }
        for (i, k) in ["fetched", "stored", "unchanged", "rejected"]
            .iter()
            .enumerate()
        {
            sum[i] += u(&s[k]);
        }
    }
    for (i, k) in ["fetched", "stored", "unchanged", "rejected"]
        .iter()
        .enumerate()
    {
        assert_eq!(sum[i], u(&report[k]), "sum of `{k}` over sources");
    }
}

/// Starts `run --mode backfill` over `year` while the replay server stalls Yahoo (and the client
/// waits for it), then waits until EIA's and FRED's batches are committed. Returns the running
/// process and the rows stored so far. With `json`, stdout and stderr are piped.
pub(crate) async fn start_with_yahoo_stalled(
    env: &Env,
    year: i32,
    json: bool,
) -> (std::process::Child, usize) {
    use std::process::Stdio;
    env.server.replay().behave(
        "yahoo",
        energy_sources::replay::Behaviour {
            delay: std::time::Duration::from_secs(120),
            ..Default::default()
        },
    );
    let (start, end) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let mut args = vec![
        "run",
        "--mode",
        "backfill",
        "--start-date",
        &start,
        "--end-date",
        &end,
    ];
    if json {
        args.push("--json");
    }
    let pipe = || if json { Stdio::piped() } else { Stdio::null() };
    let mut child = env
        .scratch
        .command(&args)
        // Yahoo must still be waiting when the test acts, however slow this machine is
        .env("PIPELINE_SOURCES__YAHOO__TIMEOUT_SECONDS", "600")
        // room for every batch at once, so that the stalled Yahoo ones hold up nobody
        .env("PIPELINE_PIPELINE__MAX_CONCURRENT_REQUESTS", "9")
        .stdout(pipe())
        .stderr(pipe())
        .spawn()
        .unwrap();
    for _ in 0..300 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let rows = env.export(&[]).await;
        if rows.iter().filter(|r| r.contains(",eia,")).count() >= 3 * 250
            && rows.iter().filter(|r| r.contains(",fred,")).count() >= 3 * 250
        {
            assert!(child.try_wait().unwrap().is_none(), "the run ended already");
            return (child, rows.len());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the run never stored EIA and FRED");
}
