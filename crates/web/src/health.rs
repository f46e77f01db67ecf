//! `GET /healthz`: 200 when the database answers (and, in the scheduler, its loop turns), 503
//! otherwise, with a line per check.

use std::{fmt::Write as _, time::Duration};

use crate::Endpoints;

/// Whether the database answers and the loop turns, with a line saying so.
pub async fn health(e: &Endpoints) -> (bool, String) {
    let now = (e.clock)();
    let db = tokio::time::timeout(Duration::from_secs(3), e.store.health()).await;
    let db_ok = matches!(&db, Ok(h) if h.healthy);
    let loop_age = e.liveness.as_ref().map(|l| l.loop_age(now));
    let loop_ok = match loop_age {
        // no scheduler in this process (`energy-pipeline serve`): the database alone decides
        None => true,
        Some(age) => age.is_some_and(|age| age <= e.loop_timeout.as_secs_f64()),
    };
    let mut text = String::new();
    match db {
        Ok(h) if h.healthy => {
            let _ = writeln!(text, "database: ok ({})", h.backend);
        }
        Ok(h) => {
            let _ = writeln!(
                text,
                "database: DOWN: {}",
                energy_core::text::printable(&h.message)
            );
        }
        Err(_) => {
            let _ = writeln!(text, "database: DOWN: no answer within 3 s");
        }
    }
    match loop_age {
        None => {}
        Some(Some(age)) if loop_ok => {
            let _ = writeln!(text, "scheduler loop: ok (turned {age:.1} s ago)");
        }
        Some(Some(age)) => {
            let _ = writeln!(text, "scheduler loop: STUCK (last turned {age:.1} s ago)");
        }
        Some(None) => {
            let _ = writeln!(text, "scheduler loop: not started");
        }
    }
    (db_ok && loop_ok, text)
}
