//! What the messages say: the email's subject, plain-text and HTML bodies, and the Slack
//! payload, all from one run report. Pure functions, snapshot-tested.

use energy_core::{RunReport, RunStatus, SourceStatus};
use slack_hook::{AttachmentBuilder, Field, Payload, PayloadBuilder};

/// `[energy-pipeline] PARTIAL: full_refresh run of 2026-11-25 (2 of 3 sources ok)`.
pub fn subject(r: &RunReport, test: bool) -> String {
    let counted: Vec<_> = r
        .sources
        .iter()
        .filter(|s| s.status != SourceStatus::Skipped)
        .collect();
    let ok = counted
        .iter()
        .filter(|s| s.status == SourceStatus::Success)
        .count();
    format!(
        "[energy-pipeline]{} {}: {} run of {} ({ok} of {} sources ok)",
        if test { " TEST" } else { "" },
        status_word(r.status),
        r.mode.name(),
        r.started_at.format("%Y-%m-%d"),
        counted.len()
    )
}

pub fn status_word(s: RunStatus) -> String {
    s.name().to_uppercase()
}

use energy_core::display::duration;
pub use energy_core::display::score;

const COLUMNS: [&str; 7] = [
    "SOURCE",
    "STATUS",
    "FETCHED",
    "STORED",
    "UNCHANGED",
    "REJECTED",
    "QUALITY",
];

/// One row per source, in the order of [`COLUMNS`].
fn rows(r: &RunReport) -> Vec<[String; 7]> {
    r.sources
        .iter()
        .map(|s| {
            [
                s.source.to_string(),
                s.status.name().to_owned(),
                s.counts.fetched.to_string(),
                s.counts.stored.to_string(),
                s.counts.unchanged.to_string(),
                s.counts.rejected.to_string(),
                score(s.quality_score),
            ]
        })
        .collect()
}

/// Problems worth reading: each source's error, and the run's own.
fn problems(r: &RunReport) -> Vec<String> {
    let mut out: Vec<String> = r
        .sources
        .iter()
        .filter_map(|s| s.error.as_ref().map(|e| (s, e)))
        .map(|(s, e)| format!("{}: {e}", s.source))
        .collect();
    if let Some(e) = &r.error {
        out.push(e.clone());
    }
    out
}

fn header_lines(r: &RunReport, test: bool) -> Vec<String> {
    let mut lines = Vec::new();
    if test {
        lines.push(
            "This is a TEST message from `energy-pipeline notify test`: the data below is an example, no run took place.".to_owned(),
        );
        lines.push(String::new());
    }
    lines.push(format!(
        "Run {} finished: {}",
        r.run_id,
        status_word(r.status)
    ));
    lines.push(format!("Mode: {} ({})", r.mode.name(), r.trigger.name()));
    if let Some(w) = r.window {
        lines.push(format!("Window: {} .. {}", w.start(), w.end()));
    }
    lines.push(format!(
        "Started: {}   Duration: {}",
        energy_core::display::utc_time(r.started_at),
        duration(r.duration_seconds)
    ));
    lines.push(format!(
        "Fetched {} · stored {} · unchanged {} · rejected {}",
        r.counts.fetched, r.counts.stored, r.counts.unchanged, r.counts.rejected
    ));
    lines
}

/// The plain-text body: the run summary and a table per source.
pub fn text_body(r: &RunReport, test: bool) -> String {
    let mut out = header_lines(r, test).join("\n");
    out.push_str("\n\n");
    let rows = rows(r);
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|i| {
            rows.iter()
                .map(|row| row[i].chars().count())
                .chain([COLUMNS[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let header: [String; 7] = COLUMNS.map(str::to_owned);
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let w = widths[i];
            if i < 2 {
                line.push_str(&format!("{cell:<w$}"));
            } else {
                line.push_str(&format!("{cell:>w$}"));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let problems = problems(r);
    if !problems.is_empty() {
        out.push_str("\nProblems:\n");
        for p in problems {
            out.push_str(&format!("  - {p}\n"));
        }
    }
    out
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML alternative: the same summary and table.
pub fn html_body(r: &RunReport, test: bool) -> String {
    let color = match r.status {
        RunStatus::Success => "#2e7d32",
        RunStatus::Partial => "#b26a00",
        _ => "#c62828",
    };
    let mut out = String::from("<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n");
    for (i, line) in header_lines(r, test).iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        if i == 0 && test {
            out.push_str(&format!("<p><strong>{}</strong></p>\n", escape(line)));
        } else if line.starts_with("Run ") {
            out.push_str(&format!(
                "<h2 style=\"color: {color}\">{}</h2>\n",
                escape(line)
            ));
        } else {
            out.push_str(&format!("<p>{}</p>\n", escape(line)));
        }
    }
    out.push_str("<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\">\n<tr>");
    for c in COLUMNS {
        out.push_str(&format!("<th>{c}</th>"));
    }
    out.push_str("</tr>\n");
    for row in rows(r) {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let align = if i < 2 { "left" } else { "right" };
            out.push_str(&format!(
                "<td style=\"text-align: {align}\">{}</td>",
                escape(cell)
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    let problems = problems(r);
    if !problems.is_empty() {
        out.push_str("<h3>Problems</h3>\n<ul>\n");
        for p in problems {
            out.push_str(&format!("<li>{}</li>\n", escape(&p)));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// Slack's attachment colour for a status.
pub fn slack_color(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Success => "good",
        RunStatus::Partial => "warning",
        _ => "danger",
    }
}

/// The Slack payload: a line of text and an attachment coloured by status, with fields for
/// mode, duration, records fetched and stored, and a line per failed source.
pub fn slack_payload(r: &RunReport, test: bool) -> Result<Payload, slack_hook::Error> {
    let title = format!(
        "{}energy-pipeline {} run: {}",
        if test { "TEST: " } else { "" },
        r.mode.name(),
        status_word(r.status)
    );
    let failed: Vec<String> = r
        .sources
        .iter()
        .filter(|s| matches!(s.status, SourceStatus::Failed | SourceStatus::Partial))
        .map(|s| {
            let e = s
                .error
                .as_ref()
                .map_or("no error recorded", |e| e.message.as_str());
            format!("• {} ({}): {e}", s.source, s.status.name())
        })
        .collect();
    let mut text = if test {
        "This is a test message from `energy-pipeline notify test`; no run took place.".to_owned()
    } else {
        format!("Run {}", r.run_id)
    };
    if !failed.is_empty() {
        text.push('\n');
        text.push_str(&failed.join("\n"));
    }
    let field = |title: &str, value: String| Field::new(title, value, Some(true));
    let attachment = AttachmentBuilder::new(format!(
        "{title}: fetched {}, stored {}",
        r.counts.fetched, r.counts.stored
    ))
    .title(title.clone())
    .color(slack_color(r.status))
    .text(text)
    .fields(vec![
        field("Mode", format!("{} ({})", r.mode.name(), r.trigger.name())),
        field("Duration", duration(r.duration_seconds)),
        field("Fetched", r.counts.fetched.to_string()),
        field("Stored", r.counts.stored.to_string()),
        field("Unchanged", r.counts.unchanged.to_string()),
        field("Rejected", r.counts.rejected.to_string()),
    ])
    .build()?;
    PayloadBuilder::new()
        .text(title)
        .username("energy-pipeline")
        .attachments(vec![attachment])
        .build()
}
