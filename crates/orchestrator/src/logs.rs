//! Logs for both binaries: tracing to stderr (level from -v/-q, or `RUST_LOG`) and, for commands
//! that do work, to a daily-rotated file under `logging.dir`; text or JSON lines.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::{LogFormat, LoggingConfig};

/// What the command line says about logging.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOptions {
    /// Only errors on stderr.
    pub quiet: bool,
    /// 1: debug, 2 or more: trace.
    pub verbose: u8,
    /// Overrides `logging.format`.
    pub format: Option<LogFormat>,
}

/// Keeps the file writer flushing until the command ends.
#[derive(Debug)]
pub struct LogGuard {
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
}

const OUR_CRATES: [&str; 7] = [
    "energy_core",
    "energy_sources",
    "energy_storage",
    "energy_notify",
    "energy_orchestrator",
    "energy_pipeline",
    "energy_scheduler",
];

fn filter(level: &str) -> EnvFilter {
    let mut directives = String::from("warn");
    for krate in OUR_CRATES {
        directives.push_str(&format!(",{krate}={level}"));
    }
    EnvFilter::new(directives)
}

/// Starts logging. `file` is the log file's stem (e.g. `energy-pipeline`): text lines go to
/// `energy-pipeline.log.YYYY-MM-DD`, JSON lines to `energy-pipeline.json.log.YYYY-MM-DD`, so
/// that a file never mixes the two when the format changes; without it, stderr only.
pub fn init(global: LogOptions, logging: &LoggingConfig, file: Option<&str>) -> LogGuard {
    let format = global.format.unwrap_or(logging.format);
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let stderr_filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => filter(level),
    };
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let stderr = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_target(false)
            .with_writer(std::io::stderr)
            .boxed(),
    }
    .with_filter(stderr_filter);

    let mut guard = None;
    let mut problem = None;
    let file_layer = file.and_then(|name| {
        if let Err(e) = std::fs::create_dir_all(&logging.dir) {
            problem = Some(format!(
                "cannot create the log directory {}: {e}; logging to stderr only",
                logging.dir.display()
            ));
            return None;
        }
        let appender = match tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(match format {
                LogFormat::Text => format!("{name}.log"),
                LogFormat::Json => format!("{name}.json.log"),
            })
            .build(&logging.dir)
        {
            Ok(a) => a,
            Err(e) => {
                problem = Some(format!(
                    "cannot open a log file in {}: {e}; logging to stderr only",
                    logging.dir.display()
                ));
                return None;
            }
        };
        let (writer, g) = tracing_appender::non_blocking(appender);
        guard = Some(g);
        let file_level = if global.verbose > 0 { level } else { "info" };
        Some(
            match format {
                LogFormat::Json => tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(writer)
                    .boxed(),
                LogFormat::Text => tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(writer)
                    .boxed(),
            }
            .with_filter(filter(file_level)),
        )
    });
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init();
    if let Some(p) = problem {
        tracing::warn!("{p}");
    }
    LogGuard { _file: guard }
}
