//! A Slack webhook stand-in that keeps every message posted to it, so that the checker can
//! count the notifications of each run.

use std::sync::{Arc, Mutex};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// The messages received, in order; the server runs until the program ends.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sink {
    messages: Arc<Mutex<Vec<String>>>,
}

impl Sink {
    /// Starts listening on 127.0.0.1; returns the sink and its webhook URL.
    pub(crate) async fn start() -> std::io::Result<(Self, String)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/services/chaos", listener.local_addr()?);
        let sink = Self::default();
        let kept = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let _ = kept.connection(stream).await;
                });
            }
        });
        Ok((sink, url))
    }

    pub(crate) fn messages(&self) -> Vec<String> {
        self.messages.lock().expect("sink messages").clone()
    }

    /// Serves the requests of one connection (keep-alive): keeps each body, answers `ok`.
    async fn connection(&self, mut stream: TcpStream) -> std::io::Result<()> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head_end + length {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
            buf.drain(..head_end + length);
            self.messages.lock().expect("sink messages").push(body);
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok",
                )
                .await?;
        }
    }
}
