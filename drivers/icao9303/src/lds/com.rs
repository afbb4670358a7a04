//! EF.COM, the common data of the LDS1 application (9303-10 §4.6.1).
//!
//! ```text
//! 60 L                      EF.COM
//!    5F01 04 "0107"         LDS version: major, minor (2 digits each)
//!    5F36 06 "040000"       Unicode version: major, minor, release (2 digits each)
//!    5C   L  61 75 ...      tag list: the tags of the data groups present
//! ```

use crate::error::{ParseError, ParseErrorKind};
use crate::tlv::{self, Tlv};

use super::{DataGroup, set_once, text};

/// The parsed EF.COM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Com {
    /// LDS version, 4 digits `aabb` for version aa.bb (e.g. `"0107"`).
    pub lds_version: String,
    /// Unicode version, 6 digits `aabbcc` (e.g. `"040000"`).
    pub unicode_version: String,
    /// The data groups listed in the tag list, in the order listed.
    pub data_groups: Vec<DataGroup>,
    /// Tags in the tag list that name no data group (kept, not an error).
    pub unknown_tags: Vec<u32>,
}

/// EF.COM's tag.
const TAG: u32 = 0x60;
/// LDS version number.
const TAG_LDS_VERSION: u32 = 0x5F01;
/// Unicode version number.
const TAG_UNICODE_VERSION: u32 = 0x5F36;
/// Tag list.
const TAG_LIST: u32 = 0x5C;

impl Com {
    /// Parses EF.COM (the whole file, tag `60`).
    ///
    /// # Errors
    /// A [`ParseError`]: malformed TLV, wrong outer tag, trailing bytes, a
    /// missing or repeated version or tag list, or versions that are not 4 and
    /// 6 ASCII digits.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let com = tlv::parse_single_named(bytes, TAG, "EF.COM")?;
        let (mut lds, mut unicode, mut list) = (None, None, None);
        for child in com.children() {
            let child = child?;
            match child.tag {
                TAG_LDS_VERSION => set_once(&mut lds, child, "EF.COM LDS version")?,
                TAG_UNICODE_VERSION => set_once(&mut unicode, child, "EF.COM Unicode version")?,
                TAG_LIST => set_once(&mut list, child, "EF.COM tag list")?,
                _ => {}
            }
        }
        let missing = |what| com.error(what, ParseErrorKind::Missing(what));
        let lds = lds.ok_or_else(|| missing("EF.COM LDS version"))?;
        let unicode = unicode.ok_or_else(|| missing("EF.COM Unicode version"))?;
        let list = list.ok_or_else(|| missing("EF.COM tag list"))?;

        let mut data_groups = Vec::new();
        let mut unknown_tags = Vec::new();
        for tag in tlv::read_tag_list(&mut list.reader())? {
            match DataGroup::from_tag(tag) {
                Some(dg) => data_groups.push(dg),
                None => unknown_tags.push(tag),
            }
        }
        Ok(Com {
            lds_version: digits(&lds, 4, "EF.COM LDS version")?,
            unicode_version: digits(&unicode, 6, "EF.COM Unicode version")?,
            data_groups,
            unknown_tags,
        })
    }

    /// Whether the tag list names `dg`.
    pub fn contains(&self, dg: DataGroup) -> bool {
        self.data_groups.contains(&dg)
    }

    /// Encodes EF.COM: versions, then the tag list (data groups, then unknown tags).
    ///
    /// # Panics
    /// Only for absurd sizes (see [`tlv::encode_length`]).
    pub fn encode(&self) -> Vec<u8> {
        let mut list = Vec::new();
        for tag in self
            .data_groups
            .iter()
            .map(|dg| dg.tag())
            .chain(self.unknown_tags.iter().copied())
        {
            tlv::encode_tag(tag, &mut list);
        }
        tlv::encode_constructed(
            TAG,
            &[
                tlv::encode(TAG_LDS_VERSION, self.lds_version.as_bytes()),
                tlv::encode(TAG_UNICODE_VERSION, self.unicode_version.as_bytes()),
                tlv::encode(TAG_LIST, &list),
            ],
        )
    }
}

/// The value as exactly `n` ASCII digits.
fn digits(tlv: &Tlv<'_>, n: usize, what: &'static str) -> Result<String, ParseError> {
    if tlv.value.len() != n || !tlv.value.iter().all(u8::is_ascii_digit) {
        return Err(tlv.error(
            what,
            ParseErrorKind::Invalid("version is not the expected digits"),
        ));
    }
    text(tlv, what)
}
