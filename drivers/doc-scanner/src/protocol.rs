//! The MRZ reader line protocol: the bytes a serial OCR reader sends, exactly as this crate reads them.
//!
//! Desktop and kiosk page readers that emulate a COM port send the MRZ they
//! read as plain ASCII text, one MRZ line per text line. This module names
//! the bytes; [`ScanAssembler`](crate::ScanAssembler) implements the rules.
//!
//! # Bytes
//!
//! | byte | name | meaning |
//! |---|---|---|
//! | `A`-`Z`, `0`-`9`, `<` | MRZ characters | the content of a line |
//! | `0x0D` CR, `0x0A` LF | line end | CR, LF and CR LF each end one line; LF CR is two line ends |
//! | `0x02` STX | start of text | starts a scan |
//! | `0x03` ETX | end of text | ends a scan (a last line without its line end is accepted) |
//! | `0x04` EOT | end of transmission | ends a scan |
//! | `0x20` space | | ignored at the start and end of a line; inside a line it is an invalid character |
//! | NUL, XON `0x11`, XOFF `0x13`, other C0 controls, DEL | noise | dropped wherever they appear, even inside a line |
//! | anything else (lowercase, punctuation, `0x80`-`0xFF`) | invalid | the line is rejected |
//!
//! A *blank line* is a line end with nothing (or only spaces) before it:
//! `CR LF CR LF` after a line, `CR CR`, `LF LF`.
//!
//! Lines are 30 (TD1), 36 (TD2, MRV-B) or 44 (TD3, MRV-A) characters. The
//! first line's length says how many lines the scan has: 3 lines of 30, or
//! 2 lines of 36 or 44. No line may be longer than [`MAX_LINE_LEN`]: the
//! 45th character rejects the line, and the rest of it is skipped without
//! being stored.
//!
//! # Unframed mode ([`Framing::Lines`])
//!
//! A scan is complete as soon as it has the number of lines its first line
//! calls for; nothing else is needed. A TD3 passport arrives as
//!
//! ```text
//! P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<< CR LF
//! L898902C36UTO7408122F1204159ZE184226B<<<<<10 CR LF
//! ```
//!
//! A *scan boundary* is a blank line, EOT, ETX, STX, or the reader going
//! quiet for the idle timeout (the driver tells the assembler with
//! [`ScanAssembler::idle`](crate::ScanAssembler::idle)). A boundary is
//! harmless after a complete scan (so readers that end a scan with a blank
//! line, EOT or ETX work unchanged), and ends an incomplete one with an
//! error. Framed readers therefore also work in unframed mode.
//!
//! A bad first line is reported and skipped; the next line starts a new
//! scan. A bad line after the first rejects the whole scan with one error,
//! and every line up to the next boundary is dropped, so the rest of a
//! broken scan is never paired with the next one. The idle timeout is what
//! separates two scans from a reader that sends neither blank lines nor
//! framing: a document must be taken off and another laid on, which takes
//! far longer than the gap between two lines of one scan.
//!
//! # Framed mode ([`Framing::StxEtx`])
//!
//! Every scan is `STX line (line end line)* [line end] ETX`:
//!
//! ```text
//! 02 "I<UTOD231458907<<<<<<<<<<<<<<<" 0D
//!    "7408122F1204159UTO<<<<<<<<<<<6" 0D
//!    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<" 0D 03
//! ```
//!
//! Everything outside a frame is noise and is dropped without an error
//! (stray text, ETX, EOT, line ends). Blank lines inside a frame are
//! ignored. The scan is checked at ETX; STX or EOT inside an open frame, or
//! the idle timeout, cut it short with an error, and the STX opens a new
//! frame. An empty frame (`STX ETX`) is ignored.
//!
//! # Identification (optional)
//!
//! Some readers answer a vendor command with a version line. When the
//! driver is given an [`Identification`](crate::Identification), it sends
//! the command bytes and expects, within a few read timeouts, one line
//! (ended by CR or LF, noise dropped) that starts with the expected prefix.

/// Start of text: opens a framed scan.
pub const STX: u8 = 0x02;
/// End of text: closes a framed scan.
pub const ETX: u8 = 0x03;
/// End of transmission: ends a scan.
pub const EOT: u8 = 0x04;
/// Carriage return: ends a line.
pub const CR: u8 = 0x0D;
/// Line feed: ends a line (after CR, part of the same line end).
pub const LF: u8 = 0x0A;
/// Software flow control "resume" (DC1), dropped as noise.
pub const XON: u8 = 0x11;
/// Software flow control "pause" (DC3), dropped as noise.
pub const XOFF: u8 = 0x13;

/// The longest MRZ line (TD3 and MRV-A): 44 characters.
pub const MAX_LINE_LEN: usize = 44;
/// The most lines a scan has (TD1): 3.
pub const MAX_LINES: usize = 3;

/// How scans are delimited on the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// Unframed: a scan ends when it has its lines; blank line, EOT, STX/ETX or idle are boundaries.
    #[default]
    Lines,
    /// Framed: a scan is `STX ... ETX`; text outside a frame is noise.
    StxEtx,
}

/// The number of lines a scan whose lines have this length must have, or `None` for a length no MRZ has.
#[must_use]
pub fn lines_for_length(len: usize) -> Option<usize> {
    match len {
        30 => Some(3),
        36 | 44 => Some(2),
        _ => None,
    }
}

/// Whether a byte is an MRZ character (`A`-`Z`, `0`-`9`, `<`).
#[must_use]
pub fn is_mrz_char(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'<'
}

/// Whether a byte is noise that is dropped wherever it appears (C0 controls other than the protocol's, and DEL).
#[must_use]
pub fn is_noise(b: u8) -> bool {
    (b < 0x20 && !matches!(b, STX | ETX | EOT | CR | LF)) || b == 0x7F
}
