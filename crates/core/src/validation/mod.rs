//! Validation rules and the quality gate. Each rule has an identifier, a severity (reject: the
//! row goes to quarantine; warn: stored and counted) and a reason. Nothing is dropped silently:
//! a row is accepted, rejected with its reason, or (an exact repeat of a row in the same batch)
//! merged into its twin.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{
    CommodityCode, CommoditySpec, Observation, Price, Rejection, Resolution, SourceId,
    calendar::Calendar, quality_score,
};

pub use crate::rule::{
    CONFLICTING_DUPLICATE, FUTURE_DATE, HOLIDAY_DATE, JUMP, NOT_A_NUMBER, OUTSIDE_WINDOW,
    PLAUSIBLE_RANGE, QUALITY_GATE, REPEATED_VALUE, RULES, Rule, RuleId, Severity, WEEKEND_DATE,
};

#[cfg(test)]
mod tests;

/// `pipeline.validation`: thresholds of the warn-level rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidationSettings {
    /// Warn when |value − median| > jump_threshold × |median| of the last `jump_window` values.
    pub jump_threshold: f64,
    /// How many recent values the median is taken over.
    pub jump_window: u32,
    /// Warn when one value repeats on this many consecutive observations.
    pub repeat_days: u32,
}

impl Default for ValidationSettings {
    fn default() -> Self {
        Self {
            jump_threshold: 0.5,
            jump_window: 20,
            repeat_days: 10,
        }
    }
}

/// A flagged row that was stored anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub date: NaiveDate,
    pub rule: RuleId,
    pub reason: String,
}

/// A row a provider sent that cannot be stored: a value that is no usable price, or a row
/// dated outside the window asked of it; as received, with why (the source layer reports it
/// so, validation quarantines it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawInvalid {
    pub date: NaiveDate,
    pub raw: String,
    pub reason: String,
}

/// One (source, commodity) batch to validate.
#[derive(Debug)]
pub struct Batch<'a> {
    pub commodity: &'a CommodityCode,
    pub source: &'a SourceId,
    pub spec: &'a CommoditySpec,
    pub observations: Vec<Observation>,
    pub invalid: Vec<RawInvalid>,
    /// Rows dated outside the window the provider was asked for (beyond what its request is
    /// expected to return), as sent: quarantined under `future_date` when after `today`, else
    /// `outside_window`; never stored.
    pub outside: Vec<RawInvalid>,
    /// The series' trading calendar (the source's for this commodity, else the commodity's).
    pub calendar: Calendar,
    /// Stored values just before the batch, newest first (for the warn-level rules).
    pub history: &'a [(NaiveDate, Price)],
    /// Today in the market's time zone.
    pub today: NaiveDate,
}

/// The outcome of validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    pub accepted: Vec<Observation>,
    pub rejected: Vec<Rejection>,
    pub warnings: Vec<Warning>,
    /// Distinct rows received (an exact repeat within the batch counts once).
    pub received: u64,
}

impl Validated {
    /// Accepted over received, in [0, 1].
    pub fn quality_score(&self) -> f64 {
        quality_score(self.received, self.rejected.len() as u64)
    }
}

fn reject(
    batch: &Batch<'_>,
    date: NaiveDate,
    raw: String,
    rule: Rule,
    reason: String,
) -> Rejection {
    Rejection {
        commodity: batch.commodity.clone(),
        source: batch.source.clone(),
        date,
        raw_value: raw,
        rule: rule.id,
        reason,
    }
}

