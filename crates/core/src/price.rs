//! Exact decimal prices: what the provider published, without binary-float noise.

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::DomainError;

/// A price held as an exact decimal with the scale it was published with (`4.0` stays `4.0`,
/// `26.00` stays `26.00`: values are kept and shown exactly as published).
///
/// Two prices are equal when they are numerically equal (`4.0 == 4`, and they hash alike), so
/// "unchanged" means the same number whatever the provider's formatting. Negative prices are valid (WTI settled at -36.98 on
/// 2020-04-20); whether a value is plausible is decided by validation, not here.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(Decimal);

impl Price {
    /// Parses a published decimal string such as `"25.78"`, `"-36.98"` or `"1.5e2"`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(DomainError::InvalidPrice(text.to_owned()));
        }
        let parsed = Decimal::from_str_exact(t).or_else(|_| {
            if t.contains(['e', 'E']) {
                Decimal::from_scientific(t)
            } else {
                Decimal::from_str_exact("x")
            }
        });
        parsed
            .map(Self::from_decimal)
            .map_err(|_| DomainError::InvalidPrice(text.to_owned()))
    }

    /// Why `text`, which [`Price::parse`] refused, is not a price: said the same way for every
    /// provider.
    pub fn why_unusable(text: &str) -> &'static str {
        match text.trim().parse::<f64>() {
            Ok(v) if !v.is_finite() => "not a finite number",
            // Decimal holds 96 bits: about 7.9e28
            Ok(v) if v.abs() >= 7.9e28 => "too large to be a price (beyond ±7.9e28)",
            Ok(_) => "more significant digits than a price holds (28)",
            Err(_) => "not a number",
        }
    }

    /// Wraps a decimal, keeping its scale.
    pub fn from_decimal(mut d: Decimal) -> Self {
        // zero has no sign: `-0.00` is `0.00`
        if d.is_zero() {
            d.set_sign_positive(true);
        }
        Self(d)
    }

    /// Converts a binary float that stands for a decimal with `decimals` places (Yahoo's float32
    /// artefacts: `1518.0999755859375` with 2 decimals is `1518.1`).
    pub fn from_f64_rounded(value: f64, decimals: u32) -> Result<Self, DomainError> {
        if !value.is_finite() {
            return Err(DomainError::UnrepresentablePrice(value.to_string()));
        }
        let decimals = decimals.min(12) as usize;
        // Formatting rounds the exact binary value half-to-even at the given precision, which is
        // what a human reading the quote with that many places would see.
        let text = format!("{value:.decimals$}");
        // a float has no published scale: the rounded number, without trailing zeros
        Decimal::from_str_exact(&text)
            .map(|d| Self::from_decimal(d.normalize()))
            .map_err(|_| DomainError::UnrepresentablePrice(text))
    }

    pub fn as_decimal(&self) -> Decimal {
        self.0
    }

    /// The nearest binary float, for statistics; never for storage.
    pub fn to_f64(&self) -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        self.0.to_f64().unwrap_or(f64::NAN)
    }

    pub fn is_negative(&self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
}

impl FromStr for Price {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Price({})", self.0)
    }
}

/// JSON reports carry prices as numbers. Every price with up to 15 significant digits prints
/// back as the same decimal digits, because serde_json writes the shortest round-tripping form.
impl Serialize for Price {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_f64())
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Number(f64),
        }
        match Repr::deserialize(d)? {
            Repr::Text(t) => Price::parse(&t).map_err(serde::de::Error::custom),
            // A number in JSON was written by us from an f64; its shortest form is the decimal.
            Repr::Number(n) => Price::parse(&n.to_string()).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusals_say_what_is_wrong() {
        assert_eq!(super::Price::why_unusable("abc"), "not a number");
        assert_eq!(super::Price::why_unusable("NaN"), "not a finite number");
        assert!(super::Price::why_unusable("1e308").starts_with("too large"));
        assert!(
            super::Price::why_unusable("1.234567890123456789012345678901234")
                .starts_with("more significant digits")
        );
    }

    use super::*;

    #[test]
    fn published_strings_round_trip_exactly() {
        for s in ["-36.98", "0.1", "145.31", "1518.1", "25.78", "3.8", "0"] {
            assert_eq!(Price::parse(s).unwrap().to_string(), s);
        }
    }

    /// Issue 30, item 7: `4.0` was stored and exported as `4`.
    #[test]
    fn the_published_scale_is_kept_and_equal_numbers_are_equal() {
        use std::hash::{BuildHasher, RandomState};
        let a = Price::parse("26.00").unwrap();
        let b = Price::parse("26").unwrap();
        assert_eq!(a, b);
        let h = RandomState::new();
        assert_eq!(h.hash_one(a), h.hash_one(b));
        assert_eq!(a.to_string(), "26.00");
        assert_eq!(Price::parse("4.0").unwrap().to_string(), "4.0");
        assert_eq!(Price::parse("-0.50").unwrap().to_string(), "-0.50");
    }

    #[test]
    fn yahoo_float32_noise_is_removed_by_price_hint() {
        let p = Price::from_f64_rounded(1518.0999755859375, 2).unwrap();
        assert_eq!(p.to_string(), "1518.1");
        let p = Price::from_f64_rounded(1528.699951171875, 2).unwrap();
        assert_eq!(p.to_string(), "1528.7");
        let p = Price::from_f64_rounded(2.4660000801086426, 3).unwrap();
        assert_eq!(p.to_string(), "2.466");
    }

    #[test]
    fn garbage_and_non_finite_values_are_errors() {
        for bad in ["", ".", "abc", "NaN", "1,5", "--1"] {
            assert!(Price::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Price::from_f64_rounded(f64::NAN, 2).is_err());
        assert!(Price::from_f64_rounded(f64::INFINITY, 2).is_err());
    }

    #[test]
    fn negative_zero_is_zero() {
        assert_eq!(Price::parse("-0.00").unwrap().to_string(), "0.00");
        assert_eq!(Price::parse("-0.00").unwrap(), Price::parse("0").unwrap());
    }

    #[test]
    fn scientific_notation_is_accepted() {
        assert_eq!(Price::parse("1.5e2").unwrap().to_string(), "150");
    }

    #[test]
    fn json_number_is_the_shortest_decimal() {
        let p = Price::parse("-36.98").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "-36.98");
        let back: Price = serde_json::from_str("-36.98").unwrap();
        assert_eq!(back, p);
    }
}
