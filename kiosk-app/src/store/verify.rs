//! Walking a store's chain read-only, and naming the first record that is
//! not what the unit signed.

use std::fmt;
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use rusqlite::OpenFlags;

use crate::store::record::hex_lower;
use crate::store::{
    IntegrityCheck, StoreError, chain, integrity_check, open_connection, personal, schema,
};

/// The outcome of [`verify_store`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyReport {
    /// Every record is signed by the key and chained in order.
    Intact {
        /// Records checked.
        records: u64,
        /// Hash of the last record (genesis zeros for an empty store); compare
        /// with the central system's to notice records cut from the end.
        head_hash: [u8; 32],
    },
    /// A record is not what the unit signed.
    Broken {
        /// Records before it that checked out.
        intact_records: u64,
        /// The first bad record.
        first_bad: BadRecord,
    },
}

impl VerifyReport {
    /// Whether the whole chain verified.
    pub fn is_intact(&self) -> bool {
        matches!(self, VerifyReport::Intact { .. })
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyReport::Intact { records, head_hash } => write!(
                f,
                "intact: {records} records, head {}",
                hex_lower(head_hash)
            ),
            VerifyReport::Broken {
                intact_records,
                first_bad,
            } => write!(
                f,
                "broken at record {} (id {}): {}; {intact_records} records before it are intact",
                first_bad.seq, first_bad.record_id, first_bad.problem
            ),
        }
    }
}

/// The first record that failed verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRecord {
    /// Its sequence number as stored.
    pub seq: u64,
    /// Its record id column as stored (may itself be the altered field).
    pub record_id: String,
    /// What is wrong.
    pub problem: Problem,
}

/// Why a record failed verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Its sequence number is not the next one: records before it were removed.
    SequenceGap {
        /// The sequence number that should have come next.
        expected: u64,
    },
    /// Its `prev_hash` is not the hash of the record before it: records were
    /// swapped, reordered or removed and renumbered.
    ChainBreak,
    /// The signature does not verify over its fields: a field was changed.
    ContentChanged,
    /// Fields and hash agree but the signature does not verify under this
    /// key: signed by another key (or the signature itself was replaced).
    WrongKey,
    /// Signature verifies but the stored `record_hash` was changed.
    HashMismatch,
    /// A column does not hold what the schema promises (edited or damaged).
    Unreadable {
        /// The column.
        column: &'static str,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::SequenceGap { expected } => {
                write!(f, "sequence gap, expected {expected}: records removed")
            }
            Problem::ChainBreak => f.write_str(
                "prev_hash does not match the record before it: records swapped or removed",
            ),
            Problem::ContentChanged => f.write_str("signature mismatch: a field was changed"),
            Problem::WrongKey => f.write_str("signature is not by this unit's key"),
            Problem::HashMismatch => f.write_str("stored record_hash was changed"),
            Problem::Unreadable { column } => write!(f, "column {column} is malformed"),
        }
    }
}

/// Opens the store at `path` read-only, runs `integrity_check`, and walks the
/// chain from the first record, checking sequence, `prev_hash`, signature
/// (under `key`) and record hash of each.
///
/// A format 2 record whose personal fields were purged (see
/// [`crate::store::personal`]) verifies by its stored personal digest: every
/// other field, the chain and the signature are still checked; its personal
/// columns must be empty. Before purging, its personal fields are checked
/// through the digest as well.
///
/// # Errors
/// The same open errors as [`crate::store::Store::open`] (not SQLite,
/// corrupt, newer schema), and [`StoreError::NotAStore`] for an SQLite file
/// without a passage table. A tampered record is not an error: it is
/// [`VerifyReport::Broken`].
pub fn verify_store(
    path: impl AsRef<Path>,
    key: &VerifyingKey,
) -> Result<VerifyReport, StoreError> {
    let path = path.as_ref();
    let conn = open_connection(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let db = |e| StoreError::from_sqlite(e, path);
    integrity_check(&conn, IntegrityCheck::Full, path)?;
    if schema::check_not_newer(&conn)? == 0 {
        return Err(StoreError::NotAStore {
            path: path.to_path_buf(),
        });
    }
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {}, {} FROM passage ORDER BY seq",
            chain::COLUMNS,
            personal::SEAL_COLUMNS
        ))
        .map_err(db)?;
    let mut rows = stmt.query([]).map_err(db)?;
    let mut expected: u64 = 1;
    let mut prev = chain::GENESIS;
    while let Some(row) = rows.next().map_err(db)? {
        let seq = row
            .get::<_, i64>(0)
            .ok()
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(0);
        let bad = |problem| VerifyReport::Broken {
            intact_records: expected - 1,
            first_bad: BadRecord {
                seq,
                record_id: row.get::<_, String>(1).unwrap_or_default(),
                problem,
            },
        };
        if seq != expected {
            return Ok(bad(Problem::SequenceGap { expected }));
        }
        let stored = match chain::from_row(row) {
            Ok(stored) => stored,
            Err(column) => return Ok(bad(Problem::Unreadable { column })),
        };
        let seal = match personal::seal_from_row(row, chain_column_count()) {
            Ok(seal) => seal,
            Err(column) => return Ok(bad(Problem::Unreadable { column })),
        };
        if stored.prev_hash != prev {
            return Ok(bad(Problem::ChainBreak));
        }
        let resealed = match personal::reseal(&stored, &seal) {
            Ok(resealed) => resealed,
            Err(column) => return Ok(bad(Problem::Unreadable { column })),
        };
        let canonical = resealed.signed;
        let hash = chain::record_hash(&canonical, &stored.signature);
        if !chain::signature_ok(&canonical, &stored.signature, key) {
            let problem = if hash == stored.record_hash {
                Problem::WrongKey
            } else {
                Problem::ContentChanged
            };
            return Ok(bad(problem));
        }
        if hash != stored.record_hash {
            return Ok(bad(Problem::HashMismatch));
        }
        if !resealed.digest_matches {
            return Ok(bad(Problem::Unreadable {
                column: "personal_digest",
            }));
        }
        prev = hash;
        expected += 1;
    }
    Ok(VerifyReport::Intact {
        records: expected - 1,
        head_hash: prev,
    })
}

/// Number of columns in [`chain::COLUMNS`] (where the seal columns start).
fn chain_column_count() -> usize {
    chain::COLUMNS.split(',').count()
}
