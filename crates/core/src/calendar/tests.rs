//! Each calendar against the holiday lists its market published for 2020–2027.
//!
//! Sources (the days a weekday holiday closes the market; weekend holidays are not listed):
//! - NYMEX: CME Group's holiday calendars for 2020–2027 (cmegroup.com, "Holiday calendar"):
//!   no settlement prices for energy on these days. The EIA spot histories in
//!   `crates/cli/tests/data` miss every one of them for 2020–2026 (`cli` test
//!   `calendars::the_published_histories_have_no_price_on_a_holiday`).
//! - UK bank holidays: gov.uk, "Bank holidays" (England and Wales), 2020–2027, with the
//!   proclaimed days of 2020, 2022 and 2023.
//! - ICE Futures Europe: ICE's "IFEU Trading Schedule: Oil, Utilities and Agricultural" (2023:
//!   all contracts closed on Monday 2 January, New Year's Day; Brent closed on Good Friday, on
//!   Christmas Day and Boxing Day; open on Easter Monday and the May and August bank holidays).
//! - US federal: OPM's "Federal Holidays" pages for 2020–2027 (opm.gov, policy-data-oversight/
//!   pay-leave/federal-holidays), with their "observed" days (e.g. Friday 31 December 2021 for
//!   New Year's Day 2022, a Saturday).

use super::*;

fn days(year: i32, list: &[&str]) -> Vec<NaiveDate> {
    list.iter()
        .map(|md| format!("{year}-{md}").parse().unwrap())
        .collect()
}

fn check(calendar: Calendar, published: &[(i32, &[&str])]) {
    for (year, list) in published {
        let computed: Vec<NaiveDate> = calendar.holidays(*year).into_iter().map(|h| h.0).collect();
        assert_eq!(computed, days(*year, list), "{calendar} {year}");
        for d in days(*year, list) {
            assert!(!calendar.is_trading_day(d), "{calendar}: {d} is a holiday");
        }
    }
}

#[test]
fn nymex_holidays_2020_to_2027() {
    check(
        Calendar::Nymex,
        &[
            (
                2020,
                &[
                    "01-01", "01-20", "02-17", "04-10", "05-25", "07-03", "09-07", "11-26", "12-25",
                ],
            ),
            (
                2021,
                &[
                    "01-01", "01-18", "02-15", "04-02", "05-31", "07-05", "09-06", "11-25", "12-24",
                ],
            ),
            // New Year's Day 2022 is a Saturday: 2021-12-31 trades
            (
                2022,
                &[
                    "01-17", "02-21", "04-15", "05-30", "06-20", "07-04", "09-05", "11-24", "12-26",
                ],
            ),
            (
                2023,
                &[
                    "01-02", "01-16", "02-20", "04-07", "05-29", "06-19", "07-04", "09-04",
                    "11-23", "12-25",
                ],
            ),
            (
                2024,
                &[
                    "01-01", "01-15", "02-19", "03-29", "05-27", "06-19", "07-04", "09-02",
                    "11-28", "12-25",
                ],
            ),
            (
                2025,
                &[
                    "01-01", "01-20", "02-17", "04-18", "05-26", "06-19", "07-04", "09-01",
                    "11-27", "12-25",
                ],
            ),
            (
                2026,
                &[
                    "01-01", "01-19", "02-16", "04-03", "05-25", "06-19", "07-03", "09-07",
                    "11-26", "12-25",
                ],
            ),
            (
                2027,
                &[
                    "01-01", "01-18", "02-15", "03-26", "05-31", "06-18", "07-05", "09-06",
                    "11-25", "12-24",
                ],
            ),
        ],
    );
}

#[test]
fn uk_bank_holidays_2020_to_2027() {
    check(
        Calendar::UkBankHolidays,
        &[
            (
                2020,
                &[
                    "01-01", "04-10", "04-13", "05-08", "05-25", "08-31", "12-25", "12-28",
                ],
            ),
            (
                2021,
                &[
                    "01-01", "04-02", "04-05", "05-03", "05-31", "08-30", "12-27", "12-28",
                ],
            ),
            (
                2022,
                &[
                    "01-03", "04-15", "04-18", "05-02", "06-02", "06-03", "08-29", "09-19",
                    "12-26", "12-27",
                ],
            ),
            (
                2023,
                &[
                    "01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25", "12-26",
                ],
            ),
            (
                2024,
                &[
                    "01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26",
                ],
            ),
            (
                2025,
                &[
                    "01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26",
                ],
            ),
            (
                2026,
                &[
                    "01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28",
                ],
            ),
            (
                2027,
                &[
                    "01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28",
                ],
            ),
        ],
    );
}

#[test]
fn ice_futures_europe_holidays_2020_to_2027() {
    check(
        Calendar::IceFuturesEurope,
        &[
            (2020, &["01-01", "04-10", "12-25", "12-28"]),
            (2021, &["01-01", "04-02", "12-27", "12-28"]),
            (2022, &["01-03", "04-15", "12-26", "12-27"]),
            (2023, &["01-02", "04-07", "12-25", "12-26"]),
            (2024, &["01-01", "03-29", "12-25", "12-26"]),
            (2025, &["01-01", "04-18", "12-25", "12-26"]),
            (2026, &["01-01", "04-03", "12-25", "12-28"]),
            (2027, &["01-01", "03-26", "12-27", "12-28"]),
        ],
    );
    // Brent trades on Easter Monday and on US holidays
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    assert!(Calendar::IceFuturesEurope.is_trading_day(d("2024-04-01")));
    assert!(Calendar::IceFuturesEurope.is_trading_day(d("2024-11-28")));
}

