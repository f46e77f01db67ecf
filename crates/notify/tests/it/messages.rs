//! Snapshots of what people read: the email's subject and bodies, the Slack payload.

use energy_core::RunStatus;
use energy_notify::render;

use crate::support::report;

#[test]
fn email_subject_says_status_mode_and_date() {
    insta::assert_snapshot!(render::subject(&report(RunStatus::Partial), false), @"[energy-pipeline] PARTIAL: full_refresh run of 2026-11-25 (2 of 3 sources ok)");
    insta::assert_snapshot!(render::subject(&report(RunStatus::Success), true), @"[energy-pipeline] TEST SUCCESS: full_refresh run of 2026-11-25 (2 of 3 sources ok)");
}

#[test]
fn email_text_body() {
    insta::assert_snapshot!(render::text_body(&report(RunStatus::Partial), false));
}

#[test]
fn email_html_body() {
    insta::assert_snapshot!(render::html_body(&report(RunStatus::Partial), false));
}

#[test]
fn slack_payload() {
    let payload = render::slack_payload(&report(RunStatus::Partial), false).unwrap();
    insta::assert_json_snapshot!(payload);
}
