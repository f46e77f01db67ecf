//! FRED's own word on a series' frequency: `fred/series` (its `frequency_short`: `D`, `W`, `M`,
//! …) read once per series before a weekly or monthly series is first fetched, so that a series
//! of another frequency fails the batch naming both instead of showing as gaps. Daily series are
//! not checked: they are fetched as they always were, with no extra request.

use energy_core::Resolution;
use serde::Deserialize;

use super::Fred;
use crate::{SeriesRequest, SourceError, SourceErrorKind, parse_json};

#[derive(Deserialize)]
struct Metadata {
    seriess: Option<Vec<Series>>,
    error_message: Option<String>,
}

#[derive(Deserialize)]
struct Series {
    frequency_short: Option<String>,
    frequency: Option<String>,
}

/// The resolution of FRED's `frequency_short`, when the pipeline has one for it.
fn resolution(short: &str) -> Option<Resolution> {
    match short {
        "D" => Some(Resolution::Daily),
        "W" => Some(Resolution::Weekly),
        "M" => Some(Resolution::Monthly),
        _ => None,
    }
}

impl Fred {
    /// Checks, once per series and resolution, that FRED publishes `req`'s series at its
    /// resolution. Returns the requests it took.
    pub(super) async fn check_frequency(&self, req: &SeriesRequest) -> Result<u32, SourceError> {
        if req.resolution == Resolution::Daily {
            return Ok(0);
        }
        let key = format!("{}|{}", req.series, req.resolution);
        if self.checked.lock().expect("frequency cache").contains(&key) {
            return Ok(0);
        }
        let mut url = self.base.join("fred/series").expect("static path");
        url.query_pairs_mut()
            .append_pair("series_id", &req.series)
            .append_pair("api_key", self.key.expose())
            .append_pair("file_type", "json");
        let reply = self.http.get(&url).await?;
        self.json_reply(&reply, &req.series)?;
        let metadata: Metadata = parse_json(&reply.body).map_err(|e| self.malformed(&reply, e))?;
        if let Some(message) = &metadata.error_message {
            return Err(self.bad_request(&reply, message));
        }
        let Some(series) = metadata.seriess.and_then(|s| s.into_iter().next()) else {
            return Err(self.malformed(&reply, "no series in `seriess`"));
        };
        let Some(short) = series.frequency_short else {
            return Err(self.malformed(&reply, "the series has no `frequency_short`"));
        };
        if resolution(&short) != Some(req.resolution) {
            let name = series.frequency.unwrap_or_else(|| short.clone());
            return Err(SourceError::new(
                self.id.clone(),
                SourceErrorKind::WrongResolution {
                    series: req.series.clone(),
                    configured: req.resolution,
                    sent: format!("{} (FRED's frequency {short:?})", self.http.scrub(&name)),
                    url: reply.url.clone(),
                },
            ));
        }
        self.checked.lock().expect("frequency cache").insert(key);
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_the_pipeline_holds_map_to_resolutions() {
        assert_eq!(resolution("D"), Some(Resolution::Daily));
        assert_eq!(resolution("W"), Some(Resolution::Weekly));
        assert_eq!(resolution("M"), Some(Resolution::Monthly));
        assert_eq!(resolution("Q"), None);
        assert_eq!(resolution("A"), None);
    }
}
