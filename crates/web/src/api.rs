//! The read-only JSON API: `/api/status` (the `status --json` document), `/api/runs` (run
//! reports, newest first), `/api/runs/{id}` (one, by its `run_id`) and
//! `/api/series/{commodity}` (every source's stored values, `start`/`end` optional).

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use energy_core::{CommodityCode, Price, SourceId};
use energy_orchestrator::status;
use serde::{Deserialize, Serialize};

use crate::{Endpoints, unavailable};

/// Runs `/api/status` lists, as `status` does.
const STATUS_RUNS: u32 = 5;

fn not_found(what: String) -> Response {
    (StatusCode::NOT_FOUND, format!("{what}\n")).into_response()
}

pub(crate) async fn status_document(State(e): State<Endpoints>) -> Response {
    let now = (e.clock)();
    let report = status::collect(&e.config, &e.secrets, &e.store, now, STATUS_RUNS).await;
    let code = if report.database.healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(report)).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct RunsQuery {
    limit: Option<u32>,
}

pub(crate) async fn runs(State(e): State<Endpoints>, Query(q): Query<RunsQuery>) -> Response {
    let limit = q.limit.unwrap_or(20);
    if !(1..=1000).contains(&limit) {
        return (StatusCode::BAD_REQUEST, "limit must be 1..=1000\n").into_response();
    }
    match e.store.recent_runs(limit).await {
        Ok(runs) => Json(runs.iter().map(status::report_of).collect::<Vec<_>>()).into_response(),
        Err(err) => unavailable(err),
    }
}

pub(crate) async fn run(State(e): State<Endpoints>, Path(id): Path<String>) -> Response {
    match e.store.run_by_uuid(&id).await {
        Ok(Some(r)) => Json(status::report_of(&r)).into_response(),
        Ok(None) => not_found(format!("no run {}", energy_core::text::printable(&id))),
        Err(err) => unavailable(err),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SeriesQuery {
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
}

/// One commodity's stored values, per source.
#[derive(Debug, Serialize)]
pub(crate) struct SeriesDocument {
    commodity: CommodityCode,
    unit: String,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    /// Per source: (date, value) pairs in date order.
    sources: BTreeMap<SourceId, Vec<(NaiveDate, Price)>>,
}

pub(crate) async fn series(
    State(e): State<Endpoints>,
    Path(code): Path<String>,
    Query(q): Query<SeriesQuery>,
) -> Response {
    let unknown = || {
        not_found(format!(
            "no commodity {}",
            energy_core::text::printable(&code)
        ))
    };
    let Ok(commodity) = CommodityCode::new(&code) else {
        return unknown();
    };
    let Some(spec) = e.config.commodities.get(&commodity) else {
        return unknown();
    };
    if let (Some(s), Some(end)) = (q.start, q.end)
        && s > end
    {
        return (StatusCode::BAD_REQUEST, "start is after end\n").into_response();
    }
    match e.store.commodity_values(&commodity, q.start, q.end).await {
        Ok(sources) => Json(SeriesDocument {
            unit: spec.unit.clone(),
            commodity,
            start: q.start,
            end: q.end,
            sources,
        })
        .into_response(),
        Err(err) => unavailable(err),
    }
}
