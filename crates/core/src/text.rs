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

/// `s` with its `%XX` escapes decoded (as URLs and libpq read them: `+` stays `+`); an escape
/// that is not one, or bytes that are no UTF-8, are kept as they are.
pub fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// Whether [`printable`] escapes `c`: a control character or an invisible direction override.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::{percent_decode, printable};

    #[test]
    fn percent_escapes_are_decoded_and_the_rest_kept() {
        assert_eq!(percent_decode("p%40ss%2Fw+rd"), "p@ss/w+rd");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%ff"), "%ff");
    }

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
