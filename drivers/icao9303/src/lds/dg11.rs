//! DG11, additional personal details (9303-10 §4.7.11).
//!
//! ```text
//! 6B L            DG11
//!    5C L         tag list of the elements present (mandatory)
//!    5F0E         full name, primary and secondary identifiers as in the MRZ
//!    A0 { 02 n, 5F0F × n }   other names
//!    5F10         personal number        5F2B  full date of birth (yyyymmdd)
//!    5F11         place of birth         5F42  permanent address
//!    5F12         telephone              5F13  profession
//!    5F14         title                  5F15  personal summary
//!    5F16         proof of citizenship (an image)
//!    5F17         other valid travel document numbers
//!    5F18         custody information
//! ```
//!
//! Fields with several parts separate them with `<`, as 9303 prescribes;
//! they are kept as stored.

use crate::error::{ParseError, ParseErrorKind};
use crate::tlv::{self, Tlv};

use super::{counted_texts, date_text, set_once, text};

/// The parsed DG11. Absent elements are `None` (or empty).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Dg11 {
    /// The tag list (`5C`): the tags the issuer says are present.
    pub tag_list: Vec<u32>,
    /// Full name (`5F0E`).
    pub full_name: Option<String>,
    /// Other names (`A0` template of `5F0F`).
    pub other_names: Vec<String>,
    /// Personal number (`5F10`).
    pub personal_number: Option<String>,
    /// Full date of birth (`5F2B`), `yyyymmdd`.
    pub full_date_of_birth: Option<String>,
    /// Place of birth (`5F11`).
    pub place_of_birth: Option<String>,
    /// Permanent address (`5F42`).
    pub address: Option<String>,
    /// Telephone (`5F12`).
    pub telephone: Option<String>,
    /// Profession (`5F13`).
    pub profession: Option<String>,
    /// Title (`5F14`).
    pub title: Option<String>,
    /// Personal summary (`5F15`).
    pub personal_summary: Option<String>,
    /// Proof of citizenship (`5F16`): an image, kept as bytes.
    pub proof_of_citizenship: Option<Vec<u8>>,
    /// Other valid travel document numbers (`5F17`).
    pub other_valid_td_numbers: Option<String>,
    /// Custody information (`5F18`).
    pub custody_information: Option<String>,
}

/// DG11's tag.
const TAG: u32 = 0x6B;

impl Dg11 {
    /// Parses DG11 (the whole file, tag `6B`).
    ///
    /// # Errors
    /// A [`ParseError`]: malformed TLV, wrong outer tag, trailing bytes, no
    /// tag list, a repeated element, text that is not UTF-8, an other-names
    /// count that differs from the names present.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let dg = tlv::parse_single_named(bytes, TAG, "DG11")?;
        let mut tag_list = None;
        let mut other_names = Vec::new();
        let [
            mut full_name,
            mut personal_number,
            mut date_of_birth,
            mut place_of_birth,
            mut address,
            mut telephone,
            mut profession,
            mut title,
            mut summary,
            mut citizenship,
            mut td_numbers,
            mut custody,
        ]: [Option<Tlv<'_>>; 12] = Default::default();
        for child in dg.children() {
            let child = child?;
            match child.tag {
                0x5C => set_once(&mut tag_list, child, "DG11 tag list")?,
                0x5F0E => set_once(&mut full_name, child, "DG11 full name")?,
                0xA0 => other_names.extend(counted_texts(&child, 0x5F0F, "DG11 other names")?),
                // Some issuers put other names directly in DG11, without A0.
                0x5F0F => other_names.push(text(&child, "DG11 other name")?),
                0x5F10 => set_once(&mut personal_number, child, "DG11 personal number")?,
                0x5F2B => set_once(&mut date_of_birth, child, "DG11 full date of birth")?,
                0x5F11 => set_once(&mut place_of_birth, child, "DG11 place of birth")?,
                0x5F42 => set_once(&mut address, child, "DG11 address")?,
                0x5F12 => set_once(&mut telephone, child, "DG11 telephone")?,
                0x5F13 => set_once(&mut profession, child, "DG11 profession")?,
                0x5F14 => set_once(&mut title, child, "DG11 title")?,
                0x5F15 => set_once(&mut summary, child, "DG11 personal summary")?,
                0x5F16 => set_once(&mut citizenship, child, "DG11 proof of citizenship")?,
                0x5F17 => set_once(&mut td_numbers, child, "DG11 other TD numbers")?,
                0x5F18 => set_once(&mut custody, child, "DG11 custody information")?,
                _ => {}
            }
        }
        let tag_list = tag_list
            .ok_or_else(|| dg.error("DG11 tag list", ParseErrorKind::Missing("DG11 tag list")))?;
        let opt = |t: Option<Tlv<'_>>, what| t.map(|t| text(&t, what)).transpose();
        Ok(Dg11 {
            tag_list: tlv::read_tag_list(&mut tag_list.reader())?,
            full_name: opt(full_name, "DG11 full name")?,
            other_names,
            personal_number: opt(personal_number, "DG11 personal number")?,
            full_date_of_birth: date_of_birth
                .map(|t| date_text(&t, 8, "DG11 full date of birth"))
                .transpose()?,
            place_of_birth: opt(place_of_birth, "DG11 place of birth")?,
            address: opt(address, "DG11 address")?,
            telephone: opt(telephone, "DG11 telephone")?,
            profession: opt(profession, "DG11 profession")?,
            title: opt(title, "DG11 title")?,
            personal_summary: opt(summary, "DG11 personal summary")?,
            proof_of_citizenship: citizenship.map(|t| t.value.to_vec()),
            other_valid_td_numbers: opt(td_numbers, "DG11 other TD numbers")?,
            custody_information: opt(custody, "DG11 custody information")?,
        })
    }
}

impl std::fmt::Debug for Dg11 {
    /// Personal data: only the type is shown, so it cannot reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dg11").finish_non_exhaustive()
    }
}
