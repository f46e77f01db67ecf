//! The market calendars against real published histories (EIA's spot series, 2020 to
//! 2026-08-18, in `tests/data`): no price on a day its calendar calls a holiday, and the days
//! without a price that the calendar calls trading days are few and known.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use energy_core::calendar::Calendar;

use crate::pipeline::data_dir;

/// The dates with a price in a history file.
fn priced(file: &str) -> BTreeSet<NaiveDate> {
    let text = std::fs::read_to_string(data_dir().join(file)).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let (d, v) = l.trim().split_once(',')?;
            (!v.is_empty()).then(|| d.parse().unwrap())
        })
        .collect()
}

/// (holidays with a price, trading days without one) from 2020-01-01 to the last price.
fn compare(file: &str, calendar: Calendar) -> (Vec<String>, Vec<String>) {
    let priced = priced(file);
    let last = *priced.iter().next_back().unwrap();
    let from: NaiveDate = "2019-12-31".parse().unwrap();
    let holidays: BTreeSet<NaiveDate> = (2020..=last.year())
        .flat_map(|y| calendar.holidays(y))
        .map(|(d, _)| d)
        .filter(|d| *d <= last)
        .collect();
    let priced_holidays = holidays
        .iter()
        .filter(|d| priced.contains(d))
        .map(ToString::to_string)
        .collect();
    let unpriced_trading_days = calendar
        .trading_days_after(from, last)
        .into_iter()
        .filter(|d| !priced.contains(d))
        .map(|d| d.to_string())
        .collect();
    (priced_holidays, unpriced_trading_days)
}

#[test]
fn the_published_histories_have_no_price_on_a_holiday() {
    // WTI (RWTC) and Henry Hub (RNGWHHD) follow NYMEX; on top of it, EIA's spot assessments
    // skipped the day after Thanksgiving in 2020 and 2021, Columbus Day and Veterans Day since
    // 2022/2023, and the national day of mourning of 2025-01-09 (WTI)
    let (on_holidays, missing) = compare("wti-daily.csv", Calendar::Nymex);
    assert_eq!(on_holidays, Vec::<String>::new());
    assert_eq!(
        missing,
        [
            "2020-11-27",
            "2021-11-26",
            "2023-10-09",
            "2023-11-10",
            "2024-10-14",
            "2024-11-11",
            "2025-01-09",
            "2025-10-13",
            "2025-11-11"
        ]
    );
    let (on_holidays, missing) = compare("henry-hub-daily.csv", Calendar::Nymex);
    assert_eq!(on_holidays, Vec::<String>::new());
    assert_eq!(
        missing,
        [
            "2020-11-27",
            "2021-11-26",
            "2022-10-10",
            "2023-10-09",
            "2024-10-14",
            "2025-11-11",
            "2025-11-28",
            "2025-12-26",
            "2026-01-02"
        ]
    );
    // Brent spot (RBRTE) is assessed in London: no price on a UK bank holiday that is not a
    // substitute day (EIA priced three substitute or proclaimed days), none missing otherwise
    let (on_holidays, missing) = compare("brent-daily.csv", Calendar::UkBankHolidays);
    assert_eq!(on_holidays, ["2020-12-28", "2022-01-03", "2022-06-03"]);
    assert_eq!(missing, Vec::<String>::new());
}

