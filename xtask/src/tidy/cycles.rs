//! No circular imports between the modules of a crate: among the modules under one parent,
//! if `a` (or anything inside it) names `b` (or anything inside it), nothing in `b` may name
//! `a`, directly or through other siblings. A parent and its children may name each other.
//!
//! Read from the source: `use` trees (with `crate::`, `super::`, `self::` or a child module),
//! paths written inline (`crate::x::y`, `super::y`), and re-exports (`pub use run::Pipeline`
//! at the root makes `crate::Pipeline` a name in `run`).

use std::collections::{BTreeMap, BTreeSet};

use super::source::{SourceFile, word_at};

type ModPath = Vec<String>;

/// The cycles among the modules of one crate, as messages.
pub(crate) fn check(krate: &str, files: &[SourceFile]) -> Vec<String> {
    let modules: BTreeSet<ModPath> = files.iter().map(|f| f.module.clone()).collect();
    let reexports = reexports(files, &modules);
    // (parent, from, to) -> where it is first seen
    let mut edges: BTreeMap<(ModPath, String, String), String> = BTreeMap::new();
    for f in files {
        let spans = f.inline_modules();
        for (at, path) in references(f, &spans, &modules) {
            let to = resolve(&path, &modules, &reexports, 0);
            let from = f.module_at(at, &spans);
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == to.len() {
                continue; // a module and its ancestor or descendant
            }
            edges
                .entry((
                    from[..common].to_vec(),
                    from[common].clone(),
                    to[common].clone(),
                ))
                .or_insert_with(|| format!("{}:{}", f.shown.display(), f.line_of(at)));
        }
    }
    let mut by_parent: BTreeMap<ModPath, BTreeMap<(String, String), String>> = BTreeMap::new();
    for ((parent, a, b), at) in edges {
        by_parent.entry(parent).or_default().insert((a, b), at);
    }
    let mut out = Vec::new();
    for (parent, edges) in by_parent {
        for cycle in strongly_connected(&edges) {
            let shown = |m: &String| {
                let mut p = parent.clone();
                p.push(m.clone());
                p.join("::")
            };
            let mut how: Vec<String> = edges
                .iter()
                .filter(|((a, b), _)| cycle.contains(a) && cycle.contains(b))
                .map(|((a, b), at)| format!("{} names {} at {at}", shown(a), shown(b)))
                .collect();
            how.sort();
            out.push(format!(
                "{krate}: modules {} import each other ({}); move what they share into one of them or below both",
                cycle.iter().map(shown).collect::<Vec<_>>().join(", "),
                how.join("; ")
            ));
        }
    }
    out
}

