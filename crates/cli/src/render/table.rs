//! Text layout: aligned tables that fit 80 columns, cutting and word-wrapping to a width.

/// How a column lines up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// The width every table and dashboard line fits.
pub(crate) const WIDTH: usize = 80;

/// `text` cut to `width` characters, marked with `…` where it was cut.
pub(crate) fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// A text table: a header row and data rows, every column as wide as its widest cell, two
/// spaces apart; when that is wider than [`WIDTH`], one space apart, and when still wider,
/// the column marked to give way is cut (`…`).
#[derive(Debug)]
pub(crate) struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
    /// The column that gives way when the table is too wide.
    gives_way: Option<usize>,
}

impl Table {
    pub(crate) fn new(columns: &[(&'static str, Align)]) -> Self {
        Self {
            columns: columns.to_vec(),
            rows: Vec::new(),
            gives_way: None,
        }
    }

    /// Column `i` is cut when the table would be wider than [`WIDTH`].
    pub(crate) fn gives_way(mut self, i: usize) -> Self {
        self.gives_way = Some(i);
        self
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn render(&self) -> String {
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (h, _))| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .chain([h.len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        // too wide with two spaces between columns: one, then the give-way column is cut
        let sum = widths.iter().sum::<usize>();
        let gaps = widths.len().saturating_sub(1);
        let gap = if sum + 2 * gaps > WIDTH { 1 } else { 2 };
        let total = sum + gap * gaps;
        if let Some(i) = self.gives_way
            && total > WIDTH
        {
            let floor = self.columns[i].0.len().max(4);
            widths[i] = widths[i].saturating_sub(total - WIDTH).max(floor);
        }
        let mut out = String::new();
        let headers: Vec<String> = self.columns.iter().map(|(h, _)| (*h).to_owned()).collect();
        for cells in std::iter::once(&headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, ((_, align), width)) in self.columns.iter().zip(&widths).enumerate() {
                let cell = fit(cells.get(i).map(String::as_str).unwrap_or(""), *width);
                let cell = cell.as_str();
                if i > 0 {
                    line.push_str(&" ".repeat(gap));
                }
                match align {
                    Align::Left => line.push_str(&format!("{cell:<width$}")),
                    Align::Right => line.push_str(&format!("{cell:>width$}")),
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `text` word-wrapped to `width` columns, every line indented by `indent` spaces.
pub(crate) fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&format!("{}{line}\n", " ".repeat(indent)));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{}{line}\n", " ".repeat(indent)));
    }
    out
}

/// Pads `text` (which may hold colour codes) to `width` visible characters.
pub(crate) fn pad_right(text: &str, visible: usize, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(visible)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_to_the_widest_cell() {
        let mut t = Table::new(&[("NAME", Align::Left), ("N", Align::Right)]);
        t.row(vec!["wti".into(), "1234".into()]);
        t.row(vec!["natural".into(), "5".into()]);
        assert_eq!(t.render(), "NAME        N\nwti      1234\nnatural     5\n");
    }
}
