//! `GET /metrics`: every metric read from the database at each scrape, every series judged as
//! `status` judges it, and encoded by `prometheus-client` in one of two formats
//! ([`Exposition`]): OpenMetrics for a scraper that asks for it (Prometheus does), Prometheus'
//! text format 0.0.4 otherwise (curl, `promtool check metrics`). Names follow Prometheus'
//! conventions as promtool checks them: base units (an age in seconds), a count named for what
//! it counts (`…_missing_trading_dates`, not `…_days`, which reads as a unit).

use chrono::{DateTime, Utc};
use energy_core::{CommodityCode, Freshness, RunStatus, SourceId};
use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeGaugeValue, GaugeValueEncoder, MetricEncoder, NoLabelSet},
    metrics::MetricType,
    registry::Registry,
};

use crate::Endpoints;

fn unix(t: DateTime<Utc>) -> Value {
    Value::Float(t.timestamp_millis() as f64 / 1000.0)
}

/// A market date as the Unix time of its midnight UTC.
fn day_seconds(day: chrono::NaiveDate) -> Value {
    Value::Int(day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp())
}

/// A sample's value: counts and whole seconds print as integers, the rest as floats.
#[derive(Debug, Clone, Copy)]
enum Value {
    Int(i64),
    Float(f64),
}

impl EncodeGaugeValue for Value {
    fn encode(&self, encoder: &mut GaugeValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        match self {
            Value::Int(v) => v.encode(encoder),
            Value::Float(v) => v.encode(encoder),
        }
    }
}

type Labels = Vec<(&'static str, String)>;

/// A series' age is whole calendar days, as `status` shows it, given in seconds.
const SECONDS_PER_DAY: i64 = 86_400;

/// One metric family of a scrape.
#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    kind: MetricType,
    samples: Vec<(Labels, Value)>,
}

/// Everything one scrape reports.
#[derive(Debug, Default)]
struct Scrape(Vec<Family>);

/// The text formats `/metrics` speaks. They differ in how a counter is named: prometheus-client
/// writes OpenMetrics, where a counter's family `x` has samples `x_total`; the 0.0.4 text
/// format has no families apart from sample names, so its HELP and TYPE must name `x_total`,
/// or Prometheus and promtool find no help for the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// OpenMetrics 1.0: counter family `x`, samples `x_total`, `# EOF` at the end.
    OpenMetrics,
    /// Prometheus' text format 0.0.4: HELP, TYPE and samples all `x_total`, no `# EOF`.
    Text,
}

/// A scrape as prometheus-client encodes it in one format.
#[derive(Debug)]
struct Encoded(Scrape, Exposition);

impl Scrape {
    fn gauge(&mut self, name: &'static str, help: &'static str, samples: Vec<(Labels, Value)>) {
        self.0.push(Family {
            name,
            help,
            kind: MetricType::Gauge,
            samples,
        });
    }
}

impl Collector for Encoded {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let Encoded(scrape, format) = self;
        for family in scrape.0.iter().filter(|f| !f.samples.is_empty()) {
            // the encoder ends the help with its own full stop
            let help = family.help.trim_end_matches('.');
            // in the 0.0.4 text a counter is named as its samples are, and they are written
            // as they stand (a gauge's encoding adds no suffix)
            let text_counter =
                *format == Exposition::Text && matches!(family.kind, MetricType::Counter);
            let name = if text_counter {
                format!("{}_total", family.name)
            } else {
                family.name.to_owned()
            };
            let mut metric = encoder.encode_descriptor(&name, help, None, family.kind)?;
            for (labels, value) in &family.samples {
                let write = |m: &mut MetricEncoder<'_>| match (family.kind, value) {
                    (MetricType::Counter, Value::Int(n)) if !text_counter => {
                        m.encode_counter::<NoLabelSet, _, u64>(&n.unsigned_abs(), None)
                    }
                    (_, v) => m.encode_gauge(v),
                };
                if labels.is_empty() {
                    write(&mut metric)?;
                } else {
                    write(&mut metric.encode_family(labels)?)?;
                }
            }
        }
        Ok(())
    }
}

fn series_labels(commodity: &CommodityCode, source: &SourceId) -> Labels {
    vec![
        ("commodity", commodity.as_str().to_owned()),
        ("source", source.as_str().to_owned()),
    ]
}

