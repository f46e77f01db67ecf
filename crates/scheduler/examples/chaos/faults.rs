//! The faults the chaos suite injects, drawn from a seeded generator so that a failing round can
//! be replayed: replicas killed and restarted or paused and resumed, the replicas' database
//! sessions terminated, PostgreSQL restarted, and upstream errors and slow answers. At least
//! one replica is always left running and unpaused.

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use energy_sources::replay::{Behaviour, Replay};
use energy_storage::{FireState, InstanceState, Store, testing::cluster::Cluster};

use crate::replicas::{Fleet, Replica};

/// splitmix64: small, seedable, and the same on every machine.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// A duration between `lo` and `hi` milliseconds.
    pub(crate) fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo + 1))
    }
}

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Fault {
    KillRestart,
    PauseResume,
    TerminateSessions,
    RestartPostgres,
    UpstreamError,
    UpstreamSlow,
}

impl Fault {
    /// Each kind with its weight in the draw.
    const WEIGHTED: [(Fault, u64); 6] = [
        (Fault::KillRestart, 3),
        (Fault::PauseResume, 2),
        (Fault::TerminateSessions, 2),
        (Fault::RestartPostgres, 1),
        (Fault::UpstreamError, 2),
        (Fault::UpstreamSlow, 2),
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Fault::KillRestart => "SIGKILL and restart of a replica",
            Fault::PauseResume => "SIGSTOP/SIGCONT of a replica",
            Fault::TerminateSessions => "pg_terminate_backend of the replicas' sessions",
            Fault::RestartPostgres => "PostgreSQL restart",
            Fault::UpstreamError => "upstream 5xx",
            Fault::UpstreamSlow => "upstream slow answers",
        }
    }
}

/// What ends a fault with a duration.
#[derive(Debug)]
enum Undo {
    Restart(usize),
    Resume(usize),
    Upstream(&'static str),
}

/// Injects faults and ends them when due.
pub(crate) struct Injector<'a> {
    rng: Rng,
    pub(crate) replicas: Vec<Replica>,
    fleet: &'a Fleet,
    cron: String,
    cluster: &'a Cluster,
    psql: PathBuf,
    replay: Replay,
    store: Store,
    pending: Vec<(Instant, Undo)>,
    pub(crate) counts: BTreeMap<Fault, u64>,
    /// Instance id → its last heartbeat before each time it was killed or paused (read just
    /// after: it can beat no more).
    pub(crate) last_heartbeats: HashMap<String, Vec<DateTime<Utc>>>,
    /// What was injected, when: printed when the check fails.
    pub(crate) log: Vec<String>,
}

/// How long a paused replica stays paused: beyond the takeover bound (2 heartbeats of 5 s).
const PAUSE_MS: (u64, u64) = (12_000, 20_000);

