//! The time-series store. Only this crate knows the database; callers speak `energy-core` types.
//!
//! One [`Store`] handle serves SQLite (`sqlite://PATH`, the default) and PostgreSQL
//! (`postgres://…`, with TimescaleDB when the server has it). Migrations are embedded and applied
//! on open. Each topic is a room of the handle that owns its rows, queries and types:
//! [`Store::catalog`], [`Store::observations`] (writes, the newest of each series, values and
//! revisions), [`Store::history`] (exports, series, panels, as of an instant),
//! [`Store::quarantine`], [`Store::runs`], [`Store::schedule`] and [`Store::alerts`]. Writes are
//! atomic per batch and count inserted, changed and unchanged rows; a changed value keeps its
//! predecessor in `revisions`.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use energy_core::{CommodityCode, CommoditySpec, Observation, Price, SourceId};
//! use energy_storage::{DatabaseUrl, SeriesQuery, Store};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let url = DatabaseUrl::parse(&format!("sqlite://{}/prices.db", dir.path().display())).unwrap();
//! let store = Store::open(&url).await.unwrap();
//! let (wti, eia) = (CommodityCode::new("WTI").unwrap(), SourceId::new("eia").unwrap());
//! store.catalog().register_commodity(&wti, &CommoditySpec::new("WTI crude", "USD/bbl")).await.unwrap();
//! store.catalog().register_source(&eia, "EIA").await.unwrap();
//! let settle = Observation::new(wti.clone(), eia.clone(), "2020-04-20".parse().unwrap(),
//!                               Price::parse("-36.98").unwrap(), "USD/bbl");
//! let counts = store.observations().upsert(None, &[settle.clone()]).await.unwrap();
//! assert_eq!(counts.inserted, 1);
//! assert_eq!(store.history().series(&SeriesQuery::new(wti, eia)).await.unwrap(), [settle]);
//! # });
//! ```

mod alerts;
mod catalog;
mod config;
mod connect;
mod error;
mod history;
mod observations;
mod quarantine;
mod runs;
mod schedule;
mod schema;
mod startup;
mod store;
mod target;
#[cfg(feature = "testing")]
pub mod testing;
mod timescale;
mod types;

pub use alerts::{Alerted, Alerts};
pub use catalog::Catalog;
pub use config::{Backend, DatabaseConfig, DatabaseUrl, DatabaseUrlError};
pub use error::{DbCause, DbErrorKind, StoreError};
pub use history::{ExportFilter, History, Panel, PanelColumn, SeriesDates, SeriesQuery};
pub use observations::{
    Observations, PG_COPY_THRESHOLD, RevisionRecord, SeriesLatest, WriteCounts,
};
pub use quarantine::{Quarantine, QuarantineFilter, QuarantineRecord};
pub use runs::{RunRecord, RunStart, Runs};
pub use schedule::{
    AttemptRecord, Fenced, FireRecord, FireState, Heartbeat, InstanceState, NotifyClaim,
    ScheduleLedger, SchedulerRecord,
};
pub use store::{Health, Store};
pub use timescale::{CHUNK_INTERVAL_DAYS, Timescale};

/// A run's row id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct RunId(pub i64);
