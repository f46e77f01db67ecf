//! Planner statistics after large writes. A fresh backfill of a million rows leaves PostgreSQL
//! without statistics until autovacuum comes round (minutes later), and the first `status`
//! after it planned its reads as if the table were empty: 410–540 ms instead of 63–87. So once
//! the rows this process wrote pass `growth::MIN_ROWS` (50,000) and have at least doubled the rows it had
//! written at the last refresh, the store runs `VACUUM (ANALYZE) observations` on PostgreSQL
//! (the vacuum also sets the visibility map a fresh load lacks: measured on 1,000,000 fresh
//! rows, 104 ms against ANALYZE's 94) and `ANALYZE observations` on SQLite (with an
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

    /// `VACUUM (ANALYZE) observations` on PostgreSQL (a hypertable's chunks too), `ANALYZE`
    /// on SQLite.
    pub async fn analyze(self) -> Result<(), StoreError> {
        let sqlite = self.store.backend() == crate::Backend::Sqlite;
        with_conn!(self.store, "refreshing planner statistics", |conn| {
            async {
                if sqlite {
                    diesel::sql_query(format!("PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}"))
                        .execute(&mut conn)
                        .await?;
                }
                // PostgreSQL: VACUUM too, which marks the freshly written pages all-visible,
                // so index-only scans (the newest row of each series, counts over a year)
                // need not visit the table for each row; it reads only pages not yet marked
                // and cannot run in a transaction (this statement is none)
                let sql = if sqlite {
                    "ANALYZE observations"
                } else {
                    "VACUUM (ANALYZE) observations"
                };
                diesel::sql_query(sql).execute(&mut conn).await.map(|_| ())
            }
            .await
        })
    }
}
