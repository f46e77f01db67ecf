//! After a run: where two sources' stored values of a commodity disagree on a date within the
//! last [`SPAN_DAYS`] of the run's window (a copy of one instrument must be equal, spot and
//! future within `monitor.basis_band`). Warnings for the report; nothing is changed or rejected.
//! The span keeps a 40-year backfill from reading its whole history back.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use energy_core::{
    CROSS_SOURCE_LISTED, CommodityCode, DateWindow, RunReport, SourceReport,
    crosscheck::{CrossSourceWarning, SourceValue, compare},
};
use energy_storage::{ExportFilter, Store, StoreError};

use crate::Config;

/// How many days, at the end of a run's window, are compared.
const SPAN_DAYS: u64 = 366;

/// Adds the disagreements within the run's windows to its report, and logs them. A database
/// that cannot be read here loses nothing: the values are stored; the error is logged.
pub(super) async fn annotate(config: &Config, store: &Store, report: &mut RunReport) {
    match cross_check(config, store, &report.sources, CROSS_SOURCE_LISTED).await {
        Ok((listed, total)) => {
            for w in &listed {
                tracing::warn!(commodity = %w.commodity, date = %w.date, "{}", w.message);
            }
            (report.cross_source, report.cross_source_warnings) = (listed, total);
        }
        Err(e) => {
            tracing::error!(run = %report.run_id, error = %e, "cannot compare the sources' values");
        }
    }
}

/// The disagreements within each commodity's window of this run (in date order per
/// commodity), the first `listed` of them, and how many there are in all.
pub(super) async fn cross_check(
    config: &Config,
    store: &Store,
    sources: &[SourceReport],
    listed: usize,
) -> Result<(Vec<CrossSourceWarning>, u64), StoreError> {
    let mut windows: BTreeMap<CommodityCode, DateWindow> = BTreeMap::new();
    for c in sources.iter().flat_map(|s| &s.commodities) {
        if let Some(w) = c.window {
            windows
                .entry(c.commodity.clone())
                .and_modify(|all| *all = all.union(&w))
                .or_insert(w);
        }
    }
    let (mut listed_out, mut total) = (Vec::new(), 0u64);
    for (commodity, window) in windows {
        let span_start = window.end() - chrono::Days::new(SPAN_DAYS - 1);
        let filter = ExportFilter {
            commodities: vec![commodity.clone()],
            sources: Vec::new(),
            start: Some(window.start().max(span_start)),
            end: Some(window.end()),
            as_of: None,
        };
        let mut by_date: BTreeMap<NaiveDate, Vec<SourceValue>> = BTreeMap::new();
        let read = store
            .history()
            .export(&filter, |o| {
                by_date.entry(o.date).or_default().push(SourceValue {
                    instrument: config.instrument(&o.source),
                    source: o.source,
                    value: o.value,
                });
                Ok::<(), std::convert::Infallible>(())
            })
            .await?;
        let Ok(_) = read;
        for (date, values) in by_date {
            for (i, first) in values.iter().enumerate() {
                for second in &values[i + 1..] {
                    let (a, b) = if first.source <= second.source {
                        (first, second)
                    } else {
                        (second, first)
                    };
                    if let Some(w) = compare(
                        &commodity,
                        date,
                        a.clone(),
                        b.clone(),
                        config.monitor.basis_band,
                    ) {
                        total += 1;
                        if listed_out.len() < listed {
                            listed_out.push(w);
                        }
                    }
                }
            }
        }
    }
    Ok((listed_out, total))
}
