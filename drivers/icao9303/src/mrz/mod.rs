//! Machine readable zone: TD1, TD2, TD3, MRV-A and MRV-B (9303 parts 3, 4, 5, 6, 7).
//!
//! [`parse`] takes the MRZ text as an OCR engine or a keyboard wedge delivers
//! it (2 or 3 lines, `\n` or `\r\n`, surrounding whitespace ignored), works out
//! the layout, verifies every check digit and returns an [`Mrz`] or an
//! [`MrzError`] naming the check that failed.
//!
//! [`Mode::Strict`] (the default) takes the characters as read.
//! [`Mode::Repair`] may undo the OCR confusions `O`/`0`, `I`/`1`, `B`/`8`,
//! `S`/`5` and `Z`/`2`, but only inside a field protected by its own check
//! digit and only when that check digit (and then the composite) validates;
//! every change is listed in [`Mrz::repairs`].
//!
//! Line and column numbers in errors and repairs count from 1, over the
//! non-blank lines after trimming.

use std::fmt;

mod encode;
pub use encode::{EncodeError, Td3Fields, encode_td3};

/// The layout of an MRZ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// ID-1 card, 3 lines of 30 (9303 part 5).
    Td1,
    /// ID-2 card, 2 lines of 36 (9303 part 6).
    Td2,
    /// Passport book, 2 lines of 44 (9303 part 4).
    Td3,
    /// Full-size visa, 2 lines of 44 (9303 part 7).
    MrvA,
    /// Small visa, 2 lines of 36 (9303 part 7).
    MrvB,
}

/// A parsed, checked MRZ.
///
/// Its `Debug` output leaves out every personal field, so an `Mrz` in a log
/// line says which document kind it is and nothing about its holder.
#[derive(Clone, PartialEq, Eq)]
pub struct Mrz {
    /// Layout.
    pub format: Format,
    /// Document code, fillers removed ("P", "I", "ID", "V", ...).
    pub document_type: String,
    /// Issuing state or organisation (3 letters, or "D" for Germany).
    pub issuing_state: String,
    /// Primary identifier (surname), fillers replaced by spaces.
    pub primary_identifier: String,
    /// Secondary identifier (given names), space-separated.
    pub secondary_identifier: String,
    /// Full document number, overflow included, trailing fillers removed.
    pub document_number: String,
    /// Nationality (3 letters, or "D").
    pub nationality: String,
    /// Date of birth YYMMDD as printed, `<` kept for unknown parts.
    pub birth_date: String,
    /// Sex as printed: `F`, `M`, `<` or `X`.
    pub sex: char,
    /// Date of expiry YYMMDD.
    pub expiry_date: String,
    /// Optional data (TD3 personal number, TD1/TD2 optional data without overflow), trimmed.
    pub optional_data: String,
    /// TD1 line 2 optional data, trimmed.
    pub optional_data_2: Option<String>,
    /// Things that parsed but deserve a look (e.g. repaired characters).
    pub warnings: Vec<String>,
    /// Characters changed by [`Mode::Repair`], in the order they were made (empty in strict mode).
    pub repairs: Vec<Repair>,
}

/// How strictly to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Every check digit must hold as read.
    #[default]
    Strict,
    /// Fix OCR confusions where the field's check digit then validates.
    Repair,
}

/// A field of the MRZ, as named in errors and repairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// Document code (line 1, positions 1-2).
    DocumentCode,
    /// Issuing state or organisation.
    IssuingState,
    /// Name of the holder.
    Name,
    /// Document number (with its overflow, for long TD1/TD2 numbers).
    DocumentNumber,
    /// Nationality.
    Nationality,
    /// Date of birth.
    BirthDate,
    /// Sex.
    Sex,
    /// Date of expiry.
    ExpiryDate,
    /// Optional data (TD1 line 1, TD2, MRV).
    OptionalData,
    /// Optional data of TD1 line 2.
    OptionalData2,
    /// TD3 personal number.
    PersonalNumber,
    /// The composite check digit over several fields (TD1, TD2, TD3).
    Composite,
}

/// One character changed by [`Mode::Repair`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repair {
    /// The field the character belongs to.
    pub field: Field,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// The character as read.
    pub from: char,
    /// The character it was taken to be.
    pub to: char,
}

/// What is wrong with a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DateFault {
    /// Not six digits (a birth date may also have `<<` for an unknown year, month or day).
    NotDigits,
    /// Has `<` fillers, which only a birth date may have.
    Unknown,
    /// Month outside 01-12.
    Month,
    /// Day outside 01-31, or past the end of the month.
    Day,
}

