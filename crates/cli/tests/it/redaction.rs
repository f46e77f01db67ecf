//! Issue 14: one redaction test over every output path. Every secret is set, and the outside
//! world tries to hand them back: both keyed providers answer with an error that repeats the
//! request (API key and all), the Slack stand-in answers with one that repeats the webhook's
//! path, the database URL carries a password. Then no secret may appear on stdout or stderr of
//! any command, in the log files (text and JSON), in the database, in the email or the Slack
//! payload sent, or on the scheduler's `/metrics` and `/healthz`. Issue 30 adds a password in
//! every provider's `base_url` (EIA then answers 500), and database URLs that are no
//! `postgres://` URL (a libpq keyword string, typos of the scheme) or are ambiguous (a raw `@`
//! in the password), given as `DATABASE_URL`, `PIPELINE_DATABASE__URL` and `database.url`.

use std::{path::Path, process::Stdio, time::Duration};

use energy_sources::replay::Behaviour;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

use crate::{
    pipeline::{Db, EIA_KEY, Env, FRED_KEY},
    schedule::{free_port, get, recent_data, wait_for},
    support::{stderr, stdout},
};

const SMTP_USER: &str = "smtpUSERsecret31";
const SMTP_PASSWORD: &str = "smtpPASSsecret77";
const HOOK_TOKEN: &str = "hookTOKENsecret99";
const DB_PASSWORD: &str = "dbPASSsecret42";
const BASE_PASSWORD: &str = "basePASSsecret18";
const KEYWORD_PASSWORD: &str = "SECRETPW23";
const TYPO_PASSWORD: &str = "typoPASSsecret24";
/// The two halves of a password with a raw `@`.
const AMBIGUOUS_HALVES: [&str; 2] = ["ambiSEC", "RETPW20"];

