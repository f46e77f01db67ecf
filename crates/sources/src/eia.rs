//! The EIA Open Data API v2: `/v2/{route}/data/` with `frequency=daily`, the series facet, the
//! date window, explicit sorting, and pagination by `offset`/`length` until `response.total`
//! (the first page says how many there are; the rest are fetched side by side). Series of one
//! route that a run announces together (`Source::plan`) are fetched in the same requests — the
//! API takes the facet key repeated and tags each row with its series — and each gets exactly
//! its own rows within its own window. Values arrive as strings (older API versions sent
//! numbers; both are accepted).

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use chrono::NaiveDate;
use energy_core::{Observation, Price, Secret, SourceId};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::{
    InvalidValue, ProviderContext, SeriesData, SeriesRequest, Source, SourceError,
    http::{Http, Reply},
    parse_json, with_trailing_slash,
};

/// Rows per page: the API's maximum for JSON.
const PAGE_SIZE: u64 = 5000;
/// Pages of one request in flight at once (each still waits for the rate limit).
const PAGES_AT_ONCE: usize = 4;
/// A full daily history is ~3 pages; anything near this is a server that never ends.
const MAX_PAGES: u32 = 500;

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

pub(crate) fn build(ctx: ProviderContext) -> Result<Arc<dyn Source>, SourceError> {
    let key = ctx.key.ok_or(SourceError::MissingKey {
        provider: ctx.id.clone(),
        variable: "EIA_API_KEY",
    })?;
    let base = with_trailing_slash(ctx.config.base_url);
    let http = Http::new(ctx.id.clone(), &base, ctx.http, vec![key.clone()])?;
    Ok(Arc::new(Eia {
        id: ctx.id,
        http,
        base,
        key,
        groups: Mutex::new(Vec::new()),
    }))
}

#[derive(Debug)]
struct Eia {
    id: SourceId,
    http: Http,
    base: Url,
    key: Secret,
    /// Series of one route announced together, fetched in shared requests.
    groups: Mutex<Vec<Arc<Group>>>,
}

type GroupData = HashMap<String, Result<SeriesData, SourceError>>;

/// Several series of one route, fetched once for all of them.
#[derive(Debug)]
struct Group {
    route: String,
    members: Vec<SeriesRequest>,
    /// Each member's outcome by series id, filled by the first member to ask; a failed request
    /// fails them all.
    fetched: tokio::sync::OnceCell<Result<Arc<GroupData>, SourceError>>,
}

#[derive(Deserialize)]
struct Envelope {
    response: Option<Body>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Body {
    total: Option<Value>,
    frequency: Option<String>,
    #[serde(default)]
    data: Vec<Row>,
    #[serde(default)]
    warnings: Vec<Warning>,
}

#[derive(Deserialize)]
struct Row {
    period: String,
    series: Option<String>,
    value: Option<Value>,
}

#[derive(Deserialize)]
struct Warning {
    warning: Option<String>,
    description: Option<String>,
}

struct Page {
    total: u64,
    rows: Vec<Row>,
}

impl Eia {
    fn url(
        &self,
        route: &str,
        series: &[&str],
        window: Option<(NaiveDate, NaiveDate)>,
        offset: u64,
        length: u64,
    ) -> Url {
        let mut url = self
            .base
            .join(&format!("v2/{route}/data/"))
            .expect("route checked by check_series");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("api_key", self.key.expose())
                .append_pair("frequency", "daily")
                .append_pair("data[0]", "value");
            for s in series {
                q.append_pair("facets[series][]", s);
            }
            if let Some((start, end)) = window {
                q.append_pair("start", &start.to_string())
                    .append_pair("end", &end.to_string());
            }
            // period, then series: a stable order, so that offsets page through it exactly
            q.append_pair("sort[0][column]", "period")
                .append_pair("sort[0][direction]", "asc")
                .append_pair("sort[1][column]", "series")
                .append_pair("sort[1][direction]", "asc")
                .append_pair("offset", &offset.to_string())
                .append_pair("length", &length.to_string());
        }
        url
    }

    fn malformed(&self, reply: &Reply, message: impl Into<String>) -> SourceError {
        self.malformed_at(&reply.url, message)
    }

    fn malformed_at(&self, url: &str, message: impl Into<String>) -> SourceError {
        SourceError::Malformed {
            provider: self.id.clone(),
            url: url.to_owned(),
            message: message.into(),
        }
    }

