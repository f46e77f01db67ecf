//! A small SMTP server for tests: EHLO, STARTTLS (with a throwaway certificate), AUTH PLAIN,
//! MAIL, RCPT, DATA, QUIT. It records what each session delivered.

use std::sync::{Arc, Mutex};

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader},
    net::TcpListener,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self,
        pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    },
};

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One delivered message.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
    /// `user\0password` from AUTH PLAIN, if the client authenticated.
    pub auth: Option<String>,
    /// Whether the message came over TLS.
    pub tls: bool,
}

#[derive(Debug)]
pub struct SmtpServer {
    pub port: u16,
    pub delivered: Arc<Mutex<Vec<Delivered>>>,
    /// PEM of the server's self-signed certificate, when it offers STARTTLS.
    pub cert_pem: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    /// A server on 127.0.0.1; with `starttls`, it offers STARTTLS with a certificate for
    /// `localhost` and `127.0.0.1` and refuses mail before TLS.
    pub async fn start(starttls: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (acceptor, cert_pem) = if starttls {
            let ck = rcgen::generate_simple_self_signed(vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
            ])
            .unwrap();
            let key =
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
            let config = rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(ck.cert.der().to_vec())], key)
            .unwrap();
            (
                Some(TlsAcceptor::from(Arc::new(config))),
                Some(ck.cert.pem()),
            )
        } else {
            (None, None)
        };
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let sink = delivered.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, sink) = (acceptor.clone(), sink.clone());
                tokio::spawn(async move {
                    let _ = session(Box::new(stream), acceptor, sink).await;
                });
            }
        });
        Self {
            port,
            delivered,
            cert_pem,
            task,
        }
    }

    pub fn messages(&self) -> Vec<Delivered> {
        self.delivered.lock().unwrap().clone()
    }
}

async fn session(
    stream: Box<dyn Io>,
    acceptor: Option<TlsAcceptor>,
    sink: Arc<Mutex<Vec<Delivered>>>,
) -> std::io::Result<()> {
    let mut io = BufReader::new(stream);
    let mut tls = false;
    let mut current = Delivered::default();
    io.get_mut()
        .write_all(b"220 localhost ESMTP test server\r\n")
        .await?;
    let mut line = String::new();
    loop {
        line.clear();
        if io.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            let mut r = String::from("250-localhost\r\n");
            if acceptor.is_some() && !tls {
                r.push_str("250-STARTTLS\r\n");
            }
            r.push_str("250-AUTH PLAIN\r\n250 8BITMIME\r\n");
            r
        } else if upper.starts_with("HELO") {
            "250 localhost\r\n".into()
        } else if upper == "STARTTLS" {
            let Some(acceptor) = acceptor.clone() else {
                io.get_mut().write_all(b"502 no TLS here\r\n").await?;
                continue;
            };
            io.get_mut().write_all(b"220 go ahead\r\n").await?;
            let plain = io.into_inner();
            let secured = acceptor.accept(plain).await?;
            io = BufReader::new(Box::new(secured));
            tls = true;
            continue;
        } else if upper.starts_with("AUTH PLAIN") {
            let b64 = cmd.split_whitespace().nth(2).unwrap_or("");
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&raw).into_owned();
            current.auth = Some(text.trim_start_matches('\0').to_owned());
            "235 authenticated\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            if acceptor.is_some() && !tls {
                "530 must issue STARTTLS first\r\n".into()
            } else {
                current.mail_from = cmd[10..].trim().trim_matches(['<', '>']).to_owned();
                "250 ok\r\n".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            current
                .rcpt_to
                .push(cmd[8..].trim().trim_matches(['<', '>']).to_owned());
            "250 ok\r\n".into()
        } else if upper == "DATA" {
            io.get_mut()
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if io.read_line(&mut l).await? == 0 {
                    return Ok(());
                }
                if l == ".\r\n" {
                    break;
                }
                data.push_str(
                    l.strip_prefix('.')
                        .filter(|_| l.starts_with(".."))
                        .unwrap_or(&l),
                );
            }
            current.data = data;
            current.tls = tls;
            sink.lock().unwrap().push(std::mem::take(&mut current));
            "250 queued\r\n".into()
        } else if upper == "RSET" || upper == "NOOP" {
            "250 ok\r\n".into()
        } else if upper == "QUIT" {
            io.get_mut().write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            "500 unknown command\r\n".into()
        };
        io.get_mut().write_all(reply.as_bytes()).await?;
    }
}
