//! Builds a wide, point-in-time panel from a SQLite store and prints its shape and last rows:
//! what a backtest would have known at that instant.
//!
//! ```text
//! cargo run -p energy-storage --example panel -- pipeline.db 2020-05-01T15:00:00Z
//! ```
//!
//! Without the instant, the panel as stored now.

use std::{error::Error, io::Write, path::Path};

use chrono::{DateTime, Utc};
use energy_storage::{DatabaseUrl, ExportFilter, Store};

/// Rows printed from the end of the panel.
const LAST_ROWS: usize = 5;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: panel FILE.db [AS_OF (RFC 3339, e.g. 2020-05-01T15:00:00Z)]");
        std::process::exit(2);
    };
    let as_of = args
        .next()
        .map(|t| DateTime::parse_from_rfc3339(&t).map(|t| t.with_timezone(&Utc)))
        .transpose()?;
    run(Path::new(&path), as_of, &mut std::io::stdout()).await
}

/// Prints the panel of the store at `path`, as of `as_of`, to `out`.
async fn run(
    path: &Path,
    as_of: Option<DateTime<Utc>>,
    out: &mut impl Write,
) -> Result<(), Box<dyn Error>> {
    let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display()))?;
    let store = Store::open_existing(&url).await?;
    let panel = store
        .history()
        .panel(&ExportFilter {
            as_of,
            ..ExportFilter::default()
        })
        .await?;
    let (rows, columns) = panel.shape();
    match as_of {
        Some(t) => writeln!(out, "{rows} dates x {columns} series, as of {t}")?,
        None => writeln!(out, "{rows} dates x {columns} series, as stored now")?,
    }
    let names: Vec<String> = panel.columns.iter().map(|c| c.name()).collect();
    writeln!(out, "date,{}", names.join(","))?;
    for (i, date) in panel
        .dates
        .iter()
        .enumerate()
        .skip(rows.saturating_sub(LAST_ROWS))
    {
        let cells: Vec<String> = panel
            .columns
            .iter()
            .map(|c| c.values[i].map(|v| v.to_string()).unwrap_or_default())
            .collect();
        writeln!(out, "{date},{}", cells.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use energy_core::{CommodityCode, CommoditySpec, Observation, Price, SourceId};

    use super::*;

    /// The example's own run, on a store with a revision: as of the day between, the old value.
    #[tokio::test]
    async fn prints_the_shape_and_the_last_rows_as_of_an_instant() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prices.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
        let store = Store::open(&url).await.unwrap();
        let (wti, eia, fred) = (
            CommodityCode::new("WTI").unwrap(),
            SourceId::new("eia").unwrap(),
            SourceId::new("fred").unwrap(),
        );
        store
            .catalog()
            .register_commodity(&wti, &CommoditySpec::new("WTI crude", "USD/bbl"))
            .await
            .unwrap();
        for s in [&eia, &fred] {
            store
                .catalog()
                .register_source(s, s.as_str())
                .await
                .unwrap();
        }
        let o = |s: &SourceId, d: &str, v: &str| {
            Observation::new(
                wti.clone(),
                s.clone(),
                d.parse().unwrap(),
                Price::parse(v).unwrap(),
                "USD/bbl",
            )
        };
        let at = |d: u32| Utc.with_ymd_and_hms(2020, 4, d, 16, 0, 0).unwrap();
        store
            .observations()
            .write_batch_at(
                None,
                &[
                    o(&eia, "2020-04-17", "18.27"),
                    o(&eia, "2020-04-20", "-37.63"),
                ],
                &[],
                at(21),
            )
            .await
            .unwrap();
        store
            .observations()
            .write_batch_at(
                None,
                &[
                    o(&eia, "2020-04-20", "-36.98"),
                    o(&fred, "2020-04-20", "-36.98"),
                ],
                &[],
                at(23),
            )
            .await
            .unwrap();
        let mut printed = Vec::new();
        run(&path, Some(at(22)), &mut printed).await.unwrap();
        assert_eq!(
            String::from_utf8(printed).unwrap(),
            "2 dates x 1 series, as of 2020-04-22 16:00:00 UTC\n\
             date,WTI/eia\n2020-04-17,18.27\n2020-04-20,-37.63\n"
        );
        let mut printed = Vec::new();
        run(&path, None, &mut printed).await.unwrap();
        assert!(
            String::from_utf8(printed)
                .unwrap()
                .ends_with("date,WTI/eia,WTI/fred\n2020-04-17,18.27,\n2020-04-20,-36.98,-36.98\n")
        );
    }
}
