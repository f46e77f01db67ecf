//! `GET /metrics`: the Prometheus text format, read from the database at each scrape; every
//! series judged as `status` judges it.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use energy_core::{CommodityCode, Freshness, RunStatus, SourceId};

use crate::Endpoints;

fn unix(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A market date as the Unix time of its midnight UTC.
fn day_seconds(day: chrono::NaiveDate) -> f64 {
    day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp() as f64
}

/// The metrics, in Prometheus text format.
pub async fn metrics(e: &Endpoints) -> Result<String, energy_storage::StoreError> {
    let now = (e.clock)();
    let runs = e.store.recent_runs(200).await?;
    let by_status = e.store.run_counts_by_status().await?;
    let stored = e.store.observations_by_source().await?;
    let freshness = e.store.freshness().await?;
    let since = energy_orchestrator::status::gaps_since(now);
    let stored_since = e.store.stored_since(since).await?;
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            // Prometheus' text format spells infinity +Inf
            if value == f64::INFINITY {
                let _ = writeln!(out, "{name}{labels} +Inf");
            } else {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        }
    };
    family(
        "energy_pipeline_scheduler_up",
        "gauge",
        "1 while the scheduler loop turns (absent where no scheduler runs: `energy-pipeline serve`).",
        e.liveness
            .as_ref()
            .map(|l| {
                let up = l
                    .loop_age(now)
                    .is_some_and(|a| a <= e.loop_timeout.as_secs_f64());
                (String::new(), if up { 1.0 } else { 0.0 })
            })
            .into_iter()
            .collect(),
    );
    let last = runs.iter().find(|r| r.status != RunStatus::Running);
    family(
        "energy_pipeline_last_run_timestamp_seconds",
        "gauge",
        "When the last finished run started (Unix time).",
        last.map(|r| (String::new(), unix(r.started_at)))
            .into_iter()
            .collect(),
    );
    let last_success = runs.iter().find(|r| r.status == RunStatus::Success);
    family(
        "energy_pipeline_last_success_timestamp_seconds",
        "gauge",
        "When the last successful run started (Unix time).",
        last_success
            .map(|r| (String::new(), unix(r.started_at)))
            .into_iter()
            .collect(),
    );
    family(
        "energy_pipeline_runs_total",
        "counter",
        "Runs recorded, by status.",
        by_status
            .iter()
            .map(|(s, n)| (format!("{{status=\"{}\"}}", label(s)), *n as f64))
            .collect(),
    );
    family(
        "energy_pipeline_observations_stored",
        "gauge",
        "Observations in the store, by source.",
        stored
            .iter()
            .map(|(s, n)| (format!("{{source=\"{}\"}}", label(s)), *n as f64))
            .collect(),
    );
    let fetch: Vec<(String, f64)> = last
        .and_then(|r| r.report.as_ref())
        .map(|report| {
            report
                .sources
                .iter()
                .map(|s| {
                    (
                        format!("{{source=\"{}\"}}", label(s.source.as_str())),
                        s.fetch_seconds,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    family(
        "energy_pipeline_fetch_duration_seconds",
        "gauge",
        "Time spent fetching from each source in the last finished run.",
        fetch,
    );
    let series = energy_orchestrator::status::every_series(&e.config, freshness);
    let series_label = |commodity: &CommodityCode, source: &SourceId| {
        format!(
            "commodity=\"{}\",source=\"{}\"",
            label(commodity.as_str()),
            label(source.as_str())
        )
    };
    family(
        "energy_pipeline_series_age_days",
        "gauge",
        "Days since the latest stored observation of each series (+Inf: no data yet).",
        series
            .iter()
            .map(|(commodity, source, latest)| {
                (
                    format!("{{{}}}", series_label(commodity, source)),
                    latest.as_ref().map_or(f64::INFINITY, |l| {
                        (e.config.market_today(commodity, now) - l.latest_date).num_days() as f64
                    }),
                )
            })
            .collect(),
    );
    let judged: Vec<_> = series
        .iter()
        .map(|(commodity, source, latest)| {
            let latest_date = latest.as_ref().map(|l| l.latest_date);
            let (judgement, _, calendar) =
                energy_orchestrator::status::judge(&e.config, commodity, source, latest_date, now);
            (series_label(commodity, source), latest, judgement, calendar)
        })
        .collect();
    family(
        "energy_pipeline_series_latest_date_timestamp_seconds",
        "gauge",
        "The latest stored market date of each series (Unix time of its midnight UTC).",
        judged
            .iter()
            .filter_map(|(l, latest, _, _)| {
                latest
                    .as_ref()
                    .map(|s| (format!("{{{l}}}"), day_seconds(s.latest_date)))
            })
            .collect(),
    );
    family(
        "energy_pipeline_series_expected_date_timestamp_seconds",
        "gauge",
        "The latest market date each series' source should have published by now (Unix time of its midnight UTC).",
        judged
            .iter()
            .map(|(l, _, j, _)| (format!("{{{l}}}"), day_seconds(j.expected)))
            .collect(),
    );
    family(
        "energy_pipeline_series_state",
        "gauge",
        "1 for each series' freshness state (FRESH, LATE or STALE), 0 for the others.",
        judged
            .iter()
            .flat_map(|(l, _, j, _)| {
                [Freshness::Fresh, Freshness::Late, Freshness::Stale].map(|state| {
                    (
                        format!("{{{l},state=\"{}\"}}", state.name()),
                        f64::from(u8::from(j.state == state)),
                    )
                })
            })
            .collect(),
    );
    family(
        "energy_pipeline_series_missing_trading_days",
        "gauge",
        "Trading days without a value in the last 365 days of each series' history (as `status` counts them).",
        judged
            .iter()
            .filter_map(|(l, latest, _, calendar)| {
                latest.as_ref().map(|s| {
                    let (gaps, _) = energy_orchestrator::status::recent_gaps(
                        *calendar,
                        s,
                        since,
                        &stored_since,
                    );
                    (format!("{{{l}}}"), gaps as f64)
                })
            })
            .collect(),
    );
    family(
        "energy_pipeline_next_fire_timestamp_seconds",
        "gauge",
        "The scheduler's next fire time (Unix time).",
        e.liveness
            .as_ref()
            .and_then(|l| l.next_fire())
            .map(|t| (String::new(), unix(t)))
            .into_iter()
            .collect(),
    );
    Ok(out)
}
