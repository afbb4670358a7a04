//! [`Scanner`]: a blocking MRZ reader driver over any `embedded_io::Read`.
//!
//! It reads the serial line into a small fixed buffer, runs the bytes
//! through a [`ScanAssembler`] and returns the next scan. A read timeout of
//! the transport is not a failure: it comes back as [`ReadError::Timeout`]
//! (kind [`ReadErrorKind::Timeout`]) so the lane can do other work and call
//! again; when the reader has been quiet for the idle timeout in the middle
//! of a scan, the partial scan is dropped and reported once.

use std::time::{Duration, Instant};

use embedded_io::{Error as _, ErrorKind, Read, Write};
use icao9303::mrz::{Mode, Mrz};

use crate::assembler::{ScanAssembler, ScanError};
use crate::protocol::{CR, Framing, LF, is_mrz_char};
use crate::scan::{InvalidMrz, Scan};

/// Default idle gap that ends a partial scan: far longer than a reader pauses inside a scan, far shorter than a document swap.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_millis(500);

/// Longest identification answer kept; the rest of the line is dropped.
const MAX_ANSWER_LEN: usize = 64;

/// An MRZ reader on a serial line.
///
/// # Contract
/// - The transport's `read` must block until at least one byte arrives or
///   its own read timeout expires, and report the timeout as an error of
///   kind [`ErrorKind::TimedOut`]. That timeout should be no longer than
///   [`ScannerConfig::idle_timeout`], or a torn scan is noticed late.
/// - `Ok(0)` from `read` means the line is closed ([`ReadError::Closed`]).
/// - [`ErrorKind::Interrupted`] is retried; any other error is returned as
///   [`ReadError::Io`] and the scanner stays usable.
pub struct Scanner<T> {
    io: T,
    assembler: ScanAssembler,
    idle_timeout: Duration,
    buf: [u8; 64],
    pos: usize,
    len: usize,
    last_byte: Instant,
}

/// How the scanner reads its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScannerConfig {
    /// How the reader delimits scans.
    pub framing: Framing,
    /// Quiet time after which a partial scan is dropped (the unframed resynchronisation rule).
    ///
    /// Checked when a transport read times out and when bytes arrive after
    /// a gap. Zero means every read timeout during a scan is an idle gap.
    pub idle_timeout: Duration,
}

/// An optional identification exchange, for readers that answer a command with a version line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    /// Bytes sent to the reader (e.g. a vendor's "version?" command, with its line end).
    pub command: Vec<u8>,
    /// The answer line must start with this text.
    pub expected: String,
    /// Read timeouts to wait for the answer before giving up.
    pub attempts: u32,
}

/// Why [`Scanner::new_identified`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError<E> {
    /// The serial line failed.
    #[error("serial line error: {0:?}")]
    Io(E),
    /// The reader did not answer the identification command in time.
    #[error("no answer to the identification command")]
    NoResponse,
    /// Another device (or another model) answered.
    #[error("wrong device: expected an answer starting {expected:?}, got {actual:?}")]
    WrongDevice {
        /// The expected prefix.
        expected: String,
        /// The answer (printable ASCII, at most 64 characters; an MRZ-like answer is withheld).
        actual: String,
    },
}

/// Why [`Scanner::next_scan`] returned no scan.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError<E> {
    /// No scan yet: the transport's read timed out. Not a failure; call again.
    #[error("no scan yet")]
    Timeout,
    /// The bytes did not form a valid scan; the scanner has resynchronised, call again.
    #[error("bad scan: {0}")]
    Scan(#[from] ScanError),
    /// A well-formed scan that is not a valid MRZ (only from [`Scanner::next_mrz`]).
    #[error("invalid MRZ: {0}")]
    Mrz(InvalidMrz),
    /// The line is closed (`read` returned 0 bytes).
    #[error("serial line closed")]
    Closed,
    /// The serial line failed.
    #[error("serial line error: {0:?}")]
    Io(E),
}

/// The kind of a [`ReadError`], for callers that only need to decide what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadErrorKind {
    /// Nothing arrived: wait and call again.
    Timeout,
    /// The reader sent a bad scan (shape or MRZ check): ask for the document again.
    BadScan,
    /// The line closed or failed: the device needs attention.
    Device,
    /// Anything else.
    Other,
}

impl<T: Read> Scanner<T> {
    /// A scanner on a read-only line (no identification is possible, so nothing can fail).
    #[must_use]
    pub fn new(io: T, config: ScannerConfig) -> Self {
        Self {
            io,
            assembler: ScanAssembler::new(config.framing),
            idle_timeout: config.idle_timeout,
            buf: [0; 64],
            pos: 0,
            len: 0,
            last_byte: Instant::now(),
        }
    }

