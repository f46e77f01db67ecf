//! FRED: `fred/series/observations` with `file_type=json` and the observation window. `"."`
//! marks a day listed without a value (a holiday): counted as missing, neither stored nor
//! rejected. FRED's `frequency` parameter is not sent: it would average a daily series into the
//! monthly one configured, where a mismatch should be said. A weekly or monthly series is
//! checked instead against FRED's own word on its frequency (`frequency.rs`), and a monthly
//! one by its dates too (each a month's first day).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use chrono::NaiveDate;
use energy_core::{Secret, SourceId};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::{
    ProviderContext, SeriesData, SeriesRequest, Source, SourceError, SourceErrorKind,
    bounded::Bounded,
    http::{Http, Reply},
    parse_json, with_trailing_slash,
};

mod frequency;

/// FRED's maximum page.
const PAGE_SIZE: u64 = 100_000;
const MAX_PAGES: u32 = 100;

pub(crate) fn check_series(s: &str) -> Result<(), String> {
    if !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a FRED series id (letters, digits and '_', e.g. \"DCOILWTICO\")"
        ))
    }
}

pub(crate) fn build(ctx: ProviderContext) -> Result<Arc<dyn Source>, SourceError> {
    let (key, key_variable) = ctx.required_key()?;
    let base = with_trailing_slash(ctx.config.base_url);
    let http = Http::new(ctx.id.clone(), &base, ctx.http, vec![key.clone()])?;
    Ok(Arc::new(Fred {
        id: ctx.id,
        http,
        base,
        key,
        key_variable,
        checked: Mutex::new(HashSet::new()),
    }))
}

#[derive(Debug)]
struct Fred {
    id: SourceId,
    http: Http,
    base: Url,
    key: Secret,
    /// The environment variable the key comes from (the registry's), for the messages.
    key_variable: &'static str,
    /// `series|resolution` pairs whose frequency FRED's metadata confirmed.
    checked: Mutex<HashSet<String>>,
}

/// A JSON answer, read straight into rows (no document tree: a large answer would take many
/// times its size): observations, or FRED's `error_message`.
#[derive(Deserialize)]
struct Body {
    /// How many observations match, whatever the page: read as any JSON value, so that one
    /// that is no count is refused by name.
    count: Option<Value>,
    observations: Option<Bounded<Row, { PAGE_SIZE as usize }>>,
    error_message: Option<String>,
}

#[derive(Deserialize)]
struct Row {
    date: String,
    value: Value,
}

impl Fred {
    fn url(&self, series: &str, start: NaiveDate, end: NaiveDate, offset: u64) -> Url {
        let mut url = self
            .base
            .join("fred/series/observations")
            .expect("static path");
        url.query_pairs_mut()
            .append_pair("series_id", series)
            .append_pair("api_key", self.key.expose())
            .append_pair("file_type", "json")
            .append_pair("observation_start", &start.to_string())
            .append_pair("observation_end", &end.to_string())
            .append_pair("sort_order", "asc")
            .append_pair("limit", &PAGE_SIZE.to_string())
            .append_pair("offset", &offset.to_string());
        url
    }

    fn malformed(&self, reply: &Reply, message: impl Into<String>) -> SourceError {
        SourceError::new(
            self.id.clone(),
            SourceErrorKind::Malformed {
                url: reply.url.clone(),
                message: message.into(),
            },
        )
    }

    fn body(&self, reply: &Reply, series: &str) -> Result<Body, SourceError> {
        self.json_reply(reply, series)?;
        let body: Body = parse_json(&reply.body).map_err(|e| self.malformed(reply, e))?;
        if let Some(message) = &body.error_message {
            return Err(self.bad_request(reply, message));
        }
        if body.observations.is_none() {
            return Err(self.malformed(reply, "no `observations` array"));
        }
        Ok(body)
    }

    /// FRED's `error_message` in a JSON answer: a bad request.
    fn bad_request(&self, reply: &Reply, message: &str) -> SourceError {
        SourceError::new(
            self.id.clone(),
            SourceErrorKind::BadRequest {
                status: reply.status.as_u16(),
                message: self.http.scrub(message),
            },
        )
    }

