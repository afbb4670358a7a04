//! The durable passage-record store: one SQLite file per unit (WAL,
//! `synchronous = FULL`), every record signed with the unit's Ed25519 key and
//! hash-chained to the one before it, an outbox for the sync worker and an
//! audit table for officer actions (signed, chained and queued for the sync
//! worker too, see [`audit`]).
//!
//! The store is synchronous on purpose: the lane calls it from a dedicated
//! database thread. [`Store::append`] returns only after the transaction is
//! committed, so the lane may open the gate on `Ok`. Appends are serialised
//! (a mutex in the process, `BEGIN IMMEDIATE` between processes), so the
//! chain cannot fork. [`verify_store`] walks a store read-only and names the
//! first record that is not what the unit signed.
//!
//! The canonical bytes that are signed are documented in [`record`]'s module
//! documentation. The store never generates or keeps a private key: the
//! caller passes the unit's [`SigningKey`] in [`StoreConfig`].

pub mod audit;
mod chain;
mod error;
pub mod outbox;
pub mod personal;
mod recent;
pub mod record;
pub mod sample;
mod schema;
mod verify;

#[cfg(test)]
mod audit_tests;
#[cfg(test)]
mod outbox_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use ed25519_dalek::{SigningKey, VerifyingKey};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

pub use audit::{PendingAudit, SignedAudit, decode_audit};
pub use error::StoreError;
pub use outbox::{Outbox, OutboxStatus, PendingRecord, outbox_status};
pub use personal::{DecodeError, PersonalPart, SignedRecord, decode_personal, decode_signed};
pub use record::{
    AuditEntry, Biometrics, Decision, Direction, DocumentFields, LaneRef, PassageRecord, RecordId,
    StoredRecord, VerdictSummary,
};
pub use verify::{BadRecord, Problem, VerifyReport, verify_store};

/// Which SQLite check runs when the store is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegrityCheck {
    /// `PRAGMA integrity_check`: every page, index and constraint (slower).
    Full,
    /// `PRAGMA quick_check`: the same minus index contents (faster).
    Quick,
}

/// How to open a store.
#[derive(Clone)]
pub struct StoreConfig {
    /// The unit's signing key; records are signed with it.
    pub signing_key: SigningKey,
    /// The check run at open.
    pub integrity_check: IntegrityCheck,
    /// How long to wait for another connection's lock before [`StoreError::Busy`].
    pub busy_timeout: Duration,
}

