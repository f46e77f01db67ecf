//! Observations as data for models: a streamed export in key order, one series as a typed list,
//! and a wide panel (one row per date, one column per series), each either as stored now or
//! **as of** an instant: what the store knew then, before later fetches and revisions (no
//! look-ahead in a backtest).
//!
//! A value's version is known from its `fetched_at` (the current value) or from its revision
//! (`old_fetched_at` until `replaced_at`), so an as-of read is the current rows fetched by then
//! merged with the old versions that were current then.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, QueryDsl,
    dsl::sql,
    sql_types::{Bool, Date, Integer},
};
use energy_core::{CommodityCode, Observation, Price, SourceId};

use crate::{
    Store, StoreError,
    read::{FIRST_DATE, LAST_DATE},
    schema::{observations, revisions},
    store::{load_rows, with_conn},
    types::{DbDate, DbPrice, DbTime},
};

/// Which observations to read. Empty lists mean "all"; `as_of` reads the store as it was at
/// that instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFilter {
    pub commodities: Vec<CommodityCode>,
    pub sources: Vec<SourceId>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    /// Read the values as the store knew them at this instant: rows first fetched later are
    /// absent, rows revised later show the value they had then. `None`: as stored now.
    pub as_of: Option<DateTime<Utc>>,
}

/// One series over a window, optionally as of an instant: what [`Store::series`] reads.
///
/// ```
/// use energy_core::{CommodityCode, SourceId};
/// use energy_storage::SeriesQuery;
///
/// let query = SeriesQuery::new(
///     CommodityCode::new("WTI").unwrap(),
///     SourceId::new("eia").unwrap(),
/// )
/// .between("2020-04-01".parse().ok(), "2020-04-30".parse().ok())
/// .as_of("2020-05-01T00:00:00Z".parse().unwrap());
/// assert_eq!(query.commodity.as_str(), "WTI");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesQuery {
    pub commodity: CommodityCode,
    pub source: SourceId,
    /// First market date (inclusive); `None`: from the first stored.
    pub start: Option<NaiveDate>,
    /// Last market date (inclusive); `None`: to the last stored.
    pub end: Option<NaiveDate>,
    /// Read as the store knew it at this instant; `None`: as stored now.
    pub as_of: Option<DateTime<Utc>>,
}

impl SeriesQuery {
    /// The whole series as stored now.
    pub fn new(commodity: CommodityCode, source: SourceId) -> Self {
        Self {
            commodity,
            source,
            start: None,
            end: None,
            as_of: None,
        }
    }

    /// Only market dates from `start` to `end` (each inclusive; `None` leaves that end open).
    pub fn between(mut self, start: Option<NaiveDate>, end: Option<NaiveDate>) -> Self {
        self.start = start;
        self.end = end;
        self
    }

    /// As the store knew it at `instant`.
    pub fn as_of(mut self, instant: DateTime<Utc>) -> Self {
        self.as_of = Some(instant);
        self
    }

    fn filter(&self) -> ExportFilter {
        ExportFilter {
            commodities: vec![self.commodity.clone()],
            sources: vec![self.source.clone()],
            start: self.start,
            end: self.end,
            as_of: self.as_of,
        }
    }
}

/// One column of a [`Panel`]: a series and its value on each of the panel's dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelColumn {
    pub commodity: CommodityCode,
    pub source: SourceId,
    /// The unit of its latest value in the panel.
    pub unit: String,
    /// One entry per [`Panel::dates`]: `None` where the series has no value that day.
    pub values: Vec<Option<Price>>,
}

impl PanelColumn {
    /// `COMMODITY/source`, the column's name in wide exports.
    pub fn name(&self) -> String {
        format!("{}/{}", self.commodity, self.source)
    }
}

