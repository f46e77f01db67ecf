//! `/runs` (the run history) and `/runs/{id}` (one run's full report: per source and
//! commodity, errors, notifications, cross-source warnings), and `/quarantine` (rejected rows
//! with rule, reason and run, filterable by series).

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use energy_core::{CommodityCode, RunReport, SourceId, display::short_duration};
use energy_orchestrator::status::report_of;
use energy_storage::{QuarantineFilter, QuarantineRecord};
use serde::Deserialize;

use super::html::{escape, page};
use crate::{Endpoints, unavailable};

/// Runs `/runs` lists.
const RUNS_LISTED: u32 = 200;

fn badge(status: &str) -> String {
    format!("<span class=\"badge {s}\">{s}</span>", s = escape(status))
}

/// The trigger, with the attempt of a fire time taken over (`schedule, attempt 2`).
fn trigger(r: &RunReport) -> String {
    match r.attempt {
        Some(n) if n > 1 => format!("{}, attempt {n}", r.trigger.name()),
        _ => r.trigger.name().to_owned(),
    }
}

pub(crate) async fn runs(State(e): State<Endpoints>) -> Response {
    let records = match e.store.runs().recent(RUNS_LISTED).await {
        Ok(r) => r,
        Err(err) => return unavailable(err),
    };
    let mut out = String::from(
        "<p><a href=\"/\">Dashboard</a></p>\n<h1>Runs</h1>\n<table id=\"runs\"><thead><tr><th>Started (UTC)</th><th>Trigger</th><th>Mode</th><th>Status</th><th>Time</th><th>Fetched</th><th>Stored</th><th>Rejected</th></tr></thead><tbody>\n",
    );
    for r in records.iter().map(report_of) {
        out.push_str(&format!(
            "<tr><td><a href=\"/runs/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            escape(&r.run_id),
            energy_core::display::utc_time(r.started_at),
            trigger(&r),
            r.mode.name(),
            badge(r.status.name()),
            short_duration(r.duration_seconds),
            r.counts.fetched,
            r.counts.stored,
            r.counts.rejected
        ));
    }
    out.push_str("</tbody></table>\n");
    Html(page("Runs", &out)).into_response()
}

pub(crate) async fn run(State(e): State<Endpoints>, Path(id): Path<String>) -> Response {
    match e.store.runs().by_uuid(&id).await {
        Ok(Some(r)) => Html(page("Run", &run_body(&report_of(&r)))).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Html(page(
                "Not found",
                &format!(
                    "<h1>No run {}</h1>\n<p><a href=\"/runs\">Runs</a></p>\n",
                    escape(&id)
                ),
            )),
        )
            .into_response(),
        Err(err) => unavailable(err),
    }
}

fn run_body(r: &RunReport) -> String {
    let mut out = format!(
        "<p><a href=\"/runs\">Runs</a></p>\n<h1>Run {} {}</h1>\n<p>{} · {} · started {} UTC · {}</p>\n",
        escape(&r.run_id),
        badge(r.status.name()),
        trigger(r),
        r.mode.name(),
        energy_core::display::utc_time(r.started_at),
        short_duration(r.duration_seconds)
    );
    if let Some(e) = &r.error {
        out.push_str(&format!("<p class=\"bad\">{}</p>\n", escape(e)));
    }
    out.push_str("<table id=\"batches\"><thead><tr><th>Source</th><th>Commodity</th><th>Status</th><th>Window</th><th>Fetched</th><th>Stored</th><th>Unchanged</th><th>Rejected</th><th>Error</th></tr></thead><tbody>\n");
    for s in &r.sources {
        if s.commodities.is_empty() {
            out.push_str(&format!(
                "<tr><td>{}</td><td>-</td><td>{}</td><td></td><td></td><td></td><td></td><td></td><td>{}</td></tr>\n",
                escape(s.source.as_str()),
                badge(s.status.name()),
                escape(s.error.as_ref().map_or("", |e| e.message.as_str()))
            ));
        }
        for c in &s.commodities {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                escape(s.source.as_str()),
                escape(c.commodity.as_str()),
                badge(c.status.name()),
                c.window.map_or(String::new(), |w| format!("{}..{}", w.start(), w.end())),
                c.counts.fetched,
                c.counts.stored,
                c.counts.unchanged,
                c.counts.rejected,
                escape(c.error.as_ref().map_or("", |e| e.message.as_str()))
            ));
        }
    }
    out.push_str("</tbody></table>\n");
    if !r.notifications.is_empty() {
        out.push_str("<h2>Notifications</h2>\n<ul>\n");
        for n in &r.notifications {
            out.push_str(&format!(
                "<li>{}: {}</li>\n",
                escape(&n.channel),
                if n.delivered {
                    "delivered".to_owned()
                } else {
                    format!(
                        "<span class=\"bad\">NOT delivered: {}</span>",
                        escape(n.error.as_deref().unwrap_or("unknown error"))
                    )
                }
            ));
        }
        out.push_str("</ul>\n");
    }
    if r.cross_source_warnings > 0 {
        out.push_str(&format!(
            "<h2>Sources disagree ({})</h2>\n<ul>\n",
            r.cross_source_warnings
        ));
        for w in &r.cross_source {
            out.push_str(&format!("<li>{}</li>\n", escape(&w.message)));
        }
        out.push_str("</ul>\n");
    }
    out
}

