//! Planner statistics after large writes. A fresh backfill of a million rows leaves PostgreSQL
//! without statistics until autovacuum comes round (minutes later), and the first `status`
//! after it planned its reads as if the table were empty: 410–540 ms instead of 63–87. So once
//! the rows this process wrote pass [`MIN_ROWS`] and have at least doubled the rows it had
//! written at the last refresh, the store runs `ANALYZE observations` (SQLite: with an
//! `analysis_limit`, so it samples instead of scanning). Doubling keeps it to a handful per
//! backfill (50,000, 100,000, 200,000, … rows); a daily run of a few hundred rows never does it.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel_async::RunQueryDsl;

use crate::{Store, StoreError, store::with_conn};

/// Rows written before statistics are first refreshed.
pub(crate) const MIN_ROWS: u64 = 50_000;

/// Rows SQLite's ANALYZE reads per index (`PRAGMA analysis_limit`): enough for plans.
const SQLITE_ANALYSIS_LIMIT: u32 = 1000;

/// Rows this process has written, and how many it had at the last refresh.
#[derive(Debug, Default)]
pub(crate) struct Growth {
    written: AtomicU64,
    at_refresh: AtomicU64,
}

impl Growth {
    /// Adds `rows`; true when the statistics are due (this caller refreshes them).
    fn add(&self, rows: u64) -> bool {
        let written = self.written.fetch_add(rows, Ordering::Relaxed) + rows;
        let last = AtomicU64::load(&self.at_refresh, Ordering::Relaxed);
        written >= MIN_ROWS
            && written - last >= last.max(MIN_ROWS)
            && self
                .at_refresh
                .compare_exchange(last, written, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

impl Store {
    /// Notes `rows` stored; refreshes the planner's statistics of `observations` when they are
    /// due. A failed refresh is logged, never the write's failure.
    pub(crate) async fn after_write(&self, rows: u64) {
        if rows == 0 || !self.inner.growth.add(rows) {
            return;
        }
        let started = std::time::Instant::now();
        match self.analyze().await {
            Ok(()) => tracing::debug!(
                ms = started.elapsed().as_millis() as u64,
                "planner statistics of observations refreshed after a large write"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "cannot refresh the planner statistics of observations")
            }
        }
    }

    /// `ANALYZE observations` (a hypertable's chunks too).
    pub async fn analyze(&self) -> Result<(), StoreError> {
        let sqlite = self.backend() == crate::Backend::Sqlite;
        with_conn!(self, "refreshing planner statistics", |conn| {
            async {
                if sqlite {
                    diesel::sql_query(format!("PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}"))
                        .execute(&mut conn)
                        .await?;
                }
                diesel::sql_query("ANALYZE observations")
                    .execute(&mut conn)
                    .await
                    .map(|_| ())
            }
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Growth, MIN_ROWS};

    #[test]
    fn statistics_are_due_at_the_threshold_then_each_time_the_rows_double() {
        let g = Growth::default();
        let mut due = Vec::new();
        let mut total = 0;
        for _ in 0..100 {
            total += 10_000;
            if g.add(10_000) {
                due.push(total);
            }
        }
        assert_eq!(due, [MIN_ROWS, 100_000, 200_000, 400_000, 800_000]);
        let small = Growth::default();
        assert!(
            (0..100).all(|_| !small.add(300)),
            "a daily run never refreshes"
        );
    }
}
