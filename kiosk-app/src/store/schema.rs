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

/// Every migration, oldest first.
const MIGRATIONS: &[&str] = &[V1];

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
