//! The validation rules as data: which rule (`RuleId`, one spelling each, as stored in
//! `quarantine.rule`), what it does with a row it flags (`Severity`) and what it checks. The
//! rules' logic is in `validation`; a rejection names its rule by id.

use serde::{Deserialize, Serialize};

/// What a rule does with the rows it flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The row is quarantined.
    Reject,
    /// The row is stored and counted as a warning.
    Warn,
}

/// Which rule: the closed set, with one text spelling each (as stored in `quarantine.rule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    NotANumber,
    FutureDate,
    OutsideWindow,
    WeekendDate,
    HolidayDate,
    ConflictingDuplicate,
    PlausibleRange,
    Jump,
    RepeatedValue,
    QualityGate,
}

impl RuleId {
    pub fn name(&self) -> &'static str {
        match self {
            RuleId::NotANumber => "not_a_number",
            RuleId::FutureDate => "future_date",
            RuleId::OutsideWindow => "outside_window",
            RuleId::WeekendDate => "weekend_date",
            RuleId::HolidayDate => "holiday_date",
            RuleId::ConflictingDuplicate => "conflicting_duplicate",
            RuleId::PlausibleRange => "plausible_range",
            RuleId::Jump => "jump",
            RuleId::RepeatedValue => "repeated_value",
            RuleId::QualityGate => "quality_gate",
        }
    }

    /// The rule of a stored name, if it is one.
    pub fn parse(s: &str) -> Option<Self> {
        RULES.iter().map(|r| r.id).find(|id| id.name() == s)
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A validation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: RuleId,
    pub severity: Severity,
    pub description: &'static str,
}

pub const NOT_A_NUMBER: Rule = Rule {
    id: RuleId::NotANumber,
    severity: Severity::Reject,
    description: "the provider sent a value that is not a finite number",
};
pub const FUTURE_DATE: Rule = Rule {
    id: RuleId::FutureDate,
    severity: Severity::Reject,
    description: "the market date is after today in the market's time zone",
};
pub const OUTSIDE_WINDOW: Rule = Rule {
    id: RuleId::OutsideWindow,
    severity: Severity::Reject,
    description: "the provider sent a date outside the window asked of it",
};
pub const WEEKEND_DATE: Rule = Rule {
    id: RuleId::WeekendDate,
    severity: Severity::Reject,
    description: "the market date is a Saturday or Sunday, when none of the calendars trades",
};
pub const HOLIDAY_DATE: Rule = Rule {
    id: RuleId::HolidayDate,
    severity: Severity::Warn,
    description: "the market date is a holiday of the series' calendar",
};
pub const CONFLICTING_DUPLICATE: Rule = Rule {
    id: RuleId::ConflictingDuplicate,
    severity: Severity::Reject,
    description: "the batch holds one date twice with different values",
};
pub const PLAUSIBLE_RANGE: Rule = Rule {
    id: RuleId::PlausibleRange,
    severity: Severity::Reject,
    description: "the value is outside the commodity's min_value..max_value",
};
pub const JUMP: Rule = Rule {
    id: RuleId::Jump,
    severity: Severity::Warn,
    description: "the value is far from the median of the recent values",
};
pub const REPEATED_VALUE: Rule = Rule {
    id: RuleId::RepeatedValue,
    severity: Severity::Warn,
    description: "the same value for many days in a row",
};
pub const QUALITY_GATE: Rule = Rule {
    id: RuleId::QualityGate,
    severity: Severity::Reject,
    description: "the batch's quality score is below pipeline.quality_gate.min_quality_score",
};

/// Every rule, for documentation and `--help`.
pub const RULES: [Rule; 10] = [
    NOT_A_NUMBER,
    FUTURE_DATE,
    OUTSIDE_WINDOW,
    WEEKEND_DATE,
    HOLIDAY_DATE,
    CONFLICTING_DUPLICATE,
    PLAUSIBLE_RANGE,
    JUMP,
    REPEATED_VALUE,
    QUALITY_GATE,
];
