//! A local stand-in for the three providers, for end-to-end tests and benchmarks (feature
//! `replay`): it serves daily series in each provider's real response format — EIA v2 pages of
//! string values with `response.total`, FRED observations with `"."` on weekdays without a
//! value, Yahoo chart bars stamped at midnight in the exchange's zone with float32 noise — and
//! honours the window and pagination parameters the sources send.
//!
//! Each provider lives under its own path prefix (`/eia`, `/fred`, `/yahoo`), so a test points
//! `sources.<name>.base_url` at [`ReplayServer::base_url`] and can make one provider fail.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use chrono::{Datelike, NaiveDate, TimeZone, Weekday};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// The rows of a multi-series EIA request in (period, series) order: (date, index of the
/// series, index of its row).
type EiaOrder = Arc<Vec<(NaiveDate, u16, u32)>>;

/// Rows of one series: market date and the value as published (decimal text).
pub type Rows = Arc<Vec<(NaiveDate, String)>>;

/// What a provider's prefix answers.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Answer every request with this status and an error body in the provider's format.
    pub fail_with: Option<u16>,
    /// Wait this long before answering.
    pub delay: Duration,
}

#[derive(Debug, Default)]
struct State {
    /// (provider, series id as configured) → rows in date order.
    series: HashMap<(String, String), Rows>,
    behaviour: HashMap<String, Behaviour>,
    /// Requests answered, by provider prefix.
    requests_by: HashMap<String, u64>,
    /// The merged row order of EIA requests, by route, series and window.
    eia_orders: HashMap<String, EiaOrder>,
}

/// The data and behaviour a [`ReplayServer`] serves; change it while the server runs.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    state: Arc<Mutex<State>>,
    requests: Arc<AtomicU64>,
}

impl Replay {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `rows` as `provider`'s series `id` (EIA: `route:FACET`, e.g.
    /// `petroleum/pri/spt:RWTC`; FRED: the series id; Yahoo: the symbol).
    pub fn series(&self, provider: &str, id: &str, mut rows: Vec<(NaiveDate, String)>) -> &Self {
        rows.sort_by_key(|r| r.0);
        self.state
            .lock()
            .expect("replay state")
            .series
            .insert((provider.to_owned(), id.to_owned()), Arc::new(rows));
        self
    }

    /// Sets how `provider` answers.
    pub fn behave(&self, provider: &str, behaviour: Behaviour) -> &Self {
        self.state
            .lock()
            .expect("replay state")
            .behaviour
            .insert(provider.to_owned(), behaviour);
        self
    }

    /// HTTP requests answered so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// HTTP requests answered so far under `provider`'s prefix.
    pub fn requests_of(&self, provider: &str) -> u64 {
        self.state
            .lock()
            .expect("replay state")
            .requests_by
            .get(provider)
            .copied()
            .unwrap_or(0)
    }

