//! Test databases: a SQLite file in a temporary directory, or a fresh PostgreSQL schema.

use energy_core::{CommodityCode, CommoditySpec, Observation, Price, SourceId};
use energy_storage::{DatabaseUrl, Store};

pub struct TestDb {
    pub store: Store,
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::parse(&format!(
            "sqlite://{}/nested/dir/test.db",
            dir.path().display()
        ))
        .unwrap();
        let store = Store::open(&url).await.expect("open sqlite store");
        register_defaults(&store).await;
        Self {
            store,
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A store on a schema of its own, or `None` (with a message) when no PostgreSQL is
    /// configured outside CI. In CI a missing PostgreSQL fails the test.
    pub async fn postgres() -> Option<Self> {
        let base = postgres_url()?;
        let schema = format!("t_{}_{}", std::process::id(), unique());
        admin(&base, &format!("CREATE SCHEMA {schema}")).await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url =
            DatabaseUrl::parse(&format!("{base}{sep}options=-csearch_path%3D{schema}")).unwrap();
        let store = Store::open(&url).await.expect("open postgres store");
        register_defaults(&store).await;
        Some(Self {
            store,
            url,
            _dir: None,
            pg: Some((base, schema)),
        })
    }

    pub async fn drop_schema(&self) {
        if let Some((base, schema)) = &self.pg {
            admin(base, &format!("DROP SCHEMA {schema} CASCADE")).await;
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

/// `TEST_DATABASE_URL`, or `None` after saying why the PostgreSQL tests are skipped.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!(
                "TEST_DATABASE_URL is not set and CI=true: run the tests with `cargo xtask test`"
            )
        }
        _ => {
            eprintln!(
                "SKIPPED (PostgreSQL half): TEST_DATABASE_URL is not set; `cargo xtask test` starts a throwaway PostgreSQL"
            );
            None
        }
    }
}

async fn admin(url: &str, sql: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to TEST_DATABASE_URL");
    tokio::spawn(conn);
    client.batch_execute(sql).await.expect(sql);
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    nanos * 1000 + N.fetch_add(1, Ordering::Relaxed)
}

pub async fn register_defaults(store: &Store) {
    for (code, name, unit) in [
        ("WTI", "WTI", "USD/bbl"),
        ("BRENT", "Brent", "USD/bbl"),
        ("NATGAS", "Henry Hub", "USD/MMBtu"),
    ] {
        store
            .register_commodity(
                &CommodityCode::new(code).unwrap(),
                &CommoditySpec::new(name, unit),
            )
            .await
            .unwrap();
    }
    for name in ["eia", "fred", "yahoo"] {
        store
            .register_source(&SourceId::new(name).unwrap(), name)
            .await
            .unwrap();
    }
}

pub fn obs(commodity: &str, source: &str, date: &str, value: &str) -> Observation {
    Observation::new(
        CommodityCode::new(commodity).unwrap(),
        SourceId::new(source).unwrap(),
        date.parse().unwrap(),
        Price::parse(value).unwrap(),
        "USD/bbl",
    )
}

/// `n` consecutive daily observations from 1990-01-01 with values derived from the index.
pub fn series(commodity: &str, source: &str, n: usize, offset: usize) -> Vec<Observation> {
    let start: chrono::NaiveDate = "1990-01-01".parse().unwrap();
    (offset..offset + n)
        .map(|i| {
            let date = start + chrono::Days::new(i as u64);
            let value = format!("{}.{:02}", 20 + i % 100, i % 97);
            obs(commodity, source, &date.to_string(), &value)
        })
        .collect()
}
