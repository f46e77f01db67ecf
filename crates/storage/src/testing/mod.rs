//! Throwaway PostgreSQL schemas for tests and benchmarks (feature `testing`): each test gets a
//! fresh schema on `TEST_DATABASE_URL` (plain PostgreSQL) or `TEST_TIMESCALEDB_URL` (a server
//! with TimescaleDB preloaded and the extension created), reached through a URL whose
//! `search_path` points at it, so tests run in parallel on one server. Under `CI=true` a
//! missing PostgreSQL fails loudly; whether TimescaleDB must be there is `cargo xtask test`'s
//! call (it is when the extension can be installed).

pub mod cluster;

/// `TEST_DATABASE_URL`, or `None` after saying why the PostgreSQL part is skipped. With
/// `CI=true` a missing PostgreSQL panics instead: CI never skips silently.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!(
                "TEST_DATABASE_URL is not set and CI=true: run the tests with `cargo xtask test`"
            )
        }
        _ => {
            eprintln!(
                "SKIPPED (PostgreSQL part): TEST_DATABASE_URL is not set; `cargo xtask test` starts a throwaway PostgreSQL"
            );
            None
        }
    }
}

/// `TEST_TIMESCALEDB_URL`, or `None` when this machine has no TimescaleDB (`cargo xtask test`
/// says so once, and fails under `CI=true` when the extension could have been used).
pub fn timescaledb_url() -> Option<String> {
    std::env::var("TEST_TIMESCALEDB_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The server URL for a PostgreSQL test backend, or `None` (with the reason said) when it is
/// not there.
pub fn server_url(timescaledb: bool) -> Option<String> {
    if timescaledb {
        timescaledb_url()
    } else {
        postgres_url()
    }
}

/// Runs `sql` on `url` through its own connection.
pub async fn admin(url: &str, sql: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot connect to the test PostgreSQL: {}",
                crate::error::describe_pg(&e)
            )
        });
    tokio::spawn(conn);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {}", crate::error::describe_pg(&e)));
}

/// A fresh schema on the server at `base`; drop it with [`TestSchema::drop`].
#[derive(Debug, Clone)]
pub struct TestSchema {
    pub base: String,
    pub name: String,
    /// `base` with `search_path` set to the schema.
    pub url: String,
}

impl TestSchema {
    /// Creates `<prefix>_<pid>_<n>` on `base`.
    pub async fn create(base: &str, prefix: &str) -> Self {
        let name = format!("{prefix}_{}_{}", std::process::id(), unique());
        admin(base, &format!("CREATE SCHEMA {name}")).await;
        let sep = if base.contains('?') { '&' } else { '?' };
        Self {
            base: base.to_owned(),
            url: format!("{base}{sep}options=-csearch_path%3D{name}"),
            name,
        }
    }

    pub async fn drop(&self) {
        admin(&self.base, &format!("DROP SCHEMA {} CASCADE", self.name)).await;
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    nanos * 1000 + N.fetch_add(1, Ordering::Relaxed)
}

/// A TCP relay in front of a database that a test can cut, to make the database "go away"
/// mid-session: open connections are closed and new ones refused.
#[derive(Debug)]
pub struct Relay {
    pub port: u16,
    cut: tokio::sync::watch::Sender<bool>,
    /// Connections being relayed now.
    live: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Relay {
    /// Relays 127.0.0.1:`port` to `target` (`host:port`).
    pub async fn start(target: String) -> Self {
        use tokio::{
            io::copy_bidirectional,
            net::{TcpListener, TcpStream},
        };
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let (cut, cut_rx) = tokio::sync::watch::channel(false);
        let live = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = live.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let mut rx = cut_rx.clone();
                if *rx.borrow() {
                    continue; // refuse new connections once cut
                }
                let target = target.clone();
                let counter = counter.clone();
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        tokio::select! {
                            _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = rx.wait_for(|cut| *cut) => {}
                        }
                    }
                    // both sockets are closed when they drop, before the count says so
                    drop(inbound);
                    counter.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
        });
        Self { port, cut, live }
    }

    /// A relay in front of the server of `url`, and `url` rewritten to go through it.
    pub async fn in_front_of(url: &str) -> (Self, url::Url) {
        let mut via = url::Url::parse(url).expect("a postgres:// URL");
        let target = format!(
            "{}:{}",
            via.host_str().unwrap_or("127.0.0.1"),
            via.port().unwrap_or(5432)
        );
        let relay = Self::start(target).await;
        via.set_host(Some("127.0.0.1")).expect("set host");
        via.set_port(Some(relay.port)).expect("set port");
        (relay, via)
    }

    /// Closes every relayed connection and refuses new ones.
    pub fn cut(&self) {
        let _ = self.cut.send(true);
    }

    /// Waits until every relayed connection is closed after [`Relay::cut`]: from then on,
    /// nothing reaches the database through the relay.
    pub async fn closed(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.live.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "relayed connections still open 30 s after the cut"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Relays new connections again after [`Relay::cut`]: the database is back.
    pub fn restore(&self) {
        let _ = self.cut.send(false);
    }
}