    /// Loads a `Date,Price` CSV (the layout of `shared/data`).
    pub fn read_csv(path: &std::path::Path) -> std::io::Result<Vec<(NaiveDate, String)>> {
        let text = std::fs::read_to_string(path)?;
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let bad = || {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}:{}: expected DATE,PRICE", path.display(), i + 1),
                )
            };
            let (d, v) = line.split_once(',').ok_or_else(bad)?;
            let date = d.parse().map_err(|_| bad())?;
            rows.push((date, v.to_owned()));
        }
        Ok(rows)
    }

    /// Serves the three daily histories of `dir` (`wti-daily.csv`, `brent-daily.csv`,
    /// `henry-hub-daily.csv`) under every provider's default series ids.
    pub fn from_data_dir(dir: &std::path::Path) -> std::io::Result<Self> {
        let replay = Self::new();
        for (file, commodity) in [
            ("wti-daily.csv", "WTI"),
            ("brent-daily.csv", "BRENT"),
            ("henry-hub-daily.csv", "NATGAS"),
        ] {
            let rows = Self::read_csv(&dir.join(file))?;
            for info in crate::PROVIDERS {
                if let Some((_, id)) = info.series.iter().find(|(c, _)| *c == commodity) {
                    replay.series(info.name, id, rows.clone());
                }
            }
        }
        Ok(replay)
    }

    fn rows(&self, provider: &str, id: &str) -> Option<Rows> {
        self.state
            .lock()
            .expect("replay state")
            .series
            .get(&(provider.to_owned(), id.to_owned()))
            .cloned()
    }

    fn behaviour(&self, provider: &str) -> Behaviour {
        self.state
            .lock()
            .expect("replay state")
            .behaviour
            .get(provider)
            .cloned()
            .unwrap_or_default()
    }

    /// Starts serving on 127.0.0.1 (a free port) until the returned server is dropped.
    pub async fn serve(self) -> std::io::Result<ReplayServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let replay = self.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let replay = replay.clone();
                tokio::spawn(async move {
                    let _ = replay.connection(stream).await;
                });
            }
        });
        Ok(ReplayServer {
            addr,
            replay: self,
            task,
        })
    }

    async fn connection(&self, mut stream: TcpStream) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(2048);
        loop {
            // keep-alive: one request after another until the client closes
            let head_end = loop {
                if let Some(i) = find(&buf, b"\r\n\r\n") {
                    break i;
                }
                let mut chunk = [0u8; 2048];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            buf.drain(..head_end + 4);
            let target = head
                .lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("/")
                .to_owned();
            self.requests.fetch_add(1, Ordering::Relaxed);
            let (status, body) = self.answer(&target).await;
            let reason = match status {
                200 => "OK",
                400 => "Bad Request",
                401 => "Unauthorized",
                403 => "Forbidden",
                404 => "Not Found",
                429 => "Too Many Requests",
                500 => "Internal Server Error",
                503 => "Service Unavailable",
                _ => "Status",
            };
            let head = format!(
                "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
        }
    }

    async fn answer(&self, target: &str) -> (u16, String) {
        let url = match url::Url::parse(&format!("http://replay{target}")) {
            Ok(u) => u,
            Err(_) => return (400, r#"{"error":"bad request target"}"#.to_owned()),
        };
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let path = url.path().to_owned();
        let provider = path.trim_start_matches('/').split('/').next().unwrap_or("");
        *self
            .state
            .lock()
            .expect("replay state")
            .requests_by
            .entry(provider.to_owned())
            .or_default() += 1;
        let behaviour = self.behaviour(provider);
        if !behaviour.delay.is_zero() {
            tokio::time::sleep(behaviour.delay).await;
        }
        let rest = path
            .trim_start_matches('/')
            .strip_prefix(provider)
            .unwrap_or("");
        match provider {
            "eia" => {
                let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
                self.eia(rest, &query, &pairs, behaviour.fail_with)
            }
            "fred" => self.fred(&query, behaviour.fail_with),
            "yahoo" => self.yahoo(rest, &query, behaviour.fail_with),
            _ => (404, r#"{"error":"unknown provider prefix"}"#.to_owned()),
        }
    }

    fn eia(
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
        let route = rest
            .trim_start_matches("/v2/")
            .trim_end_matches('/')
            .trim_end_matches("/data");
        // several series of one route in one request, as the real API does (repeat the key);
        // rows are ordered by period, then series, so that pagination is stable
        let facets: Vec<String> = url_query
            .iter()
            .filter(|(k, _)| k == "facets[series][]")
            .map(|(_, v)| v.clone())
            .collect();
        let known: Vec<(String, Rows)> = facets
            .iter()
            .filter_map(|f| Some((f.clone(), self.rows("eia", &format!("{route}:{f}"))?)))
            .collect();
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
                json!({"period": d.to_string(), "duoarea": "NUS", "area-name": "U.S.",
                       "product": "EPC0", "product-name": "Crude Oil", "process": "PF4",
                       "process-name": "Spot Price FOB", "series": facet,
                       "series-description": format!("{facet} daily spot price"),
                       "value": v, "units": "$/BBL"})
            })
            .collect();
        let body = json!({
            "response": {"total": total.to_string(), "dateFormat": "YYYY-MM-DD",
                         "frequency": "daily", "data": data,
                         "description": "Spot prices (replayed)"},
            "request": {"command": format!("/v2/{route}/data/"),
                        "params": {"frequency": "daily", "data": ["value"],
                                   "facets": {"series": facets},
                                   "offset": offset, "length": length}},
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

    fn fred(&self, q: &HashMap<String, String>, fail: Option<u16>) -> (u16, String) {
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
        let (start, end) = window(q.get("observation_start"), q.get("observation_end"));
        // FRED lists every weekday in the range; one without a value shows "."
        let by_date: HashMap<NaiveDate, &str> =
            rows.iter().map(|(d, v)| (*d, v.as_str())).collect();
        let first = rows.first().map(|r| r.0).unwrap_or(start).max(start);
        let last = rows.last().map(|r| r.0).unwrap_or(end).min(end);
        let mut observations = Vec::new();
        let mut day = first;
        while day <= last {
            let value = by_date.get(&day).copied();
            let weekday = !matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            if value.is_some() || weekday {
                observations.push(
                    json!({"realtime_start": "2026-11-25", "realtime_end": "2026-11-25",
                                         "date": day.to_string(), "value": value.unwrap_or(".")}),
                );
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
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

    fn yahoo(&self, rest: &str, q: &HashMap<String, String>, fail: Option<u16>) -> (u16, String) {
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

fn window(start: Option<&String>, end: Option<&String>) -> (NaiveDate, NaiveDate) {
    let parse =
        |s: Option<&String>, default: NaiveDate| s.and_then(|v| v.parse().ok()).unwrap_or(default);
    (parse(start, NaiveDate::MIN), parse(end, NaiveDate::MAX))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

/// A running replay server; it stops when dropped.
#[derive(Debug)]
pub struct ReplayServer {
    addr: SocketAddr,
    replay: Replay,
    task: tokio::task::JoinHandle<()>,
}

impl ReplayServer {
    /// The `base_url` for `provider` (`eia`, `fred` or `yahoo`).
    pub fn base_url(&self, provider: &str) -> String {
        format!("http://{}/{provider}", self.addr)
    }

    pub fn replay(&self) -> &Replay {
        &self.replay
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
