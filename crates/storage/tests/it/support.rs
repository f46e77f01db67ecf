//! Test databases: a SQLite file in a temporary directory, or a fresh PostgreSQL schema.

use energy_core::{CommodityCode, CommoditySpec, Observation, Price, SourceId};
use energy_storage::{
    DatabaseUrl, Store,
    testing::{TestSchema, server_url},
};

/// The three backends the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sqlite,
    Postgres,
    TimescaleDb,
}

pub(crate) struct TestDb {
    pub store: Store,
    pub url: DatabaseUrl,
    pub kind: Kind,
    _dir: Option<tempfile::TempDir>,
    pg: Option<TestSchema>,
}

impl TestDb {
    pub(crate) async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url =
            DatabaseUrl::parse(&format!("sqlite://{}/dir/test.db", dir.path().display())).unwrap();
        let store = Store::open(&url).await.expect("open sqlite store");
        register_defaults(&store).await;
        Self {
            store,
            url,
            kind: Kind::Sqlite,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A store on a schema of its own, or `None` (with a message) when no PostgreSQL is
    /// configured outside CI. In CI a missing PostgreSQL fails the test.
    pub(crate) async fn postgres() -> Option<Self> {
        Self::on_server(Kind::Postgres).await
    }

    /// As [`TestDb::postgres`], on the TimescaleDB server (`TEST_TIMESCALEDB_URL`).
    pub(crate) async fn timescaledb() -> Option<Self> {
        Self::on_server(Kind::TimescaleDb).await
    }

    async fn on_server(kind: Kind) -> Option<Self> {
        let base = server_url(kind == Kind::TimescaleDb)?;
        let schema = TestSchema::create(&base, "t").await;
        let url = DatabaseUrl::parse(&schema.url).unwrap();
        let store = Store::open(&url).await.expect("open postgres store");
        register_defaults(&store).await;
        Some(Self {
            store,
            url,
            kind,
            _dir: None,
            pg: Some(schema),
        })
    }

    pub(crate) async fn drop_schema(&self) {
        if let Some(schema) = &self.pg {
            schema.drop().await;
        }
    }

    pub(crate) fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

pub(crate) async fn register_defaults(store: &Store) {
    for (code, name, unit) in [
        ("WTI", "WTI", "USD/bbl"),
        ("BRENT", "Brent", "USD/bbl"),
        ("NATGAS", "Henry Hub", "USD/MMBtu"),
    ] {
        store
            .catalog()
            .register_commodity(
                &CommodityCode::new(code).unwrap(),
                &CommoditySpec::new(name, unit),
            )
            .await
            .unwrap();
    }
    for name in ["eia", "fred", "yahoo"] {
        store
            .catalog()
            .register_source(&SourceId::new(name).unwrap(), name)
            .await
            .unwrap();
    }
}

pub(crate) fn obs(commodity: &str, source: &str, date: &str, value: &str) -> Observation {
    Observation::new(
        CommodityCode::new(commodity).unwrap(),
        SourceId::new(source).unwrap(),
        date.parse().unwrap(),
        Price::parse(value).unwrap(),
        "USD/bbl",
    )
}

/// `n` consecutive daily observations from 1990-01-01 with values derived from the index.
pub(crate) fn series(commodity: &str, source: &str, n: usize, offset: usize) -> Vec<Observation> {
    let start: chrono::NaiveDate = "1990-01-01".parse().unwrap();
    (offset..offset + n)
        .map(|i| {
            let date = start + chrono::Days::new(i as u64);
            let value = format!("{}.{:02}", 20 + i % 100, i % 97);
            obs(commodity, source, &date.to_string(), &value)
        })
        .collect()
}