impl StoreConfig {
    /// Defaults: full integrity check, 5 s busy timeout.
    pub fn new(signing_key: SigningKey) -> Self {
        StoreConfig {
            signing_key,
            integrity_check: IntegrityCheck::Full,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field(
                "verifying_key",
                &record::hex_lower(self.signing_key.verifying_key().as_bytes()),
            )
            .field("integrity_check", &self.integrity_check)
            .field("busy_timeout", &self.busy_timeout)
            .finish()
    }
}

/// An open passage-record store.
pub struct Store {
    conn: Mutex<Connection>,
    key: SigningKey,
    path: PathBuf,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store at `path`: checks integrity, refuses a
    /// newer schema, then sets WAL, `synchronous = FULL`, foreign keys, and
    /// applies any pending migrations.
    ///
    /// # Errors
    /// [`StoreError::NotSqlite`] for a file that is not SQLite,
    /// [`StoreError::Corrupt`] when the integrity check fails (nothing is
    /// repaired or rebuilt), [`StoreError::NewerSchema`] for a store from newer
    /// software, [`StoreError::Open`] when the file cannot be opened at all.
    pub fn open(path: impl AsRef<Path>, config: &StoreConfig) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let mut conn = open_connection(path, OpenFlags::default())?;
        let db = |e| StoreError::from_sqlite(e, path);
        conn.busy_timeout(config.busy_timeout).map_err(db)?;
        integrity_check(&conn, config.integrity_check, path)?;
        schema::check_not_newer(&conn)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(db)?;
        writer_settings(&conn, mode, path)?;
        schema::migrate(&mut conn, now_unix_ms()).map_err(db)?;
        let tx = begin_immediate(&mut conn, path)?;
        audit::seal_unsealed(&tx, &config.signing_key).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Store {
            conn: Mutex::new(conn),
            key: config.signing_key.clone(),
            path: path.to_path_buf(),
        })
    }

    /// Signs `record`, chains it to the last stored record, and commits it
    /// with its outbox row in one durable transaction.
    ///
    /// # Contract
    /// On `Ok` the record is on disk (WAL fsynced): the lane may open the
    /// gate. On `Err` nothing was written.
    ///
    /// # Errors
    /// [`StoreError::Full`] when the disk or page limit is reached (the lane
    /// must close), [`StoreError::InvalidRecord`] and
    /// [`StoreError::DuplicateRecordId`] for a caller's bug,
    /// [`StoreError::Busy`] when another process holds the lock.
    pub fn append(&self, record: PassageRecord) -> Result<StoredRecord, StoreError> {
        record.validate()?;
        let salt = personal::random_salt()?;
        let db = |e| StoreError::from_sqlite(e, &self.path);
        let mut conn = self.lock();
        let tx = begin_immediate(&mut conn, &self.path)?;
        let (seq, prev_hash) = self.chain_head(&tx)?;
        let stored = self.append_in(&tx, record, seq, prev_hash, &salt)?;
        tx.commit().map_err(db)?;
        Ok(stored)
    }

    /// Appends every record of `records` in ONE transaction, for bulk loads
    /// (benchmarks, tests, imports); returns how many were appended.
    ///
    /// # Contract
    /// All or nothing: on `Err` none of them was written. The lane must not
    /// use it: no record is durable before the whole batch commits.
    ///
    /// # Errors
    /// As [`Store::append`], for the first record that fails.
    pub fn append_many(
        &self,
        records: impl IntoIterator<Item = PassageRecord>,
    ) -> Result<u64, StoreError> {
        let db = |e| StoreError::from_sqlite(e, &self.path);
        let mut conn = self.lock();
        let tx = begin_immediate(&mut conn, &self.path)?;
        let (mut seq, mut prev_hash) = self.chain_head(&tx)?;
        let mut count = 0;
        for record in records {
            record.validate()?;
            let salt = personal::random_salt()?;
            let stored = self.append_in(&tx, record, seq, prev_hash, &salt)?;
            prev_hash = stored.record_hash;
            seq += 1;
            count += 1;
        }
        tx.commit().map_err(db)?;
        Ok(count)
    }

    /// The next sequence number and the hash it chains to.
    fn chain_head(&self, conn: &Connection) -> Result<(u64, [u8; 32]), StoreError> {
        let last: Option<(i64, Vec<u8>)> = conn
            .query_row(
                "SELECT seq, record_hash FROM passage ORDER BY seq DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| StoreError::from_sqlite(e, &self.path))?;
        match last {
            None => Ok((1, chain::GENESIS)),
            Some((last_seq, hash)) => {
                let hash = <[u8; 32]>::try_from(hash).map_err(|_| StoreError::Corrupt {
                    path: self.path.clone(),
                    detail: format!("record {last_seq} has a record_hash that is not 32 bytes"),
                })?;
                let seq = u64::try_from(last_seq).unwrap_or(0) + 1;
                Ok((seq, hash))
            }
        }
    }

    /// Seals `record` at `seq` and writes it with its outbox row, inside the
    /// caller's transaction.
    fn append_in(
        &self,
        conn: &Connection,
        record: PassageRecord,
        seq: u64,
        prev_hash: [u8; 32],
        salt: &[u8; 16],
    ) -> Result<StoredRecord, StoreError> {
        let db = |e| StoreError::from_sqlite(e, &self.path);
        let id_hex = record.id.to_hex();
        let exists: Option<i64> = conn
            .prepare_cached("SELECT seq FROM passage WHERE record_id = ?1")
            .and_then(|mut stmt| stmt.query_row([&id_hex], |row| row.get(0)).optional())
            .map_err(db)?;
        if exists.is_some() {
            return Err(StoreError::DuplicateRecordId { record_id: id_hex });
        }
        let (stored, digest) = chain::seal(record, seq, prev_hash, salt, &self.key);
        insert_passage(conn, &stored).map_err(db)?;
        let seal = personal::Seal::V2 {
            salt: Some(*salt),
            digest,
        };
        personal::write_seal(conn, seq_sql(seq), &seal).map_err(db)?;
        conn.prepare_cached("INSERT INTO outbox (seq, enqueued_unix_ms) VALUES (?1, ?2)")
            .and_then(|mut stmt| stmt.execute((seq_sql(seq), now_unix_ms())))
            .map_err(db)?;
        Ok(stored)
    }

    /// Records an officer action; returns its row id. The entry is signed
    /// with the unit's key, chained to the audit entry before it and queued
    /// in the audit outbox, in one transaction committed durably before it
    /// returns.
    ///
    /// # Errors
    /// [`StoreError::InvalidRecord`] for a bad action name or a `record_id`
    /// that is not stored, [`StoreError::Full`] when the disk is full,
    /// [`StoreError::Corrupt`] when the last audit entry has no seal.
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<i64, StoreError> {
        entry.validate()?;
        let db = |e| StoreError::from_sqlite(e, &self.path);
        let mut conn = self.lock();
        let tx = begin_immediate(&mut conn, &self.path)?;
        let (id, prev_hash) = audit::head(&tx)
            .map_err(db)?
            .map_err(|id| StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!("audit entry {id} has no 32-byte entry_hash"),
            })?;
        let sealed = audit::seal(entry, id, &prev_hash, &self.key);
        let id_sql = seq_sql(id);
        let result = tx.execute(
            "INSERT INTO audit (id, officer_id, time_unix_ms, lane, action, record_id, reason, \
             prev_hash, signature, entry_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            rusqlite::params![
                id_sql,
                &entry.officer_id,
                entry.time_unix_ms,
                &entry.lane,
                &entry.action,
                entry.record_id.map(|id| id.to_hex()),
                &entry.reason,
                &prev_hash[..],
                &sealed.signature[..],
                &sealed.entry_hash[..],
            ],
        );
        match result {
            Ok(_) => {}
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                return Err(StoreError::InvalidRecord {
                    field: "record_id",
                    problem: "names no stored passage record",
                });
            }
            Err(e) => return Err(db(e)),
        }
        tx.execute(
            "INSERT INTO audit_outbox (id, enqueued_unix_ms) VALUES (?1, ?2)",
            (id_sql, now_unix_ms()),
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(id_sql)
    }

    /// Number of audit entries waiting in the audit outbox.
    pub fn audit_outbox_count(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) FROM audit_outbox")
    }

    /// Number of passage records stored.
    pub fn record_count(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) FROM passage")
    }

    /// Number of records waiting in the outbox for the central system.
    pub fn outbox_count(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) FROM outbox")
    }

    /// Bytes the database may still grow by under its page limit
    /// (`max_page_count`), free pages included; the filesystem's own free
    /// space is not counted.
    pub fn page_headroom_bytes(&self) -> Result<u64, StoreError> {
        let conn = self.lock();
        let pragma = |name: &str| -> Result<u64, StoreError> {
            let n: i64 = conn
                .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
                .map_err(|e| StoreError::from_sqlite(e, &self.path))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let (max, used, free, size) = (
            pragma("max_page_count")?,
            pragma("page_count")?,
            pragma("freelist_count")?,
            pragma("page_size")?,
        );
        Ok(max
            .saturating_sub(used)
            .saturating_add(free)
            .saturating_mul(size))
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The public half of the key records are signed with.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    fn count(&self, sql: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .lock()
            .query_row(sql, [], |row| row.get(0))
            .map_err(|e| StoreError::from_sqlite(e, &self.path))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The connection. A panic while it was held cannot leave a transaction
    /// open (the transaction rolls back on unwind), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Opens the SQLite file at `path` with `flags`; any failure is
/// [`StoreError::Open`].
fn open_connection(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// Begins a transaction that takes the write lock at once (`BEGIN
/// IMMEDIATE`): a store busy in another process fails here, before
/// anything is read that the writes depend on.
fn begin_immediate<'c>(
    conn: &'c mut Connection,
    path: &Path,
) -> Result<Transaction<'c>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| StoreError::from_sqlite(e, path))
}

/// The settings of every connection that writes: the store must be in WAL
/// mode (`journal_mode` is the mode the connection reports), commits are
/// durable (`synchronous = FULL`) and foreign keys are enforced.
fn writer_settings(conn: &Connection, journal_mode: String, path: &Path) -> Result<(), StoreError> {
    if !journal_mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NoWal {
            path: path.to_path_buf(),
            mode: journal_mode,
        });
    }
    let db = |e| StoreError::from_sqlite(e, path);
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(db)
}