    /// The typed error of a reply that is not a JSON answer of `series`: its status (a wrong
    /// key, an unknown series, a bad request), an empty body, or FRED's XML error.
    fn json_reply(&self, reply: &Reply, series: &str) -> Result<(), SourceError> {
        if !reply.status.is_success() {
            let message = self
                .http
                .scrub(&error_message(&reply.body).unwrap_or_else(|| reply.snippet(&self.http)));
            let lower = message.to_lowercase();
            return Err(
                if lower.contains("api_key")
                    || reply.status.as_u16() == 401
                    || reply.status.as_u16() == 403
                {
                    SourceError::new(
                        self.id.clone(),
                        SourceErrorKind::Unauthorized {
                            variable: self.key_variable,
                            message,
                        },
                    )
                } else if lower.contains("series does not exist") || reply.status.as_u16() == 404 {
                    SourceError::new(
                        self.id.clone(),
                        SourceErrorKind::UnknownSeries {
                            series: series.to_owned(),
                            message,
                        },
                    )
                } else {
                    SourceError::new(
                        self.id.clone(),
                        SourceErrorKind::BadRequest {
                            status: reply.status.as_u16(),
                            message,
                        },
                    )
                },
            );
        }
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Err(self.malformed(reply, "empty body"));
        }
        if !reply.looks_like_json() {
            // FRED answers errors in XML when file_type is lost on the way
            if let Some(message) = error_message(&reply.body) {
                return Err(SourceError::new(
                    self.id.clone(),
                    SourceErrorKind::BadRequest {
                        status: reply.status.as_u16(),
                        message: self.http.scrub(&message),
                    },
                ));
            }
            return Err(self.malformed(reply, reply.not_json(&self.http, "")));
        }
        Ok(())
    }

    /// The answer's `count`, checked before it is used: a whole number no larger than the
    /// window's days (a daily series has one observation a day at most).
    fn count(
        &self,
        reply: &Reply,
        count: Option<&Value>,
        req: &SeriesRequest,
    ) -> Result<Option<u64>, SourceError> {
        let Some(count) = count else {
            return Ok(None);
        };
        let n = count.as_u64().ok_or_else(|| {
            self.malformed(
                reply,
                format!("`count` is {count}, not a number of observations"),
            )
        })?;
        let days = (req.window.end() - req.window.start())
            .num_days()
            .unsigned_abs()
            + 1;
        if n > days {
            return Err(self.malformed(
                reply,
                format!("`count` is {n}, more observations than the {days} days asked for"),
            ));
        }
        Ok(Some(n))
    }
}

/// The message of FRED's JSON error body (`error_message`) or its XML one (`message="…"`).
fn error_message(body: &[u8]) -> Option<String> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return v
            .get("error_message")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("message=\"")? + "message=\"".len();
    let end = text[start..].find('"')?;
    Some(text[start..start + end].to_owned())
}

#[async_trait]
impl Source for Fred {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn http_requests(&self) -> u64 {
        self.http.sent()
    }

    async fn fetch(&self, req: &SeriesRequest) -> Result<SeriesData, SourceError> {
        let checked = self.check_frequency(req).await?;
        let mut out = SeriesData {
            requests: checked,
            ..SeriesData::default()
        };
        let mut offset = 0u64;
        loop {
            let reply = self
                .http
                .get(&self.url(&req.series, req.first_period(), req.window.end(), offset))
                .await?;
            out.requests += 1;
            let body = self.body(&reply, &req.series)?;
            let count = self.count(&reply, body.count.as_ref(), req)?;
            let rows = body.observations.map(|o| o.0).unwrap_or_default();
            let received = rows.len() as u64;
            for row in rows {
                let date = NaiveDate::parse_from_str(&row.date, "%Y-%m-%d").map_err(|_| {
                    self.malformed(&reply, format!("date {:?} is not YYYY-MM-DD", row.date))
                })?;
                let raw = match row.value {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Null => ".".to_owned(),
                    other => other.to_string(),
                };
                if !req.asks_for(date) {
                    out.push_outside(date, raw, (req.first_period(), req.window.end()));
                    continue;
                }
                if !req.resolution.is_period_date(date) {
                    return Err(SourceError::new(
                        self.id.clone(),
                        SourceErrorKind::WrongResolution {
                            series: req.series.clone(),
                            configured: req.resolution,
                            sent: format!("finer than monthly (an observation on {date})"),
                            url: reply.url.clone(),
                        },
                    ));
                }
                if raw.trim() == "." || raw.trim().is_empty() {
                    out.missing.push(date);
                    continue;
                }
                out.push_published(req, &self.id, date, &raw);
            }
            offset += received;
            let count = count.unwrap_or(offset);
            // a page shorter than asked for is the last one
            if received < PAGE_SIZE || offset >= count {
                if offset < count {
                    tracing::debug!(source = %self.id, offset, count, "FRED listed more observations than it sent");
                }
                break;
            }
            if out.requests - checked >= MAX_PAGES {
                return Err(self.malformed(
                    &reply,
                    format!("pagination did not end after {MAX_PAGES} pages"),
                ));
            }
        }
        out.observations.sort_by_key(|o| o.date);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_from_json_and_xml() {
        let json =
            br#"{"error_code":400,"error_message":"Bad Request.  The series does not exist."}"#;
        assert_eq!(
            error_message(json).unwrap(),
            "Bad Request.  The series does not exist."
        );
        let xml = br#"<?xml version="1.0"?><error code="400" message="Bad Request.  Variable api_key has not been set."/>"#;
        assert_eq!(
            error_message(xml).unwrap(),
            "Bad Request.  Variable api_key has not been set."
        );
    }

    #[test]
    fn series_ids_are_checked() {
        assert!(check_series("DCOILWTICO").is_ok());
        assert!(check_series("DCOIL WTICO").is_err());
        assert!(check_series("").is_err());
    }
}
