//! The rules and the gate, case by case.

use super::*;
use crate::calendar::Calendar;

#[test]
fn each_rule_has_one_spelling() {
    for rule in RULES {
        let json = serde_json::to_string(&rule.id).unwrap();
        assert_eq!(json, format!("\"{}\"", rule.id.name()));
        assert_eq!(RuleId::parse(rule.id.name()), Some(rule.id));
    }
    assert_eq!(RuleId::parse("non_finite"), None);
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn o(date: &str, v: &str) -> Observation {
    Observation::new(
        CommodityCode::new("WTI").unwrap(),
        SourceId::new("eia").unwrap(),
        d(date),
        Price::parse(v).unwrap(),
        "USD/bbl",
    )
}

fn spec() -> CommoditySpec {
    CommoditySpec::new("WTI", "USD/bbl")
        .with_range("-100", "500")
        .unwrap()
}

fn run(
    obs: Vec<Observation>,
    invalid: Vec<RawInvalid>,
    history: &[(NaiveDate, Price)],
) -> Validated {
    run_on(obs, invalid, Vec::new(), Calendar::Weekdays, history)
}

fn run_on(
    obs: Vec<Observation>,
    invalid: Vec<RawInvalid>,
    outside: Vec<RawInvalid>,
    calendar: Calendar,
    history: &[(NaiveDate, Price)],
) -> Validated {
    let (c, s, sp) = (
        CommodityCode::new("WTI").unwrap(),
        SourceId::new("eia").unwrap(),
        spec(),
    );
    validate(
        Batch {
            commodity: &c,
            source: &s,
            spec: &sp,
            observations: obs,
            invalid,
            outside,
            calendar,
            history,
            today: d("2026-11-25"),
        },
        &ValidationSettings::default(),
    )
}

#[test]
fn negative_wti_is_data_not_an_error() {
    let history: Vec<_> = (1..=19)
        .rev()
        .map(|i| {
            (
                d("2020-04-01") + chrono::Days::new(i),
                Price::parse("20").unwrap(),
            )
        })
        .collect();
    let v = run(
        vec![o("2020-04-20", "-36.98"), o("2020-04-21", "8.91")],
        vec![],
        &history,
    );
    assert_eq!(v.accepted.len(), 2);
    assert!(v.rejected.is_empty());
    assert_eq!(v.quality_score(), 1.0);
    assert!(
        v.warnings
            .iter()
            .any(|w| w.rule == RuleId::Jump && w.date == d("2020-04-20")),
        "{:?}",
        v.warnings
    );
}

#[test]
fn rejects_future_dates_out_of_range_values_and_non_numbers() {
    let v = run(
        vec![
            o("2026-11-25", "60"),
            o("2026-11-26", "60"),
            o("2026-11-24", "900"),
        ],
        vec![RawInvalid {
            date: d("2026-11-23"),
            raw: "w".into(),
            reason: "not a number".into(),
        }],
        &[],
    );
    let rules: Vec<_> = v
        .rejected
        .iter()
        .map(|r| (r.date.to_string(), r.rule.name()))
        .collect();
    assert_eq!(
        rules,
        [
            ("2026-11-23".into(), "not_a_number"),
            ("2026-11-24".into(), "plausible_range"),
            ("2026-11-26".into(), "future_date")
        ]
    );
    assert_eq!(v.accepted.len(), 1);
    assert_eq!(v.received, 4);
    assert_eq!(v.quality_score(), 0.25);
}

#[test]
fn duplicate_dates_merge_when_equal_and_are_rejected_when_not() {
    let v = run(
        vec![
            o("2026-01-02", "61.2"),
            o("2026-01-02", "61.20"),
            o("2026-01-05", "60"),
            o("2026-01-05", "60.5"),
        ],
        vec![],
        &[],
    );
    assert_eq!(v.accepted.len(), 1);
    assert_eq!(v.received, 3);
    assert_eq!(v.rejected.len(), 2);
    assert!(
        v.rejected
            .iter()
            .all(|r| r.rule == RuleId::ConflictingDuplicate)
    );
    assert!(
        v.rejected[0].reason.contains("60, 60.5"),
        "{}",
        v.rejected[0].reason
    );
}

#[test]
fn a_long_run_of_one_value_is_warned_not_rejected() {
    // twelve weekdays (a weekend date would be rejected)
    let obs: Vec<_> = (0..16)
        .map(|i| d("2026-01-01") + chrono::Days::new(i))
        .filter(|d| Calendar::Weekdays.is_trading_day(*d))
        .take(12)
        .map(|d| o(&d.to_string(), "61.2"))
        .collect();
    let v = run(obs, vec![], &[]);
    assert_eq!(v.accepted.len(), 12);
    assert_eq!(
        v.warnings
            .iter()
            .filter(|w| w.rule == RuleId::RepeatedValue)
            .count(),
        3
    );
}

#[test]
fn gate_quarantines_the_whole_batch_below_the_threshold() {
    let v = run(
        vec![o("2026-01-02", "61"), o("2026-01-05", "9000")],
        vec![],
        &[],
    );
    assert_eq!(v.quality_score(), 0.5);
    match gate(v.clone(), 0.95) {
        Gate::Failed {
            rejected, score, ..
        } => {
            assert_eq!(score, 0.5);
            assert_eq!(rejected.len(), 2);
            assert!(
                rejected
                    .iter()
                    .any(|r| r.rule == RuleId::QualityGate
                        && r.reason.contains("below the gate 0.95"))
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(gate(v, 0.5), Gate::Passed(_)));
}

#[test]
fn empty_batch_passes_with_score_one() {
    let v = run(vec![], vec![], &[]);
    assert_eq!(v.quality_score(), 1.0);
    assert!(matches!(gate(v, 0.95), Gate::Passed(_)));
}

fn raw(date: &str, value: &str, reason: &str) -> RawInvalid {
    RawInvalid {
        date: d(date),
        raw: value.into(),
        reason: reason.into(),
    }
}

/// Issue 30, item 5: rows a provider sent outside the window asked of it were dropped without
/// a count. They are quarantined: `future_date` after today, else `outside_window`, and count
/// as received and rejected.
#[test]
fn rows_outside_the_window_are_quarantined_and_counted() {
    let outside = vec![
        raw(
            "2099-01-01",
            "61",
            "outside the window 2026-08-01..2026-08-31 asked for",
        ),
        raw(
            "2026-11-26",
            "61",
            "outside the window 2026-08-01..2026-08-31 asked for",
        ),
        raw(
            "1800-01-01",
            "61",
            "outside the window 2026-08-01..2026-08-31 asked for",
        ),
        raw(
            "1990-01-02",
            "61",
            "outside the window 2026-08-01..2026-08-31 asked for",
        ),
    ];
    let v = run_on(
        vec![o("2026-08-03", "60")],
        vec![],
        outside,
        Calendar::Nymex,
        &[],
    );
    let rules: Vec<_> = v
        .rejected
        .iter()
        .map(|r| format!("{} {} {}", r.date, r.raw_value, r.rule))
        .collect();
    assert_eq!(
        rules,
        [
            "2099-01-01 61 future_date",
            "2026-11-26 61 future_date",
            "1800-01-01 61 outside_window",
            "1990-01-02 61 outside_window"
        ]
    );
    assert!(
        v.rejected[0].reason.contains("after today (2026-11-25)"),
        "{:?}",
        v.rejected[0]
    );
    assert!(
        v.rejected[0].reason.contains("asked for"),
        "{:?}",
        v.rejected[0]
    );
    assert_eq!(v.accepted.len(), 1);
    assert_eq!(v.received, 5);
    assert_eq!(v.quality_score(), 0.2);
}

/// Issue 30, item 6: a value dated on a weekend (a Yahoo bar stamped 00:00 UTC is 20:00 in New
/// York the evening before: a Sunday) was stored on that Sunday. No calendar trades on a
/// weekend: it is quarantined. A holiday of the series' calendar is stored with a warning
/// (EIA priced Brent on UK substitute bank holidays).
#[test]
fn weekend_dates_are_rejected_and_holidays_warned() {
    let v = run_on(
        vec![
            o("2026-08-07", "60"), // Friday
            o("2026-08-09", "61"), // Sunday
            o("2026-08-10", "62"), // Monday
            o("2026-09-07", "63"), // Labor Day
        ],
        vec![],
        vec![],
        Calendar::Nymex,
        &[],
    );
    let rejected: Vec<_> = v
        .rejected
        .iter()
        .map(|r| format!("{} {}", r.date, r.rule))
        .collect();
    assert_eq!(rejected, ["2026-08-09 weekend_date"]);
    assert!(
        v.rejected[0].reason.contains("Sunday"),
        "{:?}",
        v.rejected[0]
    );
    assert_eq!(
        v.accepted
            .iter()
            .map(|o| o.date.to_string())
            .collect::<Vec<_>>(),
        ["2026-08-07", "2026-08-10", "2026-09-07"]
    );
    let warned: Vec<_> = v
        .warnings
        .iter()
        .map(|w| format!("{} {} {}", w.date, w.rule, w.reason))
        .collect();
    assert_eq!(
        warned,
        ["2026-09-07 holiday_date 2026-09-07 is Labor Day on the nymex calendar"]
    );
    // the same Monday is no holiday of a calendar that trades on it
    let v = run_on(
        vec![o("2026-09-07", "63")],
        vec![],
        vec![],
        Calendar::IceFuturesEurope,
        &[],
    );
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
}

#[test]
fn calendar_rules_are_for_daily_series() {
    let (c, s) = (
        CommodityCode::new("WTI").unwrap(),
        SourceId::new("fred").unwrap(),
    );
    // 2026-11-01 is a Sunday and 2026-01-01 New Year's Day: fine as a monthly period date
    let judged = |resolution: Resolution| {
        let spec = spec().at(resolution);
        validate(
            Batch {
                commodity: &c,
                source: &s,
                spec: &spec,
                observations: vec![o("2026-01-01", "60.1"), o("2026-11-01", "61.2")],
                invalid: Vec::new(),
                outside: Vec::new(),
                calendar: Calendar::Nymex,
                history: &[],
                today: d("2026-11-25"),
            },
            &ValidationSettings::default(),
        )
    };
    let monthly = judged(Resolution::Monthly);
    assert_eq!(monthly.accepted.len(), 2);
    assert!(monthly.warnings.is_empty(), "{:?}", monthly.warnings);
    let daily = judged(Resolution::Daily);
    assert_eq!(daily.rejected.len(), 1);
    assert_eq!(daily.rejected[0].rule, WEEKEND_DATE.id);
    assert_eq!(daily.warnings[0].rule, HOLIDAY_DATE.id);
}
