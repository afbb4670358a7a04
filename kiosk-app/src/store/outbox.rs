//! The sync worker's side of the store: its own SQLite connection (the store
//! is WAL, so reading the outbox never blocks the lane's appends), batches
//! read in sequence order with a bounded size, acknowledgements, the last
//! outcome for `kioskctl store status`, the retention purge, and the audit
//! outbox (officer audit entries, schema 3), which follows the same contract.
//!
//! # Contract
//! - An outbox row is removed only by [`Outbox::acknowledge`], in the same
//!   transaction that records the acknowledgement; a crash at any point
//!   leaves the record either still queued (it is sent again; the receiver
//!   acknowledges the duplicate) or acknowledged, never neither.
//! - [`Outbox::next_batch`] holds at most `max_records` rows in memory,
//!   whatever the backlog.
//! - [`Outbox::purge_personal`] touches only acknowledged format 2 records,
//!   and leaves them verifiable by [`crate::store::verify_store`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::store::audit::{self, PendingAudit};
use crate::store::personal::{self, PERSONAL_COLUMNS};
use crate::store::{
    RecordId, StoreError, begin_immediate, chain, open_connection, schema, seq_sql, writer_settings,
};

/// A record waiting for the central system, as it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingRecord {
    /// Position in the chain.
    pub seq: u64,
    /// The record's id (the upload's idempotency key).
    pub record_id: RecordId,
    /// The signed bytes (format 1 or 2).
    pub signed: Vec<u8>,
    /// Ed25519 signature over `signed`.
    pub signature: [u8; 64],
    /// Format 2: the personal part the signed bytes commit to (personal data).
    pub personal: Option<Vec<u8>>,
    /// When it was queued, unix milliseconds (the unit's clock).
    pub enqueued_unix_ms: i64,
}

impl PendingRecord {
    /// Bytes this record takes in a JSON upload (base64 and field names).
    pub fn wire_size(&self) -> usize {
        let b64 = |n: usize| n.div_ceil(3) * 4;
        b64(self.signed.len()) + self.personal.as_ref().map_or(0, |p| b64(p.len())) + 88 + 160
    }
}

impl fmt::Debug for PendingRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingRecord")
            .field("seq", &self.seq)
            .field("record_id", &self.record_id)
            .field("signed_len", &self.signed.len())
            .field("enqueued_unix_ms", &self.enqueued_unix_ms)
            .finish_non_exhaustive()
    }
}

/// What the outbox and the sync worker's last outcome look like.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboxStatus {
    /// Records waiting for the central system.
    pub backlog: u64,
    /// When the oldest waiting record was queued (unit's clock), if any.
    pub oldest_enqueued_unix_ms: Option<i64>,
    /// Records the central system has acknowledged.
    pub acknowledged: u64,
    /// Acknowledged records whose personal fields were purged.
    pub purged: u64,
    /// The last sync failure (no personal data), until a later success.
    pub last_error: Option<String>,
    /// When that failure happened.
    pub last_error_unix_ms: Option<i64>,
    /// When the central system last acknowledged a batch.
    pub last_success_unix_ms: Option<i64>,
    /// The receiver's clock minus the unit's, at the last success.
    pub clock_skew_ms: Option<i64>,
    /// Officer audit entries waiting for the central system.
    pub audit_backlog: u64,
}

impl OutboxStatus {
    /// Age of the oldest waiting record at `now_unix_ms`; zero when the
    /// clock reads earlier than when it was queued (the clock was set back).
    pub fn oldest_age(&self, now_unix_ms: i64) -> Option<Duration> {
        self.oldest_enqueued_unix_ms.map(|t| {
            Duration::from_millis(u64::try_from(now_unix_ms.saturating_sub(t)).unwrap_or(0))
        })
    }
}

