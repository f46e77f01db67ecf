//! `/series/{commodity}`: every source of a commodity on one chart over a chosen range (1M, 6M,
//! 1Y, 5Y, all; ending at its latest stored date), its latest values side by side, the revisions
//! of past values and the quarantined rows with rule and reason.

use std::collections::BTreeSet;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use chrono::{Months, NaiveDate};
use energy_core::{CommodityCode, SourceId};
use energy_storage::QuarantineFilter;
use serde::Deserialize;

use super::{
    chart::{Line, lines},
    html::{escape, page},
    runs::quarantine_table,
};
use crate::{Endpoints, unavailable};

/// The ranges offered, as (query value, months back; None = all).
const RANGES: [(&str, Option<u32>); 5] = [
    ("1M", Some(1)),
    ("6M", Some(6)),
    ("1Y", Some(12)),
    ("5Y", Some(60)),
    ("all", None),
];

/// Rows of the latest-values table.
const LATEST_ROWS: usize = 10;
/// Quarantined rows shown (the newest).
const QUARANTINE_ROWS: u32 = 50;

#[derive(Debug, Deserialize)]
pub(crate) struct RangeQuery {
    range: Option<String>,
}

pub(crate) async fn series(
    State(e): State<Endpoints>,
    Path(code): Path<String>,
    Query(q): Query<RangeQuery>,
) -> Response {
    let unknown = || {
        (
            StatusCode::NOT_FOUND,
            Html(page(
                "Not found",
                &format!(
                    "<h1>No commodity {}</h1>\n<p><a href=\"/\">Dashboard</a></p>\n",
                    escape(&code)
                ),
            )),
        )
            .into_response()
    };
    let Ok(commodity) = CommodityCode::new(&code) else {
        return unknown();
    };
    let Some(spec) = e.config.commodities.get(&commodity) else {
        return unknown();
    };
    let chosen = q.range.as_deref().unwrap_or("1Y");
    let Some(months) = RANGES.iter().find(|(r, _)| *r == chosen).map(|(_, m)| *m) else {
        return (
            StatusCode::BAD_REQUEST,
            "range is one of 1M, 6M, 1Y, 5Y, all\n",
        )
            .into_response();
    };
    // the range ends at the commodity's latest stored date (indexed lookups per source)
    let mut latest: Option<NaiveDate> = None;
    for (source, _) in e.config.sources.iter() {
        match e.store.observations().latest_date(&commodity, source).await {
            Ok(d) => latest = latest.max(d),
            Err(err) => return unavailable(err),
        }
    }
    let start = match (months, latest) {
        (Some(m), Some(l)) => l.checked_sub_months(Months::new(m)),
        _ => None,
    };
    let by_source = match e
        .store
        .observations()
        .commodity_values(&commodity, start, None)
        .await
    {
        Ok(v) => v,
        Err(err) => return unavailable(err),
    };
    let filter = QuarantineFilter {
        commodity: Some(commodity.clone()),
        limit: Some(QUARANTINE_ROWS),
        ..QuarantineFilter::default()
    };
    let (quarantined, quarantined_total) = match e.store.quarantine().newest(&filter).await {
        Ok(q) => q,
        Err(err) => return unavailable(err),
    };
    let mut revisions = Vec::new();
    for source in by_source.keys() {
        // a source never registered has none
        if let Ok(r) = e.store.observations().revisions(&commodity, source).await {
            revisions.extend(r.into_iter().map(|r| (source.clone(), r)));
        }
    }

    let mut out = format!(
        "<p><a href=\"/\">Dashboard</a></p>\n<h1>{} <span class=\"note\">{}</span></h1>\n<p>",
        escape(commodity.as_str()),
        escape(&spec.name)
    );
    for (r, _) in RANGES {
        if r == chosen {
            out.push_str(&format!("<strong>{r}</strong> "));
        } else {
            out.push_str(&format!(
                "<a href=\"/series/{}?range={r}\">{r}</a> ",
                escape(commodity.as_str())
            ));
        }
    }
    out.push_str("</p>\n");
    let chart_lines: Vec<Line<'_>> = by_source
        .iter()
        .map(|(source, points)| Line {
            name: source.as_str(),
            points: points.iter().map(|(d, v)| (*d, v.to_f64())).collect(),
        })
        .collect();
    out.push_str(&lines(
        &chart_lines,
        &spec.unit,
        &format!("{} ({}), {chosen}", commodity, spec.unit),
    ));

    // the latest dates, each source side by side
    let sources: Vec<&SourceId> = by_source.keys().collect();
    // the newest dates of any source are among each source's newest few
    let dates: BTreeSet<NaiveDate> = by_source
        .values()
        .flat_map(|points| points.iter().rev().take(LATEST_ROWS).map(|(d, _)| *d))
        .collect();
    out.push_str("\n<h2>Latest values</h2>\n<table id=\"latest\"><thead><tr><th>Date</th>");
    for s in &sources {
        out.push_str(&format!("<th>{}</th>", escape(s.as_str())));
    }
    out.push_str("</tr></thead><tbody>\n");
    for d in dates.iter().rev().take(LATEST_ROWS) {
        out.push_str(&format!("<tr><td>{d}</td>"));
        for s in &sources {
            let v = by_source[*s]
                .binary_search_by_key(d, |(date, _)| *date)
                .ok()
                .map(|i| by_source[*s][i].1.to_string());
            out.push_str(&format!(
                "<td class=\"num\">{}</td>",
                v.unwrap_or_else(|| "-".into())
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str(&format!(
        "</tbody></table>\n<p class=\"note\">{}</p>\n",
        escape(&spec.unit)
    ));

    out.push_str("<h2>Revisions</h2>\n");
    if revisions.is_empty() {
        out.push_str("<p class=\"note\">no stored value was ever changed</p>\n");
    } else {
        out.push_str("<table id=\"revisions\"><thead><tr><th>Source</th><th>Date</th><th>Was</th><th>Now</th><th>Changed (UTC)</th></tr></thead><tbody>\n");
        for (source, r) in &revisions {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                escape(source.as_str()),
                r.date,
                r.old_value,
                r.new_value,
                energy_core::display::utc_time(r.replaced_at)
            ));
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("<h2>Quarantined</h2>\n");
    if quarantined.is_empty() {
        out.push_str("<p class=\"note\">nothing quarantined</p>\n");
    } else {
        out.push_str(&format!(
            "<p class=\"note\">the newest {} of {quarantined_total}: <a href=\"/quarantine?commodity={}\">all</a></p>\n",
            quarantined.len(),
            escape(commodity.as_str())
        ));
        out.push_str(&quarantine_table(&quarantined));
    }
    Html(page(commodity.as_str(), &out)).into_response()
}
