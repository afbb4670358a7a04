//! Passage records and officer audit entries: what the store keeps, and the
//! canonical byte encoding that is hashed and signed.
//!
//! # Canonical encoding (version 1)
//!
//! The bytes signed for a record are, in this order:
//!
//! | item | encoding |
//! |---|---|
//! | magic | the 8 bytes `ASLPR\0\0\x01` (format version 1) |
//! | sequence number | u64, big-endian |
//! | prev_hash | 32 bytes |
//! | record id | 16 bytes |
//! | time | i64 unix milliseconds UTC, big-endian |
//! | site, terminal, lane | strings |
//! | direction | u8: 1 arrival, 2 departure |
//! | decision | u8: 1 approved, 2 referred, 3 redirected, 4 refused |
//! | reason codes | list of strings |
//! | document type, issuing state, document number, nationality, primary identifier, secondary identifier, birth date, sex, expiry date | strings |
//! | genuine | u8: 0 or 1 |
//! | failed checks | list of strings |
//! | permitted stay | u8 0 (none), or u8 1 then u32 days big-endian |
//! | biometrics | u8: 0 not configured; 1 face match then u16 score, u16 threshold (per mille) and u8 matched; 2 no usable capture then u8 tries; 3 skipped (already referred); 4 face unit fault; 5 no reference image on the chip |
//!
//! A string is its UTF-8 length as u32 big-endian, then the bytes; a list is
//! its element count as u32 big-endian, then each string. Every field has a
//! fixed place and a length, so two different records never share bytes.

use std::fmt;

use crate::store::StoreError;

/// Magic and format version at the start of every canonical encoding.
pub(crate) const CANONICAL_MAGIC: [u8; 8] = *b"ASLPR\0\0\x01";

/// Longest accepted string field, in bytes.
const MAX_FIELD_BYTES: usize = 1024;

/// A random 128-bit record id, shown as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordId([u8; 16]);

impl RecordId {
    /// A fresh id from the operating system's random number generator.
    pub fn random() -> Result<Self, StoreError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(StoreError::Random)?;
        Ok(RecordId(bytes))
    }

    /// The id made of these bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        RecordId(bytes)
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses 32 hex digits (either case); `None` for anything else.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let digits = hex.as_bytes();
        if digits.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let high = char::from(pair[0]).to_digit(16)?;
            let low = char::from(pair[1]).to_digit(16)?;
            *byte = u8::try_from(high * 16 + low).ok()?;
        }
        Some(RecordId(bytes))
    }

    /// The id as 32 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex_lower(&self.0)
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.to_hex())
    }
}

/// Lowercase hex of some bytes.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Which way the traveller crosses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Entering the country.
    Arrival,
    /// Leaving the country.
    Departure,
}

impl Direction {
    /// The stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Arrival => "arrival",
            Direction::Departure => "departure",
        }
    }

    /// The direction with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "arrival" => Some(Direction::Arrival),
            "departure" => Some(Direction::Departure),
            _ => None,
        }
    }

    fn code(self) -> u8 {
        match self {
            Direction::Arrival => 1,
            Direction::Departure => 2,
        }
    }
}

/// What the lane decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Gate opened.
    Approved,
    /// Sent to the supervising officer.
    Referred,
    /// Sent to the manual counter (e.g. not eligible for this lane).
    Redirected,
    /// Refused passage.
    Refused,
}

impl Decision {
    /// The stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Referred => "referred",
            Decision::Redirected => "redirected",
            Decision::Refused => "refused",
        }
    }

    /// The decision with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "approved" => Some(Decision::Approved),
            "referred" => Some(Decision::Referred),
            "redirected" => Some(Decision::Redirected),
            "refused" => Some(Decision::Refused),
            _ => None,
        }
    }

    fn code(self) -> u8 {
        match self {
            Decision::Approved => 1,
            Decision::Referred => 2,
            Decision::Redirected => 3,
            Decision::Refused => 4,
        }
    }
}

/// Where the passage happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneRef {
    /// Site (airport) id.
    pub site: String,
    /// Terminal id.
    pub terminal: String,
    /// Lane id.
    pub lane: String,
}

