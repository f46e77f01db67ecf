//! The `database` section of the configuration and the database URL, which may hold a password.

use std::{fmt, path::PathBuf, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database URL: `sqlite://PATH` (relative or absolute) or `postgres://user[:password]@host[:port]/db`.
///
/// `Display`, `Debug` and `Serialize` replace any password with `***`; [`DatabaseUrl::expose`]
/// gives the full text for connecting.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

/// Why a database URL was refused. No message holds more of the URL than
/// [`energy_core::redact_url_credentials`] shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error(
        "unsupported database URL `{0}`: use sqlite://PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DB"
    )]
    Scheme(String),
    /// `postgres:/…`, `postgres//…`, `sqlite:…`: a known scheme without its `://`.
    #[error("database URL `{shown}` is missing `://`: write {scheme}://…")]
    NoSlashes { shown: String, scheme: &'static str },
    /// libpq's `host=… user=… password=…` form.
    #[error(
        "database URL `{0}` is a libpq keyword string, which is not supported: write it as postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAMS]"
    )]
    KeywordString(String),
    #[error("database URL has no path after sqlite://: use e.g. sqlite://data/pipeline.db")]
    EmptySqlitePath,
    /// `sqlite://x.db?mode=ro`: SQLite's URI parameters are not read; the `?…` would be part of
    /// the file name.
    #[error(
        "database URL `{0}` has parameters (`?…`), which a sqlite:// URL does not take: give the file's path only (the pipeline opens it to write: runs, migrations)"
    )]
    SqliteParameters(String),
    #[error(
        "invalid PostgreSQL URL `{shown}` ({reason}): use postgres://USER[:PASSWORD]@HOST[:PORT]/DB"
    )]
    Postgres { shown: String, reason: String },
    /// A raw `@`, `:`, `/`, `?` or `#` in the user name or password: parsers split such a URL
    /// differently (libpq at the first `@`, URL parsers at the last).
    #[error(
        "database URL `{shown}`: the {part} holds a raw `{character}`, which makes the URL ambiguous: percent-encode it as `{encoded}` (the {part} is not shown)"
    )]
    Ambiguous {
        shown: String,
        part: &'static str,
        character: char,
        encoded: &'static str,
    },
}

/// The percent-encoding of a character that must not be raw in a URL's user name or password.
fn encoded(c: char) -> &'static str {
    match c {
        '@' => "%40",
        ':' => "%3A",
        '/' => "%2F",
        '?' => "%3F",
        '#' => "%23",
        _ => "%XX",
    }
}

