//! Rust source as the tidy checks read it: comments blanked (and, for the import check, string
//! and character literals too), line breaks kept so that positions still give line numbers,
//! and which inline module (`mod tests { … }`) each position is in.

use std::path::{Path, PathBuf};

/// One `.rs` file under a crate's `src`, read for the checks.
#[derive(Debug)]
pub(crate) struct SourceFile {
    /// Relative to the workspace root, for messages.
    pub(crate) shown: PathBuf,
    /// The module the file is, from the crate root: `run/batch.rs` is `["run", "batch"]`.
    pub(crate) module: Vec<String>,
    /// Comments blanked; strings kept.
    pub(crate) code_and_strings: String,
    /// Comments, strings and character literals blanked.
    pub(crate) code: String,
}

impl SourceFile {
    pub(crate) fn new(shown: PathBuf, relative: &Path, text: &str) -> Self {
        let (code_and_strings, code) = blank(text);
        Self {
            shown,
            module: module_of(relative),
            code_and_strings,
            code,
        }
    }

    /// The line (from 1) of a byte position.
    pub(crate) fn line_of(&self, at: usize) -> usize {
        self.code[..at].bytes().filter(|b| *b == b'\n').count() + 1
    }

    /// The inline modules open at each position: `(start, end, name)` spans of `mod name { … }`.
    pub(crate) fn inline_modules(&self) -> Vec<(usize, usize, String)> {
        let bytes = self.code.as_bytes();
        let mut spans = Vec::new();
        let mut open: Vec<(usize, usize, String)> = Vec::new(); // (start, depth, name)
        let mut depth = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => depth += 1,
                b'}' => {
                    if open.last().is_some_and(|(_, d, _)| *d == depth)
                        && let Some((start, _, name)) = open.pop()
                    {
                        spans.push((start, i, name));
                    }
                    depth = depth.saturating_sub(1);
                }
                b'm' if word_at(&self.code, i, "mod") => {
                    let rest = &self.code[i + 3..];
                    let name: String = rest
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let after = rest.trim_start()[name.len()..].trim_start();
                    if !name.is_empty() && after.starts_with('{') {
                        let brace = i + 3 + (rest.len() - after.len());
                        open.push((i, depth + 1, name));
                        depth += 1;
                        i = brace + 1;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        spans
    }

    /// The module a position is in: the file's module plus the inline modules around it.
    pub(crate) fn module_at(&self, at: usize, spans: &[(usize, usize, String)]) -> Vec<String> {
        let mut m = self.module.clone();
        let mut around: Vec<&(usize, usize, String)> = spans
            .iter()
            .filter(|(s, e, _)| *s <= at && at <= *e)
            .collect();
        around.sort_by_key(|(s, _, _)| *s);
        m.extend(around.into_iter().map(|(_, _, n)| n.clone()));
        m
    }
}

/// Whether `word` stands alone at byte `i` of `text`.
pub(crate) fn word_at(text: &str, i: usize, word: &str) -> bool {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = text.as_bytes();
    text[i..].starts_with(word)
        && (i == 0 || !ident(b[i - 1]))
        && b.get(i + word.len()).is_none_or(|c| !ident(*c))
}

fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if !matches!(stem, "mod" | "lib" | "main") {
            parts.push(stem.to_owned());
        }
    }
    parts
}

