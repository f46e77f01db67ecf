//! After a run: how many trading days each fetched series is missing before the window it
//! fetched. An incremental run re-reads the last `pipeline.revision_days`, which fills recent
//! gaps; the older ones are counted in the report for somebody to backfill.

use energy_core::RunReport;
use energy_storage::Store;

use crate::Config;

/// Sets `older_gaps` of every batch that had a window. A database that cannot be read here
/// loses nothing (the values are stored); the error is logged.
pub(super) async fn annotate(config: &Config, store: &Store, report: &mut RunReport) {
    for source in &mut report.sources {
        for batch in &mut source.commodities {
            let Some(window) = batch.window else { continue };
            let start = window.start();
            match store
                .observations()
                .stored_before(&batch.commodity, &source.source, start)
                .await
            {
                Ok(Some((first, stored))) => {
                    let calendar = config.calendar(&batch.commodity, &source.source);
                    let day_before = start.pred_opt().unwrap_or(start);
                    let resolution = config.resolution(&batch.commodity);
                    batch.older_gaps = energy_core::periods::missing(
                        resolution, calendar, first, day_before, stored,
                    );
                    if batch.older_gaps > 0 {
                        tracing::warn!(
                            commodity = %batch.commodity,
                            source = %source.source,
                            gaps = batch.older_gaps,
                            before = %start,
                            "periods without a value before the run's window (energy-pipeline gaps lists them)"
                        );
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "cannot count the gaps before the run's window");
                }
            }
        }
    }
}