/// The document fields the central system needs (personal data).
///
/// `Debug` shows only the document type, issuing state and nationality.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentFields {
    /// Document code from the MRZ (`P`, `I`, `PN`...).
    pub document_type: String,
    /// Issuing state, ICAO three-letter code.
    pub issuing_state: String,
    /// Document number.
    pub document_number: String,
    /// Nationality, ICAO three-letter code.
    pub nationality: String,
    /// Primary identifier (surname).
    pub primary_identifier: String,
    /// Secondary identifier (given names).
    pub secondary_identifier: String,
    /// Birth date as read (the store does not interpret it).
    pub birth_date: String,
    /// Sex as read (`M`, `F`, `X` or `<`).
    pub sex: String,
    /// Expiry date as read.
    pub expiry_date: String,
}

impl fmt::Debug for DocumentFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentFields")
            .field("document_type", &self.document_type)
            .field("issuing_state", &self.issuing_state)
            .field("nationality", &self.nationality)
            .finish_non_exhaustive()
    }
}

/// The document verdict, summarised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerdictSummary {
    /// Every authenticity check passed.
    pub genuine: bool,
    /// Stable names of the checks that failed.
    pub failed_checks: Vec<String>,
}

/// Whether and how biometrics were used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Biometrics {
    /// The lane is configured without biometrics.
    NotConfigured,
    /// A live face was compared with the chip's image.
    FaceMatch {
        /// Match score, per mille.
        score: u16,
        /// Threshold in force, per mille.
        threshold: u16,
        /// The score reached the threshold.
        matched: bool,
    },
    /// No usable face capture after this many tries.
    NoUsableCapture {
        /// Captures tried.
        tries: u8,
    },
    /// Required, not attempted: the traveller was already referred or redirected.
    Skipped,
    /// Required, but the face unit failed.
    UnitFault,
    /// Required, but the chip held no usable face image.
    NoReference,
}

/// One traveller's passage, as the lane hands it to the store.
///
/// No face image: the store never keeps one. `Debug` omits names, document
/// number and birth date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassageRecord {
    /// Random id, made by the lane with [`RecordId::random`].
    pub id: RecordId,
    /// When the decision was made, unix milliseconds UTC.
    pub time_unix_ms: i64,
    /// Where.
    pub lane: LaneRef,
    /// Arrival or departure.
    pub direction: Direction,
    /// What the lane decided.
    pub decision: Decision,
    /// Stable reason codes (`[a-z0-9_.:-]`, 1 to 64 characters each).
    pub reason_codes: Vec<String>,
    /// The document.
    pub document: DocumentFields,
    /// The document verdict.
    pub verdict: VerdictSummary,
    /// Permitted stay in days, when the lane computed one.
    pub permitted_stay_days: Option<u32>,
    /// Biometrics used, or not configured.
    pub biometrics: Biometrics,
}

impl PassageRecord {
    /// Checks what the store requires of a record before it is signed.
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        for code in &self.reason_codes {
            check_code("reason_codes", code)?;
        }
        for check in &self.verdict.failed_checks {
            check_code("failed_checks", check)?;
        }
        let strings: [(&'static str, &str); 12] = [
            ("site", &self.lane.site),
            ("terminal", &self.lane.terminal),
            ("lane", &self.lane.lane),
            ("document_type", &self.document.document_type),
            ("issuing_state", &self.document.issuing_state),
            ("document_number", &self.document.document_number),
            ("nationality", &self.document.nationality),
            ("primary_identifier", &self.document.primary_identifier),
            ("secondary_identifier", &self.document.secondary_identifier),
            ("birth_date", &self.document.birth_date),
            ("sex", &self.document.sex),
            ("expiry_date", &self.document.expiry_date),
        ];
        for (field, value) in strings {
            if value.len() > MAX_FIELD_BYTES {
                return Err(StoreError::InvalidRecord {
                    field,
                    problem: "is longer than 1024 bytes",
                });
            }
        }
        Ok(())
    }

