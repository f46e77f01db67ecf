//! The time "now" as a value that is passed in: the system clock in the binaries, a fixed or
//! scripted one in tests, so nothing depends on when it runs.

use std::sync::Arc;

use chrono::{DateTime, Utc};

/// The time "now", injectable so that tests can fix it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}