/// What makes a `postgres://` URL ambiguous, read on the text after `://`: a raw `@` or `:` in
/// the password, or `@` in the user name; a raw `/`, `?` or `#` that ends the authority early,
/// leaving a non-numeric "port" and an `@` after it.
fn ambiguity(after: &str) -> Option<(&'static str, char)> {
    let auth_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..auth_end];
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        return match userinfo.split_once(':') {
            Some((user, _)) if user.contains('@') => Some(("user name", '@')),
            Some((_, password)) if password.contains('@') => Some(("password", '@')),
            Some((_, password)) if password.contains(':') => Some(("password", ':')),
            None if userinfo.contains('@') => Some(("user name", '@')),
            _ => None,
        };
    }
    let tail = &after[auth_end..];
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let port_ok = authority
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.chars().all(|c| c.is_ascii_digit()));
    let ended_by = tail.chars().next()?;
    if tail[..path_end].contains('@') || (tail.contains('@') && !port_ok) {
        let part = if authority.contains(':') {
            "password"
        } else {
            "user name"
        };
        return Some((part, ended_by));
    }
    None
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<Self, DatabaseUrlError> {
        let text = text.trim();
        let shown = || energy_core::redact_url_credentials(text);
        let Some((scheme, after)) = text.split_once("://") else {
            let head = text.split([':', '/']).next().unwrap_or(text);
            let first_word = text.split_whitespace().next().unwrap_or(text);
            return Err(match head {
                "postgres" | "postgresql" => DatabaseUrlError::NoSlashes {
                    shown: shown(),
                    scheme: "postgres",
                },
                "sqlite" => DatabaseUrlError::NoSlashes {
                    shown: shown(),
                    scheme: "sqlite",
                },
                _ if first_word.contains('=') => DatabaseUrlError::KeywordString(shown()),
                _ => DatabaseUrlError::Scheme(shown()),
            });
        };
        match scheme {
            "sqlite" => {
                if after.is_empty() {
                    return Err(DatabaseUrlError::EmptySqlitePath);
                }
                if after.contains('?') {
                    return Err(DatabaseUrlError::SqliteParameters(shown()));
                }
                Ok(Self {
                    raw: text.to_owned(),
                    backend: Backend::Sqlite,
                })
            }
            "postgres" | "postgresql" => {
                if let Some((part, character)) = ambiguity(after) {
                    return Err(DatabaseUrlError::Ambiguous {
                        shown: shown(),
                        part,
                        character,
                        encoded: encoded(character),
                    });
                }
                let invalid = |reason: String| DatabaseUrlError::Postgres {
                    shown: shown(),
                    reason,
                };
                let url = Url::parse(text).map_err(|e| invalid(e.to_string()))?;
                if url.host_str().is_none_or(str::is_empty) && !text.contains("host=") {
                    return Err(invalid("no host".to_owned()));
                }
                // sslmode, sslrootcert and the other connection parameters
                crate::target::PgTarget::parse(text).map_err(invalid)?;
                Ok(Self {
                    raw: text.to_owned(),
                    backend: Backend::Postgres,
                })
            }
            _ => Err(DatabaseUrlError::Scheme(shown())),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The file of a SQLite URL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self.backend {
            Backend::Sqlite => Some(PathBuf::from(&self.raw["sqlite://".len()..])),
            Backend::Postgres => None,
        }
    }

    /// The URL with its password, for connecting. Never format it.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with any password replaced by `***` ([`energy_core::redact_url_credentials`]).
    pub fn redacted(&self) -> String {
        energy_core::redact_url_credentials(&self.raw)
    }
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The `database` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// Where observations and runs are stored. `DATABASE_URL` overrides it.
    pub url: DatabaseUrl,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::parse("sqlite://data/pipeline.db").expect("default URL is valid"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_backends_and_paths() {
        let u = DatabaseUrl::parse("sqlite://data/pipeline.db").unwrap();
        assert_eq!(u.backend(), Backend::Sqlite);
        assert_eq!(u.sqlite_path().unwrap(), PathBuf::from("data/pipeline.db"));
        let u = DatabaseUrl::parse("sqlite:///var/lib/p.db").unwrap();
        assert_eq!(u.sqlite_path().unwrap(), PathBuf::from("/var/lib/p.db"));
        let u = DatabaseUrl::parse("postgresql://app@db:5432/prices").unwrap();
        assert_eq!(u.backend(), Backend::Postgres);
    }

    #[test]
    fn refuses_unknown_schemes_and_empty_paths() {
        assert!(matches!(
            DatabaseUrl::parse("mysql://x/y"),
            Err(DatabaseUrlError::Scheme(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("sqlite://"),
            Err(DatabaseUrlError::EmptySqlitePath)
        ));
        assert!(DatabaseUrl::parse("data.db").is_err());
    }

    #[test]
    fn a_refused_url_never_shows_its_password() {
        for (given, shown) in [
            (
                "host=127.0.0.1 user=u password=SECRETPW23 dbname=db",
                "`host=***` is a libpq keyword string",
            ),
            (
                "postgres:/u:SECRETPW23@h/db",
                "`postgres:***` is missing `://`",
            ),
            (
                "postgres//u:SECRETPW23@h/db",
                "`postgres/***` is missing `://`",
            ),
            (
                "postgres:u:SECRETPW23@h/db",
                "`postgres:***` is missing `://`",
            ),
            ("mysql://u:SECRETPW23@h/db", "`mysql://u:***@h/db`"),
            ("SECRETPW23", "`***`"),
            (
                "postgres://u:SECRETPW23@h:notaport/db",
                "`postgres://u:***@h:notaport/db`",
            ),
        ] {
            let e = DatabaseUrl::parse(given).unwrap_err().to_string();
            assert!(!e.contains("SECRETPW23"), "{given}: {e}");
            assert!(e.contains(shown), "{given}: {e}");
        }
    }

    #[test]
    fn a_raw_at_colon_or_slash_in_the_password_is_refused_naming_its_encoding() {
        for (given, character, encoded) in [
            ("postgres://u:SEC@RETPW20@127.0.0.1:55499/db", '@', "%40"),
            ("postgres://u:SEC:RETPW20@127.0.0.1:55499/db", ':', "%3A"),
            ("postgres://u:SEC/RETPW20@127.0.0.1:55499/db", '/', "%2F"),
            ("postgres://u:SEC#RETPW20@127.0.0.1:55499/db", '#', "%23"),
        ] {
            let e = DatabaseUrl::parse(given).unwrap_err();
            assert!(
                matches!(e, DatabaseUrlError::Ambiguous { part: "password", character: c, .. } if c == character),
                "{given}: {e:?}"
            );
            let text = e.to_string();
            assert!(
                text.contains(&format!("raw `{character}`")) && text.contains(encoded),
                "{text}"
            );
            assert!(!text.contains("SEC") && !text.contains("RETPW20"), "{text}");
        }
        // percent-encoded, the same password is fine
        let u = DatabaseUrl::parse("postgres://u:SEC%40RET%3A%2F@127.0.0.1:55499/db").unwrap();
        assert_eq!(u.redacted(), "postgres://u:***@127.0.0.1:55499/db");
        // an `@` in a parameter is no password's
        DatabaseUrl::parse("postgres://u@h/db?application_name=a@b").unwrap();
    }

    #[test]
    fn the_connection_goes_to_the_host_the_message_names() {
        // tokio-postgres's own reader took `dbhost:5433/prices?application_name=me` for the
        // user and password, and `desk` for the host
        let u =
            DatabaseUrl::parse("postgres://dbhost:5433/prices?application_name=me@desk").unwrap();
        assert_eq!(
            u.redacted(),
            "postgres://dbhost:5433/prices?application_name=me@desk"
        );
        let t = crate::target::PgTarget::parse(u.expose()).unwrap();
        assert_eq!(
            t.config.get_hosts(),
            [tokio_postgres::config::Host::Tcp("dbhost".into())]
        );
        assert_eq!(t.config.get_user(), None);
        let url =
            "postgres://u:p%40ss@dbhost:5433/prices?application_name=me@desk&options=-c%20x%3Dy";
        let u = DatabaseUrl::parse(url).unwrap();
        assert_eq!(
            u.redacted(),
            "postgres://u:***@dbhost:5433/prices?application_name=me@desk&options=-c%20x%3Dy"
        );
        let t = crate::target::PgTarget::parse(u.expose()).unwrap();
        assert_eq!(
            t.config.get_hosts(),
            [tokio_postgres::config::Host::Tcp("dbhost".into())]
        );
        assert_eq!(t.config.get_ports(), [5433]);
        assert_eq!(t.config.get_user(), Some("u"));
        assert_eq!(t.config.get_password(), Some(&b"p@ss"[..]));
        assert_eq!(t.config.get_dbname(), Some("prices"));
        assert_eq!(t.config.get_application_name(), Some("me@desk"));
        assert_eq!(t.config.get_options(), Some("-c x=y"));
    }

    #[test]
    fn sqlite_parameters_are_refused() {
        let e = DatabaseUrl::parse("sqlite:///tmp/x.db?mode=ro").unwrap_err();
        assert!(matches!(e, DatabaseUrlError::SqliteParameters(_)), "{e:?}");
        assert!(e.to_string().contains("path only"), "{e}");
    }

    #[test]
    fn password_never_shows() {
        let u = DatabaseUrl::parse("postgres://app:s3cr3t@db:5432/prices?password=s3cr3t").unwrap();
        let shown = format!("{u} {u:?} {}", serde_yaml::to_string(&u).unwrap());
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("app:***@db:5432/prices"), "{shown}");
        assert!(u.expose().contains("s3cr3t"));
    }
}
