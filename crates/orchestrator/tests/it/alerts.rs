//! Issue 15: freshness alerts through real channels (a local SMTP server and a local HTTP
//! endpoint for the Slack webhook). A series turning STALE sends one email and one Slack post,
//! the next check none, its recovery one more of each; a check whose every channel failed is
//! tried again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use energy_core::Clock;
use energy_core::{RunMode, Secret};
use energy_notify::{
    EmailConfig, NotificationsConfig, Notifiers, NotifySecrets, SlackConfig, SmtpTls,
    testing::smtp::SmtpServer,
};
use energy_orchestrator::{
    Config, NoProgress, RunRequest, alerts,
    testing::{Behaviour, setup_configured},
};
use tokio_util::sync::CancellationToken;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};

fn ny(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Only EIA's WTI: one series.
fn one_series(c: &mut Config) {
    for name in ["fred", "yahoo"] {
        c.sources.get_mut(name).unwrap().enabled = false;
    }
    let eia = c.sources.get_mut("eia").unwrap();
    eia.series.retain(|code, _| code.as_str() == "WTI");
}

/// A message's headers unfolded (a long Subject is folded onto a second line).
fn unfolded(data: &str) -> String {
    data.replace("\r\n ", " ").replace("\n ", " ")
}

fn notifiers(smtp_port: u16, slack_uri: &str) -> Notifiers {
    Notifiers::from_config(
        &NotificationsConfig {
            email: EmailConfig {
                enabled: true,
                smtp_server: "127.0.0.1".into(),
                smtp_port,
                tls: SmtpTls::None,
                from_email: "pipeline@energy.test".into(),
                to_emails: vec!["desk@energy.test".into()],
                timeout_seconds: 5,
                ..EmailConfig::default()
            },
            slack: SlackConfig {
                enabled: true,
                ..SlackConfig::default()
            },
        },
        &NotifySecrets {
            slack_webhook_url: Some(Secret::new(format!("{slack_uri}/services/T0/B0/secret"))),
            ..NotifySecrets::default()
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_turning_stale_is_announced_once_and_its_recovery_once() {
    let now = Arc::new(Mutex::new(ny(2026, 11, 16, 12)));
    let clock: Clock = {
        let now = now.clone();
        Arc::new(move || *now.lock().unwrap())
    };
    let s = setup_configured([Behaviour::Data; 3], 3, Duration::ZERO, clock, one_series).await;
    let mut config = Config::default();
    one_series(&mut config);
    let run = || async {
        s.pipeline
            .run(
                RunRequest::manual(RunMode::Incremental),
                CancellationToken::new(),
                Arc::new(NoProgress),
            )
            .await
            .unwrap()
    };
    run().await; // WTI from EIA through Monday 16 November

    let smtp = SmtpServer::start(false).await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    let n = notifiers(smtp.port, &slack.uri());
    let store = s.pipeline.store();
    let posts = || async { slack.received_requests().await.unwrap() };

    // Monday 30th noon: the release of Wednesday 25th (through the 23rd) is 2 trading days
    // overdue (Thanksgiving does not count): LATE, nothing to say
    let check = alerts::check(&config, store, &n, ny(2026, 11, 30, 12))
        .await
        .unwrap();
    assert!(check.changes.is_empty(), "{check:?}");
    assert_eq!((smtp.messages().len(), posts().await.len()), (0, 0));

    // Tuesday 1 December: 3 days overdue, STALE: one email, one post
    let check = alerts::check(&config, store, &n, ny(2026, 12, 1, 9))
        .await
        .unwrap();
    assert_eq!(check.changes.len(), 1, "{check:?}");
    assert!(check.notifications.iter().all(|r| r.delivered), "{check:?}");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    assert!(
        unfolded(&mails[0].data).contains(
            "Subject: [energy-pipeline] STALE: WTI/eia (expected 2026-11-23, latest 2026-11-16)"
        ),
        "{}",
        mails[0].data
    );
    let sent = posts().await;
    assert_eq!(sent.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(
        body["text"],
        "STALE: WTI/eia (expected 2026-11-23, latest 2026-11-16)"
    );

    // an hour later, still STALE: nothing more
    let check = alerts::check(&config, store, &n, ny(2026, 12, 1, 10))
        .await
        .unwrap();
    assert!(check.changes.is_empty(), "{check:?}");
    assert_eq!((smtp.messages().len(), posts().await.len()), (1, 1));

    // the data comes: one recovery of each
    *now.lock().unwrap() = ny(2026, 12, 1, 11);
    run().await;
    let check = alerts::check(&config, store, &n, ny(2026, 12, 1, 11))
        .await
        .unwrap();
    assert_eq!(check.changes.len(), 1, "{check:?}");
    assert!(check.changes[0].recovered());
    let mails = smtp.messages();
    assert_eq!((mails.len(), posts().await.len()), (2, 2));
    assert!(
        unfolded(&mails[1].data)
            .contains("Subject: [energy-pipeline] RECOVERED: WTI/eia (latest 2026-12-01)"),
        "{}",
        mails[1].data
    );
    let check = alerts::check(&config, store, &n, ny(2026, 12, 1, 12))
        .await
        .unwrap();
    assert!(check.changes.is_empty());
    assert_eq!((smtp.messages().len(), posts().await.len()), (2, 2));
}

/// When no channel delivers, the change is handed back: the next check announces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_no_channel_delivered_is_tried_again() {
    let clock: Clock = Arc::new(|| ny(2026, 11, 16, 12));
    let s = setup_configured([Behaviour::Data; 3], 3, Duration::ZERO, clock, one_series).await;
    let mut config = Config::default();
    one_series(&mut config);
    s.pipeline
        .run(
            RunRequest::manual(RunMode::Incremental),
            CancellationToken::new(),
            Arc::new(NoProgress),
        )
        .await
        .unwrap();
    // nothing listens on the relay's port, and the webhook answers 500
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&slack)
        .await;
    let n = notifiers(port, &slack.uri());
    let store = s.pipeline.store();
    let check = alerts::check(&config, store, &n, ny(2026, 12, 1, 9))
        .await
        .unwrap();
    assert_eq!(check.changes.len(), 1);
    assert!(
        check.notifications.iter().all(|r| !r.delivered),
        "{check:?}"
    );

    let smtp = SmtpServer::start(false).await;
    let n = notifiers(smtp.port, &slack.uri());
    let check = alerts::check(&config, store, &n, ny(2026, 12, 1, 10))
        .await
        .unwrap();
    assert_eq!(check.changes.len(), 1, "tried again: {check:?}");
    assert_eq!(smtp.messages().len(), 1);
    let check = alerts::check(&config, store, &n, ny(2026, 12, 1, 11))
        .await
        .unwrap();
    assert!(
        check.changes.is_empty(),
        "delivered by email once: {check:?}"
    );
}
