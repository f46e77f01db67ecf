//! `notify test`: a clearly marked test message through every enabled channel, and per channel
//! whether it was delivered.

use std::process::ExitCode;

use energy_orchestrator::{config, logs, wiring};

use crate::output::outln;
use crate::{args::GlobalArgs, exit::Failure};

pub(super) fn test(global: &GlobalArgs) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let runtime = super::runtime()?;
    // The email channel's connection pool lives on the runtime: it is built and dropped in it.
    let results = runtime.block_on(async {
        let notifiers = wiring::notifiers(&loaded.config, &loaded.secrets);
        if notifiers.enabled().is_empty() {
            return Err(Failure::Usage(
                "no notification channel is enabled: set notifications.email.enabled or notifications.slack.enabled to true".into(),
            ));
        }
        let sources: Vec<_> = loaded
            .config
            .sources
            .iter()
            .filter(|(_, p)| p.enabled)
            .map(|(id, _)| id.clone())
            .collect();
        let sample = energy_notify::sample_report(chrono::Utc::now(), &sources);
        Ok(notifiers.send_test(&sample).await)
    })?;
    let mut all = true;
    for r in &results {
        if r.delivered {
            outln!("{:<6} delivered", r.channel);
        } else {
            all = false;
            outln!(
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
