//! A local stand-in for the three providers, for end-to-end tests and benchmarks (feature
//! `replay`): it serves daily series in each provider's real response format — EIA v2 pages of
//! string values with `response.total`, FRED observations with `"."` on weekdays without a
//! value, Yahoo chart bars stamped at midnight in the exchange's zone with float32 noise — and
//! honours the window and pagination parameters the sources send. A series can be weekly or
//! monthly ([`Replay::series_at`]): EIA then lists it in its route's metadata and answers with
//! that frequency (`YYYY-MM` periods for months) whatever was asked, and FRED lists only its
//! dates.
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

use chrono::{Datelike, NaiveDate};
use energy_core::Resolution;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

mod formats;

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
    /// With `fail_with`: the error body repeats the request target, query (an API key) and
    /// all, as some upstreams do; also answers this way under a prefix that is no provider's
    /// (a stand-in for a Slack webhook).
    pub echo_request: bool,
}

#[derive(Debug, Default)]
struct State {
    /// (provider, series id as configured) → rows in date order.
    series: HashMap<(String, String), Rows>,
    behaviour: HashMap<String, Behaviour>,
    /// Requests answered, by provider prefix.
    requests_by: HashMap<String, u64>,
    /// (provider, series id) → its resolution, when not daily.
    resolutions: HashMap<(String, String), Resolution>,
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

    /// Serves `rows` as `provider`'s series `id` at `resolution`.
    pub fn series_at(
        &self,
        provider: &str,
        id: &str,
        resolution: Resolution,
        rows: Vec<(NaiveDate, String)>,
    ) -> &Self {
        self.state
            .lock()
            .expect("replay state")
            .resolutions
            .insert((provider.to_owned(), id.to_owned()), resolution);
        self.series(provider, id, rows)
    }

    fn resolution(&self, provider: &str, id: &str) -> Resolution {
        self.state
            .lock()
            .expect("replay state")
            .resolutions
            .get(&(provider.to_owned(), id.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    /// The resolutions of the EIA series stored under `route`.
    fn eia_route_resolutions(&self, route: &str) -> Vec<Resolution> {
        let state = self.state.lock().expect("replay state");
        let mut found: Vec<Resolution> = state
            .series
            .keys()
            .filter(|(p, id)| {
                // `route:SERIES` or `route?facet=value&…`
                let stored = id.split_once('?').or_else(|| id.rsplit_once(':'));
                p == "eia" && stored.is_some_and(|(r, _)| r == route)
            })
            .map(|key| state.resolutions.get(key).copied().unwrap_or_default())
            .collect();
        found.sort();
        found.dedup();
        found
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
        if behaviour.echo_request
            && let Some(code) = behaviour.fail_with
        {
            return (
                code,
                serde_json::json!({ "error": format!("cannot serve {target}") }).to_string(),
            );
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
            "fred" => self.fred(rest, &query, behaviour.fail_with),
            "yahoo" => self.yahoo(rest, &query, behaviour.fail_with),
            _ => (404, r#"{"error":"unknown provider prefix"}"#.to_owned()),
        }
    }
}

/// A request's window; a `YYYY-MM` bound (EIA's monthly) is its month's first or last day.
fn window(start: Option<&String>, end: Option<&String>) -> (NaiveDate, NaiveDate) {
    let month = |v: &str| format!("{v}-01").parse::<NaiveDate>().ok();
    let first = start.and_then(|v| v.parse().ok().or_else(|| month(v)));
    let last = end.and_then(|v| {
        v.parse().ok().or_else(|| {
            let first = month(v)?;
            let next = first.checked_add_months(chrono::Months::new(1))?;
            next.pred_opt()
        })
    });
    (
        first.unwrap_or(NaiveDate::MIN),
        last.unwrap_or(NaiveDate::MAX),
    )
}

/// A date as an EIA period at `resolution`.
fn eia_period(resolution: Resolution, date: NaiveDate) -> String {
    match resolution {
        Resolution::Monthly => format!("{:04}-{:02}", date.year(), date.month()),
        _ => date.to_string(),
    }
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
