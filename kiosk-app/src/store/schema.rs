//! The database schema and its forward-only migrations.
//!
//! Migration `n` (1-based) is `MIGRATIONS[n - 1]`; each runs in its own
//! transaction together with its row in `schema_version`. A store whose
//! newest version is above [`SCHEMA_VERSION`] was written by newer software
//! and is refused. Migrations are never edited once released: add one.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::store::StoreError;

/// Migration 1: passage records, their sync outbox, and the officer audit.
const V1: &str = "
CREATE TABLE passage (
    seq                  INTEGER PRIMARY KEY,
    record_id            TEXT    NOT NULL UNIQUE,
    time_unix_ms         INTEGER NOT NULL,
    site                 TEXT    NOT NULL,
    terminal             TEXT    NOT NULL,
    lane                 TEXT    NOT NULL,
    direction            TEXT    NOT NULL,
    decision             TEXT    NOT NULL,
    reason_codes         TEXT    NOT NULL,  -- JSON array of strings
    document_type        TEXT    NOT NULL,
    issuing_state        TEXT    NOT NULL,
    document_number      TEXT    NOT NULL,
    nationality          TEXT    NOT NULL,
    primary_identifier   TEXT    NOT NULL,
    secondary_identifier TEXT    NOT NULL,
    birth_date           TEXT    NOT NULL,
    sex                  TEXT    NOT NULL,
    expiry_date          TEXT    NOT NULL,
    genuine              INTEGER NOT NULL,
    failed_checks        TEXT    NOT NULL,  -- JSON array of strings
    permitted_stay_days  INTEGER,
    biometrics           TEXT    NOT NULL,  -- not_configured | face_match | no_usable_capture
    bio_score            INTEGER,
    bio_threshold        INTEGER,
    bio_matched          INTEGER,
    bio_tries            INTEGER,
    prev_hash            BLOB    NOT NULL,
    signature            BLOB    NOT NULL,
    record_hash          BLOB    NOT NULL
);

-- Records waiting for the central system (issue 5). A row is written in the
-- same transaction as its passage record and removed when acknowledged.
CREATE TABLE outbox (
    seq            INTEGER PRIMARY KEY REFERENCES passage(seq),
    enqueued_unix_ms INTEGER NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit (
    id           INTEGER PRIMARY KEY,
    officer_id   TEXT    NOT NULL,
    time_unix_ms INTEGER NOT NULL,
    lane         TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    record_id    TEXT    REFERENCES passage(record_id),
    reason       TEXT    NOT NULL
);
";

/// Migration 2 (issue 5): format 2 records (personal fields committed to by
/// a salted digest, so they can be purged), acknowledgements from the
/// central system, and the sync worker's last outcome.
///
/// Rows written before it keep `format = 1` and NULL salt and digest. A
/// format 2 row whose `personal_salt` is NULL has been purged: its six
/// personal columns are empty strings and it verifies by its digest.
const V2: &str = "
ALTER TABLE passage ADD COLUMN format          INTEGER NOT NULL DEFAULT 1;
ALTER TABLE passage ADD COLUMN personal_salt   BLOB;
ALTER TABLE passage ADD COLUMN personal_digest BLOB;

-- One row per record the central system acknowledged (written in the same
-- transaction that removes its outbox row). purged_unix_ms: when its
-- personal fields were purged; 0 for a format 1 record, which cannot be.
CREATE TABLE sync_ack (
    seq             INTEGER PRIMARY KEY REFERENCES passage(seq),
    acked_unix_ms   INTEGER NOT NULL,
    purged_unix_ms  INTEGER
);
CREATE INDEX sync_ack_unpurged ON sync_ack(acked_unix_ms) WHERE purged_unix_ms IS NULL;

-- The sync worker's last outcome, for `kioskctl store status` (one row).
CREATE TABLE sync_state (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    last_error            TEXT,
    last_error_unix_ms    INTEGER,
    last_success_unix_ms  INTEGER,
    clock_skew_ms         INTEGER
);
INSERT INTO sync_state (id) VALUES (1);
";

/// Migration 3 (issue 7): officer audit entries are signed, hash-chained
/// and synced like passage records.
///
/// `prev_hash`, `signature` and `entry_hash` seal a row (see
/// [`crate::store::audit`]); rows written before it are sealed by the first
/// [`crate::store::Store::open`] after it (SQL has no key). `audit_outbox`
/// holds the entries waiting for the central system: a row is written in
/// the same transaction as its audit row and removed when acknowledged; the
/// rows already stored are queued here.
const V3: &str = "
ALTER TABLE audit ADD COLUMN prev_hash  BLOB;
ALTER TABLE audit ADD COLUMN signature  BLOB;
ALTER TABLE audit ADD COLUMN entry_hash BLOB;

CREATE TABLE audit_outbox (
    id               INTEGER PRIMARY KEY REFERENCES audit(id),
    enqueued_unix_ms INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0
);
INSERT INTO audit_outbox (id, enqueued_unix_ms)
    SELECT id, CAST(unixepoch('subsec') * 1000 AS INTEGER) FROM audit;
";

/// Every migration, oldest first.
const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// The schema version this build writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The newest version recorded in the file; 0 for a new, empty file.
pub(crate) fn current_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    let has_table: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if has_table.is_none() {
        return Ok(0);
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |row| row.get(0),
    )
}

/// Refuses a store from newer software.
pub(crate) fn check_not_newer(conn: &Connection) -> Result<i64, StoreError> {
    let found = current_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// Brings the schema up to [`SCHEMA_VERSION`], one migration per transaction.
pub(crate) fn migrate(conn: &mut Connection, now_unix_ms: i64) -> Result<(), rusqlite::Error> {
    migrate_to(conn, now_unix_ms, SCHEMA_VERSION)
}

/// Brings the schema up to `target` (tests make old stores with it).
pub(crate) fn migrate_to(
    conn: &mut Connection,
    now_unix_ms: i64,
    target: i64,
) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version          INTEGER PRIMARY KEY,
             applied_unix_ms  INTEGER NOT NULL
         );",
    )?;
    tx.commit()?;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version = current_version(&tx)?;
        if version >= target {
            return Ok(());
        }
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|done| MIGRATIONS.get(done))
        else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_unix_ms) VALUES (?1, ?2)",
            (version + 1, now_unix_ms),
        )?;
        tx.commit()?;
    }
}
