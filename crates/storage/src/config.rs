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

/// Why a database URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error(
        "unsupported database URL scheme `{0}`: use sqlite://PATH or postgres://USER@HOST:PORT/DB"
    )]
    Scheme(String),
    #[error("database URL has no path after sqlite://: use e.g. sqlite://data/pipeline.db")]
    EmptySqlitePath,
    #[error("invalid PostgreSQL URL ({0}): use postgres://USER[:PASSWORD]@HOST[:PORT]/DB")]
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<Self, DatabaseUrlError> {
        let text = text.trim();
        let scheme = text.split_once("://").map(|(s, _)| s).unwrap_or(text);
        match scheme {
            "sqlite" => {
                if text.len() <= "sqlite://".len() {
                    return Err(DatabaseUrlError::EmptySqlitePath);
                }
                Ok(Self {
                    raw: text.to_owned(),
                    backend: Backend::Sqlite,
                })
            }
            "postgres" | "postgresql" => {
                let url =
                    Url::parse(text).map_err(|e| DatabaseUrlError::Postgres(e.to_string()))?;
                if url.host_str().is_none_or(str::is_empty) && !text.contains("host=") {
                    return Err(DatabaseUrlError::Postgres("no host".to_owned()));
                }
                // sslmode, sslrootcert and the other connection parameters
                crate::target::PgTarget::parse(text).map_err(DatabaseUrlError::Postgres)?;
                Ok(Self {
                    raw: text.to_owned(),
                    backend: Backend::Postgres,
                })
            }
            other => Err(DatabaseUrlError::Scheme(other.to_owned())),
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

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let parsed = match self.backend {
            Backend::Postgres => Url::parse(&self.raw).ok(),
            Backend::Sqlite => None,
        };
        let Some(mut url) = parsed else {
            return self.raw.clone();
        };
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        // key=value options in the query may carry a password too
        let query = url.query().map(|q| {
            q.split('&')
                .map(|kv| {
                    if kv.starts_with("password=") {
                        "password=***"
                    } else {
                        kv
                    }
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        if query.is_some() {
            url.set_query(query.as_deref());
        }
        url.to_string()
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
    fn password_never_shows() {
        let u = DatabaseUrl::parse("postgres://app:s3cr3t@db:5432/prices?password=s3cr3t").unwrap();
        let shown = format!("{u} {u:?} {}", serde_yaml::to_string(&u).unwrap());
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("app:***@db:5432/prices"), "{shown}");
        assert!(u.expose().contains("s3cr3t"));
    }
}
