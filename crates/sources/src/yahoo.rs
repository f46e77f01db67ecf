//! The Yahoo Finance chart API v8 (unofficial; front-month futures such as `CL=F`). Each bar is
//! dated by its timestamp in the exchange's own time zone (`meta.exchangeTimezoneName`), never
//! by UTC; null bars are missing days; float32 noise is removed by rounding to `meta.priceHint`
//! decimals; the day still trading is left out until it has settled, which is when the
//! provider's publication rule (`daily after 18:00 America/New_York`) says its bar is due.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use energy_core::{Price, Publication, SourceId, calendar::Calendar};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::{
    Clock, DateWindowExt, ProviderContext, SeriesData, SeriesRequest, Source, SourceError,
    SourceErrorKind,
    bounded::Bounded,
    http::{Http, Reply},
    parse_json, with_trailing_slash,
};

pub(crate) fn check_series(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '.' | '-' | '^' | '_'))
    {
        Ok(())
    } else {
        Err(format!("{s:?} is not a Yahoo symbol (e.g. \"CL=F\")"))
    }
}

pub(crate) fn build(ctx: ProviderContext) -> Result<Arc<dyn Source>, SourceError> {
    let base = with_trailing_slash(ctx.config.base_url);
    let http = Http::new(ctx.id.clone(), &base, ctx.http, Vec::new())?;
    Ok(Arc::new(Yahoo {
        id: ctx.id,
        http,
        base,
        clock: ctx.clock,
        settles: ctx.config.publication,
    }))
}

struct Yahoo {
    id: SourceId,
    http: Http,
    base: Url,
    clock: Clock,
    /// When a day's bar has settled: the provider's publication rule.
    settles: Publication,
}

impl std::fmt::Debug for Yahoo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Yahoo")
            .field("id", &self.id)
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Envelope {
    chart: Chart,
}

#[derive(Deserialize)]
struct Chart {
    result: Option<Vec<ChartResult>>,
    error: Option<ChartError>,
}

#[derive(Deserialize)]
struct ChartError {
    code: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChartResult {
    meta: Meta,
    timestamp: Option<Bounded<i64, MAX_BARS>>,
    indicators: Indicators,
}

/// Decimals of a quote at most: no instrument is quoted to more places (FX has 4 or 5, crypto
/// tokens 8 to 10), and a price keeps at most this many.
const MAX_PRICE_HINT: u64 = 12;

/// Daily bars in one answer at most: the longest window a run asks for is 36,525 days.
const MAX_BARS: usize = 40_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    exchange_timezone_name: Option<String>,
    /// Decimals the quote has: any JSON value, so that one that is no such number is refused
    /// by name.
    price_hint: Option<Value>,
    symbol: Option<String>,
    currency: Option<String>,
}

#[derive(Deserialize)]
struct Indicators {
    #[serde(default)]
    quote: Vec<Quote>,
}

#[derive(Deserialize)]
struct Quote {
    #[serde(default)]
    close: Bounded<Option<Value>, MAX_BARS>,
}

impl Yahoo {
    fn url(&self, symbol: &str, req: &SeriesRequest) -> Url {
        let (from, to) = req.window.padded_unix_range();
        let mut url = self.base.join("v8/finance/chart/").expect("static path");
        url.path_segments_mut()
            .expect("http URL")
            .pop_if_empty()
            .push(symbol);
        url.query_pairs_mut()
            .append_pair("period1", &from.to_string())
            .append_pair("period2", &to.to_string())
            .append_pair("interval", "1d")
            .append_pair("includePrePost", "false")
            .append_pair("events", "div|split");
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

    fn chart_error(&self, err: ChartError, status: u16, symbol: &str) -> SourceError {
        let code = err.code.unwrap_or_default();
        let message = err.description.unwrap_or_else(|| code.clone());
        match (status, code.as_str()) {
            (404, _) | (_, "Not Found") => SourceError::new(
                self.id.clone(),
                SourceErrorKind::UnknownSeries {
                    series: symbol.to_owned(),
                    message,
                },
            ),
            (401 | 403, _) | (_, "Unauthorized") => SourceError::new(
                self.id.clone(),
                SourceErrorKind::BadRequest {
                    status,
                    message: format!("{message} (Yahoo refused the request)"),
                },
            ),
            (_, "Bad Request") if message.contains("Data doesn't exist") => {
                SourceError::new(self.id.clone(), SourceErrorKind::NoData { message })
            }
            _ => SourceError::new(
                self.id.clone(),
                SourceErrorKind::BadRequest { status, message },
            ),
        }
    }
}

#[async_trait]
impl Source for Yahoo {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn http_requests(&self) -> u64 {
        self.http.sent()
    }