/// The groups of two or more modules that reach each other.
fn strongly_connected(edges: &BTreeMap<(String, String), String>) -> Vec<BTreeSet<String>> {
    let nodes: BTreeSet<&String> = edges.keys().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| {
        let mut seen: BTreeSet<&String> = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(n) = todo.pop() {
            for (a, b) in edges.keys() {
                if a == n && seen.insert(b) {
                    todo.push(b);
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<&String>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut groups: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    for n in &nodes {
        let group: BTreeSet<String> = nodes
            .iter()
            .filter(|m| reaches[*n].contains(*m) && reaches[*m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        if group.len() >= 2 {
            groups.insert(group);
        }
    }
    groups.into_iter().collect()
}

/// Every module path a file names, with where: absolute, not yet resolved to a module.
fn references(
    f: &SourceFile,
    spans: &[(usize, usize, String)],
    modules: &BTreeSet<ModPath>,
) -> Vec<(usize, ModPath)> {
    let mut out = Vec::new();
    let code = &f.code;
    for (i, _) in code.char_indices() {
        let here = || f.module_at(i, spans);
        if word_at(code, i, "use") {
            let Some(end) = code[i..].find(';') else {
                continue;
            };
            let tree = &code[i + 3..i + end];
            for leaf in leaves(tree) {
                if let Some(abs) = absolute(&leaf, &here(), modules) {
                    out.push((i, abs));
                }
            }
        } else if (word_at(code, i, "crate") || word_at(code, i, "super"))
            && code[i..]
                .trim_start_matches(|c: char| c.is_alphanumeric() || c == '_')
                .starts_with("::")
            && !code[..i].trim_end().ends_with("::")
        {
            let path: Vec<String> = code[i..]
                .split("::")
                .map(str::trim)
                .map_while(|seg| {
                    let ident: String = seg
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    (!ident.is_empty()).then_some(ident)
                })
                .collect();
            if let Some(abs) = absolute(&path, &here(), modules) {
                out.push((i, abs));
            }
        }
    }
    out
}

/// A path as written, made absolute from the module it is written in; `None` for another
/// crate's path.
fn absolute(path: &[String], here: &ModPath, modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    let mut base = here.clone();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &path[1..];
        }
        Some("super") | Some("self") => {
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        base.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        Some(first) => {
            let mut child = here.clone();
            child.push(first.to_owned());
            if !modules.contains(&child) {
                return None;
            }
        }
        None => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The module a path ends in: its longest prefix that is a module, followed through a
/// re-export when the next name is one.
fn resolve(
    path: &ModPath,
    modules: &BTreeSet<ModPath>,
    reexports: &BTreeMap<ModPath, BTreeMap<String, ModPath>>,
    depth: u8,
) -> ModPath {
    let mut len = path.len();
    while len > 0 && !modules.contains(&path[..len].to_vec()) {
        len -= 1;
    }
    let module = path[..len].to_vec();
    if depth < 8
        && let Some(name) = path.get(len)
        && let Some(target) = reexports.get(&module).and_then(|r| r.get(name))
    {
        return resolve(target, modules, reexports, depth + 1);
    }
    module
}

/// Per module, the names it re-exports (`pub use a::B`) and what they are.
fn reexports(
    files: &[SourceFile],
    modules: &BTreeSet<ModPath>,
) -> BTreeMap<ModPath, BTreeMap<String, ModPath>> {
    let mut out: BTreeMap<ModPath, BTreeMap<String, ModPath>> = BTreeMap::new();
    for f in files {
        let code = &f.code;
        for (i, _) in code.char_indices() {
            if !word_at(code, i, "pub") {
                continue;
            }
            let rest = code[i + 3..].trim_start();
            let rest = rest
                .strip_prefix("(crate)")
                .map(str::trim_start)
                .unwrap_or(rest);
            let Some(tree) = rest.strip_prefix("use ") else {
                continue;
            };
            let Some(end) = tree.find(';') else { continue };
            for leaf in leaves(&tree[..end]) {
                let Some(name) = leaf.last().filter(|n| *n != "*") else {
                    continue;
                };
                if let Some(abs) = absolute(&leaf, &f.module, modules) {
                    out.entry(f.module.clone())
                        .or_default()
                        .insert(name.clone(), abs);
                }
            }
        }
    }
    out
}

/// The paths of a `use` tree: `a::{b, c::{d, e as f}, self}` is `a::b`, `a::c::d`, `a::c::e`, `a`.
fn leaves(tree: &str) -> Vec<ModPath> {
    let tree = tree.trim();
    let tree = tree.strip_prefix("::").unwrap_or(tree);
    if let Some(open) = tree.find('{') {
        let prefix: ModPath = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let inner = tree[open + 1..].trim_end();
        let inner = inner.strip_suffix('}').unwrap_or(inner);
        let mut out = Vec::new();
        let (mut depth, mut start) = (0, 0);
        let mut items = Vec::new();
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&inner[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&inner[start..]);
        for item in items.into_iter().filter(|s| !s.trim().is_empty()) {
            for leaf in leaves(item) {
                let mut p = prefix.clone();
                p.extend(leaf.into_iter().filter(|s| s != "self"));
                out.push(p);
            }
        }
        return out;
    }
    let path = tree.split(" as ").next().unwrap_or(tree);
    let segments: ModPath = path
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if segments.is_empty() {
        Vec::new()
    } else {
        vec![segments]
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn krate(files: &[(&str, &str)]) -> Vec<SourceFile> {
        files
            .iter()
            .map(|(path, text)| SourceFile::new(path.into(), Path::new(path), text))
            .collect()
    }

    #[test]
    fn use_trees_have_their_leaves() {
        let l = leaves(" crate::{a, b::{c, d as e}, self} ");
        let shown: Vec<String> = l.iter().map(|p| p.join("::")).collect();
        assert_eq!(shown, ["crate::a", "crate::b::c", "crate::b::d", "crate"]);
    }

    #[test]
    fn a_cycle_between_sibling_modules_is_found_through_a_reexport() {
        let files = krate(&[
            (
                "lib.rs",
                "pub mod run;\npub mod status;\npub use run::Pipeline;\n",
            ),
            ("run/mod.rs", "mod batch;\npub struct Pipeline;\n"),
            ("run/batch.rs", "use crate::status::Report;\n"),
            (
                "status.rs",
                "pub struct Report;\nfn f(p: &crate::Pipeline) {}\n",
            ),
        ]);
        let found = check("demo", &files);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("modules run, status import each other"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("run names status at run/batch.rs:1"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("status names run at status.rs:2"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn one_way_imports_parents_children_and_tests_are_fine() {
        let files = krate(&[
            (
                "lib.rs",
                "pub mod run;\npub mod status;\nuse run::Pipeline;\n",
            ),
            (
                "run/mod.rs",
                "mod batch;\nuse batch::Job;\npub struct Pipeline;\n",
            ),
            ("run/batch.rs", "use super::Pipeline;\npub struct Job;\n"),
            (
                "status.rs",
                "use crate::run::Pipeline;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::run::batch::Job;\n}\n",
            ),
        ]);
        assert_eq!(check("demo", &files), Vec::<String>::new());
    }

    #[test]
    fn a_cycle_inside_a_module_folder_is_found() {
        let files = krate(&[
            ("lib.rs", "mod daemon;\n"),
            ("daemon/mod.rs", "mod ledger;\nmod serve;\n"),
            (
                "daemon/ledger.rs",
                "use super::serve::Start;\npub struct Claim;\n",
            ),
            (
                "daemon/serve.rs",
                "pub struct Start;\nfn f(c: super::ledger::Claim) {}\n",
            ),
        ]);
        let found = check("demo", &files);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("daemon::ledger, daemon::serve"),
            "{}",
            found[0]
        );
    }
}
