//! Issue 15: after a run, where two sources disagree on a date of its window. EIA and FRED
//! publish the same spot price: equal values pass, a changed FRED value is a warning naming
//! both; Yahoo's front month may differ from spot up to `monitor.basis_band`.

use chrono::NaiveDate;

use crate::pipeline::{Db, Env, real_data};

fn rows(values: &[&str]) -> Vec<(NaiveDate, String)> {
    // Monday 2 to Friday 13 March 2026
    let days = [2, 3, 4, 5, 6, 9, 10, 11, 12, 13];
    days.iter()
        .zip(values)
        .map(|(d, v)| {
            (
                NaiveDate::from_ymd_opt(2026, 3, *d).unwrap(),
                (*v).to_owned(),
            )
        })
        .collect()
}

const SPOT: [&str; 10] = [
    "65.10", "65.4", "66", "65.72", "64.9", "65.05", "65.3", "66.01", "65.8", "65.5",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_fred_value_is_a_warning_naming_both_and_equal_values_pass() {
    let replay = real_data();
    replay.series("eia", "petroleum/pri/spt:RWTC", rows(&SPOT));
    let mut fred = SPOT;
    fred[7] = "66.1"; // Wednesday 11 March: FRED's copy differs from EIA's
    replay.series("fred", "DCOILWTICO", rows(&fred));
    let mut future = SPOT;
    future[0] = "65.1"; // the same number, written otherwise
    future[4] = "88"; // Friday 6 March: spot 64.9 is 26% below, outside the default 25% band
    replay.series("yahoo", "CL=F", rows(&future));
    let env = Env::new(replay, Db::Sqlite).await.unwrap();
    let window = ["--start-date", "2026-03-02", "--end-date", "2026-03-13"];
    let (code, report, err) = env
        .run_json(
            &[
                &["--mode", "backfill", "--commodity", "WTI"][..],
                &window[..],
            ]
            .concat(),
        )
        .await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        report["status"], "success",
        "a warning fails nothing: {report}"
    );
    let warnings = report["cross_source"].as_array().unwrap();
    // fred's 66.1 against eia's 66.01 (a mismatch) and against yahoo's 66.01 (within the band);
    // yahoo's 88 against both spot copies (outside the band)
    assert_eq!(report["cross_source_warnings"], 3, "{warnings:#?}");
    let mismatch = warnings
        .iter()
        .find(|w| w["kind"] == "mismatch")
        .unwrap_or_else(|| panic!("{warnings:#?}"));
    assert_eq!(mismatch["date"], "2026-03-11");
    assert_eq!(mismatch["first"]["source"], "eia");
    assert_eq!(mismatch["first"]["value"], 66.01);
    assert_eq!(mismatch["second"]["source"], "fred");
    assert_eq!(mismatch["second"]["value"], 66.1);
    assert_eq!(
        mismatch["message"],
        "WTI 2026-03-11: eia has 66.01 but fred has 66.1 for the same price"
    );
    let basis: Vec<_> = warnings
        .iter()
        .filter(|w| w["kind"] == "outside_basis_band")
        .collect();
    assert_eq!(basis.len(), 2, "{warnings:#?}");
    assert!(
        basis
            .iter()
            .all(|w| w["date"] == "2026-03-06" && w["second"]["source"] == "yahoo")
    );

    // the dashboard shows the last run's warnings
    let out = env.run(&["status"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("eia has 66.01 but fred has 66.1"), "{text}");

    // FRED corrected: a run over the same window has nothing to say about the spot copies
    let replay = env.server.replay();
    replay.series("fred", "DCOILWTICO", rows(&SPOT));
    replay.series("yahoo", "CL=F", rows(&SPOT));
    let (code, report, err) = env
        .run_json(
            &[
                &["--mode", "backfill", "--commodity", "WTI"][..],
                &window[..],
            ]
            .concat(),
        )
        .await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(report["cross_source_warnings"], 0, "{report}");
    assert_eq!(report["cross_source"], serde_json::json!([]));
    env.cleanup().await;
}