/// The sync worker's connection to the store.
pub struct Outbox {
    conn: Connection,
    path: PathBuf,
    batch_sql: String,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// Opens a second connection to an existing store (made and migrated by
    /// [`crate::store::Store::open`]): WAL required, `synchronous = FULL`,
    /// `secure_delete` on (purged fields are overwritten, not just unlinked).
    ///
    /// # Errors
    /// [`StoreError::Open`] when the file does not exist,
    /// [`StoreError::NotAStore`], [`StoreError::NewerSchema`] or
    /// [`StoreError::OlderSchema`] for a store this build cannot sync,
    /// [`StoreError::NoWal`] when the store is not in WAL mode.
    pub fn open(path: impl AsRef<Path>, busy_timeout: Duration) -> Result<Outbox, StoreError> {
        let path = path.as_ref();
        let conn = open_connection(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let db = |e| StoreError::from_sqlite(e, path);
        conn.busy_timeout(busy_timeout).map_err(db)?;
        check_version(&conn, path)?;
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .map_err(db)?;
        writer_settings(&conn, mode, path)?;
        conn.pragma_update(None, "secure_delete", "ON")
            .map_err(db)?;
        let columns: Vec<String> = chain::COLUMNS
            .split(',')
            .chain(personal::SEAL_COLUMNS.split(','))
            .map(|c| format!("p.{}", c.trim()))
            .collect();
        let batch_sql = format!(
            "SELECT {}, o.enqueued_unix_ms FROM outbox o JOIN passage p ON p.seq = o.seq \
             ORDER BY o.seq LIMIT ?1",
            columns.join(", ")
        );
        Ok(Outbox {
            conn,
            path: path.to_path_buf(),
            batch_sql,
        })
    }

    /// The oldest waiting records in sequence order: at most `max_records`,
    /// and no more than `max_bytes` of upload (always at least one record
    /// when any waits).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the record when a row cannot be read
    /// back (it stays queued); SQLite errors.
    pub fn next_batch(
        &self,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<PendingRecord>, StoreError> {
        let db = |e| StoreError::from_sqlite(e, &self.path);
        let mut stmt = self.conn.prepare_cached(&self.batch_sql).map_err(db)?;
        let limit = i64::try_from(max_records.max(1)).unwrap_or(i64::MAX);
        let mut rows = stmt.query([limit]).map_err(db)?;
        let seal_at = chain::COLUMNS.split(',').count();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while let Some(row) = rows.next().map_err(db)? {
            let corrupt = |column: &str| StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!(
                    "queued record {} has a malformed {column} column",
                    row.get::<_, i64>(0).unwrap_or(-1)
                ),
            };
            let stored = chain::from_row(row).map_err(corrupt)?;
            let seal = personal::seal_from_row(row, seal_at).map_err(corrupt)?;
            let resealed = personal::reseal(&stored, &seal).map_err(corrupt)?;
            let enqueued_unix_ms: i64 = row.get(seal_at + 3).map_err(db)?;
            let pending = PendingRecord {
                seq: stored.seq,
                record_id: stored.record.id,
                signed: resealed.signed,
                signature: stored.signature,
                personal: resealed.personal,
                enqueued_unix_ms,
            };
            bytes = bytes.saturating_add(pending.wire_size());
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(pending);
        }
        Ok(out)
    }

    /// Records that the central system acknowledged these records: removes
    /// their outbox rows and notes when, in one durable transaction. Also
    /// clears the last error. Returns how many outbox rows were removed
    /// (records acknowledged twice count once).
    ///
    /// # Errors
    /// SQLite errors; nothing is changed then.
    pub fn acknowledge(
        &mut self,
        seqs: &[u64],
        now_unix_ms: i64,
        clock_skew_ms: Option<i64>,
    ) -> Result<u64, StoreError> {
        let tx = begin_immediate(&mut self.conn, &self.path)?;
        let db = |e| StoreError::from_sqlite(e, &self.path);
        let mut removed = 0u64;
        {
            let mut delete = tx
                .prepare_cached("DELETE FROM outbox WHERE seq = ?1")
                .map_err(db)?;
            let mut ack = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO sync_ack (seq, acked_unix_ms) VALUES (?1, ?2)",
                )
                .map_err(db)?;
            for &seq in seqs {
                let n = delete.execute([seq_sql(seq)]).map_err(db)?;
                removed += u64::try_from(n).unwrap_or(0);
                ack.execute((seq_sql(seq), now_unix_ms)).map_err(db)?;
            }
        }
        tx.execute(
            "UPDATE sync_state SET last_error = NULL, last_error_unix_ms = NULL, \
             last_success_unix_ms = ?1, clock_skew_ms = ?2 WHERE id = 1",
            (now_unix_ms, clock_skew_ms),
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(removed)
    }

    /// Notes a failed attempt: `error` (which must carry no personal data)
    /// becomes the last error, and the queued records of `seqs` count one
    /// more attempt.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn note_failure(
        &mut self,
        seqs: &[u64],
        error: &str,
        now_unix_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = begin_immediate(&mut self.conn, &self.path)?;
        let db = |e| StoreError::from_sqlite(e, &self.path);
        {
            let mut bump = tx
                .prepare_cached("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?1")
                .map_err(db)?;
            for &seq in seqs {
                bump.execute([seq_sql(seq)]).map_err(db)?;
            }
        }
        tx.execute(
            "UPDATE sync_state SET last_error = ?1, last_error_unix_ms = ?2 WHERE id = 1",
            (error, now_unix_ms),
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The oldest waiting audit entries in id order: at most `max_entries`,
    /// and no more than `max_bytes` of upload (always at least one entry
    /// when any waits). Entries not yet sealed are not sent.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the entry when a row cannot be read
    /// back (it stays queued); SQLite errors.
    pub fn next_audit_batch(
        &self,
        max_entries: usize,
        max_bytes: usize,
    ) -> Result<Vec<PendingAudit>, StoreError> {
        let db = |e| StoreError::from_sqlite(e, &self.path);
        let columns: Vec<String> = audit::ENTRY_COLUMNS
            .split(',')
            .map(|c| format!("a.{}", c.trim()))
            .collect();
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {}, a.prev_hash, a.signature, o.enqueued_unix_ms \
                 FROM audit_outbox o JOIN audit a ON a.id = o.id \
                 WHERE a.entry_hash IS NOT NULL ORDER BY o.id LIMIT ?1",
                columns.join(", ")
            ))
            .map_err(db)?;
        let limit = i64::try_from(max_entries.max(1)).unwrap_or(i64::MAX);
        let mut rows = stmt.query([limit]).map_err(db)?;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while let Some(row) = rows.next().map_err(db)? {
            let corrupt = |column: &str| StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!(
                    "queued audit entry {} has a malformed {column} column",
                    row.get::<_, i64>(0).unwrap_or(-1)
                ),
            };
            let (id, entry) = audit::entry_from_row(row).map_err(corrupt)?;
            let prev_hash: Vec<u8> = row.get(7).map_err(db)?;
            let prev_hash = <[u8; 32]>::try_from(prev_hash).map_err(|_| corrupt("prev_hash"))?;
            let signature: Vec<u8> = row.get(8).map_err(db)?;
            let signature = <[u8; 64]>::try_from(signature).map_err(|_| corrupt("signature"))?;
            let pending = PendingAudit {
                id,
                signed: audit::canonical(&entry, id, &prev_hash),
                signature,
                enqueued_unix_ms: row.get(9).map_err(db)?,
            };
            bytes = bytes.saturating_add(pending.wire_size());
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(pending);
        }
        Ok(out)
    }

    /// Records that the central system acknowledged these audit entries:
    /// removes their audit outbox rows and notes the success, in one durable
    /// transaction. Returns how many rows were removed.
    ///
    /// # Errors
    /// SQLite errors; nothing is changed then.
    pub fn acknowledge_audit(
        &mut self,
        ids: &[u64],
        now_unix_ms: i64,
        clock_skew_ms: Option<i64>,
    ) -> Result<u64, StoreError> {
        let tx = begin_immediate(&mut self.conn, &self.path)?;
        let db = |e| StoreError::from_sqlite(e, &self.path);
        let mut removed = 0u64;
        {
            let mut delete = tx
                .prepare_cached("DELETE FROM audit_outbox WHERE id = ?1")
                .map_err(db)?;
            for &id in ids {
                let n = delete.execute([seq_sql(id)]).map_err(db)?;
                removed += u64::try_from(n).unwrap_or(0);
            }
        }
        tx.execute(
            "UPDATE sync_state SET last_error = NULL, last_error_unix_ms = NULL, \
             last_success_unix_ms = ?1, clock_skew_ms = ?2 WHERE id = 1",
            (now_unix_ms, clock_skew_ms),
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(removed)
    }

    /// Notes a failed audit upload: `error` (no personal data) becomes the
    /// last error, and the queued entries of `ids` count one more attempt.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn note_audit_failure(
        &mut self,
        ids: &[u64],
        error: &str,
        now_unix_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = begin_immediate(&mut self.conn, &self.path)?;
        let db = |e| StoreError::from_sqlite(e, &self.path);
        {
            let mut bump = tx
                .prepare_cached("UPDATE audit_outbox SET attempts = attempts + 1 WHERE id = ?1")
                .map_err(db)?;
            for &id in ids {
                bump.execute([seq_sql(id)]).map_err(db)?;
            }
        }
        tx.execute(
            "UPDATE sync_state SET last_error = ?1, last_error_unix_ms = ?2 WHERE id = 1",
            (error, now_unix_ms),
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The outbox and the last outcome.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn status(&self) -> Result<OutboxStatus, StoreError> {
        read_status(&self.conn, &self.path)
    }

    /// Purges the personal fields of up to `max_rows` format 2 records
    /// acknowledged at or before `acked_before_unix_ms`, in one transaction;
    /// returns how many were purged (0 when none is due). Format 1 records
    /// due are marked as not purgeable and left as they are.
    ///
    /// # Errors
    /// SQLite errors; nothing is changed then.
    pub fn purge_personal(
        &mut self,
        acked_before_unix_ms: i64,
        max_rows: usize,
        now_unix_ms: i64,
    ) -> Result<u64, StoreError> {
        let tx = begin_immediate(&mut self.conn, &self.path)?;
        let db = |e| StoreError::from_sqlite(e, &self.path);
        let due: Vec<(i64, i64)> = {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT a.seq, p.format FROM sync_ack a JOIN passage p ON p.seq = a.seq \
                     WHERE a.purged_unix_ms IS NULL AND a.acked_unix_ms <= ?1 \
                     ORDER BY a.acked_unix_ms LIMIT ?2",
                )
                .map_err(db)?;
            let limit = i64::try_from(max_rows).unwrap_or(i64::MAX);
            stmt.query_map((acked_before_unix_ms, limit), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?
        };
        let mut purged = 0u64;
        {
            let blank = PERSONAL_COLUMNS
                .iter()
                .map(|c| format!("{c} = ''"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut clear = tx
                .prepare_cached(&format!(
                    "UPDATE passage SET {blank}, personal_salt = NULL \
                     WHERE seq = ?1 AND format = 2 AND personal_salt IS NOT NULL"
                ))
                .map_err(db)?;
            let mut mark = tx
                .prepare_cached("UPDATE sync_ack SET purged_unix_ms = ?2 WHERE seq = ?1")
                .map_err(db)?;
            for (seq, format) in due {
                if format == 2 {
                    clear.execute([seq]).map_err(db)?;
                    // A clock set before 1970 must not read as "not purgeable".
                    mark.execute((seq, now_unix_ms.max(1))).map_err(db)?;
                    purged += 1;
                } else {
                    mark.execute((seq, 0)).map_err(db)?;
                }
            }
        }
        tx.commit().map_err(db)?;
        Ok(purged)
    }

    /// Copies the WAL into the database file and truncates it, so that page
    /// images from before a purge do not linger in the WAL. Returns whether
    /// the checkpoint completed (another connection reading can hold it off;
    /// it is retried after the next purge).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn checkpoint(&self) -> Result<bool, StoreError> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .map_err(|e| StoreError::from_sqlite(e, &self.path))?;
        Ok(busy == 0)
    }
}

/// The outbox status of the store at `path`, read-only (for `kioskctl`):
/// nothing is written, not even a migration.
///
/// # Errors
/// [`StoreError::Open`] for a missing file, [`StoreError::NotAStore`],
/// [`StoreError::NewerSchema`], [`StoreError::OlderSchema`] (a store not yet
/// opened by this version of the lane: it has no sync state yet).
pub fn outbox_status(path: impl AsRef<Path>) -> Result<OutboxStatus, StoreError> {
    let path = path.as_ref();
    let conn = open_connection(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    check_version(&conn, path)?;
    read_status(&conn, path)
}

/// Refuses a file this build cannot sync.
fn check_version(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let found = schema::check_not_newer(conn)?;
    if found == 0 {
        return Err(StoreError::NotAStore {
            path: path.to_path_buf(),
        });
    }
    if found < schema::SCHEMA_VERSION {
        return Err(StoreError::OlderSchema {
            found,
            expected: schema::SCHEMA_VERSION,
        });
    }
    Ok(())
}

fn read_status(conn: &Connection, path: &Path) -> Result<OutboxStatus, StoreError> {
    let db = |e| StoreError::from_sqlite(e, path);
    let count = |sql: &str| -> Result<u64, StoreError> {
        let n: i64 = conn.query_row(sql, [], |row| row.get(0)).map_err(db)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    let backlog = count("SELECT COUNT(*) FROM outbox")?;
    let audit_backlog = count("SELECT COUNT(*) FROM audit_outbox")?;
    let acknowledged = count("SELECT COUNT(*) FROM sync_ack")?;
    let purged = count("SELECT COUNT(*) FROM sync_ack WHERE purged_unix_ms > 0")?;
    let oldest_enqueued_unix_ms: Option<i64> = conn
        .query_row(
            "SELECT enqueued_unix_ms FROM outbox ORDER BY seq LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(db)?;
    let state = conn
        .query_row(
            "SELECT last_error, last_error_unix_ms, last_success_unix_ms, clock_skew_ms \
             FROM sync_state WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()
        .map_err(db)?;
    let (last_error, last_error_unix_ms, last_success_unix_ms, clock_skew_ms) =
        state.unwrap_or((None, None, None, None));
    Ok(OutboxStatus {
        backlog,
        oldest_enqueued_unix_ms,
        acknowledged,
        purged,
        last_error,
        last_error_unix_ms,
        last_success_unix_ms,
        clock_skew_ms,
        audit_backlog,
    })
}
