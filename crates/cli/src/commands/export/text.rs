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
        // the hot path of a long export: bytes, not the formatting machinery, but for the value
        _ => {
            out.write_all(o.commodity.as_str().as_bytes())?;
            out.write_all(b",")?;
            out.write_all(o.source.as_str().as_bytes())?;
            out.write_all(b",")?;
            out.write_all(&iso_date(o.date))?;
            writeln!(out, ",{}", o.value)
        }
    }
}

/// `YYYY-MM-DD` (years 0 to 9999, as stored), as chrono prints it.
fn iso_date(d: chrono::NaiveDate) -> [u8; 10] {
    use chrono::Datelike;
    let (y, m, day) = (d.year().clamp(0, 9999) as u32, d.month(), d.day());
    let digit = |n: u32| b'0' + (n % 10) as u8;
    [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
    ]
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

#[cfg(test)]
mod tests {
    #[test]
    fn dates_print_as_chrono_prints_them() {
        for d in ["1986-01-02", "2020-04-20", "0999-12-31", "9999-01-01"] {
            let date: chrono::NaiveDate = d.parse().unwrap();
            assert_eq!(super::iso_date(date), d.as_bytes(), "{d}");
        }
    }
}
