//! The command line, as clap sees it. Only commands that work are listed.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use energy_core::{CommodityCode, SourceId};

/// Daily energy prices (WTI, Brent, Henry Hub, …) from EIA, FRED and Yahoo Finance into one
/// time-series store, validated and gated.
#[derive(Debug, Parser)]
#[command(name = "energy-pipeline", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Configuration file [default: $PIPELINE_CONFIG, else ./pipeline.yaml if it exists, else built-in defaults]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// More log output on stderr (-v debug, -vv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log line format [default: logging.format from the configuration]
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormatArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormatArg {
    Text,
    Json,
}

impl GlobalArgs {
    /// The logging options these flags ask for.
    pub(crate) fn log_options(&self) -> energy_orchestrator::logs::LogOptions {
        use energy_orchestrator::config::LogFormat;
        energy_orchestrator::logs::LogOptions {
            quiet: self.quiet,
            verbose: self.verbose,
            format: self.log_format.map(|f| match f {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            }),
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the pipeline once now: fetch, validate, gate, store (exit 0 success, 1 failed, 3 partial)
    Run(RunArgs),
    /// The dashboard: database health, freshness of every series, last runs, the scheduler
    Status(StatusArgs),
    /// Run history, newest first
    Runs(RunsArgs),
    /// Stored observations to stdout (CSV header `commodity,source,date,value`, or JSON lines)
    Export(ExportArgs),
    /// Trading days without a stored value inside each series' history (holidays are no gaps)
    Gaps(GapsArgs),
    /// The scheduler: run it, stop it, see its state and its next fire times
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Serve /healthz, /metrics and the JSON API (/api/status) without running the scheduler,
    /// until SIGINT/SIGTERM
    Serve(ServeArgs),
    /// Check the notification channels
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Check or print the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: schedule.listen from the configuration]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ScheduleCommand {
    /// Run the scheduler in the foreground until SIGINT/SIGTERM or `schedule stop`
    Start,
    /// Ask the running scheduler (same database) to stop gracefully, and wait for it
    Stop {
        /// Seconds to wait before giving up
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
    /// RUNNING/STOPPED/DEAD, host and pid, heartbeat age, next fire time, last run
    Status {
        /// One JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// The next fire times of the configured schedule, one RFC 3339 timestamp per line
    Next {
        /// How many
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=1000))]
        count: u16,
        /// Start after this instant (RFC 3339, e.g. 2026-03-07T12:00:00Z) [default: now]
        #[arg(long, value_name = "RFC3339")]
        after: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum NotifyCommand {
    /// Send a clearly marked test message through every enabled channel; say per channel
    /// whether it was delivered (exit 1 if any was not)
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ModeArg {
    /// From the latest stored date of each series (re-reading a few days for revisions)
    Incremental,
    /// The last `pipeline.full_refresh_days` days
    #[value(alias = "full_refresh")]
    FullRefresh,
    /// The dates from --start-date to --end-date
    Backfill,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Which dates to fetch
    #[arg(long, value_enum, default_value = "incremental")]
    pub mode: ModeArg,
    /// First market date of a backfill (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = market_date)]
    pub start_date: Option<NaiveDate>,
    /// Last market date of a backfill (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "DATE", value_parser = market_date)]
    pub end_date: Option<NaiveDate>,
    /// Only this source (repeatable) [default: every enabled one]
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<SourceId>,
    /// Only this commodity (repeatable) [default: every configured one]
    #[arg(long = "commodity", value_name = "CODE")]
    pub commodities: Vec<CommodityCode>,
    /// Print the run report as one JSON object instead of the table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// One JSON object instead of the dashboard
    #[arg(long)]
    pub json: bool,
    /// How many recent runs to show
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub runs: u32,
}

#[derive(Debug, Args)]
pub(crate) struct RunsArgs {
    /// How many runs to show
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Print a JSON array of run reports instead of the table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// `commodity,source,date,value` with a header line (wide: `date,COMMODITY/source,…`)
    Csv,
    /// One JSON object per line: commodity, source, date, value (an exact JSON number), unit
    /// (wide: date and one member per COMMODITY/source, null where empty)
    Jsonl,
    /// Apache Parquet: date as Date32, value as Decimal128 with the scale the data needs
    /// (exact), commodity, source and unit as strings (wide: date and one decimal column per
    /// COMMODITY/source)
    Parquet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportLayout {
    /// One row per observation
    Long,
    /// One row per date, one column per COMMODITY/source, empty where a series has no value
    Wide,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Only this commodity (repeatable)
    #[arg(long = "commodity", value_name = "CODE")]
    pub commodities: Vec<CommodityCode>,
    /// Only this source (repeatable)
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<SourceId>,
    /// First market date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = market_date)]
    pub start_date: Option<NaiveDate>,
    /// Last market date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = market_date)]
    pub end_date: Option<NaiveDate>,
    /// Output format
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Rows per observation (long) or per date (wide)
    #[arg(long, value_enum, default_value = "long")]
    pub layout: ExportLayout,
    /// Read the store as it was at this instant (RFC 3339, e.g. 2024-03-01T15:00:00Z): values
    /// first fetched later are absent, values revised later show the value they had then
    #[arg(long, value_name = "TIMESTAMP", value_parser = instant)]
    pub as_of: Option<DateTime<Utc>>,
    /// With --layout wide: one row for each trading day of the series' markets from the first
    /// to the last date (empty where no value), none on other days
    #[arg(long)]
    pub calendar_fill: bool,
    /// Write to FILE (replaced only once the export is complete) instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "{s:?} is not an instant: expected RFC 3339 with a zone, e.g. 2024-03-01T15:00:00Z"
            )
        })
}

#[derive(Debug, clap::Args)]
pub(crate) struct GapsArgs {
    /// Only this commodity (repeatable)
    #[arg(long = "commodity", value_name = "CODE")]
    pub commodities: Vec<CommodityCode>,
    /// Only this source (repeatable)
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<SourceId>,
    /// One JSON array instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Load and validate the configuration; print every problem at once (exit 2 if any)
    Check,
    /// Print the effective configuration as YAML, secrets shown as ***
    Show,
}

/// A market date as the flags take it: exactly `YYYY-MM-DD`, in 1900..=2100 (chrono alone reads
/// `24-01-01` as the year 24).
fn market_date(s: &str) -> Result<NaiveDate, String> {
    let shaped = s.len() == 10
        && s.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    let date = shaped
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("{s:?} is not a date: expected YYYY-MM-DD, e.g. 2024-01-31"))?;
    let (first, last) = (
        NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date"),
        NaiveDate::from_ymd_opt(2100, 12, 31).expect("valid date"),
    );
    if !(first..=last).contains(&date) {
        return Err(format!(
            "{date} is outside the market dates this pipeline handles, {first} to {last} (YYYY-MM-DD)"
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::market_date;

    #[test]
    fn market_dates_are_four_digit_years_in_range() {
        assert_eq!(market_date("2020-04-20").unwrap().to_string(), "2020-04-20");
        for bad in [
            "24-01-01",
            "2024-1-1",
            "20240101",
            "2024-02-30",
            "1850-01-01",
            "0024-01-01",
        ] {
            assert!(market_date(bad).is_err(), "{bad}");
        }
    }
}
