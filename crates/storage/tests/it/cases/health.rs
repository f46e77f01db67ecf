//! Health: the backend, its version and TimescaleDB's state.

#[allow(unused_imports)]
use super::*;

pub(crate) async fn health_names_backend_and_version(db: &TestDb) {
    let h = db.store.health().await;
    assert!(h.healthy, "{h:?}");
    if db.is_postgres() {
        assert_eq!(h.backend, "postgres");
        assert!(
            h.server_version
                .as_deref()
                .unwrap_or("")
                .starts_with("PostgreSQL"),
            "{h:?}"
        );
        let found = db
            .store
            .timescale()
            .expect("a PostgreSQL store ran the TimescaleDB step");
        assert!(h.message.contains(&found.describe()), "{h:?}");
        if db.kind == Kind::TimescaleDb {
            assert!(h.timescaledb, "{h:?}");
            assert_eq!(
                found,
                &Timescale::Hypertable {
                    chunk_interval_days: CHUNK_INTERVAL_DAYS
                }
            );
            assert!(
                h.message.contains("TimescaleDB hypertable, 365-day chunks"),
                "{h:?}"
            );
        } else {
            assert!(!h.timescaledb, "{h:?}");
            assert!(h.message.contains("plain PostgreSQL"), "{h:?}");
        }
    } else {
        assert_eq!(h.backend, "sqlite");
        assert!(
            h.server_version
                .as_deref()
                .unwrap_or("")
                .starts_with("SQLite 3."),
            "{h:?}"
        );
    }
}
