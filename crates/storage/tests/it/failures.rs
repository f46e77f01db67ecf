//! A database that is not there, or goes away: clear errors naming it (password redacted), and
//! nothing half-written.

use std::time::Duration;

use energy_storage::{DatabaseUrl, ExportFilter, Store, StoreError, testing::Relay};
use tokio::net::TcpListener;

use crate::support::{TestDb, obs, register_defaults, series};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_postgres_is_named_with_the_password_redacted() {
    // a port nothing listens on
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url =
        DatabaseUrl::parse(&format!("postgres://app:hunter2@127.0.0.1:{port}/prices")).unwrap();
    let err = Store::open(&url).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("postgres://app:***@127.0.0.1:{port}/prices")),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("DATABASE_URL"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_that_cannot_be_created_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "a file where a directory should be").unwrap();
    let url =
        DatabaseUrl::parse(&format!("sqlite://{}/sub/pipeline.db", blocker.display())).unwrap();
    let err = Store::open(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

/// Issue 30: `sqlite:///nonexistent/dir/x.db` made `/nonexistent/dir/`. The file's own
/// directory is made (`data/` of the default `sqlite://data/pipeline.db` on a fresh checkout),
/// nothing above it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_under_a_directory_that_does_not_exist_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexistent");
    let url = DatabaseUrl::parse(&format!("sqlite://{}/dir/x.db", missing.display())).unwrap();
    let err = Store::open(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::NoSuchDirectory { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("{} does not exist", missing.display())),
        "{text}"
    );
    assert!(!missing.exists(), "{} was created", missing.display());

    // the file's own directory is made when the one above it exists
    let url = DatabaseUrl::parse(&format!("sqlite://{}/data/x.db", dir.path().display())).unwrap();
    Store::open(&url).await.unwrap();
    assert!(dir.path().join("data/x.db").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_that_is_not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
    let err = Store::open(&url).await.unwrap_err();
    assert!(err.to_string().contains("garbage.db"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_that_goes_away_mid_session_gives_a_clear_error_and_keeps_committed_rows() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let (relay, mut via) = Relay::in_front_of(db.url.expose()).await;
    let port = relay.port;
    let _ = via.set_password(Some("s3cret"));
    let url = DatabaseUrl::parse(via.as_str()).unwrap();
    let store = Store::open(&url).await.unwrap();
    register_defaults(&store).await;
    store
        .observations()
        .upsert(None, &[obs("WTI", "eia", "2026-01-02", "61.2")])
        .await
        .unwrap();

    relay.cut();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for batch in [series("WTI", "fred", 10, 0), series("WTI", "fred", 3000, 0)] {
        let err = store.observations().upsert(None, &batch).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(err.is_unavailable(), "{err:?}");
    }
    // what was committed before is still there, and nothing of the failed batches
    assert_eq!(
        db.store
            .history()
            .count(&ExportFilter::default())
            .await
            .unwrap(),
        1
    );
    db.drop_schema().await;
}

/// A pooled connection whose server process ended (an operator's `pg_terminate_backend`, a
/// failover, a restart) is replaced when next asked for, not handed out to fail the caller's
/// query: right after the server ended every connection of the pool, the next query works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_connection_whose_server_process_ended_is_replaced_not_handed_out() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let app = format!("ended_{}", std::process::id());
    let url = DatabaseUrl::parse(&format!("{}&application_name={app}", db.url.expose())).unwrap();
    let store = Store::open(&url).await.unwrap();
    let (admin, conn) = tokio_postgres::connect(db.url.expose(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    for round in 0..20 {
        // several connections in the pool, all used just now
        let (a, b, c) = tokio::join!(
            store.schedule().instances(),
            store.schedule().instances(),
            store.runs().recent(1)
        );
        a.unwrap();
        b.unwrap();
        c.unwrap();
        // ended, and waited for: the server processes are gone when this returns
        let ended = admin
            .query(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = $1",
                &[&app],
            )
            .await
            .unwrap();
        assert!(
            !ended.is_empty(),
            "round {round}: no connection of the store to end"
        );
        assert!(ended.iter().all(|r| r.get::<_, bool>(0)), "round {round}");
        store
            .schedule()
            .instances()
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    db.drop_schema().await;
}

/// Issue 13, item 7: processes started at once on a SQLite file that did not exist yet failed
/// with `database is locked` (14 of 20). Each opening here has its own connections, as each
/// process has.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_use_of_a_new_sqlite_file_waits_instead_of_failing() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url =
            DatabaseUrl::parse(&format!("sqlite://{}/new/p.db", dir.path().display())).unwrap();
        let openings: Vec<_> = (0..12)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::open(&url).await.map(|_| ()) })
            })
            .collect();
        for (i, o) in openings.into_iter().enumerate() {
            if let Err(e) = o.await.unwrap() {
                panic!("round {round}, opening {i}: {e}");
            }
        }
    }
}

/// Issue 13, item 14: a SQLite file that cannot be opened was called "unreachable … is it
/// running?", like a server that is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_that_cannot_be_opened_says_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    // a directory where the database file should be
    let path = dir.path().join("db-is-a-directory");
    std::fs::create_dir(&path).unwrap();
    let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
    let err = Store::open(&url).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::SqliteOpen { .. }), "{err:?}");
    assert!(!text.contains("is it running"), "{text}");
    assert!(text.contains("writable"), "{text}");
}

/// Issue 14: a refused write keeps the database's error as its source, with its kind (and, on
/// the COPY path, its SQLSTATE), on both PostgreSQL write paths; nothing of the batch is
/// written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_keeps_the_database_error_and_its_kind_as_the_source() {
    use energy_storage::{DbErrorKind, testing::admin};
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    register_defaults(&db.store).await;
    admin(
        db.url.expose(),
        "CREATE FUNCTION refuse_fred() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           IF (SELECT name FROM sources WHERE id = NEW.source_id) = 'fred' THEN \
             RAISE EXCEPTION 'fred rows are refused here' USING ERRCODE = 'check_violation'; \
           END IF; RETURN NEW; END $$; \
         CREATE TRIGGER refuse_fred BEFORE INSERT ON observations \
           FOR EACH ROW EXECUTE FUNCTION refuse_fred();",
    )
    .await;
    // below and above the COPY threshold: Diesel's path, then tokio-postgres' COPY
    for (rows, sqlstate) in [(10, None), (3000, Some("23514"))] {
        let err = db
            .store
            .observations()
            .upsert(None, &series("WTI", "fred", rows, 0))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Query { .. }), "{err:?}");
        assert!(!err.is_unavailable(), "{err:?}");
        let cause = err
            .db_cause()
            .unwrap_or_else(|| panic!("no cause: {err:?}"));
        assert_eq!(
            cause.kind(),
            DbErrorKind::CheckViolation,
            "{rows} rows: {err:?}"
        );
        assert_eq!(cause.sqlstate(), sqlstate, "{rows} rows");
        // the chain reaches the driver's error, whose text has the server's message
        let source = std::error::Error::source(&err).expect("a source");
        let driver = source.source().expect("the driver's error");
        let mut chain = driver.to_string();
        let mut next = driver.source();
        while let Some(s) = next {
            chain.push_str(&format!(": {s}"));
            next = s.source();
        }
        assert!(chain.contains("fred rows are refused here"), "{chain}");
        assert!(
            err.to_string().contains("fred rows are refused here"),
            "{err}"
        );
    }
    assert_eq!(
        db.store
            .history()
            .count(&ExportFilter::default())
            .await
            .unwrap(),
        0
    );
    db.drop_schema().await;
}
