//! [`ScanAssembler`]: reader bytes in, whole scans out. Pure (no I/O, no clock) and bounded in memory.
//!
//! Feed it bytes as they arrive, in any chunking; it implements the rules of
//! [`protocol`](crate::protocol) and yields each complete [`Scan`] or a
//! [`ScanError`] saying what was wrong, then carries on with the next scan.
//! It holds at most one line of [`MAX_LINE_LEN`] bytes and [`MAX_LINES`]
//! finished lines, whatever the input ([`ScanAssembler::buffered`]).

use std::fmt;

use crate::protocol::{
    CR, EOT, ETX, Framing, LF, MAX_LINE_LEN, MAX_LINES, STX, is_mrz_char, is_noise,
    lines_for_length,
};
use crate::scan::Scan;

/// What one byte (or an idle gap) produced: a complete scan or what was wrong.
pub type Event = Result<Scan, ScanError>;

/// Assembles scans from the bytes of an MRZ reader.
///
/// # Contract
/// - [`push`](Self::push) must be given every byte the reader sent, in order;
///   it yields at most one event per byte and never panics.
/// - The caller should call [`idle`](Self::idle) when the reader has been
///   quiet for the idle timeout; it is the boundary that resynchronises an
///   unframed reader after a torn scan.
/// - Error messages carry line and column numbers and counts, never the
///   characters read.
#[derive(Clone)]
pub struct ScanAssembler {
    framing: Framing,
    /// The line being received (MRZ characters only).
    line: [u8; MAX_LINE_LEN],
    line_len: usize,
    /// Spaces after the last character of the line: harmless if the line ends now.
    spaces: usize,
    /// The current line was already rejected: drop its bytes until the line end.
    skipping: bool,
    /// The previous significant byte was CR (so an LF now completes CR LF).
    after_cr: bool,
    /// Finished lines of the current scan.
    lines: Vec<String>,
    /// Lines the current scan needs (from its first line's length); 0 before the first line.
    expected: usize,
    /// The current scan already failed: drop lines until the next boundary.
    discarding: bool,
    /// Framed mode: a frame is open.
    in_frame: bool,
}

/// What was wrong with the bytes of a scan.
///
/// Never carries the characters read: an MRZ is personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// A line longer than any MRZ line; the rest of it was skipped, not stored.
    #[error("line {line} is longer than {MAX_LINE_LEN} characters")]
    LineTooLong {
        /// Line of the scan, from 1.
        line: usize,
    },
    /// A byte that is not an MRZ character (`A`-`Z`, `0`-`9`, `<`) inside a line.
    #[error("line {line} column {column} is not an MRZ character")]
    InvalidCharacter {
        /// Line of the scan, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
    },
    /// A first line whose length is not an MRZ line length (30, 36 or 44).
    #[error("line 1 has {found} characters, not 30, 36 or 44")]
    UnknownLineLength {
        /// Characters in the line.
        found: usize,
    },
    /// A line whose length differs from the scan's first line.
    #[error("line {line} has {found} characters, the first line has {expected}")]
    LineLength {
        /// Line of the scan, from 1.
        line: usize,
        /// Length of the first line.
        expected: usize,
        /// Length of this line.
        found: usize,
    },
    /// A scan that ended (blank line, EOT, ETX) with the wrong number of lines.
    #[error("scan has {found} lines, its line length needs {expected}")]
    LineCount {
        /// Lines the first line's length calls for.
        expected: usize,
        /// Lines received.
        found: usize,
    },
    /// A scan cut short before it ended, by an idle gap, STX or EOT.
    #[error("scan cut short by {cause} after {lines} complete lines{}", part_line(.mid_line))]
    Incomplete {
        /// Complete lines received.
        lines: usize,
        /// Whether part of a further line had been received.
        mid_line: bool,
        /// What cut it short.
        cause: Cut,
    },
}

/// What cut a scan short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cut {
    /// The reader went quiet for the idle timeout (or the line closed).
    Idle,
    /// A new STX: the reader started another scan (a framing error in framed mode).
    Stx,
    /// EOT inside an open frame (a framing error).
    Eot,
}

impl ScanAssembler {
    /// A new assembler, waiting for the first scan.
    #[must_use]
    pub fn new(framing: Framing) -> Self {
        Self {
            framing,
            line: [0; MAX_LINE_LEN],
            line_len: 0,
            spaces: 0,
            skipping: false,
            after_cr: false,
            lines: Vec::with_capacity(MAX_LINES),
            expected: 0,
            discarding: false,
            in_frame: false,
        }
    }