/// What kind of state or organisation a nationality or issuing-state code names (9303-3 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeKind {
    /// An ASEAN member state (including Timor-Leste, `TLS`, and its legacy code `TMP`).
    Asean,
    /// Germany, the one-letter code `D`.
    Germany,
    /// `UNO` (United Nations or its officials), `UNA` (a UN specialised agency), `UNK` (Kosovo, UNMIK).
    UnitedNations,
    /// `XXA`: stateless person (1954 convention).
    Stateless,
    /// `XXB` (1951 convention refugee) or `XXC` (other refugee).
    Refugee,
    /// `XXX`: unspecified nationality.
    Unspecified,
    /// `EUE`: European Union.
    EuropeanUnion,
    /// `XPO`: Interpol.
    Interpol,
    /// Any other code of 1 to 3 letters (taken as ISO 3166-1 alpha-3, not checked against the list).
    Other,
    /// Not 1 to 3 uppercase letters.
    Invalid,
}

/// The codes [`CodeKind::Asean`] covers: the ten members of 1999, Timor-Leste (`TLS`, member since 2025) and its legacy code `TMP`.
pub const ASEAN_CODES: [&str; 12] = [
    "BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM", "TLS", "TMP",
];

/// An MRZ that failed a check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MrzError {
    /// No text, or only whitespace.
    #[error("MRZ is empty")]
    Empty,
    /// Wrong number of non-blank lines.
    #[error("MRZ has {found} lines, expected {expected}")]
    LineCount {
        /// Lines found.
        found: usize,
        /// Lines the layout needs.
        expected: usize,
    },
    /// A line of the wrong length.
    #[error("line {line} has {found} characters, expected {expected}")]
    LineLength {
        /// Line, from 1.
        line: usize,
        /// Length the layout needs.
        expected: usize,
        /// Length found (in characters, after trimming).
        found: usize,
    },
    /// A character outside `A-Z`, `0-9` and `<`.
    #[error("line {line} column {column}: {found:?} is not an MRZ character (A-Z, 0-9, <)")]
    InvalidCharacter {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// The character.
        found: char,
    },
    /// A lowercase letter (the MRZ is uppercase).
    #[error("line {line} column {column}: lowercase {found:?}, the MRZ is uppercase")]
    Lowercase {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// The character.
        found: char,
    },
    /// A document code that does not belong to a layout of this shape.
    #[error("document code {code:?} does not fit a {layout} MRZ")]
    UnknownDocumentCode {
        /// The two characters of the document code.
        code: String,
        /// The shape, e.g. "2x44".
        layout: &'static str,
    },
    /// An issuing state or nationality that is not 1 to 3 letters padded with `<`.
    #[error("{field} {code:?} is not a code of 1 to 3 letters")]
    InvalidCode {
        /// [`Field::IssuingState`] or [`Field::Nationality`].
        field: Field,
        /// The three characters as read.
        code: String,
    },
    /// A name with a character other than a letter or `<`.
    #[error("name has {found:?} at line {line} column {column}, names are letters and <")]
    InvalidName {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// The character.
        found: char,
    },
    /// A mandatory field holds only fillers.
    #[error("{field} is empty")]
    MissingField {
        /// The field.
        field: Field,
    },
    /// Sex other than `F`, `M`, `X` or `<`.
    #[error("sex is {found:?}, expected F, M, X or <")]
    InvalidSex {
        /// The character as read.
        found: char,
    },
    /// A date that is not a valid YYMMDD (the message leaves the date out: it is personal data).
    #[error("{field} {fault}")]
    InvalidDate {
        /// [`Field::BirthDate`] or [`Field::ExpiryDate`].
        field: Field,
        /// The six characters as read.
        value: String,
        /// What is wrong.
        fault: DateFault,
    },
    /// A check digit that does not match its field.
    #[error("{field} check digit is {found}, expected {expected}")]
    CheckDigit {
        /// The field (or [`Field::Composite`]).
        field: Field,
        /// The check digit computed from the field as read (or as repaired).
        expected: char,
        /// The check digit as read.
        found: char,
    },
    /// A TD1/TD2 document number marked as long (`<` in its check digit) without a valid overflow.
    #[error(
        "document number check digit is <, but no overflow and check digit follow in the optional data"
    )]
    DocumentNumberOverflow,
    /// [`Mode::Repair`] found more than one way to make a field validate.
    #[error("{field} can be repaired {candidates} ways, refusing to guess")]
    AmbiguousRepair {
        /// The field.
        field: Field,
        /// How many candidates validated.
        candidates: usize,
    },
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/// Parses MRZ text (2 or 3 lines).
///
/// # Errors
/// An [`MrzError`] naming the failed check. In [`Mode::Repair`], a field that
/// cannot be repaired fails with the same error as in strict mode.
pub fn parse(text: &str, mode: Mode) -> Result<Mrz, MrzError> {
    let lines = split_lines(text)?;
    let lines = check_characters(&lines)?;
    let format = detect_format(&lines)?;
    Parser {
        lines,
        mode,
        repairs: Vec::new(),
        warnings: Vec::new(),
    }
    .run(format)
}

