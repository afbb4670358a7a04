//! The receiver's own SQLite database: verified records per unit, each
//! unit's chain checked on arrival, idempotent by record id; and the units'
//! officer audit entries, checked and chained the same way, idempotent by
//! (unit, audit id).

use std::path::Path;

use ed25519_dalek::{Signature, VerifyingKey};
use kiosk_app::store::{decode_audit, decode_personal, decode_signed};
use kiosk_app::sync::wire::{
    AckStatus, AuditResult, RecordResult, Rejection, WireAudit, WireRecord,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS record (
    unit_id           TEXT    NOT NULL,
    seq               INTEGER NOT NULL,
    record_id         TEXT    NOT NULL,
    format            INTEGER NOT NULL,
    signed            BLOB    NOT NULL,
    signature         BLOB    NOT NULL,
    record_hash       BLOB    NOT NULL,
    personal          BLOB,
    time_unix_ms      INTEGER NOT NULL,
    decision          TEXT    NOT NULL,
    received_unix_ms  INTEGER NOT NULL,
    PRIMARY KEY (unit_id, seq),
    UNIQUE (unit_id, record_id)
);
CREATE TABLE IF NOT EXISTS audit (
    unit_id           TEXT    NOT NULL,
    id                INTEGER NOT NULL,
    signed            BLOB    NOT NULL,
    signature         BLOB    NOT NULL,
    entry_hash        BLOB    NOT NULL,
    officer_id        TEXT    NOT NULL,
    time_unix_ms      INTEGER NOT NULL,
    lane              TEXT    NOT NULL,
    action            TEXT    NOT NULL,
    record_id         TEXT,
    received_unix_ms  INTEGER NOT NULL,
    PRIMARY KEY (unit_id, id)
);
";

/// One stored audit entry, as tests compare it with the unit's store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    /// The audit id (position in the unit's audit chain).
    pub id: u64,
    /// The action name.
    pub action: String,
    /// SHA-256 of the signed bytes and the signature.
    pub entry_hash: [u8; 32],
}

/// One stored record, as tests compare it with the unit's store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRow {
    /// Position in the unit's chain.
    pub seq: u64,
    /// Record id, lowercase hex.
    pub record_id: String,
    /// SHA-256 of the signed bytes and the signature.
    pub record_hash: [u8; 32],
}

/// The receiver's database.
pub struct ReceiverDb {
    conn: Connection,
}

impl std::fmt::Debug for ReceiverDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverDb").finish_non_exhaustive()
    }
}

