//! No file under `crates/*/src` is over [`MAX_LINES`] lines, test modules included: a file that
//! long holds more than one topic (or its tests inline, which go to `tests.rs` beside it:
//! `#[cfg(test)] mod tests;`). The few files allowed to be longer are listed in [`EXCEPTIONS`]
//! with the reason, and an exception that is no longer needed is a problem too, so the list
//! stays short.

use std::path::{Path, PathBuf};

/// The most lines a source file may have.
pub(crate) const MAX_LINES: usize = 450;

/// Files allowed over [`MAX_LINES`], relative to the workspace root, each with its reason.
pub(crate) const EXCEPTIONS: &[(&str, &str)] = &[];

/// Every file over the limit that is not excepted, and every exception no longer needed, as
/// messages.
pub(crate) fn check(root: &Path, exceptions: &[(&str, &str)]) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    for dir in std::fs::read_dir(root.join("crates"))? {
        let src = dir?.path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files)?;
        }
    }
    files.sort();
    let mut long = Vec::new();
    for path in files {
        let lines = std::fs::read_to_string(&path)?.lines().count();
        let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        if lines <= MAX_LINES {
            continue;
        }
        let shown = shown.to_string_lossy().replace('\\', "/");
        if !exceptions.iter().any(|(p, _)| *p == shown) {
            out.push(format!(
                "{shown} has {lines} lines, over {MAX_LINES}: split it by topic (inline tests can go to tests.rs beside it), or list it with its reason in xtask/src/tidy/size.rs"
            ));
        }
        long.push(shown);
    }
    for (path, reason) in exceptions {
        if !long.iter().any(|l| l == path) {
            out.push(format!(
                "{path} is listed as allowed over {MAX_LINES} lines ({reason}) but is not: remove it from EXCEPTIONS in xtask/src/tidy/size.rs"
            ));
        }
    }
    Ok(out)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            rust_files(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch workspace under the system's temp dir, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("xtask-size-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        /// Writes `lines` lines of code to `path` (inline tests among them).
        fn file(&self, path: &str, lines: usize) {
            let p = self.0.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let mut text = String::from("#[cfg(test)]\nmod tests {\n");
            for i in 2..lines - 1 {
                text.push_str(&format!("    const C{i}: u32 = {i};\n"));
            }
            text.push_str("}\n");
            assert_eq!(text.lines().count(), lines);
            std::fs::write(p, text).unwrap();
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_file_over_450_lines_is_refused_unless_listed() {
        let root = Scratch::new("long");
        root.file("crates/web/src/lib.rs", 450);
        root.file("crates/web/src/pages/mod.rs", 451);
        root.file("crates/scheduler/src/main.rs", 600);
        root.file("crates/storage/src/read.rs", 611);
        root.file("crates/web/tests/it/main.rs", 900); // tests outside src: not counted
        let found = check(&root.0, &[("crates/storage/src/read.rs", "being split")]).unwrap();
        assert_eq!(
            found.len(),
            2,
            "pages/mod.rs and main.rs, not lib.rs (450) nor the listed read.rs: {found:#?}"
        );
        assert!(
            found[0].starts_with("crates/scheduler/src/main.rs has 600 lines, over 450"),
            "{}",
            found[0]
        );
        assert!(
            found[1].starts_with("crates/web/src/pages/mod.rs has 451 lines, over 450"),
            "{}",
            found[1]
        );
    }

    #[test]
    fn an_exception_no_longer_needed_is_a_problem() {
        let root = Scratch::new("stale");
        root.file("crates/storage/src/read.rs", 300);
        let found = check(&root.0, &[("crates/storage/src/read.rs", "being split")]).unwrap();
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("crates/storage/src/read.rs is listed as allowed over 450 lines (being split) but is not"),
            "{}",
            found[0]
        );
    }
}
