//! ICAO Doc 9303 for the terminal side of an eMRTD read, with no I/O.
//!
//! What it is: the machine readable zone ([`mrz`]), BER-TLV and the Logical
//! Data Structure ([`tlv`], [`lds`]), Basic Access Control ([`bac`]),
//! secure messaging ([`sm`]), the file-reading session over a
//! [`CardChannel`] ([`session`]), and the clone checks: Chip
//! Authentication ([`ca`]) and Active Authentication ([`aa`]). What it is not: a PC/SC driver (that is the
//! `card-reader` crate) or a policy engine (that is `kiosk-app`).
//!
//! Every byte that comes from a chip or a document is untrusted: parsers
//! return errors, never panic, and check lengths before they allocate.
#![forbid(unsafe_code)]

pub mod aa;
pub mod apdu;
pub mod bac;
pub mod ca;
pub mod channel;
pub mod crypto;
pub mod document;
pub mod ecparams;
mod error;
pub mod lds;
pub mod mrz;
pub mod pa;
pub mod pace;
pub mod reader;
pub mod session;
pub mod sm;
pub mod tlv;
#[cfg(test)]
mod vectors;
pub mod verdict;
pub mod weierstrass;

pub use channel::{CardChannel, ChannelError, ChannelErrorKind};
pub use error::{CardFault, Error, ParseError, ParseErrorKind};
