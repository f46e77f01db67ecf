//! Integration tests of energy-notify: real SMTP to a local server (plain and STARTTLS), Slack
//! to a local HTTP endpoint, the trigger matrix, failures, and snapshots of the messages.

mod email;
mod messages;
mod slack;
mod support;
