//! Reading observations in key order a page at a time (seeking the primary key past the last
//! row), the names of the ids read, and the old versions an as-of read merges in.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, QueryDsl,
    dsl::sql,
    sql_types::{Bool, Date, Integer},
};
use energy_core::{CommodityCode, Price, SourceId};

use super::History;
use crate::{
    Store, StoreError,
    schema::{observations, revisions},
    store::load_rows,
    types::{DbDate, DbPrice, DbTime},
};

/// A stored row as read for an export: (commodity id, source id, date, value, unit).
pub(super) type KeyRow = (i32, i32, NaiveDate, Price, String);

/// Rows of an export page.
pub(super) const PAGE: usize = 20_000;

/// What an export reads, page by page in key order.
#[derive(Debug, Clone)]
pub(super) struct Page {
    pub(super) commodity_ids: Vec<i32>,
    pub(super) source_ids: Vec<i32>,
    /// First and last date, when the window is not open.
    pub(super) window: Option<(NaiveDate, NaiveDate)>,
    /// Only rows fetched by then.
    pub(super) as_of: Option<DbTime>,
}

type PageRow = (i32, i32, DbDate, DbPrice, String);

impl Page {
    /// The next [`PAGE`] rows after the key `after`.
    pub(super) async fn read(
        &self,
        store: &Store,
        after: Option<(i32, i32, NaiveDate)>,
    ) -> Result<Vec<PageRow>, StoreError> {
        use observations::dsl as o;
        let (cids, sids, window, as_of) = (
            self.commodity_ids.clone(),
            self.source_ids.clone(),
            self.window,
            self.as_of,
        );
        load_rows!(store, "exporting observations", PageRow, {
            let mut q = o::observations
                .select((o::commodity_id, o::source_id, o::date, o::value, o::unit))
                .order((o::commodity_id, o::source_id, o::date))
                .limit(PAGE as i64)
                .into_boxed();
            // an open window is no condition (SQLite would convert the bound per row)
            if let Some((start, end)) = window {
                q = q.filter(o::date.ge(start).and(o::date.le(end)));
            }
            if !cids.is_empty() {
                q = q.filter(o::commodity_id.eq_any(cids.clone()));
            }
            if !sids.is_empty() {
                q = q.filter(o::source_id.eq_any(sids.clone()));
            }
            if let Some(t) = as_of {
                q = q.filter(o::fetched_at.le(t));
            }
            if let Some((c, s, d)) = after {
                // a row-value comparison: both databases seek the primary key to it (the
                // equivalent OR of ANDs makes each page scan from the start)
                q = q.filter(
                    sql::<Bool>("(commodity_id, source_id, date) > (")
                        .bind::<Integer, _>(c)
                        .sql(", ")
                        .bind::<Integer, _>(s)
                        .sql(", ")
                        .bind::<Date, _>(d)
                        .sql(")"),
                );
            }
            q
        })
    }
}

/// The codes of the ids last seen: rows come in key order, so one lookup serves a series.
#[derive(Default)]
pub(super) struct Names {
    last: Option<(i32, i32, CommodityCode, SourceId)>,
}

impl Names {
    pub(super) fn of(
        &mut self,
        store: &Store,
        cid: i32,
        sid: i32,
    ) -> Result<(CommodityCode, SourceId), StoreError> {
        if let Some((c, s, commodity, source)) = &self.last
            && (*c, *s) == (cid, sid)
        {
            return Ok((commodity.clone(), source.clone()));
        }
        let cat = store.catalog_cache();
        let commodity = cat
            .commodity_codes
            .get(&cid)
            .cloned()
            .ok_or_else(|| store.corrupt("commodity id", &cid.to_string()))?;
        let source = cat
            .source_names
            .get(&sid)
            .cloned()
            .ok_or_else(|| store.corrupt("source id", &sid.to_string()))?;
        self.last = Some((cid, sid, commodity.clone(), source.clone()));
        Ok((commodity, source))
    }
}

impl History<'_> {
    /// The old versions current at `t` (fetched by then, replaced after), in key order: for
    /// each key at most one, and only for keys whose current value came after `t`.
    pub(super) async fn versions_at(
        self,
        page: &Page,
        t: DateTime<Utc>,
    ) -> Result<Vec<KeyRow>, StoreError> {
        use revisions::dsl as r;
        let (cids, sids, t) = (
            page.commodity_ids.clone(),
            page.source_ids.clone(),
            DbTime(t),
        );
        let window = page.window;
        let rows = load_rows!(
            self.store,
            "reading revisions as of an instant",
            (i32, i32, DbDate, DbPrice, String),
            {
                let mut q = r::revisions
                    .select((
                        r::commodity_id,
                        r::source_id,
                        r::date,
                        r::old_value,
                        r::old_unit,
                    ))
                    .filter(r::old_fetched_at.le(t).and(r::replaced_at.gt(t)))
                    .order((r::commodity_id, r::source_id, r::date, r::id))
                    .into_boxed();
                if let Some((start, end)) = window {
                    q = q.filter(r::date.ge(start).and(r::date.le(end)));
                }
                if !cids.is_empty() {
                    q = q.filter(r::commodity_id.eq_any(cids.clone()));
                }
                if !sids.is_empty() {
                    q = q.filter(r::source_id.eq_any(sids.clone()));
                }
                q
            }
        )?;
        let mut out: Vec<KeyRow> = rows
            .into_iter()
            .map(|(c, s, d, v, u)| (c, s, d.0, v.0, u))
            .collect();
        // versions of one key do not overlap in time; should two ever claim the instant, the
        // later recorded wins
        out.dedup_by(|later, earlier| {
            let same = (later.0, later.1, later.2) == (earlier.0, earlier.1, earlier.2);
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        Ok(out)
    }
}
