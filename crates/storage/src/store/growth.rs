//! When planner statistics are due: rows a store has written, counted across its clones, due
//! at [`MIN_ROWS`] and again each time the count doubles (`write::statistics` refreshes them).

use std::sync::atomic::{AtomicU64, Ordering};

/// Rows written before statistics are first refreshed.
pub(crate) const MIN_ROWS: u64 = 50_000;

/// Rows this process has written, and how many it had at the last refresh.
#[derive(Debug, Default)]
pub(crate) struct Growth {
    written: AtomicU64,
    at_refresh: AtomicU64,
}

impl Growth {
    /// Adds `rows`; true when the statistics are due (this caller refreshes them).
    pub(crate) fn add(&self, rows: u64) -> bool {
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
