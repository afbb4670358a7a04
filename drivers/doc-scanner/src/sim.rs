//! A simulated MRZ reader for tests and the demo: writes scans in the documented byte protocol to any `std::io::Write`.
//!
//! [`encode`] gives the bytes of one scan in a [`Style`]; [`SimulatedReader`]
//! writes them, optionally in small chunks with delays in between, as a
//! real reader's UART does. Pair it with one end of a pseudo-terminal and
//! the driver reads the other end through [`SerialLine`](crate::SerialLine).
//! The specimens are ICAO's synthetic "Utopia" documents, not real people.

use std::io::{self, Write};
use std::thread;
use std::time::Duration;

use crate::protocol::{CR, EOT, ETX, LF, STX};

/// ICAO's TD3 passport specimen (9303-4 appendix), 2 lines of 44.
pub const TD3_SPECIMEN: [&str; 2] = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
];
/// ICAO's TD2 card specimen (9303-6), 2 lines of 36.
pub const TD2_SPECIMEN: [&str; 2] = [
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
];
/// ICAO's TD1 card specimen (9303-5), 3 lines of 30.
pub const TD1_SPECIMEN: [&str; 3] = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
];

/// How the simulated reader frames a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// Wrap the scan in STX ... ETX.
    pub framed: bool,
    /// What ends each line.
    pub line_end: LineEnd,
    /// Whether the last line gets its line end (framed readers sometimes put ETX straight after it).
    pub end_last_line: bool,
    /// What follows the scan.
    pub trailer: Trailer,
    /// Bytes sent before the scan (noise: NUL, XON/XOFF, stray text).
    pub noise: Vec<u8>,
}

/// What ends a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    /// CR (0x0D).
    Cr,
    /// LF (0x0A).
    Lf,
    /// CR LF.
    CrLf,
}

/// What the reader sends after a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trailer {
    /// Nothing.
    None,
    /// A blank line (one more line end).
    BlankLine,
    /// EOT (0x04).
    Eot,
}

/// A simulated reader writing scans to `W`.
#[derive(Debug)]
pub struct SimulatedReader<W> {
    out: W,
    style: Style,
    chunk: usize,
    delay: Duration,
}

/// The bytes of one scan in a style.
#[must_use]
pub fn encode(lines: &[&str], style: &Style) -> Vec<u8> {
    let mut bytes = style.noise.clone();
    if style.framed {
        bytes.push(STX);
    }
    for (i, line) in lines.iter().enumerate() {
        bytes.extend_from_slice(line.as_bytes());
        if style.end_last_line || i + 1 < lines.len() {
            bytes.extend_from_slice(style.line_end.bytes());
        }
    }
    if style.framed {
        bytes.push(ETX);
    }
    match style.trailer {
        Trailer::None => {}
        Trailer::BlankLine => bytes.extend_from_slice(style.line_end.bytes()),
        Trailer::Eot => bytes.push(EOT),
    }
    bytes
}

impl<W: Write> SimulatedReader<W> {
    /// A reader writing to `out` in `style`, all of a scan at once.
    pub fn new(out: W, style: Style) -> Self {
        Self {
            out,
            style,
            chunk: 0,
            delay: Duration::ZERO,
        }
    }

    /// Writes in chunks of `chunk` bytes (0: all at once), sleeping `delay` after each.
    #[must_use]
    pub fn chunked(mut self, chunk: usize, delay: Duration) -> Self {
        self.chunk = chunk;
        self.delay = delay;
        self
    }

    /// Sends one scan.
    ///
    /// # Errors
    /// The writer's error.
    pub fn send_scan(&mut self, lines: &[&str]) -> io::Result<()> {
        let bytes = encode(lines, &self.style);
        self.send_raw(&bytes)
    }

    /// Sends raw bytes (noise, a torn scan), in the configured chunks.
    ///
    /// # Errors
    /// The writer's error.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let chunk = if self.chunk == 0 {
            bytes.len().max(1)
        } else {
            self.chunk
        };
        for part in bytes.chunks(chunk) {
            self.out.write_all(part)?;
            self.out.flush()?;
            if !self.delay.is_zero() {
                thread::sleep(self.delay);
            }
        }
        Ok(())
    }

    /// The writer, giving up the simulator.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl LineEnd {
    /// The bytes of this line end.
    #[must_use]
    pub fn bytes(self) -> &'static [u8] {
        match self {
            LineEnd::Cr => &[CR],
            LineEnd::Lf => &[LF],
            LineEnd::CrLf => &[CR, LF],
        }
    }
}

impl Default for Style {
    /// Unframed, CR LF after every line, nothing after the scan, no noise.
    fn default() -> Self {
        Self {
            framed: false,
            line_end: LineEnd::CrLf,
            end_last_line: true,
            trailer: Trailer::None,
            noise: Vec::new(),
        }
    }
}
