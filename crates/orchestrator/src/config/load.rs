//! Loading the configuration: YAML file, then `PIPELINE_<SECTION>__<KEY>` and `DATABASE_URL`
//! from the environment, then checks. Every problem is collected and reported at once, each with
//! the file and line (or the environment variable) it comes from.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use figment::{
    Figment, Metadata, Profile, Provider, Source,
    error::Kind,
    providers::{Env, Format, Yaml},
    value::{Dict, Map, Value},
};

use super::{Config, Secrets, locate::line_of};

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// A YAML file (plus the environment).
    File(PathBuf),
    /// No file: the built-in defaults (plus the environment).
    Defaults,
}

impl fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigOrigin::File(p) => write!(f, "{}", p.display()),
            ConfigOrigin::Defaults => f.write_str("built-in defaults"),
        }
    }
}

/// A loaded, checked configuration with the secrets from the environment.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub secrets: Secrets,
    pub origin: ConfigOrigin,
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key, e.g. `schedule.timezone`, when the problem is about one key.
    pub key: Option<String>,
    /// Where the bad value is: `pipeline.yaml:5`, `environment variable PIPELINE_X__Y`, …
    pub location: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    /// The line in the file, when the location has one.
    pub fn line(&self) -> Option<usize> {
        let loc = self.location.as_deref()?;
        loc.rsplit_once(':').and_then(|(_, l)| l.parse().ok())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Why no configuration could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "configuration file {path} cannot be read: {reason} (check --config / PIPELINE_CONFIG)"
    )]
    Unreadable { path: PathBuf, reason: String },
    #[error("{}", render_problems(.origin, .problems))]
    Invalid {
        origin: ConfigOrigin,
        problems: Vec<Problem>,
    },
}

fn render_problems(origin: &ConfigOrigin, problems: &[Problem]) -> String {
    let mut s = format!(
        "invalid configuration ({origin}): {} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push_str("\n  - ");
        s.push_str(&p.to_string());
    }
    s
}

/// Loads the configuration the way the binaries do: `explicit` (from `--config`), else
/// `$PIPELINE_CONFIG`, else `./pipeline.yaml` if it exists, else the defaults; then the
/// environment. Reads the process environment.
pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => match std::env::var_os("PIPELINE_CONFIG").filter(|v| !v.is_empty()) {
            Some(p) => Some(PathBuf::from(p)),
            None => Some(PathBuf::from("pipeline.yaml")).filter(|p| p.is_file()),
        },
    };
    load_from(path.as_deref())
}

/// Loads from a given file (or none) plus the process environment.
pub fn load_from(path: Option<&Path>) -> Result<Loaded, ConfigError> {
    let (origin, text) = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Unreadable {
                path: p.to_path_buf(),
                reason: e.to_string(),
            })?;
            (ConfigOrigin::File(p.to_path_buf()), Some(text))
        }
        None => (ConfigOrigin::Defaults, None),
    };

    let mut removed: Vec<Vec<String>> = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    // figment keeps the last of two equal keys; which one was meant is the author's to say
    if let (Some(path), Some(text)) = (path, text.as_deref())
        && let Some(problem) = duplicate_key(path, text)
    {
        problems.push(problem);
    }
    // Each pass reports the errors serde stops at, then prunes those keys (their defaults apply)
    // and tries again, so that one pass per bad key finds them all. Bounded, as every pass
    // removes at least one key.
    let config = loop {
        let figment = build_figment(path, text.as_deref(), &removed);
        match figment.extract::<Config>() {
            Ok(config) => {
                for (key, message) in config.problems() {
                    let path: Vec<String> = key.split('.').map(str::to_owned).collect();
                    let meta = figment.find_metadata(&key).cloned();
                    problems.push(Problem {
                        location: locate(meta.as_ref(), &path, text.as_deref()),
                        key: Some(key),
                        message,
                    });
                }
                break config;
            }
            Err(errors) => {
                let mut progressed = false;
                for e in errors {
                    let (problem, prune) = describe(&e, text.as_deref());
                    if !problems.contains(&problem) {
                        problems.push(problem);
                    }
                    match prune {
                        Some(p) if !removed.contains(&p) => {
                            removed.push(p);
                            progressed = true;
                        }
                        _ => {}
                    }
                }
                if !progressed || removed.len() > 200 {
                    problems.sort_by_key(|p| p.line().unwrap_or(usize::MAX));
                    return Err(ConfigError::Invalid { origin, problems });
                }
            }
        }
    };
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line().unwrap_or(usize::MAX));
        return Err(ConfigError::Invalid { origin, problems });
    }
    let secrets = Secrets::from_lookup(|k| std::env::var(k).ok());
    Ok(Loaded {
        config,
        secrets,
        origin,
    })
}

