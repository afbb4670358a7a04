//! DG1, the MRZ as stored on the chip (9303-10 §4.7.1).
//!
//! ```text
//! 61 L               DG1
//!    5F1F L <MRZ>    the MRZ characters without line breaks:
//!                    90 (TD1, 3 × 30), 72 (TD2 or MRV-B, 2 × 36),
//!                    88 (TD3 or MRV-A, 2 × 44)
//! ```

use crate::error::{ParseError, ParseErrorKind};
use crate::mrz::{self, Mode, Mrz, MrzError};
use crate::tlv;

use super::set_once;

/// The parsed DG1: the MRZ text, split into its lines.
#[derive(Clone, PartialEq, Eq)]
pub struct Dg1 {
    /// The MRZ lines, as stored (ASCII, no separators).
    pub lines: Vec<String>,
}

/// DG1's tag.
const TAG: u32 = 0x61;
/// The MRZ data element.
const TAG_MRZ: u32 = 0x5F1F;

impl Dg1 {
    /// Parses DG1 (the whole file, tag `61`).
    ///
    /// # Errors
    /// A [`ParseError`]: malformed TLV, wrong outer tag, trailing bytes, no
    /// (or a repeated) `5F1F`, an MRZ of a length other than 90, 72 or 88,
    /// or bytes that are not printable ASCII.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let dg1 = tlv::parse_single_named(bytes, TAG, "DG1")?;
        let mut mrz = None;
        for child in dg1.children() {
            let child = child?;
            if child.tag == TAG_MRZ {
                set_once(&mut mrz, child, "DG1 MRZ")?;
            }
        }
        let mrz = mrz.ok_or_else(|| dg1.error("DG1 MRZ", ParseErrorKind::Missing("DG1 MRZ")))?;
        let line_len = match mrz.value.len() {
            90 => 30,
            72 => 36,
            88 => 44,
            _ => {
                return Err(mrz.error(
                    "DG1 MRZ",
                    ParseErrorKind::Invalid("MRZ length is not 90, 72 or 88"),
                ));
            }
        };
        if let Some(i) = mrz.value.iter().position(|b| !b.is_ascii_graphic()) {
            return Err(ParseError::new(
                "DG1 MRZ",
                mrz.value_offset() + i,
                ParseErrorKind::Invalid("MRZ character is not printable ASCII"),
            ));
        }
        let lines = mrz
            .value
            .chunks(line_len)
            .map(|line| line.iter().copied().map(char::from).collect())
            .collect();
        Ok(Dg1 { lines })
    }

    /// The MRZ lines joined with `\n`, as [`mrz::parse`] takes them.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Parses and checks the MRZ strictly (every check digit must hold).
    ///
    /// # Errors
    /// The [`MrzError`] of [`mrz::parse`].
    pub fn parse_mrz(&self) -> Result<Mrz, MrzError> {
        mrz::parse(&self.text(), Mode::Strict)
    }

    /// Encodes DG1: `61 { 5F1F <lines concatenated> }`.
    ///
    /// # Panics
    /// Only for absurd sizes (see [`tlv::encode_length`]).
    pub fn encode(&self) -> Vec<u8> {
        let mrz: String = self.lines.concat();
        tlv::encode_constructed(TAG, &[tlv::encode(TAG_MRZ, mrz.as_bytes())])
    }
}

impl std::fmt::Debug for Dg1 {
    /// Personal data: only the type is shown, so it cannot reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dg1").finish_non_exhaustive()
    }
}
