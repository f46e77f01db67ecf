//! Formatting for people: aligned text tables, durations and counts, shared by `run`, `runs` and
//! `export`'s messages. Tables are plain text (no colour) and fit 80 columns for the usual sizes.

use energy_core::RunReport;

/// How a column lines up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// The width every table and dashboard line fits.
pub const WIDTH: usize = 80;

/// `text` cut to `width` characters, marked with `…` where it was cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// A text table: a header row and data rows, every column as wide as its widest cell; when
/// that is wider than [`WIDTH`], the column marked to give way is cut (`…`).
#[derive(Debug)]
pub struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
    /// The column that gives way when the table is too wide.
    gives_way: Option<usize>,
}

impl Table {
    pub fn new(columns: &[(&'static str, Align)]) -> Self {
        Self {
            columns: columns.to_vec(),
            rows: Vec::new(),
            gives_way: None,
        }
    }

    /// Column `i` is cut when the table would be wider than [`WIDTH`].
    pub fn gives_way(mut self, i: usize) -> Self {
        self.gives_way = Some(i);
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self
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
        let total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        if let Some(i) = self.gives_way
            && total > WIDTH
        {
            let floor = self.columns[i].0.len().max(4);
            widths[i] = widths[i].saturating_sub(total - WIDTH).max(floor);
        }
        let mut out = String::new();
        let headers: Vec<String> = self.columns.iter().map(|(h, _)| (*h).to_owned()).collect();
        for cells in std::iter::once(&headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, ((_, align), width)) in self.columns.iter().zip(&widths).enumerate() {
                let cell = fit(cells.get(i).map(String::as_str).unwrap_or(""), *width);
                let cell = cell.as_str();
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

pub use energy_core::display::{duration, score, short_duration};

/// The summary of one run, as `run` prints it.
pub fn run_report(r: &RunReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "run {} ({}, {}): {} in {}\n",
        r.run_id,
        r.trigger.name(),
        r.mode.name(),
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
    ])
    .gives_way(1);
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

    /// Issue 13, item 14: with a long commodity code the run table went past 80 columns.
    #[test]
    fn the_run_table_fits_80_columns_with_the_longest_commodity_code() {
        use energy_core::{
            CommodityCode, CommodityReport, Counts, ModeKind, RunStatus, SourceId, SourceReport,
            SourceStatus, Trigger,
        };
        let code = CommodityCode::new("WEST_TEXAS_INTERMEDIATE_CUSHING_").unwrap();
        let counts = Counts {
            fetched: 960_030,
            stored: 960_030,
            unchanged: 0,
            rejected: 0,
        };
        let now = chrono::Utc::now();
        let report = RunReport {
            run_id: "r".into(),
            trigger: Trigger::Manual,
            scheduled_for: None,
            mode: ModeKind::Backfill,
            status: RunStatus::Success,
            started_at: now,
            finished_at: Some(now),
            duration_seconds: 1.0,
            window: None,
            sources: vec![SourceReport {
                source: SourceId::new("yahoo").unwrap(),
                status: SourceStatus::Success,
                counts,
                missing: 0,
                quality_score: 1.0,
                error: None,
                fetch_seconds: 0.1,
                requests: 1,
                commodities: vec![CommodityReport {
                    commodity: code,
                    status: SourceStatus::Success,
                    window: None,
                    counts,
                    missing: 0,
                    warnings: 0,
                    quality_score: 1.0,
                    error: None,
                    fetch_seconds: 0.1,
                }],
            }],
            counts,
            notifications: Vec::new(),
            error: None,
        };
        let text = run_report(&report);
        for line in text.lines() {
            assert!(
                line.chars().count() <= WIDTH,
                "{} chars: {line}",
                line.chars().count()
            );
        }
        assert!(text.contains("WEST_T…"), "{text}");
    }
}

/// Run history as a table (`runs`, and `status`'s last runs); fits 80 columns.
pub fn runs_table(runs: &[RunReport]) -> String {
    let mut t = Table::new(&[
        ("STARTED (UTC)", Align::Left),
        ("MODE", Align::Left),
        ("STATUS", Align::Left),
        ("TIME", Align::Right),
        ("FETCHED", Align::Right),
        ("STORED", Align::Right),
        ("REJECTED", Align::Right),
    ]);
    for run in runs {
        t.row(vec![
            run.started_at.format("%Y-%m-%d %H:%M").to_string(),
            format!(
                "{}{}",
                run.mode.name(),
                if run.trigger == energy_core::Trigger::Schedule {
                    "*"
                } else {
                    ""
                }
            ),
            run.status.name().to_owned(),
            if run.finished_at.is_some() {
                short_duration(run.duration_seconds)
            } else {
                "-".to_owned()
            },
            run.counts.fetched.to_string(),
            run.counts.stored.to_string(),
            run.counts.rejected.to_string(),
        ]);
    }
    let mut out = t.render();
    if runs
        .iter()
        .any(|r| r.trigger == energy_core::Trigger::Schedule)
    {
        out.push_str("* started by the scheduler\n");
    }
    out
}

/// ANSI colours, used only when stdout is a terminal and `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy)]
pub struct Paint(pub bool);

impl Paint {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    pub fn for_stdout() -> Self {
        use std::io::IsTerminal;
        Paint(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
    }

    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn good(&self, t: &str) -> String {
        self.wrap("32", t)
    }

    pub fn bad(&self, t: &str) -> String {
        self.wrap("31", t)
    }

    pub fn warn(&self, t: &str) -> String {
        self.wrap("33", t)
    }

    pub fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
}

/// `▁▂▃▄▅▆▇█` scaled between the smallest and the largest value.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    values
        .iter()
        .map(|v| {
            if hi > lo {
                BARS[(((v - lo) / (hi - lo)) * 7.0).round().clamp(0.0, 7.0) as usize]
            } else {
                BARS[3]
            }
        })
        .collect()
}

/// `text` word-wrapped to `width` columns, every line indented by `indent` spaces.
fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&format!("{}{line}\n", " ".repeat(indent)));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{}{line}\n", " ".repeat(indent)));
    }
    out
}

