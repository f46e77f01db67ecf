//! When the scheduler fires: `schedule.time` + `frequency`, or a 5/6-field `cron`, in the
//! configured IANA time zone, computed with croner (which keeps wall-clock time across DST: a
//! time that does not exist on the spring-forward day fires once at the first valid instant
//! after it, a time that happens twice on the fall-back day fires once).
//!
//! Pure: the caller passes "now"; nothing here reads a clock.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use energy_orchestrator::config::{CronError, ScheduleConfig, parse_cron};

/// Fire times are computed up to the start of this year (croner's limit).
pub const LAST_YEAR: i32 = croner::YEAR_UPPER_LIMIT;

/// A schedule: a cron pattern in a time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: croner::Cron,
    pattern: String,
    timezone: Tz,
}

/// How the misfire rule sorted the fire times that came due.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Due {
    /// The fire time to run now (the newest one within the grace period), if any.
    pub run: Option<DateTime<Utc>>,
    /// Older fire times within the grace period: folded into `run`, not run on their own.
    pub coalesced: Vec<DateTime<Utc>>,
    /// Fire times missed by more than the grace period: recorded, never run.
    pub missed: Vec<DateTime<Utc>>,
}

impl Schedule {
    /// The schedule of a configuration (already checked by `Config::problems`).
    pub fn from_config(cfg: &ScheduleConfig) -> Result<Self, CronError> {
        Self::new(&cfg.pattern(), cfg.timezone)
    }

    pub fn new(pattern: &str, timezone: Tz) -> Result<Self, CronError> {
        Ok(Self {
            cron: parse_cron(pattern)?,
            pattern: pattern.to_owned(),
            timezone,
        })
    }

    /// The ledger key: the pattern and the zone, so that changing either starts a new ledger.
    pub fn key(&self) -> String {
        format!("{} {}", self.pattern, self.timezone)
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// The first fire time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.timezone);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The next `count` fire times after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Tz>> {
        self.cron
            .iter_after(after.with_timezone(&self.timezone))
            .take(count)
            .collect()
    }

    /// The fire times in `(after, until]`, oldest first (at most `limit`).
    pub fn between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        self.cron
            .iter_after(after.with_timezone(&self.timezone))
            .map(|t| t.with_timezone(&Utc))
            .take_while(|t| *t <= until)
            .take(limit)
            .collect()
    }

    /// Sorts the fire times in `(after, now]` by the misfire rule: the newest within
    /// `grace_seconds` of `now` runs, older ones within the grace are coalesced into it, and
    /// those beyond the grace are missed. Never more than one run.
    pub fn due(&self, after: DateTime<Utc>, now: DateTime<Utc>, grace_seconds: u64) -> Due {
        let grace = chrono::Duration::seconds(grace_seconds.min(i64::MAX as u64) as i64);
        let mut due = Due::default();
        for t in self.between(after, now, 10_000) {
            if now - t > grace {
                due.missed.push(t);
            } else if let Some(previous) = due.run.replace(t) {
                due.coalesced.push(previous);
            }
        }
        due
    }
}

