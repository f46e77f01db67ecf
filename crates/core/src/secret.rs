//! A string that must never be shown (API keys, SMTP passwords, webhook URLs), and the one way a
//! configured URL or connection string is shown.

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

/// Query keys whose values are passwords (libpq's `password` and `sslpassword`).
const PASSWORD_PARAMS: [&str; 2] = ["password", "sslpassword"];

/// `text`, a configured URL or database connection string, as it may be shown: the one rule
/// for every database URL and every provider's `base_url`.
///
/// - `scheme://[user[:password]@]host…`: the password (and any `password=` parameter) is
///   `***`; the user name shows. The authority ends at the first `/`, `?` or `#`, as the URL
///   parsers (WHATWG, libpq) read it, so the host shown is the host connected to.
/// - When that reading cannot be trusted (an `@` after the authority that may belong to a
///   password holding a raw `/`, `?` or `#`; white space): `scheme://***`.
/// - Anything else (a libpq keyword string, a scheme without `//`, a bare word): its first word
///   up to the first `:`, `=` or `/`, then `***` (`host=***`, `postgres:***`); never the rest.
pub fn redact_url_credentials(text: &str) -> String {
    let text = text.trim();
    let scheme_len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_')))
        .unwrap_or(text.len());
    let (scheme, rest) = text.split_at(scheme_len);
    let named = scheme.starts_with(|c: char| c.is_ascii_alphabetic());
    let Some(after) = rest.strip_prefix("://").filter(|_| named) else {
        return match rest.chars().next() {
            Some(sep @ (':' | '=' | '/')) if named => format!("{scheme}{sep}***"),
            _ => "***".to_owned(),
        };
    };
    if after.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return format!("{scheme}://***");
    }
    let auth_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, tail) = after.split_at(auth_end);
    let mut out = format!("{scheme}://");
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            out.push('@');
            out.push_str(host);
        }
        None => {
            // `u:pa/ss@host`: the authority read is `u:pa` (a port that is no number) and the
            // rest of the password follows; an `@` in the path is as suspect
            let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
            let port_ok = authority
                .rsplit_once(':')
                .is_none_or(|(_, port)| port.chars().all(|c| c.is_ascii_digit()));
            if tail[..path_end].contains('@') || (tail.contains('@') && !port_ok) {
                out.push_str("***");
                return out;
            }
            out.push_str(authority);
        }
    }
    match tail.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| {
                    let key = pair.split('=').next().unwrap_or(pair);
                    let decoded = crate::text::percent_decode(key);
                    if PASSWORD_PARAMS
                        .iter()
                        .any(|p| decoded.eq_ignore_ascii_case(p))
                    {
                        format!("{key}=***")
                    } else {
                        pair.to_owned()
                    }
                })
                .collect();
            out.push_str(&pairs.join("&"));
        }
        None => out.push_str(tail),
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
    fn a_url_shows_its_host_and_user_never_its_password() {
        for (given, shown) in [
            (
                "postgres://app:s3cr3t@db:5432/prices?sslmode=require&password=s3cr3t",
                "postgres://app:***@db:5432/prices?sslmode=require&password=***",
            ),
            ("postgres://app@db/prices", "postgres://app@db/prices"),
            ("sqlite://data/pipeline.db", "sqlite://data/pipeline.db"),
            (
                "http://user:BASEPASS@127.0.0.1:18600/v2/x?api_key=***",
                "http://user:***@127.0.0.1:18600/v2/x?api_key=***",
            ),
            // the host is the one a parser connects to: the last `@` of the authority
            ("postgres://u:SEC@RET@h:1/db", "postgres://u:***@h:1/db"),
            (
                "postgres://u:pw@h/db?application_name=a@b&PassWord=x",
                "postgres://u:***@h/db?application_name=a@b&PassWord=***",
            ),
            (
                "postgres://h/db?application_name=a@b",
                "postgres://h/db?application_name=a@b",
            ),
            // a raw `/`, `?` or `#` in the password: nothing can be shown
            ("postgres://u:pa/ss@h/db", "postgres://***"),
            ("postgres://u:pa?ss@h/db", "postgres://***"),
            ("postgres://u:1234/5@h/db", "postgres://***"),
            ("postgres://u:pw@h/db x password=y", "postgres://***"),
            // not a URL: the first word only
            (
                "host=127.0.0.1 user=u password=SECRETPW23 dbname=db",
                "host=***",
            ),
            ("password=SECRETPW23 host=h", "password=***"),
            ("postgres:/u:PW@h/db", "postgres:***"),
            ("postgres//u:PW@h/db", "postgres/***"),
            ("postgres:u:PW@h/db", "postgres:***"),
            ("SECRETPW23", "***"),
            ("  ", "***"),
        ] {
            assert_eq!(redact_url_credentials(given), shown, "{given}");
        }
    }

    #[test]
    fn never_formats_its_value() {
        let s = Secret::new("abcd1234");
        assert_eq!(format!("{s} {s:?} {s:#?}"), "*** *** ***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "abcd1234");
    }
}
