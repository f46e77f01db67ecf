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
