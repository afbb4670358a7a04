//! Progress lines on stderr for long imports (`watchlist import`, `trust import`).
//!
//! Shown only when stderr is a terminal, so a script, a pipe or a log gets
//! the command's report and nothing else; a command's `--json` output, on
//! stdout, never holds one. A line is printed each time the count passes
//! the next multiple of the step, and a last line at the end when any was.

use std::io::IsTerminal;

/// Progress of one import: a count (rows, bytes) that only grows.
#[derive(Debug)]
pub(crate) struct Progress {
    /// The command, at the start of each line (`watchlist import`).
    label: &'static str,
    /// A line each time the count passes a multiple of this.
    step: u64,
    /// The next count that prints a line.
    next: u64,
    /// Whether lines are printed at all.
    shown: bool,
    /// Whether a line was printed.
    printed: bool,
}

impl Progress {
    /// Progress for `label`, a line every `step`, shown when stderr is a terminal.
    pub(crate) fn on_terminal(label: &'static str, step: u64) -> Self {
        Self::new(label, step, std::io::stderr().is_terminal())
    }

    /// Progress for `label`, a line every `step`, shown only when `shown`.
    pub(crate) fn new(label: &'static str, step: u64, shown: bool) -> Self {
        let step = step.max(1);
        Progress {
            label,
            step,
            next: step,
            shown,
            printed: false,
        }
    }

    /// The count is now `count`: prints `line()` when it reached the next step.
    pub(crate) fn update(&mut self, count: u64, line: impl FnOnce() -> String) {
        if !self.shown || count < self.next {
            return;
        }
        self.next = (count / self.step + 1).saturating_mul(self.step);
        self.printed = true;
        eprintln!("{}: {}", self.label, line());
    }

    /// The import is over: prints `line()` when a progress line was printed.
    pub(crate) fn finish(&self, line: impl FnOnce() -> String) {
        if self.printed {
            eprintln!("{}: {}", self.label, line());
        }
    }
}

/// A bar of `width` cells, `done` of `total` filled: `[#####-----]`.
pub(crate) fn bar(done: u64, total: u64, width: usize) -> String {
    let filled = if total == 0 {
        width
    } else {
        usize::try_from(u128::from(done.min(total)) * width as u128 / u128::from(total))
            .unwrap_or(width)
    };
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_at_each_step_passed_and_never_when_hidden() {
        let mut lines = Vec::new();
        let mut p = Progress::new("t", 10, true);
        for count in [3, 9, 10, 11, 25, 26, 31] {
            p.update(count, || {
                lines.push(count);
                String::new()
            });
        }
        assert_eq!(lines, [10, 25, 31]);
        assert!(p.printed);

        let mut hidden = Progress::new("t", 10, false);
        hidden.update(100, || panic!("no line when hidden"));
        hidden.finish(|| panic!("no last line when hidden"));
        let short = Progress::new("t", 10, true);
        short.finish(|| panic!("no last line when no step was reached"));
    }

    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(bar(0, 10, 10), "[----------]");
        assert_eq!(bar(5, 10, 10), "[#####-----]");
        assert_eq!(bar(12, 10, 4), "[####]");
        assert_eq!(bar(0, 0, 3), "[###]");
    }
}
