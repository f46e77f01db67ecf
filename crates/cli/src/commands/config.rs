//! `config check` and `config show`.

use std::process::ExitCode;

use energy_orchestrator::{Loaded, config};
use energy_sources::SourcesConfig;

use crate::output::{out, outln};
use crate::{
    args::{ConfigCommand, GlobalArgs},
    exit::Failure,
};

pub(super) fn run(global: &GlobalArgs, cmd: &ConfigCommand) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    match cmd {
        ConfigCommand::Check => check(&loaded),
        ConfigCommand::Show => show(&loaded),
    }
    Ok(ExitCode::SUCCESS)
}

fn check(loaded: &Loaded) {
    let cfg = &loaded.config;
    outln!("configuration OK ({})", loaded.origin);
    outln!(
        "  database    {} ({})",
        cfg.database.url,
        cfg.database.url.backend().name()
    );
    let codes: Vec<_> = cfg.commodities.keys().map(|c| c.as_str()).collect();
    outln!("  commodities {}", codes.join(", "));
    for (name, provider) in cfg.sources.iter() {
        let state = if !provider.enabled {
            "disabled".to_owned()
        } else {
            match SourcesConfig::api_key_env(name.as_str()) {
                Some(var) if loaded.secrets.by_variable(var).is_none() => {
                    format!("enabled, but {var} is not set: it will be skipped until you set it")
                }
                Some(var) => format!("enabled, key from {var}"),
                None => "enabled, no key needed".to_owned(),
            }
        };
        outln!("  source      {name:<6} {state}");
    }
    let n = &cfg.notifications;
    if n.email.enabled {
        let auth = match (&loaded.secrets.smtp_user, &loaded.secrets.smtp_password) {
            (Some(_), Some(_)) => "with SMTP_USER/SMTP_PASSWORD",
            (None, None) => "without credentials",
            _ => "but only one of SMTP_USER and SMTP_PASSWORD is set: it will fail until both are",
        };
        outln!(
            "  notify      email to {} via {}:{} ({:?}), {auth}",
            n.email.to_emails.join(", "),
            n.email.smtp_server,
            n.email.smtp_port,
            n.email.tls
        );
    }
    if n.slack.enabled {
        let state = if loaded.secrets.slack_webhook_url.is_some() {
            "webhook from SLACK_WEBHOOK_URL"
        } else {
            "but SLACK_WEBHOOK_URL is not set: it will fail until you set it"
        };
        outln!("  notify      slack, {state}");
    }
    if !n.email.enabled && !n.slack.enabled {
        outln!("  notify      no channel enabled");
    }
    let s = &cfg.schedule;
    match &s.cron {
        Some(cron) => outln!("  schedule    cron {cron:?} in {}", s.timezone),
        None => outln!(
            "  schedule    {:?} at {} {}",
            s.frequency,
            s.time.format("%H:%M"),
            s.timezone
        ),
    }
}

fn show(loaded: &Loaded) {
    let yaml =
        serde_yaml::to_string(&loaded.config).unwrap_or_else(|e| format!("# cannot render: {e}\n"));
    outln!("# effective configuration ({})", loaded.origin);
    out!("{yaml}");
    outln!("# secrets (environment only; values never shown):");
    for var in energy_orchestrator::Secrets::variables() {
        let state = if loaded.secrets.by_variable(var).is_some() {
            "***"
        } else {
            "(not set)"
        };
        outln!("#   {var}: {state}");
    }
}
