//! A JSON array read with a ceiling on its length: a provider never sends more rows per
//! response than its page size (EIA 5,000, FRED 100,000) or days in the window (Yahoo), so an
//! answer with more is refused as soon as the ceiling is passed, before its rows take memory.

use std::{fmt, marker::PhantomData};

use serde::{
    Deserialize, Deserializer,
    de::{SeqAccess, Visitor},
};

/// At most `N` elements of `T`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bounded<T, const N: usize>(pub Vec<T>);

impl<T, const N: usize> Default for Bounded<T, N> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Bounded<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Seq<T, const N: usize>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for Seq<T, N> {
            type Value = Bounded<T, N>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an array of at most {N} rows")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(N).min(4096));
                while let Some(item) = seq.next_element()? {
                    if out.len() == N {
                        return Err(serde::de::Error::custom(format!(
                            "more than {N} rows in one response, more than the provider sends for one request"
                        )));
                    }
                    out.push(item);
                }
                Ok(Bounded(out))
            }
        }

        d.deserialize_seq(Seq::<T, N>(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::Bounded;

    #[test]
    fn up_to_the_ceiling_is_read_and_beyond_it_refused() {
        let ok: Bounded<u8, 3> = serde_json::from_str("[1, 2, 3]").unwrap();
        assert_eq!(ok.0, [1, 2, 3]);
        let err = serde_json::from_str::<Bounded<u8, 3>>("[1, 2, 3, 4]").unwrap_err();
        assert!(err.to_string().contains("more than 3 rows"), "{err}");
    }
}
