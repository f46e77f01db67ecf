//! A string that must never be shown: API keys, SMTP passwords, webhook URLs.

use std::fmt;

use serde::{Serialize, Serializer};

/// A secret value. `Debug`, `Display` and `Serialize` all print `***`; the only way to the text is
/// [`Secret::expose`], which makes each use easy to find in review.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret text, for putting on the wire. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// `text` with every one of `secrets` replaced by `***`: the one redaction rule for messages
/// and errors. Every non-empty secret counts, however short (a leak is worse than a mangled
/// word), the longest first so that one holding another goes whole.
pub fn redact<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut secrets: Vec<&str> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for s in secrets {
        out = out.replace(s, "***");
    }
    out
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_takes_every_secret_longest_first() {
        let url = "https://hooks.slack.com/services/T1/B2/abc";
        assert_eq!(
            redact(
                &format!("posting to {url} failed (path /services/T1/B2/abc)"),
                ["/services/T1/B2/abc", url, ""]
            ),
            "posting to *** failed (path ***)"
        );
        assert_eq!(redact("key k3 refused", ["k3"]), "key *** refused");
    }

    #[test]
    fn never_formats_its_value() {
        let s = Secret::new("abcd1234");
        assert_eq!(format!("{s} {s:?} {s:#?}"), "*** *** ***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "abcd1234");
    }
}
