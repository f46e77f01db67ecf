//! The newest of each series: latest dates and freshness (index lookups per series, never a
//! table scan), how much is stored since or before a date, and counts per source.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, QueryDsl,
    sql_types::{Integer, Nullable, Text},
};
use diesel_async::RunQueryDsl;
use energy_core::{CommodityCode, Price, SourceId};

use super::Observations;
use crate::{StoreError, schema::observations, store::with_conn, types::CountRow};

/// The newest observation of one (commodity, source) series.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeriesLatest {
    pub commodity: CommodityCode,
    pub source: SourceId,
    pub latest_date: NaiveDate,
    pub latest_value: Price,
    /// The first stored date.
    pub first_date: NaiveDate,
}

#[derive(diesel::QueryableByName)]
struct LatestRow {
    #[diesel(sql_type = Integer)]
    commodity_id: i32,
    #[diesel(sql_type = Integer)]
    source_id: i32,
    #[diesel(sql_type = Nullable<diesel::sql_types::Date>)]
    latest_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    latest_value: Option<String>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Date>)]
    first_date: Option<NaiveDate>,
}

#[derive(diesel::QueryableByName)]
struct SeriesCountRow {
    #[diesel(sql_type = Integer)]
    commodity_id: i32,
    #[diesel(sql_type = Integer)]
    source_id: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// One query text for both backends: a correlated subquery per (commodity, source) pair walks
/// the primary-key index backwards, so the cost grows with the number of series, not rows.
const FRESHNESS_SQL: &str = "\
SELECT c.id AS commodity_id, s.id AS source_id,
       (SELECT o.date FROM observations o
         WHERE o.commodity_id = c.id AND o.source_id = s.id
         ORDER BY o.date DESC LIMIT 1) AS latest_date,
       (SELECT CAST(o.value AS TEXT) FROM observations o
         WHERE o.commodity_id = c.id AND o.source_id = s.id
         ORDER BY o.date DESC LIMIT 1) AS latest_value,
       (SELECT o.date FROM observations o
         WHERE o.commodity_id = c.id AND o.source_id = s.id
         ORDER BY o.date ASC LIMIT 1) AS first_date
  FROM commodities c CROSS JOIN sources s
 ORDER BY c.code, s.name";

impl Observations<'_> {
    /// The latest stored market date of a series, if any.
    pub async fn latest_date(
        self,
        commodity: &CommodityCode,
        source: &SourceId,
    ) -> Result<Option<NaiveDate>, StoreError> {
        let Some((cid, sid)) = self.store.series_ids(commodity, source).await? else {
            return Ok(None);
        };
        use observations::dsl as o;
        with_conn!(self.store, "reading the latest date", |conn| {
            o::observations
                .filter(o::commodity_id.eq(cid).and(o::source_id.eq(sid)))
                .select(diesel::dsl::max(o::date))
                .first::<Option<NaiveDate>>(&mut conn)
                .await
        })
    }

    /// Latest date and value and first date of every series that has data, ordered by
    /// commodity and source.
    pub async fn freshness(self) -> Result<Vec<SeriesLatest>, StoreError> {
        let rows: Vec<LatestRow> = with_conn!(self.store, "reading freshness", |conn| {
            diesel::sql_query(FRESHNESS_SQL).load(&mut conn).await
        })?;
        self.store
            .know_ids(
                rows.iter()
                    .filter(|r| r.latest_date.is_some())
                    .map(|r| (r.commodity_id, r.source_id)),
            )
            .await?;
        let cat = self.store.catalog_cache();
        let mut out = Vec::new();
        for r in rows {
            let (Some(date), Some(value)) = (r.latest_date, r.latest_value) else {
                continue;
            };
            let (Some(commodity), Some(source)) = (
                cat.commodity_codes.get(&r.commodity_id),
                cat.source_names.get(&r.source_id),
            ) else {
                continue;
            };
            out.push(SeriesLatest {
                commodity: commodity.clone(),
                source: source.clone(),
                latest_date: date,
                latest_value: Price::parse(&value)
                    .map_err(|_| self.store.corrupt("price", &value))?,
                first_date: r.first_date.unwrap_or(date),
            });
        }
        Ok(out)
    }

    /// How many dates each series has stored from `since` on (series with none left out): a
    /// primary-key range per series, so its cost follows the span asked, not the history.
    pub async fn stored_since(
        self,
        since: NaiveDate,
    ) -> Result<BTreeMap<(CommodityCode, SourceId), u64>, StoreError> {
        // the date is ours, formatted YYYY-MM-DD: a literal both backends compare as a date
        let sql = format!(
            "SELECT c.id AS commodity_id, s.id AS source_id,
                    (SELECT COUNT(*) FROM observations o
                      WHERE o.commodity_id = c.id AND o.source_id = s.id
                        AND o.date >= '{}') AS n
               FROM commodities c CROSS JOIN sources s",
            since.format("%Y-%m-%d")
        );
        let rows: Vec<SeriesCountRow> = with_conn!(self.store, "counting recent dates", |conn| {
            diesel::sql_query(&sql).load(&mut conn).await
        })?;
        self.store
            .know_ids(
                rows.iter()
                    .filter(|r| r.n > 0)
                    .map(|r| (r.commodity_id, r.source_id)),
            )
            .await?;
        let cat = self.store.catalog_cache();
        Ok(rows
            .into_iter()
            .filter(|r| r.n > 0)
            .filter_map(|r| {
                Some((
                    (
                        cat.commodity_codes.get(&r.commodity_id)?.clone(),
                        cat.source_names.get(&r.source_id)?.clone(),
                    ),
                    u64::try_from(r.n).ok()?,
                ))
            })
            .collect())
    }

    /// The first stored date of a series and how many dates are stored strictly before
    /// `before` (None when none are).
    pub async fn stored_before(
        self,
        commodity: &CommodityCode,
        source: &SourceId,
        before: NaiveDate,
    ) -> Result<Option<(NaiveDate, u64)>, StoreError> {
        let Some((cid, sid)) = self.store.series_ids(commodity, source).await? else {
            return Ok(None);
        };
        use diesel::dsl::{count_star, min};
        use observations::dsl as o;
        let (first, n): (Option<NaiveDate>, i64) =
            with_conn!(self.store, "counting stored dates", |conn| {
                o::observations
                    .filter(
                        o::commodity_id
                            .eq(cid)
                            .and(o::source_id.eq(sid))
                            .and(o::date.lt(before)),
                    )
                    .select((min(o::date), count_star()))
                    .first(&mut conn)
                    .await
            })?;
        Ok(first.map(|f| (f, u64::try_from(n).unwrap_or(0))))
    }

    /// How many observations are stored per source, for metrics.
    pub async fn count_by_source(self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<CountRow> = with_conn!(self.store, "counting observations", |conn| {
            diesel::sql_query(
                "SELECT s.name AS label, COUNT(o.date) AS n FROM sources s \
                 LEFT JOIN observations o ON o.source_id = s.id GROUP BY s.name ORDER BY s.name",
            )
            .load(&mut conn)
            .await
        })?;
        Ok(rows.into_iter().map(|r| (r.label, r.n as u64)).collect())
    }
}
