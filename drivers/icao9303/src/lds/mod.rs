//! The Logical Data Structure: EF.COM, EF.CardAccess, the data groups, EF.SOD (9303 part 10).
//!
//! Each LDS file is one BER-TLV data object with an application tag (9303-10
//! §4.6, table "LDS1 data group tags"); EF.CardAccess and EF.CardSecurity are
//! plain DER instead. The parsers here take the whole file as read from the
//! chip and return owned values. They follow one policy:
//!
//! - exactly one outer object with the file's tag, nothing after it
//!   ([`ParseErrorKind::TrailingData`]);
//! - a mandatory data object that is absent is [`ParseErrorKind::Missing`];
//!   one that may occur once but occurs twice is [`ParseErrorKind::Invalid`];
//! - data objects this crate does not know inside a template are skipped
//!   (later LDS versions add some), but must still be well-formed TLV;
//! - text must be valid UTF-8 and is kept exactly as encoded.

mod com;
mod dg1;
mod dg11;
mod dg12;
mod dg2;
mod security_info;
mod sod;

use crate::error::{ParseError, ParseErrorKind};
use crate::tlv::{self, Tlv};

pub use com::Com;
pub use dg1::Dg1;
pub use dg2::{Dg2, FaceImage, ImageFormat};
pub use dg11::Dg11;
pub use dg12::Dg12;
pub use security_info::{CardAccess, Dg14, Dg15, PaceInfo, SecurityInfo, decode_oid, encode_oid};
pub use sod::Sod;

/// A data group of LDS1 (9303-10 §4.6): DG1 (MRZ) to DG16 (persons to notify).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataGroup {
    /// Details recorded in the MRZ (tag `61`).
    Dg1 = 1,
    /// Encoded face (tag `75`).
    Dg2,
    /// Encoded fingers (tag `63`).
    Dg3,
    /// Encoded irises (tag `76`).
    Dg4,
    /// Displayed portrait (tag `65`).
    Dg5,
    /// Reserved for future use (tag `66`).
    Dg6,
    /// Displayed signature or usual mark (tag `67`).
    Dg7,
    /// Data features (tag `68`).
    Dg8,
    /// Structure features (tag `69`).
    Dg9,
    /// Substance features (tag `6A`).
    Dg10,
    /// Additional personal details (tag `6B`).
    Dg11,
    /// Additional document details (tag `6C`).
    Dg12,
    /// Optional details (tag `6D`).
    Dg13,
    /// Security options: Chip Authentication, PACE (tag `6E`).
    Dg14,
    /// Active Authentication public key (tag `6F`).
    Dg15,
    /// Persons to notify (tag `70`).
    Dg16,
}

/// An LDS elementary file (9303-10 §3.6 and §4.6: file identifiers and short EF identifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileId {
    /// EF.COM, common data: FID `011E`, SFI `1E`, tag `60` (in the LDS1 application).
    Com,
    /// EF.SOD, document security object: FID `011D`, SFI `1D`, tag `77`.
    Sod,
    /// EF.CardAccess: FID `011C`, SFI `1C`, a DER `SET OF SecurityInfo` in the master file.
    CardAccess,
    /// EF.CardSecurity: FID `011D`, SFI `1D`, a DER CMS `ContentInfo` in the master file.
    CardSecurity,
    /// A data group: FID `0101`..`0110`, SFI `01`..`10`.
    Dg(DataGroup),
}

/// A parsed LDS file (see [`parse_file`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LdsFile {
    /// EF.COM.
    Com(Com),
    /// EF.CardAccess.
    CardAccess(CardAccess),
    /// DG1, the MRZ.
    Dg1(Dg1),
    /// DG2, the encoded face.
    Dg2(Dg2),
    /// DG11, additional personal details.
    Dg11(Dg11),
    /// DG12, additional document details.
    Dg12(Dg12),
    /// DG14, security options.
    Dg14(Dg14),
    /// DG15, the Active Authentication public key.
    Dg15(Dg15),
    /// EF.SOD.
    Sod(Sod),
    /// A file this crate does not parse further; its wrapper tag was checked.
    Unparsed {
        /// Which file.
        file: FileId,
        /// The whole file.
        raw: Vec<u8>,
    },
}

