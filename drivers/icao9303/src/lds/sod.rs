//! EF.SOD, the Document Security Object (9303-10 §4.6.2; 9303-12 §6).
//!
//! `77 L <CMS ContentInfo with SignedData>`. Passive Authentication
//! (9303-11 §5.1) decodes the CMS; here only the wrapper is checked.

use crate::error::ParseError;
use crate::tlv;

/// The parsed EF.SOD: the CMS `ContentInfo`, not yet decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Sod {
    /// The value of tag `77`: a DER CMS `ContentInfo` holding `SignedData`.
    pub content_info: Vec<u8>,
}

/// EF.SOD's tag.
const TAG: u32 = 0x77;

impl Sod {
    /// Parses EF.SOD (the whole file, tag `77`), checking only that it is
    /// one well-formed data object.
    ///
    /// # Errors
    /// A [`ParseError`]: malformed TLV, wrong tag, trailing bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let sod = tlv::parse_single_named(bytes, TAG, "EF.SOD")?;
        Ok(Sod {
            content_info: sod.value.to_vec(),
        })
    }

    /// Encodes EF.SOD: `77 L <content_info>`.
    ///
    /// # Panics
    /// Only for absurd sizes (see [`tlv::encode_length`]).
    pub fn encode(&self) -> Vec<u8> {
        tlv::encode(TAG, &self.content_info)
    }
}

impl std::fmt::Debug for Sod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sod")
            .field("content_info_len", &self.content_info.len())
            .finish()
    }
}
