//! MRZ OCR document scanners over a serial line, generic over `embedded-io`.
//!
//! What it is: the line protocol of serial MRZ readers (the MRZ as 2 or 3
//! ASCII lines, CR/LF, optionally framed by STX/ETX; noise, partial reads
//! and torn scans tolerated), documented byte by byte in [`protocol`]; a
//! pure [`ScanAssembler`] that turns bytes into [`Scan`]s in bounded
//! memory; a blocking [`Scanner`] over any `embedded_io::Read`, with read
//! timeouts as a distinct error kind and an optional identification
//! exchange; a Linux backend, [`SerialLine`]; and a [`sim`]ulated reader
//! for tests and the demo.
//!
//! What it is not: an OCR engine, a vendor command set (beyond the optional
//! identification line), or an MRZ parser: [`Scan::parse`] hands the lines
//! to `icao9303::mrz`.
//!
//! ```
//! use doc_scanner::{Framing, ScanAssembler};
//!
//! let mut assembler = ScanAssembler::new(Framing::Lines);
//! let bytes = b"\x00P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\r\n\
//!               L898902C36UTO7408122F1204159ZE184226B<<<<<10\r\n";
//! let scans: Vec<_> = assembler.feed(bytes).collect();
//! let mrz = scans[0].as_ref().unwrap().parse(icao9303::mrz::Mode::Strict).unwrap();
//! assert_eq!(mrz.format, icao9303::mrz::Format::Td3);
//! ```
#![forbid(unsafe_code)]

pub mod protocol;

mod assembler;
mod scan;
mod scanner;
#[cfg(unix)]
mod serial;
pub mod sim;

pub use assembler::{Cut, Event, Feed, ScanAssembler, ScanError};
pub use protocol::Framing;
pub use scan::{InvalidMrz, Scan};
pub use scanner::{
    DEFAULT_IDLE_TIMEOUT, Identification, InitError, ReadError, ReadErrorKind, Scanner,
    ScannerConfig,
};
#[cfg(unix)]
pub use serial::{
    DEFAULT_READ_TIMEOUT, DataBits, FlowControl, Parity, SerialConfig, SerialLine, StopBits,
};