/// Parses a whole LDS file read from the chip, choosing the parser by `file`.
///
/// Files without a parser of their own (DG3 to DG10, DG13, DG16,
/// EF.CardSecurity) are checked to be exactly one data object with the
/// file's tag and returned as [`LdsFile::Unparsed`].
///
/// # Errors
/// The file's parser's [`ParseError`].
pub fn parse_file(file: impl Into<FileId>, bytes: &[u8]) -> Result<LdsFile, ParseError> {
    let file = file.into();
    Ok(match file {
        FileId::Com => LdsFile::Com(Com::parse(bytes)?),
        FileId::Sod => LdsFile::Sod(Sod::parse(bytes)?),
        FileId::CardAccess => LdsFile::CardAccess(CardAccess::parse(bytes)?),
        FileId::Dg(DataGroup::Dg1) => LdsFile::Dg1(Dg1::parse(bytes)?),
        FileId::Dg(DataGroup::Dg2) => LdsFile::Dg2(Dg2::parse(bytes)?),
        FileId::Dg(DataGroup::Dg11) => LdsFile::Dg11(Dg11::parse(bytes)?),
        FileId::Dg(DataGroup::Dg12) => LdsFile::Dg12(Dg12::parse(bytes)?),
        FileId::Dg(DataGroup::Dg14) => LdsFile::Dg14(Dg14::parse(bytes)?),
        FileId::Dg(DataGroup::Dg15) => LdsFile::Dg15(Dg15::parse(bytes)?),
        FileId::CardSecurity | FileId::Dg(_) => {
            tlv::parse_single_named(bytes, file.tag(), file.name())?;
            LdsFile::Unparsed {
                file,
                raw: bytes.to_vec(),
            }
        }
    })
}

impl DataGroup {
    /// Every data group, DG1 first.
    pub const ALL: [DataGroup; 16] = [
        DataGroup::Dg1,
        DataGroup::Dg2,
        DataGroup::Dg3,
        DataGroup::Dg4,
        DataGroup::Dg5,
        DataGroup::Dg6,
        DataGroup::Dg7,
        DataGroup::Dg8,
        DataGroup::Dg9,
        DataGroup::Dg10,
        DataGroup::Dg11,
        DataGroup::Dg12,
        DataGroup::Dg13,
        DataGroup::Dg14,
        DataGroup::Dg15,
        DataGroup::Dg16,
    ];

    /// The data group for a number 1 to 16.
    pub fn from_number(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// The data group whose file carries `tag` (9303-10 §4.6), e.g. `0x75` for DG2.
    pub fn from_tag(tag: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|dg| dg.tag() == tag)
    }

    /// The number, 1 to 16.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The file's application tag (9303-10 §4.6): `61`, `75`, `63`, `76`, `65` to `70`.
    pub fn tag(self) -> u32 {
        match self {
            DataGroup::Dg1 => 0x61,
            DataGroup::Dg2 => 0x75,
            DataGroup::Dg3 => 0x63,
            DataGroup::Dg4 => 0x76,
            DataGroup::Dg5 => 0x65,
            DataGroup::Dg6 => 0x66,
            DataGroup::Dg7 => 0x67,
            DataGroup::Dg8 => 0x68,
            DataGroup::Dg9 => 0x69,
            DataGroup::Dg10 => 0x6A,
            DataGroup::Dg11 => 0x6B,
            DataGroup::Dg12 => 0x6C,
            DataGroup::Dg13 => 0x6D,
            DataGroup::Dg14 => 0x6E,
            DataGroup::Dg15 => 0x6F,
            DataGroup::Dg16 => 0x70,
        }
    }

    /// The file identifier, `0101` to `0110` (9303-10 §3.6).
    pub fn file_id(self) -> u16 {
        0x0100 | u16::from(self.number())
    }

    /// The short EF identifier, `01` to `10` (9303-10 §3.6).
    pub fn short_file_id(self) -> u8 {
        self.number()
    }

    /// The name used in 9303: `"DG1"` to `"DG16"`.
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 16] = [
            "DG1", "DG2", "DG3", "DG4", "DG5", "DG6", "DG7", "DG8", "DG9", "DG10", "DG11", "DG12",
            "DG13", "DG14", "DG15", "DG16",
        ];
        NAMES
            .get(usize::from(self.number()).saturating_sub(1))
            .copied()
            .unwrap_or("DG")
    }
}

impl std::fmt::Display for DataGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FileId {
    /// The file identifier for SELECT (9303-10 §3.6).
    pub fn file_id(self) -> u16 {
        match self {
            FileId::Com => 0x011E,
            FileId::Sod | FileId::CardSecurity => 0x011D,
            FileId::CardAccess => 0x011C,
            FileId::Dg(dg) => dg.file_id(),
        }
    }

    /// The short EF identifier for READ BINARY with SFI (9303-10 §3.6).
    pub fn short_file_id(self) -> u8 {
        match self {
            FileId::Com => 0x1E,
            FileId::Sod | FileId::CardSecurity => 0x1D,
            FileId::CardAccess => 0x1C,
            FileId::Dg(dg) => dg.short_file_id(),
        }
    }