/// Applies every rule to a batch.
pub fn validate(batch: Batch<'_>, settings: &ValidationSettings) -> Validated {
    let mut rejected = Vec::new();
    for inv in &batch.invalid {
        rejected.push(reject(
            &batch,
            inv.date,
            inv.raw.clone(),
            NOT_A_NUMBER,
            format!("{}: {:?}", inv.reason, inv.raw),
        ));
    }

    // group by date: exact repeats merge, conflicting ones are all rejected
    let mut by_date: BTreeMap<NaiveDate, Vec<&Observation>> = BTreeMap::new();
    for o in &batch.observations {
        by_date.entry(o.date).or_default().push(o);
    }
    let mut distinct: Vec<Observation> = Vec::with_capacity(by_date.len());
    for (date, rows) in &by_date {
        let first = rows[0];
        if rows.iter().all(|r| r.value == first.value) {
            distinct.push(first.clone());
        } else {
            let values: Vec<String> = rows.iter().map(|r| r.value.to_string()).collect();
            for r in rows {
                rejected.push(reject(
                    &batch,
                    *date,
                    r.value.to_string(),
                    CONFLICTING_DUPLICATE,
                    format!("{date} appears with values {}", values.join(", ")),
                ));
            }
        }
    }
    let conflicting = rejected.len() - batch.invalid.len();
    for out in &batch.outside {
        let (rule, reason) = if out.date > batch.today {
            (
                FUTURE_DATE,
                format!(
                    "{} is after today ({}) in {}; {}",
                    out.date, batch.today, batch.spec.timezone, out.reason
                ),
            )
        } else {
            (OUTSIDE_WINDOW, out.reason.clone())
        };
        rejected.push(reject(&batch, out.date, out.raw.clone(), rule, reason));
    }
    let received =
        (distinct.len() + conflicting + batch.invalid.len() + batch.outside.len()) as u64;

    // the trading calendar dates daily series only: a weekly or monthly period date (the first
    // of a month that is a Sunday, a week ending on Good Friday) is the source's label, not a
    // trading day
    let daily = batch.spec.resolution == Resolution::Daily;
    let mut accepted = Vec::with_capacity(distinct.len());
    for o in distinct {
        if o.date > batch.today {
            let reason = format!(
                "{} is after today ({}) in {}",
                o.date, batch.today, batch.spec.timezone
            );
            rejected.push(reject(
                &batch,
                o.date,
                o.value.to_string(),
                FUTURE_DATE,
                reason,
            ));
            continue;
        }
        if daily && o.date.weekday().number_from_monday() > 5 {
            let reason = format!(
                "{} is a {}: no market of the {} calendar trades then",
                o.date,
                o.date.format("%A"),
                batch.calendar
            );
            rejected.push(reject(
                &batch,
                o.date,
                o.value.to_string(),
                WEEKEND_DATE,
                reason,
            ));
            continue;
        }
        let below = batch.spec.min_value.is_some_and(|min| o.value < min);
        let above = batch.spec.max_value.is_some_and(|max| o.value > max);
        if below || above {
            let range = format!(
                "{}..{}",
                batch
                    .spec
                    .min_value
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                batch
                    .spec
                    .max_value
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            );
            let reason = format!(
                "{} is outside the plausible range {range} {}",
                o.value, batch.spec.unit
            );
            rejected.push(reject(
                &batch,
                o.date,
                o.value.to_string(),
                PLAUSIBLE_RANGE,
                reason,
            ));
            continue;
        }
        accepted.push(o);
    }

    let mut warnings = warn_level(&accepted, batch.history, settings);
    // an assessment can be published on a holiday of its calendar (EIA priced Brent on three
    // UK substitute days): stored, but said
    for o in accepted.iter().filter(|_| daily) {
        if !batch.calendar.is_trading_day(o.date) {
            let name = batch
                .calendar
                .holidays(o.date.year())
                .into_iter()
                .find(|(d, _)| *d == o.date)
                .map_or("a holiday", |(_, name)| name);
            warnings.push(Warning {
                date: o.date,
                rule: HOLIDAY_DATE.id,
                reason: format!("{} is {name} on the {} calendar", o.date, batch.calendar),
            });
        }
    }
    warnings.sort_by_key(|w| w.date);
    Validated {
        accepted,
        rejected,
        warnings,
        received,
    }
}

/// The warn-level rules over accepted rows (in date order) after the stored history.
fn warn_level(
    accepted: &[Observation],
    history: &[(NaiveDate, Price)],
    settings: &ValidationSettings,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let window = settings.jump_window.max(1) as usize;
    // recent values, oldest first, only those before the batch's first date
    let first = accepted.first().map(|o| o.date);
    let mut recent: Vec<f64> = history
        .iter()
        .rev()
        .filter(|(d, _)| first.is_none_or(|f| *d < f))
        .map(|(_, p)| p.to_f64())
        .collect();
    let mut run_value: Option<Price> = history
        .iter()
        .find(|(d, _)| first.is_none_or(|f| *d < f))
        .map(|(_, p)| *p);
    let mut run_len = usize::from(run_value.is_some());
    for o in accepted {
        let v = o.value.to_f64();
        let tail = &recent[recent.len().saturating_sub(window)..];
        if tail.len() >= 5 {
            let m = median(tail);
            if m != 0.0 && ((v - m) / m).abs() > settings.jump_threshold {
                warnings.push(Warning {
                    date: o.date,
                    rule: JUMP.id,
                    reason: format!(
                        "{} is {:.0}% away from the median {:.2} of the last {} values",
                        o.value,
                        ((v - m) / m).abs() * 100.0,
                        m,
                        tail.len()
                    ),
                });
            }
        }
        recent.push(v);
        if run_value == Some(o.value) {
            run_len += 1;
        } else {
            run_value = Some(o.value);
            run_len = 1;
        }
        if settings.repeat_days > 1 && run_len >= settings.repeat_days as usize {
            warnings.push(Warning {
                date: o.date,
                rule: REPEATED_VALUE.id,
                reason: format!("{} repeated on {run_len} observations in a row", o.value),
            });
        }
    }
    warnings
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// What the quality gate decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// Store `accepted`, quarantine `rejected`.
    Passed(Validated),
    /// Store nothing; quarantine every row (`rejected`), the accepted ones under `quality_gate`.
    Failed {
        validated: Validated,
        rejected: Vec<Rejection>,
        score: f64,
    },
}

/// Applies `pipeline.quality_gate.min_quality_score` to a validated batch.
pub fn gate(validated: Validated, min_quality_score: f64) -> Gate {
    let score = validated.quality_score();
    if score >= min_quality_score {
        return Gate::Passed(validated);
    }
    let reason = format!(
        "batch quality {score:.3} is below the gate {min_quality_score} ({} of {} rows failed validation)",
        validated.rejected.len(),
        validated.received
    );
    let mut rejected = validated.rejected.clone();
    rejected.extend(validated.accepted.iter().map(|o| Rejection {
        commodity: o.commodity.clone(),
        source: o.source.clone(),
        date: o.date,
        raw_value: o.value.to_string(),
        rule: QUALITY_GATE.id,
        reason: reason.clone(),
    }));
    Gate::Failed {
        validated,
        rejected,
        score,
    }
}
