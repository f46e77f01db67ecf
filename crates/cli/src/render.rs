//! Formatting for people: aligned text tables, durations and counts, shared by `run`, `runs` and
//! `export`'s messages. Tables are plain text (no colour) and fit 80 columns for the usual sizes.

use energy_core::RunReport;

/// How a column lines up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A text table: a header row and data rows, every column as wide as its widest cell.
#[derive(Debug)]
pub struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[(&'static str, Align)]) -> Self {
        Self {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (h, _))| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .chain([h.len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let headers: Vec<String> = self.columns.iter().map(|(h, _)| (*h).to_owned()).collect();
        for cells in std::iter::once(&headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, ((_, align), width)) in self.columns.iter().zip(&widths).enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                if i > 0 {
                    line.push_str("  ");
                }
                match align {
                    Align::Left => line.push_str(&format!("{cell:<width$}")),
                    Align::Right => line.push_str(&format!("{cell:>width$}")),
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Seconds for people: `0.84 s`, `12.3 s`, `4 min 05 s`.
pub fn duration(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.2} s")
    } else if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        let s = seconds.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

/// A quality score with three decimals.
/// A quality score with three decimals, rounded down: 0.9996 is 0.999, never a false 1.000.
pub fn score(q: f64) -> String {
    format!("{:.3}", (q * 1000.0).floor() / 1000.0)
}

/// The summary of one run, as `run` prints it.
pub fn run_report(r: &RunReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "run {} ({}, {}): {} in {}\n",
        r.run_id,
        r.trigger.name(),
        mode_name(r),
        r.status.name().to_uppercase(),
        duration(r.duration_seconds)
    ));
    if let Some(w) = r.window {
        out.push_str(&format!("window {} .. {}\n", w.start(), w.end()));
    }
    out.push('\n');
    let mut t = Table::new(&[
        ("SOURCE", Align::Left),
        ("SERIES", Align::Left),
        ("STATUS", Align::Left),
        ("FETCHED", Align::Right),
        ("STORED", Align::Right),
        ("UNCHANGED", Align::Right),
        ("REJECTED", Align::Right),
        ("MISSING", Align::Right),
        ("QUALITY", Align::Right),
    ]);
    let mut problems = Vec::new();
    for s in &r.sources {
        if s.commodities.is_empty() {
            t.row(vec![
                s.source.to_string(),
                "-".into(),
                s.status.name().into(),
            ]);
            if let Some(e) = &s.error {
                problems.push(format!(
                    "{}: {}",
                    s.source,
                    unprefixed(e, s.source.as_str())
                ));
            }
        }
        for c in &s.commodities {
            t.row(vec![
                s.source.to_string(),
                c.commodity.to_string(),
                c.status.name().into(),
                c.counts.fetched.to_string(),
                c.counts.stored.to_string(),
                c.counts.unchanged.to_string(),
                c.counts.rejected.to_string(),
                c.missing.to_string(),
                score(c.quality_score),
            ]);
            if let Some(e) = &c.error {
                problems.push(format!(
                    "{} {}: {}",
                    s.source,
                    c.commodity,
                    unprefixed(e, s.source.as_str())
                ));
            }
        }
    }
    t.row(vec![
        "total".into(),
        String::new(),
        String::new(),
        r.counts.fetched.to_string(),
        r.counts.stored.to_string(),
        r.counts.unchanged.to_string(),
        r.counts.rejected.to_string(),
        r.sources.iter().map(|s| s.missing).sum::<u64>().to_string(),
    ]);
    out.push_str(&t.render());
    if let Some(e) = &r.error {
        problems.push(e.clone());
    }
    if !problems.is_empty() {
        out.push_str("\nproblems:\n");
        for p in problems {
            out.push_str(&format!("  - {p}\n"));
        }
    }
    if !r.notifications.is_empty() {
        out.push_str("\nnotifications:\n");
        for n in &r.notifications {
            match &n.error {
                None if n.delivered => out.push_str(&format!("  - {}: delivered\n", n.channel)),
                e => out.push_str(&format!(
                    "  - {}: NOT delivered: {}\n",
                    n.channel,
                    e.as_deref().unwrap_or("unknown error")
                )),
            }
        }
    }
    out
}

/// An error text without the `source: ` it may start with (the table names the source).
fn unprefixed<'a>(error: &'a str, source: &str) -> &'a str {
    error
        .strip_prefix(source)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(error)
}

fn mode_name(r: &RunReport) -> &'static str {
    match r.mode {
        energy_core::ModeKind::Incremental => "incremental",
        energy_core::ModeKind::FullRefresh => "full_refresh",
        energy_core::ModeKind::Backfill => "backfill",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_to_the_widest_cell() {
        let mut t = Table::new(&[("NAME", Align::Left), ("N", Align::Right)]);
        t.row(vec!["wti".into(), "1234".into()]);
        t.row(vec!["natural".into(), "5".into()]);
        assert_eq!(t.render(), "NAME        N\nwti      1234\nnatural     5\n");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.842), "0.84 s");
        assert_eq!(duration(12.34), "12.3 s");
        assert_eq!(duration(245.0), "4 min 05 s");
    }
}
