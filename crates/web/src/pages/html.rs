//! HTML building blocks: escaping (every name from configuration or data goes through it), the
//! page layout with its inline style (nothing is fetched from elsewhere), and small SVG charts.

/// `text` safe inside an element or a quoted attribute, and on a terminal: the markup
/// characters as entities, and control characters (ESC, BEL, NUL, CR, LF, DEL, C1) and direction
/// overrides written out as `energy_core::text::printable` writes them everywhere else (`\u{1b}`),
/// so that `curl` to a terminal shows a hostile value instead of obeying it.
pub(crate) fn escape(text: &str) -> String {
    let text = energy_core::text::printable(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d2733;background:#fafbfc}\
h1{font-size:1.3rem;margin:0 0 .8rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}\
table{border-collapse:collapse;background:#fff}th,td{padding:.3rem .6rem;border-bottom:1px solid #e3e7ec;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums}\
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;font-size:.8rem;font-weight:600;color:#fff}\
.FRESH,.success{background:#2e7d32}.LATE,.partial{background:#b26a00}.STALE,.failed,.interrupted{background:#c62828}.running{background:#1565c0}\
.ok{color:#2e7d32}.bad{color:#c62828}.note{color:#5b6673;font-size:.9rem}svg.spark{display:block}";

/// A whole page.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · energy-pipeline</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        escape(title)
    )
}

/// A small line chart of `values` (oldest first), `width` × `height` pixels, scaled to their
/// own range: negative values draw below the others like any other (WTI at -36.98).
pub(crate) fn spark(values: &[f64], width: u32, height: u32, label: &str) -> String {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let mut points = String::new();
    if finite.len() >= 2 {
        let span = if hi > lo { hi - lo } else { 1.0 };
        let step = f64::from(width - 2) / (finite.len() - 1) as f64;
        for (i, v) in finite.iter().enumerate() {
            let x = 1.0 + step * i as f64;
            let y = 1.0 + (hi - v) / span * f64::from(height - 2);
            points.push_str(&format!("{x:.1},{y:.1} "));
        }
    }
    format!(
        "<svg class=\"spark\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\"><title>{}</title><polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        escape(label),
        escape(label),
        points.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_text_not_markup() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn control_characters_are_written_out() {
        assert_eq!(
            escape("\u{1b}[31m<b>\u{7}\0\r\u{7f}\u{9b}\u{202e}"),
            "\\u{1b}[31m&lt;b&gt;\\u{7}\\u{0}\\r\\u{7f}\\u{9b}\\u{202e}"
        );
    }

    #[test]
    fn a_negative_price_is_drawn_below_the_rest() {
        let svg = spark(&[18.0, -36.98, 10.0], 102, 22, "WTI/eia");
        // x from 1 to 101; the lowest value at the bottom (y 21), the highest at the top (y 1)
        assert!(svg.contains("points=\"1.0,1.0 51.0,21.0 101.0,"), "{svg}");
        assert!(spark(&[], 102, 22, "none").contains("points=\"\""));
    }
}
