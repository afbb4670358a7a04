//! Officer audit entries as they are synced (schema 3): signed, hash-chained
//! and queued in the audit outbox like passage records.
//!
//! # Signed bytes of an audit entry
//!
//! | item | encoding |
//! |---|---|
//! | magic | the 8 bytes `ASLAU\0\0\x01` (never a passage record's magic) |
//! | audit id | u64, big-endian: the row id, 1, 2, 3, ... without gaps |
//! | prev_hash | 32 bytes: `entry_hash` of the entry before, 32 zero bytes for id 1 |
//! | time | i64 unix milliseconds UTC, big-endian |
//! | officer id, lane, action | strings |
//! | record id | u8 0 (none), or u8 1 then the 16 bytes |
//! | reason | string |
//!
//! A string is its UTF-8 length as u32 big-endian, then the bytes. The
//! signature is the unit's Ed25519 signature over these bytes (the same key
//! as passage records; the magic keeps the two kinds apart), and
//! `entry_hash` = SHA-256(signed bytes || signature).
//!
//! Entries written before schema 3 have no seal: the first [`Store::open`]
//! under schema 3 seals them in id order (their signature is made then, not
//! when the officer acted) and they are queued by the migration.
//!
//! [`Store::open`]: crate::store::Store::open

use std::fmt;

use ed25519_dalek::{Signer, SigningKey};
use rusqlite::Connection;

use crate::store::chain::{self, GENESIS};
use crate::store::personal::{DecodeError, MAX_ENCODED_BYTES, Reader};
use crate::store::record::{AuditEntry, RecordId, put_str};

/// Magic and version at the start of an audit entry's signed bytes.
pub(crate) const AUDIT_MAGIC: [u8; 8] = *b"ASLAU\0\0\x01";

/// The signed bytes of `entry` as audit row `id` after `prev_hash`.
pub(crate) fn canonical(entry: &AuditEntry, id: u64, prev_hash: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + entry.reason.len());
    out.extend_from_slice(&AUDIT_MAGIC);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(prev_hash);
    out.extend_from_slice(&entry.time_unix_ms.to_be_bytes());
    put_str(&mut out, &entry.officer_id);
    put_str(&mut out, &entry.lane);
    put_str(&mut out, &entry.action);
    match entry.record_id {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id.as_bytes());
        }
    }
    put_str(&mut out, &entry.reason);
    out
}

/// An audit entry's seal: signature and hash.
pub(crate) struct AuditSeal {
    /// Ed25519 signature over the canonical bytes.
    pub(crate) signature: [u8; 64],
    /// SHA-256 of the canonical bytes and the signature.
    pub(crate) entry_hash: [u8; 32],
}

/// Signs `entry` as row `id` after `prev_hash`.
pub(crate) fn seal(
    entry: &AuditEntry,
    id: u64,
    prev_hash: &[u8; 32],
    key: &SigningKey,
) -> AuditSeal {
    let signed = canonical(entry, id, prev_hash);
    let signature = key.sign(&signed).to_bytes();
    AuditSeal {
        signature,
        entry_hash: chain::record_hash(&signed, &signature),
    }
}

/// An audit entry decoded from its signed bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedAudit {
    /// The audit row id (position in the unit's audit chain, from 1).
    pub id: u64,
    /// `entry_hash` of the entry before it (zeros for id 1).
    pub prev_hash: [u8; 32],
    /// The entry.
    pub entry: AuditEntry,
}

impl fmt::Debug for SignedAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedAudit")
            .field("id", &self.id)
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}

/// Decodes an audit entry's signed bytes, checking that re-encoding gives
/// the same bytes. Says nothing about the signature: verify that first.
///
/// # Errors
/// [`DecodeError`] naming what is wrong.
pub fn decode_audit(bytes: &[u8]) -> Result<SignedAudit, DecodeError> {
    if bytes.len() > MAX_ENCODED_BYTES {
        return Err(DecodeError::TooLong(bytes.len()));
    }
    let mut r = Reader::new(bytes);
    if r.array::<8>("magic")? != AUDIT_MAGIC {
        return Err(DecodeError::Invalid {
            what: "magic",
            offset: 0,
        });
    }
    let id = r.u64("audit_id")?;
    let prev_hash = r.array::<32>("prev_hash")?;
    let time_unix_ms = i64::from_be_bytes(r.array::<8>("time")?);
    let officer_id = r.string("officer_id")?;
    let lane = r.string("lane")?;
    let action = r.string("action")?;
    let record_id = match r.u8("record_id")? {
        0 => None,
        1 => Some(RecordId::from_bytes(r.array::<16>("record_id")?)),
        _ => return Err(r.invalid("record_id", 1)),
    };
    let reason = r.string("reason")?;
    r.finish()?;
    let entry = AuditEntry {
        officer_id,
        time_unix_ms,
        lane,
        action,
        record_id,
        reason,
    };
    entry.validate().map_err(|_| DecodeError::NotCanonical)?;
    if id == 0 || canonical(&entry, id, &prev_hash) != bytes {
        return Err(DecodeError::NotCanonical);
    }
    Ok(SignedAudit {
        id,
        prev_hash,
        entry,
    })
}

