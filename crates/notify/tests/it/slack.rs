//! Slack: posts to a local HTTP endpoint standing in for the webhook; the trigger matrix.

use std::time::Duration;

use energy_core::{RunStatus, Secret};
use energy_notify::{NotificationsConfig, Notifiers, Notify, NotifySecrets, SlackConfig};
use serde_json::Value;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::support::report;

const HOOK_PATH: &str = "/services/T0000/B0000/XXXXsecretXXXX";

fn notifiers(server_uri: &str, slack: SlackConfig) -> Notifiers {
    Notifiers::from_config(
        &NotificationsConfig {
            slack: SlackConfig {
                enabled: true,
                ..slack
            },
            ..NotificationsConfig::default()
        },
        &NotifySecrets {
            slack_webhook_url: Some(Secret::new(format!("{server_uri}{HOOK_PATH}"))),
            ..NotifySecrets::default()
        },
    )
}

#[tokio::test]
async fn posts_an_attachment_coloured_by_status_with_fields_and_failed_sources() {
    for (status, colour) in [
        (RunStatus::Success, "good"),
        (RunStatus::Partial, "warning"),
        (RunStatus::Failed, "danger"),
        (RunStatus::Interrupted, "danger"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(HOOK_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .expect(1)
            .mount(&server)
            .await;
        let n = notifiers(
            &server.uri(),
            SlackConfig {
                send_on_success: true,
                ..SlackConfig::default()
            },
        );
        let results = n.notify(&report(status)).await;
        assert!(results[0].delivered, "{:?}", results[0]);
        let requests = server.received_requests().await.unwrap();
        let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
        let a = &body["attachments"][0];
        assert_eq!(a["color"], colour, "{body}");
        let fields: Vec<(&str, &str)> = a["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["title"].as_str().unwrap(), f["value"].as_str().unwrap()))
            .collect();
        assert!(
            fields.contains(&("Mode", "full_refresh (schedule)")),
            "{fields:?}"
        );
        assert!(fields.contains(&("Duration", "0.84 s")), "{fields:?}");
        assert!(fields.contains(&("Fetched", "15012")), "{fields:?}");
        assert!(fields.contains(&("Stored", "15010")), "{fields:?}");
        let text = a["text"].as_str().unwrap();
        assert!(
            text.contains("• fred (failed): WTI: the API key was refused")
                || text.contains("• fred (failed)"),
            "{text}"
        );
        server.verify().await;
    }
}

#[tokio::test]
async fn the_trigger_matrix_decides_who_is_told() {
    let statuses = [
        RunStatus::Success,
        RunStatus::Partial,
        RunStatus::Failed,
        RunStatus::Interrupted,
    ];
    for on_success in [false, true] {
        for on_partial in [false, true] {
            for on_failure in [false, true] {
                for status in statuses {
                    let server = MockServer::start().await;
                    Mock::given(method("POST"))
                        .respond_with(ResponseTemplate::new(200))
                        .mount(&server)
                        .await;
                    let n = notifiers(
                        &server.uri(),
                        SlackConfig {
                            send_on_success: on_success,
                            send_on_partial: on_partial,
                            send_on_failure: on_failure,
                            ..SlackConfig::default()
                        },
                    );
                    let results = n.notify(&report(status)).await;
                    let expected = match status {
                        RunStatus::Success => on_success,
                        RunStatus::Partial => on_partial,
                        _ => on_failure,
                    };
                    let posted = server.received_requests().await.unwrap().len();
                    assert_eq!(
                        posted,
                        usize::from(expected),
                        "{status:?} s={on_success} p={on_partial} f={on_failure}"
                    );
                    assert_eq!(results.len(), usize::from(expected));
                }
            }
        }
    }
}

#[tokio::test]
async fn a_failing_webhook_is_reported_without_its_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let results = notifiers(&server.uri(), SlackConfig::default())
        .notify(&report(RunStatus::Failed))
        .await;
    assert!(!results[0].delivered);
    let error = results[0].error.as_deref().unwrap();
    assert!(error.contains("500"), "{error}");
    assert!(!error.contains("secret"), "{error}");

    // nobody listening
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let results = notifiers(&format!("http://127.0.0.1:{port}"), SlackConfig::default())
        .notify(&report(RunStatus::Failed))
        .await;
    assert!(!results[0].delivered);
    let error = results[0].error.as_deref().unwrap();
    assert!(
        !error.contains("secret") && !error.contains("T0000"),
        "{error}"
    );
}

#[tokio::test]
async fn a_webhook_that_hangs_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let results = notifiers(
        &server.uri(),
        SlackConfig {
            timeout_seconds: 1,
            ..SlackConfig::default()
        },
    )
    .notify(&report(RunStatus::Failed))
    .await;
    assert!(!results[0].delivered);
    assert!(
        results[0]
            .error
            .as_deref()
            .unwrap()
            .contains("did not answer in time"),
        "{:?}",
        results[0]
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_missing_webhook_url_says_which_variable_to_set() {
    let n = Notifiers::from_config(
        &NotificationsConfig {
            slack: SlackConfig {
                enabled: true,
                ..SlackConfig::default()
            },
            ..NotificationsConfig::default()
        },
        &NotifySecrets::default(),
    );
    let results = n.notify(&report(RunStatus::Failed)).await;
    assert!(
        results[0]
            .error
            .as_deref()
            .unwrap()
            .contains("SLACK_WEBHOOK_URL")
    );
}
