//! The status dashboard's data: database health, per-series freshness with the last 30 values,
//! the last runs, the scheduler's state and next fire time, and what is configured. `status
//! --json` prints it as is; the CLI renders it for people.

use chrono::{DateTime, NaiveDate, Utc};
use energy_core::{
    CommodityCode, Freshness, Judgement, RunReport, SourceId, trading_day_age, weekday_age,
};
use std::collections::BTreeMap;

use energy_storage::{RunRecord, SeriesLatest, Store, StoreError};
use serde::Serialize;

use crate::{Config, Secrets};

pub mod scheduler;

pub use scheduler::{SchedulerState, scheduler_state, shown_next_fire};

/// Values per series in the sparkline.
pub const SPARK_VALUES: u32 = 30;

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseStatus {
    pub healthy: bool,
    pub backend: String,
    pub server_version: Option<String>,
    pub timescaledb: bool,
    pub message: String,
    /// What needs doing although the database works (shown by the terminal view; the
    /// message says it too).
    #[serde(skip_serializing)]
    pub notice: Option<String>,
}

/// One series: a configured (commodity, source) pair, or one with stored data that is no
/// longer configured.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesStatus {
    pub commodity: CommodityCode,
    pub source: SourceId,
    /// None while nothing is stored.
    pub latest_date: Option<NaiveDate>,
    /// As stored (exact decimal text in JSON as a number).
    pub latest_value: Option<serde_json::Number>,
    pub unit: String,
    /// Calendar days since the latest date.
    pub age_days: Option<i64>,
    /// Weekdays since the latest date.
    pub age_weekdays: Option<u32>,
    /// Trading days of the series' calendar since the latest date.
    pub age_trading_days: Option<u32>,
    /// The latest market date the source should have published by now (its publication rule).
    pub expected_date: NaiveDate,
    /// When the oldest release not stored was due (None when FRESH).
    pub due_at: Option<DateTime<Utc>>,
    /// Trading days since then (0 on the day it was due).
    pub overdue_trading_days: u32,
    /// The publication rule judged against, as configured.
    pub publication: String,
    /// How often the series has a value: `hourly`, `daily`, `weekly` or `monthly`.
    pub resolution: energy_core::Resolution,
    /// Periods of its resolution (trading days, weeks, months) without a value from
    /// `missing_since` to the latest stored date (`energy-pipeline gaps` lists every gap of
    /// the whole history).
    pub missing_periods: Option<u64>,
    /// The same for a daily series, in trading days; None for other resolutions.
    pub missing_trading_days: Option<u64>,
    /// Where that count starts: [`GAP_WINDOW_DAYS`] before now, or the first stored date when
    /// later.
    pub missing_since: Option<NaiveDate>,
    /// The calendar the ages and gaps count on.
    pub calendar: energy_core::calendar::Calendar,
    /// FRESH (the expected date is stored), LATE (a release is due for no more than
    /// `monitor.late_after_days` trading days) or STALE (longer, or nothing stored).
    pub state: Freshness,
    /// What else to know: "no data yet".
    pub note: Option<String>,
    /// The last values, oldest first (at most 30).
    pub recent: Vec<f64>,
}

/// What `status` and `/metrics` say about a series with nothing stored.
pub const NO_DATA_YET: &str = "no data yet";

/// Every series to show: each configured (commodity, source) pair of an enabled source, with
/// its newest stored row if any, and every stored series that is no longer configured; sorted
/// by commodity, then source.
pub fn every_series(
    config: &Config,
    stored: Vec<SeriesLatest>,
) -> Vec<(CommodityCode, SourceId, Option<SeriesLatest>)> {
    let mut all: BTreeMap<(CommodityCode, SourceId), Option<SeriesLatest>> = config
        .configured_series()
        .into_iter()
        .map(|key| (key, None))
        .collect();
    for s in stored {
        all.insert((s.commodity.clone(), s.source.clone()), Some(s));
    }
    all.into_iter().map(|((c, s), l)| (c, s, l)).collect()
}

/// How far back `status` and `/metrics` count a series' gaps: the count reads a year of dates
/// per series, so that it costs the same on a 40-year history.
pub const GAP_WINDOW_DAYS: u64 = 365;

/// Where the gap count starts at `now`.
pub fn gaps_since(now: DateTime<Utc>) -> NaiveDate {
    now.date_naive() - chrono::Days::new(GAP_WINDOW_DAYS)
}