/// Pads `text` (which may hold colour codes) to `width` visible characters.
fn pad_right(text: &str, visible: usize, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(visible)))
}

/// The `status` dashboard for people: fits 80 columns.
pub fn status(r: &energy_orchestrator::status::StatusReport, paint: Paint) -> String {
    use energy_core::Freshness;
    use energy_orchestrator::daemon::SchedulerState;
    let mut out = String::new();
    let db = &r.database;
    let health = if db.healthy {
        paint.good("healthy")
    } else {
        paint.bad("UNREACHABLE")
    };
    // "PostgreSQL 15.20 (Debian …) on x86_64…, compiled by …": the product and version only
    let version = db
        .server_version
        .as_deref()
        .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "version unknown".to_owned());
    out.push_str(&format!(
        "{}  {} · {version} · TimescaleDB {} · {health}\n",
        paint.bold("DATABASE "),
        db.backend,
        if db.timescaledb { "yes" } else { "no" },
    ));
    if !db.healthy {
        out.push_str(&wrap(&db.message, 11, 80));
    } else if let Some(notice) = &db.notice {
        out.push_str(&wrap(notice, 11, 80));
    }
    if let Some(s) = &r.scheduler {
        let state = match s.state {
            SchedulerState::Running => paint.good(s.state.name()),
            SchedulerState::Dead => paint.bad(s.state.name()),
            SchedulerState::Stopped => paint.warn(s.state.name()),
        };
        let who = match (&s.host, s.pid) {
            (Some(h), Some(p)) if s.state != SchedulerState::Stopped => {
                format!(" on {h} (pid {p})")
            }
            _ => String::new(),
        };
        let next = match (&s.next_run_at, s.next_run_at_utc) {
            (Some(local), Some(utc)) => format!(
                "{} {} ({} UTC)",
                &local[..16.min(local.len())].replace('T', " "),
                s.timezone,
                utc.format("%Y-%m-%d %H:%M")
            ),
            _ => "none: no scheduler is running (`energy-pipeline schedule start`)".to_owned(),
        };
        out.push_str(&format!("{}  {state}{who}\n", paint.bold("SCHEDULER")));
        out.push_str(&format!("{}  {next}\n", paint.bold("NEXT FIRE")));
    }
    let c = &r.configured;
    let sources: Vec<String> = c
        .sources
        .iter()
        .map(|s| match (s.enabled, s.key_variable, s.key_set) {
            (false, _, _) => format!("{} (disabled)", s.name),
            (true, Some(var), false) => format!("{} (no {var})", s.name),
            _ => s.name.to_string(),
        })
        .collect();
    let codes: Vec<&str> = c.commodities.iter().map(|c| c.as_str()).collect();
    let config_line = format!("{} · sources {}", codes.join(", "), sources.join(", "));
    out.push_str(&paint.bold("CONFIG   "));
    out.push_str("  ");
    out.push_str(wrap(&config_line, 11, 80).trim_start());

    out.push('\n');
    if r.freshness.is_empty() {
        if db.healthy {
            out.push_str("no observations stored yet: run `energy-pipeline run`\n");
        }
    } else {
        out.push_str(&format!(
            "{}\n",
            paint.bold(&format!(
                "FRESHNESS (STALE after {} weekdays)",
                c.stale_after_days
            ))
        ));
        let rows: Vec<[String; 5]> = r
            .freshness
            .iter()
            .map(|s| {
                [
                    format!("{}/{}", s.commodity, s.source),
                    s.latest_date.map_or("-".to_owned(), |d| d.to_string()),
                    s.latest_value
                        .as_ref()
                        .map_or("-".to_owned(), |v| v.to_string()),
                    s.age_days.map_or("-".to_owned(), |a| format!("{a}d")),
                    s.state.name().to_owned(),
                ]
            })
            .collect();
        let head = ["SERIES", "LATEST", "VALUE", "AGE", "STATE"];
        let mut w: Vec<usize> = (0..5)
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([head[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        // the sparkline (or "no data yet") takes the last column; a long series name gives way
        let spark = energy_orchestrator::status::SPARK_VALUES as usize;
        let rest = w[1..].iter().sum::<usize>() + 2 * 5 + spark;
        w[0] = w[0].min(WIDTH.saturating_sub(rest)).max(head[0].len());
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {:<w4$}  LAST {}\n",
            head[0],
            head[1],
            head[2],
            head[3],
            head[4],
            energy_orchestrator::status::SPARK_VALUES,
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4]
        ));
        for (row, s) in rows.iter().zip(&r.freshness) {
            let state = match s.state {
                Freshness::Fresh => paint.good(&row[4]),
                Freshness::Stale => paint.bad(&row[4]),
            };
            out.push_str(&format!(
                "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {}  {}\n",
                fit(&row[0], w[0]),
                row[1],
                row[2],
                row[3],
                pad_right(&state, row[4].len(), w[4]),
                s.note.clone().unwrap_or_else(|| sparkline(&s.recent)),
                w0 = w[0],
                w1 = w[1],
                w2 = w[2],
                w3 = w[3],
            ));
        }
    }
    if !r.last_runs.is_empty() {
        out.push('\n');
        out.push_str(&format!("{}\n", paint.bold("LAST RUNS")));
        out.push_str(&runs_table(&r.last_runs));
    }
    out
}

