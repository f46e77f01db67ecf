//! Clients that hold connections or send too much: idle connections, a client dripping bytes,
//! a request head over its time or size limit.

#[allow(unused_imports)]
use super::*;

/// The soft limit on open files, raised (up to the hard one) to at least `needed`: the server
/// and 1,000 idle clients share this process. `prlimit` is util-linux's.
fn raise_open_files(needed: u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if soft >= needed {
        return;
    }
    let ok = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={needed}:"),
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "this test needs {needed} open files (the soft limit is {soft}) and prlimit could not raise it: `ulimit -n {needed}`"
    );
}

/// The server keeps answering while 1,000 connections sit idle and a client drips a request a
/// byte at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_serving_with_a_thousand_idle_connections_and_a_slow_client() {
    use tokio::io::AsyncWriteExt;
    raise_open_files(2_400);
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let (base, stop) = serve(&s, clock, None).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..1_000 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HT").await.unwrap();
    let http = reqwest::Client::new();
    for path in ["/healthz", "/api/status", "/"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // the slow client, once it finishes, is answered too
    slow.write_all(b"TP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut slow, &mut answer)
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(idle.len(), 1_000);
    stop.cancel();
}

#[tokio::test]
async fn a_client_slower_than_the_head_limit_is_cut_off_and_an_oversized_head_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let stop = CancellationToken::new();
    let endpoints = Endpoints {
        store: s.pipeline.store().clone(),
        liveness: None,
        clock,
        loop_timeout: Duration::from_secs(60),
        config: Arc::new(Config::default()),
        secrets: Arc::new(Secrets::default()),
    };
    let limits = energy_web::Limits {
        header_read: Duration::from_millis(300),
        ..energy_web::Limits::default()
    };
    let (addr, _task) = energy_web::serve_with(
        "127.0.0.1:0".parse().unwrap(),
        endpoints,
        limits,
        stop.clone(),
    )
    .await
    .unwrap();
    // a head that never ends: the server closes the connection once the limit has passed
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Drip: ")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut answer))
        .await
        .expect("the server cut the slow client off");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        closed.is_err() || !answer.contains("200 OK"),
        "the unfinished request was not answered: {answer}"
    );
    // a head over the size limit (64 KiB by default) is refused, not read on: one header of
    // 100,000 bytes (which hyper's read buffer alone let through) as well as one of 200 KiB;
    // a head just under the limit is answered
    let head = |header_bytes: usize| {
        format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(header_bytes)
        )
    };
    for header_bytes in [100_000, 200 * 1024, 64 * 1024] {
        let mut big = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = big.write_all(head(header_bytes).as_bytes()).await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), big.read_to_end(&mut answer))
            .await
            .expect("the server answered or closed");
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
            "{header_bytes}: {answer}"
        );
    }
    let under = head(64 * 1024 - 100);
    assert!(under.len() <= 64 * 1024);
    let mut fits = tokio::net::TcpStream::connect(addr).await.unwrap();
    fits.write_all(under.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    fits.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // and the server still serves
    let r = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    stop.cancel();
}
