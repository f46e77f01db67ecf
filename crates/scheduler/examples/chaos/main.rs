//! The chaos suite (`cargo xtask chaos`): N `energy-scheduler` replicas on a throwaway
//! PostgreSQL, on a 2-second cron, fetching from a local replay of EIA, FRED and Yahoo and
//! notifying a local Slack stand-in. For M fire times it injects seeded faults (printed, so a
//! failing round can be replayed with `--seed`), then checks every fire time of the window and
//! prints the figures. Exit status 1 on any breach.

mod check;
mod faults;
mod replicas;
mod sink;

use std::{
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Parser;
use energy_scheduler::Schedule;
use energy_sources::replay::Replay;
use energy_storage::{
    DatabaseUrl, FireState, InstanceState, Store,
    testing::cluster::{Cluster, ClusterOptions, install_help},
};

use faults::Injector;
use replicas::Fleet;

/// Every two seconds.
const CRON: &str = "*/2 * * * * *";
/// The idle scheduler's schedule: once a year, so that it never runs while measured.
const IDLE_CRON: &str = "0 0 1 1 *";

#[derive(Debug, Parser)]
#[command(about = "Scheduler replicas under injected faults, then a check of every fire time")]
struct Args {
    /// Scheduler replicas.
    #[arg(long, default_value_t = 3)]
    replicas: usize,
    /// Fire times in the window (one every 2 s).
    #[arg(long, default_value_t = 60)]
    fires: usize,
    /// Seed of the fault draw (default: from the clock; printed either way).
    #[arg(long)]
    seed: Option<u64>,
    /// Chance of a fault at each fire time.
    #[arg(long, default_value_t = 0.3)]
    rate: f64,
    /// The energy-scheduler binary (default: next to this one's directory).
    #[arg(long)]
    scheduler: Option<PathBuf>,
    /// The replayed history (default: ../shared/data beside the workspace).
    #[arg(long)]
    data: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chaos: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Ctrl-C drops the round: the replicas are killed and the cluster stopped on the way out
    let round = rt.block_on(async {
        tokio::select! {
            r = chaos(args) => r,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        }
    });
    match round {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("chaos: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Each thread's time on CPU so far, in ns (`/proc/PID/task/*/schedstat`), by thread id.
fn thread_cpu_ns(pid: u32) -> Option<std::collections::HashMap<String, u64>> {
    let mut threads = std::collections::HashMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let ns = std::fs::read_to_string(task.path().join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
        if let Some(ns) = ns {
            threads.insert(task.file_name().to_string_lossy().into_owned(), ns);
        }
    }
    Some(threads)
}

/// An idle process's CPU since a start: each thread's schedstat, sampled at every fire time, so
/// a thread that ends in between (tokio's blocking threads end after 10 s idle) still counts up
/// to its last sample.
#[derive(Debug)]
struct CpuWatch {
    pid: u32,
    from: Instant,
    start: Option<std::collections::HashMap<String, u64>>,
    seen: std::collections::HashMap<String, u64>,
}

impl CpuWatch {
    fn start(pid: u32) -> Self {
        let start = thread_cpu_ns(pid);
        Self {
            pid,
            from: Instant::now(),
            seen: start.clone().unwrap_or_default(),
            start,
        }
    }

    fn observe(&mut self) {
        if let Some(now) = thread_cpu_ns(self.pid) {
            self.seen.extend(now);
        }
    }

    /// CPU ms per minute so far, or None without /proc.
    fn ms_per_minute(&mut self) -> Option<f64> {
        self.observe();
        let start = self.start.as_ref()?;
        let ns: u64 = self
            .seen
            .iter()
            .map(|(t, last)| last.saturating_sub(start.get(t).copied().unwrap_or(0)))
            .sum();
        Some(ns as f64 / 1e6 / (self.from.elapsed().as_secs_f64() / 60.0))
    }
}

fn percentile(sorted: &[f64], p: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) * p).div_ceil(100)]
}

async fn wait_until(t: DateTime<Utc>) {
    if let Ok(d) = (t - Utc::now()).to_std() {
        tokio::time::sleep(d).await;
    }
}

async fn chaos(args: Args) -> anyhow::Result<bool> {
    if args.replicas < 2 {
        bail!("--replicas must be at least 2: one is always left running");
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    println!(
        "chaos: seed {seed} (replay with --seed {seed}), {} replicas, {} fire times on `{CRON}`, fault rate {}",
        args.replicas, args.fires, args.rate
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| root.join("../shared/data"));
    let binary = match &args.scheduler {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .and_then(|p| p.parent())
            .context("cannot find the target directory")?
            .join("energy-scheduler"),
    };
    if !binary.is_file() {
        bail!(
            "no scheduler binary at {} (build it: cargo build -p scheduler)",
            binary.display()
        );
    }
    let cluster = Cluster::start(&ClusterOptions {
        label: "chaos".into(),
        settings: vec!["-c max_connections=300".into()],
        ..ClusterOptions::default()
    })
    .map_err(anyhow::Error::msg)?
    .with_context(|| format!("the chaos suite needs PostgreSQL\n{}", install_help()))?;
    let url = DatabaseUrl::parse(&cluster.url)?;
    let store = Store::open(&url)
        .await
        .context("cannot migrate the database")?;
    let replay = Replay::from_data_dir(&data)
        .with_context(|| format!("cannot read the replayed history in {}", data.display()))?;
    let server = replay.clone().serve().await?;
    let (sink, webhook) = sink::Sink::start().await?;
    let dir = tempfile::tempdir()?;
    let fleet = Fleet::new(
        binary,
        dir.path(),
        &cluster.url,
        ["eia", "fred", "yahoo"].map(|p| server.base_url(p)),
        webhook,
    )?;
    let schedule = Schedule::new(CRON, chrono_tz::America::New_York)?;
    let key = schedule.key();

    let mut idle = fleet.start(args.replicas, IDLE_CRON)?;
    let mut replicas = Vec::new();
    for i in 0..args.replicas {
        replicas.push(fleet.start(i, CRON)?);
    }
    let registered = Instant::now();
    loop {
        let running = store
            .schedule()
            .instances()
            .await
            .map(|s| {
                s.iter()
                    .filter(|s| s.state == InstanceState::Running)
                    .count()
            })
            .unwrap_or(0);
        if running > args.replicas {
            break;
        }
        for r in &mut replicas {
            if !r.running() {
                bail!(
                    "replica {} ended at start; see {}",
                    r.index,
                    dir.path()
                        .join(format!("replica-{}.out", r.index))
                        .display()
                );
            }
        }
        if registered.elapsed() > Duration::from_secs(60) {
            bail!("the replicas did not register within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut idle_cpu = CpuWatch::start(idle.pid);

    let mut window = Vec::with_capacity(args.fires);
    let mut t = Utc::now() + chrono::Duration::seconds(3);
    for _ in 0..args.fires {
        t = schedule
            .next_after(t)
            .context("the cron has no next fire time")?;
        window.push(t);
    }
    let mut injector = Injector::new(
        seed,
        replicas,
        &fleet,
        CRON,
        &cluster,
        replay,
        store.clone(),
    );
    let started = Instant::now();
    // the first fire times run without faults: the idle scheduler's CPU over them is what its
    // heartbeats cost, without the reconnections that injected faults force on it
    let quiet = (args.fires / 4).min(30);
    let mut idle_cpu_quiet = None;
    for (n, t) in window.iter().enumerate() {
        // a little after the fire time: its run is under way
        wait_until(*t + chrono::Duration::milliseconds(200)).await;
        idle_cpu.observe();
        if n < quiet {
            continue;
        }
        if n == quiet {
            idle_cpu_quiet = idle_cpu.ms_per_minute();
        }
        injector.undo_due(false);
        injector.slot(&key, args.rate, *t).await;
        if (n + 1) % 100 == 0 {
            println!(
                "chaos: {} fire times, {} faults so far",
                n + 1,
                injector.counts.values().sum::<u64>()
            );
        }
    }
    let last = *window
        .last()
        .context("no fire times: --fires must be at least 1")?;
    wait_until(last + chrono::Duration::seconds(2)).await;
    injector.undo_due(true);
    println!(
        "chaos: window over after {:?}; waiting for every fire time to be recorded",
        started.elapsed()
    );
    let settle = Instant::now();
    loop {
        let pending = match store.schedule().fires(Some(&key), 1_000_000).await {
            Ok(fires) => {
                let by_time: std::collections::HashMap<_, _> =
                    fires.iter().map(|f| (f.scheduled_for, f.state)).collect();
                window
                    .iter()
                    .filter(|t| by_time.get(t).is_none_or(|s| *s == FireState::Running))
                    .count()
            }
            Err(_) => usize::MAX,
        };
        if pending == 0 || settle.elapsed() > Duration::from_secs(180) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let idle_cpu = idle_cpu.ms_per_minute();
    let mut unclean = Vec::new();
    for r in injector
        .replicas
        .iter_mut()
        .chain(std::iter::once(&mut idle))
    {
        if let Err(why) = r.stop(Duration::from_secs(20)) {
            // the last lines it wrote say why: its output, and its log files
            let mut out =
                std::fs::read_to_string(dir.path().join(format!("replica-{}.out", r.index)))
                    .unwrap_or_default();
            if let Ok(entries) = std::fs::read_dir(dir.path().join(format!("replica-{}", r.index)))
            {
                for e in entries.flatten() {
                    out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
            let tail: Vec<&str> = out.lines().rev().take(5).collect();
            unclean.push(format!(
                "replica {} (pid {}): {why}; its last output:\n    {}",
                r.index,
                r.pid,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
            ));
        }
    }
    let counts = injector.counts.clone();
    let log = injector.log.clone();
    let heartbeats = injector.last_heartbeats.clone();
    drop(injector);
    let store = Store::open_existing(&url).await?;
    let found = check::check(&store, &key, &window, &sink.messages(), &heartbeats, &data).await?;

    let faults: u64 = counts.values().sum();
    println!("\n## Chaos round (seed {seed})\n");
    println!("| figure | value |\n|---|---|");
    println!("| replicas | {} |", args.replicas);
    println!("| fire times | {} |", found.fire_times);
    println!("| faults injected | {faults} |");
    for (fault, n) in &counts {
        println!("| — {} | {n} |", fault.name());
    }
    for (state, n) in &found.by_state {
        println!("| fire times {state} | {n} |");
    }
    let mut lat = found.takeover_latency.clone();
    lat.sort_by(f64::total_cmp);
    println!("| taken over (run by attempt ≥ 2) | {} |", found.taken_over);
    println!(
        "| takeover latency after the claimant's last heartbeat, p50 / p95 / max | {:.1} / {:.1} / {:.1} s ({} takeovers) |",
        percentile(&lat, 50),
        percentile(&lat, 95),
        lat.last().copied().unwrap_or(f64::NAN),
        lat.len()
    );
    println!(
        "| takeovers of a claimant not killed or paused | {} |",
        found.takeovers_unprovoked
    );
    println!(
        "| runs of attempts taken over (outcome superseded) | {} |",
        found.superseded_runs
    );
    println!("| run notifications received | {} |", found.notifications);
    println!(
        "| fire times done whose notification no attempt claimed | {} |",
        found.unnotified
    );
    println!("| observations stored | {} |", found.observations);
    println!("| duplicates | {} |", found.duplicates);
    println!("| lost | {} |", found.lost);
    for (what, cpu) in [
        (
            format!("the first {quiet} fire times, without faults"),
            idle_cpu_quiet,
        ),
        (
            "the whole round (with reconnections after faults)".to_owned(),
            idle_cpu,
        ),
    ] {
        match cpu {
            Some(ms) => println!(
                "| idle scheduler CPU (heartbeats, takeover checks), {what} | {ms:.1} ms per minute |"
            ),
            None => println!("| idle scheduler CPU, {what} | not measured (no /proc) |"),
        }
    }
    println!(
        "| replicas that did not stop cleanly on SIGTERM | {} |",
        unclean.len()
    );
    for u in &unclean {
        println!("\n{u}");
    }
    if !found.slowest.is_empty() {
        println!("\nslowest takeovers:");
        for (seconds, t, claimant) in &found.slowest {
            println!(
                "  {seconds:.1} s: {} (claimed by {claimant})",
                t.format("%H:%M:%S")
            );
        }
    }
    if std::env::var_os("CHAOS_LOG").is_some() {
        println!("\nfaults:\n  {}", log.join("\n  "));
    }
    std::fs::write(dir.path().join("faults.log"), log.join("\n"))?;
    if found.violations.is_empty() {
        println!("\nchaos: PASSED: every fire time has exactly one recorded outcome");
        return Ok(true);
    }
    println!("\nchaos: FAILED: {} breaches:", found.violations.len());
    for v in found.violations.iter().take(50) {
        println!("  - {v}");
    }
    let kept = dir.keep();
    println!(
        "chaos: the replicas' output and the fault log are kept in {}",
        kept.display()
    );
    Ok(false)
}
