//! What can go wrong with the store, and whose fault it is.

use std::path::PathBuf;

/// An error from the passage-record store.
///
/// No variant carries personal data: names, document numbers and birth dates
/// never appear in an error or its `Debug` or `Display` output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The disk (or the configured page limit) is full; nothing was written.
    /// Environment: the lane must close itself until space returns.
    #[error("store is full (disk or page limit): nothing was written")]
    Full,

    /// The file exists but is not an SQLite database. Environment or operator:
    /// the wrong path, or the file was overwritten. Nothing was changed.
    #[error("{path} is not an SQLite database; refusing to touch it")]
    NotSqlite {
        /// The file that was opened.
        path: PathBuf,
    },

    /// The database file is damaged (`integrity_check` or SQLite itself said
    /// so). Environment: storage failure or tampering. Nothing is rebuilt.
    #[error("{path} is corrupt ({detail}); the store stays closed, nothing is rebuilt")]
    Corrupt {
        /// The file that was opened.
        path: PathBuf,
        /// What SQLite reported (page and table names only).
        detail: String,
    },

    /// The file is an SQLite database but holds no passage store. Operator:
    /// the wrong path.
    #[error("{path} is an SQLite database but not a passage store")]
    NotAStore {
        /// The file that was opened.
        path: PathBuf,
    },

    /// The store was written by a newer version of this software. Operator:
    /// a downgrade; the old code must not guess at a newer schema.
    #[error("store schema version {found} is newer than this software supports ({supported})")]
    NewerSchema {
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// The store's schema is older than this software's, and this
    /// connection does not migrate (the sync worker's). Caller's bug: open it
    /// with [`crate::store::Store::open`] first, which migrates.
    #[error(
        "store schema version {found} is older than this software's ({expected}); open it with the store first"
    )]
    OlderSchema {
        /// The version found in the file.
        found: i64,
        /// The version this build writes.
        expected: i64,
    },

    /// The store could not be opened (missing directory, permissions).
    /// Environment.
    #[error("cannot open store {path}: {source}")]
    Open {
        /// The file that was opened.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },

    /// SQLite would not switch the file to WAL (some network or read-only
    /// filesystems). Environment: durability cannot be promised.
    #[error("{path} cannot use WAL (journal mode stays {mode})")]
    NoWal {
        /// The file that was opened.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },

    /// Another process holds the database lock past the busy timeout.
    /// Environment: a second lane process or a stuck tool.
    #[error("store is locked by another connection")]
    Busy,

    /// The caller passed a record that cannot be stored. Caller's bug.
    #[error("invalid record: {field} {problem}")]
    InvalidRecord {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },

    /// A record with this id is already stored. Caller's bug (ids are random
    /// 128-bit values, so a repeat means the same record was appended twice).
    #[error("record id {record_id} is already stored")]
    DuplicateRecordId {
        /// The repeated id (random, not personal data).
        record_id: String,
    },

    /// The operating system's random number generator failed. Environment.
    #[error("OS random number generator failed: {0}")]
    Random(getrandom::Error),

    /// Any other SQLite failure. Most likely our bug.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    /// Classifies an SQLite error: full disk, corruption, not a database and
    /// busy get their own variants; everything else stays `Sqlite`.
    pub(crate) fn from_sqlite(err: rusqlite::Error, path: &std::path::Path) -> Self {
        use rusqlite::ErrorCode;
        match err.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::Full,
            Some(ErrorCode::NotADatabase) => StoreError::NotSqlite {
                path: path.to_path_buf(),
            },
            Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: err.to_string(),
            },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Sqlite(err),
        }
    }
}
