//! The chaos checker: reads the fire ledger, its attempts, the runs, the notifications received
//! and the stored observations, and says for every fire time of the window what became of it,
//! with every breach of the guarantees.

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
};

use anyhow::Context;
use chrono::{DateTime, Utc};
use energy_core::{Price, Trigger};
use energy_storage::{ExportFilter, FireState, RunRecord, Store};

/// What the checker found.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) fire_times: usize,
    /// Final state of each fire time → how many.
    pub(crate) by_state: BTreeMap<&'static str, usize>,
    /// Fire times run by a later attempt than the first.
    pub(crate) taken_over: usize,
    /// Seconds from the dead or paused claimant's last heartbeat to the takeover.
    pub(crate) takeover_latency: Vec<f64>,
    /// The slowest takeovers: seconds, fire time, the claimant taken over.
    pub(crate) slowest: Vec<(f64, DateTime<Utc>, String)>,
    /// Takeovers of a claimant the injector had not killed or paused.
    pub(crate) takeovers_unprovoked: usize,
    /// Runs of attempts that were taken over (work done twice, one outcome kept).
    pub(crate) superseded_runs: usize,
    pub(crate) notifications: usize,
    /// Fire times done whose notification no attempt claimed.
    pub(crate) unnotified: usize,
    pub(crate) observations: usize,
    pub(crate) duplicates: usize,
    pub(crate) lost: usize,
    pub(crate) violations: Vec<String>,
}

impl Findings {
    fn breach(&mut self, what: String) {
        self.violations.push(what);
    }
}

