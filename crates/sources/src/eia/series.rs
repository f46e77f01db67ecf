//! EIA series ids: what one configured series selects in the API, a route and the facet values
//! that pick one series in it, checked when the configuration is loaded and read for each
//! request. Two spellings:
//! - `ROUTE:SERIES` (e.g. `petroleum/pri/spt:RWTC`): the route's `series` facet;
//! - `ROUTE?FACET=VALUE&…` (e.g. `petroleum/stoc/wstk?duoarea=NUS&product=EPC0&process=SAE`,
//!   `electricity/rto/region-data?respondent=PJM&type=D`): any facets of the route, each once.
//!
//! `ROUTE?series=X` is `ROUTE:X`. Series selected by their `series` facet alone share requests
//! with the other series of their route; a selection by other facets is fetched on its own.

use energy_core::SourceId;

use crate::{SourceError, SourceErrorKind};

const FORMS: &str = "ROUTE:SERIES (e.g. \"petroleum/pri/spt:RWTC\") or ROUTE?FACET=VALUE&… \
                     (e.g. \"electricity/rto/region-data?respondent=PJM&type=D\")";

/// A route and the facet values one configured series selects in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Selector<'a> {
    pub(super) route: &'a str,
    /// `(facet, value)` in the order configured.
    pub(super) facets: Vec<(&'a str, &'a str)>,
}

impl<'a> Selector<'a> {
    /// Reads `s`, or says what is wrong with it.
    pub(super) fn parse(s: &'a str) -> Result<Self, String> {
        let bad = |why: &str| format!("{s:?} is not {FORMS}: {why}");
        let (route, facets) = if let Some((route, query)) = s.split_once('?') {
            let mut facets: Vec<(&str, &str)> = Vec::new();
            for pair in query.split('&') {
                let Some((key, value)) = pair.split_once('=') else {
                    return Err(bad(&format!("`{pair}` is not FACET=VALUE")));
                };
                if !word(key, &['_', '-']) {
                    return Err(bad(&format!("`{key}` is not a facet name")));
                }
                if !word(value, &['_', '-', '.']) {
                    return Err(bad(&format!("`{value}` is not a facet value")));
                }
                if facets.iter().any(|(k, _)| *k == key) {
                    return Err(bad(&format!(
                        "facet `{key}` is given twice (one series takes one value of each)"
                    )));
                }
                facets.push((key, value));
            }
            (route, facets)
        } else if let Some((route, series)) = s.rsplit_once(':') {
            if !word(series, &['_', '-', '.']) {
                return Err(bad(&format!("`{series}` is not a series id")));
            }
            (route, vec![("series", series)])
        } else {
            return Err(bad("no `:` or `?` after the route"));
        };
        let route_ok = !route.is_empty()
            && !route.starts_with('/')
            && !route.ends_with('/')
            && route
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_'));
        if !route_ok {
            return Err(bad(&format!(
                "`{route}` is not a route such as petroleum/pri/spt"
            )));
        }
        Ok(Self { route, facets })
    }

    /// The `series` facet's value when it is the only facet: such series of one route share
    /// requests.
    pub(super) fn series(&self) -> Option<&'a str> {
        match self.facets.as_slice() {
            [("series", s)] => Some(s),
            _ => None,
        }
    }
}

/// Letters, digits and `extra`, at least one.
fn word(s: &str, extra: &[char]) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

/// Checks a configured series id.
pub(crate) fn check_series(s: &str) -> Result<(), String> {
    Selector::parse(s).map(|_| ())
}

/// The selector of a requested series id (checked when the configuration was loaded, so a
/// failure here is a configuration error all the same).
pub(super) fn select<'a>(
    provider: &SourceId,
    series: &'a str,
) -> Result<Selector<'a>, SourceError> {
    Selector::parse(series)
        .map_err(|message| SourceError::new(provider.clone(), SourceErrorKind::Config { message }))
}
