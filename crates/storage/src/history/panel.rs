//! The wide panel: one row per date, one column per series, for models; and the decimal scale
//! an exact export column needs.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use energy_core::{CommodityCode, Price, SourceId};

use super::ExportFilter;
use super::History;
use crate::{StoreError, store::with_conn};

/// One series' (date, value) pairs in date order.
type Points = Vec<(NaiveDate, Price)>;

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
/// Built by [`History::panel`].
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

impl History<'_> {
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
    /// store.catalog().register_commodity(&wti, &CommoditySpec::new("WTI crude", "USD/bbl")).await.unwrap();
    /// let mut rows = Vec::new();
    /// for (source, date, value) in [("eia", "2020-04-17", "18.27"), ("eia", "2020-04-20", "-36.98"),
    ///                               ("yahoo", "2020-04-20", "-37.63")] {
    ///     let source = SourceId::new(source).unwrap();
    ///     store.catalog().register_source(&source, source.as_str()).await.unwrap();
    ///     rows.push(Observation::new(wti.clone(), source, date.parse().unwrap(),
    ///                                Price::parse(value).unwrap(), "USD/bbl"));
    /// }
    /// store.observations().upsert(None, &rows).await.unwrap();
    ///
    /// let panel = store.history().panel(&ExportFilter::default()).await.unwrap();
    /// assert_eq!(panel.shape(), (2, 2));
    /// assert_eq!(panel.columns[1].name(), "WTI/yahoo");
    /// // Yahoo has no value on the 17th
    /// assert_eq!(panel.row("2020-04-17".parse().unwrap()).unwrap()[1], None);
    /// # });
    /// ```
    pub async fn panel(self, filter: &ExportFilter) -> Result<Panel, StoreError> {
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
    pub async fn value_scale(self, filter: &ExportFilter) -> Result<u32, StoreError> {
        let Some((cids, sids)) = self.filter_ids(filter).await? else {
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
        let pg = self.store.backend() == crate::Backend::Postgres;
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
        let row: crate::types::IntRow =
            with_conn!(self.store, "reading the values' scale", |conn| {
                diesel_async::RunQueryDsl::get_result(diesel::sql_query(sql.clone()), &mut conn)
                    .await
            })?;
        Ok(u32::try_from(row.n).unwrap_or(0))
    }
}