/// The run UUID a Slack message names (`Run <uuid>`), if any.
fn run_named(message: &str) -> Option<String> {
    let at = message.find("Run ")? + 4;
    let id: String = message[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    (id.len() == 36).then_some(id)
}

/// The replayed history of each commodity: `shared/data`'s CSV files.
fn replayed(data: &Path) -> std::io::Result<HashMap<String, HashMap<chrono::NaiveDate, String>>> {
    let mut out = HashMap::new();
    for (file, code) in [
        ("wti-daily.csv", "WTI"),
        ("brent-daily.csv", "BRENT"),
        ("henry-hub-daily.csv", "NATGAS"),
    ] {
        let rows = energy_sources::replay::Replay::read_csv(&data.join(file))?;
        out.insert(code.to_owned(), rows.into_iter().collect());
    }
    Ok(out)
}

pub(crate) async fn check(
    store: &Store,
    key: &str,
    window: &[DateTime<Utc>],
    messages: &[String],
    last_heartbeats: &HashMap<String, Vec<DateTime<Utc>>>,
    data: &Path,
) -> anyhow::Result<Findings> {
    let mut found = Findings {
        fire_times: window.len(),
        ..Findings::default()
    };
    let fires: HashMap<DateTime<Utc>, _> = store
        .schedule()
        .fires(Some(key), 1_000_000)
        .await?
        .into_iter()
        .map(|f| (f.scheduled_for, f))
        .collect();
    let runs = store.runs().recent(1_000_000).await?;
    let mut runs_of: HashMap<DateTime<Utc>, Vec<&RunRecord>> = HashMap::new();
    for r in &runs {
        match (r.trigger, r.scheduled_for) {
            (Trigger::Schedule, Some(t)) if fires.contains_key(&t) => {
                runs_of.entry(t).or_default().push(r)
            }
            (Trigger::Schedule, t) => found.breach(format!(
                "run {} has no fire time in the ledger (scheduled_for {t:?})",
                r.uuid
            )),
            _ => {}
        }
    }
    for t in window {
        let Some(fire) = fires.get(t) else {
            found.lost += 1;
            found.breach(format!("{t}: no record in the ledger"));
            continue;
        };
        *found.by_state.entry(fire.state.name()).or_default() += 1;
        let attempts = store.schedule().attempts(key, *t).await?;
        let live = fire.attempt;
        let of_live: Vec<&&RunRecord> = runs_of
            .get(t)
            .map(|rs| rs.iter().filter(|r| r.attempt == Some(live)).collect())
            .unwrap_or_default();
        found.superseded_runs += runs_of.get(t).map_or(0, |rs| rs.len()) - of_live.len();
        if fire.state == FireState::Done && fire.notified_attempt.is_none() {
            found.unnotified += 1;
        }
        match fire.state {
            FireState::Running => {
                found.lost += 1;
                found.breach(format!(
                    "{t}: still running (attempt {live}, {})",
                    fire.claimed_by
                ));
            }
            FireState::Done => match fire.run.and_then(|id| runs.iter().find(|r| r.id == id)) {
                Some(run) if run.finished_at.is_some() => {}
                Some(run) => {
                    found.lost += 1;
                    found.breach(format!(
                        "{t}: done, but its run {} never finished",
                        run.uuid
                    ));
                }
                None => {
                    found.lost += 1;
                    found.breach(format!("{t}: done without a recorded run"));
                }
            },
            FireState::Missed => found.breach(format!(
                "{t}: missed although a replica was always running within the grace: {}",
                fire.note.as_deref().unwrap_or("")
            )),
            FireState::Interrupted => found.breach(format!(
                "{t}: interrupted: {}",
                fire.note.as_deref().unwrap_or("")
            )),
            FireState::Skipped | FireState::Coalesced | FireState::Failed => {}
            other => found.breach(format!("{t}: unexpected final state {}", other.name())),
        }
        if of_live.len() > 1 {
            found.duplicates += 1;
            found.breach(format!(
                "{t}: {} runs of its live attempt {live}",
                of_live.len()
            ));
        }
        let done_attempts = attempts
            .iter()
            .filter(|a| a.state == FireState::Done)
            .count();
        if done_attempts > 1 {
            found.duplicates += 1;
            found.breach(format!("{t}: {done_attempts} attempts recorded done"));
        }
        if live > 1 {
            found.taken_over += 1;
        }
        for pair in attempts.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            if !matches!(before.state, FireState::Interrupted | FireState::Superseded) {
                found.breach(format!(
                    "{t}: attempt {} is {} although attempt {} followed it",
                    before.attempt,
                    before.state.name(),
                    after.attempt
                ));
            }
            // the claimant's last heartbeat before the takeover
            let beat = last_heartbeats
                .get(&before.claimed_by)
                .and_then(|beats| beats.iter().filter(|b| **b <= after.claimed_at).max());
            match beat {
                Some(beat) => {
                    let seconds = (after.claimed_at - *beat).num_milliseconds() as f64 / 1000.0;
                    found.takeover_latency.push(seconds);
                    found.slowest.push((seconds, *t, before.claimed_by.clone()));
                    found.slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
                    found.slowest.truncate(5);
                }
                None => found.takeovers_unprovoked += 1,
            }
        }
    }
    // notifications: at most one per fire time, and none from an attempt taken over
    let mut notified: HashMap<DateTime<Utc>, usize> = HashMap::new();
    for m in messages {
        let Some(uuid) = run_named(m) else { continue };
        found.notifications += 1;
        let Some(run) = runs.iter().find(|r| r.uuid == uuid) else {
            found.breach(format!(
                "a notification names run {uuid}, which is not recorded"
            ));
            continue;
        };
        let Some(t) = run.scheduled_for else { continue };
        *notified.entry(t).or_default() += 1;
        // an attempt may notify only while it holds the fire time: the one that claimed the
        // notification in the ledger (it may have died after sending, before its outcome)
        if let Some(fire) = fires.get(&t)
            && run.attempt != fire.notified_attempt
        {
            found.breach(format!(
                "{t}: attempt {:?} notified, but the ledger gave the notification to attempt {:?} (attempt {} holds the fire time)",
                run.attempt, fire.notified_attempt, fire.attempt
            ));
        }
    }
    for (t, n) in notified {
        if n > 1 {
            found.duplicates += 1;
            found.breach(format!("{t}: notified {n} times"));
        }
    }
    // observations: one row per key, each equal to the replayed value
    let history = replayed(data).with_context(|| format!("cannot read {}", data.display()))?;
    let mut previous: Option<(String, String, chrono::NaiveDate)> = None;
    let mut wrong = Vec::new();
    let mut duplicated = 0usize;
    store
        .history()
        .export(&ExportFilter::default(), |o| {
            found.observations += 1;
            let key = (o.commodity.to_string(), o.source.to_string(), o.date);
            if previous.as_ref() == Some(&key) {
                duplicated += 1;
            }
            let expected = history
                .get(&key.0)
                .and_then(|rows| rows.get(&o.date))
                .and_then(|v| v.parse::<Price>().ok());
            if expected != Some(o.value) && wrong.len() < 10 {
                wrong.push(format!(
                    "{} {} {}: stored {}, replayed {expected:?}",
                    key.0, key.1, o.date, o.value
                ));
            }
            previous = Some(key);
            Ok::<(), std::convert::Infallible>(())
        })
        .await?
        .map_err(|e| match e {})?;
    if duplicated > 0 {
        found.duplicates += duplicated;
        found.breach(format!("{duplicated} observation keys stored twice"));
    }
    if found.observations == 0 {
        found.breach("no observation was stored".to_owned());
    }
    for w in wrong {
        found.breach(format!("observation not as replayed: {w}"));
    }
    Ok(found)
}