/// The 7-3-1 check digit of a field (9303 part 3, section 4.9), or `None` for an invalid character.
///
/// Returns the ASCII digit (`b'0'..=b'9'`); `<` counts 0, `A`-`Z` count 10-35.
#[must_use]
pub fn check_digit(field: &[u8]) -> Option<u8> {
    // 9303-3 §4.9 check digits: weights 7, 3, 1 repeating, sum modulo 10.
    // Reduced at every step so no input length can overflow.
    let mut sum = 0u8;
    for (&c, weight) in field.iter().zip([7u8, 3, 1].into_iter().cycle()) {
        sum = (sum + char_value(c)? * weight) % 10;
    }
    Some(b'0' + sum)
}

/// Whether a nationality or issuing-state code (trailing `<` allowed) is an ASEAN member state.
#[must_use]
pub fn is_asean(code: &str) -> bool {
    code_kind(code) == CodeKind::Asean
}

/// Classifies a nationality or issuing-state code (trailing `<` allowed), 9303-3 §5.
#[must_use]
pub fn code_kind(code: &str) -> CodeKind {
    let code = code.trim_end_matches('<');
    if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return CodeKind::Invalid;
    }
    if ASEAN_CODES.contains(&code) {
        return CodeKind::Asean;
    }
    match code {
        "D" => CodeKind::Germany,
        "UNO" | "UNA" | "UNK" => CodeKind::UnitedNations,
        "XXA" => CodeKind::Stateless,
        "XXB" | "XXC" => CodeKind::Refugee,
        "XXX" => CodeKind::Unspecified,
        "EUE" => CodeKind::EuropeanUnion,
        "XPO" => CodeKind::Interpol,
        _ => CodeKind::Other,
    }
}

impl Mrz {
    /// Whether the holder's nationality is an ASEAN member state.
    #[must_use]
    pub fn nationality_is_asean(&self) -> bool {
        is_asean(&self.nationality)
    }

    /// Whether the issuing state is an ASEAN member state.
    #[must_use]
    pub fn issuing_state_is_asean(&self) -> bool {
        is_asean(&self.issuing_state)
    }

    /// Whether [`Mode::Repair`] changed any character.
    #[must_use]
    pub fn is_repaired(&self) -> bool {
        !self.repairs.is_empty()
    }
}

impl std::str::FromStr for Mrz {
    type Err = MrzError;

    /// Parses in [`Mode::Strict`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s, Mode::Strict)
    }
}

impl Format {
    /// Number of lines.
    #[must_use]
    pub fn lines(self) -> usize {
        match self {
            Format::Td1 => 3,
            Format::Td2 | Format::Td3 | Format::MrvA | Format::MrvB => 2,
        }
    }

    /// Characters per line.
    #[must_use]
    pub fn line_length(self) -> usize {
        match self {
            Format::Td1 => 30,
            Format::Td2 | Format::MrvB => 36,
            Format::Td3 | Format::MrvA => 44,
        }
    }

    /// Whether this is a visa layout (MRV-A or MRV-B).
    #[must_use]
    pub fn is_visa(self) -> bool {
        matches!(self, Format::MrvA | Format::MrvB)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Td1 => "TD1",
            Format::Td2 => "TD2",
            Format::Td3 => "TD3",
            Format::MrvA => "MRV-A",
            Format::MrvB => "MRV-B",
        })
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::DocumentCode => "document code",
            Field::IssuingState => "issuing state",
            Field::Name => "name",
            Field::DocumentNumber => "document number",
            Field::Nationality => "nationality",
            Field::BirthDate => "birth date",
            Field::Sex => "sex",
            Field::ExpiryDate => "expiry date",
            Field::OptionalData => "optional data",
            Field::OptionalData2 => "optional data 2",
            Field::PersonalNumber => "personal number",
            Field::Composite => "composite",
        })
    }
}

impl fmt::Debug for Mrz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mrz")
            .field("format", &self.format)
            .field("document_type", &self.document_type)
            .field("issuing_state", &self.issuing_state)
            .field("repairs", &self.repairs.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for DateFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateFault::NotDigits => "is not a YYMMDD date",
            DateFault::Unknown => "has unknown (<) parts, which only a birth date may have",
            DateFault::Month => "has a month outside 01-12",
            DateFault::Day => "has a day that is not in the month",
        })
    }
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "repaired {}: line {} column {} read as '{}', taken as '{}'",
            self.field, self.line, self.column, self.from, self.to
        )
    }
}

// ---------------------------------------------------------------------------
// Helpers: lines and layout
// ---------------------------------------------------------------------------

/// The filler character.
const FILLER: u8 = b'<';

/// At most this many ambiguous characters are tried in one field (2^10 candidates).
const MAX_REPAIR_POSITIONS: usize = 10;

/// A character position: line and column, both from 0.
type Pos = (usize, usize);

