//! MRZ OCR document scanners over a serial line.
//!
//! Not built yet: this crate is reserved for the scanner line protocols
//! (issue 4). It exports nothing, so nothing can depend on it by mistake.
#![forbid(unsafe_code)]