    /// The canonical bytes for this record at `seq` after `prev_hash` (see
    /// the module documentation).
    pub(crate) fn canonical_bytes(&self, seq: u64, prev_hash: &[u8; 32]) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(&CANONICAL_MAGIC);
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(prev_hash);
        out.extend_from_slice(self.id.as_bytes());
        out.extend_from_slice(&self.time_unix_ms.to_be_bytes());
        put_str(&mut out, &self.lane.site);
        put_str(&mut out, &self.lane.terminal);
        put_str(&mut out, &self.lane.lane);
        out.push(self.direction.code());
        out.push(self.decision.code());
        put_list(&mut out, &self.reason_codes);
        let doc = &self.document;
        for field in [
            &doc.document_type,
            &doc.issuing_state,
            &doc.document_number,
            &doc.nationality,
            &doc.primary_identifier,
            &doc.secondary_identifier,
            &doc.birth_date,
            &doc.sex,
            &doc.expiry_date,
        ] {
            put_str(&mut out, field);
        }
        out.push(u8::from(self.verdict.genuine));
        put_list(&mut out, &self.verdict.failed_checks);
        match self.permitted_stay_days {
            None => out.push(0),
            Some(days) => {
                out.push(1);
                out.extend_from_slice(&days.to_be_bytes());
            }
        }
        match self.biometrics {
            Biometrics::NotConfigured => out.push(0),
            Biometrics::FaceMatch {
                score,
                threshold,
                matched,
            } => {
                out.push(1);
                out.extend_from_slice(&score.to_be_bytes());
                out.extend_from_slice(&threshold.to_be_bytes());
                out.push(u8::from(matched));
            }
            Biometrics::NoUsableCapture { tries } => {
                out.push(2);
                out.push(tries);
            }
            Biometrics::Skipped => out.push(3),
            Biometrics::UnitFault => out.push(4),
            Biometrics::NoReference => out.push(5),
        }
        out
    }
}

/// Rejects a reason code or check name that is not a stable identifier.
fn check_code(field: &'static str, code: &str) -> Result<(), StoreError> {
    let ok = (1..=64).contains(&code.len())
        && code.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b':' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidRecord {
            field,
            problem: "holds a code that is not 1 to 64 of [a-z0-9_.:-]",
        })
    }
}

/// Appends a length-prefixed string. Lengths were validated to fit in u32.
pub(crate) fn put_str(out: &mut Vec<u8>, value: &str) {
    let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value.as_bytes());
}

/// Appends a counted list of length-prefixed strings.
fn put_list(out: &mut Vec<u8>, values: &[String]) {
    let count = u32::try_from(values.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for value in values {
        put_str(out, value);
    }
}

/// A record as stored: its place in the chain, hashes and signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// The record.
    pub record: PassageRecord,
    /// SHA-256 of the previous record's canonical bytes and signature
    /// (32 zero bytes for the first record).
    pub prev_hash: [u8; 32],
    /// Ed25519 signature over the canonical bytes.
    pub signature: [u8; 64],
    /// SHA-256 of this record's canonical bytes and signature: the next
    /// record's `prev_hash`.
    pub record_hash: [u8; 32],
}

/// An officer's action, for the audit table.
///
/// `Debug` omits the free-text reason.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The officer's id.
    pub officer_id: String,
    /// When, unix milliseconds UTC.
    pub time_unix_ms: i64,
    /// Lane id the action applies to.
    pub lane: String,
    /// Stable action name (`[a-z0-9_.:-]`), e.g. `override_open`.
    pub action: String,
    /// The passage record concerned, if any (must be stored already).
    pub record_id: Option<RecordId>,
    /// The officer's reason, free text.
    pub reason: String,
}

impl AuditEntry {
    /// Checks what the store requires of an audit entry.
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        check_code("action", &self.action)
    }
}

impl fmt::Debug for AuditEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditEntry")
            .field("officer_id", &self.officer_id)
            .field("time_unix_ms", &self.time_unix_ms)
            .field("lane", &self.lane)
            .field("action", &self.action)
            .field("record_id", &self.record_id)
            .finish_non_exhaustive()
    }
}
