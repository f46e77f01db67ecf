//! How a run's numbers and instants read for people: one spelling each for a quality score, a
//! duration and a timestamp, shared by the terminal views, the web pages and the notifications.

use chrono::{DateTime, TimeZone, Utc};

/// A quality score with three decimals, rounded down: 0.9996 is 0.999, never a false 1.000.
pub fn score(q: f64) -> String {
    format!("{:.3}", (q * 1000.0).floor() / 1000.0)
}

/// Seconds for people: `0.84 s`, `12.3 s`, `4 min 05 s`.
pub fn duration(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.2} s")
    } else if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        let s = seconds.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

/// Seconds in a table cell: `0.84s`, `12.3s`, `4m05s`, `2h10m`.
pub fn short_duration(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.2}s")
    } else if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else if seconds < 3600.0 {
        let s = seconds.round() as u64;
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        let m = (seconds / 60.0).round() as u64;
        format!("{}h{:02}m", m / 60, m % 60)
    }
}

/// An instant for people, in UTC with the zone said: `2026-11-25 11:00:07 UTC`.
pub fn utc_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An instant in a column whose header says UTC: `2026-11-25 11:00:07`.
pub fn utc_cell(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// An instant in a schedule's zone, with its abbreviation and offset:
/// `2026-11-25 06:00:00 EST (-05:00)`.
pub fn zoned_time<Tz: TimeZone>(t: DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.format("%Y-%m-%d %H:%M:%S %Z (%:z)").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(duration(0.842), "0.84 s");
        assert_eq!(duration(12.34), "12.3 s");
        assert_eq!(duration(245.0), "4 min 05 s");
        assert_eq!(short_duration(245.0), "4m05s");
        assert_eq!(short_duration(7800.0), "2h10m");
        assert_eq!(score(0.9996), "0.999");
        assert_eq!(score(1.0), "1.000");
    }

    #[test]
    fn instants_say_their_zone() {
        let t: DateTime<Utc> = "2026-11-25T11:00:07Z".parse().unwrap();
        assert_eq!(utc_time(t), "2026-11-25 11:00:07 UTC");
        assert_eq!(utc_cell(t), "2026-11-25 11:00:07");
        let ny = t.with_timezone(&chrono_tz::America::New_York);
        assert_eq!(zoned_time(ny), "2026-11-25 06:00:07 EST (-05:00)");
    }
}
