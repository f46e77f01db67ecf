//! The three providers' answers, in their real formats: EIA v2 pages, FRED observations,
//! Yahoo chart bars.

use std::{collections::HashMap, sync::Arc};

use chrono::{Datelike, NaiveDate, TimeZone, Weekday};
use serde_json::{Value, json};

use energy_core::Resolution;

use super::{EiaOrder, Replay, Rows, eia_period, percent_decode, window};

impl Replay {
    pub(super) fn eia(
        &self,
        rest: &str,
        q: &HashMap<String, String>,
        url_query: &[(String, String)],
        fail: Option<u16>,
    ) -> (u16, String) {
        if let Some(status) = fail {
            let body = json!({"error": {"code": if status == 403 { "API_KEY_INVALID" } else { "ERROR" },
                "message": "An invalid api_key was supplied. Please register for an API key."}});
            return (status, body.to_string());
        }
        let path = rest.trim_start_matches("/v2/").trim_end_matches('/');
        let Some(route) = path.strip_suffix("/data") else {
            return self.eia_route(path);
        };
        // several series of one route in one request, as the real API does (repeat the key);
        // rows are ordered by period, then series, so that pagination is stable
        let facets: Vec<String> = url_query
            .iter()
            .filter(|(k, _)| k == "facets[series][]")
            .map(|(_, v)| v.clone())
            .collect();
        // a series picked by other facets is stored as `route?facet=value&…`, in request order
        let picked: Vec<(String, String)> = url_query
            .iter()
            .filter_map(|(k, v)| {
                let facet = k.strip_prefix("facets[")?.strip_suffix("][]")?;
                Some((facet.to_owned(), v.clone())).filter(|_| facet != "series")
            })
            .collect();
        // (what the request names, the id the rows are stored under)
        let ids: Vec<(String, String)> = if facets.is_empty() {
            let query: Vec<String> = picked.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let query = query.join("&");
            vec![(query.clone(), format!("{route}?{query}"))]
        } else {
            facets
                .iter()
                .map(|f| (f.clone(), format!("{route}:{f}")))
                .collect()
        };
        let facets: Vec<String> = ids.iter().map(|(f, _)| f.clone()).collect();
        let known: Vec<(String, Rows)> = ids
            .iter()
            .filter_map(|(f, id)| Some((f.clone(), self.rows("eia", id)?)))
            .collect();
        let stored_id = |f: &str| {
            ids.iter()
                .find(|(name, _)| name == f)
                .map(|(_, id)| id.clone())
                .unwrap_or_default()
        };
        if known.is_empty() {
            return (
                400,
                json!({"error": format!("Invalid facet options: series={}", facets.join(",")), "code": 400})
                    .to_string(),
            );
        }
        let (start, end) = window(q.get("start"), q.get("end"));
        // the merged order of a multi-series request, built once and kept for its later pages
        let key = format!("{route}|{}|{start}|{end}", facets.join(","));
        let order = self.eia_order(&key, &known, start, end);
        let total = order.len();
        let resolution = self.resolution("eia", &stored_id(&known[0].0));
        let offset: usize = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
        let length: usize = q
            .get("length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(5000)
            .min(5000);
        let data: Vec<Value> = order
            .iter()
            .skip(offset)
            .take(length)
            .map(|&(d, f, i)| {
                let (facet, rows) = &known[f as usize];
                let v = &rows[i as usize].1;
                if !picked.is_empty() {
                    // the fields of the facets asked for, each with its name, as the API sends them
                    let mut row = serde_json::Map::new();
                    row.insert("period".into(), eia_period(resolution, d).into());
                    for (k, value) in &picked {
                        row.insert(k.clone(), value.clone().into());
                        row.insert(format!("{k}-name"), format!("{value} (replayed)").into());
                    }
                    row.insert("value".into(), v.clone().into());
                    row.insert("value-units".into(), "replayed units".into());
                    return Value::Object(row);
                }
                json!({"period": eia_period(resolution, d), "duoarea": "NUS", "area-name": "U.S.",
                       "product": "EPC0", "product-name": "Crude Oil", "process": "PF4",
                       "process-name": "Spot Price FOB", "series": facet,
                       "series-description": format!("{facet} daily spot price"),
                       "value": v, "units": "$/BBL"})
            })
            .collect();
        let body = json!({
            "response": {"total": total.to_string(),
                         "dateFormat": if resolution == Resolution::Monthly { "YYYY-MM" } else { "YYYY-MM-DD" },
                         "frequency": resolution.name(), "data": data,
                         "description": "Spot prices (replayed)"},
            "request": {"command": format!("/v2/{route}/data/"),
                        "params": {"frequency": q.get("frequency"), "data": ["value"],
                                   "facets": {"series": facets},
                                   "offset": offset, "length": length}},
            "apiVersion": "2.1.10"
        });
        (200, body.to_string())
    }

    /// The metadata of `route` (`GET /v2/{route}/`): the frequencies of its series.
    fn eia_route(&self, route: &str) -> (u16, String) {
        let offered = self.eia_route_resolutions(route);
        if offered.is_empty() {
            return (
                404,
                json!({"error": format!("No such route: {route}"), "code": 404}).to_string(),
            );
        }
        let frequency: Vec<Value> = offered
            .iter()
            .map(|r| {
                let format = if *r == Resolution::Monthly { "YYYY-MM" } else { "YYYY-MM-DD" };
                json!({"id": r.name(), "description": format!("One data point for each {r} period."),
                       "query": r.name()[..1].to_uppercase(), "format": format})
            })
            .collect();
        let body = json!({
            "response": {"id": route, "description": "replayed route", "frequency": frequency,
                         "facets": [{"id": "series", "description": "Series"}],
                         "data": {"value": []}, "defaultFrequency": offered[0].name()},
            "request": {"command": format!("/v2/{route}/"), "params": {}},
            "apiVersion": "2.1.10"
        });
        (200, body.to_string())
    }

    /// Rows of `known` series within `start..=end` ordered by (period, series), as (date,
    /// index into `known`, index into its rows); cached under `key`.
    fn eia_order(
        &self,
        key: &str,
        known: &[(String, Rows)],
        start: NaiveDate,
        end: NaiveDate,
    ) -> EiaOrder {
        if let Some(hit) = self.state.lock().expect("replay state").eia_orders.get(key) {
            return hit.clone();
        }
        let mut by_facet: Vec<usize> = (0..known.len()).collect();
        by_facet.sort_by(|a, b| known[*a].0.cmp(&known[*b].0));
        let mut order: Vec<(NaiveDate, u16, u32)> = known
            .iter()
            .enumerate()
            .flat_map(|(f, (_, rows))| {
                rows.iter()
                    .enumerate()
                    .filter(|(_, (d, _))| *d >= start && *d <= end)
                    .map(move |(i, (d, _))| (*d, f as u16, i as u32))
            })
            .collect();
        let rank: Vec<usize> = {
            let mut r = vec![0; known.len()];
            for (pos, f) in by_facet.iter().enumerate() {
                r[*f] = pos;
            }
            r
        };
        order.sort_by_key(|&(d, f, _)| (d, rank[f as usize]));
        let order = Arc::new(order);
        self.state
            .lock()
            .expect("replay state")
            .eia_orders
            .insert(key.to_owned(), order.clone());
        order
    }

    pub(super) fn fred(
        &self,
        path: &str,
        q: &HashMap<String, String>,
        fail: Option<u16>,
    ) -> (u16, String) {
        if let Some(status) = fail {
            let body = json!({"error_code": status,
                "error_message": "Bad Request.  The value for variable api_key is not registered.  Read https://fred.stlouisfed.org/docs/api/api_key.html for more information."});
            return (status, body.to_string());
        }
        let id = q.get("series_id").cloned().unwrap_or_default();
        let Some(rows) = self.rows("fred", &id) else {
            return (
                400,
                json!({"error_code": 400, "error_message": "Bad Request.  The series does not exist."})
                    .to_string(),
            );
        };
        if path.trim_end_matches('/') == "/fred/series" {
            return (200, self.fred_metadata(&id, &rows));
        }
        let (start, end) = window(q.get("observation_start"), q.get("observation_end"));
        let observation = |day: NaiveDate, value: &str| {
            json!({"realtime_start": "2026-11-25", "realtime_end": "2026-11-25",
                   "date": day.to_string(), "value": value})
        };
        let mut observations = Vec::new();
        if self.resolution("fred", &id) == Resolution::Daily {
            // FRED lists every weekday in the range; one without a value shows "."
            let by_date: HashMap<NaiveDate, &str> =
                rows.iter().map(|(d, v)| (*d, v.as_str())).collect();
            let first = rows.first().map(|r| r.0).unwrap_or(start).max(start);
            let last = rows.last().map(|r| r.0).unwrap_or(end).min(end);
            for day in first.iter_days().take_while(|d| *d <= last) {
                let value = by_date.get(&day).copied();
                let weekday = !matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
                if value.is_some() || weekday {
                    observations.push(observation(day, value.unwrap_or(".")));
                }
            }
        } else {
            // a weekly or monthly series lists its own dates only
            observations.extend(
                rows.iter()
                    .filter(|(d, _)| *d >= start && *d <= end)
                    .map(|(d, v)| observation(*d, v)),
            );
        }
        let count = observations.len();
        let offset: usize = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
        let limit: usize = q
            .get("limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000)
            .min(100_000);
        let page: Vec<Value> = observations.into_iter().skip(offset).take(limit).collect();
        let body = json!({"realtime_start": "2026-11-25", "realtime_end": "2026-11-25",
            "observation_start": start.to_string(), "observation_end": end.to_string(),
            "units": "lin", "output_type": 1, "file_type": "json", "order_by": "observation_date",
            "sort_order": "asc", "count": count, "offset": offset, "limit": limit,
            "observations": page});
        (200, body.to_string())
    }

    /// `fred/series`: the series' metadata in FRED's shape (`seriess`, sic), its frequency that
    /// of the resolution it was registered at.
    fn fred_metadata(&self, id: &str, rows: &[(NaiveDate, String)]) -> String {
        let (frequency, short) = match self.resolution("fred", id) {
            Resolution::Hourly | Resolution::Daily => ("Daily", "D"),
            Resolution::Weekly => ("Weekly, Ending Friday", "W"),
            Resolution::Monthly => ("Monthly", "M"),
        };
        let bound = |row: Option<&(NaiveDate, String)>| row.map(|r| r.0.to_string());
        json!({"realtime_start": "2026-11-25", "realtime_end": "2026-11-25",
            "seriess": [{"id": id, "realtime_start": "2026-11-25", "realtime_end": "2026-11-25",
                "title": id, "observation_start": bound(rows.first()),
                "observation_end": bound(rows.last()), "frequency": frequency,
                "frequency_short": short, "units": "Dollars", "units_short": "$",
                "seasonal_adjustment": "Not Seasonally Adjusted",
                "seasonal_adjustment_short": "NSA", "last_updated": "2026-11-25 12:31:01-05",
                "popularity": 1}]})
        .to_string()
    }

    pub(super) fn yahoo(
        &self,
        rest: &str,
        q: &HashMap<String, String>,
        fail: Option<u16>,
    ) -> (u16, String) {
        let symbol = rest
            .trim_start_matches("/v8/finance/chart/")
            .trim_end_matches('/');
        let symbol = percent_decode(symbol);
        if let Some(status) = fail {
            let body = json!({"chart": {"result": null, "error": {"code": "Unauthorized",
                "description": "User is unable to access this feature"}}});
            return (status, body.to_string());
        }
        let Some(rows) = self.rows("yahoo", &symbol) else {
            return (
                404,
                json!({"chart": {"result": null, "error": {"code": "Not Found",
                    "description": "No data found, symbol may be delisted"}}})
                .to_string(),
            );
        };
        let zone = chrono_tz::America::New_York;
        let p1: i64 = q.get("period1").and_then(|v| v.parse().ok()).unwrap_or(0);
        let p2: i64 = q
            .get("period2")
            .and_then(|v| v.parse().ok())
            .unwrap_or(i64::MAX);
        let mut stamps = Vec::new();
        let mut closes = Vec::new();
        let mut hint = 2usize;
        for (d, v) in rows.iter() {
            let Some(midnight) = d
                .and_hms_opt(0, 0, 0)
                .and_then(|t| zone.from_local_datetime(&t).earliest())
            else {
                continue;
            };
            let ts = midnight.timestamp();
            if ts < p1 || ts >= p2 {
                continue;
            }
            hint = hint.max(v.split_once('.').map(|(_, f)| f.len()).unwrap_or(0));
            // Yahoo computes in float32 and prints the float64 of it: 61.2 → 61.20000076293945
            let noisy = v.parse::<f32>().map(f64::from).unwrap_or(f64::NAN);
            stamps.push(ts);
            closes.push(if noisy.is_finite() {
                json!(noisy)
            } else {
                Value::Null
            });
        }
        let mut result = json!({
            "meta": {"currency": "USD", "symbol": symbol, "exchangeName": "NYM",
                     "fullExchangeName": "NY Mercantile", "instrumentType": "FUTURE",
                     "gmtoffset": -18000, "timezone": "EST",
                     "exchangeTimezoneName": "America/New_York", "priceHint": hint,
                     "dataGranularity": "1d", "range": ""},
            "indicators": {"quote": [{"close": closes}]}
        });
        if !stamps.is_empty() {
            result["timestamp"] = json!(stamps);
        }
        (
            200,
            json!({"chart": {"result": [result], "error": null}}).to_string(),
        )
    }
}
