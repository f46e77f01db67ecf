//! Text that came from outside (a provider's error body, a JSON message) made safe to print:
//! control characters and bidirectional overrides are escaped, so an upstream can neither clear
//! a terminal, colour it, nor forge a log line.

/// `s` with every control character (ESC, CR, LF, DEL, C1, …) and every invisible direction
/// override written as an escape (`\u{1b}`, `\r`, `\n`); other text unchanged.
pub fn printable(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether [`printable`] escapes `c`: a control character or an invisible direction override.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(
            printable("\u{1b}[2J\u{1b}[31mPWNED\r\nfake: line"),
            "\\u{1b}[2J\\u{1b}[31mPWNED\\r\\nfake: line"
        );
        assert_eq!(printable("Brent €63.82 — ok"), "Brent €63.82 — ok");
        assert_eq!(printable("a\u{202e}b"), "a\\u{202e}b");
    }
}