impl ReceiverDb {
    /// Opens (or creates) the database at `path`: WAL, `synchronous = FULL`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn open(path: impl AsRef<Path>) -> Result<ReceiverDb, rusqlite::Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let _: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(ReceiverDb { conn })
    }

    /// Checks and stores a batch from `unit_id` in one durable transaction,
    /// and returns one result per record, in order. A record is checked
    /// against what is stored and against the records before it in the batch.
    ///
    /// # Errors
    /// SQLite errors; nothing is stored then.
    pub fn process_batch(
        &mut self,
        unit_id: &str,
        key: &VerifyingKey,
        records: &[WireRecord],
        now_unix_ms: i64,
    ) -> Result<Vec<RecordResult>, rusqlite::Error> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(records.len());
        for w in records {
            let outcome = check_and_store(&tx, unit_id, key, w, now_unix_ms)?;
            let (status, reason) = match outcome {
                Ok(status) => (status, None),
                Err(r) => (AckStatus::Rejected, Some(r.as_str().to_owned())),
            };
            results.push(RecordResult {
                record_id: w.record_id.clone(),
                status,
                reason,
            });
        }
        tx.commit()?;
        Ok(results)
    }

    /// Checks and stores a batch of audit entries from `unit_id` in one
    /// durable transaction; one result per entry, in order.
    ///
    /// # Errors
    /// SQLite errors; nothing is stored then.
    pub fn process_audit(
        &mut self,
        unit_id: &str,
        key: &VerifyingKey,
        entries: &[WireAudit],
        now_unix_ms: i64,
    ) -> Result<Vec<AuditResult>, rusqlite::Error> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(entries.len());
        for w in entries {
            let (status, reason) = match check_and_store_audit(&tx, unit_id, key, w, now_unix_ms)? {
                Ok(status) => (status, None),
                Err(r) => (AckStatus::Rejected, Some(r.as_str().to_owned())),
            };
            results.push(AuditResult {
                id: w.id,
                status,
                reason,
            });
        }
        tx.commit()?;
        Ok(results)
    }

    /// Every stored audit entry of `unit_id`, in id order.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn audit_entries(&self, unit_id: &str) -> Result<Vec<AuditRow>, rusqlite::Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, action, entry_hash FROM audit WHERE unit_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([unit_id], |r| {
            let hash: Vec<u8> = r.get(2)?;
            Ok(AuditRow {
                id: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                action: r.get(1)?,
                entry_hash: hash.try_into().unwrap_or([0; 32]),
            })
        })?;
        rows.collect()
    }

    /// Re-verifies every stored audit entry of `unit_id` from the stored
    /// bytes: signature, ids without gaps, and chain. Returns how many, or
    /// the first id that fails.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn verify_audit_chain(
        &self,
        unit_id: &str,
        key: &VerifyingKey,
    ) -> Result<Result<u64, u64>, rusqlite::Error> {
        let mut stmt = self.conn.prepare(
            "SELECT id, signed, signature, entry_hash FROM audit WHERE unit_id = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([unit_id])?;
        let mut prev = [0u8; 32];
        let mut expected = 1u64;
        while let Some(row) = rows.next()? {
            let id = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
            let signed: Vec<u8> = row.get(1)?;
            let signature: Vec<u8> = row.get(2)?;
            let stored_hash: Vec<u8> = row.get(3)?;
            let ok = id == expected
                && <[u8; 64]>::try_from(signature.as_slice())
                    .ok()
                    .is_some_and(|sig| {
                        key.verify_strict(&signed, &Signature::from_bytes(&sig))
                            .is_ok()
                            && record_hash(&signed, &sig).as_slice() == stored_hash.as_slice()
                    })
                && decode_audit(&signed).is_ok_and(|d| d.id == id && d.prev_hash == prev);
            if !ok {
                return Ok(Err(id));
            }
            prev = stored_hash.try_into().unwrap_or([0; 32]);
            expected += 1;
        }
        Ok(Ok(expected - 1))
    }

    /// Every stored record of `unit_id`, in sequence order.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn records(&self, unit_id: &str) -> Result<Vec<StoredRow>, rusqlite::Error> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, record_id, record_hash FROM record WHERE unit_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([unit_id], |r| {
            let hash: Vec<u8> = r.get(2)?;
            Ok(StoredRow {
                seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                record_id: r.get(1)?,
                record_hash: hash.try_into().unwrap_or([0; 32]),
            })
        })?;
        rows.collect()
    }

    /// Number of records stored for `unit_id`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn count(&self, unit_id: &str) -> Result<u64, rusqlite::Error> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM record WHERE unit_id = ?1",
            [unit_id],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Re-verifies every stored record of `unit_id` from the stored bytes:
    /// signature, personal digest, sequence and chain. Returns how many, or
    /// the first sequence number that fails.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn verify_chain(
        &self,
        unit_id: &str,
        key: &VerifyingKey,
    ) -> Result<Result<u64, u64>, rusqlite::Error> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, signed, signature, personal, record_hash FROM record \
             WHERE unit_id = ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([unit_id])?;
        let mut prev = [0u8; 32];
        let mut expected = 1u64;
        while let Some(row) = rows.next()? {
            let seq = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
            let signed: Vec<u8> = row.get(1)?;
            let signature: Vec<u8> = row.get(2)?;
            let personal: Option<Vec<u8>> = row.get(3)?;
            let stored_hash: Vec<u8> = row.get(4)?;
            let ok = seq == expected
                && signature
                    .as_slice()
                    .try_into()
                    .ok()
                    .is_some_and(|sig: [u8; 64]| {
                        key.verify_strict(&signed, &Signature::from_bytes(&sig))
                            .is_ok()
                            && record_hash(&signed, &sig).as_slice() == stored_hash.as_slice()
                    })
                && decode_signed(&signed).is_ok_and(|d| {
                    d.prev_hash == prev
                        && match (d.personal_digest, &personal) {
                            (None, None) => true,
                            (Some(digest), Some(p)) => Sha256::digest(p).as_slice() == digest,
                            _ => false,
                        }
                });
            if !ok {
                return Ok(Err(seq));
            }
            prev = stored_hash.try_into().unwrap_or([0; 32]);
            expected += 1;
        }
        Ok(Ok(expected - 1))
    }
}

fn record_hash(signed: &[u8], signature: &[u8; 64]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(signed);
    h.update(signature);
    h.finalize().into()
}

