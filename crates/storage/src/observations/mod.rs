//! Observations and their revisions: writing batches (with the quarantined rows of the same
//! batch, in one transaction), the newest of each series, stored values and revisions, and
//! planner statistics after large writes. Reached as [`Store::observations`].

mod copy;
mod latest;
mod rows;
mod statistics;
mod values;
mod write;

pub use latest::SeriesLatest;
pub use values::RevisionRecord;
pub use write::{PG_COPY_THRESHOLD, WriteCounts};

use crate::Store;

/// Observations and their revisions, reached as [`Store::observations`].
#[derive(Debug, Clone, Copy)]
pub struct Observations<'s> {
    pub(crate) store: &'s Store,
}

impl Store {
    /// Observations and their revisions: writes, the newest of each series, stored values.
    pub fn observations(&self) -> Observations<'_> {
        Observations { store: self }
    }
}