/// The gap count of a series with data: periods of its resolution (trading days of `calendar`
/// for a daily series, weeks, months) from `since` (or its first date, when later) to its
/// latest date without a value, given the dates stored from `since` on. Returns (count, where
/// it starts).
pub fn recent_gaps(
    resolution: energy_core::Resolution,
    calendar: energy_core::calendar::Calendar,
    latest: &SeriesLatest,
    since: NaiveDate,
    stored_since: &BTreeMap<(CommodityCode, SourceId), u64>,
) -> (u64, NaiveDate) {
    let from = latest.first_date.max(since);
    let stored = stored_since
        .get(&(latest.commodity.clone(), latest.source.clone()))
        .copied()
        .unwrap_or(0);
    (
        energy_core::periods::missing(resolution, calendar, from, latest.latest_date, stored),
        from,
    )
}

/// A series judged at `now` by its publication rule and calendar (what `status`, `/metrics`
/// and the freshness alerts all say), with the rule and calendar used.
pub fn judge(
    config: &Config,
    commodity: &CommodityCode,
    source: &SourceId,
    latest: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> (
    Judgement,
    energy_core::Publication,
    energy_core::calendar::Calendar,
) {
    let rule = config.publication(commodity, source);
    let calendar = config.calendar(commodity, source);
    let judged = Judgement::of(latest, now, &rule, calendar, config.monitor.late_after_days);
    (judged, rule, calendar)
}

/// The scheduler as `status --json` (its `scheduler` member) and `schedule status --json` show
/// it: one shape, made by [`scheduler::describe`].
#[derive(Debug, Clone, Serialize)]
pub struct SchedulerStatus {
    /// Every scheduler alive now (several may share one PostgreSQL).
    pub instances: Vec<SchedulerInstance>,
    pub state: SchedulerState,
    /// The scheduler shown: the running one, else the last registered.
    pub host: Option<String>,
    pub pid: Option<u32>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    pub heartbeat_age_seconds: Option<i64>,
    pub schedule: String,
    pub timezone: String,
    /// The next fire time in the schedule's zone, while a scheduler runs.
    pub next_run_at: Option<String>,
    pub next_run_at_utc: Option<DateTime<Utc>>,
}

/// What `schedule status --json` prints: `status --json`'s scheduler member, flattened, and
/// the last scheduled run.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleStatus {
    #[serde(flatten)]
    pub scheduler: SchedulerStatus,
    pub last_run: Option<RunReport>,
}