#[derive(Debug, Deserialize)]
pub(crate) struct QuarantineQuery {
    commodity: Option<String>,
    source: Option<String>,
}

/// Rows the quarantine page shows at most (the newest).
const QUARANTINE_PAGE_ROWS: u32 = 1000;

pub(crate) async fn quarantine(
    State(e): State<Endpoints>,
    Query(q): Query<QuarantineQuery>,
) -> Response {
    fn wanted(text: &Option<String>) -> Option<&str> {
        text.as_deref().filter(|t| !t.is_empty())
    }
    // a filter naming something that is no code matches nothing
    let commodity = wanted(&q.commodity).map(CommodityCode::new);
    let source = wanted(&q.source).map(SourceId::new);
    let (rows, total) = match (commodity, source) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => (Vec::new(), 0),
        (commodity, source) => {
            let filter = QuarantineFilter {
                commodity: commodity.and_then(Result::ok),
                source: source.and_then(Result::ok),
                limit: Some(QUARANTINE_PAGE_ROWS),
                run: None,
            };
            match e.store.quarantine().newest(&filter).await {
                Ok(r) => r,
                Err(err) => return unavailable(err),
            }
        }
    };
    let mut out = format!(
        "<p><a href=\"/\">Dashboard</a></p>\n<h1>Quarantine</h1>\n<form method=\"get\">Commodity <input name=\"commodity\" value=\"{}\"> Source <input name=\"source\" value=\"{}\"> <button>Filter</button></form>\n<p>{total} rejected rows match{}</p>\n",
        escape(q.commodity.as_deref().unwrap_or("")),
        escape(q.source.as_deref().unwrap_or("")),
        if (rows.len() as u64) < total {
            format!("; the newest {} are shown", rows.len())
        } else {
            String::new()
        }
    );
    out.push_str(&quarantine_table(&rows));
    Html(page("Quarantine", &out)).into_response()
}

/// Quarantined rows as a table (id `quarantine`), each linked to its run.
pub(crate) fn quarantine_table(rows: &[QuarantineRecord]) -> String {
    let mut out = String::from(
        "<table id=\"quarantine\"><thead><tr><th>Series</th><th>Date</th><th>Value received</th><th>Rule</th><th>Reason</th><th>Run</th></tr></thead><tbody>\n",
    );
    for r in rows {
        let j = &r.rejection;
        let run = match &r.run_uuid {
            Some(uuid) => format!("<a href=\"/runs/{0}\">{0}</a>", escape(uuid)),
            None => "-".to_owned(),
        };
        out.push_str(&format!(
            "<tr><td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{run}</td></tr>\n",
            escape(j.commodity.as_str()),
            escape(j.source.as_str()),
            j.date,
            escape(&j.raw_value),
            escape(j.rule.name()),
            escape(&j.reason),
        ));
    }
    out.push_str("</tbody></table>\n");
    out
}