#[cfg(test)]
mod status_tests {
    use chrono::{TimeZone, Utc};
    use energy_core::{CommodityCode, Counts, Freshness, ModeKind, RunStatus, SourceId, Trigger};
    use energy_orchestrator::{
        daemon::SchedulerState,
        status::{
            Configured, ConfiguredSource, DatabaseStatus, SchedulerStatus, SeriesStatus,
            StatusReport,
        },
    };

    use super::*;

    fn series(
        c: &str,
        s: &str,
        date: &str,
        value: &str,
        age: i64,
        wd: u32,
        state: Freshness,
    ) -> SeriesStatus {
        SeriesStatus {
            commodity: CommodityCode::new(c).unwrap(),
            source: SourceId::new(s).unwrap(),
            latest_date: Some(date.parse().unwrap()),
            latest_value: Some(value.parse().unwrap()),
            unit: "USD/bbl".into(),
            age_days: Some(age),
            age_weekdays: Some(wd),
            state,
            note: None,
            recent: (0..30).map(|i| 60.0 + ((i * 7) % 11) as f64).collect(),
        }
    }

    fn run(scheduled: bool, status: RunStatus, seconds: f64) -> RunReport {
        let started = Utc.with_ymd_and_hms(2026, 11, 23, 11, 0, 0).unwrap();
        RunReport {
            run_id: "r".into(),
            trigger: if scheduled {
                Trigger::Schedule
            } else {
                Trigger::Manual
            },
            scheduled_for: None,
            mode: ModeKind::FullRefresh,
            status,
            started_at: started,
            finished_at: Some(started),
            duration_seconds: seconds,
            window: None,
            sources: vec![],
            counts: Counts {
                fetched: 1_234_567,
                stored: 1_234_000,
                unchanged: 0,
                rejected: 567,
            },
            notifications: vec![],
            error: None,
        }
    }

