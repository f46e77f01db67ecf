//! Publication rules: their spelling, and the releases they mean around holidays.

use super::*;
use chrono::TimeZone;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A New York wall-clock moment.
fn ny(s: &str) -> DateTime<Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    chrono_tz::America::New_York
        .from_local_datetime(&local)
        .unwrap()
        .with_timezone(&Utc)
}

fn rule(s: &str) -> Publication {
    s.parse().unwrap()
}

const EIA: &str = "weekly wednesday 10:30 America/New_York through monday";

#[test]
fn rules_are_spelled_in_one_line() {
    for s in [
        "daily after 18:00 America/New_York",
        "weekly wednesday 10:30 America/New_York through monday",
        "weekly thursday 12:00 Europe/London through thursday",
    ] {
        assert_eq!(rule(s).to_string(), s);
        let json = serde_json::to_string(&rule(s)).unwrap();
        assert_eq!(serde_json::from_str::<Publication>(&json).unwrap(), rule(s));
    }
    for (bad, says) in [
        ("hourly", "unrecognised form"),
        (
            "daily after 25:00 America/New_York",
            "`25:00` is not a time",
        ),
        (
            "daily after 18:00 Mars/Olympus",
            "`Mars/Olympus` is not an IANA time zone",
        ),
        (
            "weekly someday 10:30 UTC through monday",
            "`someday` is not a day",
        ),
        (
            "weekly monday 10:30 UTC through friday",
            "cannot carry friday",
        ),
    ] {
        let err = bad.parse::<Publication>().unwrap_err();
        assert!(
            err.contains(says) && err.contains("expected `daily after"),
            "{err}"
        );
    }
}

#[test]
fn a_weekly_release_carries_the_trading_days_through_its_day() {
    let eia = rule(EIA);
    // Wednesday 2025-11-26 (Thanksgiving week): out at 10:30, through Monday 24th — FRED's
    // DCOILWTICO had 2025-11-24 as its latest on the 27th (API_FORMATS.md)
    let r = eia.latest_release(ny("2025-11-26 10:30"), Calendar::Nymex);
    assert_eq!((r.due, r.covers), (ny("2025-11-26 10:30"), d("2025-11-24")));
    // a minute before, the week before's is the latest
    let r = eia.latest_release(ny("2025-11-26 10:29"), Calendar::Nymex);
    assert_eq!((r.due, r.covers), (ny("2025-11-19 10:30"), d("2025-11-17")));
    assert_eq!(eia.previous(&r, Calendar::Nymex).covers, d("2025-11-10"));
    // Saturday: Wednesday's is the latest
    assert_eq!(
        eia.expected(ny("2025-11-29 12:00"), Calendar::Nymex),
        d("2025-11-24")
    );
}

#[test]
fn a_federal_holiday_early_in_the_week_moves_the_release_a_day() {
    let eia = rule(EIA);
    // Labor Day 2015 (Monday 7 September): EIA's page of RWTC said "next release 2015-09-10", a
    // Thursday (API_FORMATS.md's sources; jrovegno/csvy's copy of the page's header)
    let r = eia.latest_release(ny("2015-09-10 11:00"), Calendar::Nymex);
    assert_eq!(r.due, ny("2015-09-10 10:30"));
    // through Monday, which was the holiday: the Friday before
    assert_eq!(r.covers, d("2015-09-04"));
    assert_eq!(
        eia.expected(ny("2015-09-09 23:00"), Calendar::Nymex),
        d("2015-08-31")
    );
    // Veterans Day on Wednesday 2026-11-11: Thursday
    let r = eia.latest_release(ny("2026-11-13 09:00"), Calendar::Nymex);
    assert_eq!((r.due, r.covers), (ny("2026-11-12 10:30"), d("2026-11-09")));
    // Thanksgiving (Thursday) is after the release: no delay
    let r = eia.latest_release(ny("2026-11-25 10:30"), Calendar::Nymex);
    assert_eq!((r.due, r.covers), (ny("2026-11-25 10:30"), d("2026-11-23")));
}

#[test]
fn a_daily_release_is_due_after_the_close_of_each_trading_day() {
    let yahoo = rule("daily after 18:00 America/New_York");
    // Wednesday before Thanksgiving 2026
    assert_eq!(
        yahoo.expected(ny("2026-11-25 17:59"), Calendar::Nymex),
        d("2026-11-24")
    );
    assert_eq!(
        yahoo.expected(ny("2026-11-25 18:00"), Calendar::Nymex),
        d("2026-11-25")
    );
    // Thanksgiving and the weekend after: Wednesday's
    assert_eq!(
        yahoo.expected(ny("2026-11-26 23:00"), Calendar::Nymex),
        d("2026-11-25")
    );
    assert_eq!(
        yahoo.expected(ny("2026-11-27 18:00"), Calendar::Nymex),
        d("2026-11-27")
    );
    assert_eq!(
        yahoo.expected(ny("2026-11-30 09:00"), Calendar::Nymex),
        d("2026-11-27")
    );
    let r = yahoo.latest_release(ny("2026-11-27 18:00"), Calendar::Nymex);
    assert_eq!(yahoo.previous(&r, Calendar::Nymex).covers, d("2026-11-25"));
    // the clocks change (2026-11-01, 02:00 New York): 18:00 is still 18:00 local
    assert_eq!(
        yahoo
            .latest_release(ny("2026-11-02 18:00"), Calendar::Nymex)
            .due,
        Utc.with_ymd_and_hms(2026, 11, 2, 23, 0, 0).unwrap()
    );
}

