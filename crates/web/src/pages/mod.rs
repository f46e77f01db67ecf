//! The server-rendered pages (no JavaScript, nothing fetched from elsewhere). `/`: database
//! health, the scheduler, every series' freshness with a small chart, the last runs;
//! `/series/{commodity}` (`series`); `/runs`, `/runs/{id}` and `/quarantine` (`runs`).

mod chart;
mod html;
mod runs;
mod series;

pub(crate) use runs::{quarantine, run, runs};
pub(crate) use series::series;

use axum::{
    extract::State,
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use energy_core::display::short_duration;
use energy_orchestrator::status::{self, StatusReport};

use crate::Endpoints;
use html::{escape, page, spark};

/// Runs the home page lists.
const HOME_RUNS: u32 = 10;

pub(crate) async fn home(State(e): State<Endpoints>) -> Response {
    let now = (e.clock)();
    let report = status::collect(&e.config, &e.secrets, &e.store, now, HOME_RUNS).await;
    let code = if report.database.healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Html(page("Dashboard", &home_body(&e, &report)))).into_response()
}

fn home_body(e: &Endpoints, r: &StatusReport) -> String {
    let mut out = String::from("<h1>energy-pipeline</h1>\n");
    let db = &r.database;
    out.push_str(&format!(
        "<p>Database: {} · {} · TimescaleDB {} · <span class=\"{}\">{}</span></p>\n",
        escape(&db.backend),
        escape(db.server_version.as_deref().unwrap_or("version unknown")),
        if db.timescaledb { "yes" } else { "no" },
        if db.healthy { "ok" } else { "bad" },
        if db.healthy {
            "healthy".to_owned()
        } else {
            format!("UNREACHABLE: {}", escape(&db.message))
        },
    ));
    if let Some(s) = &r.scheduler {
        out.push_str(&format!(
            "<p>Scheduler: {} · next fire {}</p>\n",
            escape(s.state.name()),
            s.next_run_at.as_deref().map_or(
                "none (no scheduler is running)".to_owned(),
                |t| format!("{} ({})", escape(t), escape(&s.timezone))
            ),
        ));
    }
    out.push_str("<h2>Freshness</h2>\n<table id=\"freshness\"><thead><tr><th>Series</th><th>Latest</th><th>Expected</th><th>Value</th><th>State</th><th>Gaps (1 y)</th><th>Last 30</th></tr></thead><tbody>\n");
    for s in &r.freshness {
        let name = e
            .config
            .commodities
            .get(&s.commodity)
            .map_or(String::new(), |c| c.name.clone());
        let label = format!("{}/{}", s.commodity, s.source);
        out.push_str(&format!(
            "<tr data-series=\"{}\"><td title=\"{}\"><a href=\"/series/{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td><span class=\"badge {}\">{}</span></td><td class=\"num\">{}</td><td>{}</td></tr>\n",
            escape(&label),
            escape(&name),
            escape(s.commodity.as_str()),
            escape(&label),
            s.latest_date.map_or("-".to_owned(), |d| d.to_string()),
            s.expected_date,
            s.latest_value
                .as_ref()
                .map_or("-".to_owned(), |v| format!("{v} {}", escape(&s.unit))),
            s.state.name(),
            s.state.name(),
            s.missing_periods.map_or("-".to_owned(), |g| g.to_string()),
            match &s.note {
                Some(note) => format!("<span class=\"note\">{}</span>", escape(note)),
                None => spark(&s.recent, 122, 24, &label),
            },
        ));
    }
    out.push_str("</tbody></table>\n<h2>Last runs <a class=\"note\" href=\"/runs\">all</a> <a class=\"note\" href=\"/quarantine\">quarantine</a></h2>\n<table id=\"runs\"><thead><tr><th>Started (UTC)</th><th>Trigger</th><th>Mode</th><th>Status</th><th>Time</th><th>Fetched</th><th>Stored</th><th>Rejected</th></tr></thead><tbody>\n");
    for run in &r.last_runs {
        out.push_str(&format!(
            "<tr><td><a href=\"/runs/{}\">{}</a></td><td>{}</td><td>{}</td><td><span class=\"badge {}\">{}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            escape(&run.run_id),
            energy_core::display::utc_time(run.started_at),
            run.trigger.name(),
            run.mode.name(),
            run.status.name(),
            run.status.name(),
            short_duration(run.duration_seconds),
            run.counts.fetched,
            run.counts.stored,
            run.counts.rejected,
        ));
    }
    out.push_str("</tbody></table>\n");
    if let Some(last) = r.last_runs.first()
        && last.cross_source_warnings > 0
    {
        out.push_str(&format!(
            "<h2>Sources disagree ({} in the last run)</h2>\n<ul>\n",
            last.cross_source_warnings
        ));
        for w in &last.cross_source {
            out.push_str(&format!("<li>{}</li>\n", escape(&w.message)));
        }
        out.push_str("</ul>\n");
    }
    out
}
