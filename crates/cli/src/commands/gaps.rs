//! `gaps`: the periods without a stored value inside each stored series' history (trading days
//! of its calendar for a daily series, weeks, months), as text or JSON.

use std::process::ExitCode;

use energy_orchestrator::{config, gaps, logs, wiring};

use crate::{
    args::{GapsArgs, GlobalArgs},
    exit::Failure,
    output::outln,
    render::fit,
};

/// Dates per line in the text view (11 characters each: fits 80 columns).
const DATES_PER_LINE: usize = 6;

pub(super) fn run(global: &GlobalArgs, args: &GapsArgs) -> Result<ExitCode, Failure> {
    let loaded = config::load(global.config.as_deref())?;
    loaded
        .config
        .check_selection(&args.commodities, &args.sources)?;
    let _log = logs::init(global.log_options(), &loaded.config.logging, None);
    let runtime = super::runtime()?;
    let found = runtime.block_on(async {
        let store = wiring::open_existing_store(&loaded.config).await?;
        Ok::<_, Failure>(
            gaps::find(&loaded.config, &store, &args.commodities, &args.sources).await?,
        )
    })?;
    if args.json {
        let text = serde_json::to_string(&found)
            .map_err(|e| Failure::Operational(anyhow::anyhow!("cannot write JSON: {e}")))?;
        outln!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    if found.is_empty() {
        outln!("nothing stored yet");
    }
    for s in &found {
        // 13 + 1 + 18 + 1 + 22 + 1 + 13 + 1 + 9 = 79 columns
        outln!(
            "{:<13} {:<18} {}..{} {:>6} stored {:>4} {}",
            fit(&format!("{}/{}", s.commodity, s.source), 13),
            // what a gap is counted on: the calendar of a daily series, else its resolution
            if s.resolution == energy_core::Resolution::Daily {
                s.calendar.name()
            } else {
                s.resolution.name()
            },
            s.first,
            s.last,
            s.stored,
            s.gaps.len(),
            if s.gaps.len() == 1 { "gap" } else { "gaps" }
        );
        for line in s.gaps.chunks(DATES_PER_LINE) {
            let dates: Vec<String> = line.iter().map(ToString::to_string).collect();
            outln!("  {}", dates.join(" "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