/// Issue 15: `gaps` lists a trading day without a value inside a stored history, and not the
/// holiday beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gaps_lists_a_missing_trading_day_and_not_a_holiday() {
    use energy_sources::replay::Replay;

    use crate::{
        pipeline::{Db, Env},
        support::{stderr, stdout},
    };
    let replay = Replay::new();
    // Thanksgiving week 2025: Tuesday the 25th is missing, Thursday the 27th is a holiday
    let rows = [
        "2025-11-20",
        "2025-11-21",
        "2025-11-24",
        "2025-11-26",
        "2025-11-28",
        "2025-12-01",
    ]
    .iter()
    .map(|d| (d.parse().unwrap(), "58.5".to_owned()))
    .collect();
    replay.series("eia", "petroleum/pri/spt:RWTC", rows);
    let env = Env::new(replay, Db::Sqlite).await.unwrap();
    let (_, report, err) = env
        .run_json(&[
            "--mode",
            "backfill",
            "--start-date",
            "2025-11-20",
            "--end-date",
            "2025-12-01",
            "--source",
            "eia",
            "--commodity",
            "WTI",
        ])
        .await;
    assert_eq!(report["stored"], 6, "{report}\n{err}");
    let out = env.run(&["gaps", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    let wti = &v[0];
    assert_eq!(wti["commodity"], "WTI");
    assert_eq!(wti["source"], "eia");
    assert_eq!(wti["calendar"], "nymex");
    assert_eq!(wti["first"], "2025-11-20");
    assert_eq!(wti["last"], "2025-12-01");
    assert_eq!(wti["stored"], 6);
    assert_eq!(wti["gaps"], serde_json::json!(["2025-11-25"]));
    let text = stdout(&env.run(&["gaps", "--commodity", "WTI"]).await);
    assert!(text.contains("WTI/eia") && text.contains("1 gap"), "{text}");
    // issue 30, item 12: the series line was 82 columns (81 with "gap") and wrapped
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "a line over 80 columns:\n{text}"
    );
    assert!(
        text.contains("2025-11-25") && !text.contains("2025-11-27"),
        "{text}"
    );
    // an unknown commodity is refused like everywhere else
    let out = env.run(&["gaps", "--commodity", "GOLD"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Issue 15: an incremental run fetches again from `pipeline.revision_days` before the latest
/// stored date, so a recent gap is filled once the provider has the day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_run_fills_a_recent_gap() {
    use energy_sources::replay::Replay;

    use crate::{
        pipeline::{Db, Env, recent_weekdays},
        support::stdout,
    };
    // NYMEX trading days only: a value on a holiday (Thanksgiving, when the test runs in the
    // two weeks after it) is counted among the stored dates and hides the gap from `status`
    let all: Vec<_> = recent_weekdays(12, 1, |i| format!("60.{i}"))
        .into_iter()
        .filter(|(d, _)| Calendar::Nymex.is_trading_day(*d))
        .collect();
    // a NYMEX trading day inside the history, within revision_days (7) of its end
    let (hole, _) = all[..all.len() - 1]
        .iter()
        .rev()
        .take(4)
        .find(|(d, _)| Calendar::Nymex.is_trading_day(*d))
        .cloned()
        .expect("a trading day among four weekdays");
    let without: Vec<_> = all.iter().filter(|(d, _)| *d != hole).cloned().collect();
    let replay = Replay::new();
    replay.series("eia", "petroleum/pri/spt:RWTC", without);
    let env = Env::new(replay.clone(), Db::Sqlite).await.unwrap();
    let gaps = async || {
        let out = env
            .run(&["gaps", "--commodity", "WTI", "--source", "eia", "--json"])
            .await;
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        v[0]["gaps"].clone()
    };
    let args = ["--source", "eia", "--commodity", "WTI"];
    let (code, report, err) = env.run_json(&args).await;
    assert_eq!(code, Some(0), "{report}\n{err}");
    assert_eq!(gaps().await, serde_json::json!([hole.to_string()]));
    // status counts it too
    let counted = async || {
        let out = env.run(&["status", "--json"]).await;
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        v["freshness"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["commodity"] == "WTI" && s["source"] == "eia")
            .unwrap()["missing_trading_days"]
            .clone()
    };
    assert_eq!(counted().await, 1);
    // the provider publishes the day late; the next incremental run picks it up
    replay.series("eia", "petroleum/pri/spt:RWTC", all);
    let (code, report, err) = env.run_json(&args).await;
    assert_eq!(code, Some(0), "{report}\n{err}");
    assert_eq!(report["stored"], 1, "{report}");
    assert_eq!(gaps().await, serde_json::json!([]));
    assert_eq!(counted().await, 0);
}

/// Issue 15: a gap older than the window an incremental run fetches again is not fetched, but
/// counted in the run's report (JSON and text) for somebody to backfill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_run_reports_the_gaps_before_its_window() {
    use energy_sources::replay::Replay;

    use crate::{
        pipeline::{Db, Env, batch},
        support::stdout,
    };
    // the weekdays of 2 to 27 March 2026 (no NYMEX holiday), without Wednesday the 11th
    let rows: Vec<(NaiveDate, String)> = Calendar::Nymex
        .trading_days_after("2026-03-01".parse().unwrap(), "2026-03-27".parse().unwrap())
        .into_iter()
        .filter(|d| d.day() != 11)
        .map(|d| (d, "61.5".to_owned()))
        .collect();
    let replay = Replay::new();
    replay.series("eia", "petroleum/pri/spt:RWTC", rows);
    let env = Env::new(replay, Db::Sqlite).await.unwrap();
    let args = ["--source", "eia", "--commodity", "WTI"];
    let backfill = [
        &args[..],
        &[
            "--mode",
            "backfill",
            "--start-date",
            "2026-03-02",
            "--end-date",
            "2026-03-27",
        ],
    ]
    .concat();
    let (code, report, err) = env.run_json(&backfill).await;
    assert_eq!(code, Some(0), "{report}\n{err}");
    // the hole is inside the backfill's window: nothing older
    assert_eq!(batch(&report, "eia", "WTI")["older_gaps"], 0, "{report}");
    // an incremental run reads from 7 days before the 27th: the 11th is older
    let (code, report, err) = env.run_json(&args).await;
    assert_eq!(code, Some(0), "{report}\n{err}");
    assert_eq!(
        batch(&report, "eia", "WTI")["window"]["start"],
        "2026-03-20"
    );
    assert_eq!(batch(&report, "eia", "WTI")["older_gaps"], 1, "{report}");
    let out = env
        .run(&["run", "--source", "eia", "--commodity", "WTI"])
        .await;
    let text = stdout(&out);
    assert!(
        text.contains("WTI/eia: 1 trading day without a value before 2026-03-20"),
        "{text}"
    );
}