    /// The outer tag of the file: the application tag, or DER `SET` (`31`) for
    /// EF.CardAccess and `SEQUENCE` (`30`) for EF.CardSecurity.
    pub fn tag(self) -> u32 {
        match self {
            FileId::Com => 0x60,
            FileId::Sod => 0x77,
            FileId::CardAccess => 0x31,
            FileId::CardSecurity => 0x30,
            FileId::Dg(dg) => dg.tag(),
        }
    }

    /// Whether the file sits in the master file rather than the LDS1 application (9303-10 §3.6.1).
    pub fn in_master_file(self) -> bool {
        matches!(self, FileId::CardAccess | FileId::CardSecurity)
    }

    /// The file's name in 9303, e.g. `"EF.COM"` or `"DG2"`.
    pub fn name(self) -> &'static str {
        match self {
            FileId::Com => "EF.COM",
            FileId::Sod => "EF.SOD",
            FileId::CardAccess => "EF.CardAccess",
            FileId::CardSecurity => "EF.CardSecurity",
            FileId::Dg(dg) => dg.name(),
        }
    }
}

impl From<DataGroup> for FileId {
    fn from(dg: DataGroup) -> Self {
        FileId::Dg(dg)
    }
}

impl std::fmt::Display for FileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------
// Helpers shared by the file parsers
// ---------------------------------------------------------------------------

/// Stores `tlv` in `slot`, failing if the slot is already taken (a repeated data object).
fn set_once<'a>(
    slot: &mut Option<Tlv<'a>>,
    tlv: Tlv<'a>,
    what: &'static str,
) -> Result<(), ParseError> {
    if slot.is_some() {
        return Err(tlv.error(what, ParseErrorKind::Invalid("data object repeated")));
    }
    *slot = Some(tlv);
    Ok(())
}

/// The value as UTF-8 text.
fn text(tlv: &Tlv<'_>, what: &'static str) -> Result<String, ParseError> {
    std::str::from_utf8(tlv.value)
        .map(str::to_owned)
        .map_err(|e| {
            ParseError::new(
                what,
                tlv.value_offset() + e.valid_up_to(),
                ParseErrorKind::Invalid("text is not UTF-8"),
            )
        })
}

/// A date (or date and time) of `digits` digits, as text or packed BCD.
///
/// 9303-10 gives DG11's full date of birth (`5F2B`), DG12's date of issue
/// (`5F26`) and personalisation time (`5F55`) as digits; chips personalised
/// to earlier editions store them as BCD, two digits a byte. A value of
/// exactly `digits / 2` bytes that is not all ASCII digits is read as BCD.
fn date_text(tlv: &Tlv<'_>, digits: usize, what: &'static str) -> Result<String, ParseError> {
    let v = tlv.value;
    if v.len() * 2 != digits || v.iter().all(u8::is_ascii_digit) {
        return text(tlv, what);
    }
    let mut out = String::with_capacity(digits);
    for (i, &b) in v.iter().enumerate() {
        for nibble in [b >> 4, b & 0x0F] {
            let Some(c) = char::from_digit(u32::from(nibble), 10) else {
                return Err(ParseError::new(
                    what,
                    tlv.value_offset() + i,
                    ParseErrorKind::Invalid("date is neither digits nor BCD"),
                ));
            };
            out.push(c);
        }
    }
    Ok(out)
}

/// A small unsigned big-endian number of 1 to 4 bytes (counts such as DG2's `02`).
fn small_number(tlv: &Tlv<'_>, what: &'static str) -> Result<u32, ParseError> {
    if tlv.value.is_empty() || tlv.value.len() > 4 {
        return Err(tlv.error(what, ParseErrorKind::Invalid("count is not 1 to 4 bytes")));
    }
    Ok(tlv
        .value
        .iter()
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}

/// Reads a count template `{ 02 count, item_tag item... }` (DG11 other names,
/// DG12 other persons; 9303-10 §4.7.11 and §4.7.12). The count must match.
fn counted_texts(
    template: &Tlv<'_>,
    item_tag: u32,
    what: &'static str,
) -> Result<Vec<String>, ParseError> {
    let mut r = template.reader();
    let count = tlv::read_expected(&mut r, 0x02, what)?;
    let expected = small_number(&count, what)?;
    let mut items = Vec::new();
    while !r.is_empty() {
        let item = tlv::read_expected(&mut r, item_tag, what)?;
        items.push(text(&item, what)?);
    }
    if u32::try_from(items.len()).ok() != Some(expected) {
        return Err(count.error(
            what,
            ParseErrorKind::Invalid("count does not match the items"),
        ));
    }
    Ok(items)
}

#[cfg(test)]
mod tests;