/// A live scheduler process.
#[derive(Debug, Clone, Serialize)]
pub struct SchedulerInstance {
    pub host: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    pub heartbeat_age_seconds: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfiguredSource {
    pub name: SourceId,
    pub enabled: bool,
    /// The environment variable holding its key, if it needs one.
    pub key_variable: Option<&'static str>,
    pub key_set: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Configured {
    pub commodities: Vec<CommodityCode>,
    pub sources: Vec<ConfiguredSource>,
    pub late_after_days: u32,
}

/// Everything `status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub generated_at: DateTime<Utc>,
    pub database: DatabaseStatus,
    pub freshness: Vec<SeriesStatus>,
    pub last_runs: Vec<RunReport>,
    pub scheduler: Option<SchedulerStatus>,
    pub configured: Configured,
}

impl StatusReport {
    /// Whether anything needs attention: the database, or a stale series.
    pub fn healthy(&self) -> bool {
        self.database.healthy
    }
}

fn configured(config: &Config, secrets: &Secrets) -> Configured {
    Configured {
        commodities: config.commodities.keys().cloned().collect(),
        sources: config
            .sources
            .iter()
            .map(|(id, p)| {
                let key_variable = energy_sources::SourcesConfig::api_key_env(id.as_str());
                ConfiguredSource {
                    name: id.clone(),
                    enabled: p.enabled,
                    key_variable,
                    key_set: key_variable.is_none_or(|v| secrets.by_variable(v).is_some()),
                }
            })
            .collect(),
        late_after_days: config.monitor.late_after_days,
    }
}

/// The report when the database could not even be opened.
pub fn unreachable(
    config: &Config,
    secrets: &Secrets,
    error: &StoreError,
    now: DateTime<Utc>,
) -> StatusReport {
    StatusReport {
        generated_at: now,
        database: DatabaseStatus {
            healthy: false,
            backend: config.database.url.backend().name().to_owned(),
            server_version: None,
            timescaledb: false,
            message: error.to_string(),
            notice: None,
        },
        freshness: Vec::new(),
        last_runs: Vec::new(),
        scheduler: None,
        configured: configured(config, secrets),
    }
}

/// The report of a run record: its full report, or what the ledger knows.
pub fn report_of(r: &RunRecord) -> RunReport {
    if let Some(report) = &r.report {
        let mut report = report.clone();
        report.status = r.status;
        report.attempt = report.attempt.or(r.attempt);
        return report;
    }
    RunReport {
        cross_source: Vec::new(),
        cross_source_warnings: 0,
        run_id: r.uuid.clone(),
        trigger: r.trigger,
        scheduled_for: r.scheduled_for,
        attempt: r.attempt,
        mode: r.mode,
        status: r.status,
        started_at: r.started_at,
        finished_at: r.finished_at,
        // An interrupted run without a report was found stopped by another process: its
        // time is until its last heartbeat, when it was last seen working, not until somebody
        // noticed.
        duration_seconds: r
            .finished_at
            .map(|f| match r.status {
                energy_core::RunStatus::Interrupted => f.min(r.heartbeat_at.max(r.started_at)),
                _ => f,
            })
            .map(|f| (f - r.started_at).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0),
        window: None,
        sources: Vec::new(),
        counts: r.counts,
        notifications: Vec::new(),
        error: match r.status {
            energy_core::RunStatus::Interrupted => Some(format!(
                "the run was interrupted before it finished: last seen working at {}{}",
                energy_core::display::utc_time(r.heartbeat_at),
                r.finished_at
                    .map(|f| format!(", found stopped at {}", energy_core::display::utc_time(f)))
                    .unwrap_or_default()
            )),
            energy_core::RunStatus::Failed => Some(
                "the run's full outcome could not be recorded; its report is in the log of the \
                 process that ran it"
                    .to_owned(),
            ),
            _ => None,
        },
    }
}

/// Collects the dashboard from an open store, as of `now`.
pub async fn collect(
    config: &Config,
    secrets: &Secrets,
    store: &Store,
    now: DateTime<Utc>,
    runs: u32,
) -> StatusReport {
    let health = store.health().await;
    let mut report = StatusReport {
        generated_at: now,
        database: DatabaseStatus {
            healthy: health.healthy,
            backend: health.backend.to_owned(),
            server_version: health.server_version.clone(),
            timescaledb: health.timescaledb,
            message: health.message.clone(),
            notice: health.notice.clone(),
        },
        freshness: Vec::new(),
        last_runs: Vec::new(),
        scheduler: None,
        configured: configured(config, secrets),
    };
    if !health.healthy {
        return report;
    }
    let problem = |report: &mut StatusReport, e: StoreError| {
        report.database.healthy = false;
        report.database.message = e.to_string();
    };
    let mut recent = match store
        .observations()
        .recent_values_of_every_series(SPARK_VALUES)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            problem(&mut report, e);
            return report;
        }
    };
    let since = gaps_since(now);
    let stored_since = match store.observations().stored_since(since).await {
        Ok(counts) => counts,
        Err(e) => {
            problem(&mut report, e);
            return report;
        }
    };
    match store.observations().freshness().await {
        Ok(series) => {
            for (commodity, source, latest) in every_series(config, series) {
                let spec = config.commodities.get(&commodity);
                let today = config.market_today(&commodity, now);
                let recent = recent
                    .remove(&(commodity.clone(), source.clone()))
                    .unwrap_or_default()
                    .iter()
                    .rev()
                    .map(|(_, p)| p.to_f64())
                    .collect();
                let latest_date = latest.as_ref().map(|l| l.latest_date);
                let (judged, rule, calendar) = judge(config, &commodity, &source, latest_date, now);
                let resolution = config.resolution(&commodity);
                let gaps = latest
                    .as_ref()
                    .map(|l| recent_gaps(resolution, calendar, l, since, &stored_since));
                report.freshness.push(SeriesStatus {
                    latest_value: latest.as_ref().map(|l| {
                        l.latest_value
                            .to_string()
                            .parse::<serde_json::Number>()
                            .unwrap_or_else(|_| serde_json::Number::from(0))
                    }),
                    unit: spec.map(|c| c.unit.clone()).unwrap_or_default(),
                    age_days: latest_date.map(|d| (today - d).num_days()),
                    age_weekdays: latest_date.map(|d| weekday_age(d, today)),
                    age_trading_days: latest_date.map(|d| trading_day_age(d, today, calendar)),
                    expected_date: judged.expected,
                    due_at: judged.due,
                    overdue_trading_days: judged.overdue_days,
                    missing_periods: gaps.map(|g| g.0),
                    missing_trading_days: gaps
                        .filter(|_| resolution == energy_core::Resolution::Daily)
                        .map(|g| g.0),
                    resolution,
                    missing_since: gaps.map(|g| g.1),
                    publication: rule.to_string(),
                    calendar,
                    state: judged.state,
                    note: latest.is_none().then(|| NO_DATA_YET.to_owned()),
                    recent,
                    commodity,
                    source,
                    latest_date,
                });
            }
        }
        Err(e) => {
            problem(&mut report, e);
            return report;
        }
    }
    match store.runs().recent(runs).await {
        Ok(r) => report.last_runs = r.iter().map(report_of).collect(),
        Err(e) => {
            problem(&mut report, e);
            return report;
        }
    }
    if let Ok(schedulers) = store.schedule().instances().await {
        report.scheduler = Some(scheduler::describe(&config.schedule, &schedulers, now));
    }
    report
}
