//! Unit tests of the configuration: provider key variables from the registry, and
//! `pipeline.example.yaml` kept in step with the defaults.

use super::*;

const EXAMPLE: &str = include_str!("../../../../pipeline.example.yaml");

/// A provider's key variable comes from the registry alone (issue 14).
#[test]
fn each_provider_key_variable_comes_from_the_registry() {
    let registry: Vec<&str> = energy_sources::PROVIDERS
        .iter()
        .filter_map(|p| p.api_key_env)
        .collect();
    assert!(!registry.is_empty());
    let variables = Secrets::variables();
    for var in &registry {
        assert!(variables.contains(var), "{var} missing from {variables:?}");
    }
    let secrets =
        Secrets::from_lookup(|name| registry.contains(&name).then(|| format!("key-of-{name}")));
    for var in &registry {
        assert_eq!(
            secrets.by_variable(var).map(energy_core::Secret::expose),
            Some(format!("key-of-{var}").as_str())
        );
    }
    assert_eq!(secrets.values().count(), registry.len());
    assert!(secrets.by_variable("SMTP_USER").is_none());
}

#[test]
fn example_file_equals_the_defaults() {
    let from_file: Config = serde_yaml::from_str(EXAMPLE).expect("example parses");
    assert_eq!(
        from_file,
        Config::default(),
        "pipeline.example.yaml and Config::default() disagree"
    );
}

/// Every key of the defaults is written in the example, with a comment on the line above
/// (or at the end of the line).
#[test]
fn example_file_shows_and_comments_every_key() {
    let value = serde_yaml::to_value(Config::default()).unwrap();
    let mut leaves = Vec::new();
    collect_keys(&value, &mut Vec::new(), &mut leaves);
    let lines: Vec<&str> = EXAMPLE.lines().collect();
    for path in leaves {
        let line = locate::line_of(EXAMPLE, &path)
            .unwrap_or_else(|| panic!("`{}` missing from pipeline.example.yaml", path.join(".")));
        let this = lines[line - 1];
        let above = lines.get(line.wrapping_sub(2)).copied().unwrap_or("");
        assert!(
            this.contains(" # ") || above.trim_start().starts_with('#'),
            "`{}` (line {line}) has no comment",
            path.join(".")
        );
    }
}

fn collect_keys(v: &serde_yaml::Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let serde_yaml::Value::Mapping(m) = v {
        for (k, v) in m {
            let k = k.as_str().expect("string keys").to_owned();
            prefix.push(k);
            out.push(prefix.clone());
            collect_keys(v, prefix, out);
            prefix.pop();
        }
    }
}
