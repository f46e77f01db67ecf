//! `notify test`: a clearly marked test message through every enabled channel, and per channel
//! whether it was delivered.

use std::process::ExitCode;

use energy_orchestrator::{config, logs, wiring};

use crate::{args::GlobalArgs, exit::Failure};

pub fn test(global: &GlobalArgs) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let notifiers = wiring::notifiers(&loaded.config, &loaded.secrets);
    if notifiers.enabled().is_empty() {
        return Err(Failure::Usage(
            "no notification channel is enabled: set notifications.email.enabled or notifications.slack.enabled to true".into(),
        ));
    }
    let runtime = super::runtime()?;
    let sample = energy_notify::sample_report(chrono::Utc::now());
    let results = runtime.block_on(notifiers.send_test(&sample));
    let mut all = true;
    for r in &results {
        if r.delivered {
            println!("{:<6} delivered", r.channel);
        } else {
            all = false;
            println!(
                "{:<6} NOT delivered: {}",
                r.channel,
                r.error.as_deref().unwrap_or("unknown error")
            );
        }
    }
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
