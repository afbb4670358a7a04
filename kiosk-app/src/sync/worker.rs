//! The worker thread: batches, uploads, acknowledgements, backoff, purge,
//! and the status the lane polls.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};

use crate::store::{Outbox, OutboxStatus, PendingAudit, PendingRecord, now_unix_ms};
use crate::sync::backoff::random_jitter;
use crate::sync::client::{self, UploadError};
use crate::sync::wire::{AuditBatchResponse, BatchResponse};
use crate::sync::{SyncConfig, SyncError};

/// How often the full status (counts) is re-read while busy.
const STATUS_REFRESH: Duration = Duration::from_secs(1);

/// Purge transactions per purge run (the rest waits for the next run).
const PURGE_ROUNDS: usize = 20;

/// What the lane sees of the sync worker. Carries no personal data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// Records waiting for the central system.
    pub backlog: u64,
    /// How long the oldest waiting record has waited (by the unit's clock).
    pub oldest_unsynced_age: Option<Duration>,
    /// The last failure, until a batch is fully acknowledged.
    pub last_error: Option<String>,
    /// Failed attempts in a row (0 after a success).
    pub consecutive_failures: u32,
    /// When the central system last acknowledged a batch (unit's clock).
    pub last_success_unix_ms: Option<i64>,
    /// The receiver's clock minus the unit's, at the last success.
    pub clock_skew_ms: Option<i64>,
    /// Records the central system has acknowledged, in total.
    pub acknowledged: u64,
    /// Acknowledged records whose personal fields were purged.
    pub purged: u64,
    /// False once the worker has stopped.
    pub running: bool,
    /// Officer audit entries waiting for the central system.
    pub audit_backlog: u64,
}

/// What the worker last knew, kept as times so the age is current when read.
#[derive(Clone, Debug, Default)]
struct Snapshot {
    outbox: OutboxStatus,
    consecutive_failures: u32,
    running: bool,
}

