//! Whether two sources agree on a commodity's date: two copies of one instrument (EIA's spot
//! price and FRED's copy of it) must carry the same number; a spot price and a front-month
//! future are different instruments and may differ by their basis, up to a band.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{CommodityCode, Price, SourceId};

/// What a source's series of a commodity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// An assessed spot price (EIA's, and FRED's copies of EIA's).
    Spot,
    /// The nearest futures contract's settlement (Yahoo's `CL=F`, `BZ=F`, `NG=F`).
    FrontMonthFuture,
}

/// How two sources disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disagreement {
    /// Two copies of one instrument with different values.
    Mismatch,
    /// Spot and future further apart than `monitor.basis_band`.
    OutsideBasisBand,
}

/// One source's value in a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceValue {
    pub source: SourceId,
    pub instrument: Instrument,
    pub value: Price,
}

/// A warning: two sources disagree on a date (the run still succeeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossSourceWarning {
    pub commodity: CommodityCode,
    pub date: NaiveDate,
    pub kind: Disagreement,
    pub first: SourceValue,
    pub second: SourceValue,
    /// For people: both sources and both values.
    pub message: String,
}

/// Compares two sources' values of `commodity` on `date`: a copy of the same instrument must
/// be equal; spot and future may be apart by up to `basis_band` of the larger absolute value.
pub fn compare(
    commodity: &CommodityCode,
    date: NaiveDate,
    first: SourceValue,
    second: SourceValue,
    basis_band: f64,
) -> Option<CrossSourceWarning> {
    let (a, b) = (first.value.as_decimal(), second.value.as_decimal());
    let kind = if first.instrument == second.instrument {
        (a != b).then_some(Disagreement::Mismatch)?
    } else {
        let larger = a.abs().max(b.abs());
        let band = Decimal::try_from(basis_band).unwrap_or(Decimal::MAX);
        ((a - b).abs() > larger * band).then_some(Disagreement::OutsideBasisBand)?
    };
    let message = match kind {
        Disagreement::Mismatch => format!(
            "{commodity} {date}: {} has {} but {} has {} for the same price",
            first.source, first.value, second.source, second.value
        ),
        Disagreement::OutsideBasisBand => format!(
            "{commodity} {date}: {} ({}) {} and {} ({}) {} are more than {}% apart",
            first.source,
            name(first.instrument),
            first.value,
            second.source,
            name(second.instrument),
            second.value,
            basis_band * 100.0
        ),
    };
    Some(CrossSourceWarning {
        commodity: commodity.clone(),
        date,
        kind,
        first,
        second,
        message,
    })
}

fn name(i: Instrument) -> &'static str {
    match i {
        Instrument::Spot => "spot",
        Instrument::FrontMonthFuture => "front month",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(source: &str, instrument: Instrument, value: &str) -> SourceValue {
        SourceValue {
            source: SourceId::new(source).unwrap(),
            instrument,
            value: Price::parse(value).unwrap(),
        }
    }

    fn check(a: SourceValue, b: SourceValue) -> Option<CrossSourceWarning> {
        let wti = CommodityCode::new("WTI").unwrap();
        compare(&wti, "2020-04-20".parse().unwrap(), a, b, 0.25)
    }

    #[test]
    fn copies_of_one_price_must_be_equal() {
        use Instrument::Spot;
        assert_eq!(
            check(v("eia", Spot, "63.10"), v("fred", Spot, "63.1")),
            None
        );
        let w = check(v("eia", Spot, "63.1"), v("fred", Spot, "63.2")).unwrap();
        assert_eq!(w.kind, Disagreement::Mismatch);
        assert_eq!(
            w.message,
            "WTI 2020-04-20: eia has 63.1 but fred has 63.2 for the same price"
        );
    }

    #[test]
    fn spot_and_future_may_differ_by_their_basis() {
        use Instrument::{FrontMonthFuture as F, Spot};
        // 2020-04-20: spot -36.98, the May contract -37.63: 1.7% apart
        assert_eq!(
            check(v("eia", Spot, "-36.98"), v("yahoo", F, "-37.63")),
            None
        );
        assert_eq!(check(v("eia", Spot, "60"), v("yahoo", F, "80")), None); // 25%
        let w = check(v("eia", Spot, "60"), v("yahoo", F, "80.01")).unwrap();
        assert_eq!(w.kind, Disagreement::OutsideBasisBand);
        assert!(
            w.message
                .contains("eia (spot) 60 and yahoo (front month) 80.01"),
            "{}",
            w.message
        );
        assert_eq!(check(v("eia", Spot, "0"), v("yahoo", F, "0")), None);
    }
}