    /// Every row of `series` (one or more of `route`) in `window`, over as many pages as
    /// `total` says: the first page, then the others side by side. Rows come with the
    /// (redacted) URL of their page, for error messages.
    async fn rows(
        &self,
        route: &str,
        series: &[&str],
        window: (NaiveDate, NaiveDate),
        label: &str,
    ) -> Result<(Vec<(Row, Arc<str>)>, u32), SourceError> {
        let first = self
            .http
            .get(&self.url(route, series, Some(window), 0, PAGE_SIZE))
            .await?;
        let page = self.page(&first, label)?;
        let total = page.total;
        // the server's page size: what it sent, when it did not send everything
        let step = match page.rows.len() as u64 {
            0 => PAGE_SIZE,
            n => n,
        };
        let first_url: Arc<str> = first.url.as_str().into();
        let mut rows: Vec<(Row, Arc<str>)> = page
            .rows
            .into_iter()
            .map(|r| (r, first_url.clone()))
            .collect();
        let offsets: Vec<u64> = (1..).map(|i| i * step).take_while(|o| *o < total).collect();
        if offsets.len() as u32 >= MAX_PAGES {
            return Err(self.malformed(
                &first,
                format!("{total} rows would take more than {MAX_PAGES} pages"),
            ));
        }
        let requests = 1 + offsets.len() as u32;
        let pages: Vec<(u64, Page, Arc<str>)> = stream::iter(offsets)
            .map(|offset| async move {
                let reply = self
                    .http
                    .get(&self.url(route, series, Some(window), offset, PAGE_SIZE))
                    .await?;
                let page = self.page(&reply, label)?;
                Ok::<_, SourceError>((offset, page, reply.url.as_str().into()))
            })
            .buffered(PAGES_AT_ONCE)
            .try_collect()
            .await?;
        for (offset, page, url) in pages {
            let expected = step.min(total.saturating_sub(offset));
            if (page.rows.len() as u64) < expected {
                return Err(self.malformed_at(
                    &url,
                    format!(
                        "the page at offset {offset} has {} rows of the {expected} that `total` ({total}) promises",
                        page.rows.len()
                    ),
                ));
            }
            rows.extend(page.rows.into_iter().map(|r| (r, url.clone())));
        }
        Ok((rows, requests))
    }

    /// Whether the API has any row at all for `series` (it answers an unknown facet value
    /// with 200 and no rows).
    async fn exists(&self, route: &str, series: &str, label: &str) -> Result<bool, SourceError> {
        let reply = self
            .http
            .get(&self.url(route, &[series], None, 0, 1))
            .await?;
        Ok(self.page(&reply, label)?.total > 0)
    }

    /// The rows of `req` out of a response that may hold other series too; an empty result
    /// for a series the API does not know is an error.
    async fn series_data(
        &self,
        req: &SeriesRequest,
        rows: &[(Row, Arc<str>)],
        requests: u32,
    ) -> Result<SeriesData, SourceError> {
        let (route, series) = split(&self.id, &req.series)?;
        let mut out = SeriesData {
            requests,
            ..SeriesData::default()
        };
        for (row, url) in rows {
            self.take_row(row, series, req, &mut out, url)?;
        }
        if out.observations.is_empty() && out.missing.is_empty() && out.invalid.is_empty() {
            out.requests += 1;
            if !self.exists(route, series, &req.series).await? {
                return Err(SourceError::UnknownSeries {
                    provider: self.id.clone(),
                    series: req.series.clone(),
                    message: "the API returned no rows for this series at all".to_owned(),
                });
            }
        }
        out.observations.sort_by_key(|o| o.date);
        Ok(out)
    }

    /// Fetches a group once for all its members.
    async fn fetch_group(&self, group: &Group) -> Result<Arc<GroupData>, SourceError> {
        let start = group.members.iter().map(|m| m.window.start()).min();
        let end = group.members.iter().map(|m| m.window.end()).max();
        let (Some(start), Some(end)) = (start, end) else {
            return Ok(Arc::default());
        };
        let facets: Vec<&str> = group
            .members
            .iter()
            .filter_map(|m| m.series.rsplit_once(':').map(|(_, s)| s))
            .collect();
        let label = format!("{}:{}", group.route, facets.join("+"));
        let (rows, requests) = self
            .rows(&group.route, &facets, (start, end), &label)
            .await?;
        let mut out = HashMap::new();
        for m in &group.members {
            out.insert(m.series.clone(), self.series_data(m, &rows, requests).await);
        }
        Ok(Arc::new(out))
    }

