//! Format 2 of the signed bytes: personal fields committed to by a salted
//! digest, so that they can be purged after the central system has the
//! record while the signature, the hash chain and every other field still
//! verify.
//!
//! # Personal part
//!
//! | item | encoding |
//! |---|---|
//! | magic | the 8 bytes `ASLPP\0\0\x01` |
//! | salt | 16 random bytes, made by the store for each record |
//! | document number, primary identifier, secondary identifier, birth date, sex, expiry date | strings (u32 big-endian length, then UTF-8) |
//!
//! The **personal digest** is SHA-256 of these bytes. The salt keeps the
//! digest from being guessed from a list of document numbers and names; it
//! is purged together with the fields.
//!
//! # Signed bytes, format 2
//!
//! `ASLPR\0\0\x02`, then the format 1 encoding (see [`crate::store::record`])
//! from the sequence number onwards, with the six personal fields encoded as
//! empty strings, then the 32-byte personal digest. The document type,
//! issuing state and nationality stay in the signed bytes (they are the
//! non-identifying statistics the unit keeps after purging).
//!
//! Format 1 records (written before schema version 2) sign the personal
//! fields directly; they verify as before and are never purged.

use sha2::{Digest, Sha256};

use crate::store::StoreError;
use crate::store::record::{
    Biometrics, CANONICAL_MAGIC, Decision, Direction, DocumentFields, LaneRef, PassageRecord,
    RecordId, VerdictSummary,
};

/// Magic of format 2 signed bytes.
pub(crate) const CANONICAL_MAGIC_V2: [u8; 8] = *b"ASLPR\0\0\x02";

/// Magic of the personal part.
pub(crate) const PERSONAL_MAGIC: [u8; 8] = *b"ASLPP\0\0\x01";

/// Longest signed or personal encoding accepted by the decoder.
pub(crate) const MAX_ENCODED_BYTES: usize = 64 * 1024;

/// The six personal fields, in encoding order.
pub(crate) fn personal_fields(doc: &DocumentFields) -> [&String; 6] {
    [
        &doc.document_number,
        &doc.primary_identifier,
        &doc.secondary_identifier,
        &doc.birth_date,
        &doc.sex,
        &doc.expiry_date,
    ]
}

/// The six personal fields, mutable, in encoding order.
fn personal_fields_mut(doc: &mut DocumentFields) -> [&mut String; 6] {
    [
        &mut doc.document_number,
        &mut doc.primary_identifier,
        &mut doc.secondary_identifier,
        &mut doc.birth_date,
        &mut doc.sex,
        &mut doc.expiry_date,
    ]
}

/// Names of the personal columns of `passage`, in encoding order.
pub(crate) const PERSONAL_COLUMNS: [&str; 6] = [
    "document_number",
    "primary_identifier",
    "secondary_identifier",
    "birth_date",
    "sex",
    "expiry_date",
];

/// A fresh random salt.
pub(crate) fn random_salt() -> Result<[u8; 16], StoreError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(StoreError::Random)?;
    Ok(salt)
}

