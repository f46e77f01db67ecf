//! One EIA row into a series' data: checked to be of the series asked for (each facet value), dated by its
//! period at the series' resolution (another resolution's period fails the batch), then an
//! observation, a missing value, an invalid one, or a row outside what was asked.

use chrono::NaiveDate;
use serde_json::Value;

use super::{Eia, Selector, frequency, page::Row};
use crate::{SeriesData, SeriesRequest, SourceError, SourceErrorKind};

impl Eia {
    /// One row of `series` (asked for over `asked`, which may be wider than `req`'s own window
    /// when a group shares the request) into `out`.
    pub(super) fn take_row(
        &self,
        row: &Row,
        selector: &Selector<'_>,
        req: &SeriesRequest,
        asked: (NaiveDate, NaiveDate),
        out: &mut SeriesData,
        url: &str,
    ) -> Result<(), SourceError> {
        for (facet, value) in &selector.facets {
            if let Some(other) = row.facet(facet).filter(|v| v != value) {
                return Err(self.malformed_at(
                    url,
                    format!(
                        "a row of {:?} is of {facet} {other:?}, not the {value:?} asked for",
                        row.period
                    ),
                ));
            }
        }
        let date = frequency::period(req.resolution, &row.period).map_err(|shape| match shape {
            Some(sent) => SourceError::new(
                self.id.clone(),
                SourceErrorKind::WrongResolution {
                    series: req.series.clone(),
                    configured: req.resolution,
                    sent: format!("{sent} (period {:?})", row.period),
                    url: url.to_owned(),
                },
            ),
            None => self.malformed_at(
                url,
                format!("period {:?} is not a {} period", row.period, req.resolution),
            ),
        })?;
        if date < asked.0 || date > asked.1 {
            let raw = match &row.value {
                None | Some(Value::Null) => "null".to_owned(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            out.push_outside(date, raw, asked);
            return Ok(());
        }
        // the rest of a group's window: another member's dates
        if !req.asks_for(date) {
            return Ok(());
        }
        match &row.value {
            None | Some(Value::Null) => out.missing.push(date),
            Some(Value::String(s)) if s.trim().is_empty() => out.missing.push(date),
            Some(Value::String(s)) => out.push_published(req, &self.id, date, s),
            Some(Value::Number(n)) => out.push_published(req, &self.id, date, &n.to_string()),
            Some(other) => out.push_invalid(date, other.to_string(), "not a number"),
        }
        Ok(())
    }
}
