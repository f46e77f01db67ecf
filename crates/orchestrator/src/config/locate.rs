//! Finds the line of a dotted key in a YAML file, so that a problem can say where it is.
//!
//! The YAML parser behind figment reports lines only for syntax errors; for a bad value or an
//! unknown key we look the key up ourselves. Block mappings and one-line flow mappings
//! (`eia: { enabled: true }`) are understood, which covers how people write this file.

/// The 1-based line where `path` (e.g. `["schedule", "timezone"]`) is written in `yaml`.
pub(crate) fn line_of(yaml: &str, path: &[String]) -> Option<usize> {
    if path.is_empty() {
        return None;
    }
    // (indent, key) of the block mappings that enclose the current line
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (index, raw) in yaml.lines().enumerate() {
        let line = strip_comment(raw);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with("---") {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let Some((key, rest)) = split_key(trimmed) else {
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key));
        let depth = stack.len();
        if depth > path.len() || !stack.iter().zip(path).all(|((_, k), p)| k == p) {
            continue;
        }
        if depth == path.len() || flow_contains(rest, &path[depth..]) {
            return Some(index + 1);
        }
    }
    None
}

/// The part of a line before a `#` comment that is not inside quotes.
fn strip_comment(line: &str) -> &str {
    let (mut single, mut double) = (false, false);
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && (i == 0 || line[..i].ends_with(char::is_whitespace)) => {
                return &line[..i];
            }
            _ => {}
        }
    }
    line
}

/// `key: rest` → (`key`, `rest`), with quotes around the key removed.
fn split_key(trimmed: &str) -> Option<(String, &str)> {
    let trimmed = trimmed.strip_prefix("- ").unwrap_or(trimmed);
    let colon = find_key_colon(trimmed)?;
    let key = trimmed[..colon]
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    if key.is_empty() {
        return None;
    }
    Some((key.to_owned(), &trimmed[colon + 1..]))
}

fn find_key_colon(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let (mut single, mut double) = (false, false);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b':' if !single
                && !double
                && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()) =>
            {
                return Some(i);
            }
            b'{' | b'[' if !single && !double => return None,
            _ => {}
        }
    }
    None
}

/// Whether a flow mapping in `rest` holds the nested `keys` (only the first level is exact).
fn flow_contains(rest: &str, keys: &[String]) -> bool {
    let rest = rest.trim();
    if !rest.starts_with('{') {
        return false;
    }
    keys.iter().all(|k| {
        rest.match_indices(k.as_str()).any(|(i, _)| {
            let before = rest[..i].trim_end();
            let after = &rest[i + k.len()..];
            (before.ends_with('{') || before.ends_with(',')) && after.trim_start().starts_with(':')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(str::to_owned).collect()
    }

    const YAML: &str = "\
# a comment with schedule: inside
database:
  url: \"sqlite://x.db\"
schedule:
  timezone: America/NewYork   # typo
  time: '06:00'
sources:
  eia:   { enabled: true, base_url: \"http://x\" }
  fred:
    series: { WTI: DCOILWTICO }
";

    #[test]
    fn finds_block_and_flow_keys() {
        assert_eq!(line_of(YAML, &p("database")), Some(2));
        assert_eq!(line_of(YAML, &p("schedule.timezone")), Some(5));
        assert_eq!(line_of(YAML, &p("schedule.time")), Some(6));
        assert_eq!(line_of(YAML, &p("sources.eia.base_url")), Some(8));
        assert_eq!(line_of(YAML, &p("sources.fred.series.WTI")), Some(10));
    }

    #[test]
    fn unknown_paths_have_no_line() {
        assert_eq!(line_of(YAML, &p("schedule.cron")), None);
        assert_eq!(line_of(YAML, &p("timezone")), None);
        assert_eq!(line_of(YAML, &[]), None);
    }
}
