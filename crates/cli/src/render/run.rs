//! A run for people: the report `run` prints, and the run history table of `runs` and `status`.

use energy_core::RunReport;

use energy_core::text::printable;

use super::{Align, Table, WIDTH, duration, fit, score, short_duration};

/// The summary of one run, as `run` prints it.
pub(crate) fn run_report(r: &RunReport) -> String {
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
                problems.push(format!("{}: {e}", s.source));
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
                problems.push(format!("{} {}: {e}", s.source, c.commodity));
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
    let older: Vec<String> = r
        .sources
        .iter()
        .flat_map(|s| {
            s.commodities
                .iter()
                .filter(|c| c.older_gaps > 0)
                .map(move |c| {
                    format!(
                        "  - {}/{}: {} trading day{} without a value before {} (`energy-pipeline gaps --commodity {} --source {}`; a backfill over them fetches them again)\n",
                        c.commodity,
                        s.source,
                        c.older_gaps,
                        if c.older_gaps == 1 { "" } else { "s" },
                        c.window.map_or(String::new(), |w| w.start().to_string()),
                        c.commodity,
                        s.source
                    )
                })
        })
        .collect();
    if !older.is_empty() {
        out.push_str("\ngaps older than this run's window:\n");
        out.push_str(&older.concat());
    }
    out.push_str(&cross_source(r, usize::MAX));
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

/// A run's cross-source warnings, at most `shown` of those listed, with the count of the rest.
pub(crate) fn cross_source(r: &RunReport, shown: usize) -> String {
    if r.cross_source_warnings == 0 {
        return String::new();
    }
    let mut out = format!(
        "\nsources disagree ({} warning{}):\n",
        r.cross_source_warnings,
        if r.cross_source_warnings == 1 {
            ""
        } else {
            "s"
        }
    );
    for w in r.cross_source.iter().take(shown) {
        out.push_str(&format!("  - {}\n", w.message));
    }
    let rest = r.cross_source_warnings - r.cross_source.len().min(shown) as u64;
    if rest > 0 {
        out.push_str(&format!(
            "  … and {rest} more (`energy-pipeline runs --json`)\n"
        ));
    }
    out
}

/// Run history as a table (`runs`, and `status`'s last runs); fits 80 columns. Each run that
/// did not succeed is followed by a line with its id and why, cut to the width.
pub(crate) fn runs_table(runs: &[RunReport]) -> String {
    let mut t = Table::new(&[
        ("STARTED (UTC)", Align::Left),
        ("MODE", Align::Left),
        ("STATUS", Align::Left),
        ("TIME", Align::Right),
        ("FETCHED", Align::Right),
        ("STORED", Align::Right),
        ("REJECTED", Align::Right),
    ])
    .gives_way(1);
    for run in runs {
        t.row(vec![
            energy_core::display::utc_cell(run.started_at),
            format!(
                "{}{}{}",
                run.mode.name(),
                if run.trigger == energy_core::Trigger::Schedule {
                    "*"
                } else {
                    ""
                },
                match run.attempt {
                    Some(n) if n > 1 => format!(" #{n}"),
                    _ => String::new(),
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
    let table = t.render();
    let mut lines = table.lines();
    let mut out = String::new();
    if let Some(head) = lines.next() {
        out.push_str(head);
        out.push('\n');
    }
    for (line, run) in lines.zip(runs) {
        out.push_str(line);
        out.push('\n');
        if run.status != energy_core::RunStatus::Success
            && run.status != energy_core::RunStatus::Running
        {
            let why = run
                .failure_summary()
                .unwrap_or_else(|| "no error recorded".to_owned());
            out.push_str(&fit(
                &format!("  └ {}: {}", run.run_id, printable(&why)),
                WIDTH,
            ));
            out.push('\n');
        }
    }
    if runs
        .iter()
        .any(|r| r.trigger == energy_core::Trigger::Schedule)
    {
        out.push_str("* started by the scheduler\n");
    }
    if runs.iter().any(|r| r.attempt.is_some_and(|n| n > 1)) {
        out.push_str(
            "#N: attempt N at its fire time (an earlier attempt's scheduler died or stalled)\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
            cross_source: Vec::new(),
            cross_source_warnings: 0,
            run_id: "r".into(),
            trigger: Trigger::Manual,
            scheduled_for: None,
            attempt: None,
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
                    older_gaps: 0,
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
        assert!(text.contains("WEST_TEXAS_INT…"), "{text}");
    }

    /// Issue 26: `runs` shows which attempt at its fire time a scheduled run was, when a
    /// takeover made it a later one.
    #[test]
    fn the_runs_table_shows_a_taken_over_runs_attempt() {
        use energy_core::{Counts, ModeKind, RunStatus, Trigger};
        let now = chrono::Utc::now();
        let run = |id: &str, attempt: Option<u32>| RunReport {
            cross_source: Vec::new(),
            cross_source_warnings: 0,
            run_id: id.into(),
            trigger: Trigger::Schedule,
            scheduled_for: Some(now),
            attempt,
            mode: ModeKind::Incremental,
            status: RunStatus::Success,
            started_at: now,
            finished_at: Some(now),
            duration_seconds: 1.0,
            window: None,
            sources: Vec::new(),
            counts: Counts::default(),
            notifications: Vec::new(),
            error: None,
        };
        let first = runs_table(&[run("a", Some(1))]);
        assert!(!first.contains('#'), "{first}");
        let text = runs_table(&[run("b", Some(2)), run("a", Some(1))]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].contains("incremental* #2"), "{text}");
        assert!(!lines[2].contains('#'), "{text}");
        assert!(text.contains("#N: attempt N at its fire time"), "{text}");
        for line in &lines {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
    }
}
