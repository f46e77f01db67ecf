//! `cargo xtask tidy`: the workspace's structural rules, each in its own module. `layers`:
//! a crate depends only on crates of lower layers. `cycles`: no circular imports between the
//! modules of a crate. `keys`: provider key variables are named only in `sources`. `size`:
//! no file under `crates/*/src` over 450 lines, but for the few listed with their reason.

mod cycles;
mod keys;
mod layers;
mod size;
mod source;

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Runs every check; fails with every problem found.
pub(crate) fn check(root: &Path) -> Result<()> {
    let mut problems = Vec::new();
    if let Err(e) = layers::check(root) {
        problems.push(format!("{e:#}"));
    }
    problems.extend(size::check(root, size::EXCEPTIONS).context("cannot read crates/*/src")?);
    let crates = source::crates(root).context("cannot read crates/*/src")?;
    for (krate, files) in &crates {
        problems.extend(cycles::check(krate, files));
        problems.extend(keys::check(krate, files));
    }
    if !problems.is_empty() {
        bail!(
            "tidy found {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The real workspace obeys every rule; breaking one makes this fail.
    #[test]
    fn the_workspace_is_tidy() {
        super::check(&crate::workspace_root()).unwrap();
    }
}