/// The scrape's text. prometheus-client spells infinity `inf` (dtoa); OpenMetrics and
/// Prometheus' own exposition spell it `+Inf`, as README does.
fn encode(scrape: Scrape, format: Exposition) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Encoded(scrape, format)));
    let mut text = String::new();
    let encoded = match format {
        Exposition::OpenMetrics => prometheus_client::encoding::text::encode(&mut text, &registry),
        Exposition::Text => {
            prometheus_client::encoding::text::encode_registry(&mut text, &registry)
        }
    };
    // writing to a String cannot fail; a failure of our own encoding would be a bug
    if let Err(e) = encoded {
        tracing::error!(error = %e, "encoding the metrics failed");
    }
    text.lines()
        .map(|l| match l.strip_suffix(" inf") {
            Some(sample) => format!("{sample} +Inf\n"),
            None => match l.strip_suffix(" -inf") {
                Some(sample) => format!("{sample} -Inf\n"),
                None => format!("{l}\n"),
            },
        })
        .collect()
}

/// The scheduler's liveness (read in this process, not from the store): `scheduler_up` and
/// the next fire time, absent where no scheduler runs.
fn liveness(e: &Endpoints, now: DateTime<Utc>) -> [Family; 2] {
    let up = e.liveness.as_ref().map(|l| {
        let up = l
            .loop_age(now)
            .is_some_and(|a| a <= e.loop_timeout.as_secs_f64());
        (Vec::new(), Value::Int(i64::from(up)))
    });
    let next = e
        .liveness
        .as_ref()
        .and_then(|l| l.next_fire())
        .map(|t| (Vec::new(), unix(t)));
    [
        Family {
            name: "energy_pipeline_scheduler_up",
            help: "1 while the scheduler loop turns (absent where no scheduler runs: `energy-pipeline serve`).",
            kind: MetricType::Gauge,
            samples: up.into_iter().collect(),
        },
        Family {
            name: "energy_pipeline_next_fire_timestamp_seconds",
            help: "The scheduler's next fire time (Unix time).",
            kind: MetricType::Gauge,
            samples: next.into_iter().collect(),
        },
    ]
}

fn database_up(up: bool) -> Family {
    Family {
        name: "energy_pipeline_database_up",
        help: "1 when this scrape read the database, 0 when it could not (then only the scheduler's own metrics are reported).",
        kind: MetricType::Gauge,
        samples: vec![(Vec::new(), Value::Int(i64::from(up)))],
    }
}

/// The statuses of a finished run, each a counter that only grows.
const FINISHED: [RunStatus; 4] = [
    RunStatus::Success,
    RunStatus::Partial,
    RunStatus::Failed,
    RunStatus::Interrupted,
];

/// What `/metrics` answers while the store cannot be read: the scheduler's liveness and
/// `database_up 0`, so those series go on (a 503 would drop every sample) and nothing read
/// from the store is made up.
pub(crate) fn without_store(e: &Endpoints, format: Exposition) -> String {
    let now = (e.clock)();
    let [up, next] = liveness(e, now);
    encode(Scrape(vec![up, database_up(false), next]), format)
}

