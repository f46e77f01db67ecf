//! The EIA frequency of a resolution (its `frequency` parameter is the resolution's name): the
//! period format of the window and of each row (`2026-11-20` for daily and weekly data, `2025-01`
//! for monthly), and the route metadata (`GET /v2/{route}/`) that lists the frequencies offered.

use chrono::{Datelike, NaiveDate};
use energy_core::Resolution;
use serde::Deserialize;

use super::Eia;
use crate::{SourceError, SourceErrorKind, parse_json};

/// A window bound as EIA takes it at `resolution`: a monthly series' months are `YYYY-MM`.
pub(super) fn bound(resolution: Resolution, date: NaiveDate) -> String {
    match resolution {
        Resolution::Monthly => format!("{:04}-{:02}", date.year(), date.month()),
        _ => date.to_string(),
    }
}

/// The market date of a row's `period` at `resolution` (a month's first day for a monthly
/// period), or the resolution the period's shape says it is of.
pub(super) fn period(
    resolution: Resolution,
    period: &str,
) -> Result<NaiveDate, Option<&'static str>> {
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let month = |s: &str| date(&format!("{s}-01")).filter(|_| s.len() == 7);
    let parsed = match resolution {
        Resolution::Monthly => month(period),
        _ => date(period),
    };
    parsed.ok_or_else(|| {
        if month(period).is_some() {
            Some("monthly")
        } else if period.len() > 10 && period.get(..10).and_then(date).is_some() {
            Some("hourly")
        } else if date(period).is_some() {
            Some("daily")
        } else {
            None
        }
    })
}

#[derive(Deserialize)]
struct Metadata {
    response: Option<Route>,
}

#[derive(Deserialize)]
struct Route {
    #[serde(default)]
    frequency: Vec<Frequency>,
}

#[derive(Deserialize)]
struct Frequency {
    id: String,
}

impl Eia {
    /// Checks, once per route and resolution, that the route offers `resolution` (daily series
    /// are not checked: a daily route answers as it always has, with no extra request).
    /// Returns the requests it took.
    pub(super) async fn check_frequency(
        &self,
        route: &str,
        series: &str,
        resolution: Resolution,
    ) -> Result<u32, SourceError> {
        if resolution == Resolution::Daily {
            return Ok(0);
        }
        let key = format!("{route}|{}", resolution.name());
        if self.offered.lock().expect("frequency cache").contains(&key) {
            return Ok(0);
        }
        let mut url = self
            .base
            .join(&format!("v2/{route}/"))
            .expect("route checked by check_series");
        url.query_pairs_mut()
            .append_pair("api_key", self.key.expose());
        let reply = self.http.get(&url).await?;
        if !reply.status.is_success() {
            // the data request says what is wrong, in its own terms
            self.page(&reply, series, resolution)?;
        }
        let meta: Metadata = parse_json(&reply.body).map_err(|e| self.malformed(&reply, e))?;
        let offered: Vec<String> = meta
            .response
            .ok_or_else(|| self.malformed(&reply, "route metadata without a `response` object"))?
            .frequency
            .into_iter()
            .map(|f| f.id)
            .collect();
        if !offered.iter().any(|f| f == resolution.name()) {
            return Err(SourceError::new(
                self.id.clone(),
                SourceErrorKind::WrongResolution {
                    series: format!("{route}:{series}"),
                    configured: resolution,
                    sent: format!("only at {}", offered.join(", ")),
                    url: reply.url.clone(),
                },
            ));
        }
        self.offered.lock().expect("frequency cache").insert(key);
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_at_their_resolution_and_say_what_else_they_are() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(period(Resolution::Monthly, "2025-01"), Ok(d("2025-01-01")));
        assert_eq!(
            period(Resolution::Weekly, "1982-08-20"),
            Ok(d("1982-08-20"))
        );
        assert_eq!(period(Resolution::Daily, "2025-01"), Err(Some("monthly")));
        assert_eq!(
            period(Resolution::Monthly, "2025-01-03"),
            Err(Some("daily"))
        );
        assert_eq!(
            period(Resolution::Daily, "2024-03-10T07"),
            Err(Some("hourly"))
        );
        assert_eq!(period(Resolution::Daily, "soon"), Err(None));
        assert_eq!(bound(Resolution::Monthly, d("2025-03-31")), "2025-03");
        assert_eq!(bound(Resolution::Weekly, d("2025-03-31")), "2025-03-31");
    }

    /// The proptest case CI found: a period whose 10th byte falls inside a character panicked
    /// on a byte slice. A period is outside input; it is read, never sliced blindly.
    #[test]
    fn a_period_of_any_text_is_read_without_panicking() {
        assert_eq!(
            period(Resolution::Daily, "00\u{a1}\u{800}\u{1b87c}"),
            Err(None)
        );
        assert_eq!(period(Resolution::Weekly, "2024-01-0\u{e9}T07"), Err(None));
        assert_eq!(period(Resolution::Monthly, "2024-\u{e9}"), Err(None));
    }
}
