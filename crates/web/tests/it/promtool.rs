//! `/metrics` as Prometheus' own linter reads it: `curl -s …/metrics | promtool check metrics`
//! exits 0 with nothing to say (HELP and TYPE for every name a sample carries, base units).
//! promtool comes from Debian's `prometheus` package, which `.ci/run` installs.

use std::{
    io::Write,
    process::{Command, Stdio},
    sync::Arc,
    time::Duration,
};

use chrono::{TimeZone, Utc};
use energy_core::Clock;
use energy_core::{CommodityCode, RunMode};
use energy_orchestrator::{
    NoProgress, RunRequest,
    testing::{Behaviour, setup_with_clock},
};
use energy_web::Liveness;
use tokio_util::sync::CancellationToken;

use super::serve;

/// `promtool check metrics` on `body`: its exit status and what it said; `None` when promtool
/// is not installed (a failure under CI, where `.ci/run` installs it).
fn promtool_check(body: &str) -> Option<(bool, String)> {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "promtool not found: under CI it must be installed (Debian's `prometheus` package; .ci/run installs it)"
            );
            eprintln!(
                "SKIPPED: promtool not found (install Debian's `prometheus` package to run this test)"
            );
            return None;
        }
        Err(e) => panic!("promtool: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), said))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool_check_metrics() {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0).unwrap();
    let clock: Clock = Arc::new(move || now);
    // WTI stored, the other series without data (their age +Inf): every family has samples
    let s = setup_with_clock([Behaviour::Data; 3], 3, Duration::ZERO, clock.clone()).await;
    let mut request = RunRequest::manual(RunMode::Incremental);
    request.commodities = vec![CommodityCode::new("WTI").unwrap()];
    s.pipeline
        .run(request, CancellationToken::new(), Arc::new(NoProgress))
        .await
        .unwrap();
    let liveness = Arc::new(Liveness::default());
    liveness.loop_turned(now);
    liveness.next_fire_is(Some(now + chrono::Duration::hours(14)));
    let (base, stop) = serve(&s, clock, Some(liveness)).await;
    // what `curl -s …/metrics` gets: no Accept header
    let body = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    stop.cancel();
    for family in [
        "energy_pipeline_scheduler_up",
        "energy_pipeline_database_up",
        "energy_pipeline_runs_total",
        "energy_pipeline_runs_running",
        "energy_pipeline_fire_times_taken_over_total",
        "energy_pipeline_series_age_seconds",
        "energy_pipeline_next_fire_timestamp_seconds",
    ] {
        assert!(
            body.contains(&format!("\n# TYPE {family} ")),
            "{family} missing from\n{body}"
        );
    }
    let Some((ok, said)) = promtool_check(&body) else {
        return;
    };
    assert!(
        ok && said.trim().is_empty(),
        "promtool check metrics: {said}\non\n{body}"
    );
}