/// A schedule's next fire time after a "now" that moves on each turn of the loop, computed again
/// only when it may have changed: the first fire time after `t` is the same for every `t` in
/// `[after, next)`. A yearly cron costs croner a search over months of days; a loop that asks
/// every second does not pay it every second.
#[derive(Debug, Clone, Default)]
pub struct NextFire {
    memo: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl NextFire {
    /// What [`Schedule::next_after`] says for `t`.
    pub fn after(&mut self, schedule: &Schedule, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if let Some((after, next)) = self.memo
            && after <= t
            && t < next
        {
            return Some(next);
        }
        let next = schedule.next_after(t);
        self.memo = next.map(|n| (t, n));
        next
    }

    /// What [`Schedule::due`] says for `(after, now]`, without a search when nothing came due.
    pub fn due(
        &mut self,
        schedule: &Schedule,
        after: DateTime<Utc>,
        now: DateTime<Utc>,
        grace_seconds: u64,
    ) -> Due {
        match self.after(schedule, after) {
            Some(next) if next <= now => schedule.due(after, now, grace_seconds),
            _ => Due::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike};
    use chrono_tz::America::New_York;
    use energy_orchestrator::config::Frequency;

    fn ny(s: &str) -> Schedule {
        Schedule::new(s, New_York).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn fmt(ts: Vec<DateTime<Tz>>) -> Vec<String> {
        ts.into_iter().map(|t| t.to_rfc3339()).collect()
    }

    #[test]
    fn six_am_new_york_keeps_wall_clock_time_across_spring_forward() {
        let s = ny("0 6 * * *");
        assert_eq!(
            fmt(s.upcoming(utc("2026-03-06T17:00:00Z"), 3)),
            [
                "2026-03-07T06:00:00-05:00",
                "2026-03-08T06:00:00-04:00",
                "2026-03-09T06:00:00-04:00"
            ]
        );
        // 11:00 UTC in winter, 10:00 UTC in summer
        assert_eq!(
            s.next_after(utc("2026-03-07T00:00:00Z")),
            Some(utc("2026-03-07T11:00:00Z"))
        );
        assert_eq!(
            s.next_after(utc("2026-03-08T00:00:00Z")),
            Some(utc("2026-03-08T10:00:00Z"))
        );
    }

    #[test]
    fn six_am_new_york_keeps_wall_clock_time_across_fall_back() {
        assert_eq!(
            fmt(ny("0 6 * * *").upcoming(utc("2026-10-30T16:00:00Z"), 3)),
            [
                "2026-10-31T06:00:00-04:00",
                "2026-11-01T06:00:00-05:00",
                "2026-11-02T06:00:00-05:00"
            ]
        );
    }

    #[test]
    fn a_time_that_does_not_exist_fires_once_at_the_first_valid_instant() {
        assert_eq!(
            fmt(ny("30 2 * * *").upcoming(utc("2026-03-06T17:00:00Z"), 3)),
            [
                "2026-03-07T02:30:00-05:00",
                "2026-03-08T03:00:00-04:00",
                "2026-03-09T02:30:00-04:00"
            ]
        );
    }

    #[test]
    fn a_time_that_happens_twice_fires_once() {
        assert_eq!(
            fmt(ny("30 1 * * *").upcoming(utc("2026-10-31T12:00:00Z"), 2)),
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
        );
    }

    #[test]
    fn the_hour_before_the_gap_fires_once() {
        assert_eq!(
            fmt(ny("30 1 * * *").upcoming(utc("2026-03-07T12:00:00Z"), 2)),
            ["2026-03-08T01:30:00-05:00", "2026-03-09T01:30:00-04:00"]
        );
    }

    #[test]
    fn weekdays_skip_the_weekend() {
        let s = Schedule::from_config(&ScheduleConfig {
            frequency: Frequency::Weekdays,
            ..ScheduleConfig::default()
        })
        .unwrap();
        // Friday 2026-11-27, then Monday
        assert_eq!(
            fmt(s.upcoming(utc("2026-11-27T00:00:00Z"), 2)),
            ["2026-11-27T06:00:00-05:00", "2026-11-30T06:00:00-05:00"]
        );
    }

    #[test]
    fn monthly_on_the_31st_skips_shorter_months() {
        assert_eq!(
            fmt(ny("0 6 31 * *").upcoming(utc("2026-01-01T00:00:00Z"), 4)),
            [
                "2026-01-31T06:00:00-05:00",
                "2026-03-31T06:00:00-04:00",
                "2026-05-31T06:00:00-04:00",
                "2026-07-31T06:00:00-04:00"
            ]
        );
    }

    #[test]
    fn monthly_and_weekly_frequencies() {
        let monthly = Schedule::from_config(&ScheduleConfig {
            frequency: Frequency::Monthly,
            ..ScheduleConfig::default()
        })
        .unwrap();
        assert_eq!(
            fmt(monthly.upcoming(utc("2026-11-25T00:00:00Z"), 1)),
            ["2026-12-01T06:00:00-05:00"]
        );
        let weekly = Schedule::from_config(&ScheduleConfig {
            frequency: Frequency::Weekly,
            ..ScheduleConfig::default()
        })
        .unwrap();
        assert_eq!(
            fmt(weekly.upcoming(utc("2026-11-25T00:00:00Z"), 1)),
            ["2026-11-30T06:00:00-05:00"]
        );
    }

    #[test]
    fn a_cron_with_seconds() {
        let s = ny("*/20 * * * * *");
        assert_eq!(
            fmt(s.upcoming(utc("2026-11-25T11:00:05Z"), 3)),
            [
                "2026-11-25T06:00:20-05:00",
                "2026-11-25T06:00:40-05:00",
                "2026-11-25T06:01:00-05:00"
            ]
        );
    }

    #[test]
    fn misfires_beyond_the_grace_are_missed_and_those_within_coalesce_into_one_run() {
        let s = ny("0 * * * *"); // hourly
        let now = New_York
            .with_ymd_and_hms(2026, 11, 25, 10, 20, 0)
            .unwrap()
            .with_timezone(&Utc);
        // slept since 05:30: 06:00..10:00 came due; grace 3 hours
        let due = s.due(now - chrono::Duration::minutes(290), now, 3 * 3600);
        let hours = |v: &[DateTime<Utc>]| -> Vec<u32> {
            v.iter()
                .map(|t| t.with_timezone(&New_York).hour())
                .collect()
        };
        assert_eq!(hours(&due.missed), [6, 7]);
        assert_eq!(hours(&due.coalesced), [8, 9]);
        assert_eq!(due.run.map(|t| t.with_timezone(&New_York).hour()), Some(10));
        // within the grace, exactly one run
        let due = s.due(now - chrono::Duration::minutes(30), now, 3600);
        assert_eq!(hours(&due.missed), Vec::<u32>::new());
        assert!(due.coalesced.is_empty());
        assert!(due.run.is_some());
        // beyond it, none
        let due = s.due(now - chrono::Duration::minutes(90), now, 60);
        assert_eq!(due.run, None);
        assert_eq!(hours(&due.missed), [9, 10]);
    }

    /// The memo answers as the schedule does for any walk of "now": forward by seconds, across
    /// fire times and DST changes, and back (a clock set back).
    #[test]
    fn the_remembered_next_fire_time_is_the_schedules_for_any_walk_of_now() {
        for pattern in ["0 6 * * *", "*/2 * * * * *", "30 2 * * *", "0 0 1 1 *"] {
            let s = ny(pattern);
            let mut memo = NextFire::default();
            let mut t = utc("2026-03-07T23:00:00Z");
            // a fixed walk: mostly small steps forward, now and then a jump forward or back
            let mut x: u64 = 26;
            for _ in 0..5_000 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let step = match (x >> 33) % 100 {
                    0..=79 => chrono::Duration::milliseconds(((x >> 40) % 1500) as i64),
                    80..=89 => chrono::Duration::minutes(((x >> 40) % 600) as i64),
                    90..=94 => chrono::Duration::days(((x >> 40) % 40) as i64),
                    _ => -chrono::Duration::minutes(((x >> 40) % 3000) as i64),
                };
                t += step;
                let after = t - chrono::Duration::seconds(((x >> 20) % 90) as i64);
                assert_eq!(memo.after(&s, t), s.next_after(t), "{pattern} at {t}");
                assert_eq!(
                    memo.due(&s, after, t, 3600),
                    s.due(after, t, 3600),
                    "{pattern} in ({after}, {t}]"
                );
            }
        }
    }
}