/// Runs the configured check; anything but a single `ok` row is corruption.
fn integrity_check(conn: &Connection, kind: IntegrityCheck, path: &Path) -> Result<(), StoreError> {
    let sql = match kind {
        IntegrityCheck::Full => "PRAGMA integrity_check(20)",
        IntegrityCheck::Quick => "PRAGMA quick_check(20)",
    };
    let db = |e| StoreError::from_sqlite(e, path);
    let mut stmt = conn.prepare(sql).map_err(db)?;
    let lines = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    if lines.len() == 1 && lines[0] == "ok" {
        Ok(())
    } else {
        Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: lines.join("; "),
        })
    }
}

/// Inserts the `passage` row of a sealed record (format 1 columns; the seal
/// columns are written by [`personal::write_seal`]).
fn insert_passage(conn: &Connection, stored: &StoredRecord) -> Result<(), rusqlite::Error> {
    let r = &stored.record;
    let doc = &r.document;
    let (bio, score, threshold, matched, tries) = chain::biometrics_columns(r.biometrics);
    let json = |items: &Vec<String>| {
        serde_json::to_string(items).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
    };
    conn.prepare_cached(&format!(
        "INSERT INTO passage ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
             ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)",
        chain::COLUMNS
    ))?
    .execute(rusqlite::params![
        seq_sql(stored.seq),
        r.id.to_hex(),
        r.time_unix_ms,
        r.lane.site,
        r.lane.terminal,
        r.lane.lane,
        r.direction.as_str(),
        r.decision.as_str(),
        json(&r.reason_codes)?,
        doc.document_type,
        doc.issuing_state,
        doc.document_number,
        doc.nationality,
        doc.primary_identifier,
        doc.secondary_identifier,
        doc.birth_date,
        doc.sex,
        doc.expiry_date,
        r.verdict.genuine,
        json(&r.verdict.failed_checks)?,
        r.permitted_stay_days,
        bio,
        score,
        threshold,
        matched,
        tries,
        &stored.prev_hash[..],
        &stored.signature[..],
        &stored.record_hash[..],
    ])?;
    Ok(())
}

/// A sequence number as SQLite's integer (sequence numbers stay far below 2^63).
fn seq_sql(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Now, unix milliseconds UTC (0 if the clock is before 1970).
pub(crate) fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
