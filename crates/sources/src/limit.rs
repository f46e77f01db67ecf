//! A provider's request budget: a GCRA token bucket (governor) that lets `burst` requests go at
//! once and then one per `1/rate`, plus a hold that a 429's `Retry-After` puts on every request
//! of that provider. Time is tokio's, so tests can pause it and see exact waits.

use std::{num::NonZeroU32, time::Duration};

use governor::{
    Quota, RateLimiter,
    clock::Clock,
    middleware::NoOpMiddleware,
    state::{InMemoryState, NotKeyed},
};
use tokio::{sync::Mutex, time::Instant};

/// tokio's clock, as the time elapsed since the limiter was made (governor measures with
/// `Duration`s); it stands still while a test has paused time.
#[derive(Debug, Clone)]
struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }
}

type Gcra = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;

/// How many requests a provider may make, and when.
#[derive(Debug)]
pub(crate) struct RateLimit {
    gcra: Option<(Gcra, TokioClock)>,
    /// No request before this instant (a `Retry-After` from the provider).
    held_until: Mutex<Option<Instant>>,
}

impl RateLimit {
    /// `per_second` sustained (0: unlimited), `burst` at once (at least 1). Callers validate
    /// both; an impossible rate is treated as unlimited rather than panicking.
    pub(crate) fn new(per_second: f64, burst: u32) -> Self {
        let period = (per_second.is_finite() && per_second > 0.0)
            .then(|| Duration::try_from_secs_f64(1.0 / per_second).ok())
            .flatten()
            .filter(|p| !p.is_zero());
        let gcra = period.and_then(Quota::with_period).map(|quota| {
            let quota = quota.allow_burst(NonZeroU32::new(burst.max(1)).expect("at least 1"));
            let clock = TokioClock {
                origin: Instant::now(),
            };
            (Gcra::direct_with_clock(quota, clock.clone()), clock)
        });
        Self {
            gcra,
            held_until: Mutex::new(None),
        }
    }

    /// Waits until this provider may make its next request, and takes that turn.
    pub(crate) async fn until_ready(&self) {
        let held = *self.held_until.lock().await;
        if let Some(until) = held {
            tokio::time::sleep_until(until).await;
        }
        let Some((gcra, clock)) = &self.gcra else {
            return;
        };
        loop {
            match gcra.check() {
                Ok(()) => return,
                Err(not_until) => tokio::time::sleep(not_until.wait_time_from(clock.now())).await,
            }
        }
    }

    /// No request of this provider goes out before `wait` from now has passed (a 429's
    /// `Retry-After`); a later hold already in place stays.
    pub(crate) async fn hold_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut held = self.held_until.lock().await;
        if held.is_none_or(|h| h < until) {
            *held = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `n` turns one after another; returns when each was granted, from the start.
    async fn turns(limit: &RateLimit, n: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..n {
            limit.until_ready().await;
            at.push(Instant::now() - start);
        }
        at
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_and_the_next_waits_for_its_token() {
        let limit = RateLimit::new(2.0, 3);
        let at = turns(&limit, 5).await;
        assert_eq!(
            at[..3],
            [Duration::ZERO; 3],
            "the burst goes at once: {at:?}"
        );
        assert_eq!(at[3], Duration::from_millis(500), "{at:?}");
        assert_eq!(at[4], Duration::from_millis(1000), "{at:?}");
        // after a quiet spell the bucket is full again
        tokio::time::sleep(Duration::from_secs(10)).await;
        let at = turns(&limit, 4).await;
        assert_eq!(at[..3], [Duration::ZERO; 3], "{at:?}");
        assert_eq!(at[3], Duration::from_millis(500), "{at:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_rate_never_waits() {
        let limit = RateLimit::new(0.0, 1);
        assert_eq!(turns(&limit, 100).await, vec![Duration::ZERO; 100]);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_holds_every_request_of_the_provider() {
        let limit = RateLimit::new(10.0, 10);
        limit.hold_for(Duration::from_secs(7)).await;
        // a shorter hold does not shorten it
        limit.hold_for(Duration::from_secs(1)).await;
        let at = turns(&limit, 2).await;
        assert_eq!(at, [Duration::from_secs(7), Duration::from_secs(7)]);
    }
}