    /// Interprets one reply: a page of rows, or the typed error its status and body mean.
    fn page(&self, reply: &Reply, series: &str) -> Result<Page, SourceError> {
        let status = reply.status.as_u16();
        if !reply.status.is_success() {
            let (code, message) = error_text(&reply.body)
                .unwrap_or_else(|| (String::new(), reply.snippet(&self.http)));
            let message = self.http.scrub(&message);
            return Err(match status {
                401 | 403 if code == "OVER_RATE_LIMIT" => SourceError::RateLimited {
                    provider: self.id.clone(),
                    attempts: 1,
                    retry_after: None,
                },
                401 | 403 => SourceError::Unauthorized {
                    provider: self.id.clone(),
                    variable: "EIA_API_KEY",
                    message: if code.is_empty() {
                        message
                    } else {
                        format!("{code}: {message}")
                    },
                },
                404 => SourceError::UnknownSeries {
                    provider: self.id.clone(),
                    series: series.to_owned(),
                    message,
                },
                _ => SourceError::BadRequest {
                    provider: self.id.clone(),
                    status,
                    message,
                },
            });
        }
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Err(self.malformed(reply, "empty body"));
        }
        if !reply.looks_like_json() {
            return Err(self.malformed(
                reply,
                format!(
                    "expected JSON, got {:?}: {}",
                    reply.content_type,
                    reply.snippet(&self.http)
                ),
            ));
        }
        let envelope: Envelope = parse_json(&reply.body).map_err(|e| self.malformed(reply, e))?;
        if let Some(err) = envelope.error {
            let message = self.http.scrub(&match &err {
                Value::String(s) => s.clone(),
                other => other
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_owned(),
            });
            return Err(SourceError::BadRequest {
                provider: self.id.clone(),
                status,
                message,
            });
        }
        let body = envelope
            .response
            .ok_or_else(|| self.malformed(reply, "no `response` object"))?;
        if let Some(freq) = body.frequency.as_deref().filter(|f| *f != "daily") {
            return Err(self.malformed(
                reply,
                format!("expected daily data, got frequency {freq:?}"),
            ));
        }
        for w in &body.warnings {
            let (warning, description) = (
                w.warning.as_deref().unwrap_or(""),
                w.description.as_deref().unwrap_or(""),
            );
            // "incomplete return" says a page holds 5,000 rows of more: pagination (driven by
            // `total`) fetches the rest, so it is no news
            if warning.eq_ignore_ascii_case("incomplete return") {
                tracing::debug!(source = %self.id, warning, description, "EIA warning");
            } else {
                tracing::warn!(source = %self.id, warning, description, "EIA warning");
            }
        }
        let total = match &body.total {
            Some(Value::String(s)) => s
                .trim()
                .parse::<u64>()
                .map_err(|_| self.malformed(reply, format!("`total` is {s:?}")))?,
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| self.malformed(reply, format!("`total` is {n}")))?,
            _ => return Err(self.malformed(reply, "no `total` in the response")),
        };
        Ok(Page {
            total,
            rows: body.data,
        })
    }
}

/// `(code, message)` of either EIA error envelope: `{"error":{"code","message"}}` (the
/// gateway's) or `{"error":"…","code":400}` (the API's).
fn error_text(body: &[u8]) -> Option<(String, String)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    match v.get("error")? {
        Value::String(s) => Some((String::new(), s.clone())),
        Value::Object(o) => Some((
            o.get("code")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            o.get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        )),
        _ => None,
    }
}

#[async_trait]
impl Source for Eia {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn http_requests(&self) -> u64 {
        self.http.sent()
    }

    fn plan(&self, requests: &[SeriesRequest]) {
        let mut by_route: BTreeMap<&str, Vec<SeriesRequest>> = BTreeMap::new();
        for r in requests {
            if let Some((route, _)) = r.series.rsplit_once(':') {
                by_route.entry(route).or_default().push(r.clone());
            }
        }
        let groups = by_route
            .into_iter()
            .filter(|(_, members)| members.len() > 1)
            .map(|(route, members)| {
                Arc::new(Group {
                    route: route.to_owned(),
                    members,
                    fetched: tokio::sync::OnceCell::new(),
                })
            })
            .collect();
        *self.groups.lock().expect("groups lock") = groups;
    }

