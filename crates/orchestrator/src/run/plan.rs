//! Planning a run: the (source, commodity) batches to fetch and each one's window of market
//! dates, from the mode and what is stored.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use energy_core::{
    BatchError, CommodityCode, CommoditySpec, DateWindow, ErrorKind, RunMode, SourceId,
    SourceReport, SourceStatus,
};
use energy_sources::BuiltSource;
use energy_storage::StoreError;

use super::{Job, Pipeline, RunRequest, empty_source_report};

impl Pipeline {
    /// The batches to fetch, and a report for every source that takes part.
    pub(super) fn plan(
        &self,
        request: &RunRequest,
    ) -> (Vec<Job>, BTreeMap<SourceId, SourceReport>) {
        let mut jobs = Vec::new();
        let mut reports = BTreeMap::new();
        let wanted_source =
            |id: &SourceId| request.sources.is_empty() || request.sources.contains(id);
        let wanted_commodity =
            |c: &CommodityCode| request.commodities.is_empty() || request.commodities.contains(c);
        for built in &self.sources {
            let id = built.id().clone();
            if !wanted_source(&id) {
                continue;
            }
            let report = match built {
                BuiltSource::Ready(source) => {
                    let series = self
                        .config
                        .sources
                        .get(id.as_str())
                        .map(|p| p.series.clone())
                        .unwrap_or_default();
                    for (code, series) in series {
                        let Some(spec) = self.config.commodities.get(&code) else {
                            continue;
                        };
                        if wanted_commodity(&code) {
                            jobs.push(Job {
                                source: source.clone(),
                                commodity: code,
                                spec: spec.clone(),
                                series,
                            });
                        }
                    }
                    empty_source_report(&id, SourceStatus::Success, None)
                }
                BuiltSource::Skipped { reason, .. } => {
                    tracing::warn!(source = %id, "{reason}; skipped");
                    empty_source_report(&id, SourceStatus::Skipped, Some(reason.to_batch_error()))
                }
                BuiltSource::Disabled(_) if request.sources.contains(&id) => empty_source_report(
                    &id,
                    SourceStatus::Skipped,
                    Some(BatchError::new(
                        ErrorKind::SourceConfig,
                        format!("{id} is disabled (sources.{id}.enabled)"),
                    )),
                ),
                BuiltSource::Disabled(_) => continue,
            };
            reports.insert(id, report);
        }
        (jobs, reports)
    }

    /// Today's date in the market's time zone.
    pub(super) fn today(&self, spec: &CommoditySpec) -> NaiveDate {
        spec.today((self.clock)())
    }

    pub(super) async fn window(&self, job: &Job, mode: RunMode) -> Result<DateWindow, StoreError> {
        let today = self.today(&job.spec);
        let p = &self.config.pipeline;
        Ok(match mode {
            RunMode::Backfill(w) => w,
            RunMode::FullRefresh => DateWindow::ending_at(today, p.full_refresh_days),
            RunMode::Incremental => match self
                .store
                .observations()
                .latest_date(&job.commodity, job.source.id())
                .await?
            {
                Some(latest) => {
                    let start = latest
                        .checked_sub_days(Days::new(u64::from(p.revision_days)))
                        .unwrap_or(latest)
                        .min(today);
                    DateWindow::new(start, today)
                        .unwrap_or_else(|_| DateWindow::ending_at(today, 1))
                }
                None => DateWindow::ending_at(today, p.lookback_days),
            },
        })
    }
}
