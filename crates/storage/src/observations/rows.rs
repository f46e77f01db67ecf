//! The rows a write inserts, as Diesel sees them: shared by the INSERT path and the COPY path.

use chrono::NaiveDate;

use crate::{
    schema::{observations, quarantine},
    types::{DbPrice, DbTime},
};

#[derive(Debug, Clone, diesel::Insertable)]
#[diesel(table_name = observations)]
#[diesel(treat_none_as_default_value = false)]
pub(super) struct NewObservation {
    pub(super) commodity_id: i32,
    pub(super) source_id: i32,
    pub(super) date: NaiveDate,
    pub(super) value: DbPrice,
    pub(super) unit: String,
    pub(super) fetched_at: DbTime,
    pub(super) run_id: Option<i64>,
}

#[derive(Debug, Clone, diesel::Insertable)]
#[diesel(table_name = quarantine)]
#[diesel(treat_none_as_default_value = false)]
pub(super) struct NewQuarantine {
    pub(super) run_id: Option<i64>,
    pub(super) commodity_id: i32,
    pub(super) source_id: i32,
    pub(super) date: NaiveDate,
    pub(super) raw_value: String,
    pub(super) rule: String,
    pub(super) reason: String,
    pub(super) quarantined_at: DbTime,
}
