//! The command line, as clap sees it. Only commands that work are listed.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Daily energy prices (WTI, Brent, Henry Hub, …) from EIA, FRED and Yahoo Finance into one
/// time-series store, validated and gated.
#[derive(Debug, Parser)]
#[command(name = "energy-pipeline", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
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
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check or print the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load and validate the configuration; print every problem at once (exit 2 if any)
    Check,
    /// Print the effective configuration as YAML, secrets shown as ***
    Show,
}
