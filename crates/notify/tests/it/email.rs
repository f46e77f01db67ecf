//! Email: real SMTP to the local test server, plain and with STARTTLS.

use std::time::Duration;

use energy_core::{RunStatus, Secret};
use energy_notify::{EmailConfig, NotificationsConfig, Notifiers, Notify, NotifySecrets, SmtpTls};

use energy_notify::testing::smtp::SmtpServer;

use crate::support::report;

fn config(port: u16, tls: SmtpTls, ca_file: Option<std::path::PathBuf>) -> NotificationsConfig {
    NotificationsConfig {
        email: EmailConfig {
            enabled: true,
            smtp_server: "127.0.0.1".into(),
            smtp_port: port,
            tls,
            from_email: "pipeline@energy.test".into(),
            to_emails: vec!["desk@energy.test".into(), "oncall@energy.test".into()],
            timeout_seconds: 5,
            ca_file,
            ..EmailConfig::default()
        },
        ..NotificationsConfig::default()
    }
}

/// The decoded text of a quoted-printable or 7bit MIME part that contains `marker`.
fn part_containing(data: &str, marker: &str) -> String {
    let unfolded = data.replace("=\r\n", "");
    let decoded = decode_qp(&unfolded);
    assert!(
        decoded.contains(marker),
        "no part with {marker:?} in:\n{data}"
    );
    decoded
}

fn decode_qp(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn plain_smtp_delivers_to_every_recipient_with_both_bodies() {
    let server = SmtpServer::start(false).await;
    let notifiers = Notifiers::from_config(
        &config(server.port, SmtpTls::None, None),
        &NotifySecrets::default(),
    );
    let results = notifiers.notify(&report(RunStatus::Partial)).await;
    assert_eq!(results.len(), 1);
    assert!(results[0].delivered, "{:?}", results[0]);
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.mail_from, "pipeline@energy.test");
    assert_eq!(m.rcpt_to, ["desk@energy.test", "oncall@energy.test"]);
    assert!(!m.tls);
    assert!(m.auth.is_none());
    let headers = m.data.replace("\r\n ", " ");
    assert!(
        headers.contains(
            "Subject: [energy-pipeline] PARTIAL: full_refresh run of 2026-11-25 (2 of 3 sources ok)"
        ),
        "{headers}"
    );
    assert!(
        headers.contains("To: desk@energy.test, oncall@energy.test"),
        "{headers}"
    );
    assert!(m.data.contains("multipart/alternative"), "{}", m.data);
    assert!(m.data.contains("text/plain"), "{}", m.data);
    assert!(m.data.contains("text/html"), "{}", m.data);
    let text = part_containing(&m.data, "SOURCE  STATUS");
    assert!(text.contains("fred    failed"), "{text}");
    assert!(text.contains("check FRED_API_KEY"), "{text}");
    assert!(
        text.contains("<td style="),
        "the HTML alternative is there: {text}"
    );
}

#[tokio::test]
async fn starttls_with_credentials_delivers_over_tls() {
    let server = SmtpServer::start(true).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, server.cert_pem.as_ref().unwrap()).unwrap();
    let secrets = NotifySecrets {
        smtp_user: Some(Secret::new("pipeline-bot")),
        smtp_password: Some(Secret::new("s3cretSMTPpassw0rd")),
        slack_webhook_url: None,
    };
    let notifiers =
        Notifiers::from_config(&config(server.port, SmtpTls::Starttls, Some(ca)), &secrets);
    let results = notifiers.notify(&report(RunStatus::Failed)).await;
    assert!(results[0].delivered, "{:?}", results[0]);
    let m = &server.messages()[0];
    assert!(m.tls, "the message went over TLS");
    assert_eq!(m.auth.as_deref(), Some("pipeline-bot\0s3cretSMTPpassw0rd"));
    assert!(
        m.data
            .replace("\r\n ", " ")
            .contains("Subject: [energy-pipeline] FAILED"),
        "{}",
        m.data
    );
    assert!(!m.data.contains("s3cretSMTPpassw0rd"));
}

#[tokio::test]
async fn starttls_against_an_untrusted_certificate_is_not_delivered() {
    let server = SmtpServer::start(true).await;
    let secrets = NotifySecrets {
        smtp_user: Some(Secret::new("pipeline-bot")),
        smtp_password: Some(Secret::new("s3cretSMTPpassw0rd")),
        slack_webhook_url: None,
    };
    let notifiers = Notifiers::from_config(&config(server.port, SmtpTls::Starttls, None), &secrets);
    let results = notifiers.notify(&report(RunStatus::Failed)).await;
    assert!(!results[0].delivered);
    let error = results[0].error.as_deref().unwrap();
    assert!(error.contains("127.0.0.1"), "{error}");
    assert!(!error.contains("s3cretSMTPpassw0rd"), "{error}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn a_refused_connection_is_reported_not_raised() {
    // a port nobody listens on
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let notifiers = Notifiers::from_config(
        &config(port, SmtpTls::None, None),
        &NotifySecrets::default(),
    );
    let results = notifiers.notify(&report(RunStatus::Failed)).await;
    assert_eq!(results.len(), 1);
    assert!(!results[0].delivered);
    assert!(
        results[0]
            .error
            .as_deref()
            .unwrap()
            .contains(&format!("127.0.0.1:{port}"))
    );
}

#[tokio::test]
async fn a_relay_that_never_answers_times_out() {
    // accepts connections but never says a word
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let mut cfg = config(port, SmtpTls::None, None);
    cfg.email.timeout_seconds = 1;
    let notifiers = Notifiers::from_config(&cfg, &NotifySecrets::default());
    let started = std::time::Instant::now();
    let results = notifiers.notify(&report(RunStatus::Failed)).await;
    assert!(!results[0].delivered);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn only_one_of_the_smtp_credentials_is_a_clear_error() {
    let secrets = NotifySecrets {
        smtp_user: Some(Secret::new("pipeline-bot")),
        ..NotifySecrets::default()
    };
    let notifiers = Notifiers::from_config(&config(25, SmtpTls::None, None), &secrets);
    let results = notifiers.notify(&report(RunStatus::Failed)).await;
    assert_eq!(
        results[0].error.as_deref(),
        Some("SMTP_USER is set but SMTP_PASSWORD is not")
    );
}