#[test]
fn us_federal_holidays_2020_to_2027() {
    check(
        Calendar::UsFederal,
        &[
            (
                2020,
                &[
                    "01-01", "01-20", "02-17", "05-25", "07-03", "09-07", "10-12", "11-11",
                    "11-26", "12-25",
                ],
            ),
            (
                2021,
                &[
                    "01-01", "01-18", "02-15", "05-31", "06-18", "07-05", "09-06", "10-11",
                    "11-11", "11-25", "12-24", "12-31",
                ],
            ),
            (
                2022,
                &[
                    "01-17", "02-21", "05-30", "06-20", "07-04", "09-05", "10-10", "11-11",
                    "11-24", "12-26",
                ],
            ),
            (
                2023,
                &[
                    "01-02", "01-16", "02-20", "05-29", "06-19", "07-04", "09-04", "10-09",
                    "11-10", "11-23", "12-25",
                ],
            ),
            (
                2024,
                &[
                    "01-01", "01-15", "02-19", "05-27", "06-19", "07-04", "09-02", "10-14",
                    "11-11", "11-28", "12-25",
                ],
            ),
            (
                2025,
                &[
                    "01-01", "01-20", "02-17", "05-26", "06-19", "07-04", "09-01", "10-13",
                    "11-11", "11-27", "12-25",
                ],
            ),
            (
                2026,
                &[
                    "01-01", "01-19", "02-16", "05-25", "06-19", "07-03", "09-07", "10-12",
                    "11-11", "11-26", "12-25",
                ],
            ),
            (
                2027,
                &[
                    "01-01", "01-18", "02-15", "05-31", "06-18", "07-05", "09-06", "10-11",
                    "11-11", "11-25", "12-24", "12-31",
                ],
            ),
        ],
    );
}

#[test]
fn easter_by_rule() {
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    for (year, sunday) in [
        (2000, "2000-04-23"),
        (2008, "2008-03-23"),
        (2019, "2019-04-21"),
        (2038, "2038-04-25"),
        (2285, "2285-03-22"),
    ] {
        assert_eq!(easter(year), d(sunday), "{year}");
    }
}

#[test]
fn trading_days_skip_weekends_and_holidays() {
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    let nymex = Calendar::Nymex;
    // Thanksgiving week 2026: Thursday is closed, Friday trades
    assert_eq!(
        nymex.trading_days_after(d("2026-11-20"), d("2026-11-29")),
        [
            d("2026-11-23"),
            d("2026-11-24"),
            d("2026-11-25"),
            d("2026-11-27")
        ]
    );
    assert_eq!(nymex.previous_trading_day(d("2026-11-27")), d("2026-11-25"));
    // Easter 2026 on the UK calendar: Good Friday and Easter Monday closed
    assert_eq!(
        Calendar::UkBankHolidays.previous_trading_day(d("2026-04-07")),
        d("2026-04-02")
    );
    assert!(
        nymex
            .trading_days_after(d("2026-11-27"), d("2026-11-27"))
            .is_empty()
    );
    assert_eq!(Calendar::Weekdays.holidays(2026), []);
}

#[test]
fn calendars_are_named_in_configuration() {
    for c in Calendar::ALL {
        assert_eq!(c.name().parse::<Calendar>(), Ok(c));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            format!("\"{}\"", c.name())
        );
    }
    let err = "nyse".parse::<Calendar>().unwrap_err();
    assert!(
        err.contains("nymex, ice_futures_europe, uk_bank_holidays, us_federal, weekdays"),
        "{err}"
    );
}

#[test]
fn missing_counts_the_gaps_without_the_dates() {
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    // Monday 23 to Friday 27 November 2026 on NYMEX: 4 trading days (Thanksgiving closed)
    let nymex = Calendar::Nymex;
    assert_eq!(nymex.missing(d("2026-11-23"), d("2026-11-27"), 4), 0);
    assert_eq!(nymex.missing(d("2026-11-23"), d("2026-11-27"), 3), 1);
    let dates = [d("2026-11-23"), d("2026-11-25"), d("2026-11-27")];
    assert_eq!(nymex.gaps(&dates), [d("2026-11-24")]);
    assert_eq!(
        Calendar::Weekdays.missing(d("2026-11-23"), d("2026-11-27"), 3),
        2
    );
}

#[test]
fn a_missing_trading_day_is_a_gap_and_a_holiday_is_not() {
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    // Thanksgiving week 2026 with Tuesday missing; Thursday is a holiday
    let stored = [
        d("2026-11-23"),
        d("2026-11-25"),
        d("2026-11-27"),
        d("2026-11-30"),
    ];
    assert_eq!(Calendar::Nymex.gaps(&stored), [d("2026-11-24")]);
    // by weekdays, Thanksgiving is a gap too
    assert_eq!(
        Calendar::Weekdays.gaps(&stored),
        [d("2026-11-24"), d("2026-11-26")]
    );
    assert!(Calendar::Nymex.gaps(&[]).is_empty());
    assert!(Calendar::Nymex.gaps(&[d("2026-11-25")]).is_empty());
}
