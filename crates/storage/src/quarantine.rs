//! Reading the quarantine: what the gate held back, per run or by series, newest first with
//! the total, each row with its run's public id. (Rows are written with their batch, in
//! `write`.)

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use energy_core::{CommodityCode, Rejection, SourceId, validation::RuleId};

use crate::{RunId, Store, StoreError, schema::quarantine, store::with_conn};

/// The quarantine, to read, reached as [`Store::quarantine`].
#[derive(Debug, Clone, Copy)]
pub struct Quarantine<'s> {
    pub(crate) store: &'s Store,
}

impl Store {
    /// The quarantine: the rows the gate held back, with their reasons.
    pub fn quarantine(&self) -> Quarantine<'_> {
        Quarantine { store: self }
    }
}

/// A quarantined row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRecord {
    /// The run that quarantined it, unless it was written outside a run.
    pub run: Option<RunId>,
    /// That run's public id (`run_id` in reports), for links.
    pub run_uuid: Option<String>,
    pub rejection: Rejection,
}

/// Which quarantined rows to read. `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuarantineFilter {
    pub run: Option<RunId>,
    pub commodity: Option<CommodityCode>,
    pub source: Option<SourceId>,
    /// At most this many rows.
    pub limit: Option<u32>,
}

/// `$query` (boxed, over `quarantine`) narrowed to a filter's run, commodity id and source id
/// (each `Option`): for the rows and their count alike.
macro_rules! quarantine_where {
    ($query:expr, $run:expr, $cid:expr, $sid:expr) => {{
        use quarantine::dsl as q;
        let mut query = $query;
        if let Some(r) = $run {
            query = query.filter(q::run_id.eq(r.0));
        }
        if let Some(c) = $cid {
            query = query.filter(q::commodity_id.eq(c));
        }
        if let Some(s) = $sid {
            query = query.filter(q::source_id.eq(s));
        }
        query
    }};
}
impl Quarantine<'_> {
    /// Quarantined rows, of one run or all, in insertion order.
    pub async fn of_run(self, run: Option<RunId>) -> Result<Vec<QuarantineRecord>, StoreError> {
        let filter = QuarantineFilter {
            run,
            ..QuarantineFilter::default()
        };
        self.quarantine_rows(&filter, false).await
    }

    /// The newest quarantined rows matching `filter` (at most `filter.limit`), newest first,
    /// and how many match in all.
    pub async fn newest(
        self,
        filter: &QuarantineFilter,
    ) -> Result<(Vec<QuarantineRecord>, u64), StoreError> {
        let rows = self.quarantine_rows(filter, true).await?;
        let total = if filter
            .limit
            .is_some_and(|l| rows.len() as u64 >= u64::from(l))
        {
            self.quarantine_count(filter).await?
        } else {
            rows.len() as u64
        };
        Ok((rows, total))
    }

    /// The ids `filter` names, or None when it names something never stored (nothing matches).
    async fn quarantine_ids(
        self,
        filter: &QuarantineFilter,
    ) -> Result<Option<(Option<i32>, Option<i32>)>, StoreError> {
        self.store
            .know_codes(&filter.commodity, &filter.source)
            .await?;
        let id = |found: Result<i32, StoreError>| found.ok().map(Some);
        let cid = match &filter.commodity {
            Some(c) => id(self.store.commodity_id(c)),
            None => Some(None),
        };
        let sid = match &filter.source {
            Some(s) => id(self.store.source_id(s)),
            None => Some(None),
        };
        Ok(cid.zip(sid))
    }

    async fn quarantine_count(self, filter: &QuarantineFilter) -> Result<u64, StoreError> {
        let Some((cid, sid)) = self.quarantine_ids(filter).await? else {
            return Ok(0);
        };
        let run = filter.run;
        let n: i64 = with_conn!(self.store, "counting the quarantine", |conn| {
            quarantine_where!(quarantine::table.count().into_boxed(), run, cid, sid)
                .get_result(&mut conn)
                .await
        })?;
        Ok(n as u64)
    }

    async fn quarantine_rows(
        self,
        filter: &QuarantineFilter,
        newest_first: bool,
    ) -> Result<Vec<QuarantineRecord>, StoreError> {
        use quarantine::dsl as q;
        let Some((cid, sid)) = self.quarantine_ids(filter).await? else {
            return Ok(Vec::new());
        };
        let (run, limit) = (filter.run, filter.limit);
        type Row = (Option<i64>, i32, i32, NaiveDate, String, String, String);
        let rows: Vec<Row> = with_conn!(self.store, "reading the quarantine", |conn| {
            let mut query = q::quarantine
                .select((
                    q::run_id,
                    q::commodity_id,
                    q::source_id,
                    q::date,
                    q::raw_value,
                    q::rule,
                    q::reason,
                ))
                .into_boxed();
            query = if newest_first {
                query.order(q::id.desc())
            } else {
                query.order(q::id)
            };
            query = quarantine_where!(query, run, cid, sid);
            if let Some(l) = limit {
                query = query.limit(i64::from(l));
            }
            query.load(&mut conn).await
        })?;
        // the runs' public ids, one query for all
        let mut run_ids: Vec<i64> = rows.iter().filter_map(|r| r.0).collect();
        run_ids.sort_unstable();
        run_ids.dedup();
        let uuids: HashMap<i64, String> = if run_ids.is_empty() {
            HashMap::new()
        } else {
            use crate::schema::runs::dsl as r;
            let pairs: Vec<(i64, String)> = with_conn!(self.store, "reading run ids", |conn| {
                r::runs
                    .filter(r::id.eq_any(run_ids))
                    .select((r::id, r::run_uuid))
                    .load(&mut conn)
                    .await
            })?;
            pairs.into_iter().collect()
        };
        self.store.know_ids(rows.iter().map(|r| (r.1, r.2))).await?;
        let cat = self.store.catalog_cache();
        rows.into_iter()
            .map(|(run, cid, sid, date, raw_value, rule, reason)| {
                Ok(QuarantineRecord {
                    run: run.map(RunId),
                    run_uuid: run.and_then(|r| uuids.get(&r).cloned()),
                    rejection: Rejection {
                        commodity: cat
                            .commodity_codes
                            .get(&cid)
                            .cloned()
                            .ok_or_else(|| self.store.corrupt("commodity id", &cid.to_string()))?,
                        source: cat
                            .source_names
                            .get(&sid)
                            .cloned()
                            .ok_or_else(|| self.store.corrupt("source id", &sid.to_string()))?,
                        date,
                        raw_value,
                        rule: RuleId::parse(&rule)
                            .ok_or_else(|| self.store.corrupt("rule id", &rule))?,
                        reason,
                    },
                })
            })
            .collect()
    }
}
