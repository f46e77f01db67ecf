use chrono::{FixedOffset, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::{America, Asia, Europe, Tz};

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn counts(first: &str, last: &str, zone: Tz) -> Vec<usize> {
    d(first)
        .iter_days()
        .take_while(|day| *day <= d(last))
        .map(|day| hours_of_day(day, zone))
        .collect()
}

#[test]
fn new_york_days_around_the_2024_changes_have_23_and_25_hours() {
    let ny = America::New_York;
    assert_eq!(counts("2024-03-09", "2024-03-11", ny), [24, 23, 24]);
    assert_eq!(counts("2024-11-02", "2024-11-04", ny), [24, 25, 24]);
    let spring: Vec<_> = hours_in(d("2024-03-09"), d("2024-03-11"), ny).collect();
    assert_eq!(spring.len(), 71);
    assert_eq!(spring[0], utc("2024-03-09T05:00:00Z"));
    assert_eq!(spring[70], utc("2024-03-12T03:00:00Z"));
    assert!(spring.windows(2).all(|w| w[1] - w[0] == Duration::hours(1)));
    assert_eq!(hours_in(d("2024-11-02"), d("2024-11-04"), ny).count(), 73);
    // the repeated hour is two hours, each on the 3rd
    let fall: Vec<_> = hours_in(d("2024-11-03"), d("2024-11-03"), ny)
        .map(|h| h.with_timezone(&ny).format("%H%z").to_string())
        .collect();
    assert_eq!(&fall[..3], ["00-0400", "01-0400", "01-0500"]);
}

#[test]
fn other_zones_have_their_own_short_and_long_days() {
    assert_eq!(
        counts("2024-03-30", "2024-04-01", Europe::Berlin),
        [24, 23, 24]
    );
    assert_eq!(
        counts("2024-10-26", "2024-10-28", Europe::Berlin),
        [24, 25, 24]
    );
    assert_eq!(counts("2024-03-09", "2024-03-11", Tz::UTC), [24, 24, 24]);
    // half-hour offset: UTC hours, each on the local date its start falls on
    let kolkata: Vec<_> = hours_in(d("2024-03-10"), d("2024-03-10"), Asia::Kolkata).collect();
    assert_eq!(kolkata.len(), 24);
    assert_eq!(kolkata[0], utc("2024-03-09T19:00:00Z"));
}

#[test]
fn a_day_whose_midnight_is_skipped_or_repeated_starts_at_its_first_moment() {
    // Cuba moves its clocks at midnight: 00:00 -> 01:00 on 2024-03-10, 01:00 -> 00:00 on 11-03
    let havana = America::Havana;
    assert_eq!(
        day_start(d("2024-03-10"), havana),
        Some(utc("2024-03-10T05:00:00Z"))
    );
    assert_eq!(hours_of_day(d("2024-03-10"), havana), 23);
    assert_eq!(
        day_start(d("2024-11-03"), havana),
        Some(utc("2024-11-03T04:00:00Z"))
    );
    assert_eq!(hours_of_day(d("2024-11-03"), havana), 25);
}

#[test]
fn an_hour_label_is_turned_into_the_start_of_its_hour() {
    let label = utc("2024-03-10T07:00:00Z");
    assert_eq!(
        HourConvention::Ending.start(label),
        utc("2024-03-10T06:00:00Z")
    );
    assert_eq!(HourConvention::Beginning.start(label), label);
    assert_eq!(
        local_date(utc("2024-03-10T04:00:00Z"), America::New_York),
        d("2024-03-09")
    );
    assert_eq!(
        local_date(utc("2024-03-10T05:00:00Z"), America::New_York),
        d("2024-03-10")
    );
}

#[test]
fn a_local_time_is_checked_against_the_zone() {
    let ny = America::New_York;
    let wall = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
    let off = |h: i32| FixedOffset::east_opt(h * 3600).unwrap();
    assert_eq!(
        local_instant(wall("2024-03-10T03:00"), off(-4), ny),
        Ok(utc("2024-03-10T07:00:00Z"))
    );
    // the repeated hour: the offset tells the two apart
    assert_eq!(
        local_instant(wall("2024-11-03T01:00"), off(-4), ny),
        Ok(utc("2024-11-03T05:00:00Z"))
    );
    assert_eq!(
        local_instant(wall("2024-11-03T01:00"), off(-5), ny),
        Ok(utc("2024-11-03T06:00:00Z"))
    );
    // 02:30 does not exist on 2024-03-10 in New York, at either offset
    for h in [-5, -4] {
        let err = local_instant(wall("2024-03-10T02:30"), off(h), ny).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
    let err = local_instant(wall("2024-03-10T02:30"), off(-5), ny).unwrap_err();
    assert_eq!(err.actual, wall("2024-03-10T03:30"));
    assert_eq!(err.actual_offset, off(-4));
    // a plain wrong offset in the middle of winter
    assert!(local_instant(wall("2024-01-10T12:00"), off(-4), ny).is_err());
}

#[test]
fn an_empty_or_reversed_window_has_no_hours() {
    let ny = America::New_York;
    assert_eq!(hours_in(d("2024-03-11"), d("2024-03-10"), ny).count(), 0);
    assert_eq!(hours_in(NaiveDate::MAX, NaiveDate::MAX, ny).count(), 0);
}