struct Shared {
    status: Mutex<Snapshot>,
    wake: Notify,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut Snapshot)) {
        f(&mut self.status.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// The running worker. Dropping it stops the worker and waits for its
/// thread (an upload in flight is abandoned; its records stay queued).
pub struct SyncHandle {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SyncHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncHandle").finish_non_exhaustive()
    }
}

impl SyncHandle {
    /// The current status; cheap (no database access), never blocks on I/O.
    pub fn status(&self) -> SyncStatus {
        let snap = self
            .shared
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let o = snap.outbox;
        SyncStatus {
            backlog: o.backlog,
            oldest_unsynced_age: o.oldest_age(now_unix_ms()),
            last_error: o.last_error,
            consecutive_failures: snap.consecutive_failures,
            last_success_unix_ms: o.last_success_unix_ms,
            clock_skew_ms: o.clock_skew_ms,
            acknowledged: o.acknowledged,
            purged: o.purged,
            running: snap.running,
            audit_backlog: o.audit_backlog,
        }
    }

    /// Tells an idle worker that a record was queued (optional: it polls).
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// Stops the worker and waits for its thread.
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        let _ = self.stop.send(true);
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Starts the sync worker for the store at `store_path` (which the lane has
/// opened, and so migrated, with [`crate::store::Store::open`]).
///
/// # Errors
/// [`SyncError::Config`] for a bad value, [`SyncError::Tls`] for unusable
/// TLS files, [`SyncError::Store`] when the store cannot be opened for
/// syncing, [`SyncError::Thread`] when no thread or runtime can be made.
/// Network trouble is never an error here: the worker retries.
pub fn start(store_path: impl AsRef<Path>, config: SyncConfig) -> Result<SyncHandle, SyncError> {
    config.validate()?;
    let outbox = Outbox::open(store_path, config.busy_timeout)?;
    let http = client::build(&config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let shared = Arc::new(Shared {
        status: Mutex::new(Snapshot {
            outbox: outbox.status()?,
            consecutive_failures: 0,
            running: true,
        }),
        wake: Notify::new(),
    });
    let (stop, stop_rx) = watch::channel(false);
    let worker = Worker {
        outbox,
        http,
        config,
        shared: Arc::clone(&shared),
        stop: stop_rx,
        failures: 0,
        last_refresh: Instant::now(),
    };
    let thread = std::thread::Builder::new()
        .name("sync".into())
        .spawn(move || runtime.block_on(worker.run()))?;
    Ok(SyncHandle {
        shared,
        stop,
        thread: Some(thread),
    })
}

struct Worker {
    outbox: Outbox,
    http: reqwest::Client,
    config: SyncConfig,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    failures: u32,
    last_refresh: Instant,
}

/// What one upload achieved.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Sorted {
    /// Sequence numbers the receiver holds.
    pub(crate) acknowledged: Vec<u64>,
    /// The first record not acknowledged, and why (no personal data).
    pub(crate) problem: Option<String>,
    /// Sequence numbers not acknowledged.
    pub(crate) unacknowledged: Vec<u64>,
}

/// Matches the receiver's results to the batch by record id: only records
/// that were sent and answered `stored` or `duplicate` count as acknowledged.
pub(crate) fn sort_results(batch: &[PendingRecord], response: &BatchResponse) -> Sorted {
    let mut acknowledged = Vec::new();
    let mut unacknowledged = Vec::new();
    let mut problem = None;
    for record in batch {
        let id = record.record_id.to_hex();
        let result = response.results.iter().find(|r| r.record_id == id);
        match result {
            Some(r) if r.status.is_acknowledged() => acknowledged.push(record.seq),
            other => {
                unacknowledged.push(record.seq);
                if problem.is_none() {
                    let why = match other {
                        Some(r) => format!(
                            "rejected: {}",
                            r.reason.as_deref().unwrap_or("no reason given")
                        ),
                        None => "not answered".to_owned(),
                    };
                    problem = Some(format!("record {id} (seq {}) {why}", record.seq));
                }
            }
        }
    }
    Sorted {
        acknowledged,
        problem,
        unacknowledged,
    }
}

/// Matches the receiver's results to an audit batch by audit id, as
/// [`sort_results`] does for passage records.
pub(crate) fn sort_audit_results(batch: &[PendingAudit], response: &AuditBatchResponse) -> Sorted {
    let mut acknowledged = Vec::new();
    let mut unacknowledged = Vec::new();
    let mut problem = None;
    for entry in batch {
        let result = response.results.iter().find(|r| r.id == entry.id);
        match result {
            Some(r) if r.status.is_acknowledged() => acknowledged.push(entry.id),
            other => {
                unacknowledged.push(entry.id);
                if problem.is_none() {
                    let why = match other {
                        Some(r) => format!(
                            "rejected: {}",
                            r.reason.as_deref().unwrap_or("no reason given")
                        ),
                        None => "not answered".to_owned(),
                    };
                    problem = Some(format!("audit entry {} {why}", entry.id));
                }
            }
        }
    }
    Sorted {
        acknowledged,
        problem,
        unacknowledged,
    }
}

impl Worker {
    async fn run(mut self) {
        tracing::info!(unit = %self.config.unit_id, "sync worker started");
        let mut next_purge = Instant::now();
        while !*self.stop.borrow() {
            if let Some(retention) = self.config.retention
                && Instant::now() >= next_purge
            {
                self.purge(retention);
                next_purge = Instant::now() + self.config.purge_every;
            }
            let batch = match self
                .outbox
                .next_batch(self.config.batch_max_records, self.config.batch_max_bytes)
            {
                Ok(batch) => batch,
                Err(e) => {
                    self.failed(&[], &format!("reading the outbox: {e}"));
                    self.back_off().await;
                    continue;
                }
            };
            if !batch.is_empty() {
                let upload = client::upload(
                    &self.http,
                    &self.config.endpoint,
                    &self.config.unit_id,
                    &batch,
                );
                let mut stop = self.stop.clone();
                let result = tokio::select! {
                    result = upload => result,
                    _ = stop.wait_for(|s| *s) => break,
                };
                self.handle(&batch, result).await;
            }
            // Audit entries go after each passage batch, so a passage record
            // the receiver keeps rejecting does not hold them back.
            let audits = match self
                .outbox
                .next_audit_batch(self.config.batch_max_records, self.config.batch_max_bytes)
            {
                Ok(audits) => audits,
                Err(e) => {
                    self.failed(&[], &format!("reading the audit outbox: {e}"));
                    self.back_off().await;
                    continue;
                }
            };
            if !audits.is_empty() {
                let upload = client::upload_audit(
                    &self.http,
                    &self.config.endpoint,
                    &self.config.unit_id,
                    &audits,
                );
                let mut stop = self.stop.clone();
                let result = tokio::select! {
                    result = upload => result,
                    _ = stop.wait_for(|s| *s) => break,
                };
                self.handle_audit(&audits, result).await;
            }
            if batch.is_empty() && audits.is_empty() {
                self.refresh(true);
                self.idle().await;
            }
        }
        self.refresh(true);
        self.shared.update(|s| s.running = false);
        tracing::info!("sync worker stopped");
    }

    async fn handle(
        &mut self,
        batch: &[PendingRecord],
        result: Result<BatchResponse, UploadError>,
    ) {
        let seqs: Vec<u64> = batch.iter().map(|r| r.seq).collect();
        let response = match result {
            Ok(response) => response,
            Err(e) => {
                self.failed(&seqs, &format!("upload of {} records: {e}", seqs.len()));
                self.back_off().await;
                return;
            }
        };
        let now = now_unix_ms();
        let sorted = sort_results(batch, &response);
        let skew = response.received_unix_ms.saturating_sub(now);
        if !sorted.acknowledged.is_empty() {
            match self
                .outbox
                .acknowledge(&sorted.acknowledged, now, Some(skew))
            {
                Ok(removed) => {
                    tracing::debug!(acknowledged = removed, "batch acknowledged");
                    self.shared.update(|s| {
                        s.outbox.backlog = s.outbox.backlog.saturating_sub(removed);
                        s.outbox.acknowledged += removed;
                        s.outbox.last_error = None;
                        s.outbox.last_success_unix_ms = Some(now);
                        s.outbox.clock_skew_ms = Some(skew);
                    });
                }
                Err(e) => {
                    // Not recorded as acknowledged: the records stay queued
                    // and are sent again (the receiver answers duplicate).
                    self.failed(&[], &format!("recording acknowledgements: {e}"));
                    self.back_off().await;
                    return;
                }
            }
        }
        match sorted.problem {
            None => {
                self.failures = 0;
                self.shared.update(|s| s.consecutive_failures = 0);
                self.refresh(false);
            }
            Some(problem) => {
                self.failed(&sorted.unacknowledged, &problem);
                if sorted.acknowledged.is_empty() {
                    self.back_off().await;
                }
            }
        }
    }

    /// Acts on the answer to an audit upload, as [`Worker::handle`] does for
    /// passage records: acknowledged entries leave the audit outbox.
    async fn handle_audit(
        &mut self,
        batch: &[PendingAudit],
        result: Result<AuditBatchResponse, UploadError>,
    ) {
        let ids: Vec<u64> = batch.iter().map(|a| a.id).collect();
        let response = match result {
            Ok(response) => response,
            Err(e) => {
                self.failed_audit(&ids, &format!("upload of {} audit entries: {e}", ids.len()));
                self.back_off().await;
                return;
            }
        };
        let now = now_unix_ms();
        let sorted = sort_audit_results(batch, &response);
        let skew = response.received_unix_ms.saturating_sub(now);
        if !sorted.acknowledged.is_empty() {
            match self
                .outbox
                .acknowledge_audit(&sorted.acknowledged, now, Some(skew))
            {
                Ok(removed) => {
                    tracing::debug!(acknowledged = removed, "audit batch acknowledged");
                    self.shared.update(|s| {
                        s.outbox.audit_backlog = s.outbox.audit_backlog.saturating_sub(removed);
                        s.outbox.last_error = None;
                        s.outbox.last_success_unix_ms = Some(now);
                        s.outbox.clock_skew_ms = Some(skew);
                    });
                }
                Err(e) => {
                    self.failed_audit(&[], &format!("recording audit acknowledgements: {e}"));
                    self.back_off().await;
                    return;
                }
            }
        }
        match sorted.problem {
            None => {
                self.failures = 0;
                self.shared.update(|s| s.consecutive_failures = 0);
                self.refresh(false);
            }
            Some(problem) => {
                self.failed_audit(&sorted.unacknowledged, &problem);
                if sorted.acknowledged.is_empty() {
                    self.back_off().await;
                }
            }
        }
    }

    /// Notes a failed audit upload in the store and the status.
    fn failed_audit(&mut self, ids: &[u64], error: &str) {
        let now = now_unix_ms();
        if let Err(e) = self.outbox.note_audit_failure(ids, error, now) {
            tracing::warn!(error = %e, "could not record the audit sync failure");
        }
        // The error is recorded; `failed` with no records re-records it and
        // updates the status (counting one failure).
        self.failed(&[], error);
    }

    /// Notes a failure in the store and the status.
    fn failed(&mut self, seqs: &[u64], error: &str) {
        self.failures = self.failures.saturating_add(1);
        tracing::warn!(error, failures = self.failures, "sync failed");
        let now = now_unix_ms();
        if let Err(e) = self.outbox.note_failure(seqs, error, now) {
            tracing::warn!(error = %e, "could not record the sync failure");
        }
        let failures = self.failures;
        self.shared.update(|s| {
            s.consecutive_failures = failures;
            s.outbox.last_error = Some(error.to_owned());
            s.outbox.last_error_unix_ms = Some(now);
        });
        // Failures are at most one per backoff delay: always re-read, so the
        // lane sees the backlog grow during an outage.
        self.refresh(true);
    }

    /// Re-reads counts from the store (at most every [`STATUS_REFRESH`]
    /// unless `now`).
    fn refresh(&mut self, now: bool) {
        if !now && self.last_refresh.elapsed() < STATUS_REFRESH {
            return;
        }
        self.last_refresh = Instant::now();
        match self.outbox.status() {
            Ok(outbox) => self.shared.update(|s| s.outbox = outbox),
            Err(e) => tracing::warn!(error = %e, "could not read the sync status"),
        }
    }

    /// Purges what retention says is due, a bounded amount per run.
    fn purge(&mut self, retention: Duration) {
        let now = now_unix_ms();
        let age = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now.saturating_sub(age);
        let mut total = 0;
        for _ in 0..PURGE_ROUNDS {
            match self
                .outbox
                .purge_personal(cutoff, self.config.purge_batch, now)
            {
                Ok(0) => break,
                Ok(n) => total += n,
                Err(e) => {
                    tracing::warn!(error = %e, "retention purge failed");
                    break;
                }
            }
        }
        if total > 0 {
            tracing::info!(purged = total, "personal fields purged");
            if let Ok(false) | Err(_) = self.outbox.checkpoint() {
                tracing::debug!("WAL checkpoint after purge was held off");
            }
            self.refresh(true);
        }
    }

    /// Waits out the backoff delay (or until stopped).
    async fn back_off(&mut self) {
        let delay = self.config.backoff.delay(self.failures, random_jitter());
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }

    /// Waits for a wake-up, the idle poll, or stop.
    async fn idle(&mut self) {
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = self.shared.wake.notified() => {}
            _ = tokio::time::sleep(self.config.idle_poll) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
}