const WPSR: &str = "weekly wednesday 10:30 America/New_York week ending friday";

#[test]
fn weekly_and_monthly_series_rules_are_spelled_in_one_line() {
    for s in [
        WPSR,
        "monthly on day 15 17:00 America/Chicago",
        "monthly on day 3 09:00 Europe/London lag 2",
    ] {
        assert_eq!(rule(s).to_string(), s);
    }
    assert_eq!(
        rule("monthly on day 15 17:00 America/Chicago lag 1").to_string(),
        "monthly on day 15 17:00 America/Chicago"
    );
    for (bad, says) in [
        (
            "monthly on day 32 17:00 UTC",
            "`32` is not a day of the month",
        ),
        ("monthly on day 5 17:00 UTC lag x", "`x` is not a lag"),
        (
            "weekly wednesday 10:30 UTC week ending someday",
            "`someday` is not a day",
        ),
    ] {
        let err = bad.parse::<Publication>().unwrap_err();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn a_week_ending_release_carries_the_friday_before() {
    let wpsr = rule(WPSR);
    // Wednesday 2026-11-25 10:29: the week ending 2026-11-14 is the latest out; at 10:30 the
    // week ending Friday 2026-11-20
    let r = wpsr.latest_release(ny("2026-11-25 10:29"), Calendar::Weekdays);
    assert_eq!(r.covers, d("2026-11-13"));
    let r = wpsr.latest_release(ny("2026-11-25 10:30"), Calendar::Weekdays);
    assert_eq!((r.covers, r.due), (d("2026-11-20"), ny("2026-11-25 10:30")));
    // Christmas 2026 is a Friday: the week ending it still has that date, released on Wednesday
    // 2026-12-30
    let r = wpsr.latest_release(ny("2026-12-31 12:00"), Calendar::Weekdays);
    assert_eq!((r.covers, r.due), (d("2026-12-25"), ny("2026-12-30 10:30")));
    // Labor Day week (Monday 2026-09-07): out on Thursday
    let r = wpsr.latest_release(ny("2026-09-10 12:00"), Calendar::Weekdays);
    assert_eq!((r.covers, r.due), (d("2026-09-04"), ny("2026-09-10 10:30")));
    let before = wpsr.previous(&r, Calendar::Weekdays);
    assert_eq!(
        (before.covers, before.due),
        (d("2026-08-28"), ny("2026-09-02 10:30"))
    );
}

#[test]
fn a_monthly_release_carries_the_month_before_and_moves_past_holidays() {
    let fred = rule("monthly on day 15 17:00 America/New_York");
    let r = fred.latest_release(ny("2026-11-16 09:00"), Calendar::Weekdays);
    // 2026-11-15 is a Sunday: out on Monday the 16th at 17:00, so October's is not out yet
    assert_eq!((r.covers, r.due), (d("2026-09-01"), ny("2026-10-15 17:00")));
    let r = fred.latest_release(ny("2026-11-16 17:00"), Calendar::Weekdays);
    assert_eq!((r.covers, r.due), (d("2026-10-01"), ny("2026-11-16 17:00")));
    let before = fred.previous(&r, Calendar::Weekdays);
    assert_eq!(before.covers, d("2026-09-01"));
    // day 31 in February is its last day, Saturday 2026-02-28: out on Monday 2 March, so on
    // 1 March the latest out is January's (31 January a Saturday too: out on 2 February)
    let end = rule("monthly on day 31 12:00 America/New_York lag 0");
    let r = end.latest_release(ny("2026-03-01 00:00"), Calendar::Weekdays);
    assert_eq!((r.covers, r.due), (d("2026-01-01"), ny("2026-02-02 12:00")));
    let r = end.latest_release(ny("2026-03-02 12:00"), Calendar::Weekdays);
    assert_eq!((r.covers, r.due), (d("2026-02-01"), ny("2026-03-02 12:00")));
    assert_eq!(end.previous(&r, Calendar::Weekdays).covers, d("2026-01-01"));
    // a January release of lag 1 carries December
    let r = fred.latest_release(ny("2026-01-20 12:00"), Calendar::Weekdays);
    assert_eq!(r.covers, d("2025-12-01"));
}
