//! Provider knowledge stays in `sources`: no other crate's code names a provider's key
//! variable (`EIA_API_KEY`, …); it takes it from the provider registry
//! (`energy_sources::PROVIDERS`). Comments and test modules (`tests`, `…_tests`) may name them.

use super::source::SourceFile;

/// Where code outside `crates/sources` names a provider key variable, as messages.
pub(crate) fn check(krate: &str, files: &[SourceFile]) -> Vec<String> {
    if krate == "sources" {
        return Vec::new();
    }
    let mut out = Vec::new();
    for f in files {
        let spans = f.inline_modules();
        let text = &f.code_and_strings;
        for (at, _) in text.match_indices("_API_KEY") {
            let start = text[..at]
                .rfind(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .map_or(0, |p| p + 1);
            if start == at
                || f.module_at(at, &spans)
                    .iter()
                    .any(|m| m == "tests" || m.ends_with("_tests"))
            {
                continue;
            }
            out.push(format!(
                "{}:{} names the provider key variable {}: only crates/sources knows them; take it from the provider registry (energy_sources::PROVIDERS, SourcesConfig::api_key_env)",
                f.shown.display(),
                f.line_of(at),
                &text[start..at + "_API_KEY".len()]
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("lib.rs".into(), Path::new("lib.rs"), text)
    }

    #[test]
    fn a_key_variable_in_code_is_refused_outside_sources() {
        let f = file(
            "// EIA_API_KEY in a comment is fine\nconst V: &str = \"FRED_API_KEY\";\n#[cfg(test)]\nmod tests {\n    const T: &str = \"EIA_API_KEY\";\n}\n",
        );
        let found = check("orchestrator", std::slice::from_ref(&f));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("lib.rs:2 names the provider key variable FRED_API_KEY"),
            "{}",
            found[0]
        );
        assert!(check("sources", &[f]).is_empty());
    }
}
