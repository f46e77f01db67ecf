//! `export`: stored observations to stdout, streamed page by page, as CSV or JSON lines, values
//! exactly as stored.

use std::{
    io::{self, BufWriter, Write},
    process::ExitCode,
};

use energy_core::Observation;
use energy_orchestrator::{config, logs, wiring};
use energy_storage::ExportFilter;

use crate::{
    args::{ExportArgs, ExportFormat, GlobalArgs},
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
    let loaded = config::load(global.config.as_deref())?;
    loaded
        .config
        .check_selection(&args.commodities, &args.sources)
        .map_err(Failure::Usage)?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let filter = ExportFilter {
        commodities: args.commodities.clone(),
        sources: args.sources.clone(),
        start: args.start_date,
        end: args.end_date,
        as_of: None,
    };
    let runtime = super::runtime()?;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let format = args.format;
    let result = runtime.block_on(async {
        let store = wiring::open_existing_store(&loaded.config).await?;
        if format == ExportFormat::Csv
            && let Err(e) = writeln!(out, "commodity,source,date,value")
        {
            return Ok(Err(e));
        }
        store
            .export(&filter, |o| write_row(&mut out, format, &o))
            .await
    })?;
    let written = result.and_then(|n| out.flush().map(|()| n));
    match written {
        Ok(n) => {
            tracing::debug!(rows = n, "exported");
            Ok(ExitCode::SUCCESS)
        }
        // the reader went away (`| head`): that is the reader's choice, not a failure
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(Failure::Operational(anyhow::anyhow!(
            "cannot write the export to stdout: {e}"
        ))),
    }
}

fn write_row(out: &mut impl Write, format: ExportFormat, o: &Observation) -> io::Result<()> {
    match format {
        ExportFormat::Csv => writeln!(out, "{},{},{},{}", o.commodity, o.source, o.date, o.value),
        // the value is written as the decimal text that was stored: a JSON number, exact
        ExportFormat::Jsonl => writeln!(
            out,
            "{{\"commodity\":\"{}\",\"source\":\"{}\",\"date\":\"{}\",\"value\":{},\"unit\":{}}}",
            o.commodity,
            o.source,
            o.date,
            o.value,
            serde_json::to_string(&o.unit).unwrap_or_else(|_| "null".into())
        ),
    }
}
