//! Weekly and monthly series end to end, through the binary against the replay server in the
//! providers' formats: fetched at their own frequency, stored exactly, judged by their release
//! rules, their gaps counted in weeks and months; a resolution changed under stored rows is a
//! configuration error.

use chrono::{Months, NaiveDate, Utc};
use energy_core::{Publication, Resolution, calendar::Calendar};
use energy_sources::replay::Replay;
use serde_json::Value;

use crate::{
    pipeline::{Db, Env, batch},
    support::{stderr, stdout},
};

const WPSR: &str = "weekly wednesday 10:30 America/New_York week ending friday";
const FRED_MONTHLY: &str = "monthly on day 20 17:00 America/New_York";

fn config(env: &Env, stocks_resolution: &str) -> String {
    format!(
        r#"database: {{ url: "{db}" }}
retry: {{ max_attempts: 2, initial_backoff_seconds: 0.01, max_backoff_seconds: 0.05 }}
commodities:
  US_CRUDE_STOCKS: {{ name: "U.S. crude oil stocks excl. SPR", unit: "kbbl", min_value: 0,
                     max_value: 2000000, resolution: {stocks_resolution} }}
  WTI_MONTHLY: {{ name: "WTI, monthly average", unit: "USD/bbl", min_value: -100,
                 max_value: 500, resolution: monthly }}
sources:
  eia:
    base_url: "{eia}"
    series: {{ US_CRUDE_STOCKS: "petroleum/stoc/wstk:WCESTUS1" }}
  fred:
    base_url: "{fred}"
    series: {{ WTI_MONTHLY: "MCOILWTICO" }}
  yahoo: {{ enabled: false, series: {{}} }}
"#,
        db = env.db_url(),
        eia = env.server.base_url("eia"),
        fred = env.server.base_url("fred"),
    )
}

/// `n` periods ending at `last`, stepping back with `back`, oldest first, without `skip`.
fn periods(
    last: NaiveDate,
    n: u32,
    skip: u32,
    back: impl Fn(NaiveDate, u32) -> NaiveDate,
    value: impl Fn(u32) -> String,
) -> Vec<(NaiveDate, String)> {
    (0..n)
        .rev()
        .filter(|i| *i != skip)
        .map(|i| (back(last, i), value(i)))
        .collect()
}

