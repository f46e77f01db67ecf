//! Scripted sources (data, a refused key, a hang, a panic) and a recording notifier over a real
//! store, so that the run and the scheduler are tested without a network.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use chrono::Days;
use energy_core::{Clock, NotificationReport, Observation, Price, RunReport, RunStatus, SourceId};
use energy_notify::Notify;
use energy_sources::{
    BuiltSource, SeriesData, SeriesRequest, Source, SourceError, SourceErrorKind,
};
use energy_storage::{DatabaseUrl, Store};

use crate::{Config, Pipeline};

#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// One observation per weekday of the window, value 60.
    Data,
    /// The key is refused.
    Refuse,
    /// Never answers.
    Hang,
    /// Panics inside the fetch.
    Panic,
    /// Panics when told the run's plan, outside any batch.
    PanicInPlan,
}

#[derive(Debug)]
struct FakeSource {
    id: SourceId,
    behaviour: Behaviour,
    delay: Duration,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    own_in_flight: AtomicUsize,
    own_max: Arc<AtomicUsize>,
}

#[async_trait]
impl Source for FakeSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn plan(&self, _requests: &[SeriesRequest]) {
        if matches!(self.behaviour, Behaviour::PanicInPlan) {
            panic!("a bug outside any batch");
        }
    }

    async fn fetch(&self, req: &SeriesRequest) -> Result<SeriesData, SourceError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let own = self.own_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.own_max.fetch_max(own, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        let result = match self.behaviour {
            Behaviour::Refuse => Err(SourceError::new(
                self.id.clone(),
                SourceErrorKind::Unauthorized {
                    variable: energy_sources::SourcesConfig::api_key_env(self.id.as_str())
                        .unwrap_or("its key variable"),
                    message: "Bad Request. The value for variable api_key is not registered."
                        .into(),
                },
            )),
            Behaviour::Hang => {
                std::future::pending::<()>().await;
                unreachable!()
            }
            Behaviour::Panic => panic!("cannot convert float seconds to Duration"),
            Behaviour::Data | Behaviour::PanicInPlan => {
                use chrono::Datelike;
                let mut out = SeriesData::default();
                let mut d = req.window.start();
                while d <= req.window.end() {
                    if d.weekday().number_from_monday() <= 5 {
                        out.observations.push(Observation::new(
                            req.commodity.clone(),
                            self.id.clone(),
                            d,
                            Price::parse("60").unwrap(),
                            req.unit.clone(),
                        ));
                    }
                    d = d + Days::new(1);
                }
                Ok(out)
            }
        };
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.own_in_flight.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

#[derive(Debug, Default)]
pub struct RecordingNotifier {
    /// The status of each report it was given, in order.
    pub seen: Mutex<Vec<RunStatus>>,
    /// Each freshness alert it was given, in order.
    pub freshness: Mutex<Vec<Vec<energy_core::FreshnessChange>>>,
}

#[async_trait]
impl Notify for RecordingNotifier {
    async fn notify(&self, report: &RunReport) -> Vec<NotificationReport> {
        self.seen.lock().unwrap().push(report.status);
        vec![NotificationReport {
            channel: "email".into(),
            delivered: false,
            error: Some("connection refused".into()),
        }]
    }

    async fn notify_freshness(
        &self,
        changes: &[energy_core::FreshnessChange],
    ) -> Vec<NotificationReport> {
        self.freshness.lock().unwrap().push(changes.to_vec());
        vec![NotificationReport {
            channel: "email".into(),
            delivered: true,
            error: None,
        }]
    }
}

/// A pipeline over scripted sources, and what they saw.
pub struct Setup {
    pub pipeline: Pipeline,
    pub notifier: Arc<RecordingNotifier>,
    /// Most fetches in flight at once, over all sources.
    pub max_in_flight: Arc<AtomicUsize>,
    /// Most fetches in flight at once, per source (eia, fred, yahoo).
    pub max_in_flight_each: [Arc<AtomicUsize>; 3],
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup").finish_non_exhaustive()
    }
}

/// As [`setup_configured`], with the default configuration.
pub async fn setup_with_clock(
    behaviours: [Behaviour; 3],
    max_concurrent: u32,
    delay: Duration,
    clock: Clock,
) -> Setup {
    setup_configured(behaviours, max_concurrent, delay, clock, |_| {}).await
}

/// A pipeline over three scripted sources (eia, fred, yahoo) and a new SQLite file, with the
/// configuration changed by `configure`.
pub async fn setup_configured(
    behaviours: [Behaviour; 3],
    max_concurrent: u32,
    delay: Duration,
    clock: Clock,
    configure: impl FnOnce(&mut Config),
) -> Setup {
    setup_at(None, behaviours, max_concurrent, delay, clock, configure).await
}

/// As [`setup_with_clock`], on the database at `url` (PostgreSQL) instead of a new SQLite file.
pub async fn setup_on(url: &str, behaviours: [Behaviour; 3], clock: Clock) -> Setup {
    setup_at(Some(url), behaviours, 3, Duration::ZERO, clock, |_| {}).await
}

async fn setup_at(
    url: Option<&str>,
    behaviours: [Behaviour; 3],
    max_concurrent: u32,
    delay: Duration,
    clock: Clock,
    configure: impl FnOnce(&mut Config),
) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let url = match url {
        Some(u) => DatabaseUrl::parse(u).unwrap(),
        None => DatabaseUrl::parse(&format!("sqlite://{}/p.db", dir.path().display())).unwrap(),
    };
    let store = Store::open(&url).await.unwrap();
    let mut config = Config::default();
    config.pipeline.max_concurrent_requests = max_concurrent;
    configure(&mut config);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight_each: [Arc<AtomicUsize>; 3] = Default::default();
    let sources = ["eia", "fred", "yahoo"]
        .into_iter()
        .zip(behaviours)
        .zip(max_in_flight_each.clone())
        .map(|((name, behaviour), own_max)| {
            BuiltSource::Ready(Arc::new(FakeSource {
                id: SourceId::new(name).unwrap(),
                behaviour,
                delay,
                in_flight: in_flight.clone(),
                max_in_flight: max_in_flight.clone(),
                own_in_flight: AtomicUsize::new(0),
                own_max,
            }))
        })
        .collect();
    let notifier = Arc::new(RecordingNotifier::default());
    let pipeline = Pipeline::new(Arc::new(config), store, sources, notifier.clone(), clock);
    Setup {
        pipeline,
        notifier,
        max_in_flight,
        max_in_flight_each,
        _dir: dir,
    }
}