/// A run of characters on one line, positions from 0.
#[derive(Clone, Copy)]
struct Span {
    line: usize,
    start: usize,
    len: usize,
}

const fn span(line: usize, start: usize, len: usize) -> Span {
    Span { line, start, len }
}

impl Span {
    fn positions(self) -> impl Iterator<Item = Pos> {
        (self.start..self.start + self.len).map(move |col| (self.line, col))
    }
}

/// Where the fields of one format sit.
struct Layout {
    name: Span,
    number: Span,
    number_check: Pos,
    nationality: Span,
    birth: Span,
    birth_check: Pos,
    sex: Pos,
    expiry: Span,
    expiry_check: Pos,
    optional: Span,
    /// TD3 personal number check digit.
    optional_check: Option<Pos>,
    /// TD1 line 2 optional data.
    optional_2: Option<Span>,
    /// The spans the composite check digit covers, and where it sits.
    composite: Option<(&'static [Span], Pos)>,
    /// Whether a long document number may continue in the optional data.
    overflow: bool,
}

/// Document code and issuing state sit at the start of line 1 in every format.
const DOCUMENT_CODE: Span = span(0, 0, 2);
const ISSUING_STATE: Span = span(0, 2, 3);

// 9303-5 §4.2.2 TD1 layout: line 1 code, state, number, check, optional data;
// line 2 birth, check, sex, expiry, check, nationality, optional data, composite; line 3 name.
const TD1: Layout = Layout {
    name: span(2, 0, 30),
    number: span(0, 5, 9),
    number_check: (0, 14),
    nationality: span(1, 15, 3),
    birth: span(1, 0, 6),
    birth_check: (1, 6),
    sex: (1, 7),
    expiry: span(1, 8, 6),
    expiry_check: (1, 14),
    optional: span(0, 15, 15),
    optional_check: None,
    optional_2: Some(span(1, 18, 11)),
    // 9303-5 §4.2.2: composite over line 1 positions 6-30, line 2 positions 1-7, 9-15, 19-29.
    composite: Some((
        &[
            span(0, 5, 25),
            span(1, 0, 7),
            span(1, 8, 7),
            span(1, 18, 11),
        ],
        (1, 29),
    )),
    overflow: true,
};

// 9303-6 §4.2.2 TD2 layout: line 1 code, state, name; line 2 number, check,
// nationality, birth, check, sex, expiry, check, optional data, composite.
const TD2: Layout = Layout {
    name: span(0, 5, 31),
    number: span(1, 0, 9),
    number_check: (1, 9),
    nationality: span(1, 10, 3),
    birth: span(1, 13, 6),
    birth_check: (1, 19),
    sex: (1, 20),
    expiry: span(1, 21, 6),
    expiry_check: (1, 27),
    optional: span(1, 28, 7),
    optional_check: None,
    optional_2: None,
    // 9303-6 §4.2.2: composite over line 2 positions 1-10, 14-20, 22-35.
    composite: Some((&[span(1, 0, 10), span(1, 13, 7), span(1, 21, 14)], (1, 35))),
    overflow: true,
};

// 9303-4 §4.2.2 TD3 layout: as TD2 on 44 characters, with a personal number
// and its own check digit before the composite.
const TD3: Layout = Layout {
    name: span(0, 5, 39),
    number: span(1, 0, 9),
    number_check: (1, 9),
    nationality: span(1, 10, 3),
    birth: span(1, 13, 6),
    birth_check: (1, 19),
    sex: (1, 20),
    expiry: span(1, 21, 6),
    expiry_check: (1, 27),
    optional: span(1, 28, 14),
    optional_check: Some((1, 42)),
    optional_2: None,
    // 9303-4 §4.2.2: composite over line 2 positions 1-10, 14-20, 22-43.
    composite: Some((&[span(1, 0, 10), span(1, 13, 7), span(1, 21, 22)], (1, 43))),
    overflow: false,
};

// 9303-7 MRV-A: line 1 as TD3; line 2 as TD3 up to the expiry check digit,
// then 16 characters of optional data; no composite, no overflow.
const MRV_A: Layout = Layout {
    name: span(0, 5, 39),
    number: span(1, 0, 9),
    number_check: (1, 9),
    nationality: span(1, 10, 3),
    birth: span(1, 13, 6),
    birth_check: (1, 19),
    sex: (1, 20),
    expiry: span(1, 21, 6),
    expiry_check: (1, 27),
    optional: span(1, 28, 16),
    optional_check: None,
    optional_2: None,
    composite: None,
    overflow: false,
};

// 9303-7 MRV-B: line 1 as TD2; line 2 as MRV-A on 36 characters (8 of optional data).
const MRV_B: Layout = Layout {
    name: span(0, 5, 31),
    number: span(1, 0, 9),
    number_check: (1, 9),
    nationality: span(1, 10, 3),
    birth: span(1, 13, 6),
    birth_check: (1, 19),
    sex: (1, 20),
    expiry: span(1, 21, 6),
    expiry_check: (1, 27),
    optional: span(1, 28, 8),
    optional_check: None,
    optional_2: None,
    composite: None,
    overflow: false,
};

impl Format {
    fn layout(self) -> &'static Layout {
        match self {
            Format::Td1 => &TD1,
            Format::Td2 => &TD2,
            Format::Td3 => &TD3,
            Format::MrvA => &MRV_A,
            Format::MrvB => &MRV_B,
        }
    }
}

