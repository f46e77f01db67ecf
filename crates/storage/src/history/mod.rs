//! Observations as data for models: a streamed export in key order, one series as a typed list,
//! and a wide panel (one row per date, one column per series), each either as stored now or
//! **as of** an instant: what the store knew then, before later fetches and revisions (no
//! look-ahead in a backtest).
//!
//! A value's version is known from its `fetched_at` (the current value) or from its revision
//! (`old_fetched_at` until `replaced_at`), so an as-of read is the current rows fetched by then
//! merged with the old versions that were current then.

mod dates;
mod page;
mod panel;

use chrono::{DateTime, NaiveDate, Utc};
use energy_core::{CommodityCode, Observation, SourceId};

pub use dates::SeriesDates;
pub use panel::{Panel, PanelColumn};

use crate::{
    Store, StoreError,
    types::{DbTime, FIRST_DATE, LAST_DATE},
};
use page::{KeyRow, Names, PAGE, Page};

/// Observations as data for models, reached as [`Store::history`].
#[derive(Debug, Clone, Copy)]
pub struct History<'s> {
    pub(crate) store: &'s Store,
}

impl Store {
    /// Observations as data for models: exports, series and panels, now or as of an instant.
    pub fn history(&self) -> History<'_> {
        History { store: self }
    }
}

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

/// One series over a window, optionally as of an instant: what [`History::series`] reads.
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

impl History<'_> {
    /// Streams the observations matching `filter` to `sink` in key order (commodity, source,
    /// date), fetching `page` rows at a time by key, so memory stays flat whatever the size.
    /// With `filter.as_of`, each value is the one the store held at that instant. Returns the
    /// number of rows. `sink` may stop the export by returning an error.
    pub async fn export<E>(
        self,
        filter: &ExportFilter,
        mut sink: impl FnMut(Observation) -> Result<(), E>,
    ) -> Result<Result<u64, E>, StoreError> {
        let Some((commodity_ids, source_ids)) = self.filter_ids(filter).await? else {
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
        let earlier = match filter.as_of {
            Some(t) => self.versions_at(&page, t).await?,
            None => Vec::new(),
        };
        self.store
            .know_ids(earlier.iter().map(|e| (e.0, e.1)))
            .await?;
        let mut earlier = earlier.into_iter().peekable();
        let mut names = Names::default();
        let mut count = 0u64;
        let mut emit = |row: KeyRow, count: &mut u64| -> Result<Result<(), E>, StoreError> {
            let (commodity, source) = names.of(self.store, row.0, row.1)?;
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
        let mut rows = page.read(self.store, None).await?;
        loop {
            self.store.know_ids(rows.iter().map(|r| (r.0, r.1))).await?;
            let full = rows.len() == PAGE;
            // the next page is read (on the blocking pool, or by the server) while this one
            // goes to the sink
            let next = rows.last().filter(|_| full).map(|r| {
                let (store, page, after) = (self.store.clone(), page.clone(), (r.0, r.1, r.2.0));
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
                        db: self.store.inner.url.redacted(),
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
    pub async fn count(self, filter: &ExportFilter) -> Result<u64, StoreError> {
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
    /// store.catalog().register_commodity(&wti, &CommoditySpec::new("WTI crude", "USD/bbl")).await.unwrap();
    /// store.catalog().register_source(&eia, "EIA").await.unwrap();
    /// let price = |v: &str| Observation::new(
    ///     wti.clone(), eia.clone(), "2020-04-20".parse().unwrap(), Price::parse(v).unwrap(), "USD/bbl");
    /// // first published on the 21st, revised on the 22nd
    /// let day = |d: u32| Utc.with_ymd_and_hms(2020, 4, d, 12, 0, 0).unwrap();
    /// store.observations().write_batch_at(None, &[price("-37.63")], &[], day(21)).await.unwrap();
    /// store.observations().write_batch_at(None, &[price("-36.98")], &[], day(22)).await.unwrap();
    ///
    /// let now = store.history().series(&SeriesQuery::new(wti.clone(), eia.clone())).await.unwrap();
    /// assert_eq!(now[0].value.to_string(), "-36.98");
    /// let then = SeriesQuery::new(wti.clone(), eia.clone()).as_of(day(21));
    /// assert_eq!(store.history().series(&then).await.unwrap()[0].value.to_string(), "-37.63");
    /// let before = SeriesQuery::new(wti, eia).as_of(day(20));
    /// assert!(store.history().series(&before).await.unwrap().is_empty());
    /// # });
    /// ```
    pub async fn series(self, query: &SeriesQuery) -> Result<Vec<Observation>, StoreError> {
        let mut out = Vec::new();
        self.export(&query.filter(), |o| {
            out.push(o);
            Ok::<(), std::convert::Infallible>(())
        })
        .await?
        .map_err(|e| match e {})?;
        Ok(out)
    }

    /// The ids a filter names, or None when it names only codes never stored (nothing
    /// matches).
    async fn filter_ids(
        self,
        filter: &ExportFilter,
    ) -> Result<Option<(Vec<i32>, Vec<i32>)>, StoreError> {
        self.store
            .know_codes(&filter.commodities, &filter.sources)
            .await?;
        let commodity_ids: Vec<i32> = filter
            .commodities
            .iter()
            .filter_map(|c| self.store.commodity_id(c).ok())
            .collect();
        let source_ids: Vec<i32> = filter
            .sources
            .iter()
            .filter_map(|s| self.store.source_id(s).ok())
            .collect();
        if (!filter.commodities.is_empty() && commodity_ids.is_empty())
            || (!filter.sources.is_empty() && source_ids.is_empty())
        {
            return Ok(None);
        }
        Ok(Some((commodity_ids, source_ids)))
    }
}
