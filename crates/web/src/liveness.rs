//! What the scheduler's loop shows the HTTP endpoints: when it last turned, its next fire
//! time. The loop writes it, `/healthz` and `/metrics` read it.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, Utc};

/// What the HTTP endpoints read: when the loop last turned, and the next fire time.
#[derive(Debug, Default)]
pub struct Liveness {
    last_loop_unix_ms: AtomicI64,
    next_fire_unix: AtomicI64,
    freshness_checks: AtomicU64,
}

impl Liveness {
    /// Seconds since the loop last turned (None before it first did).
    pub fn loop_age(&self, now: DateTime<Utc>) -> Option<f64> {
        let ms = self.last_loop_unix_ms.load(Ordering::Relaxed);
        (ms != 0).then(|| (now.timestamp_millis() - ms) as f64 / 1000.0)
    }

    /// The loop turned at `now`.
    pub fn loop_turned(&self, now: DateTime<Utc>) {
        self.last_loop_unix_ms
            .store(now.timestamp_millis(), Ordering::Relaxed);
    }

    /// The next fire time the loop will act on.
    pub fn next_fire_is(&self, next: Option<DateTime<Utc>>) {
        self.next_fire_unix
            .store(next.map_or(0, |t| t.timestamp()), Ordering::Relaxed);
    }

    /// A freshness check finished.
    pub fn freshness_checked(&self) {
        self.freshness_checks.fetch_add(1, Ordering::SeqCst);
    }

    /// Freshness checks finished since the scheduler started.
    pub fn freshness_checks(&self) -> u64 {
        self.freshness_checks.load(Ordering::SeqCst)
    }

    pub fn next_fire(&self) -> Option<DateTime<Utc>> {
        let s = self.next_fire_unix.load(Ordering::Relaxed);
        (s != 0).then(|| DateTime::from_timestamp(s, 0)).flatten()
    }
}
