//! The stored dates of each series and nothing else, for finding gaps: one aggregate per series
//! on the database's side (PostgreSQL: `array_agg` of the dates, sent as one binary array per
//! series; SQLite: `group_concat` down the primary key), so a million dates cross as 90 rows
//! instead of a million, and no values, units or instants are read. PostgreSQL may aggregate
//! from a sequential scan (no heap visits for an index that a fresh load left without a
//! visibility map), so each series' dates are sorted here.

use chrono::NaiveDate;
use diesel::sql_types::{Array, Date, Integer, Text};
use diesel_async::RunQueryDsl;
use energy_core::{CommodityCode, SourceId};

use super::{ExportFilter, History, page::Names};
use crate::{StoreError, store::Db, types::iso_date};

/// One stored series and the dates it has a value on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesDates {
    pub commodity: CommodityCode,
    pub source: SourceId,
    /// Ascending, one per stored value; never empty.
    pub dates: Vec<NaiveDate>,
}

#[derive(diesel::QueryableByName)]
struct PgDates {
    #[diesel(sql_type = Integer)]
    commodity_id: i32,
    #[diesel(sql_type = Integer)]
    source_id: i32,
    #[diesel(sql_type = Array<Date>)]
    dates: Vec<NaiveDate>,
}

#[derive(diesel::QueryableByName)]
struct SqliteDates {
    #[diesel(sql_type = Integer)]
    commodity_id: i32,
    #[diesel(sql_type = Integer)]
    source_id: i32,
    #[diesel(sql_type = Text)]
    dates: String,
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
        let Some((cids, sids)) = self.filter_ids(&filter).await? else {
            return Ok(Vec::new());
        };
        // the ids are the catalog's integers, written into the text as such
        let list = |ids: &[i32]| {
            ids.iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut conditions = Vec::new();
        if !cids.is_empty() {
            conditions.push(format!("commodity_id IN ({})", list(&cids)));
        }
        if !sids.is_empty() {
            conditions.push(format!("source_id IN ({})", list(&sids)));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        const OPERATION: &str = "reading stored dates";
        let store = self.store;
        let mut series: Vec<(i32, i32, Vec<NaiveDate>)> = match &store.inner.db {
            Db::Pg(pg) => {
                let sql = format!(
                    "SELECT commodity_id, source_id, array_agg(date) AS dates FROM observations \
                     {filter} GROUP BY commodity_id, source_id"
                );
                let mut conn = store.checkout(&pg.pool).await?;
                let rows: Vec<PgDates> = diesel::sql_query(sql)
                    .load(&mut conn)
                    .await
                    .map_err(|e| store.query_error(OPERATION, e))?;
                rows.into_iter()
                    .map(|r| (r.commodity_id, r.source_id, r.dates))
                    .collect()
            }
            Db::Sqlite(pool) => {
                let sql = format!(
                    "SELECT commodity_id, source_id, group_concat(date, ',') AS dates \
                     FROM observations {filter} GROUP BY commodity_id, source_id"
                );
                let mut conn = store.checkout(pool).await?;
                let rows: Vec<SqliteDates> = diesel::sql_query(sql)
                    .load(&mut conn)
                    .await
                    .map_err(|e| store.query_error(OPERATION, e))?;
                rows.into_iter()
                    .map(|r| {
                        let dates = r
                            .dates
                            .split(',')
                            .map(|d| {
                                iso_date(d.as_bytes())
                                    .ok_or_else(|| self.store.corrupt("stored date", d))
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok((r.commodity_id, r.source_id, dates))
                    })
                    .collect::<Result<_, StoreError>>()?
            }
        };
        series.sort_unstable_by_key(|(c, s, _)| (*c, *s));
        self.store
            .know_ids(series.iter().map(|(c, s, _)| (*c, *s)))
            .await?;
        let mut out = Vec::with_capacity(series.len());
        let mut names = Names::default();
        for (cid, sid, mut dates) in series {
            if dates.is_empty() {
                continue;
            }
            dates.sort_unstable();
            let (commodity, source) = names.of(self.store, cid, sid)?;
            out.push(SeriesDates {
                commodity,
                source,
                dates,
            });
        }
        Ok(out)
    }
}