/// The first key written twice in one mapping, if any, at its second line.
fn duplicate_key(path: &Path, text: &str) -> Option<Problem> {
    let e = serde_yaml::from_str::<serde_yaml::Value>(text).err()?;
    let message = e.to_string();
    // serde_yaml says `monitor: duplicate entry with key "stale_after_days" at line 2 …`
    let (parent, rest) = message.split_once("duplicate entry with key ")?;
    let name = rest
        .split(" at line")
        .next()
        .unwrap_or(rest)
        .trim_matches('"');
    let parent = parent.trim().trim_end_matches(':');
    let key = if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    };
    let second = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start().trim_start_matches(['{', ' ']);
            l.strip_prefix(name)
                .or_else(|| l.strip_prefix(&format!("\"{name}\"")))
                .is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .nth(1)
        .map(|(i, _)| i + 1)
        .or_else(|| e.location().map(|l| l.line()));
    Some(Problem {
        key: Some(key.clone()),
        location: Some(match second {
            Some(line) => format!("{}:{line}", path.display()),
            None => path.display().to_string(),
        }),
        message: format!(
            "`{key}` is written twice; each key may appear once in a mapping: remove the one not meant (duplicate key)"
        ),
    })
}

fn build_figment(path: Option<&Path>, text: Option<&str>, removed: &[Vec<String>]) -> Figment {
    let mut figment = Figment::new();
    if let (Some(path), Some(text)) = (path, text) {
        // An empty file (or one with only comments) is a valid "no keys" file.
        let has_content = text
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---");
        if has_content {
            figment = figment.merge(Pruned {
                inner: Yaml::file_exact(path),
                removed,
            });
        }
    }
    let env = Env::prefixed("PIPELINE_").split("__").ignore(&["config"]);
    let database_url = Env::raw()
        .only(&["DATABASE_URL"])
        .map(|_| "database.url".into());
    figment
        .merge(Pruned {
            inner: env,
            removed,
        })
        .merge(Pruned {
            inner: database_url,
            removed,
        })
}

/// A provider with some keys taken out: those already reported as bad.
struct Pruned<'a, P> {
    inner: P,
    removed: &'a [Vec<String>],
}

impl<P: Provider> Provider for Pruned<'_, P> {
    fn metadata(&self) -> Metadata {
        self.inner.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut data = self.inner.data()?;
        for dict in data.values_mut() {
            for path in self.removed {
                remove_path(dict, path);
            }
        }
        Ok(data)
    }
}

fn remove_path(dict: &mut Dict, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            dict.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Dict(_, inner)) = dict.get_mut(first) {
                remove_path(inner, rest);
            }
        }
    }
}

/// Turns a figment error into a problem, and says which key to prune before retrying.
fn describe(e: &figment::Error, text: Option<&str>) -> (Problem, Option<Vec<String>>) {
    let path: Vec<String> = e.path.clone();
    let (message, key_path) = match &e.kind {
        Kind::UnknownField(field, expected) => {
            // figment's path already ends with the unknown key
            let mut full = path.clone();
            if full.last() != Some(field) {
                full.push(field.clone());
            }
            let hint = if expected.is_empty() {
                String::new()
            } else {
                format!("; expected one of: {}", expected.join(", "))
            };
            (format!("unknown key `{field}`{hint}"), full)
        }
        Kind::Message(m) if e.metadata.is_some() && path.is_empty() && m.contains("line") => {
            // A YAML syntax error: figment puts the line and column in the message.
            (format!("YAML syntax error: {m}"), Vec::new())
        }
        other => (kind_message(other), path.clone()),
    };
    let location = locate(e.metadata.as_ref(), &key_path, text);
    let key = (!key_path.is_empty()).then(|| key_path.join("."));
    let prune = (!key_path.is_empty()).then_some(key_path);
    (
        Problem {
            key,
            location,
            message,
        },
        prune,
    )
}

fn kind_message(kind: &Kind) -> String {
    match kind {
        Kind::InvalidType(actual, expected) => format!("found {actual}, expected {expected}"),
        Kind::InvalidValue(actual, expected) => {
            format!("invalid value {actual}, expected {expected}")
        }
        Kind::UnknownVariant(v, expected) => {
            format!(
                "unknown value `{v}`, expected one of: {}",
                expected.join(", ")
            )
        }
        Kind::Message(m) => m.clone(),
        other => other.to_string(),
    }
}

/// The environment variable(s) behind `path`: the key may be a prefix of the variable's path
/// (an unknown `foo` comes from `PIPELINE_FOO__BAR`), so the real names are looked up.
fn env_variable(path: &[String]) -> String {
    let stem = format!(
        "PIPELINE_{}",
        path.iter()
            .map(|p| p.to_uppercase())
            .collect::<Vec<_>>()
            .join("__")
    );
    let mut names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| {
            let upper = k.to_uppercase();
            upper == stem || upper.starts_with(&format!("{stem}__"))
        })
        .collect();
    names.sort();
    match names.len() {
        0 => format!("environment variable {stem}"),
        1 => format!("environment variable {}", names[0]),
        _ => format!("environment variables {}", names.join(", ")),
    }
}

/// Names the file and line, or the environment variable, a value came from.
fn locate(meta: Option<&Metadata>, path: &[String], text: Option<&str>) -> Option<String> {
    let meta = meta?;
    match &meta.source {
        Some(Source::File(file)) => {
            let line = text.and_then(|t| line_of(t, path));
            Some(match line {
                Some(l) => format!("{}:{l}", file.display()),
                None => file.display().to_string(),
            })
        }
        _ if meta.name.contains("PIPELINE_") => Some(env_variable(path)),
        _ if path.first().is_some_and(|p| p == "database") => {
            Some("environment variable DATABASE_URL".to_owned())
        }
        _ => Some(meta.name.to_string()),
    }
}
