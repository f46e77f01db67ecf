//! Reading: latest dates and freshness (index lookups, never a table scan), recent values,
//! revisions, quarantine and a streamed export.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, QueryDsl,
    sql_types::{Integer, Nullable, Text},
};
use diesel_async::RunQueryDsl;
use energy_core::{CommodityCode, Price, Rejection, SourceId, validation::RuleId};

use crate::{
    RunId, Store, StoreError,
    schema::{observations, quarantine, revisions},
    store::{load_rows, with_conn},
    types::{DbDate, DbPrice, DbTime},
};

/// Bounds for open-ended date filters that sort correctly as text too (SQLite stores dates as
/// `YYYY-MM-DD` text, where chrono's extreme dates would not compare).
pub(crate) const FIRST_DATE: NaiveDate = NaiveDate::from_ymd_opt(1, 1, 1).expect("valid date");
pub(crate) const LAST_DATE: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date");

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

/// A replaced value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRecord {
    pub date: NaiveDate,
    pub old_value: Price,
    pub new_value: Price,
    pub replaced_at: DateTime<Utc>,
    pub replaced_by_run: Option<RunId>,
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

/// A label and a count, from a `GROUP BY` (metrics).
#[derive(diesel::QueryableByName)]
pub(crate) struct CountRow {
    #[diesel(sql_type = Text)]
    pub label: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

#[derive(diesel::QueryableByName)]
struct RecentRow {
    #[diesel(sql_type = Integer)]
    commodity_id: i32,
    #[diesel(sql_type = Integer)]
    source_id: i32,
    #[diesel(sql_type = diesel::sql_types::Date)]
    date: NaiveDate,
    #[diesel(sql_type = Text)]
    value: String,
}

/// PostgreSQL: the last N values of every series in one statement. Planned once (on a
/// hypertable, planning a per-series query 90 times costs more than running them), executed per
/// series down the primary key.
const RECENT_OF_EVERY_SERIES_PG: &str = "\
SELECT r.commodity_id, r.source_id, r.date, r.value
  FROM commodities c CROSS JOIN sources s
  CROSS JOIN LATERAL (
    SELECT o.commodity_id, o.source_id, o.date, CAST(o.value AS TEXT) AS value
      FROM observations o
     WHERE o.commodity_id = c.id AND o.source_id = s.id
     ORDER BY o.date DESC LIMIT $1) r";

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

impl Store {
    /// The catalog ids of a series; None when its commodity or source was never registered
    /// (then nothing of it is stored).
    fn series_ids(&self, commodity: &CommodityCode, source: &SourceId) -> Option<(i32, i32)> {
        Some((
            self.commodity_id(commodity).ok()?,
            self.source_id(source).ok()?,
        ))
    }

    /// The latest stored market date of a series, if any.
    pub async fn latest_date(
        &self,
        commodity: &CommodityCode,
        source: &SourceId,
    ) -> Result<Option<NaiveDate>, StoreError> {
        let Some((cid, sid)) = self.series_ids(commodity, source) else {
            return Ok(None);
        };
        use observations::dsl as o;
        with_conn!(self, "reading the latest date", |conn| {
            o::observations
                .filter(o::commodity_id.eq(cid).and(o::source_id.eq(sid)))
                .select(diesel::dsl::max(o::date))
                .first::<Option<NaiveDate>>(&mut conn)
                .await
        })
    }

