//! A source's report from its batches' reports: counts, status and errors summed up.

use energy_core::{BatchError, Counts, ErrorKind, SourceId, SourceReport, SourceStatus};

pub(super) fn empty_source_report(
    id: &SourceId,
    status: SourceStatus,
    error: Option<BatchError>,
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
    r.error = source_error(&r);
    r
}

/// A source's error from its commodities': each `COMMODITY: message`, of their one kind, or
/// of `several` when they differ.
fn source_error(r: &SourceReport) -> Option<BatchError> {
    let failed: Vec<(&energy_core::CommodityCode, &BatchError)> = r
        .commodities
        .iter()
        .filter_map(|c| c.error.as_ref().map(|e| (&c.commodity, e)))
        .collect();
    let (_, first) = failed.first()?;
    let kind = if failed.iter().all(|(_, e)| e.kind == first.kind) {
        first.kind
    } else {
        ErrorKind::Several
    };
    let message: Vec<String> = failed
        .iter()
        .map(|(commodity, e)| format!("{commodity}: {}", e.message))
        .collect();
    Some(BatchError::new(kind, message.join("; ")))
}
