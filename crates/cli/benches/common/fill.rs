//! The store both the `status` and the `web` benchmarks read: 1,000,000 observations in 90
//! series (30 commodities `C000`… × eia, fred, yahoo, daily for some 30 years ending today, so
//! the one-year gap count reads real rows whatever year the benchmark runs in) and 20 recorded
//! runs.

use chrono::{Days, NaiveDate, Utc};
use energy_core::{
    CommodityCode, CommoditySpec, Counts, ModeKind, Observation, Price, RunReport, RunStatus,
    SourceId, Trigger,
};
use energy_storage::{RunStart, Store};

const ROWS: usize = 1_000_000;
const COMMODITIES: usize = 30;
const SOURCES: [&str; 3] = ["eia", "fred", "yahoo"];
const BATCH: usize = 50_000;

/// Fills `store` (empty) with the benchmark data.
pub(crate) async fn fill(store: &Store) {
    let codes: Vec<CommodityCode> = (0..COMMODITIES)
        .map(|i| CommodityCode::new(&format!("C{i:03}")).unwrap())
        .collect();
    for (i, c) in codes.iter().enumerate() {
        store
            .catalog()
            .register_commodity(c, &CommoditySpec::new(format!("commodity {i}"), "USD/bbl"))
            .await
            .unwrap();
    }
    let sources: Vec<SourceId> = SOURCES.iter().map(|s| SourceId::new(s).unwrap()).collect();
    for s in &sources {
        store
            .catalog()
            .register_source(s, s.as_str())
            .await
            .unwrap();
    }
    let per_series = ROWS.div_ceil(COMMODITIES * SOURCES.len());
    let today: NaiveDate = Utc::now().date_naive();
    let start = today - Days::new(per_series as u64 - 1);
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..ROWS {
        let series = i / per_series;
        let day = i % per_series;
        batch.push(Observation::new(
            codes[series / SOURCES.len()].clone(),
            sources[series % SOURCES.len()].clone(),
            start + Days::new(day as u64),
            Price::parse(&format!("{}.{:02}", 20 + (i * 7919) % 90, (i * 31) % 100)).unwrap(),
            "USD/bbl",
        ));
        if batch.len() == BATCH {
            store.observations().upsert(None, &batch).await.unwrap();
            batch.clear();
        }
    }
    store.observations().upsert(None, &batch).await.unwrap();
    for k in 0..20 {
        let started = Utc::now();
        let id = store
            .runs()
            .start(&RunStart {
                uuid: format!("bench-{k}"),
                trigger: Trigger::Schedule,
                mode: ModeKind::Incremental,
                scheduled_for: Some(started),
                attempt: None,
                started_at: started,
                host: "bench".into(),
                pid: 1,
            })
            .await
            .unwrap();
        let report = RunReport {
            cross_source: Vec::new(),
            cross_source_warnings: 0,
            run_id: format!("bench-{k}"),
            trigger: Trigger::Schedule,
            scheduled_for: Some(started),
            attempt: None,
            mode: ModeKind::Incremental,
            status: RunStatus::Success,
            started_at: started,
            finished_at: Some(Utc::now()),
            duration_seconds: 0.3,
            window: None,
            sources: vec![],
            counts: Counts {
                fetched: 90,
                stored: 90,
                unchanged: 0,
                rejected: 0,
            },
            notifications: vec![],
            error: None,
        };
        store.runs().finish(id, &report).await.unwrap();
    }
}
