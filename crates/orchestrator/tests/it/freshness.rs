//! Issue 15: each source's publication rule over Thanksgiving week 2026, with the clock injected
//! at the hours that matter (the release, the close, midnight in New York, and 00:10 UTC, when
//! New York is still on the day before).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use energy_core::{CommodityCode, Freshness, SourceId};
use energy_orchestrator::{Config, status::judge};

fn ny(s: &str) -> DateTime<Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    New_York
        .from_local_datetime(&local)
        .unwrap()
        .with_timezone(&Utc)
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// (state, expected date, trading days overdue) of `commodity` from `source` holding
/// `latest`, at New York time `at`.
fn at(
    commodity: &str,
    source: &str,
    latest: &str,
    when: DateTime<Utc>,
) -> (Freshness, NaiveDate, u32) {
    let (j, _, _) = judge(
        &Config::default(),
        &CommodityCode::new(commodity).unwrap(),
        &SourceId::new(source).unwrap(),
        Some(d(latest)),
        when,
    );
    (j.state, j.expected, j.overdue_days)
}

use Freshness::{Fresh, Late, Stale};

/// EIA's WTI spot: out Wednesdays 10:30 Eastern through the Monday. Holding Monday 16th (last
/// week's release), the week reads FRESH until Wednesday's release, LATE over Thanksgiving
/// (which does not count) and the weekend, STALE from the third trading day after.
#[test]
fn eia_weekly_over_thanksgiving_week() {
    let held = "2026-11-16";
    let cases = [
        ("2026-11-23 09:00", (Fresh, d("2026-11-16"), 0)),
        ("2026-11-25 10:29", (Fresh, d("2026-11-16"), 0)),
        ("2026-11-25 10:30", (Late, d("2026-11-23"), 0)),
        ("2026-11-26 12:00", (Late, d("2026-11-23"), 0)), // Thanksgiving
        ("2026-11-27 00:00", (Late, d("2026-11-23"), 1)),
        ("2026-11-30 00:00", (Late, d("2026-11-23"), 2)),
        ("2026-11-30 23:59", (Late, d("2026-11-23"), 2)),
        ("2026-12-01 00:00", (Stale, d("2026-11-23"), 3)),
    ];
    for (when, expected) in cases {
        assert_eq!(at("WTI", "eia", held, ny(when)), expected, "{when}");
    }
    // 00:10 UTC on Tuesday 1 December is still Monday evening in New York: LATE
    let early = Utc.with_ymd_and_hms(2026, 12, 1, 0, 10, 0).unwrap();
    assert_eq!(at("WTI", "eia", held, early).0, Late);
    // the release stored: FRESH again
    assert_eq!(
        at("WTI", "eia", "2026-11-23", ny("2026-11-25 11:00")).0,
        Fresh
    );
    // two releases missed: overdue since the first (Wednesday 18th), 5 trading days
    assert_eq!(
        at("WTI", "eia", "2026-11-09", ny("2026-11-25 10:30")),
        (Stale, d("2026-11-23"), 5)
    );
}

/// FRED's Henry Hub copy: EIA's release the same afternoon, through the Tuesday.
#[test]
fn fred_weekly_mirror_over_thanksgiving_week() {
    let held = "2026-11-17";
    assert_eq!(
        at("NATGAS", "fred", held, ny("2026-11-25 13:59")),
        (Fresh, d("2026-11-17"), 0)
    );
    assert_eq!(
        at("NATGAS", "fred", held, ny("2026-11-25 14:00")),
        (Late, d("2026-11-24"), 0)
    );
    assert_eq!(
        at("NATGAS", "fred", held, ny("2026-11-30 12:00")),
        (Late, d("2026-11-24"), 2)
    );
    assert_eq!(
        at("NATGAS", "fred", held, ny("2026-12-01 09:00")),
        (Stale, d("2026-11-24"), 3)
    );
    assert_eq!(
        at("NATGAS", "fred", "2026-11-24", ny("2026-12-01 09:00")).0,
        Fresh
    );
    // WTI on FRED: through the Monday
    assert_eq!(
        at("WTI", "fred", "2026-11-23", ny("2026-11-25 14:00")).0,
        Fresh
    );
}

/// Yahoo's daily bars: each trading day's after 18:00 Eastern. NYMEX is shut on Thanksgiving;
/// ICE Brent trades.
#[test]
fn yahoo_daily_over_thanksgiving_week() {
    let held = "2026-11-24";
    let cases = [
        ("2026-11-25 17:59", (Fresh, d("2026-11-24"), 0)),
        ("2026-11-25 18:00", (Late, d("2026-11-25"), 0)),
        ("2026-11-26 23:59", (Late, d("2026-11-25"), 0)), // Thanksgiving
        ("2026-11-27 09:00", (Late, d("2026-11-25"), 1)),
        ("2026-11-27 18:00", (Late, d("2026-11-27"), 1)),
        ("2026-11-30 00:00", (Late, d("2026-11-27"), 2)),
        ("2026-12-01 00:00", (Stale, d("2026-11-30"), 3)),
    ];
    for (when, expected) in cases {
        assert_eq!(at("WTI", "yahoo", held, ny(when)), expected, "{when}");
    }
    assert_eq!(
        at("WTI", "yahoo", "2026-11-25", ny("2026-11-27 17:59")).0,
        Fresh
    );
    // Brent futures trade on ICE on Thanksgiving: that evening Thursday's bar is due
    assert_eq!(
        at("BRENT", "yahoo", "2026-11-25", ny("2026-11-26 18:00")),
        (Late, d("2026-11-26"), 0)
    );
    assert_eq!(
        at("BRENT", "yahoo", "2026-11-26", ny("2026-11-26 18:00")).0,
        Fresh
    );
}

/// Nothing stored is STALE, with the date that should be there.
#[test]
fn nothing_stored_is_stale_with_the_expected_date() {
    let (j, _, _) = judge(
        &Config::default(),
        &CommodityCode::new("WTI").unwrap(),
        &SourceId::new("eia").unwrap(),
        None,
        ny("2026-11-25 12:00"),
    );
    assert_eq!((j.state, j.expected), (Stale, d("2026-11-23")));
}
