//! The cases, written once, run on every backend; a module per topic.

mod catalog;
mod health;
mod ledgers;
mod quarantine;
mod reads;
mod writes;

pub(crate) use catalog::*;
pub(crate) use health::*;
pub(crate) use ledgers::*;
pub(crate) use quarantine::*;
pub(crate) use reads::*;
pub(crate) use writes::*;

use chrono::{TimeZone, Utc};
use energy_core::{
    CommodityCode, Counts, ModeKind, Price, Rejection, RunReport, RunStatus, SourceId, Trigger,
    validation::RuleId,
};
use energy_storage::{
    CHUNK_INTERVAL_DAYS, ExportFilter, PG_COPY_THRESHOLD, RunStart, StoreError, Timescale,
    WriteCounts,
};

use crate::support::{Kind, TestDb, obs, series};

pub(crate) fn code(c: &str) -> CommodityCode {
    CommodityCode::new(c).unwrap()
}

pub(crate) fn src(s: &str) -> SourceId {
    SourceId::new(s).unwrap()
}

pub(crate) fn rejection(c: &str, s: &str, date: &str, raw: &str, rule: RuleId) -> Rejection {
    Rejection {
        commodity: code(c),
        source: src(s),
        date: date.parse().unwrap(),
        raw_value: raw.into(),
        rule,
        reason: format!("{rule}: {raw}"),
    }
}

/// Every stored value as text, in key order.
pub(crate) async fn exported_values(db: &TestDb) -> Vec<String> {
    let mut back = Vec::new();
    db.store
        .history()
        .export(&ExportFilter::default(), |o| {
            back.push(o.value.to_string());
            Ok::<_, ()>(())
        })
        .await
        .unwrap()
        .unwrap();
    back
}

pub(crate) fn start(uuid: &str) -> RunStart {
    RunStart {
        uuid: uuid.into(),
        trigger: Trigger::Manual,
        mode: ModeKind::Incremental,
        scheduled_for: None,
        attempt: None,
        started_at: Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 0).unwrap(),
        host: "test-host".into(),
        pid: 4242,
    }
}