    /// A fixed dashboard: Monday 2026-11-23, Friday's prices fresh, an old series stale.
    fn report() -> StatusReport {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        StatusReport {
            generated_at: now,
            database: DatabaseStatus {
                healthy: true,
                backend: "postgres".into(),
                server_version: Some("PostgreSQL 15.20".into()),
                timescaledb: true,
                message: "ok".into(),
                notice: None,
            },
            freshness: vec![
                series(
                    "BRENT",
                    "eia",
                    "2026-11-20",
                    "63.82",
                    3,
                    1,
                    Freshness::Fresh,
                ),
                series(
                    "NATGAS",
                    "fred",
                    "2026-11-20",
                    "3.1",
                    3,
                    1,
                    Freshness::Fresh,
                ),
                series(
                    "WEST_TEXAS_INTERMEDIATE_CUSHING_",
                    "yahoo",
                    "2026-11-20",
                    "58.1",
                    3,
                    1,
                    Freshness::Fresh,
                ),
                SeriesStatus {
                    latest_date: None,
                    latest_value: None,
                    age_days: None,
                    age_weekdays: None,
                    state: Freshness::Stale,
                    note: Some("no data yet".into()),
                    recent: Vec::new(),
                    ..series("NATGAS", "yahoo", "2026-11-20", "0", 0, 0, Freshness::Stale)
                },
                series(
                    "WTI",
                    "eia",
                    "2026-08-18",
                    "-36.98",
                    97,
                    69,
                    Freshness::Stale,
                ),
            ],
            last_runs: vec![
                run(true, RunStatus::Interrupted, 245.0),
                run(false, RunStatus::Success, 0.84),
            ],
            scheduler: Some(SchedulerStatus {
                state: SchedulerState::Running,
                host: Some("desk-1".into()),
                pid: Some(4242),
                heartbeat_at: Some(now),
                schedule: "0 6 * * *".into(),
                timezone: "America/New_York".into(),
                next_run_at: Some("2026-11-24T06:00:00-05:00".into()),
                next_run_at_utc: Some(Utc.with_ymd_and_hms(2026, 11, 24, 11, 0, 0).unwrap()),
            }),
            configured: Configured {
                commodities: ["BRENT", "NATGAS", "WTI"]
                    .map(|c| CommodityCode::new(c).unwrap())
                    .to_vec(),
                sources: vec![
                    ConfiguredSource {
                        name: SourceId::new("eia").unwrap(),
                        enabled: true,
                        key_variable: Some("EIA_API_KEY"),
                        key_set: true,
                    },
                    ConfiguredSource {
                        name: SourceId::new("fred").unwrap(),
                        enabled: true,
                        key_variable: Some("FRED_API_KEY"),
                        key_set: false,
                    },
                ],
                stale_after_days: 2,
            },
        }
    }

    #[test]
    fn status_for_people_fits_80_columns() {
        let text = status(&report(), Paint(false));
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} chars: {line}",
                line.chars().count()
            );
        }
        insta::assert_snapshot!(text);
    }

    #[test]
    fn colour_only_when_asked() {
        assert!(!status(&report(), Paint(false)).contains('\x1b'));
        let coloured = status(&report(), Paint(true));
        assert!(coloured.contains("\x1b[31mSTALE\x1b[0m"), "{coloured}");
        assert!(coloured.contains("\x1b[32mFRESH\x1b[0m"));
    }

    #[test]
    fn sparkline_spans_the_range() {
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 8.0]), "▁▂▃█");
        assert_eq!(sparkline(&[5.0, 5.0]), "▄▄");
        assert_eq!(sparkline(&[]), "");
    }
}