    /// Latest date and value and first date of every series that has data, ordered by
    /// commodity and source.
    pub async fn freshness(&self) -> Result<Vec<SeriesLatest>, StoreError> {
        let rows: Vec<LatestRow> = with_conn!(self, "reading freshness", |conn| {
            diesel::sql_query(FRESHNESS_SQL).load(&mut conn).await
        })?;
        let cat = self.inner.catalog.read().expect("catalog lock");
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
                latest_value: Price::parse(&value).map_err(|_| self.corrupt("price", &value))?,
                first_date: r.first_date.unwrap_or(date),
            });
        }
        Ok(out)
    }

    /// How many dates each series has stored from `since` on (series with none left out): a
    /// primary-key range per series, so its cost follows the span asked, not the history.
    pub async fn stored_since(
        &self,
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
        let rows: Vec<SeriesCountRow> = with_conn!(self, "counting recent dates", |conn| {
            diesel::sql_query(&sql).load(&mut conn).await
        })?;
        let cat = self.inner.catalog.read().expect("catalog lock");
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
        &self,
        commodity: &CommodityCode,
        source: &SourceId,
        before: NaiveDate,
    ) -> Result<Option<(NaiveDate, u64)>, StoreError> {
        let Some((cid, sid)) = self.series_ids(commodity, source) else {
            return Ok(None);
        };
        use diesel::dsl::{count_star, min};
        use observations::dsl as o;
        let (first, n): (Option<NaiveDate>, i64) =
            with_conn!(self, "counting stored dates", |conn| {
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

    /// Every stored (date, value) of `commodity` from `start` to `end` (both included; None:
    /// unbounded), per source in date order: one primary-key range read of three columns, for
    /// charts and the series API.
    pub async fn commodity_values(
        &self,
        commodity: &CommodityCode,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<BTreeMap<SourceId, Vec<(NaiveDate, Price)>>, StoreError> {
        let Ok(cid) = self.commodity_id(commodity) else {
            return Ok(BTreeMap::new());
        };
        use observations::dsl as o;
        let rows = load_rows!(
            self,
            "reading a commodity's values",
            (i32, DbDate, DbPrice),
            {
                let mut q = o::observations
                    .filter(o::commodity_id.eq(cid))
                    .order((o::source_id, o::date))
                    .select((o::source_id, o::date, o::value))
                    .into_boxed();
                // an open end is no condition (SQLite would convert the bound for every row)
                if let Some(start) = start {
                    q = q.filter(o::date.ge(start));
                }
                if let Some(end) = end {
                    q = q.filter(o::date.le(end));
                }
                q
            }
        )?;
        let cat = self.inner.catalog.read().expect("catalog lock");
        let mut out: BTreeMap<SourceId, Vec<(NaiveDate, Price)>> = BTreeMap::new();
        for (sid, date, value) in rows {
            let source = cat
                .source_names
                .get(&sid)
                .cloned()
                .ok_or_else(|| self.corrupt("source id", &sid.to_string()))?;
            out.entry(source).or_default().push((date.0, value.0));
        }
        Ok(out)
    }

    /// Up to `limit` most recent (date, value) pairs of a series strictly before `before` (or
    /// overall), newest first.
    pub async fn recent_values(
        &self,
        commodity: &CommodityCode,
        source: &SourceId,
        before: Option<NaiveDate>,
        limit: u32,
    ) -> Result<Vec<(NaiveDate, Price)>, StoreError> {
        let Some((cid, sid)) = self.series_ids(commodity, source) else {
            return Ok(Vec::new());
        };
        let before = before.unwrap_or(LAST_DATE);
        use observations::dsl as o;
        let rows: Vec<(NaiveDate, DbPrice)> = with_conn!(self, "reading recent values", |conn| {
            o::observations
                .filter(
                    o::commodity_id
                        .eq(cid)
                        .and(o::source_id.eq(sid))
                        .and(o::date.lt(before)),
                )
                .order(o::date.desc())
                .limit(i64::from(limit))
                .select((o::date, o::value))
                .load(&mut conn)
                .await
        })?;
        Ok(rows.into_iter().map(|(d, v)| (d, v.0)).collect())
    }

    /// Up to `limit` most recent (date, value) pairs of every series that has data, newest
    /// first, keyed by (commodity, source).
    pub async fn recent_values_of_every_series(
        &self,
        limit: u32,
    ) -> Result<HashMap<(CommodityCode, SourceId), Vec<(NaiveDate, Price)>>, StoreError> {
        let mut out: HashMap<(CommodityCode, SourceId), Vec<(NaiveDate, Price)>> = HashMap::new();
        match self.backend() {
            crate::Backend::Postgres => {
                let rows: Vec<RecentRow> = with_conn!(self, "reading recent values", |conn| {
                    diesel::sql_query(RECENT_OF_EVERY_SERIES_PG)
                        .bind::<Integer, _>(i32::try_from(limit).unwrap_or(i32::MAX))
                        .load(&mut conn)
                        .await
                })?;
                let cat = self.inner.catalog.read().expect("catalog lock");
                for r in rows {
                    let (Some(c), Some(s)) = (
                        cat.commodity_codes.get(&r.commodity_id),
                        cat.source_names.get(&r.source_id),
                    ) else {
                        continue;
                    };
                    let price =
                        Price::parse(&r.value).map_err(|_| self.corrupt("price", &r.value))?;
                    out.entry((c.clone(), s.clone()))
                        .or_default()
                        .push((r.date, price));
                }
            }
            // SQLite has no LATERAL; a lookup per series down the primary key is cheap there
            crate::Backend::Sqlite => {
                let pairs: Vec<(CommodityCode, SourceId)> = {
                    let cat = self.inner.catalog.read().expect("catalog lock");
                    cat.commodity_ids
                        .keys()
                        .flat_map(|c| cat.source_ids.keys().map(move |s| (c.clone(), s.clone())))
                        .collect()
                };
                for (c, s) in pairs {
                    let values = self.recent_values(&c, &s, None, limit).await?;
                    if !values.is_empty() {
                        out.insert((c, s), values);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The revisions of one series, oldest first: each replaced value, its replacement and
    /// when. A series never stored is an error ([`StoreError`]), one never revised is empty.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use energy_core::{CommodityCode, CommoditySpec, Observation, Price, SourceId};
    /// use energy_storage::{DatabaseUrl, Store};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let url = format!("sqlite://{}/prices.db", dir.path().display());
    /// let store = Store::open(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
    /// let (wti, eia) = (CommodityCode::new("WTI").unwrap(), SourceId::new("eia").unwrap());
    /// store.register_commodity(&wti, &CommoditySpec::new("WTI crude", "USD/bbl")).await.unwrap();
    /// store.register_source(&eia, "EIA").await.unwrap();
    /// let settle = |v: &str| Observation::new(
    ///     wti.clone(), eia.clone(), "2020-04-20".parse().unwrap(), Price::parse(v).unwrap(), "USD/bbl");
    /// store.upsert(None, &[settle("-37.63")]).await.unwrap();
    /// store.upsert(None, &[settle("-36.98")]).await.unwrap();
    /// let revisions = store.revisions(&wti, &eia).await.unwrap();
    /// assert_eq!(revisions.len(), 1);
    /// assert_eq!(revisions[0].old_value.to_string(), "-37.63");
    /// assert_eq!(revisions[0].new_value.to_string(), "-36.98");
    /// # });
    /// ```
    pub async fn revisions(
        &self,
        commodity: &CommodityCode,
        source: &SourceId,
    ) -> Result<Vec<RevisionRecord>, StoreError> {
        let (cid, sid) = (self.commodity_id(commodity)?, self.source_id(source)?);
        use revisions::dsl as r;
        let rows: Vec<(NaiveDate, DbPrice, DbPrice, DbTime, Option<i64>)> =
            with_conn!(self, "reading revisions", |conn| {
                r::revisions
                    .filter(r::commodity_id.eq(cid).and(r::source_id.eq(sid)))
                    .order(r::id)
                    .select((
                        r::date,
                        r::old_value,
                        r::new_value,
                        r::replaced_at,
                        r::replaced_by_run,
                    ))
                    .load(&mut conn)
                    .await
            })?;
        Ok(rows
            .into_iter()
            .map(|(date, old, new, at, run)| RevisionRecord {
                date,
                old_value: old.0,
                new_value: new.0,
                replaced_at: at.0,
                replaced_by_run: run.map(RunId),
            })
            .collect())
    }

    /// Quarantined rows, of one run or all, in insertion order.
    pub async fn quarantined(
        &self,
        run: Option<RunId>,
    ) -> Result<Vec<QuarantineRecord>, StoreError> {
        let filter = QuarantineFilter {
            run,
            ..QuarantineFilter::default()
        };
        self.quarantine_rows(&filter, false).await
    }

    /// The newest quarantined rows matching `filter` (at most `filter.limit`), newest first,
    /// and how many match in all.
    pub async fn quarantine_newest(
        &self,
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
    fn quarantine_ids(&self, filter: &QuarantineFilter) -> Option<(Option<i32>, Option<i32>)> {
        let cid = match &filter.commodity {
            Some(c) => Some(self.commodity_id(c).ok()?),
            None => None,
        };
        let sid = match &filter.source {
            Some(s) => Some(self.source_id(s).ok()?),
            None => None,
        };
        Some((cid, sid))
    }

    async fn quarantine_count(&self, filter: &QuarantineFilter) -> Result<u64, StoreError> {
        let Some((cid, sid)) = self.quarantine_ids(filter) else {
            return Ok(0);
        };
        let run = filter.run;
        let n: i64 = with_conn!(self, "counting the quarantine", |conn| {
            quarantine_where!(quarantine::table.count().into_boxed(), run, cid, sid)
                .get_result(&mut conn)
                .await
        })?;
        Ok(n as u64)
    }

    async fn quarantine_rows(
        &self,
        filter: &QuarantineFilter,
        newest_first: bool,
    ) -> Result<Vec<QuarantineRecord>, StoreError> {
        use quarantine::dsl as q;
        let Some((cid, sid)) = self.quarantine_ids(filter) else {
            return Ok(Vec::new());
        };
        let (run, limit) = (filter.run, filter.limit);
        type Row = (Option<i64>, i32, i32, NaiveDate, String, String, String);
        let rows: Vec<Row> = with_conn!(self, "reading the quarantine", |conn| {
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
            let pairs: Vec<(i64, String)> = with_conn!(self, "reading run ids", |conn| {
                r::runs
                    .filter(r::id.eq_any(run_ids))
                    .select((r::id, r::run_uuid))
                    .load(&mut conn)
                    .await
            })?;
            pairs.into_iter().collect()
        };
        let cat = self.inner.catalog.read().expect("catalog lock");
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
                            .ok_or_else(|| self.corrupt("commodity id", &cid.to_string()))?,
                        source: cat
                            .source_names
                            .get(&sid)
                            .cloned()
                            .ok_or_else(|| self.corrupt("source id", &sid.to_string()))?,
                        date,
                        raw_value,
                        rule: RuleId::parse(&rule).ok_or_else(|| self.corrupt("rule id", &rule))?,
                        reason,
                    },
                })
            })
            .collect()
    }

    /// How many observations are stored per source, for metrics.
    pub async fn observations_by_source(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<CountRow> = with_conn!(self, "counting observations", |conn| {
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