/// Every file under `dir`, as text (lossy).
fn files_under(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((
                p.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
}

/// Every row of every table in the PostgreSQL schema at `url`, as JSON text.
async fn dump_postgres(url: &str) -> String {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test schema");
    tokio::spawn(conn);
    let tables = client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema()",
            &[],
        )
        .await
        .unwrap();
    let mut out = String::new();
    for t in tables {
        let name: String = t.get(0);
        for row in client
            .query(
                &format!("SELECT row_to_json(t)::text FROM \"{name}\" t"),
                &[],
            )
            .await
            .unwrap()
        {
            out.push_str(&name);
            out.push_str(": ");
            out.push_str(row.get::<_, &str>(0));
            out.push('\n');
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_output() {
    let replay = recent_data();
    let echo = |code| Behaviour {
        fail_with: Some(code),
        echo_request: true,
        ..Behaviour::default()
    };
    replay.behave("eia", echo(403)).behave("fred", echo(400));
    // PostgreSQL when there is one (always under CI=true), so the URL can carry a password
    let (env, on_postgres) = match Env::new(replay.clone(), Db::Postgres).await {
        Some(env) => (env, true),
        None => (Env::new(replay.clone(), Db::Sqlite).await.unwrap(), false),
    };
    // every provider behind basic authentication
    let with_user = |provider: &str| {
        format!(
            "\"{}\"",
            env.server.base_url(provider).replacen(
                "http://",
                &format!("http://user:{BASE_PASSWORD}@"),
                1
            )
        )
    };
    let (eia_base, fred_base, yahoo_base) =
        (with_user("eia"), with_user("fred"), with_user("yahoo"));
    let db_url = if on_postgres {
        // trust authentication takes any password: it is only there to be hidden
        env.db_url().replacen(
            "postgres://postgres@",
            &format!("postgres://postgres:{DB_PASSWORD}@"),
            1,
        )
    } else {
        env.db_url()
    };
    assert!(!on_postgres || db_url.contains(DB_PASSWORD), "{db_url}");

    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!(
            "invalid_token: no service at /services/T1/B2/{HOOK_TOKEN}"
        )))
        .mount(&slack)
        .await;
    let hook = format!("{}/services/T1/B2/{HOOK_TOKEN}", slack.uri());
    let smtp = energy_notify::testing::smtp::SmtpServer::start(false).await;
    let smtp_port = smtp.port.to_string();
    let listen = free_port();
    let listen_value = format!("\"127.0.0.1:{listen}\"");
    let vars = [
        ("DATABASE_URL", db_url.as_str()),
        ("PIPELINE_NOTIFICATIONS__EMAIL__ENABLED", "true"),
        ("PIPELINE_NOTIFICATIONS__EMAIL__SMTP_SERVER", "127.0.0.1"),
        ("PIPELINE_NOTIFICATIONS__EMAIL__SMTP_PORT", &smtp_port),
        ("PIPELINE_NOTIFICATIONS__EMAIL__TLS", "none"),
        ("PIPELINE_NOTIFICATIONS__SLACK__ENABLED", "true"),
        ("PIPELINE_SCHEDULE__LISTEN", &listen_value),
        // once a year: nothing fires while the scheduler is looked at
        ("PIPELINE_SCHEDULE__CRON", "\"0 0 1 1 *\""),
        ("SMTP_USER", SMTP_USER),
        ("SMTP_PASSWORD", SMTP_PASSWORD),
        ("SLACK_WEBHOOK_URL", &hook),
        ("PIPELINE_SOURCES__EIA__BASE_URL", &eia_base),
        ("PIPELINE_SOURCES__FRED__BASE_URL", &fred_base),
        ("PIPELINE_SOURCES__YAHOO__BASE_URL", &yahoo_base),
    ];
    // what each output path showed: (where, text)
    let seen: std::cell::RefCell<Vec<(String, String)>> = Default::default();
    let command = async |args: &[&str]| {
        let out = env.run_with(args, &vars).await;
        let shown = args.join(" ");
        let mut seen = seen.borrow_mut();
        seen.push((format!("{shown}: stdout"), stdout(&out)));
        seen.push((format!("{shown}: stderr"), stderr(&out)));
        out
    };

    // a run: EIA and FRED fail with the echoed request, Yahoo stores; email and Slack are sent
    let out = command(&["-v", "run", "--json"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains("cannot serve"),
        "the echo reached the report: {report}"
    );
    // any HTTP 500: the error names the URL it asked
    replay.behave("eia", echo(500));
    let out = command(&["--log-format", "json", "-v", "run"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["runs"],
        &["runs", "--json"],
        &["export", "--format", "jsonl"],
        &["config", "show"],
        &["config", "check"],
        &["notify", "test"],
        &["schedule", "status", "--json"],
    ] {
        command(args).await;
    }

    // the scheduler's endpoints
    let mut child = env.scratch.command(&["schedule", "start"]);
    for (k, v) in &vars {
        child.env(k, v);
    }
    let child = child
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("/healthz", Duration::from_secs(30), || {
        get(listen, "/healthz").is_some()
    })
    .await;
    for path in ["/healthz", "/metrics"] {
        let (_, body) = get(listen, path).unwrap();
        seen.borrow_mut().push((path.to_owned(), body));
    }
    command(&["schedule", "stop"]).await;
    let stopped = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let mut seen = seen.into_inner();
    seen.push(("schedule start: stderr".into(), stderr(&stopped)));

    // a database that does not answer, named with its password
    let dead = format!(
        "postgres://app:{DB_PASSWORD}@127.0.0.1:{}/prices",
        free_port()
    );
    let out = env.run_with(&["status"], &[("DATABASE_URL", &dead)]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    seen.push(("status on a dead database: stdout".into(), stdout(&out)));
    seen.push(("status on a dead database: stderr".into(), stderr(&out)));

    // database URLs that are no URL, or an ambiguous one, in each of the three places
    let keyword = format!("host=127.0.0.1 user=u password={KEYWORD_PASSWORD} dbname=db");
    let typos = ["postgres:/", "postgres//", "postgres:"]
        .map(|start| format!("{start}u:{TYPO_PASSWORD}@127.0.0.1/db"));
    let ambiguous = format!(
        "postgres://u:{}@{}@127.0.0.1:{}/db",
        AMBIGUOUS_HALVES[0],
        AMBIGUOUS_HALVES[1],
        free_port()
    );
    for url in [&keyword, &ambiguous].into_iter().chain(&typos) {
        env.scratch
            .write("bad-db.yaml", &format!("database: {{ url: '{url}' }}\n"));
        for (how, vars) in [
            ("DATABASE_URL", vec![("DATABASE_URL", url.as_str())]),
            (
                "PIPELINE_DATABASE__URL",
                vec![("PIPELINE_DATABASE__URL", url.as_str())],
            ),
            ("database.url", vec![("PIPELINE_CONFIG", "bad-db.yaml")]),
        ] {
            for args in [
                &["config", "check"][..],
                &["config", "show"],
                &["status"],
                &["run"],
            ] {
                let out = env.run_with(args, &vars).await;
                let what = format!("{} with a bad {how}", args.join(" "));
                assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
                if std::ptr::eq(url, &ambiguous) {
                    let err = stderr(&out);
                    assert!(
                        err.contains("raw `@`") && err.contains("%40"),
                        "{what}: {err}"
                    );
                }
                seen.push((format!("{what}: stdout"), stdout(&out)));
                seen.push((format!("{what}: stderr"), stderr(&out)));
            }
        }
    }
    // the input itself is no output
    std::fs::remove_file(env.scratch.path().join("bad-db.yaml")).unwrap();

    // what was sent
    let mails = smtp.messages();
    assert!(!mails.is_empty(), "no email was sent");
    for m in &mails {
        seen.push(("email".into(), m.data.clone()));
    }
    let posts = slack.received_requests().await.unwrap_or_default();
    assert!(!posts.is_empty(), "nothing was posted to Slack");
    for p in &posts {
        seen.push((
            format!("slack {}", p.url.path()),
            String::from_utf8_lossy(&p.body).into_owned(),
        ));
    }
    // what was written: logs, the SQLite file or the PostgreSQL schema
    files_under(env.scratch.path(), &mut seen);
    if on_postgres {
        seen.push(("database".into(), dump_postgres(&env.db_url()).await));
    }
    let logs = seen
        .iter()
        .filter(|(what, _)| what.contains(".log."))
        .count();
    assert!(logs >= 2, "text and JSON log files: {logs}");

    let mut secrets = vec![
        EIA_KEY,
        FRED_KEY,
        SMTP_USER,
        SMTP_PASSWORD,
        HOOK_TOKEN,
        BASE_PASSWORD,
        KEYWORD_PASSWORD,
        TYPO_PASSWORD,
        AMBIGUOUS_HALVES[0],
        AMBIGUOUS_HALVES[1],
    ];
    if on_postgres {
        secrets.push(DB_PASSWORD);
    }
    let leaks: Vec<String> = seen
        .iter()
        .flat_map(|(what, text)| {
            secrets.iter().filter(|s| text.contains(**s)).map(move |s| {
                let at = text.find(s).unwrap_or(0);
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(80)
                    .map_or(0, |(i, _)| i);
                format!(
                    "{s} in {what}: …{}…",
                    &text[from..(at + s.len()).min(text.len())]
                )
            })
        })
        .collect();
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    env.cleanup().await;
}
