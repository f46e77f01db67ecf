//! How a run chooses its dates (incremental, full refresh, backfill) and what started it.

use std::{fmt, str::FromStr};

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// An inclusive range of market dates, `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawWindow")]
pub struct DateWindow {
    start: NaiveDate,
    end: NaiveDate,
}

#[derive(Deserialize)]
struct RawWindow {
    start: NaiveDate,
    end: NaiveDate,
}

impl TryFrom<RawWindow> for DateWindow {
    type Error = DomainError;
    fn try_from(r: RawWindow) -> Result<Self, Self::Error> {
        DateWindow::new(r.start, r.end)
    }
}

impl DateWindow {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, DomainError> {
        if start > end {
            return Err(DomainError::InvalidWindow { start, end });
        }
        Ok(Self { start, end })
    }

    /// The `days` calendar days that end on `end` (inclusive), e.g. the last 3650 days.
    pub fn ending_at(end: NaiveDate, days: u32) -> Self {
        let start = end
            .checked_sub_days(Days::new(u64::from(days.saturating_sub(1))))
            .unwrap_or(NaiveDate::MIN);
        Self { start, end }
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    pub fn end(&self) -> NaiveDate {
        self.end
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    /// Number of calendar days in the window, both ends included.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// The smallest window covering both.
    pub fn union(&self, other: &Self) -> Self {
        Self {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

impl fmt::Display for DateWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.start, self.end)
    }
}

/// Which dates a run fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunMode {
    /// From the latest stored date of each series (re-reading a few days for revisions).
    Incremental,
    /// The last `pipeline.full_refresh_days` days.
    FullRefresh,
    /// An explicit range of dates.
    Backfill(DateWindow),
}

impl RunMode {
    /// The name used in reports and on the command line's `--mode`.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The kind, without the dates.
    pub fn kind(&self) -> ModeKind {
        match self {
            RunMode::Incremental => ModeKind::Incremental,
            RunMode::FullRefresh => ModeKind::FullRefresh,
            RunMode::Backfill(_) => ModeKind::Backfill,
        }
    }
}

impl Serialize for RunMode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The kind of a run mode without its dates, as parsed from `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeKind {
    Incremental,
    FullRefresh,
    Backfill,
}

impl ModeKind {
    /// The name used in reports, the database and messages.
    pub fn name(&self) -> &'static str {
        match self {
            ModeKind::Incremental => "incremental",
            ModeKind::FullRefresh => "full_refresh",
            ModeKind::Backfill => "backfill",
        }
    }
}

impl FromStr for ModeKind {
    type Err = DomainError;
    /// Accepts `incremental`, `full-refresh` (and `full_refresh`) and `backfill`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "incremental" => Ok(Self::Incremental),
            "full-refresh" | "full_refresh" => Ok(Self::FullRefresh),
            "backfill" => Ok(Self::Backfill),
            other => Err(DomainError::InvalidRunMode(other.to_owned())),
        }
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Manual,
    Schedule,
}

impl Trigger {
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn window_rejects_start_after_end() {
        assert!(DateWindow::new(d("2026-01-02"), d("2026-01-01")).is_err());
        assert_eq!(
            DateWindow::new(d("2026-01-01"), d("2026-01-01"))
                .unwrap()
                .days(),
            1
        );
    }

    #[test]
    fn ending_at_counts_both_ends() {
        let w = DateWindow::ending_at(d("2026-11-25"), 3650);
        assert_eq!(w.days(), 3650);
        assert_eq!(w.start(), d("2016-11-28"));
    }

    #[test]
    fn mode_kind_accepts_both_spellings_of_full_refresh() {
        assert_eq!(
            "full-refresh".parse::<ModeKind>().unwrap(),
            ModeKind::FullRefresh
        );
        assert_eq!(
            "full_refresh".parse::<ModeKind>().unwrap(),
            ModeKind::FullRefresh
        );
        assert!("fullrefresh".parse::<ModeKind>().is_err());
    }

    #[test]
    fn window_json_is_validated() {
        let ok: DateWindow =
            serde_json::from_str(r#"{"start":"2026-01-01","end":"2026-01-31"}"#).unwrap();
        assert_eq!(ok.days(), 31);
        assert!(
            serde_json::from_str::<DateWindow>(r#"{"start":"2026-02-01","end":"2026-01-31"}"#)
                .is_err()
        );
    }
}