/// The personal part of `doc` under `salt` (see the module documentation).
pub(crate) fn personal_bytes(doc: &DocumentFields, salt: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(&PERSONAL_MAGIC);
    out.extend_from_slice(salt);
    for field in personal_fields(doc) {
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

/// SHA-256 of a personal part.
pub fn personal_digest(personal: &[u8]) -> [u8; 32] {
    Sha256::digest(personal).into()
}

/// The record with its six personal fields emptied.
pub(crate) fn redacted(record: &PassageRecord) -> PassageRecord {
    let mut out = record.clone();
    for field in personal_fields_mut(&mut out.document) {
        field.clear();
    }
    out
}

/// Format 2 signed bytes of `record` at `seq` after `prev_hash`, committing
/// to the personal part by `digest`. The personal fields of `record` are
/// ignored (a purged record has none).
pub(crate) fn canonical_v2(
    record: &PassageRecord,
    seq: u64,
    prev_hash: &[u8; 32],
    digest: &[u8; 32],
) -> Vec<u8> {
    let mut out = redacted(record).canonical_bytes(seq, prev_hash);
    out[..8].copy_from_slice(&CANONICAL_MAGIC_V2);
    out.extend_from_slice(digest);
    out
}

/// Why signed or personal bytes could not be decoded. Whoever sent them is at
/// fault (a receiver answers `malformed`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes end before `what`.
    #[error("truncated at {what} (offset {offset})")]
    Truncated {
        /// The item being read.
        what: &'static str,
        /// Where the bytes ran out.
        offset: usize,
    },
    /// `what` holds a value the format does not allow.
    #[error("invalid {what} at offset {offset}")]
    Invalid {
        /// The item being read.
        what: &'static str,
        /// Where it starts.
        offset: usize,
    },
    /// Bytes remain after the last item.
    #[error("{0} trailing bytes")]
    TrailingData(usize),
    /// The bytes decode, but are not how the unit encodes that record
    /// (e.g. a failed validation), so they cannot be what it signed.
    #[error("not the canonical encoding of the record")]
    NotCanonical,
    /// Longer than any record the unit writes.
    #[error("{0} bytes is longer than any record")]
    TooLong(usize),
}

/// A passage record decoded from its signed bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRecord {
    /// Format of the signed bytes: 1 (personal fields signed directly) or
    /// 2 (personal fields committed to by [`SignedRecord::personal_digest`]).
    pub format: u8,
    /// Position in the unit's chain.
    pub seq: u64,
    /// Hash of the record before it (zeros for the first).
    pub prev_hash: [u8; 32],
    /// The record; in format 2 its six personal fields are empty until
    /// [`PersonalPart::fill`] puts them back.
    pub record: PassageRecord,
    /// Format 2: SHA-256 of the personal part.
    pub personal_digest: Option<[u8; 32]>,
}

/// The personal part of a format 2 record, decoded.
///
/// `Debug` shows no field.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonalPart {
    salt: [u8; 16],
    fields: [String; 6],
}

impl std::fmt::Debug for PersonalPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonalPart").finish_non_exhaustive()
    }
}

impl PersonalPart {
    /// Puts the personal fields into `record`.
    pub fn fill(&self, record: &mut PassageRecord) {
        for (slot, value) in personal_fields_mut(&mut record.document)
            .into_iter()
            .zip(&self.fields)
        {
            slot.clone_from(value);
        }
    }

    /// The salt.
    pub fn salt(&self) -> &[u8; 16] {
        &self.salt
    }
}

/// Decodes a personal part (format 2), checking it is canonical.
///
/// # Errors
/// [`DecodeError`] naming what is wrong.
pub fn decode_personal(bytes: &[u8]) -> Result<PersonalPart, DecodeError> {
    if bytes.len() > MAX_ENCODED_BYTES {
        return Err(DecodeError::TooLong(bytes.len()));
    }
    let mut r = Reader::new(bytes);
    if r.array::<8>("magic")? != PERSONAL_MAGIC {
        return Err(DecodeError::Invalid {
            what: "magic",
            offset: 0,
        });
    }
    let salt = r.array::<16>("salt")?;
    let fields = [
        r.string("document_number")?,
        r.string("primary_identifier")?,
        r.string("secondary_identifier")?,
        r.string("birth_date")?,
        r.string("sex")?,
        r.string("expiry_date")?,
    ];
    r.finish()?;
    Ok(PersonalPart { salt, fields })
}