    /// Blocks for the next scan, for at most about one transport read timeout when nothing arrives.
    ///
    /// # Errors
    /// [`ReadError::Timeout`] when the transport timed out with no scan
    /// complete; [`ReadError::Scan`] for a bad or torn scan; `Closed` and
    /// `Io` for the line. After any error the scanner can be called again.
    pub fn next_scan(&mut self) -> Result<Scan, ReadError<T::Error>> {
        loop {
            while self.pos < self.len {
                let Some(&byte) = self.buf.get(self.pos) else {
                    break;
                };
                self.pos += 1;
                if let Some(event) = self.assembler.push(byte) {
                    return event.map_err(ReadError::Scan);
                }
            }
            match self.io.read(&mut self.buf) {
                Ok(0) => {
                    self.pos = 0;
                    self.len = 0;
                    return match self.assembler.idle() {
                        Some(error) => Err(ReadError::Scan(error)),
                        None => Err(ReadError::Closed),
                    };
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n.min(self.buf.len());
                    let quiet = !self.idle_timeout.is_zero()
                        && self.last_byte.elapsed() >= self.idle_timeout;
                    self.last_byte = Instant::now();
                    if quiet && let Some(error) = self.assembler.idle() {
                        return Err(ReadError::Scan(error));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::TimedOut => {
                    if self.last_byte.elapsed() >= self.idle_timeout
                        && let Some(error) = self.assembler.idle()
                    {
                        return Err(ReadError::Scan(error));
                    }
                    return Err(ReadError::Timeout);
                }
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// Blocks for the next scan and checks it as an MRZ.
    ///
    /// # Errors
    /// As [`next_scan`](Self::next_scan), plus [`ReadError::Mrz`] when the scan is not a valid MRZ.
    pub fn next_mrz(&mut self, mode: Mode) -> Result<Mrz, ReadError<T::Error>> {
        self.next_scan()?.parse(mode).map_err(ReadError::Mrz)
    }

    /// Drops any partial scan and unread bytes (e.g. when the lane starts a new session).
    pub fn reset(&mut self) {
        self.assembler.reset();
        self.pos = 0;
        self.len = 0;
    }

    /// The transport, giving up the scanner (unread bytes are lost).
    pub fn into_inner(self) -> T {
        self.io
    }
}

impl<T: Read + Write> Scanner<T> {
    /// A scanner that first checks, with an identification exchange, that the right reader is on the line.
    ///
    /// # Errors
    /// [`InitError::Io`] when the line fails, [`InitError::NoResponse`]
    /// when no answer line arrives within `id.attempts` read timeouts,
    /// [`InitError::WrongDevice`] when the answer does not start with `id.expected`.
    pub fn new_identified(
        mut io: T,
        config: ScannerConfig,
        id: &Identification,
    ) -> Result<Self, InitError<T::Error>> {
        io.write_all(&id.command).map_err(InitError::Io)?;
        io.flush().map_err(InitError::Io)?;
        let answer = read_answer(&mut io, id.attempts)?;
        if answer.starts_with(&id.expected) {
            Ok(Self::new(io, config))
        } else {
            Err(InitError::WrongDevice {
                expected: id.expected.clone(),
                actual: withhold_mrz(answer),
            })
        }
    }
}

impl<E> ReadError<E> {
    /// What the caller should do about this error.
    pub fn kind(&self) -> ReadErrorKind {
        match self {
            ReadError::Timeout => ReadErrorKind::Timeout,
            ReadError::Scan(_) | ReadError::Mrz(_) => ReadErrorKind::BadScan,
            ReadError::Closed | ReadError::Io(_) => ReadErrorKind::Device,
        }
    }
}

impl Default for ScannerConfig {
    /// Unframed, [`DEFAULT_IDLE_TIMEOUT`].
    fn default() -> Self {
        Self {
            framing: Framing::Lines,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

impl<T> std::fmt::Debug for Scanner<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("assembler", &self.assembler)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// Reads the identification answer: the first non-empty line, one byte at a time so no scan byte is taken.
fn read_answer<T: Read>(io: &mut T, attempts: u32) -> Result<String, InitError<T::Error>> {
    let mut answer = String::new();
    let mut timeouts = 0;
    let mut byte = [0u8; 1];
    loop {
        match io.read(&mut byte) {
            Ok(0) => return Err(InitError::NoResponse),
            Ok(_) => match byte[0] {
                CR | LF if !answer.is_empty() => return Ok(answer),
                b if !(0x20..0x7F).contains(&b) => {}
                b if answer.len() < MAX_ANSWER_LEN => answer.push(char::from(b)),
                _ => {}
            },
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::TimedOut => {
                timeouts += 1;
                if timeouts >= attempts.max(1) {
                    return Err(InitError::NoResponse);
                }
            }
            Err(e) => return Err(InitError::Io(e)),
        }
    }
}

/// An answer that looks like an MRZ line (a document left on the reader) is not echoed.
fn withhold_mrz(answer: String) -> String {
    if answer.len() >= 30 && answer.bytes().all(is_mrz_char) {
        "(an MRZ line, withheld)".to_owned()
    } else {
        answer
    }
}

#[cfg(test)]
mod tests;