/// The metrics, in `format`; an error when the store could not be read (then `/metrics`
/// answers `without_store`'s).
pub async fn metrics(
    e: &Endpoints,
    format: Exposition,
) -> Result<String, energy_storage::StoreError> {
    let now = (e.clock)();
    let runs = e.store.runs().recent(200).await?;
    let by_status = e.store.runs().counts_by_status().await?;
    let taken_over = e.store.schedule().taken_over_count().await?;
    let stored = e.store.observations().count_by_source().await?;
    let freshness = e.store.observations().freshness().await?;
    let since = energy_orchestrator::status::gaps_since(now);
    let stored_since = e.store.observations().stored_since(since).await?;
    let mut scrape = Scrape::default();
    let [up, next] = liveness(e, now);
    scrape.0.push(up);
    scrape.0.push(database_up(true));
    let last = runs.iter().find(|r| r.status != RunStatus::Running);
    scrape.gauge(
        "energy_pipeline_last_run_timestamp_seconds",
        "When the last finished run started (Unix time).",
        last.map(|r| (Vec::new(), unix(r.started_at)))
            .into_iter()
            .collect(),
    );
    let last_success = runs.iter().find(|r| r.status == RunStatus::Success);
    scrape.gauge(
        "energy_pipeline_last_success_timestamp_seconds",
        "When the last successful run started (Unix time).",
        last_success
            .map(|r| (Vec::new(), unix(r.started_at)))
            .into_iter()
            .collect(),
    );
    // runs going now come and go: a gauge; finished runs only add up: a counter per status
    // (0 until the first, so that `increase()` sees the first), `energy_pipeline_runs_total`
    // (`Encoded` names it per format)
    let count = |status: &str| {
        by_status
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n as i64)
    };
    scrape.gauge(
        "energy_pipeline_runs_running",
        "Runs recorded as running now.",
        vec![(Vec::new(), Value::Int(count(RunStatus::Running.name())))],
    );
    scrape.0.push(Family {
        name: "energy_pipeline_runs",
        help: "Finished runs recorded, by status.",
        kind: MetricType::Counter,
        samples: FINISHED
            .iter()
            .map(|s| {
                (
                    vec![("status", s.name().to_owned())],
                    Value::Int(count(s.name())),
                )
            })
            .collect(),
    });
    let last_scheduled = runs
        .iter()
        .find(|r| r.status != RunStatus::Running && r.attempt.is_some());
    scrape.gauge(
        "energy_pipeline_last_scheduled_run_attempt",
        "Which attempt at its fire time the last finished scheduled run was: 1, or 2, 3, … when the fire time was taken over from a scheduler that died or stalled.",
        last_scheduled
            .and_then(|r| r.attempt)
            .map(|a| (Vec::new(), Value::Int(i64::from(a))))
            .into_iter()
            .collect(),
    );
    scrape.0.push(Family {
        name: "energy_pipeline_fire_times_taken_over",
        help: "Fire times run again by a later attempt after their scheduler died or stalled.",
        kind: MetricType::Counter,
        samples: vec![(Vec::new(), Value::Int(taken_over as i64))],
    });
    scrape.gauge(
        "energy_pipeline_observations_stored",
        "Observations in the store, by source.",
        stored
            .iter()
            .map(|(s, n)| (vec![("source", s.clone())], Value::Int(*n as i64)))
            .collect(),
    );
    let fetch: Vec<(Labels, Value)> = last
        .and_then(|r| r.report.as_ref())
        .map(|report| {
            report
                .sources
                .iter()
                .map(|s| {
                    (
                        vec![("source", s.source.as_str().to_owned())],
                        Value::Float(s.fetch_seconds),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    scrape.gauge(
        "energy_pipeline_fetch_duration_seconds",
        "Time spent fetching from each source in the last finished run.",
        fetch,
    );
    let series = energy_orchestrator::status::every_series(&e.config, freshness);
    scrape.gauge(
        "energy_pipeline_series_age_seconds",
        "Calendar days from the latest stored market date of each series to today in its market's zone, in seconds (86400 a day; +Inf: no data yet).",
        series
            .iter()
            .map(|(commodity, source, latest)| {
                (
                    series_labels(commodity, source),
                    latest.as_ref().map_or(Value::Float(f64::INFINITY), |l| {
                        let days = (e.config.market_today(commodity, now) - l.latest_date).num_days();
                        Value::Int(days * SECONDS_PER_DAY)
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
            (
                series_labels(commodity, source),
                latest,
                judgement,
                calendar,
            )
        })
        .collect();
    scrape.gauge(
        "energy_pipeline_series_latest_date_timestamp_seconds",
        "The latest stored market date of each series (Unix time of its midnight UTC).",
        judged
            .iter()
            .filter_map(|(l, latest, _, _)| {
                latest
                    .as_ref()
                    .map(|s| (l.clone(), day_seconds(s.latest_date)))
            })
            .collect(),
    );
    scrape.gauge(
        "energy_pipeline_series_expected_date_timestamp_seconds",
        "The latest market date each series' source should have published by now (Unix time of its midnight UTC).",
        judged
            .iter()
            .map(|(l, _, j, _)| (l.clone(), day_seconds(j.expected)))
            .collect(),
    );
    scrape.gauge(
        "energy_pipeline_series_state",
        "1 for each series' freshness state (FRESH, LATE or STALE), 0 for the others.",
        judged
            .iter()
            .flat_map(|(l, _, j, _)| {
                [Freshness::Fresh, Freshness::Late, Freshness::Stale].map(|state| {
                    let mut labels = l.clone();
                    labels.push(("state", state.name().to_owned()));
                    (labels, Value::Int(i64::from(j.state == state)))
                })
            })
            .collect(),
    );
    scrape.gauge(
        "energy_pipeline_series_missing_trading_dates",
        "Trading days (weeks, months for a weekly or monthly series) without a value in the last 365 days of each series' history (as `status` counts them).",
        judged
            .iter()
            .filter_map(|(l, latest, _, calendar)| {
                let resolution = e.config.resolution(&latest.as_ref()?.commodity);
                latest.as_ref().map(|s| {
                    let (gaps, _) = energy_orchestrator::status::recent_gaps(
                        resolution,
                        *calendar,
                        s,
                        since,
                        &stored_since,
                    );
                    (l.clone(), Value::Int(gaps as i64))
                })
            })
            .collect(),
    );
    scrape.0.push(next);
    Ok(encode(scrape, format))
}