/// Blanks comments (first result) and also string and character literals (second result),
/// keeping every line break.
fn blank(text: &str) -> (String, String) {
    let chars: Vec<char> = text.chars().collect();
    let mut keep = String::with_capacity(text.len());
    let mut code = String::with_capacity(text.len());
    // a blanked character keeps its byte length, so positions agree across the three texts
    let blank_to = |out: &mut String, c: char| {
        if c == '\n' {
            out.push('\n');
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank_to(&mut keep, chars[i]);
                blank_to(&mut code, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    if depth == 0 {
                        keep.push_str("  ");
                        code.push_str("  ");
                        i += 2;
                        break;
                    }
                }
                blank_to(&mut keep, chars[i]);
                blank_to(&mut code, chars[i]);
                i += 1;
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&chars, i) {
            // a raw string: r"…" or r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                keep.push(c);
                code.push(c);
                i += 1;
                continue;
            }
            let end_quote: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            let rest: String = chars[j + 1..].iter().collect();
            let len = rest
                .find(&end_quote)
                .map_or(chars.len() - j - 1, |at| rest[..at].chars().count());
            let end = (j + 1 + len + end_quote.chars().count()).min(chars.len());
            for &ch in &chars[i..end] {
                keep.push(ch);
                blank_to(&mut code, ch);
            }
            i = end;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                if chars[j] == '\\' {
                    j += 1;
                }
                j += 1;
            }
            let end = (j + 1).min(chars.len());
            for &ch in &chars[i..end] {
                keep.push(ch);
                blank_to(&mut code, ch);
            }
            i = end;
        } else if c == '\'' {
            // a character literal ('x', '\n', '\u{1b}'), or a lifetime ('a)
            let end = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|ch| *ch == '\'')
                    .map(|p| i + 2 + p + 1)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    for &ch in &chars[i..end] {
                        keep.push(ch);
                        blank_to(&mut code, ch);
                    }
                    i = end;
                }
                None => {
                    keep.push(c);
                    code.push(c);
                    i += 1;
                }
            }
        } else {
            keep.push(c);
            code.push(c);
            i += 1;
        }
    }
    (keep, code)
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Every `.rs` file under each `crates/*/src`, grouped by crate directory name.
pub(crate) fn crates(root: &Path) -> std::io::Result<Vec<(String, Vec<SourceFile>)>> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("src").is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let src = dir.join("src");
        let has_lib = src.join("lib.rs").exists();
        let mut files = Vec::new();
        let mut stack = vec![src.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d)? {
                let p = e?.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let relative = p.strip_prefix(&src).unwrap_or(&p).to_path_buf();
                    // a binary beside a library is a crate of its own (it uses the library)
                    if has_lib && relative == Path::new("main.rs") {
                        continue;
                    }
                    let text = std::fs::read_to_string(&p)?;
                    let shown = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
                    files.push(SourceFile::new(shown, &relative, &text));
                }
            }
        }
        files.sort_by(|a, b| a.shown.cmp(&b.shown));
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((name, files));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_literals_are_blanked_and_lines_kept() {
        let f = SourceFile::new(
            "x.rs".into(),
            Path::new("run/batch.rs"),
            "use crate::a; // crate::b\nlet s = \"crate::c\"; let c = '\"'; /* crate::d\n */ fn f<'a>() {}\nlet r = r#\"crate::e\"#;\n",
        );
        assert_eq!(f.module, ["run", "batch"]);
        assert!(f.code.contains("crate::a"));
        for hidden in ["crate::b", "crate::c", "crate::d", "crate::e"] {
            assert!(!f.code.contains(hidden), "{hidden} in {:?}", f.code);
        }
        assert!(f.code_and_strings.contains("crate::c"));
        assert!(!f.code_and_strings.contains("crate::b"));
        assert!(f.code.contains("fn f<'a>()"));
        assert_eq!(f.code.lines().count(), 4);
    }

    #[test]
    fn inline_modules_are_found() {
        let f = SourceFile::new(
            "x.rs".into(),
            Path::new("status/mod.rs"),
            "fn a() { }\n#[cfg(test)]\nmod tests {\n    fn b() { x }\n}\nfn c() {}\n",
        );
        let spans = f.inline_modules();
        let at = |needle: &str| f.module_at(f.code.find(needle).unwrap(), &spans);
        assert_eq!(at("x }"), ["status", "tests"]);
        assert_eq!(at("fn c"), ["status"]);
        assert_eq!(at("fn a"), ["status"]);
    }
}
