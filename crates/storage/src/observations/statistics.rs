//! Planner statistics after large writes. A fresh backfill of a million rows leaves PostgreSQL
//! without statistics until autovacuum comes round (minutes later), and the first `status`
//! after it planned its reads as if the table were empty: 410–540 ms instead of 63–87. So once
//! the rows this process wrote pass `growth::MIN_ROWS` (50,000) and have at least doubled the rows it had
//! written at the last refresh, the store runs `ANALYZE observations` (SQLite: with an
//! `analysis_limit`, so it samples instead of scanning). Doubling keeps it to a handful per
//! backfill (50,000, 100,000, 200,000, … rows); a daily run of a few hundred rows never does it.

use diesel_async::RunQueryDsl;

use super::Observations;
use crate::{StoreError, store::with_conn};

/// Rows SQLite's ANALYZE reads per index (`PRAGMA analysis_limit`): enough for plans.
const SQLITE_ANALYSIS_LIMIT: u32 = 1000;

impl Observations<'_> {
    /// Notes `rows` stored; refreshes the planner's statistics of `observations` when they are
    /// due. A failed refresh is logged, never the write's failure.
    pub(crate) async fn after_write(self, rows: u64) {
        if rows == 0 || !self.store.inner.growth.add(rows) {
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
    pub async fn analyze(self) -> Result<(), StoreError> {
        let sqlite = self.store.backend() == crate::Backend::Sqlite;
        with_conn!(self.store, "refreshing planner statistics", |conn| {
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
