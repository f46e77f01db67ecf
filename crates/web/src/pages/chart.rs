//! A server-side SVG line chart of several sources' prices over dates, with a value axis (the
//! unit, negative values where they fall) and a date axis. Long histories are thinned to the
//! lowest and highest value of each slice of time, so a spike (WTI at -36.98) survives and a
//! 40-year page stays small.

use chrono::NaiveDate;

use super::html::escape;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;
/// Slices of time a line is thinned to (two points each) when it has more points than twice this.
const SLICES: usize = 700;
const COLOURS: [&str; 6] = [
    "#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f",
];

/// One line: its name and its (date, value) points in date order.
pub(crate) struct Line<'a> {
    pub name: &'a str,
    pub points: Vec<(NaiveDate, f64)>,
}

type Point = (NaiveDate, f64);
/// A slice of time being thinned: its index, its lowest and its highest point.
type Slice = (usize, Point, Point);

/// The points kept of `points`: all of them when few, else each slice's lowest and highest.
fn thinned(points: &[(NaiveDate, f64)], first: NaiveDate, days: f64) -> Vec<(NaiveDate, f64)> {
    if points.len() <= 2 * SLICES {
        return points.to_vec();
    }
    let mut out = Vec::with_capacity(2 * SLICES);
    let mut slice: Option<Slice> = None;
    let flush = |s: Slice, out: &mut Vec<Point>| {
        let (_, lo, hi) = s;
        if lo.0 <= hi.0 {
            out.push(lo);
            if hi != lo {
                out.push(hi);
            }
        } else {
            out.push(hi);
            out.push(lo);
        }
    };
    for p in points {
        let i = (((p.0 - first).num_days() as f64 / days) * SLICES as f64) as usize;
        slice = match slice {
            Some((j, lo, hi)) if j == i => Some((
                j,
                if p.1 < lo.1 { *p } else { lo },
                if p.1 > hi.1 { *p } else { hi },
            )),
            Some(s) => {
                flush(s, &mut out);
                Some((i, *p, *p))
            }
            None => Some((i, *p, *p)),
        };
    }
    if let Some(s) = slice {
        flush(s, &mut out);
    }
    out
}

/// Round tick values from at or below `lo` to at or above `hi`: the axis' domain.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor();
    let last = (hi / step).ceil();
    (0..=((last - first) as usize).min(12))
        .map(|i| {
            let v = (first + i as f64) * step;
            if v.abs() < step * 1e-9 { 0.0 } else { v }
        })
        .collect()
}

/// The chart, or a note when there is nothing to draw.
pub(crate) fn lines(lines: &[Line<'_>], unit: &str, title: &str) -> String {
    let all = lines.iter().flat_map(|l| l.points.iter());
    let (Some(first), Some(last)) = (
        all.clone().map(|p| p.0).min(),
        all.clone().map(|p| p.0).max(),
    ) else {
        return "<p class=\"note\">nothing stored in this range</p>".to_owned();
    };
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let axis = ticks(lo, hi);
    let (lo, hi) = (
        axis.first().copied().unwrap_or(lo).min(lo),
        axis.last().copied().unwrap_or(hi).max(hi),
    );
    let days = ((last - first).num_days() as f64).max(1.0);
    let x = |d: NaiveDate| LEFT + (d - first).num_days() as f64 / days * (WIDTH - LEFT - RIGHT);
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * (HEIGHT - TOP - BOTTOM);
    let mut out = format!(
        "<svg class=\"chart\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>\n",
        t = escape(title)
    );
    for v in axis {
        let yy = y(v);
        out.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"{}\" stroke-width=\"1\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>\n",
            WIDTH - RIGHT,
            if v == 0.0 { "#8a96a3" } else { "#e3e7ec" },
            LEFT - 6.0,
            yy + 4.0,
            format_value(v)
        ));
    }
    out.push_str(&format!(
        "<text x=\"12\" y=\"{:.1}\" font-size=\"11\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text>\n",
        HEIGHT / 2.0,
        HEIGHT / 2.0,
        escape(unit)
    ));
    for i in 0..=5 {
        let d = first + chrono::Days::new((days * f64::from(i) / 5.0) as u64);
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"{}\">{}</text>\n",
            x(d),
            HEIGHT - 8.0,
            // the first and last labels stay inside the picture
            match i {
                0 => "start",
                5 => "end",
                _ => "middle",
            },
            d
        ));
    }
    for (i, line) in lines.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut d = String::new();
        for (j, p) in thinned(&line.points, first, days).iter().enumerate() {
            d.push_str(&format!(
                "{}{:.1},{:.1}",
                if j == 0 { "M" } else { "L" },
                x(p.0),
                y(p.1)
            ));
        }
        out.push_str(&format!(
            "<path data-source=\"{n}\" d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.3\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"{colour}\">{n}</text>\n",
            LEFT + 8.0 + 90.0 * i as f64,
            TOP + 12.0,
            n = escape(line.name)
        ));
    }
    out.push_str("</svg>");
    out
}

fn format_value(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_negative_price_has_its_place_on_the_axis() {
        let line = Line {
            name: "eia",
            points: vec![
                (d("2020-04-17"), 18.27),
                (d("2020-04-20"), -36.98),
                (d("2020-04-21"), 8.91),
            ],
        };
        let svg = lines(&[line], "USD/bbl", "WTI");
        // the axis runs from -40 to 20 through 0; -36.98 is drawn between -40 and -20
        for tick in ["-40", "-20", "0", "20"] {
            assert!(svg.contains(&format!(">{tick}</text>")), "{tick}: {svg}");
        }
        assert!(svg.contains("L682.0,277.9L"), "{svg}");
        assert!(svg.contains(">USD/bbl</text>") && svg.contains(">2020-04-17</text>"));
    }

    #[test]
    fn a_long_history_is_thinned_and_keeps_its_spike() {
        let first = d("1986-01-02");
        let points: Vec<(NaiveDate, f64)> = (0..15_000)
            .map(|i| {
                (
                    first + chrono::Days::new(i),
                    if i == 12_345 { -36.98 } else { 50.0 },
                )
            })
            .collect();
        let kept = thinned(&points, first, 15_000.0);
        assert!(kept.len() <= 2 * SLICES, "{}", kept.len());
        assert!(kept.iter().any(|p| p.1 == -36.98));
    }
}
