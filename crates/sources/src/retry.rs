//! The `retry` section of the configuration: how the HTTP layer retries timeouts, connection
//! errors, 5xx and 429.

use energy_core::bounds::outside;
use serde::{Deserialize, Serialize};

/// The `retry` section: how the HTTP layer retries timeouts, connection errors, 5xx and 429.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Attempts per request, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles each time, with jitter.
    pub initial_backoff_seconds: f64,
    /// Upper bound of one wait, also for a server's `Retry-After`.
    pub max_backoff_seconds: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff_seconds: 2.0,
            max_backoff_seconds: 60.0,
        }
    }
}

impl RetryConfig {
    /// Problems with the values, each as (key, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(m) = outside(self.max_attempts, 1..=20, "attempts") {
            out.push(("max_attempts", m));
        }
        if let Some(m) = outside(self.initial_backoff_seconds, 0.0..=3600.0, "seconds") {
            out.push(("initial_backoff_seconds", m));
        }
        if let Some(m) = outside(self.max_backoff_seconds, 0.0..=3600.0, "seconds") {
            out.push(("max_backoff_seconds", m));
        } else if self.max_backoff_seconds < self.initial_backoff_seconds {
            out.push((
                "max_backoff_seconds",
                format!(
                    "{} is below initial_backoff_seconds {}",
                    self.max_backoff_seconds, self.initial_backoff_seconds
                ),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_values_are_checked() {
        let bad = RetryConfig {
            max_attempts: 0,
            initial_backoff_seconds: 5.0,
            max_backoff_seconds: 1.0,
        };
        let keys: Vec<_> = bad.problems().into_iter().map(|p| p.0).collect();
        assert_eq!(keys, ["max_attempts", "max_backoff_seconds"]);
    }
}