/// Splits into trimmed non-blank lines; errors on none or more than three.
fn split_lines(text: &str) -> Result<Vec<&str>, MrzError> {
    let mut lines = Vec::with_capacity(3);
    let mut count = 0usize;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        count += 1;
        if lines.len() < 3 {
            lines.push(line);
        }
    }
    let Some(first) = lines.first() else {
        return Err(MrzError::Empty);
    };
    if count > 3 {
        let width = nearest_width(first.chars().count(), &[30, 36, 44]);
        return Err(MrzError::LineCount {
            found: count,
            expected: lines_for_width(width),
        });
    }
    Ok(lines)
}

/// Checks the MRZ character set (9303-3: `A-Z`, `0-9` and the filler `<`) and returns the lines as bytes.
fn check_characters(lines: &[&str]) -> Result<Vec<Vec<u8>>, MrzError> {
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        for (j, c) in line.chars().enumerate() {
            match c {
                'A'..='Z' | '0'..='9' | '<' => {}
                'a'..='z' => {
                    return Err(MrzError::Lowercase {
                        line: i + 1,
                        column: j + 1,
                        found: c,
                    });
                }
                _ => {
                    return Err(MrzError::InvalidCharacter {
                        line: i + 1,
                        column: j + 1,
                        found: c,
                    });
                }
            }
        }
        out.push(line.as_bytes().to_vec());
    }
    Ok(out)
}

/// The width in `widths` closest to `len` (the larger on a tie).
fn nearest_width(len: usize, widths: &[usize]) -> usize {
    widths
        .iter()
        .copied()
        .min_by_key(|&w| (w.abs_diff(len), usize::MAX - w))
        .unwrap_or(44)
}

fn lines_for_width(width: usize) -> usize {
    if width == 30 { 3 } else { 2 }
}

/// Works out the format from the shape and the document code.
fn detect_format(lines: &[Vec<u8>]) -> Result<Format, MrzError> {
    let first = lines.first().map_or(&[][..], Vec::as_slice);
    let count = lines.len();
    // The first line's length decides when it is a valid one; otherwise the
    // other lines or the line count give the best guess for the error message.
    let second = lines.get(1).map(Vec::len);
    let width = match (first.len(), count, second) {
        (w @ (36 | 44), _, _) => w,
        // Two lines and a two-line width on line 2: line 1 is the odd one out.
        (_, 2, Some(w @ (36 | 44))) => w,
        (30, _, _) | (_, 3, _) => 30,
        (len, 2, _) => nearest_width(len, &[36, 44]),
        (len, _, _) => nearest_width(len, &[30, 36, 44]),
    };
    let expected = lines_for_width(width);
    if count != expected {
        return Err(MrzError::LineCount {
            found: count,
            expected,
        });
    }
    for (i, line) in lines.iter().enumerate() {
        if line.len() != width {
            return Err(MrzError::LineLength {
                line: i + 1,
                expected: width,
                found: line.len(),
            });
        }
    }
    let code = first.get(..2).unwrap_or(&[]);
    let kind = code.first().copied().unwrap_or(0);
    // 9303-5 and 9303-6 §4.2.2: TD1/TD2 codes start A, C or I; 9303-4: TD3 starts P;
    // 9303-7: visas start V.
    let (format, layout) = match (width, kind) {
        (30, b'A' | b'C' | b'I') => (Some(Format::Td1), "3x30"),
        (30, _) => (None, "3x30"),
        (36, b'V') => (Some(Format::MrvB), "2x36"),
        (36, b'A' | b'C' | b'I') => (Some(Format::Td2), "2x36"),
        (36, _) => (None, "2x36"),
        (_, b'V') => (Some(Format::MrvA), "2x44"),
        (_, b'P') => (Some(Format::Td3), "2x44"),
        (_, _) => (None, "2x44"),
    };
    format.ok_or_else(|| MrzError::UnknownDocumentCode {
        code: text(code),
        layout,
    })
}

// ---------------------------------------------------------------------------
// Helpers: field checks
// ---------------------------------------------------------------------------

/// The MRZ being checked, with the repairs made so far applied to `lines`.
struct Parser {
    lines: Vec<Vec<u8>>,
    mode: Mode,
    repairs: Vec<Repair>,
    warnings: Vec<String>,
}

