//! CSV and JSON lines: one observation a line (long) or one date a line (wide), every value the
//! exact decimal text stored.

use std::io::{self, Write};

use energy_core::Observation;
use energy_storage::Panel;

use crate::args::ExportFormat;

/// The long layout's header line, if the format has one.
pub(super) fn long_header(out: &mut impl Write, format: ExportFormat) -> io::Result<()> {
    match format {
        ExportFormat::Csv => writeln!(out, "commodity,source,date,value"),
        _ => Ok(()),
    }
}

/// One observation.
pub(super) fn long_row(
    out: &mut impl Write,
    format: ExportFormat,
    o: &Observation,
) -> io::Result<()> {
    match format {
        // the value is written as the decimal text that was stored: a JSON number, exact
        ExportFormat::Jsonl => writeln!(
            out,
            "{{\"commodity\":\"{}\",\"source\":\"{}\",\"date\":\"{}\",\"value\":{},\"unit\":{}}}",
            o.commodity,
            o.source,
            o.date,
            o.value,
            json_string(&o.unit)
        ),
        _ => writeln!(out, "{},{},{},{}", o.commodity, o.source, o.date, o.value),
    }
}

/// A panel: a header (CSV) and one line per date, empty (CSV) or null (JSON) where a series
/// has no value.
pub(super) fn wide(out: &mut impl Write, format: ExportFormat, panel: &Panel) -> io::Result<()> {
    let names: Vec<String> = panel.columns.iter().map(|c| c.name()).collect();
    match format {
        ExportFormat::Jsonl => {
            let keys: Vec<String> = names.iter().map(|n| json_string(n)).collect();
            for (i, date) in panel.dates.iter().enumerate() {
                write!(out, "{{\"date\":\"{date}\"")?;
                for (key, column) in keys.iter().zip(&panel.columns) {
                    match column.values[i] {
                        Some(v) => write!(out, ",{key}:{v}")?,
                        None => write!(out, ",{key}:null")?,
                    }
                }
                writeln!(out, "}}")?;
            }
        }
        _ => {
            // commodity codes and source names are [A-Za-z0-9_-]: nothing to quote
            writeln!(out, "date,{}", names.join(","))?;
            for (i, date) in panel.dates.iter().enumerate() {
                write!(out, "{date}")?;
                for column in &panel.columns {
                    match column.values[i] {
                        Some(v) => write!(out, ",{v}")?,
                        None => out.write_all(b",")?,
                    }
                }
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "null".into())
}
