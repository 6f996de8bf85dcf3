//! The bench's one table: a column per library, the blank window's column, and the ratios
//! (each library to the smallest, the largest to the blank window), with each figure's goal.

/// One figure.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Ms(f64),
    Mib(f64),
    Count(f64),
    Text(String),
    /// Not measured (a script found nothing to measure, or it failed).
    Missing,
    /// Nothing belongs here.
    Empty,
}

impl Cell {
    pub fn ms(v: Option<f64>) -> Cell {
        v.map(Cell::Ms).unwrap_or(Cell::Missing)
    }

    pub fn mib(v: Option<f64>) -> Cell {
        v.map(Cell::Mib).unwrap_or(Cell::Missing)
    }

    pub fn show(&self) -> String {
        match self {
            Cell::Ms(v) => fmt_ms(*v),
            Cell::Mib(v) => format!("{v:.0} MiB"),
            Cell::Count(v) => format!("{v}"),
            Cell::Text(t) => t.clone(),
            Cell::Missing => "n/a".into(),
            Cell::Empty => String::new(),
        }
    }

    pub fn value(&self) -> Option<f64> {
        match self {
            Cell::Ms(v) | Cell::Mib(v) | Cell::Count(v) => Some(*v),
            _ => None,
        }
    }
}

pub fn fmt_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else if v >= 10.0 {
        format!("{v:.0} ms")
    } else if v >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `b / a` as "1.23×", when both are numbers and `a` is not 0.
pub fn ratio(a: &Cell, b: &Cell) -> String {
    match (a.value(), b.value()) {
        (Some(a), Some(b)) if a > 0.0 => format!("{:.2}×", b / a),
        _ => String::new(),
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    /// One per library, in the table's order.
    pub cells: Vec<Cell>,
    pub blank: Cell,
    pub goal: String,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// The libraries' sizes, smallest first.
    pub libraries: Vec<usize>,
    /// Whether there is a blank-window column.
    pub blank: bool,
    pub rows: Vec<Row>,
}

impl Table {
    pub fn new(libraries: Vec<usize>, blank: bool) -> Table {
        Table { libraries, blank, rows: Vec::new() }
    }

    /// A figure of each library (and none of the blank window).
    pub fn row(&mut self, label: impl Into<String>, cells: Vec<Cell>, goal: &str) {
        self.rows.push(Row { label: label.into(), cells, blank: Cell::Empty, goal: goal.into() });
    }

    /// A figure of each library and of the blank window.
    pub fn row_with_blank(&mut self, label: impl Into<String>, cells: Vec<Cell>, blank: Cell, goal: &str) {
        self.rows.push(Row { label: label.into(), cells, blank, goal: goal.into() });
    }

    /// A heading line.
    pub fn section(&mut self, label: impl Into<String>) {
        self.rows.push(Row { label: label.into(), cells: Vec::new(), blank: Cell::Empty, goal: String::new() });
    }

    fn header(&self) -> Vec<String> {
        let n = &self.libraries;
        let mut h = vec![String::new()];
        h.extend(n.iter().map(|&v| format!("{} videos", thousands(v))));
        if self.blank {
            h.push("blank window".into());
        }
        h.extend(n.iter().skip(1).map(|&v| format!("{} / {}", thousands(v), thousands(n[0]))));
        if self.blank {
            h.push(format!("{} / blank", thousands(*n.last().expect("a library"))));
        }
        h.push("goal".into());
        h
    }

    fn line(&self, r: &Row) -> Vec<String> {
        let cell = |i: usize| r.cells.get(i).cloned().unwrap_or(Cell::Empty);
        let mut l = vec![r.label.clone()];
        l.extend((0..self.libraries.len()).map(|i| cell(i).show()));
        if self.blank {
            l.push(r.blank.show());
        }
        l.extend((1..self.libraries.len()).map(|i| ratio(&cell(0), &cell(i))));
        if self.blank {
            l.push(ratio(&r.blank, &cell(self.libraries.len() - 1)));
        }
        l.push(r.goal.clone());
        l
    }

    pub fn render(&self) -> String {
        let header = self.header();
        let lines: Vec<Option<Vec<String>>> =
            self.rows.iter().map(|r| (!r.cells.is_empty()).then(|| self.line(r))).collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for l in lines.iter().flatten() {
            for (w, c) in widths.iter_mut().zip(l) {
                *w = (*w).max(c.chars().count());
            }
        }
        let fmt = |cols: &[String]| {
            let mut s = String::new();
            for (i, (c, w)) in cols.iter().zip(&widths).enumerate() {
                let pad = " ".repeat(w - c.chars().count());
                match i {
                    0 => s.push_str(&format!("{c}{pad}")),
                    // The goal, last, reads left to right.
                    _ if i == cols.len() - 1 => s.push_str(&format!("  {c}")),
                    _ => s.push_str(&format!("  {pad}{c}")),
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = fmt(&header);
        out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
        out.push('\n');
        for (r, l) in self.rows.iter().zip(&lines) {
            match l {
                Some(l) => out.push_str(&fmt(l)),
                None => out.push_str(&format!("{}\n", r.label)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(
            (thousands(10), thousands(10_000), thousands(1_234_567)),
            ("10".into(), "10,000".into(), "1,234,567".into())
        );
        assert_eq!(
            (fmt_ms(0.384), fmt_ms(3.84), fmt_ms(38.4), fmt_ms(3840.0)),
            ("0.38 ms".into(), "3.8 ms".into(), "38 ms".into(), "3.84 s".into())
        );
        assert_eq!(Cell::Mib(301.4).show(), "301 MiB");
    }

    /// Each library against the smallest, the largest against the blank window; text and
    /// missing figures get no ratio.
    #[test]
    fn ratios_are_to_the_smallest_and_to_the_blank_window() {
        let mut t = Table::new(vec![10, 10_000, 100_000], true);
        t.section("window");
        t.row_with_blank(
            "launch",
            vec![Cell::Ms(1000.0), Cell::Ms(1100.0), Cell::Ms(1500.0)],
            Cell::Ms(750.0),
            "≤ 1.1× 10",
        );
        t.row("frames", vec![Cell::Ms(16.0), Cell::Missing, Cell::Text("x".into())], "");
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("100,000 videos") && lines[0].contains("blank window"), "{text}");
        assert!(lines[0].contains("10,000 / 10") && lines[0].contains("100,000 / 10"), "{text}");
        assert!(lines[0].contains("100,000 / blank") && lines[0].trim_end().ends_with("goal"), "{text}");
        assert_eq!(lines[2], "window");
        let launch: Vec<&str> = lines[3].split("  ").map(str::trim).filter(|s| !s.is_empty()).collect();
        assert_eq!(launch, ["launch", "1.00 s", "1.10 s", "1.50 s", "750 ms", "1.10×", "1.50×", "2.00×", "≤ 1.1× 10"]);
        let frames: Vec<&str> = lines[4].split("  ").map(str::trim).filter(|s| !s.is_empty()).collect();
        assert_eq!(frames, ["frames", "16 ms", "n/a", "x"]);
    }

    #[test]
    fn one_library_and_no_blank_window_give_no_ratio_columns() {
        let mut t = Table::new(vec![10], false);
        t.row("core", vec![Cell::Ms(0.5)], "≤ 2 ms");
        let text = t.render();
        assert!(!text.contains(" / "), "{text}");
        assert!(text.lines().nth(2).unwrap().ends_with("0.50 ms  ≤ 2 ms"), "{text}");
    }
}