impl Parser {
    fn run(mut self, format: Format) -> Result<Mrz, MrzError> {
        let layout = format.layout();
        // Fields are checked in the order of TD2/TD3 line 2; the first failure is reported.
        let document_type = trim_fillers(self.slice(DOCUMENT_CODE));
        let issuing_state = self.code(Field::IssuingState, ISSUING_STATE)?;
        let (primary_identifier, secondary_identifier) = self.name(layout.name)?;
        let (number, check, overflow_len) = self.number_positions(layout)?;
        self.alphanumeric(Field::DocumentNumber, &number, check, false)?;
        let nationality = self.code(Field::Nationality, layout.nationality)?;
        self.date(Field::BirthDate, layout.birth, layout.birth_check)?;
        let sex = self.sex(layout.sex)?;
        self.date(Field::ExpiryDate, layout.expiry, layout.expiry_check)?;
        if let Some(check) = layout.optional_check {
            // 9303-4 §4.2.2: the personal number check digit may be < when the field is all fillers.
            let positions: Vec<Pos> = layout.optional.positions().collect();
            self.alphanumeric(Field::PersonalNumber, &positions, check, true)?;
        }
        if let Some((spans, check)) = layout.composite {
            self.composite(spans, check)?;
        }

        // Read the values back from the (possibly repaired) lines.
        let document_number = {
            let bytes: Vec<u8> = number.iter().map(|&p| self.byte(p)).collect();
            text(trim_end_fillers(&bytes))
        };
        let optional = self.slice(layout.optional);
        let optional_data = trim_fillers(optional.get(overflow_len..).unwrap_or(&[]));
        let optional_data_2 = layout.optional_2.map(|s| trim_fillers(self.slice(s)));
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.extend(self.repairs.iter().map(Repair::to_string));
        Ok(Mrz {
            format,
            document_type,
            issuing_state,
            primary_identifier,
            secondary_identifier,
            document_number,
            nationality,
            birth_date: text(self.slice(layout.birth)),
            sex,
            expiry_date: text(self.slice(layout.expiry)),
            optional_data,
            optional_data_2,
            warnings,
            repairs: self.repairs,
        })
    }

    fn byte(&self, (line, col): Pos) -> u8 {
        self.lines
            .get(line)
            .and_then(|l| l.get(col))
            .copied()
            .unwrap_or(0)
    }

    fn slice(&self, s: Span) -> &[u8] {
        self.lines
            .get(s.line)
            .and_then(|l| l.get(s.start..s.start + s.len))
            .unwrap_or(&[])
    }

    fn set(&mut self, field: Field, (line, col): Pos, to: u8) {
        if let Some(b) = self.lines.get_mut(line).and_then(|l| l.get_mut(col)) {
            self.repairs.push(Repair {
                field,
                line: line + 1,
                column: col + 1,
                from: char::from(*b),
                to: char::from(to),
            });
            *b = to;
        }
    }

    /// Issuing state or nationality: 1 to 3 letters padded with `<` (9303-3 §5).
    fn code(&mut self, field: Field, s: Span) -> Result<String, MrzError> {
        let raw = self.slice(s);
        let code = text(trim_end_fillers(raw));
        if code_kind(&code) == CodeKind::Invalid {
            return Err(MrzError::InvalidCode {
                field,
                code: text(raw),
            });
        }
        if code.len() < 3 && code_kind(&code) == CodeKind::Other {
            self.warnings.push(format!(
                "{field} code {code:?} is shorter than three letters"
            ));
        }
        Ok(code)
    }

    /// Primary and secondary identifiers (9303-4 §4.2.2 name field; 9303-5 §4.2.2 line 3).
    fn name(&mut self, s: Span) -> Result<(String, String), MrzError> {
        let raw = self.slice(s);
        if let Some(i) = raw
            .iter()
            .position(|&b| !(b.is_ascii_uppercase() || b == FILLER))
        {
            return Err(MrzError::InvalidName {
                line: s.line + 1,
                column: s.start + i + 1,
                found: char::from(raw.get(i).copied().unwrap_or(0)),
            });
        }
        let name = trim_end_fillers(raw);
        if name.is_empty() {
            return Err(MrzError::MissingField { field: Field::Name });
        }
        let truncated = name.len() == raw.len();
        let (primary, secondary) = match name.windows(2).position(|w| w == b"<<") {
            Some(i) => (
                name.get(..i).unwrap_or(&[]),
                name.get(i + 2..).unwrap_or(&[]),
            ),
            None => (name, &[][..]),
        };
        let (primary, secondary) = (words(primary), words(secondary));
        if primary.is_empty() {
            self.warnings
                .push("name has no primary identifier".to_owned());
        }
        if truncated {
            self.warnings
                .push("name fills its field and may be truncated".to_owned());
        }
        Ok((primary, secondary))
    }

