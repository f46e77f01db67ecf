//! The one rule for a configured number: it must be finite and inside the bounds within which
//! it works, and the message names those bounds (`1e300 is outside 0.1..=3600 seconds`).

use std::ops::RangeInclusive;

/// A number as a person would write it in the configuration: `1e300`, not 301 digits.
pub trait Shown: PartialOrd + Copy {
    fn shown(self) -> String;
}

impl Shown for f64 {
    fn shown(self) -> String {
        let a = self.abs();
        if a.is_finite() && a != 0.0 && !(1e-4..1e16).contains(&a) {
            format!("{self:e}")
        } else {
            self.to_string()
        }
    }
}

macro_rules! shown_as_display {
    ($($t:ty),*) => {$(
        impl Shown for $t {
            fn shown(self) -> String {
                self.to_string()
            }
        }
    )*};
}
shown_as_display!(u16, u32, u64, usize, i64);

/// Why `value` cannot be used, or `None` when it is inside `range`. `unit` follows the bounds
/// in the message ("seconds", "days", or "" for a plain count).
pub fn outside<T: Shown>(value: T, range: RangeInclusive<T>, unit: &str) -> Option<String> {
    if range.contains(&value) {
        return None;
    }
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    let (lo, hi) = (range.start().shown(), range.end().shown());
    // NaN is neither inside nor outside a range: say what it is
    #[allow(clippy::eq_op)]
    let is_nan = value != value;
    Some(if is_nan {
        format!("NaN is not a number: use {lo}..={hi}{unit}")
    } else {
        format!("{} is outside {lo}..={hi}{unit}", value.shown())
    })
}

#[cfg(test)]
mod tests {
    use super::outside;

    #[test]
    fn names_the_bounds_and_the_value() {
        assert_eq!(outside(5u32, 1..=10, "days"), None);
        assert_eq!(
            outside(1e300, 0.1..=3600.0, "seconds").unwrap(),
            "1e300 is outside 0.1..=3600 seconds"
        );
        assert_eq!(
            outside(f64::NAN, 0.1..=3600.0, "seconds").unwrap(),
            "NaN is not a number: use 0.1..=3600 seconds"
        );
        assert_eq!(
            outside(f64::INFINITY, 0.0..=1.0, "").unwrap(),
            "inf is outside 0..=1"
        );
        assert_eq!(outside(0u32, 1..=64, "").unwrap(), "0 is outside 1..=64");
    }
}