    async fn fetch(&self, req: &SeriesRequest) -> Result<SeriesData, SourceError> {
        let symbol = req.series.as_str();
        let reply = self.http.get(&self.url(symbol, req)).await?;
        let mut out = SeriesData {
            requests: 1,
            ..SeriesData::default()
        };
        let status = reply.status.as_u16();
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Err(if reply.status.is_success() {
                self.malformed(&reply, "empty body")
            } else {
                SourceError::new(
                    self.id.clone(),
                    SourceErrorKind::BadRequest {
                        status,
                        message: "empty body".to_owned(),
                    },
                )
            });
        }
        if !reply.looks_like_json() {
            let message = reply.not_json(&self.http, " (a consent or bot-check page?)");
            return Err(if reply.status.is_success() {
                self.malformed(&reply, message)
            } else {
                SourceError::new(
                    self.id.clone(),
                    SourceErrorKind::BadRequest { status, message },
                )
            });
        }
        let envelope: Envelope = match parse_json(&reply.body) {
            Ok(e) => e,
            Err(_) if !reply.status.is_success() => {
                return Err(SourceError::new(
                    self.id.clone(),
                    SourceErrorKind::BadRequest {
                        status,
                        message: reply.snippet(&self.http),
                    },
                ));
            }
            Err(e) => return Err(self.malformed(&reply, e)),
        };
        if let Some(err) = envelope.chart.error {
            return Err(self.chart_error(err, status, symbol));
        }
        if !reply.status.is_success() {
            return Err(SourceError::new(
                self.id.clone(),
                SourceErrorKind::BadRequest {
                    status,
                    message: reply.snippet(&self.http),
                },
            ));
        }
        let result = envelope
            .chart
            .result
            .and_then(|r| r.into_iter().next())
            .ok_or_else(|| self.malformed(&reply, "neither `result` nor `error` in `chart`"))?;
        // an answer about another instrument, or in another currency, is not this series
        if let Some(got) = result.meta.symbol.as_deref()
            && !got.eq_ignore_ascii_case(symbol)
        {
            return Err(self.malformed(
                &reply,
                format!("the answer is for symbol {got:?}, not the {symbol:?} asked for"),
            ));
        }
        if let (Some(currency), Some(expected)) =
            (result.meta.currency.as_deref(), unit_currency(&req.unit))
            && currency != expected
        {
            return Err(self.malformed(
                &reply,
                format!(
                    "{symbol} is quoted in {currency:?}, but {} is in {} (check sources.yahoo.series.{})",
                    req.commodity, req.unit, req.commodity
                ),
            ));
        }
        let Some(Bounded(stamps)) = result.timestamp else {
            return Ok(out); // no bars in the range: no data, not an error
        };
        let zone_name = result
            .meta
            .exchange_timezone_name
            .ok_or_else(|| self.malformed(&reply, "no meta.exchangeTimezoneName"))?;
        let zone: Tz = zone_name.parse().map_err(|_| {
            self.malformed(&reply, format!("unknown exchange time zone {zone_name:?}"))
        })?;
        let decimals = match &result.meta.price_hint {
            None | Some(Value::Null) => 2,
            Some(hint) => hint
                .as_u64()
                .filter(|d| *d <= MAX_PRICE_HINT)
                .ok_or_else(|| {
                    self.malformed(
                        &reply,
                        format!("meta.priceHint is {hint}, not a number of decimals (0 to {MAX_PRICE_HINT})"),
                    )
                })? as u32,
        };
        let closes = result
            .indicators
            .quote
            .into_iter()
            .next()
            .map(|q| q.close.0)
            .unwrap_or_default();
        if closes.len() != stamps.len() {
            return Err(self.malformed(
                &reply,
                format!("{} timestamps but {} closes", stamps.len(), closes.len()),
            ));
        }
        // The exchange's current day may still be trading: its "close" is the last price, not a
        // settlement, so it waits for the next run.
        let now = (self.clock)();
        let today = now.with_timezone(&zone).date_naive();
        // the day's bar counts as settled once the rule has it due (its weekdays: a holiday's
        // bar is no bar at all)
        let settled = self.settles.expected(now, Calendar::Weekdays) >= today;
        // A second bar for one day goes to validation like the first: equal values merge, and
        // different ones are quarantined as a conflicting duplicate, as for EIA and FRED.
        // Bars of the padding around the window are expected and left out; a bar beyond the
        // padded range asked for, or after today, is the provider's error and quarantined.
        let (from, to) = req.window.padded_unix_range();
        let asked = (
            DateTime::<Utc>::from_timestamp(from, 0).map_or(req.window.start(), |t| t.date_naive()),
            DateTime::<Utc>::from_timestamp(to, 0).map_or(req.window.end(), |t| t.date_naive()),
        );
        for (stamp, close) in stamps.into_iter().zip(closes) {
            let Some(utc) = DateTime::<Utc>::from_timestamp(stamp, 0) else {
                return Err(self.malformed(&reply, format!("timestamp {stamp} out of range")));
            };
            let date = utc.with_timezone(&zone).date_naive();
            // (Yahoo may add the live bar whatever the range)
            if date == today && !settled {
                continue;
            }
            if stamp < from || stamp > to || date > today {
                let raw = match &close {
                    None | Some(Value::Null) => "null".to_owned(),
                    Some(v) => v.to_string(),
                };
                out.push_outside(date, raw, asked);
                continue;
            }
            if !req.window.contains(date) {
                continue;
            }
            match close {
                None | Some(Value::Null) => out.missing.push(date),
                Some(Value::Number(n)) => {
                    match n.as_f64().map(|f| Price::from_f64_rounded(f, decimals)) {
                        Some(Ok(p)) => out.push_price(req, &self.id, date, p),
                        _ => {
                            let raw = n.to_string();
                            let reason = Price::why_unusable(&raw);
                            out.push_invalid(date, raw, reason);
                        }
                    }
                }
                Some(other) => out.push_invalid(date, other.to_string(), "not a number"),
            }
        }
        Ok(out)
    }
}

/// The currency of a unit such as `USD/bbl` (an ISO 4217 code before the slash), if it has one.
fn unit_currency(unit: &str) -> Option<&str> {
    let code = unit.split('/').next()?.trim();
    (code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase())).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_names_its_currency_before_the_slash() {
        assert_eq!(unit_currency("USD/bbl"), Some("USD"));
        assert_eq!(unit_currency("EUR/MWh"), Some("EUR"));
        assert_eq!(unit_currency("index"), None);
        assert_eq!(unit_currency("usd/bbl"), None);
    }

    #[test]
    fn symbols_are_checked() {
        for ok in ["CL=F", "BZ=F", "NG=F", "^GSPC", "WSU.DE"] {
            assert!(check_series(ok).is_ok(), "{ok}");
        }
        for bad in ["", "CL F", "CL/F", "a?b"] {
            assert!(check_series(bad).is_err(), "{bad}");
        }
    }
}