    fn sex(&self, pos: Pos) -> Result<char, MrzError> {
        match self.byte(pos) {
            c @ (b'F' | b'M' | b'X' | FILLER) => Ok(char::from(c)),
            c => Err(MrzError::InvalidSex {
                found: char::from(c),
            }),
        }
    }

    /// The positions of the document number and of its check digit, and how
    /// many characters of the optional data the overflow takes.
    fn number_positions(&self, layout: &Layout) -> Result<(Vec<Pos>, Pos, usize), MrzError> {
        let mut number: Vec<Pos> = layout.number.positions().collect();
        let mut check = layout.number_check;
        let mut overflow_len = 0;
        if layout.overflow && self.byte(check) == FILLER {
            // 9303-5 §4.2.2 and 9303-6 §4.2.2 (notes): a document number longer than
            // 9 characters puts < in the check digit position; the rest of the number
            // and then its check digit (over the full number) open the optional data,
            // ended by a filler.
            let head = self.slice(layout.number);
            let optional = self.slice(layout.optional);
            let len = optional
                .iter()
                .position(|&b| b == FILLER)
                .unwrap_or(optional.len());
            if len < 2 || head.contains(&FILLER) {
                return Err(MrzError::DocumentNumberOverflow);
            }
            let o = layout.optional;
            number.extend((0..len - 1).map(|i| (o.line, o.start + i)));
            check = (o.line, o.start + len - 1);
            overflow_len = (len + 1).min(optional.len());
        }
        if number.iter().all(|&p| self.byte(p) == FILLER) {
            return Err(MrzError::MissingField {
                field: Field::DocumentNumber,
            });
        }
        Ok((number, check, overflow_len))
    }

    /// An alphanumeric field with its own check digit (document number, personal number).
    fn alphanumeric(
        &mut self,
        field: Field,
        positions: &[Pos],
        check: Pos,
        filler_check: bool,
    ) -> Result<(), MrzError> {
        let value: Vec<u8> = positions.iter().map(|&p| self.byte(p)).collect();
        let found = self.byte(check);
        let Err(error) = verify(field, &value, found, filler_check) else {
            return Ok(());
        };
        if self.mode == Mode::Strict {
            return Err(error);
        }
        // A check digit is a digit: an O there can only be a 0.
        let digit = as_digit(found);
        if digit != found && verify(field, &value, digit, filler_check).is_ok() {
            self.set(field, check, digit);
            return Ok(());
        }
        // Otherwise try every way of swapping the confusable characters, and
        // keep the result only if exactly one candidate validates.
        let confusable: Vec<(usize, u8)> = value
            .iter()
            .enumerate()
            .filter_map(|(i, &b)| confusion(b).map(|c| (i, c)))
            .collect();
        if confusable.is_empty() || confusable.len() > MAX_REPAIR_POSITIONS {
            return Err(error);
        }
        let mut hits = Vec::new();
        let mut candidate = value.clone();
        for mask in 1u32..(1 << confusable.len()) {
            for (bit, &(i, swapped)) in confusable.iter().enumerate() {
                let original = value.get(i).copied().unwrap_or(0);
                if let Some(c) = candidate.get_mut(i) {
                    *c = if mask & (1 << bit) != 0 {
                        swapped
                    } else {
                        original
                    };
                }
            }
            if verify(field, &candidate, digit, filler_check).is_ok() {
                hits.push(mask);
            }
        }
        match hits.as_slice() {
            [] => Err(error),
            &[mask] => {
                if digit != found {
                    self.set(field, check, digit);
                }
                for (bit, &(i, swapped)) in confusable.iter().enumerate() {
                    if mask & (1 << bit) != 0
                        && let Some(&pos) = positions.get(i)
                    {
                        self.set(field, pos, swapped);
                    }
                }
                Ok(())
            }
            many => Err(MrzError::AmbiguousRepair {
                field,
                candidates: many.len(),
            }),
        }
    }

    /// A date with its check digit (9303-3 §4.9; dates YYMMDD per 9303-4 §4.2.2).
    fn date(&mut self, field: Field, s: Span, check: Pos) -> Result<(), MrzError> {
        let birth = field == Field::BirthDate;
        let value = self.slice(s).to_vec();
        let found = self.byte(check);
        let Err(error) = check_date(field, &value, found, birth) else {
            return Ok(());
        };
        if self.mode == Mode::Strict {
            return Err(error);
        }
        // A date is digits: every confusable letter in it has one reading.
        let mapped: Vec<u8> = value.iter().map(|&b| as_digit(b)).collect();
        let digit = as_digit(found);
        if (mapped == value && digit == found) || check_date(field, &mapped, digit, birth).is_err()
        {
            return Err(error);
        }
        for (pos, (&from, &to)) in s.positions().zip(value.iter().zip(&mapped)) {
            if from != to {
                self.set(field, pos, to);
            }
        }
        if digit != found {
            self.set(field, check, digit);
        }
        Ok(())
    }

