//! The read-only JSON API: `/api/status` (the `status --json` document), `/api/runs` (run
//! reports, newest first), `/api/runs/{id}` (one, by its `run_id`) and
//! `/api/series/{commodity}` (every source's stored values, `start`/`end` optional).

use std::collections::BTreeMap;

use axum::{
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use energy_core::{CommodityCode, Price, SourceId};
use energy_orchestrator::status;
use serde::{Deserialize, Serialize};

use crate::{Endpoints, unavailable};

/// Runs `/api/status` lists, as `status` does.
const STATUS_RUNS: u32 = 5;

/// A JSON answer. serde_json writes the C0 controls in strings as `\u` escapes but DEL, the
/// C1 controls and the direction overrides as they are; these are escaped too, so a body
/// printed raw to a terminal (`curl`) carries nothing it obeys, and parses to the same text.
struct Json<T>(T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(4096);
        let mut writer = serde_json::Serializer::with_formatter(&mut body, Escaping);
        match self.0.serialize(&mut writer) {
            Ok(()) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("encoding the answer failed: {e}\n"),
            )
                .into_response(),
        }
    }
}

/// serde_json's compact format, escaping what `energy_core::text::printable` escapes.
struct Escaping;

impl serde_json::ser::Formatter for Escaping {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut from = 0;
        for (at, c) in fragment.char_indices() {
            if energy_core::text::needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[from..at])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                from = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[from..])
    }
}

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
    match e.store.runs().recent(limit).await {
        Ok(runs) => Json(runs.iter().map(status::report_of).collect::<Vec<_>>()).into_response(),
        Err(err) => unavailable(err),
    }
}

pub(crate) async fn run(State(e): State<Endpoints>, Path(id): Path<String>) -> Response {
    match e.store.runs().by_uuid(&id).await {
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
    match e
        .store
        .observations()
        .commodity_values(&commodity, q.start, q.end)
        .await
    {
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