fn series<'a>(v: &'a Value, commodity: &str) -> &'a Value {
    v.as_array()
        .unwrap()
        .iter()
        .find(|s| s["commodity"] == commodity)
        .unwrap_or_else(|| panic!("{commodity} in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_and_monthly_series_are_fetched_stored_judged_and_gap_counted() {
    let now = Utc::now();
    let weekly_due = WPSR
        .parse::<Publication>()
        .unwrap()
        .expected(now, Calendar::Weekdays);
    let monthly_due = FRED_MONTHLY
        .parse::<Publication>()
        .unwrap()
        .expected(now, Calendar::Weekdays);
    // 20 weeks to the one that should be out, the 6th newest missing; 12 months likewise, the
    // 4th newest missing; values as published, trailing zeros included
    let weeks = periods(
        weekly_due,
        20,
        5,
        |d, i| Resolution::Weekly.periods_before(d, i).unwrap(),
        |i| format!("4{:02}951", i),
    );
    let months = periods(
        monthly_due,
        12,
        3,
        |d, i| d - Months::new(i),
        |i| format!("7{}.{:02}0", i % 10, i),
    );
    let replay = Replay::new();
    replay.series_at(
        "eia",
        "petroleum/stoc/wstk:WCESTUS1",
        Resolution::Weekly,
        weeks.clone(),
    );
    replay.series_at("fred", "MCOILWTICO", Resolution::Monthly, months.clone());
    let env = Env::new(replay, Db::Sqlite).await.unwrap();
    env.scratch.write("pipeline.yaml", &config(&env, "weekly"));

    let start = (monthly_due - Months::new(12)).to_string();
    let (code, report, err) = env
        .run_json(&["--mode", "backfill", "--start-date", &start])
        .await;
    assert_eq!(code, Some(0), "{err}\n{report}");
    assert_eq!(
        batch(&report, "eia", "US_CRUDE_STOCKS")["stored"],
        19,
        "{report}"
    );
    assert_eq!(
        batch(&report, "fred", "WTI_MONTHLY")["stored"],
        11,
        "{report}"
    );

    // stored exactly, dated as published: the week-ending Friday, the month's first day
    let stored = env.export(&["--commodity", "WTI_MONTHLY"]).await;
    let want: Vec<String> = months
        .iter()
        .map(|(d, v)| format!("WTI_MONTHLY,fred,{d},{v}"))
        .collect();
    assert_eq!(stored, want);
    let stocks = env.export(&["--commodity", "US_CRUDE_STOCKS"]).await;
    assert_eq!(stocks.len(), 19);
    assert_eq!(
        stocks.last().unwrap(),
        &format!("US_CRUDE_STOCKS,eia,{weekly_due},400951")
    );

    // judged by their release rules: what should be out is stored
    let out = env.run(&["status", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let status: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let weekly = series(&status["freshness"], "US_CRUDE_STOCKS");
    assert_eq!(weekly["resolution"], "weekly");
    assert_eq!(weekly["publication"], WPSR);
    assert_eq!(weekly["state"], "FRESH", "{weekly}");
    assert_eq!(weekly["expected_date"], weekly_due.to_string());
    assert_eq!(weekly["missing_periods"], 1, "{weekly}");
    assert_eq!(weekly["missing_trading_days"], Value::Null);
    let monthly = series(&status["freshness"], "WTI_MONTHLY");
    assert_eq!(monthly["resolution"], "monthly");
    assert_eq!(monthly["publication"], FRED_MONTHLY);
    assert_eq!(monthly["state"], "FRESH", "{monthly}");
    assert_eq!(monthly["missing_periods"], 1, "{monthly}");

    // gaps in weeks and months
    let out = env.run(&["gaps", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let gaps: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let week_gap = Resolution::Weekly.periods_before(weekly_due, 5).unwrap();
    assert_eq!(
        series(&gaps, "US_CRUDE_STOCKS")["gaps"],
        serde_json::json!([week_gap])
    );
    assert_eq!(series(&gaps, "US_CRUDE_STOCKS")["resolution"], "weekly");
    let month_gap = monthly_due - Months::new(3);
    assert_eq!(
        series(&gaps, "WTI_MONTHLY")["gaps"],
        serde_json::json!([month_gap])
    );
    let text = stdout(&env.run(&["gaps"]).await);
    assert!(
        text.contains("weekly") && text.contains(&week_gap.to_string()),
        "{text}"
    );

    // a resolution changed under stored rows: a configuration error that says what to do
    env.scratch.write("pipeline.yaml", &config(&env, "daily"));
    let out = env.run(&["run"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("US_CRUDE_STOCKS is configured daily but its stored rows are weekly")
            && err.contains("new commodity code"),
        "{err}"
    );
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_without_the_resolution_is_a_configuration_error() {
    let env = Env::new(Replay::new(), Db::Sqlite).await.unwrap();
    env.scratch.write(
        "pipeline.yaml",
        &format!(
            r#"database: {{ url: "{}" }}
commodities:
  WTI_MONTHLY: {{ name: "WTI, monthly", unit: "USD/bbl", resolution: monthly }}
sources:
  eia: {{ enabled: false }}
  fred: {{ enabled: false }}
  yahoo: {{ series: {{ WTI_MONTHLY: "CL=F" }} }}
"#,
            env.db_url()
        ),
    );
    let out = env.run(&["config", "check"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("sources.yahoo.series.WTI_MONTHLY")
            && text.contains("yahoo does not serve monthly series (it serves daily)"),
        "{text}"
    );
    env.cleanup().await;
}
