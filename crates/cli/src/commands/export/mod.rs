//! `export`: stored observations, as stored now or as of an instant, to stdout or a file, as
//! CSV, JSON lines or Parquet, one row per observation (long, streamed page by page) or one row
//! per date (wide); values exactly as stored.

mod parquet;
mod text;

use std::{
    fs::File,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    process::ExitCode,
};

use energy_orchestrator::{Config, config, logs, wiring};
use energy_storage::{ExportFilter, Panel, Store};

use crate::{
    args::{ExportArgs, ExportFormat, ExportLayout, GlobalArgs},
    exit::Failure,
};

pub(super) fn run(global: &GlobalArgs, args: &ExportArgs) -> Result<ExitCode, Failure> {
    if let (Some(s), Some(e)) = (args.start_date, args.end_date)
        && s > e
    {
        return Err(Failure::Usage(format!(
            "--start-date {s} is after --end-date {e}"
        )));
    }
    if args.calendar_fill && args.layout != ExportLayout::Wide {
        return Err(Failure::Usage(
            "--calendar-fill fills the rows of the wide layout: add --layout wide".into(),
        ));
    }
    let loaded = config::load(global.config.as_deref())?;
    loaded
        .config
        .check_selection(&args.commodities, &args.sources)?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let filter = ExportFilter {
        commodities: args.commodities.clone(),
        sources: args.sources.clone(),
        start: args.start_date,
        end: args.end_date,
        as_of: args.as_of,
    };
    let runtime = super::runtime()?;
    let mut output = Output::open(args.output.as_deref())?;
    let written = runtime.block_on(async {
        let store = wiring::open_existing_store(&loaded.config).await?;
        let written = match args.layout {
            ExportLayout::Long => long(&store, &filter, args.format, &mut output).await?,
            ExportLayout::Wide => wide(&store, &filter, args, &loaded.config, &mut output).await?,
        };
        Ok::<_, Failure>(written)
    });
    let written = written.and_then(|w| {
        w.and_then(|n| output.finish().map(|()| n))
            .map_err(|e| output.failed(e))
    });
    match written {
        Ok(n) => {
            tracing::debug!(rows = n, "exported");
            Ok(ExitCode::SUCCESS)
        }
        // the reader went away (`| head`): that is the reader's choice, not a failure
        Err(Failure::Operational(e)) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e),
    }
}

/// The long layout, streamed: Parquet a batch at a time, text a line at a time.
async fn long(
    store: &Store,
    filter: &ExportFilter,
    format: ExportFormat,
    output: &mut Output,
) -> Result<anyhow::Result<u64>, Failure> {
    let out = output.writer();
    if format == ExportFormat::Parquet {
        let scale = store.history().value_scale(filter).await?;
        let mut writer = match parquet::LongWriter::new(out, scale) {
            Ok(w) => w,
            Err(e) => return Ok(Err(e)),
        };
        let n = store.history().export(filter, |o| writer.push(o)).await?;
        return Ok(n.and_then(|n| writer.finish().map(|_| n)));
    }
    if let Err(e) = text::long_header(out, format) {
        return Ok(Err(e.into()));
    }
    let n = store
        .history()
        .export(filter, |o| text::long_row(out, format, &o))
        .await?;
    Ok(n.map_err(anyhow::Error::from))
}

/// The wide layout: the panel is built in memory (one cell per date and series), then written.
async fn wide(
    store: &Store,
    filter: &ExportFilter,
    args: &ExportArgs,
    config: &Config,
    output: &mut Output,
) -> Result<anyhow::Result<u64>, Failure> {
    let mut panel = store.history().panel(filter).await?;
    if args.calendar_fill {
        panel = on_trading_days(panel, config);
    }
    let rows = panel.dates.len() as u64;
    let out = output.writer();
    let written = match args.format {
        ExportFormat::Parquet => parquet::write_wide(out, &panel).map(|_| ()),
        format => text::wide(out, format, &panel).map_err(anyhow::Error::from),
    };
    Ok(written.map(|()| rows))
}

/// The panel on the trading days of its series' markets (a day any of them trades).
fn on_trading_days(panel: Panel, config: &Config) -> Panel {
    let mut calendars: Vec<_> = panel
        .columns
        .iter()
        .map(|c| config.calendar(&c.commodity, &c.source))
        .collect();
    calendars.sort_by_key(|c| c.name());
    calendars.dedup();
    let (panel, dropped) = panel.on_days(|d| calendars.iter().any(|c| c.is_trading_day(d)));
    if dropped > 0 {
        eprintln!(
            "note: --calendar-fill left out {dropped} values dated on days no market of the export trades"
        );
    }
    panel
}

/// Where the export goes: stdout, or a file written beside its final name and moved there once
/// complete, so a failed export never leaves a half file under the name asked for.
struct Output {
    writer: BufWriter<Box<dyn Write + Send>>,
    file: Option<(PathBuf, PathBuf)>,
}

impl Output {
    fn open(path: Option<&Path>) -> Result<Self, Failure> {
        let (sink, file): (Box<dyn Write + Send>, _) = match path {
            None => (Box::new(io::stdout()), None),
            Some(path) => {
                let mut partial = path.as_os_str().to_owned();
                partial.push(".partial");
                let partial = PathBuf::from(partial);
                let f = File::create(&partial).map_err(|e| {
                    Failure::Operational(anyhow::anyhow!(
                        "cannot create {}: {e}; check that its directory exists and is writable",
                        partial.display()
                    ))
                })?;
                (Box::new(f), Some((partial, path.to_owned())))
            }
        };
        Ok(Self {
            writer: BufWriter::with_capacity(256 * 1024, sink),
            file,
        })
    }

    fn writer(&mut self) -> &mut BufWriter<Box<dyn Write + Send>> {
        &mut self.writer
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.writer.flush()?;
        if let Some((partial, path)) = &self.file {
            std::fs::rename(partial, path).map_err(|e| {
                anyhow::anyhow!(
                    "cannot move {} to {}: {e}",
                    partial.display(),
                    path.display()
                )
            })?;
        }
        Ok(())
    }

    /// The failure to report, the partial file removed.
    fn failed(&mut self, e: anyhow::Error) -> Failure {
        let target = match &self.file {
            Some((partial, path)) => {
                let _ = std::fs::remove_file(partial);
                path.display().to_string()
            }
            None => "stdout".to_owned(),
        };
        Failure::Operational(e.context(format!("cannot write the export to {target}")))
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
