//! A source's report from its batches' reports: counts, status and errors summed up.

use energy_core::{Counts, SourceId, SourceReport, SourceStatus};

pub(super) fn empty_source_report(
    id: &SourceId,
    status: SourceStatus,
    error: Option<String>,
) -> SourceReport {
    SourceReport {
        source: id.clone(),
        status,
        counts: Counts::default(),
        missing: 0,
        quality_score: 1.0,
        error,
        fetch_seconds: 0.0,
        requests: 0,
        commodities: Vec::new(),
    }
}

/// Aggregates a source's commodity reports into its counts, score and status.
pub(super) fn finish_source(mut r: SourceReport) -> SourceReport {
    if r.status == SourceStatus::Skipped {
        return r;
    }
    r.counts = r.commodities.iter().map(|c| c.counts).sum();
    r.missing = r.commodities.iter().map(|c| c.missing).sum();
    r.fetch_seconds = r.commodities.iter().map(|c| c.fetch_seconds).sum();
    let failed_fetch = r
        .commodities
        .iter()
        .filter(|c| c.status == SourceStatus::Failed && c.counts.fetched == 0)
        .count();
    r.quality_score = if failed_fetch == r.commodities.len() && !r.commodities.is_empty() {
        0.0
    } else {
        energy_core::quality_score(r.counts.fetched, r.counts.rejected)
    };
    let ok = r
        .commodities
        .iter()
        .filter(|c| c.status == SourceStatus::Success)
        .count();
    r.status = match (ok, r.commodities.len()) {
        (_, 0) => SourceStatus::Success,
        (ok, n) if ok == n => SourceStatus::Success,
        (0, _) => SourceStatus::Failed,
        _ => SourceStatus::Partial,
    };
    let prefix = format!("{}: ", r.source);
    let errors: Vec<String> = r
        .commodities
        .iter()
        .filter_map(|c| {
            c.error
                .as_ref()
                .map(|e| format!("{}: {}", c.commodity, e.strip_prefix(&prefix).unwrap_or(e)))
        })
        .collect();
    if !errors.is_empty() {
        r.error = Some(errors.join("; "));
    }
    r
}
