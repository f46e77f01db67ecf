//! EIA series picked by any facets of their route (`route?facet=value&…`), through the binary
//! against the replay server: fetched, stored exactly, beside a series of the same route picked
//! by its `series` facet; a selector that is no selection is refused by `config check`.

use chrono::NaiveDate;
use energy_core::Resolution;
use energy_sources::replay::Replay;

use crate::{
    pipeline::{Db, Env, batch},
    support::{stderr, stdout},
};

const WTI: &str = "petroleum/pri/spt?duoarea=NUS&product=EPCWTI&process=PF4";
const STOCKS: &str = "petroleum/stoc/wstk?duoarea=NUS&product=EPC0&process=SAE";

fn config(env: &Env, wti: &str) -> String {
    format!(
        r#"database: {{ url: "{db}" }}
retry: {{ max_attempts: 2, initial_backoff_seconds: 0.01, max_backoff_seconds: 0.05 }}
commodities:
  WTI: {{ name: "WTI crude", unit: "USD/bbl", min_value: -100, max_value: 500 }}
  BRENT: {{ name: "Brent crude", unit: "USD/bbl", min_value: -100, max_value: 500 }}
  US_CRUDE_STOCKS: {{ name: "U.S. crude oil stocks", unit: "kbbl", min_value: 0,
                     max_value: 2000000, resolution: weekly }}
sources:
  eia:
    base_url: "{eia}"
    series:
      WTI: "{wti}"
      BRENT: "petroleum/pri/spt:RBRTE"
      US_CRUDE_STOCKS: "{STOCKS}"
  fred: {{ enabled: false, series: {{}} }}
  yahoo: {{ enabled: false, series: {{}} }}
"#,
        db = env.db_url(),
        eia = env.server.base_url("eia"),
    )
}

fn rows(dates: &[&str], value: impl Fn(usize) -> String) -> Vec<(NaiveDate, String)> {
    dates
        .iter()
        .enumerate()
        .map(|(i, d)| (d.parse().unwrap(), value(i)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_picked_by_facets_are_fetched_and_stored_exactly() {
    let days = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"];
    let wti = rows(&days, |i| format!("7{i}.10"));
    let brent = rows(&days, |i| format!("7{}.5", i + 5));
    let weeks = rows(&["2023-12-22", "2023-12-29", "2024-01-05"], |i| {
        format!("43{i}950")
    });
    let replay = Replay::new();
    replay.series("eia", WTI, wti.clone());
    replay.series("eia", "petroleum/pri/spt:RBRTE", brent.clone());
    replay.series_at("eia", STOCKS, Resolution::Weekly, weeks.clone());
    let env = Env::new(replay, Db::Sqlite).await.unwrap();
    env.scratch.write("pipeline.yaml", &config(&env, WTI));

    let out = env.run(&["config", "check"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let (code, report, err) = env
        .run_json(&[
            "--mode",
            "backfill",
            "--start-date",
            "2023-12-18",
            "--end-date",
            "2024-01-05",
        ])
        .await;
    assert_eq!(code, Some(0), "{err}\n{report}");
    assert_eq!(batch(&report, "eia", "WTI")["stored"], 4, "{report}");
    assert_eq!(batch(&report, "eia", "BRENT")["stored"], 4, "{report}");
    assert_eq!(
        batch(&report, "eia", "US_CRUDE_STOCKS")["stored"],
        3,
        "{report}"
    );
    for (code, want) in [
        ("WTI", &wti),
        ("BRENT", &brent),
        ("US_CRUDE_STOCKS", &weeks),
    ] {
        let stored = env.export(&["--commodity", code]).await;
        let want: Vec<String> = want
            .iter()
            .map(|(d, v)| format!("{code},eia,{d},{v}"))
            .collect();
        assert_eq!(stored, want, "{code}");
    }

    // a query that selects nothing: refused where it is written, before anything is fetched
    env.scratch.write(
        "pipeline.yaml",
        &config(&env, "petroleum/pri/spt?duoarea=NUS&duoarea=R10"),
    );
    let out = env.run(&["config", "check"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("pipeline.yaml:")
            && text.contains("facet `duoarea` is given twice")
            && text.contains("ROUTE?FACET=VALUE"),
        "{text}"
    );
    env.cleanup().await;
}