    /// The framing this assembler expects.
    #[must_use]
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Takes one byte from the reader; returns a scan or an error when this byte completes one.
    pub fn push(&mut self, byte: u8) -> Option<Event> {
        if is_noise(byte) {
            return None;
        }
        let after_cr = std::mem::replace(&mut self.after_cr, byte == CR);
        match byte {
            LF if after_cr => None,
            CR | LF => self.line_end(),
            STX => self.stx(),
            ETX => self.etx(),
            EOT => self.eot(),
            b' ' => {
                self.space();
                None
            }
            _ => self.character(byte),
        }
    }

    /// Takes a chunk of bytes; iterate the result to get every event they produce, in order.
    ///
    /// Bytes after the last event are consumed only as the iterator is
    /// driven: drain it (e.g. `for event in assembler.feed(bytes)`).
    pub fn feed<'a>(&'a mut self, bytes: &'a [u8]) -> Feed<'a> {
        Feed {
            assembler: self,
            bytes: bytes.iter(),
        }
    }

    /// Tells the assembler the reader has been quiet for the idle timeout: a scan in progress is dropped.
    pub fn idle(&mut self) -> Option<ScanError> {
        self.cut(Cut::Idle)
    }

    /// Whether part of a scan (or an open frame) is held.
    #[must_use]
    pub fn is_busy(&self) -> bool {
        self.line_len > 0
            || self.skipping
            || !self.lines.is_empty()
            || self.discarding
            || self.in_frame
    }