/// A wide frame: one row per date, one column per (commodity, source) series, in key order.
/// Built by [`Store::panel`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Panel {
    /// The rows' dates, ascending: every date on which any column has a value (or, after
    /// [`Panel::on_days`], exactly the chosen days).
    pub dates: Vec<NaiveDate>,
    pub columns: Vec<PanelColumn>,
}

impl Panel {
    /// (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        (self.dates.len(), self.columns.len())
    }

    /// The row of `date`: each column's value, or None for a date not in the panel.
    pub fn row(&self, date: NaiveDate) -> Option<Vec<Option<Price>>> {
        let i = self.dates.binary_search(&date).ok()?;
        Some(self.columns.iter().map(|c| c.values[i]).collect())
    }

    /// The panel on exactly the days from its first to its last date for which `keep` holds
    /// (a market's trading days, say): such a day without values becomes an empty row, and
    /// values on other days are left out. Returns the panel and how many values were left out.
    ///
    /// ```
    /// use chrono::{Datelike, NaiveDate, Weekday};
    /// use energy_core::{CommodityCode, Price, SourceId};
    /// use energy_storage::{Panel, PanelColumn};
    ///
    /// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    /// let panel = Panel {
    ///     // Friday, Saturday, Tuesday
    ///     dates: vec![d("2020-04-17"), d("2020-04-18"), d("2020-04-21")],
    ///     columns: vec![PanelColumn {
    ///         commodity: CommodityCode::new("WTI").unwrap(),
    ///         source: SourceId::new("eia").unwrap(),
    ///         unit: "USD/bbl".into(),
    ///         values: ["18.27", "18.30", "8.91"].map(|v| Price::parse(v).ok()).to_vec(),
    ///     }],
    /// };
    /// let weekdays = |d: NaiveDate| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    /// let (panel, left_out) = panel.on_days(weekdays);
    /// // Friday, Monday (empty), Tuesday; Saturday's value left out
    /// assert_eq!(panel.dates, [d("2020-04-17"), d("2020-04-20"), d("2020-04-21")]);
    /// assert_eq!(panel.columns[0].values[1], None);
    /// assert_eq!(left_out, 1);
    /// ```
    pub fn on_days(self, keep: impl Fn(NaiveDate) -> bool) -> (Panel, usize) {
        let (Some(&first), Some(&last)) = (self.dates.first(), self.dates.last()) else {
            return (self, 0);
        };
        let days: Vec<NaiveDate> = first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(|d| keep(*d))
            .collect();
        let mut dropped = 0;
        let columns = self
            .columns
            .into_iter()
            .map(|c| {
                let mut values = vec![None; days.len()];
                for (date, value) in self.dates.iter().zip(c.values) {
                    match days.binary_search(date) {
                        Ok(i) => values[i] = value,
                        Err(_) => dropped += usize::from(value.is_some()),
                    }
                }
                PanelColumn { values, ..c }
            })
            .collect();
        (
            Panel {
                dates: days,
                columns,
            },
            dropped,
        )
    }
}

/// One series' (date, value) pairs in date order.
type Points = Vec<(NaiveDate, Price)>;

/// A stored row as read for an export: (commodity id, source id, date, value, unit).
type KeyRow = (i32, i32, NaiveDate, Price, String);

/// Rows of an export page.
const PAGE: usize = 20_000;

/// What an export reads, page by page in key order.
#[derive(Debug, Clone)]
struct Page {
    commodity_ids: Vec<i32>,
    source_ids: Vec<i32>,
    /// First and last date, when the window is not open.
    window: Option<(NaiveDate, NaiveDate)>,
    /// Only rows fetched by then.
    as_of: Option<DbTime>,
}

type PageRow = (i32, i32, DbDate, DbPrice, String);

