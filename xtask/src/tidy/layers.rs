//! The layering rule: a workspace crate may depend only on workspace crates of a lower layer.
//!
//! ```text
//! 5  cli                            binary: nothing depends on it
//! 4  scheduler                      the scheduler library (and the energy-scheduler binary)
//! 3  energy-web                     the HTTP server both binaries start
//! 2  energy-orchestrator
//! 1  energy-sources, energy-storage, energy-notify   never on each other
//! 0  energy-core                     depends on no workspace crate
//! ```

use std::{path::Path, process::Command};

use anyhow::{Context, Result, bail};

/// Layer of each workspace package; packages not listed (xtask) are not checked.
pub(crate) fn layer(package: &str) -> Option<u8> {
    Some(match package {
        "energy-core" => 0,
        "energy-sources" | "energy-storage" | "energy-notify" => 1,
        "energy-orchestrator" => 2,
        "energy-web" => 3,
        "scheduler" => 4,
        "cli" => 5,
        _ => return None,
    })
}

/// Every (from, to) dependency edge that breaks the rule, as messages. A crate naming itself
/// (a dev-dependency that turns on its own test feature) is not an edge.
pub(crate) fn violations(edges: &[(String, String)]) -> Vec<String> {
    edges
        .iter()
        .filter(|(from, to)| from != to)
        .filter_map(|(from, to)| {
            let (lf, lt) = (layer(from)?, layer(to)?);
            (lt >= lf).then(|| {
                format!(
                    "{from} (layer {lf}) depends on {to} (layer {lt}): dependencies must point to a lower layer (see ARCHITECTURE.md)"
                )
            })
        })
        .collect()
}

/// Reads the workspace's dependency edges from `cargo metadata` and checks them.
pub(crate) fn check(root: &Path) -> Result<()> {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .context("cannot run cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let mut edges = Vec::new();
    for pkg in meta["packages"].as_array().into_iter().flatten() {
        let from = pkg["name"].as_str().unwrap_or_default().to_owned();
        for dep in pkg["dependencies"].as_array().into_iter().flatten() {
            if dep["path"].is_string() {
                edges.push((
                    from.clone(),
                    dep["name"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
    }
    let bad = violations(&edges);
    if !bad.is_empty() {
        bail!("crate layering broken:\n  {}", bad.join("\n  "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    #[test]
    fn downward_edges_are_allowed() {
        let edges = [
            e("energy-sources", "energy-core"),
            e("energy-orchestrator", "energy-storage"),
            e("cli", "energy-orchestrator"),
            e("cli", "energy-core"),
            e("cli", "scheduler"),
            e("scheduler", "energy-orchestrator"),
            e("xtask", "cli"),
            // a crate's dev-dependency on itself, for its own `testing` feature
            e("energy-storage", "energy-storage"),
        ];
        assert!(violations(&edges).is_empty());
    }

    #[test]
    fn sideways_and_upward_edges_are_refused() {
        let edges = [
            e("energy-core", "energy-sources"),
            e("energy-sources", "energy-storage"),
            e("energy-notify", "energy-orchestrator"),
            e("energy-orchestrator", "cli"),
            e("energy-orchestrator", "scheduler"),
            e("scheduler", "cli"),
        ];
        assert_eq!(violations(&edges).len(), 6);
    }
}