/// Decodes signed bytes of either format and checks that re-encoding the
/// result gives the same bytes and that the record passes the store's
/// validation. Says nothing about the signature: verify that first.
///
/// # Errors
/// [`DecodeError`] naming what is wrong.
pub fn decode_signed(bytes: &[u8]) -> Result<SignedRecord, DecodeError> {
    if bytes.len() > MAX_ENCODED_BYTES {
        return Err(DecodeError::TooLong(bytes.len()));
    }
    let mut r = Reader::new(bytes);
    let magic = r.array::<8>("magic")?;
    let format = if magic == CANONICAL_MAGIC {
        1
    } else if magic == CANONICAL_MAGIC_V2 {
        2
    } else {
        return Err(DecodeError::Invalid {
            what: "magic",
            offset: 0,
        });
    };
    let seq = r.u64("seq")?;
    let prev_hash = r.array::<32>("prev_hash")?;
    let id = RecordId::from_bytes(r.array::<16>("record_id")?);
    let time_unix_ms = i64::from_be_bytes(r.array::<8>("time")?);
    let lane = LaneRef {
        site: r.string("site")?,
        terminal: r.string("terminal")?,
        lane: r.string("lane")?,
    };
    let direction = match r.u8("direction")? {
        1 => Direction::Arrival,
        2 => Direction::Departure,
        _ => return Err(r.invalid("direction", 1)),
    };
    let decision = match r.u8("decision")? {
        1 => Decision::Approved,
        2 => Decision::Referred,
        3 => Decision::Redirected,
        4 => Decision::Refused,
        _ => return Err(r.invalid("decision", 1)),
    };
    let reason_codes = r.list("reason_codes")?;
    let document = DocumentFields {
        document_type: r.string("document_type")?,
        issuing_state: r.string("issuing_state")?,
        document_number: r.string("document_number")?,
        nationality: r.string("nationality")?,
        primary_identifier: r.string("primary_identifier")?,
        secondary_identifier: r.string("secondary_identifier")?,
        birth_date: r.string("birth_date")?,
        sex: r.string("sex")?,
        expiry_date: r.string("expiry_date")?,
    };
    let genuine = match r.u8("genuine")? {
        0 => false,
        1 => true,
        _ => return Err(r.invalid("genuine", 1)),
    };
    let failed_checks = r.list("failed_checks")?;
    let permitted_stay_days = match r.u8("permitted_stay")? {
        0 => None,
        1 => Some(u32::from_be_bytes(r.array::<4>("permitted_stay")?)),
        _ => return Err(r.invalid("permitted_stay", 1)),
    };
    let biometrics = match r.u8("biometrics")? {
        0 => Biometrics::NotConfigured,
        1 => Biometrics::FaceMatch {
            score: u16::from_be_bytes(r.array::<2>("bio_score")?),
            threshold: u16::from_be_bytes(r.array::<2>("bio_threshold")?),
            matched: match r.u8("bio_matched")? {
                0 => false,
                1 => true,
                _ => return Err(r.invalid("bio_matched", 1)),
            },
        },
        2 => Biometrics::NoUsableCapture {
            tries: r.u8("bio_tries")?,
        },
        3 => Biometrics::Skipped,
        4 => Biometrics::UnitFault,
        5 => Biometrics::NoReference,
        _ => return Err(r.invalid("biometrics", 1)),
    };
    let personal_digest = if format == 2 {
        Some(r.array::<32>("personal_digest")?)
    } else {
        None
    };
    r.finish()?;
    let record = PassageRecord {
        id,
        time_unix_ms,
        lane,
        direction,
        decision,
        reason_codes,
        document,
        verdict: VerdictSummary {
            genuine,
            failed_checks,
        },
        permitted_stay_days,
        biometrics,
    };
    record.validate().map_err(|_| DecodeError::NotCanonical)?;
    let again = match personal_digest {
        None => record.canonical_bytes(seq, &prev_hash),
        Some(digest) => {
            if personal_fields(&record.document)
                .iter()
                .any(|f| !f.is_empty())
            {
                return Err(DecodeError::NotCanonical);
            }
            canonical_v2(&record, seq, &prev_hash, &digest)
        }
    };
    if again != bytes {
        return Err(DecodeError::NotCanonical);
    }
    Ok(SignedRecord {
        format,
        seq,
        prev_hash,
        record,
        personal_digest,
    })
}

/// A cursor over untrusted bytes.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, offset: 0 }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let rest = self.bytes.get(self.offset..).unwrap_or(&[]);
        let (head, _) = rest.split_at_checked(n).ok_or(DecodeError::Truncated {
            what,
            offset: self.offset,
        })?;
        self.offset += n;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let offset = self.offset;
        self.take(N, what)?
            .try_into()
            .map_err(|_| DecodeError::Truncated { what, offset })
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array::<4>(what)?))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array::<8>(what)?))
    }

    pub(crate) fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let len = usize::try_from(self.u32(what)?).unwrap_or(usize::MAX);
        let start = self.offset;
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::Invalid {
            what,
            offset: start,
        })
    }

    fn list(&mut self, what: &'static str) -> Result<Vec<String>, DecodeError> {
        let count = self.u32(what)?;
        // Each element takes at least its 4-byte length: bound before allocating.
        let remaining = self.bytes.len().saturating_sub(self.offset);
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        if count > remaining / 4 {
            return Err(DecodeError::Truncated {
                what,
                offset: self.offset,
            });
        }
        (0..count).map(|_| self.string(what)).collect()
    }

    /// An invalid value of `len` bytes just read.
    pub(crate) fn invalid(&self, what: &'static str, len: usize) -> DecodeError {
        DecodeError::Invalid {
            what,
            offset: self.offset.saturating_sub(len),
        }
    }

    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.bytes.len().saturating_sub(self.offset) {
            0 => Ok(()),
            n => Err(DecodeError::TrailingData(n)),
        }
    }
}

