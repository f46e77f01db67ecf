//! One EIA answer read: the envelope and its rows (bounded by the page size), or the typed
//! error its status and body mean (EIA's two error envelopes included).

use energy_core::text::printable;
use serde::Deserialize;
use serde_json::Value;

use energy_core::Resolution;

use super::{Eia, PAGE_SIZE};
use crate::{SourceError, SourceErrorKind, bounded::Bounded, http::Reply, parse_json};

#[derive(Deserialize)]
pub(super) struct Envelope {
    pub(super) response: Option<Body>,
    pub(super) error: Option<Value>,
}

#[derive(Deserialize)]
pub(super) struct Body {
    pub(super) total: Option<Value>,
    pub(super) frequency: Option<String>,
    #[serde(default)]
    pub(super) data: Bounded<Row, { PAGE_SIZE as usize }>,
    #[serde(default)]
    pub(super) warnings: Vec<Warning>,
}

/// One data row: its period, its value, and the facet values it carries, to be checked against
/// what was asked for.
pub(super) struct Row {
    pub(super) period: String,
    pub(super) series: Option<String>,
    pub(super) value: Option<Value>,
    /// The row's other string fields that may be facets (`respondent`, `type`, `duoarea`, …):
    /// names, descriptions and units are not kept.
    pub(super) facets: Vec<(Box<str>, Box<str>)>,
}

impl Row {
    /// The row's value of `facet`, when it carries one.
    pub(super) fn facet(&self, facet: &str) -> Option<&str> {
        if facet == "series" {
            return self.series.as_deref();
        }
        self.facets
            .iter()
            .find(|(k, _)| &**k == facet)
            .map(|(_, v)| &**v)
    }
}

/// Whether a field named `key` can be a facet: not a name, a description or units.
fn may_be_facet(key: &str) -> bool {
    !(key == "units"
        || key.ends_with("-name")
        || key.ends_with("-description")
        || key.ends_with("-units"))
}

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Row;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an EIA data row (an object with a `period`)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
                let (mut period, mut series, mut value) = (None, None, None);
                let mut facets = Vec::new();
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match &*key.0 {
                        "period" => period = Some(map.next_value::<String>()?),
                        "series" => series = map.next_value::<Option<String>>()?,
                        "value" => value = map.next_value::<Option<Value>>()?,
                        k if may_be_facet(k) => {
                            if let Value::String(v) = map.next_value::<Value>()? {
                                facets.push((k.into(), v.into_boxed_str()));
                            }
                        }
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                let period = period.ok_or_else(|| serde::de::Error::missing_field("period"))?;
                Ok(Row {
                    period,
                    series,
                    value,
                    facets,
                })
            }
        }
        d.deserialize_map(Fields)
    }
}

/// A field name, borrowed from the body when it can be.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl<'de> serde::de::Visitor<'de> for Name {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(v.to_owned().into()))
            }
        }
        d.deserialize_str(Name)
    }
}

#[derive(Deserialize)]
pub(super) struct Warning {
    pub(super) warning: Option<String>,
    pub(super) description: Option<String>,
}

pub(super) struct Page {
    pub(super) total: u64,
    pub(super) rows: Vec<Row>,
}

impl Eia {
    /// Interprets one reply: a page of rows, or the typed error its status and body mean.
    pub(super) fn page(
        &self,
        reply: &Reply,
        series: &str,
        resolution: Resolution,
    ) -> Result<Page, SourceError> {
        let status = reply.status.as_u16();
        if !reply.status.is_success() {
            let (code, message) = error_text(&reply.body)
                .unwrap_or_else(|| (String::new(), reply.snippet(&self.http)));
            let message = self.http.scrub(&message);
            return Err(match status {
                401 | 403 if code == "OVER_RATE_LIMIT" => SourceError::new(
                    self.id.clone(),
                    SourceErrorKind::RateLimited { retry_after: None },
                ),
                401 | 403 => SourceError::new(
                    self.id.clone(),
                    SourceErrorKind::Unauthorized {
                        variable: self.key_variable,
                        message: if code.is_empty() {
                            message
                        } else {
                            format!("{code}: {message}")
                        },
                    },
                ),
                404 => SourceError::new(
                    self.id.clone(),
                    SourceErrorKind::UnknownSeries {
                        series: series.to_owned(),
                        message,
                    },
                ),
                _ => SourceError::new(
                    self.id.clone(),
                    SourceErrorKind::BadRequest { status, message },
                ),
            });
        }
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Err(self.malformed(reply, "empty body"));
        }
        if !reply.looks_like_json() {
            return Err(self.malformed(reply, reply.not_json(&self.http, "")));
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
            return Err(SourceError::new(
                self.id.clone(),
                SourceErrorKind::BadRequest { status, message },
            ));
        }
        let body = envelope
            .response
            .ok_or_else(|| self.malformed(reply, "no `response` object"))?;
        if let Some(freq) = body
            .frequency
            .as_deref()
            .filter(|f| *f != resolution.name())
        {
            return Err(SourceError::new(
                self.id.clone(),
                SourceErrorKind::WrongResolution {
                    series: series.to_owned(),
                    configured: resolution,
                    sent: format!("{} data", printable(freq)),
                    url: reply.url.clone(),
                },
            ));
        }
        for w in &body.warnings {
            let (warning, description) = (
                printable(w.warning.as_deref().unwrap_or("")),
                printable(w.description.as_deref().unwrap_or("")),
            );
            // "incomplete return" says a page holds 5,000 rows of more: pagination (driven by
            // `total`) fetches the rest, so it is no news
            if warning.eq_ignore_ascii_case("incomplete return") {
                tracing::debug!(source = %self.id, %warning, %description, "EIA warning");
            } else {
                tracing::warn!(source = %self.id, %warning, %description, "EIA warning");
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
            rows: body.data.0,
        })
    }
}

/// `(code, message)` of either EIA error envelope: `{"error":{"code","message"}}` (the
/// gateway's) or `{"error":"…","code":400}` (the API's).
pub(super) fn error_text(body: &[u8]) -> Option<(String, String)> {
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
