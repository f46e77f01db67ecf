//! The stored dates of each series and nothing else: one read down the primary key
//! (commodity, source, date) in key order, for finding gaps. No values, units or instants are
//! read or decoded.

use chrono::NaiveDate;
use diesel::{ExpressionMethods, QueryDsl};
use energy_core::{CommodityCode, SourceId};

use super::{ExportFilter, History, page::Names};
use crate::{StoreError, schema::observations, store::load_rows, types::DbDate};

/// One stored series and the dates it has a value on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesDates {
    pub commodity: CommodityCode,
    pub source: SourceId,
    /// Ascending, one per stored value; never empty.
    pub dates: Vec<NaiveDate>,
}

impl History<'_> {
    /// The stored dates of every series of `commodities` and `sources` (all when empty), in
    /// (commodity, source) key order. Codes never stored match nothing.
    pub async fn dates(
        self,
        commodities: &[CommodityCode],
        sources: &[SourceId],
    ) -> Result<Vec<SeriesDates>, StoreError> {
        let filter = ExportFilter {
            commodities: commodities.to_vec(),
            sources: sources.to_vec(),
            ..ExportFilter::default()
        };
        let Some((cids, sids)) = self.filter_ids(&filter) else {
            return Ok(Vec::new());
        };
        use observations::dsl as o;
        let rows = load_rows!(self.store, "reading stored dates", (i32, i32, DbDate), {
            let mut q = o::observations
                .select((o::commodity_id, o::source_id, o::date))
                .order((o::commodity_id, o::source_id, o::date))
                .into_boxed();
            if !cids.is_empty() {
                q = q.filter(o::commodity_id.eq_any(cids.clone()));
            }
            if !sids.is_empty() {
                q = q.filter(o::source_id.eq_any(sids.clone()));
            }
            q
        })?;
        let mut out: Vec<SeriesDates> = Vec::new();
        let mut names = Names::default();
        for (cid, sid, date) in rows {
            match out.last_mut() {
                Some(series) if names.is_last(cid, sid) => series.dates.push(date.0),
                _ => {
                    let (commodity, source) = names.of(self.store, cid, sid)?;
                    out.push(SeriesDates {
                        commodity,
                        source,
                        dates: vec![date.0],
                    });
                }
            }
        }
        Ok(out)
    }
}