impl Page {
    /// The next [`PAGE`] rows after the key `after`.
    async fn read(
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
struct Names {
    last: Option<(i32, i32, CommodityCode, SourceId)>,
}

impl Names {
    fn of(
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
        let cat = store.inner.catalog.read().expect("catalog lock");
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

impl Store {
    /// Streams the observations matching `filter` to `sink` in key order (commodity, source,
    /// date), fetching `page` rows at a time by key, so memory stays flat whatever the size.
    /// With `filter.as_of`, each value is the one the store held at that instant. Returns the
    /// number of rows. `sink` may stop the export by returning an error.
    pub async fn export<E>(
        &self,
        filter: &ExportFilter,
        mut sink: impl FnMut(Observation) -> Result<(), E>,
    ) -> Result<Result<u64, E>, StoreError> {
        let Some((commodity_ids, source_ids)) = self.filter_ids(filter) else {
            return Ok(Ok(0));
        };
        let page = Page {
            commodity_ids,
            source_ids,
            window: (filter.start.is_some() || filter.end.is_some()).then(|| {
                (
                    filter.start.unwrap_or(FIRST_DATE),
                    filter.end.unwrap_or(LAST_DATE),
                )
            }),
            as_of: filter.as_of.map(DbTime),
        };
        // as of an instant: the old versions that were current then, in key order, merged in
        let mut earlier = match filter.as_of {
            Some(t) => self.versions_at(&page, t).await?.into_iter().peekable(),
            None => Vec::new().into_iter().peekable(),
        };
        let mut names = Names::default();
        let mut count = 0u64;
        let mut emit = |row: KeyRow, count: &mut u64| -> Result<Result<(), E>, StoreError> {
            let (commodity, source) = names.of(self, row.0, row.1)?;
            let observation = Observation {
                commodity,
                source,
                date: row.2,
                value: row.3,
                unit: row.4,
            };
            if let Err(e) = sink(observation) {
                return Ok(Err(e));
            }
            *count += 1;
            Ok(Ok(()))
        };
        let mut rows = page.read(self, None).await?;
        loop {
            let full = rows.len() == PAGE;
            // the next page is read (on the blocking pool, or by the server) while this one
            // goes to the sink
            let next = rows.last().filter(|_| full).map(|r| {
                let (store, page, after) = (self.clone(), page.clone(), (r.0, r.1, r.2.0));
                tokio::spawn(async move { page.read(&store, Some(after)).await })
            });
            for (cid, sid, date, value, unit) in rows {
                let key = (cid, sid, date.0);
                while let Some(e) = earlier.next_if(|e| (e.0, e.1, e.2) < key) {
                    if let Err(err) = emit(e, &mut count)? {
                        return Ok(Err(err));
                    }
                }
                if let Err(err) = emit((cid, sid, date.0, value.0, unit), &mut count)? {
                    return Ok(Err(err));
                }
            }
            match next {
                Some(next) => {
                    rows = next.await.map_err(|e| StoreError::Query {
                        db: self.inner.url.redacted(),
                        operation: "exporting observations",
                        reason: format!("the page reader stopped: {e}"),
                        cause: None,
                    })??;
                }
                None => {
                    for e in earlier {
                        if let Err(err) = emit(e, &mut count)? {
                            return Ok(Err(err));
                        }
                    }
                    return Ok(Ok(count));
                }
            }
        }
    }

    /// Number of stored observations matching `filter`.
    pub async fn count_observations(&self, filter: &ExportFilter) -> Result<u64, StoreError> {
        let n = self.export(filter, |_| Ok::<(), ()>(())).await?;
        Ok(n.unwrap_or(0))
    }

    /// One series' observations in date order, as stored now or as of `query.as_of`.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use chrono::{TimeZone, Utc};
    /// use energy_core::{CommodityCode, CommoditySpec, Observation, Price, SourceId};
    /// use energy_storage::{DatabaseUrl, SeriesQuery, Store};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let url = format!("sqlite://{}/prices.db", dir.path().display());
    /// let store = Store::open(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
    /// let (wti, eia) = (CommodityCode::new("WTI").unwrap(), SourceId::new("eia").unwrap());
    /// store.register_commodity(&wti, &CommoditySpec::new("WTI crude", "USD/bbl")).await.unwrap();
    /// store.register_source(&eia, "EIA").await.unwrap();
    /// let price = |v: &str| Observation::new(
    ///     wti.clone(), eia.clone(), "2020-04-20".parse().unwrap(), Price::parse(v).unwrap(), "USD/bbl");
    /// // first published on the 21st, revised on the 22nd
    /// let day = |d: u32| Utc.with_ymd_and_hms(2020, 4, d, 12, 0, 0).unwrap();
    /// store.write_batch_at(None, &[price("-37.63")], &[], day(21)).await.unwrap();
    /// store.write_batch_at(None, &[price("-36.98")], &[], day(22)).await.unwrap();
    ///
    /// let now = store.series(&SeriesQuery::new(wti.clone(), eia.clone())).await.unwrap();
    /// assert_eq!(now[0].value.to_string(), "-36.98");
    /// let then = SeriesQuery::new(wti.clone(), eia.clone()).as_of(day(21));
    /// assert_eq!(store.series(&then).await.unwrap()[0].value.to_string(), "-37.63");
    /// let before = SeriesQuery::new(wti, eia).as_of(day(20));
    /// assert!(store.series(&before).await.unwrap().is_empty());
    /// # });
    /// ```
    pub async fn series(&self, query: &SeriesQuery) -> Result<Vec<Observation>, StoreError> {
        let mut out = Vec::new();
        self.export(&query.filter(), |o| {
            out.push(o);
            Ok::<(), std::convert::Infallible>(())
        })
        .await?
        .map_err(|e| match e {})?;
        Ok(out)
    }

    /// The observations matching `filter` as a wide [`Panel`]: one row per date on which any
    /// series has a value, one column per (commodity, source) with data, in key order.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use energy_core::{CommodityCode, CommoditySpec, Observation, Price, SourceId};
    /// use energy_storage::{DatabaseUrl, ExportFilter, Store};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let url = format!("sqlite://{}/prices.db", dir.path().display());
    /// let store = Store::open(&DatabaseUrl::parse(&url).unwrap()).await.unwrap();
    /// let wti = CommodityCode::new("WTI").unwrap();
    /// store.register_commodity(&wti, &CommoditySpec::new("WTI crude", "USD/bbl")).await.unwrap();
    /// let mut rows = Vec::new();
    /// for (source, date, value) in [("eia", "2020-04-17", "18.27"), ("eia", "2020-04-20", "-36.98"),
    ///                               ("yahoo", "2020-04-20", "-37.63")] {
    ///     let source = SourceId::new(source).unwrap();
    ///     store.register_source(&source, source.as_str()).await.unwrap();
    ///     rows.push(Observation::new(wti.clone(), source, date.parse().unwrap(),
    ///                                Price::parse(value).unwrap(), "USD/bbl"));
    /// }
    /// store.upsert(None, &rows).await.unwrap();
    ///
    /// let panel = store.panel(&ExportFilter::default()).await.unwrap();
    /// assert_eq!(panel.shape(), (2, 2));
    /// assert_eq!(panel.columns[1].name(), "WTI/yahoo");
    /// // Yahoo has no value on the 17th
    /// assert_eq!(panel.row("2020-04-17".parse().unwrap()).unwrap()[1], None);
    /// # });
    /// ```
    pub async fn panel(&self, filter: &ExportFilter) -> Result<Panel, StoreError> {
        // (commodity, source) -> (unit, its values in date order), in key order
        let mut series: BTreeMap<(CommodityCode, SourceId), (String, Points)> = BTreeMap::new();
        // the distinct dates (a series' dates come in order: most repeat the last one seen)
        let mut dates = BTreeSet::new();
        self.export(filter, |o| {
            dates.insert(o.date);
            let entry = series
                .entry((o.commodity, o.source))
                .or_insert_with(|| (String::new(), Vec::new()));
            entry.0 = o.unit;
            entry.1.push((o.date, o.value));
            Ok::<(), std::convert::Infallible>(())
        })
        .await?
        .map_err(|e| match e {})?;
        let dates: Vec<NaiveDate> = dates.into_iter().collect();
        let columns = series
            .into_iter()
            .map(|((commodity, source), (unit, points))| {
                let mut values = vec![None; dates.len()];
                // both in date order: one pass
                let mut i = 0;
                for (date, value) in points {
                    while dates[i] < date {
                        i += 1;
                    }
                    values[i] = Some(value);
                }
                PanelColumn {
                    commodity,
                    source,
                    unit,
                    values,
                }
            })
            .collect();
        Ok(Panel { dates, columns })
    }

    /// The largest number of decimal places among the stored values (and kept old values) of
    /// the series `filter` names (its dates and instant aside): the scale an exact decimal
    /// column needs for them.
    pub async fn value_scale(&self, filter: &ExportFilter) -> Result<u32, StoreError> {
        let Some((cids, sids)) = self.filter_ids(filter) else {
            return Ok(0);
        };
        let list = |ids: &[i32]| ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
        let mut wheres = Vec::new();
        if !cids.is_empty() {
            wheres.push(format!("commodity_id IN ({})", list(&cids)));
        }
        if !sids.is_empty() {
            wheres.push(format!("source_id IN ({})", list(&sids)));
        }
        let condition = if wheres.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", wheres.join(" AND "))
        };
        let pg = matches!(self.inner.db, crate::store::Db::Pg(_));
        let scale = |column: &str| {
            if pg {
                format!("COALESCE(MAX(scale({column})), 0)")
            } else {
                // decimal text: the digits after the point
                format!(
                    "COALESCE(MAX(CASE WHEN instr({column}, '.') > 0 \
                     THEN length({column}) - instr({column}, '.') ELSE 0 END), 0)"
                )
            }
        };
        let greatest = if pg { "GREATEST" } else { "MAX" };
        let sql = format!(
            "SELECT CAST({greatest}(a, b) AS INTEGER) AS n \
             FROM (SELECT {} AS a FROM observations{condition}) o, \
                  (SELECT {} AS b FROM revisions{condition}) r",
            scale("value"),
            scale("old_value"),
        );
        let row: crate::types::IntRow = with_conn!(self, "reading the values' scale", |conn| {
            diesel_async::RunQueryDsl::get_result(diesel::sql_query(sql.clone()), &mut conn).await
        })?;
        Ok(u32::try_from(row.n).unwrap_or(0))
    }

    /// The ids a filter names, or None when it names only codes never stored (nothing
    /// matches).
    fn filter_ids(&self, filter: &ExportFilter) -> Option<(Vec<i32>, Vec<i32>)> {
        let commodity_ids: Vec<i32> = filter
            .commodities
            .iter()
            .filter_map(|c| self.commodity_id(c).ok())
            .collect();
        let source_ids: Vec<i32> = filter
            .sources
            .iter()
            .filter_map(|s| self.source_id(s).ok())
            .collect();
        if (!filter.commodities.is_empty() && commodity_ids.is_empty())
            || (!filter.sources.is_empty() && source_ids.is_empty())
        {
            return None;
        }
        Some((commodity_ids, source_ids))
    }

    /// The old versions current at `t` (fetched by then, replaced after), in key order: for
    /// each key at most one, and only for keys whose current value came after `t`.
    async fn versions_at(&self, page: &Page, t: DateTime<Utc>) -> Result<Vec<KeyRow>, StoreError> {
        use revisions::dsl as r;
        let (cids, sids, t) = (
            page.commodity_ids.clone(),
            page.source_ids.clone(),
            DbTime(t),
        );
        let window = page.window;
        let rows = load_rows!(
            self,
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