fn seq_sql(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Checks one record and stores it when it verifies and chains.
fn check_and_store(
    tx: &Connection,
    unit_id: &str,
    key: &VerifyingKey,
    w: &WireRecord,
    now_unix_ms: i64,
) -> Result<Result<AckStatus, Rejection>, rusqlite::Error> {
    let (Some(signed), Some(signature), Ok(personal)) =
        (w.signed_bytes(), w.signature_bytes(), w.personal_bytes())
    else {
        return Ok(Err(Rejection::Malformed));
    };
    let hash = record_hash(&signed, &signature);
    // Idempotency by record id: the same bytes again are a duplicate.
    let existing: Option<Vec<u8>> = tx
        .prepare_cached("SELECT record_hash FROM record WHERE unit_id = ?1 AND record_id = ?2")?
        .query_row((unit_id, &w.record_id), |r| r.get(0))
        .optional()?;
    if let Some(stored) = existing {
        return Ok(if stored.as_slice() == hash.as_slice() {
            Ok(AckStatus::Duplicate)
        } else {
            Err(Rejection::Conflict)
        });
    }
    if key
        .verify_strict(&signed, &Signature::from_bytes(&signature))
        .is_err()
    {
        return Ok(Err(Rejection::BadSignature));
    }
    let Ok(decoded) = decode_signed(&signed) else {
        return Ok(Err(Rejection::Malformed));
    };
    if decoded.seq != w.seq || decoded.seq == 0 || decoded.record.id.to_hex() != w.record_id {
        return Ok(Err(Rejection::Malformed));
    }
    match (decoded.personal_digest, &personal) {
        (None, None) => {}
        (None, Some(_)) => return Ok(Err(Rejection::Malformed)),
        (Some(_), None) => return Ok(Err(Rejection::PersonalMismatch)),
        (Some(digest), Some(p)) => {
            if Sha256::digest(p).as_slice() != digest || decode_personal(p).is_err() {
                return Ok(Err(Rejection::PersonalMismatch));
            }
        }
    }
    let seq = seq_sql(decoded.seq);
    let hash_at = |seq: i64| -> Result<Option<Vec<u8>>, rusqlite::Error> {
        tx.prepare_cached("SELECT record_hash FROM record WHERE unit_id = ?1 AND seq = ?2")?
            .query_row((unit_id, seq), |r| r.get(0))
            .optional()
    };
    if hash_at(seq)?.is_some() {
        return Ok(Err(Rejection::Fork));
    }
    let prev = if seq == 1 {
        Some(vec![0u8; 32])
    } else {
        hash_at(seq - 1)?
    };
    match prev {
        None => return Ok(Err(Rejection::ChainGap)),
        Some(p) if p.as_slice() != decoded.prev_hash.as_slice() => {
            return Ok(Err(Rejection::ChainBreak));
        }
        Some(_) => {}
    }
    tx.prepare_cached(
        "INSERT INTO record (unit_id, seq, record_id, format, signed, signature, record_hash, \
         personal, time_unix_ms, decision, received_unix_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(rusqlite::params![
        unit_id,
        seq,
        w.record_id,
        decoded.format,
        signed,
        &signature[..],
        &hash[..],
        personal,
        decoded.record.time_unix_ms,
        decoded.record.decision.as_str(),
        now_unix_ms,
    ])?;
    Ok(Ok(AckStatus::Stored))
}

/// Checks one audit entry and stores it when it verifies and chains.
fn check_and_store_audit(
    tx: &Connection,
    unit_id: &str,
    key: &VerifyingKey,
    w: &WireAudit,
    now_unix_ms: i64,
) -> Result<Result<AckStatus, Rejection>, rusqlite::Error> {
    let (Some(signed), Some(signature)) = (w.signed_bytes(), w.signature_bytes()) else {
        return Ok(Err(Rejection::Malformed));
    };
    let hash = record_hash(&signed, &signature);
    let hash_at = |id: i64| -> Result<Option<Vec<u8>>, rusqlite::Error> {
        tx.prepare_cached("SELECT entry_hash FROM audit WHERE unit_id = ?1 AND id = ?2")?
            .query_row((unit_id, id), |r| r.get(0))
            .optional()
    };
    let id = seq_sql(w.id);
    // Idempotency by (unit, audit id): the same bytes again are a duplicate.
    if let Some(stored) = hash_at(id)? {
        return Ok(if stored.as_slice() == hash.as_slice() {
            Ok(AckStatus::Duplicate)
        } else {
            Err(Rejection::Conflict)
        });
    }
    if key
        .verify_strict(&signed, &Signature::from_bytes(&signature))
        .is_err()
    {
        return Ok(Err(Rejection::BadSignature));
    }
    let Ok(decoded) = decode_audit(&signed) else {
        return Ok(Err(Rejection::Malformed));
    };
    if decoded.id != w.id {
        return Ok(Err(Rejection::Malformed));
    }
    let prev = if id == 1 {
        Some(vec![0u8; 32])
    } else {
        hash_at(id - 1)?
    };
    match prev {
        None => return Ok(Err(Rejection::ChainGap)),
        Some(p) if p.as_slice() != decoded.prev_hash.as_slice() => {
            return Ok(Err(Rejection::ChainBreak));
        }
        Some(_) => {}
    }
    let e = &decoded.entry;
    tx.prepare_cached(
        "INSERT INTO audit (unit_id, id, signed, signature, entry_hash, officer_id, \
         time_unix_ms, lane, action, record_id, received_unix_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(rusqlite::params![
        unit_id,
        id,
        signed,
        &signature[..],
        &hash[..],
        e.officer_id,
        e.time_unix_ms,
        e.lane,
        e.action,
        e.record_id.map(|r| r.to_hex()),
        now_unix_ms,
    ])?;
    Ok(Ok(AckStatus::Stored))
}
