//! DG12, additional document details (9303-10 §4.7.12).
//!
//! ```text
//! 6C L            DG12
//!    5C L         tag list of the elements present (mandatory)
//!    5F19         issuing authority            5F26  date of issue (yyyymmdd)
//!    A0 { 02 n, 5F1A × n }   other persons named in the document
//!    5F1B         endorsements and observations
//!    5F1C         tax or exit requirements
//!    5F1D         image of the front           5F1E  image of the rear
//!    5F55         date and time of personalisation (yyyymmddhhmmss)
//!    5F56         serial number of the personalisation system
//! ```

use crate::error::{ParseError, ParseErrorKind};
use crate::tlv::{self, Tlv};

use super::{counted_texts, date_text, set_once, text};

/// The parsed DG12. Absent elements are `None` (or empty).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Dg12 {
    /// The tag list (`5C`): the tags the issuer says are present.
    pub tag_list: Vec<u32>,
    /// Issuing authority (`5F19`).
    pub issuing_authority: Option<String>,
    /// Date of issue (`5F26`), `yyyymmdd`.
    pub date_of_issue: Option<String>,
    /// Other persons named in the document (`A0` template of `5F1A`).
    pub other_persons: Vec<String>,
    /// Endorsements and observations (`5F1B`).
    pub endorsements: Option<String>,
    /// Tax or exit requirements (`5F1C`).
    pub tax_or_exit_requirements: Option<String>,
    /// Image of the front of the document (`5F1D`), as stored.
    pub image_of_front: Option<Vec<u8>>,
    /// Image of the rear of the document (`5F1E`), as stored.
    pub image_of_rear: Option<Vec<u8>>,
    /// Date and time of personalisation (`5F55`), `yyyymmddhhmmss`.
    pub personalisation_time: Option<String>,
    /// Serial number of the personalisation system (`5F56`).
    pub personalisation_device_serial: Option<String>,
}

/// DG12's tag.
const TAG: u32 = 0x6C;

impl Dg12 {
    /// Parses DG12 (the whole file, tag `6C`).
    ///
    /// # Errors
    /// A [`ParseError`]: malformed TLV, wrong outer tag, trailing bytes, no
    /// tag list, a repeated element, text that is not UTF-8, an other-persons
    /// count that differs from the names present.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let dg = tlv::parse_single_named(bytes, TAG, "DG12")?;
        let mut tag_list = None;
        let mut other_persons = Vec::new();
        let [
            mut authority,
            mut date_of_issue,
            mut endorsements,
            mut tax_exit,
            mut front,
            mut rear,
            mut personalised_at,
            mut serial,
        ]: [Option<Tlv<'_>>; 8] = Default::default();
        for child in dg.children() {
            let child = child?;
            match child.tag {
                0x5C => set_once(&mut tag_list, child, "DG12 tag list")?,
                0x5F19 => set_once(&mut authority, child, "DG12 issuing authority")?,
                0x5F26 => set_once(&mut date_of_issue, child, "DG12 date of issue")?,
                0xA0 => {
                    other_persons.extend(counted_texts(&child, 0x5F1A, "DG12 other persons")?);
                }
                // Some issuers put other persons directly in DG12, without A0.
                0x5F1A => other_persons.push(text(&child, "DG12 other person")?),
                0x5F1B => set_once(&mut endorsements, child, "DG12 endorsements")?,
                0x5F1C => set_once(&mut tax_exit, child, "DG12 tax or exit requirements")?,
                0x5F1D => set_once(&mut front, child, "DG12 image of front")?,
                0x5F1E => set_once(&mut rear, child, "DG12 image of rear")?,
                0x5F55 => set_once(&mut personalised_at, child, "DG12 personalisation time")?,
                0x5F56 => set_once(&mut serial, child, "DG12 personalisation system")?,
                _ => {}
            }
        }
        let tag_list = tag_list
            .ok_or_else(|| dg.error("DG12 tag list", ParseErrorKind::Missing("DG12 tag list")))?;
        let opt = |t: Option<Tlv<'_>>, what| t.map(|t| text(&t, what)).transpose();
        let date =
            |t: Option<Tlv<'_>>, digits, what| t.map(|t| date_text(&t, digits, what)).transpose();
        Ok(Dg12 {
            tag_list: tlv::read_tag_list(&mut tag_list.reader())?,
            issuing_authority: opt(authority, "DG12 issuing authority")?,
            date_of_issue: date(date_of_issue, 8, "DG12 date of issue")?,
            other_persons,
            endorsements: opt(endorsements, "DG12 endorsements")?,
            tax_or_exit_requirements: opt(tax_exit, "DG12 tax or exit requirements")?,
            image_of_front: front.map(|t| t.value.to_vec()),
            image_of_rear: rear.map(|t| t.value.to_vec()),
            personalisation_time: date(personalised_at, 14, "DG12 personalisation time")?,
            personalisation_device_serial: opt(serial, "DG12 personalisation system")?,
        })
    }
}

impl std::fmt::Debug for Dg12 {
    /// Personal data: only the type is shown, so it cannot reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dg12").finish_non_exhaustive()
    }
}