/// An audit entry waiting for the central system, as it goes on the wire.
///
/// `Debug` shows only the id (the signed bytes name the officer).
#[derive(Clone, PartialEq, Eq)]
pub struct PendingAudit {
    /// The audit row id (the upload's idempotency key, with the unit).
    pub id: u64,
    /// The signed bytes.
    pub signed: Vec<u8>,
    /// Ed25519 signature over `signed`.
    pub signature: [u8; 64],
    /// When it was queued, unix milliseconds (the unit's clock).
    pub enqueued_unix_ms: i64,
}

impl PendingAudit {
    /// Bytes this entry takes in a JSON upload (base64 and field names).
    pub fn wire_size(&self) -> usize {
        self.signed.len().div_ceil(3) * 4 + 88 + 64
    }
}

impl fmt::Debug for PendingAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAudit")
            .field("id", &self.id)
            .field("signed_len", &self.signed.len())
            .finish_non_exhaustive()
    }
}

/// Columns of `audit` in the order [`entry_from_row`] reads them.
pub(crate) const ENTRY_COLUMNS: &str =
    "id, officer_id, time_unix_ms, lane, action, record_id, reason";

/// Reads the id and entry of an `audit` row selected with [`ENTRY_COLUMNS`].
pub(crate) fn entry_from_row(row: &rusqlite::Row<'_>) -> Result<(u64, AuditEntry), &'static str> {
    let id: i64 = row.get(0).map_err(|_| "id")?;
    let id = u64::try_from(id).map_err(|_| "id")?;
    let record_id: Option<String> = row.get(5).map_err(|_| "record_id")?;
    let record_id = match record_id {
        None => None,
        Some(hex) => Some(RecordId::from_hex(&hex).ok_or("record_id")?),
    };
    let entry = AuditEntry {
        officer_id: row.get(1).map_err(|_| "officer_id")?,
        time_unix_ms: row.get(2).map_err(|_| "time_unix_ms")?,
        lane: row.get(3).map_err(|_| "lane")?,
        action: row.get(4).map_err(|_| "action")?,
        record_id,
        reason: row.get(6).map_err(|_| "reason")?,
    };
    Ok((id, entry))
}

/// The next audit id and the hash it chains to (inside the caller's
/// transaction). `Err` when the last sealed row's hash is not 32 bytes.
pub(crate) fn head(conn: &Connection) -> Result<Result<(u64, [u8; 32]), u64>, rusqlite::Error> {
    let last: Option<(i64, Option<Vec<u8>>)> =
        rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT id, entry_hash FROM audit ORDER BY id DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        ))?;
    Ok(match last {
        None => Ok((1, GENESIS)),
        Some((id, hash)) => {
            let id = u64::try_from(id).unwrap_or(0);
            match hash.and_then(|h| <[u8; 32]>::try_from(h).ok()) {
                Some(hash) => Ok((id + 1, hash)),
                None => Err(id),
            }
        }
    })
}

/// Seals, in id order, every audit row written before schema 3 (no
/// `entry_hash` yet), inside the caller's transaction; returns how many.
pub(crate) fn seal_unsealed(conn: &Connection, key: &SigningKey) -> Result<u64, rusqlite::Error> {
    let first_unsealed: Option<i64> = conn.query_row(
        "SELECT MIN(id) FROM audit WHERE entry_hash IS NULL",
        [],
        |row| row.get(0),
    )?;
    let Some(first) = first_unsealed else {
        return Ok(0);
    };
    let mut prev: [u8; 32] = if first <= 1 {
        GENESIS
    } else {
        let hash: Option<Vec<u8>> = rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT entry_hash FROM audit WHERE id < ?1 ORDER BY id DESC LIMIT 1",
            [first],
            |row| row.get(0),
        ))?
        .flatten();
        hash.and_then(|h| <[u8; 32]>::try_from(h).ok())
            .unwrap_or(GENESIS)
    };
    let rows: Vec<(u64, AuditEntry)> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit WHERE id >= ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([first], |row| {
            entry_from_row(row).map_err(|column| {
                rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    format!("audit row has a malformed {column} column").into(),
                )
            })
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let mut update = conn.prepare(
        "UPDATE audit SET prev_hash = ?2, signature = ?3, entry_hash = ?4 WHERE id = ?1",
    )?;
    let mut count = 0;
    for (id, entry) in rows {
        let sealed = seal(&entry, id, &prev, key);
        update.execute((
            i64::try_from(id).unwrap_or(i64::MAX),
            &prev[..],
            &sealed.signature[..],
            &sealed.entry_hash[..],
        ))?;
        prev = sealed.entry_hash;
        count += 1;
    }
    Ok(count)
}