    /// Bytes of scan content held; never more than `MAX_LINE_LEN * (MAX_LINES + 1)`.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.line_len + self.lines.iter().map(String::len).sum::<usize>()
    }

    /// Drops whatever is held, as if just created.
    pub fn reset(&mut self) {
        *self = Self::new(self.framing);
    }

    // -- bytes ---------------------------------------------------------------

    /// Whether MRZ text is being taken (always unframed; inside a frame when framed).
    fn accepting(&self) -> bool {
        self.framing == Framing::Lines || self.in_frame
    }

    fn character(&mut self, byte: u8) -> Option<Event> {
        if !self.accepting() || self.skipping {
            return None;
        }
        let line = self.lines.len() + 1;
        if !is_mrz_char(byte) || self.spaces > 0 {
            // With spaces pending, the first of them is the bad column.
            self.skipping = true;
            let column = self.line_len + 1;
            return self.fail(ScanError::InvalidCharacter { line, column });
        }
        match self.line.get_mut(self.line_len) {
            Some(slot) => {
                *slot = byte;
                self.line_len += 1;
                None
            }
            None => {
                self.skipping = true;
                self.fail(ScanError::LineTooLong { line })
            }
        }
    }

    fn space(&mut self) {
        if self.accepting() && !self.skipping && self.line_len > 0 {
            self.spaces = self.spaces.saturating_add(1);
        }
    }

    fn line_end(&mut self) -> Option<Event> {
        if !self.accepting() {
            return None;
        }
        if self.line_len == 0 && !self.skipping {
            // A blank line.
            self.spaces = 0;
            return match self.framing {
                Framing::Lines => self.boundary(),
                Framing::StxEtx => None,
            };
        }
        self.finish_line()
    }

    fn stx(&mut self) -> Option<Event> {
        let event = self.cut(Cut::Stx).map(Err);
        if self.framing == Framing::StxEtx {
            self.in_frame = true;
        }
        event
    }

    fn etx(&mut self) -> Option<Event> {
        match self.framing {
            Framing::Lines => self.end_unframed(),
            Framing::StxEtx => self.end_frame(),
        }
    }

    fn eot(&mut self) -> Option<Event> {
        match self.framing {
            Framing::Lines => self.end_unframed(),
            Framing::StxEtx => self.cut(Cut::Eot).map(Err),
        }
    }

    // -- lines and scans -----------------------------------------------------

    /// Ends the current (non-blank) line: checks it and adds it to the scan.
    fn finish_line(&mut self) -> Option<Event> {
        let skipped = self.skipping;
        let len = self.line_len;
        self.line_len = 0;
        self.spaces = 0;
        self.skipping = false;
        if skipped || self.discarding {
            // Already reported (or the scan already failed).
            return None;
        }
        let number = self.lines.len() + 1;
        if self.lines.is_empty() {
            match lines_for_length(len) {
                Some(expected) => self.expected = expected,
                None => return self.fail(ScanError::UnknownLineLength { found: len }),
            }
        } else {
            let first = self.lines.first().map_or(0, String::len);
            if len != first {
                return self.fail(ScanError::LineLength {
                    line: number,
                    expected: first,
                    found: len,
                });
            }
        }
        if self.lines.len() >= self.expected {
            return self.fail(ScanError::LineCount {
                expected: self.expected,
                found: number,
            });
        }
        let text = self
            .line
            .get(..len)
            .unwrap_or_default()
            .iter()
            .map(|&b| char::from(b))
            .collect();
        self.lines.push(text);
        if self.framing == Framing::Lines && self.lines.len() == self.expected {
            return Some(Ok(self.take_scan()));
        }
        None
    }

    /// Unframed ETX or EOT: the pending line ends, then the scan does.
    fn end_unframed(&mut self) -> Option<Event> {
        let event = if self.line_len > 0 || self.skipping {
            self.finish_line()
        } else {
            None
        };
        // After an event the scan is either complete or discarding, so the boundary is silent.
        let boundary = self.boundary();
        event.or(boundary)
    }

    /// Framed ETX: the pending line ends, then the frame is checked.
    fn end_frame(&mut self) -> Option<Event> {
        if !self.in_frame {
            return None;
        }
        let event = if self.line_len > 0 || self.skipping {
            self.finish_line()
        } else {
            None
        };
        let discarding = self.discarding;
        let found = self.lines.len();
        let expected = self.expected;
        let scan = self.take_scan();
        self.in_frame = false;
        if event.is_some() {
            return event;
        }
        if discarding || found == 0 {
            return None;
        }
        if found == expected {
            Some(Ok(scan))
        } else {
            Some(Err(ScanError::LineCount { expected, found }))
        }
    }

    /// Unframed boundary (blank line, EOT, ETX): an unfinished scan is an error.
    fn boundary(&mut self) -> Option<Event> {
        let discarding = self.discarding;
        let found = self.lines.len();
        let expected = self.expected;
        self.take_scan();
        if discarding || found == 0 {
            return None;
        }
        Some(Err(ScanError::LineCount { expected, found }))
    }

    /// Drops everything held (idle, STX, framed EOT); an unfinished scan is an error.
    fn cut(&mut self, cause: Cut) -> Option<ScanError> {
        let mid_line = self.line_len > 0 && !self.skipping;
        let lines = self.lines.len();
        let discarding = self.discarding;
        self.reset();
        if discarding || (lines == 0 && !mid_line) {
            return None;
        }
        Some(ScanError::Incomplete {
            lines,
            mid_line,
            cause,
        })
    }

    /// Reports an error once per scan; a scan already under way is discarded up to its end.
    fn fail(&mut self, error: ScanError) -> Option<Event> {
        if self.discarding {
            return None;
        }
        if self.framing == Framing::StxEtx || !self.lines.is_empty() {
            self.take_scan();
            self.discarding = true;
        }
        Some(Err(error))
    }

    /// Takes the finished lines as a scan and starts a new one (the frame state is kept).
    fn take_scan(&mut self) -> Scan {
        self.expected = 0;
        self.discarding = false;
        Scan {
            lines: std::mem::replace(&mut self.lines, Vec::with_capacity(MAX_LINES)),
        }
    }
}

/// The events of a chunk of bytes, from [`ScanAssembler::feed`].
pub struct Feed<'a> {
    assembler: &'a mut ScanAssembler,
    bytes: std::slice::Iter<'a, u8>,
}

impl Iterator for Feed<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        for &byte in self.bytes.by_ref() {
            if let Some(event) = self.assembler.push(byte) {
                return Some(event);
            }
        }
        None
    }
}

impl Default for ScanAssembler {
    fn default() -> Self {
        Self::new(Framing::default())
    }
}

impl fmt::Debug for ScanAssembler {
    /// Shows the state, never the characters held.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanAssembler")
            .field("framing", &self.framing)
            .field("line_len", &self.line_len)
            .field("lines", &self.lines.len())
            .field("discarding", &self.discarding)
            .field("in_frame", &self.in_frame)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cut::Idle => "an idle reader",
            Cut::Stx => "a new STX",
            Cut::Eot => "EOT inside a frame",
        })
    }
}

fn part_line(mid_line: &bool) -> &'static str {
    if *mid_line { " and part of a line" } else { "" }
}

#[cfg(test)]
mod tests;
