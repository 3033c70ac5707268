//! Tables that fit the screen: how wide the output may be (`$COLUMNS`, the
//! terminal, else 80; `--wide`: no limit), and a table whose columns carry
//! a priority, the least important dropped first until the rest fit.

use crate::probe::Table;
use std::io::IsTerminal;

/// The width without `$COLUMNS` or a terminal to ask.
pub const DEFAULT_WIDTH: usize = 80;

/// How many columns the output may use: `None` with `--wide` (every
/// column), else `$COLUMNS` when it is set to a number, else the width of
/// the terminal on stdout, else [`DEFAULT_WIDTH`].
pub fn width(wide: bool) -> Option<usize> {
    if wide {
        return None;
    }
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return Some(n);
    }
    Some(terminal_width().unwrap_or(DEFAULT_WIDTH))
}

fn terminal_width() -> Option<usize> {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one winsize into the struct we pass, which
    // lives for the call; fd 1 is stdout, checked to be a terminal above.
    let r = unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_col > 0).then_some(usize::from(ws.ws_col))
}

/// Priority of a column that is never dropped.
pub const ALWAYS: u8 = u8::MAX;

/// Priority of a free-text last column (a note): never dropped, and
/// counted as at most [`NOTE_FIT`] wide, so one long note does not push
/// every other column out (it runs past the width instead).
pub const NOTE: u8 = u8::MAX - 1;

/// How wide a [`NOTE`] column counts when fitting.
pub const NOTE_FIT: usize = 28;

/// A table being built: headers (a leading `>` right-aligns, as in
/// [`Table`]) with priorities, and rows.
pub struct FitTable {
    head: Vec<(&'static str, u8)>,
    rows: Vec<Vec<String>>,
}

impl FitTable {
    pub fn new(head: &[(&'static str, u8)]) -> FitTable {
        FitTable {
            head: head.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.head.len());
        self.rows.push(cells);
    }

    /// Which columns are kept within `width` (every one with `None`): the
    /// lowest priority goes first, the last of equals first.
    fn kept(&self, indent: usize, width: Option<usize>) -> Vec<bool> {
        let col_width = |i: usize| {
            self.rows
                .iter()
                .map(|r| r[i].chars().count())
                .chain([self.head[i].0.trim_start_matches('>').len()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.head.len()).map(col_width).collect();
        let mut keep = vec![true; self.head.len()];
        let Some(limit) = width else { return keep };
        let total = |keep: &[bool]| {
            let cols: Vec<usize> = (0..keep.len())
                .filter(|i| keep[*i])
                .map(|i| {
                    if self.head[i].1 == NOTE {
                        widths[i].min(NOTE_FIT)
                    } else {
                        widths[i]
                    }
                })
                .collect();
            indent + cols.iter().sum::<usize>() + 2 * cols.len().saturating_sub(1)
        };
        let mut order: Vec<usize> = (0..self.head.len())
            .filter(|i| self.head[*i].1 < NOTE)
            .collect();
        // Lowest priority first; among equals, the rightmost first.
        order.sort_by_key(|i| (self.head[*i].1, std::cmp::Reverse(*i)));
        for i in order {
            if total(&keep) <= limit {
                break;
            }
            keep[i] = false;
        }
        keep
    }

    /// Renders the columns that fit `width`, each line indented.
    pub fn render(&self, indent: &str, width: Option<usize>, out: &mut String) {
        let keep = self.kept(indent.len(), width);
        let head: Vec<&'static str> = self
            .head
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(h, _)| h.0)
            .collect();
        let mut t = Table::new(&head);
        for r in &self.rows {
            t.row(
                r.iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(c, _)| c.clone())
                    .collect(),
            );
        }
        t.render(indent, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> FitTable {
        let mut t = FitTable::new(&[("name", ALWAYS), (">big", 1), (">mid", 5), ("end", 3)]);
        t.row(vec!["a".into(), "x".repeat(30), "12".into(), "zz".into()]);
        t
    }

    #[test]
    fn the_least_important_columns_go_first() {
        let mut out = String::new();
        table().render("", None, &mut out);
        assert!(out.starts_with("name"), "{out}");
        assert!(out.lines().all(|l| l.len() > 30), "{out}");
        let mut out = String::new();
        table().render("", Some(20), &mut out);
        assert_eq!(out, "name  mid  end\na      12  zz\n");
        let mut out = String::new();
        table().render("  ", Some(11), &mut out);
        assert_eq!(out, "  name  mid\n  a      12\n");
        // Columns that never go stay, however narrow the screen.
        let mut out = String::new();
        table().render("", Some(1), &mut out);
        assert_eq!(out, "name\na\n");
    }
}