    async fn fetch(&self, req: &SeriesRequest) -> Result<SeriesData, SourceError> {
        let (route, series) = split(&self.id, &req.series)?;
        let group = self
            .groups
            .lock()
            .expect("groups lock")
            .iter()
            .find(|g| g.members.contains(req))
            .cloned();
        if let Some(group) = group {
            let all = group
                .fetched
                .get_or_init(|| self.fetch_group(&group))
                .await
                .clone()?;
            return all.get(&req.series).cloned().unwrap_or_else(|| {
                Err(SourceError::Config {
                    provider: self.id.clone(),
                    message: format!("series {:?} missing from its group", req.series),
                })
            });
        }
        let (rows, requests) = self
            .rows(
                route,
                &[series],
                (req.window.start(), req.window.end()),
                &req.series,
            )
            .await?;
        self.series_data(req, &rows, requests).await
    }
}

/// `route:SERIES` split in two.
fn split<'a>(provider: &SourceId, series: &'a str) -> Result<(&'a str, &'a str), SourceError> {
    series.rsplit_once(':').ok_or_else(|| SourceError::Config {
        provider: provider.clone(),
        message: format!("series {series:?} is not ROUTE:SERIES"),
    })
}

impl Eia {
    fn take_row(
        &self,
        row: &Row,
        series: &str,
        req: &SeriesRequest,
        out: &mut SeriesData,
        url: &str,
    ) -> Result<(), SourceError> {
        if row.series.as_deref().is_some_and(|s| s != series) {
            return Ok(()); // another series of the same route
        }
        let date = NaiveDate::parse_from_str(&row.period, "%Y-%m-%d").map_err(|_| {
            self.malformed_at(url, format!("period {:?} is not a daily date", row.period))
        })?;
        if !req.window.contains(date) {
            return Ok(());
        }
        match &row.value {
            None | Some(Value::Null) => out.missing.push(date),
            Some(Value::String(s)) if s.trim().is_empty() => out.missing.push(date),
            Some(Value::String(s)) => match Price::parse(s) {
                Ok(p) => out.observations.push(Observation::new(
                    req.commodity.clone(),
                    self.id.clone(),
                    date,
                    p,
                    req.unit.clone(),
                )),
                Err(_) => out.invalid.push(InvalidValue {
                    date,
                    raw: s.clone(),
                    reason: "not a number".to_owned(),
                }),
            },
            Some(Value::Number(n)) => match Price::parse(&n.to_string()) {
                Ok(p) => out.observations.push(Observation::new(
                    req.commodity.clone(),
                    self.id.clone(),
                    date,
                    p,
                    req.unit.clone(),
                )),
                Err(_) => out.invalid.push(InvalidValue {
                    date,
                    raw: n.to_string(),
                    reason: "not a finite decimal".to_owned(),
                }),
            },
            Some(other) => out.invalid.push(InvalidValue {
                date,
                raw: other.to_string(),
                reason: "not a number".to_owned(),
            }),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_must_be_route_and_facet() {
        assert!(check_series("petroleum/pri/spt:RWTC").is_ok());
        assert!(check_series("natural-gas/pri/fut:RNGWHHD").is_ok());
        for bad in [
            "RWTC",
            "petroleum/pri/spt:",
            ":RWTC",
            "/petroleum:RWTC",
            "petroleum/pri/spt:RW TC",
            "a?b:RWTC",
        ] {
            assert!(check_series(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn both_error_envelopes_are_read() {
        let (code, msg) = error_text(
            br#"{"error":{"code":"API_KEY_INVALID","message":"An invalid api_key was supplied."}}"#,
        )
        .unwrap();
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("API_KEY_INVALID", "An invalid api_key was supplied.")
        );
        let (code, msg) =
            error_text(br#"{"error":"Invalid frequency 'hourly' provided.","code":400}"#).unwrap();
        assert_eq!(
            (code.as_str(), msg.as_str()),
            ("", "Invalid frequency 'hourly' provided.")
        );
        assert!(error_text(b"<html>").is_none());
    }
}
