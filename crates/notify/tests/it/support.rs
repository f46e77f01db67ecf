//! A fixed run report to send, and the configuration helpers.

use chrono::{TimeZone, Utc};
use energy_core::{
    BatchError, CommodityCode, CommodityReport, Counts, DateWindow, ErrorKind, ModeKind, RunReport,
    RunStatus, SourceId, SourceReport, SourceStatus, Trigger,
};

/// A partial full refresh: EIA and Yahoo fine, FRED's key refused.
pub(crate) fn report(status: RunStatus) -> RunReport {
    let counts = |fetched, stored, unchanged, rejected| Counts {
        fetched,
        stored,
        unchanged,
        rejected,
    };
    let commodity = |code: &str, c: Counts, status, error: Option<BatchError>| CommodityReport {
        commodity: CommodityCode::new(code).unwrap(),
        status,
        window: None,
        counts: c,
        missing: 0,
        warnings: 0,
        older_gaps: 0,
        quality_score: if status == SourceStatus::Failed {
            0.0
        } else {
            1.0
        },
        error,
        fetch_seconds: 0.1,
    };
    let fred_error = BatchError::new(
        ErrorKind::Unauthorized,
        "the API key was refused (Bad Request. The value for variable api_key is not registered.); check FRED_API_KEY",
    );
    let sources = vec![
        SourceReport {
            source: SourceId::new("eia").unwrap(),
            status: SourceStatus::Success,
            counts: counts(7542, 7540, 2, 0),
            missing: 0,
            quality_score: 1.0,
            error: None,
            fetch_seconds: 0.3,
            requests: 0,
            commodities: vec![commodity(
                "WTI",
                counts(2514, 2513, 1, 0),
                SourceStatus::Success,
                None,
            )],
        },
        SourceReport {
            source: SourceId::new("fred").unwrap(),
            status: SourceStatus::Failed,
            counts: counts(0, 0, 0, 0),
            missing: 0,
            quality_score: 0.0,
            error: Some(BatchError::new(
                ErrorKind::Unauthorized,
                format!("WTI: {}", fred_error.message),
            )),
            fetch_seconds: 0.1,
            requests: 0,
            commodities: vec![commodity(
                "WTI",
                counts(0, 0, 0, 0),
                SourceStatus::Failed,
                Some(fred_error.clone()),
            )],
        },
        SourceReport {
            source: SourceId::new("yahoo").unwrap(),
            status: SourceStatus::Success,
            counts: counts(7470, 7470, 0, 3),
            missing: 12,
            quality_score: 0.9996,
            error: None,
            fetch_seconds: 0.4,
            requests: 0,
            commodities: vec![],
        },
    ];
    let total: Counts = sources.iter().map(|s| s.counts).sum();
    RunReport {
        cross_source: Vec::new(),
        cross_source_warnings: 0,
        run_id: "01a214d8-2338-73c0-b486-4337ec1ce4ad".into(),
        trigger: Trigger::Schedule,
        scheduled_for: Some(Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 0).unwrap()),
        attempt: None,
        mode: ModeKind::FullRefresh,
        status,
        started_at: Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 1).unwrap(),
        finished_at: Some(Utc.with_ymd_and_hms(2026, 11, 25, 11, 0, 2).unwrap()),
        duration_seconds: 0.84,
        window: Some(
            DateWindow::new("2016-11-28".parse().unwrap(), "2026-11-25".parse().unwrap()).unwrap(),
        ),
        sources,
        counts: total,
        notifications: vec![],
        error: None,
    }
}