impl<'a> Injector<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        seed: u64,
        replicas: Vec<Replica>,
        fleet: &'a Fleet,
        cron: &str,
        cluster: &'a Cluster,
        replay: Replay,
        store: Store,
    ) -> Self {
        Self {
            rng: Rng::new(seed),
            replicas,
            fleet,
            cron: cron.to_owned(),
            psql: cluster.tool("psql"),
            cluster,
            replay,
            store,
            pending: Vec::new(),
            counts: BTreeMap::new(),
            last_heartbeats: HashMap::new(),
            log: Vec::new(),
        }
    }

    fn draw(&mut self) -> Fault {
        let total: u64 = Fault::WEIGHTED.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.below(total);
        for (fault, weight) in Fault::WEIGHTED {
            if pick < weight {
                return fault;
            }
            pick -= weight;
        }
        Fault::UpstreamError
    }

    /// The replica to kill or pause: the one running a fire time of `key` when it is healthy,
    /// else any healthy one; None when that would leave no healthy replica.
    async fn victim(&mut self, key: &str) -> Option<usize> {
        let healthy: Vec<usize> = (0..self.replicas.len())
            .filter(|&i| self.replicas[i].healthy())
            .collect();
        if healthy.len() < 2 {
            return None;
        }
        let running_pid = self
            .store
            .schedule()
            .fires(Some(key), 5)
            .await
            .ok()
            .and_then(|fires| {
                let f = fires.into_iter().find(|f| f.state == FireState::Running)?;
                f.claimed_by.split(':').nth(1)?.parse::<u32>().ok()
            });
        healthy
            .iter()
            .copied()
            .find(|&i| Some(self.replicas[i].pid) == running_pid)
            .or_else(|| Some(healthy[self.rng.below(healthy.len() as u64) as usize]))
    }

    /// Remembers the last heartbeat of the instance `pid` registered, once it can beat no more.
    async fn note_heartbeat(&mut self, pid: u32) {
        if let Ok(instances) = self.store.schedule().instances().await
            && let Some(s) = instances
                .iter()
                .filter(|s| s.pid == pid && s.state == InstanceState::Running)
                .max_by_key(|s| s.started_at)
        {
            self.last_heartbeats
                .entry(s.instance_id.clone())
                .or_default()
                .push(s.heartbeat_at);
        }
    }

    /// Perhaps (with probability `rate`) injects one fault, at `at` (for the log).
    pub(crate) async fn slot(&mut self, key: &str, rate: f64, at: DateTime<Utc>) {
        if !self.rng.chance(rate) {
            return;
        }
        let mut fault = self.draw();
        let victim = match fault {
            Fault::KillRestart | Fault::PauseResume => self.victim(key).await,
            _ => None,
        };
        if matches!(fault, Fault::KillRestart | Fault::PauseResume) && victim.is_none() {
            fault = Fault::TerminateSessions;
        }
        let what = match (fault, victim) {
            (Fault::KillRestart, Some(i)) => {
                let pid = self.replicas[i].pid;
                self.replicas[i].kill();
                self.note_heartbeat(pid).await;
                let after = self.rng.millis(1_000, 6_000);
                self.pending
                    .push((Instant::now() + after, Undo::Restart(i)));
                format!("replica {i} (pid {pid}) killed, restarted after {after:?}")
            }
            (Fault::PauseResume, Some(i)) => {
                let pid = self.replicas[i].pid;
                if let Err(e) = self.replicas[i].pause() {
                    self.log
                        .push(format!("{at}: cannot pause replica {i}: {e}"));
                    return;
                }
                self.note_heartbeat(pid).await;
                let after = self.rng.millis(PAUSE_MS.0, PAUSE_MS.1);
                self.pending.push((Instant::now() + after, Undo::Resume(i)));
                format!("replica {i} (pid {pid}) paused for {after:?}")
            }
            (Fault::TerminateSessions, _) => {
                let out = Command::new(&self.psql)
                    .args(["-X", "-q", "-At", "-h", "127.0.0.1", "-U", "postgres"])
                    .args(["-p", &self.cluster.port.to_string(), "-d", "postgres", "-c"])
                    .arg(
                        "select count(pg_terminate_backend(pid)) from pg_stat_activity \
                         where backend_type = 'client backend' and pid <> pg_backend_pid()",
                    )
                    .stderr(Stdio::piped())
                    .output();
                match out {
                    Ok(o) if o.status.success() => format!(
                        "{} database sessions terminated",
                        String::from_utf8_lossy(&o.stdout).trim()
                    ),
                    Ok(o) => format!(
                        "terminating sessions failed: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    ),
                    Err(e) => format!("cannot run psql: {e}"),
                }
            }
            (Fault::RestartPostgres, _) => {
                let started = Instant::now();
                match self.cluster.restart() {
                    Ok(()) => format!("PostgreSQL restarted in {:?}", started.elapsed()),
                    Err(e) => format!("PostgreSQL restart failed: {e}"),
                }
            }
            (Fault::UpstreamError | Fault::UpstreamSlow, _) => {
                let provider = ["eia", "fred", "yahoo"][self.rng.below(3) as usize];
                let (behaviour, lasts, what) = if fault == Fault::UpstreamError {
                    let status = [500, 502, 503][self.rng.below(3) as usize];
                    let lasts = self.rng.millis(1_000, 5_000);
                    (
                        Behaviour {
                            fail_with: Some(status),
                            ..Behaviour::default()
                        },
                        lasts,
                        format!("HTTP {status}"),
                    )
                } else {
                    let delay = self.rng.millis(300, 1_500);
                    let lasts = self.rng.millis(2_000, 8_000);
                    (
                        Behaviour {
                            delay,
                            ..Behaviour::default()
                        },
                        lasts,
                        format!("answers after {delay:?}"),
                    )
                };
                self.replay.behave(provider, behaviour);
                self.pending
                    .push((Instant::now() + lasts, Undo::Upstream(provider)));
                format!("{provider} {what} for {lasts:?}")
            }
            _ => unreachable!("a replica fault without a victim became another"),
        };
        *self.counts.entry(fault).or_default() += 1;
        self.log.push(format!("{}: {what}", at.format("%H:%M:%S")));
    }

    /// Ends the faults whose time has come (all of them with `all`).
    pub(crate) fn undo_due(&mut self, all: bool) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(at, _)| all || *at <= now);
        self.pending = later;
        for (_, undo) in due {
            match undo {
                Undo::Restart(i) => match self.fleet.start(i, &self.cron) {
                    Ok(r) => self.replicas[i] = r,
                    Err(e) => self.log.push(format!("cannot restart replica {i}: {e}")),
                },
                Undo::Resume(i) => {
                    if let Err(e) = self.replicas[i].resume() {
                        self.log.push(format!("cannot resume replica {i}: {e}"));
                    }
                }
                Undo::Upstream(p) => {
                    self.replay.behave(p, Behaviour::default());
                }
            }
        }
    }
}