    /// The composite check digit, over the lines as repaired (9303-4/5/6 §4.2.2).
    fn composite(&mut self, spans: &[Span], check: Pos) -> Result<(), MrzError> {
        let value: Vec<u8> = spans
            .iter()
            .flat_map(|&s| self.slice(s).iter().copied())
            .collect();
        let found = self.byte(check);
        let Err(error) = verify(Field::Composite, &value, found, false) else {
            return Ok(());
        };
        let digit = as_digit(found);
        if self.mode == Mode::Repair
            && digit != found
            && verify(Field::Composite, &value, digit, false).is_ok()
        {
            self.set(Field::Composite, check, digit);
            return Ok(());
        }
        Err(error)
    }
}

/// Checks `found` against the check digit of `value`; `filler_check` lets an
/// all-filler field have `<` as its check digit.
fn verify(field: Field, value: &[u8], found: u8, filler_check: bool) -> Result<(), MrzError> {
    let expected = check_digit(value).unwrap_or(b'?');
    if found == expected || (filler_check && found == FILLER && value.iter().all(|&b| b == FILLER))
    {
        return Ok(());
    }
    Err(MrzError::CheckDigit {
        field,
        expected: char::from(expected),
        found: char::from(found),
    })
}

/// Checks a date's form, then its check digit.
fn check_date(field: Field, value: &[u8], found: u8, birth: bool) -> Result<(), MrzError> {
    date_fault(value, birth).map_err(|fault| MrzError::InvalidDate {
        field,
        value: text(value),
        fault,
    })?;
    verify(field, value, found, false)
}

/// Validates YYMMDD; a birth date may have `<<` for an unknown year, month or day.
fn date_fault(value: &[u8], birth: bool) -> Result<(), DateFault> {
    let &[y1, y2, m1, m2, d1, d2] = value else {
        return Err(DateFault::NotDigits);
    };
    let pair = |a: u8, b: u8| -> Result<Option<u8>, DateFault> {
        match (a, b) {
            (FILLER, FILLER) if birth => Ok(None),
            _ if a.is_ascii_digit() && b.is_ascii_digit() => Ok(Some((a - b'0') * 10 + (b - b'0'))),
            _ if !birth && (a == FILLER || b == FILLER) => Err(DateFault::Unknown),
            _ => Err(DateFault::NotDigits),
        }
    };
    pair(y1, y2)?;
    let month = pair(m1, m2)?;
    let day = pair(d1, d2)?;
    let last_day = match month {
        None | Some(1 | 3 | 5 | 7 | 8 | 10 | 12) => 31,
        Some(4 | 6 | 9 | 11) => 30,
        // The century is not in the MRZ, so 29 February is always allowed.
        Some(2) => 29,
        Some(_) => return Err(DateFault::Month),
    };
    match day {
        Some(d) if d == 0 || d > last_day => Err(DateFault::Day),
        _ => Ok(()),
    }
}

/// The value of an MRZ character for the check digit (9303-3 §4.9).
fn char_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'Z' => Some(c - b'A' + 10),
        FILLER => Some(0),
        _ => None,
    }
}

/// The other reading of an OCR-confusable character.
fn confusion(c: u8) -> Option<u8> {
    match c {
        b'O' => Some(b'0'),
        b'0' => Some(b'O'),
        b'I' => Some(b'1'),
        b'1' => Some(b'I'),
        b'B' => Some(b'8'),
        b'8' => Some(b'B'),
        b'S' => Some(b'5'),
        b'5' => Some(b'S'),
        b'Z' => Some(b'2'),
        b'2' => Some(b'Z'),
        _ => None,
    }
}

/// The digit a confusable letter stands for in a numeric position; other characters unchanged.
fn as_digit(c: u8) -> u8 {
    match c {
        b'O' | b'I' | b'B' | b'S' | b'Z' => confusion(c).unwrap_or(c),
        _ => c,
    }
}

/// The name words of an identifier: `<`-separated, joined by single spaces.
fn words(part: &[u8]) -> String {
    part.split(|&b| b == FILLER)
        .filter(|w| !w.is_empty())
        .map(text)
        .collect::<Vec<_>>()
        .join(" ")
}

fn trim_end_fillers(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&b| b != FILLER).map_or(0, |i| i + 1);
    s.get(..end).unwrap_or(&[])
}

fn trim_fillers(s: &[u8]) -> String {
    let s = trim_end_fillers(s);
    let start = s.iter().position(|&b| b != FILLER).unwrap_or(s.len());
    text(s.get(start..).unwrap_or(&[]))
}

/// MRZ bytes (ASCII after [`check_characters`]) as a string.
fn text(s: &[u8]) -> String {
    s.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests;