/// The columns after [`crate::store::chain::COLUMNS`] that say how a row is sealed.
pub(crate) const SEAL_COLUMNS: &str = "format, personal_salt, personal_digest";

/// How a stored row commits to its personal fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seal {
    /// Format 1: the personal fields are in the signed bytes.
    V1,
    /// Format 2: the signed bytes hold `digest`; `salt` is `None` once purged.
    V2 {
        /// The salt of the personal part, until purged.
        salt: Option<[u8; 16]>,
        /// The personal digest as stored.
        digest: [u8; 32],
    },
}

/// Reads the [`SEAL_COLUMNS`] starting at column `first`. `Err(column)`
/// names a column that does not hold what the schema promises.
pub(crate) fn seal_from_row(row: &rusqlite::Row<'_>, first: usize) -> Result<Seal, &'static str> {
    let format: i64 = row.get(first).map_err(|_| "format")?;
    let salt: Option<Vec<u8>> = row.get(first + 1).map_err(|_| "personal_salt")?;
    let digest: Option<Vec<u8>> = row.get(first + 2).map_err(|_| "personal_digest")?;
    match (format, salt, digest) {
        (1, None, None) => Ok(Seal::V1),
        (1, Some(_), _) => Err("personal_salt"),
        (1, _, Some(_)) => Err("personal_digest"),
        (2, salt, Some(digest)) => Ok(Seal::V2 {
            salt: match salt {
                None => None,
                Some(s) => Some(s.try_into().map_err(|_| "personal_salt")?),
            },
            digest: digest.try_into().map_err(|_| "personal_digest")?,
        }),
        (2, _, None) => Err("personal_digest"),
        _ => Err("format"),
    }
}

/// Writes the seal columns of the row at `seq`.
pub(crate) fn write_seal(
    conn: &rusqlite::Connection,
    seq: i64,
    seal: &Seal,
) -> Result<(), rusqlite::Error> {
    let (format, salt, digest) = match seal {
        Seal::V1 => (1, None, None),
        Seal::V2 { salt, digest } => (2, salt.map(|s| s.to_vec()), Some(digest.to_vec())),
    };
    conn.prepare_cached(
        "UPDATE passage SET format = ?2, personal_salt = ?3, personal_digest = ?4 WHERE seq = ?1",
    )?
    .execute((seq, format, salt, digest))?;
    Ok(())
}

/// A stored row made into what was signed.
pub(crate) struct Resealed {
    /// The signed bytes, rebuilt from the row.
    pub(crate) signed: Vec<u8>,
    /// Format 2 before purging: the personal part rebuilt from the row.
    pub(crate) personal: Option<Vec<u8>>,
    /// Format 2 before purging: whether the stored digest is that of the
    /// rebuilt personal part (always true otherwise).
    pub(crate) digest_matches: bool,
}

/// Rebuilds the signed bytes (and the personal part) of a row.
/// `Err(column)` for a purged row that still holds personal data.
pub(crate) fn reseal(
    stored: &crate::store::StoredRecord,
    seal: &Seal,
) -> Result<Resealed, &'static str> {
    let record = &stored.record;
    match seal {
        Seal::V1 => Ok(Resealed {
            signed: record.canonical_bytes(stored.seq, &stored.prev_hash),
            personal: None,
            digest_matches: true,
        }),
        Seal::V2 {
            salt: Some(salt),
            digest,
        } => {
            let personal = personal_bytes(&record.document, salt);
            let rebuilt = personal_digest(&personal);
            Ok(Resealed {
                signed: canonical_v2(record, stored.seq, &stored.prev_hash, &rebuilt),
                personal: Some(personal),
                digest_matches: rebuilt == *digest,
            })
        }
        Seal::V2 { salt: None, digest } => {
            let fields = personal_fields(&record.document);
            if let Some(i) = fields.iter().position(|f| !f.is_empty()) {
                return Err(PERSONAL_COLUMNS[i]);
            }
            Ok(Resealed {
                signed: canonical_v2(record, stored.seq, &stored.prev_hash, digest),
                personal: None,
                digest_matches: true,
            })
        }
    }
}
