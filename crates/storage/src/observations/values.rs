//! Stored values of a series for charts and checks: a commodity's values over a window, the
//! most recent values of one series or of every series, and a series' revisions.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, QueryDsl,
    sql_types::{Integer, Text},
};
use diesel_async::RunQueryDsl;
use energy_core::{CommodityCode, Price, SourceId};

use super::Observations;
use crate::{
    RunId, StoreError,
    schema::{observations, revisions},
    store::{load_rows, with_conn},
    types::{DbDate, DbPrice, DbTime, LAST_DATE},
};

/// A replaced value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionRecord {
    pub date: NaiveDate,
    pub old_value: Price,
    pub new_value: Price,
    pub replaced_at: DateTime<Utc>,
    pub replaced_by_run: Option<RunId>,
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

impl Observations<'_> {
    /// Every stored (date, value) of `commodity` from `start` to `end` (both included; None:
    /// unbounded), per source in date order: one primary-key range read of three columns, for
    /// charts and the series API.
    pub async fn commodity_values(
        self,
        commodity: &CommodityCode,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<BTreeMap<SourceId, Vec<(NaiveDate, Price)>>, StoreError> {
        self.store
            .know_codes([commodity], std::iter::empty())
            .await?;
        let Ok(cid) = self.store.commodity_id(commodity) else {
            return Ok(BTreeMap::new());
        };
        use observations::dsl as o;
        let rows = load_rows!(
            self.store,
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
        self.store
            .know_ids(rows.iter().map(|(sid, _, _)| (cid, *sid)))
            .await?;
        let cat = self.store.catalog_cache();
        let mut out: BTreeMap<SourceId, Vec<(NaiveDate, Price)>> = BTreeMap::new();
        for (sid, date, value) in rows {
            let source = cat
                .source_names
                .get(&sid)
                .cloned()
                .ok_or_else(|| self.store.corrupt("source id", &sid.to_string()))?;
            out.entry(source).or_default().push((date.0, value.0));
        }
        Ok(out)
    }

    /// Up to `limit` most recent (date, value) pairs of a series strictly before `before` (or
    /// overall), newest first.
    pub async fn recent_values(
        self,
        commodity: &CommodityCode,
        source: &SourceId,
        before: Option<NaiveDate>,
        limit: u32,
    ) -> Result<Vec<(NaiveDate, Price)>, StoreError> {
        let Some((cid, sid)) = self.store.series_ids(commodity, source).await? else {
            return Ok(Vec::new());
        };
        let before = before.unwrap_or(LAST_DATE);
        use observations::dsl as o;
        let rows: Vec<(NaiveDate, DbPrice)> =
            with_conn!(self.store, "reading recent values", |conn| {
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
        self,
        limit: u32,
    ) -> Result<HashMap<(CommodityCode, SourceId), Vec<(NaiveDate, Price)>>, StoreError> {
        let mut out: HashMap<(CommodityCode, SourceId), Vec<(NaiveDate, Price)>> = HashMap::new();
        match self.store.backend() {
            crate::Backend::Postgres => {
                let rows: Vec<RecentRow> =
                    with_conn!(self.store, "reading recent values", |conn| {
                        diesel::sql_query(RECENT_OF_EVERY_SERIES_PG)
                            .bind::<Integer, _>(i32::try_from(limit).unwrap_or(i32::MAX))
                            .load(&mut conn)
                            .await
                    })?;
                self.store
                    .know_ids(rows.iter().map(|r| (r.commodity_id, r.source_id)))
                    .await?;
                let cat = self.store.catalog_cache();
                for r in rows {
                    let (Some(c), Some(s)) = (
                        cat.commodity_codes.get(&r.commodity_id),
                        cat.source_names.get(&r.source_id),
                    ) else {
                        continue;
                    };
                    let price = Price::parse(&r.value)
                        .map_err(|_| self.store.corrupt("price", &r.value))?;
                    out.entry((c.clone(), s.clone()))
                        .or_default()
                        .push((r.date, price));
                }
            }
            // SQLite has no LATERAL; a lookup per series down the primary key is cheap there
            crate::Backend::Sqlite => {
                // every series the database knows, not only those this handle saw registered
                self.store.reload_catalog().await?;
                let pairs: Vec<(CommodityCode, SourceId)> = {
                    let cat = self.store.catalog_cache();
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
    /// store.catalog().register_commodity(&wti, &CommoditySpec::new("WTI crude", "USD/bbl")).await.unwrap();
    /// store.catalog().register_source(&eia, "EIA").await.unwrap();
    /// let settle = |v: &str| Observation::new(
    ///     wti.clone(), eia.clone(), "2020-04-20".parse().unwrap(), Price::parse(v).unwrap(), "USD/bbl");
    /// store.observations().upsert(None, &[settle("-37.63")]).await.unwrap();
    /// store.observations().upsert(None, &[settle("-36.98")]).await.unwrap();
    /// let revisions = store.observations().revisions(&wti, &eia).await.unwrap();
    /// assert_eq!(revisions.len(), 1);
    /// assert_eq!(revisions[0].old_value.to_string(), "-37.63");
    /// assert_eq!(revisions[0].new_value.to_string(), "-36.98");
    /// # });
    /// ```
    pub async fn revisions(
        self,
        commodity: &CommodityCode,
        source: &SourceId,
    ) -> Result<Vec<RevisionRecord>, StoreError> {
        self.store.know_codes([commodity], [source]).await?;
        let (cid, sid) = (
            self.store.commodity_id(commodity)?,
            self.store.source_id(source)?,
        );
        use revisions::dsl as r;
        let rows: Vec<(NaiveDate, DbPrice, DbPrice, DbTime, Option<i64>)> =
            with_conn!(self.store, "reading revisions", |conn| {
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
}
