//! EIA series ids: `ROUTE:SERIES` (e.g. `petroleum/pri/spt:RWTC`), checked when the
//! configuration is loaded and split in two for each request.

use energy_core::SourceId;

use crate::{SourceError, SourceErrorKind};

/// `route:SERIES`, e.g. `petroleum/pri/spt:RWTC`.
pub(crate) fn check_series(s: &str) -> Result<(), String> {
    let Some((route, series)) = s.rsplit_once(':') else {
        return Err(format!(
            "{s:?} is not ROUTE:SERIES (e.g. \"petroleum/pri/spt:RWTC\")"
        ));
    };
    let route_ok = !route.is_empty()
        && !route.starts_with('/')
        && !route.ends_with('/')
        && route
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_'));
    let series_ok = !series.is_empty()
        && series
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if route_ok && series_ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not ROUTE:SERIES (e.g. \"petroleum/pri/spt:RWTC\")"
        ))
    }
}

/// `route:SERIES` split in two.
pub(super) fn split<'a>(
    provider: &SourceId,
    series: &'a str,
) -> Result<(&'a str, &'a str), SourceError> {
    series.rsplit_once(':').ok_or_else(|| {
        SourceError::new(
            provider.clone(),
            SourceErrorKind::Config {
                message: format!("series {series:?} is not ROUTE:SERIES"),
            },
        )
    })
}
