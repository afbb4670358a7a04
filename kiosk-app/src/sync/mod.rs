//! Store and forward: the sync worker that uploads queued passage records to
//! the central system over HTTPS with mutual TLS, and retention.
//!
//! [`start`] opens the worker's own SQLite connection to the store (an
//! [`Outbox`](crate::store::Outbox); the store is WAL, so the lane's appends
//! never wait on it for more than one short transaction) and runs it on its
//! own thread with its own single-threaded tokio runtime. It reads the outbox
//! in sequence order in batches bounded by count and bytes, uploads each
//! batch (`POST /v1/passages/batch`, see `kiosk-app/sync-api.yaml`), and removes a
//! record from the outbox only once the receiver has acknowledged it
//! (`stored` or `duplicate`), in the same transaction that notes the
//! acknowledgement. After a failure it waits with capped exponential backoff
//! and jitter ([`Backoff`]). Everything it needs to resume is in the store,
//! so a restart (or `kill -9`) loses nothing: at worst a batch is sent again
//! and the receiver acknowledges the duplicates.
//!
//! Officer audit entries (schema 3) travel the same way from their own
//! outbox: after each passage batch, a batch of signed, chained audit
//! entries goes to `POST /v1/units/{unit}/audit`, acknowledged per entry by
//! audit id; [`SyncStatus::audit_backlog`] counts those still waiting.
//!
//! When [`SyncConfig::retention`] is set, the personal fields of records
//! acknowledged longer ago than that are purged (see
//! [`crate::store::personal`]); the chain stays verifiable.
//!
//! The lane polls [`SyncHandle::status`]: backlog, age of the oldest
//! unsynced record and the last error (never personal data).

mod backoff;
mod client;
pub mod wire;
mod worker;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

pub use backoff::Backoff;
pub use worker::{SyncHandle, SyncStatus, start};

/// The HTTPS client the sync worker uses (mutual TLS 1.3 with the unit's
/// provisioned files, only the provisioned CA trusted), for probes such as
/// `kioskctl selftest`.
///
/// # Errors
/// [`SyncError::Tls`] naming a missing or unusable file, [`SyncError::Client`].
pub fn https_client(config: &SyncConfig) -> Result<reqwest::Client, SyncError> {
    client::build(config)
}

use crate::store::StoreError;

/// The unit's provisioned TLS files (PEM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificate(s) the central system's certificate must chain to.
    pub ca: PathBuf,
    /// The unit's client certificate chain.
    pub cert: PathBuf,
    /// The unit's private key for that certificate.
    pub key: PathBuf,
}

/// How the sync worker runs.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncConfig {
    /// Base URL of the central system, `https://host:port` (no path).
    pub endpoint: String,
    /// This unit's id, as in its certificate.
    pub unit_id: String,
    /// The provisioned certificate, key and CA.
    pub tls: TlsFiles,
    /// Most records per batch (1 to [`wire::MAX_BATCH_RECORDS`]).
    pub batch_max_records: usize,
    /// Most upload bytes per batch (4 KiB to [`wire::MAX_BATCH_BYTES`]); a
    /// single larger record still goes alone.
    pub batch_max_bytes: usize,
    /// Limit for establishing a connection.
    pub connect_timeout: Duration,
    /// Limit for one whole upload.
    pub request_timeout: Duration,
    /// Waits after failures.
    pub backoff: Backoff,
    /// How often an idle worker looks at the outbox (besides
    /// [`SyncHandle::wake`]).
    pub idle_poll: Duration,
    /// Personal fields are purged this long after acknowledgement; `None`
    /// keeps them.
    pub retention: Option<Duration>,
    /// How often the purge runs.
    pub purge_every: Duration,
    /// Records purged per transaction.
    pub purge_batch: usize,
    /// How long the worker waits for the lane's lock.
    pub busy_timeout: Duration,
}

impl SyncConfig {
    /// Defaults: 500 records or 1 MiB per batch, 10 s connect and 60 s
    /// request limits, backoff 1 s doubling to 5 min, idle poll 2 s, no
    /// retention purge, purge every minute by 500.
    pub fn new(endpoint: impl Into<String>, unit_id: impl Into<String>, tls: TlsFiles) -> Self {
        SyncConfig {
            endpoint: endpoint.into(),
            unit_id: unit_id.into(),
            tls,
            batch_max_records: 500,
            batch_max_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            backoff: Backoff::default(),
            idle_poll: Duration::from_secs(2),
            retention: None,
            purge_every: Duration::from_secs(60),
            purge_batch: 500,
            busy_timeout: Duration::from_secs(5),
        }
    }

    /// Checks the values; the error names the field.
    ///
    /// # Errors
    /// [`SyncError::Config`].
    pub fn validate(&self) -> Result<(), SyncError> {
        let bad =
            |field: &'static str, problem: &'static str| Err(SyncError::Config { field, problem });
        let rest = self.endpoint.strip_prefix("https://").unwrap_or("");
        if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
            return bad("endpoint", "must be https://host[:port] with no path");
        }
        let id_ok = (1..=64).contains(&self.unit_id.len())
            && self
                .unit_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !id_ok {
            return bad("unit_id", "must be 1 to 64 of [A-Za-z0-9._-]");
        }
        if !(1..=wire::MAX_BATCH_RECORDS).contains(&self.batch_max_records) {
            return bad("batch_max_records", "must be 1 to 1000");
        }
        if !(4096..=wire::MAX_BATCH_BYTES).contains(&self.batch_max_bytes) {
            return bad("batch_max_bytes", "must be 4 KiB to 8 MiB");
        }
        if self.purge_batch == 0 {
            return bad("purge_batch", "must be at least 1");
        }
        if self.backoff.cap < self.backoff.base {
            return bad("backoff", "cap must not be below base");
        }
        Ok(())
    }
}

/// Why the sync worker could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// A configuration value is out of range. Operator.
    #[error("sync config: {field} {problem}")]
    Config {
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
    /// A provisioned TLS file is missing or unusable. Provisioning.
    #[error("sync TLS file {path}: {problem}")]
    Tls {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The HTTPS client could not be built.
    #[error("sync HTTPS client: {0}")]
    Client(String),
    /// The store could not be opened for syncing.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The worker's thread or runtime could not be started. Environment.
    #[error("sync worker thread: {0}")]
    Thread(#[from] std::io::Error),
}
