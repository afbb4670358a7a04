//! The appliance's runtime: one tokio task runs the [`LaneCore`]; blocking
//! device work runs on tokio's blocking pool; the store has its own thread.
//!
//! Every device reports into one bounded channel of [`Input`]s; a tick
//! every 100 ms lets the state machine check its deadlines. Nothing the
//! devices do can stall the loop: a chip that never answers is timed out by
//! the state machine while its read is still running.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use card_reader::Readers;
use icao9303::mrz::Mrz;
use icao9303::pa::TrustStore;
use tokio::sync::{broadcast, mpsc};

use crate::devices::chip::{self, ChipConfig, ChipData, ChipError};
use crate::face::{FaceError, FaceVerifier};
use crate::lane::health::{Health, HealthLimits};
use crate::lane::{GateNotice, GateStep, LaneCore, LaneEvent, Referral, Work};
use crate::session::{Device, Event};
use crate::store::{Store, StoreError};
use crate::sync::SyncHandle;

/// How often the state machine checks its deadlines.
pub const TICK: Duration = Duration::from_millis(100);

/// The free disk and the page headroom a store that was full must each show before the lane reopens.
pub const STORE_ROOM_NEEDED: u64 = 256 * 1024;

/// Audit entries held in memory while the store is full, written when it has room.
const HELD_AUDIT_MAX: usize = 10_000;

/// Inputs the lane's loop takes from devices and the officer.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// An event for the state machine.
    Event(Event),
    /// A gate report with no state-machine event of its own (told onwards).
    Gate(GateNotice),
    /// An audit entry from outside the lane (an officer's command, with the officer's id).
    Audit(crate::store::AuditEntry),
    /// The store refused a write for lack of space (from the store thread).
    StoreFull,
    /// The store's answer to a probe after [`Input::StoreFull`]: whether it
    /// has room again (free disk under it and page headroom of at least
    /// [`STORE_ROOM_NEEDED`] each, and every audit entry it held back written).
    StoreRoom(bool),
    /// Stop the lane.
    Shutdown,
}

/// Where the chip comes from: a PC/SC reader, or a test chip.
pub trait ChipSource: Send + Sync {
    /// Reads the chip of the document with this MRZ (see [`chip::read_chip`]).
    ///
    /// # Errors
    /// [`ChipError::Removed`] when the document left, else [`ChipError::Failed`].
    fn read(&self, mrz: &Mrz) -> Result<ChipData, ChipError>;

    /// Waits up to `timeout` for a document on the reader; whether one came.
    fn wait_for_card(&self, timeout: Duration) -> bool;
}

/// A PC/SC reader through pcscd.
pub struct PcscReader {
    readers: Readers,
    config: ChipConfig,
}

impl PcscReader {
    /// The reader named in `config`, through the PC/SC service.
    ///
    /// # Errors
    /// When the PC/SC service is not running.
    pub fn new(config: ChipConfig) -> Result<Self, icao9303::ChannelError> {
        Ok(Self {
            readers: Readers::establish()?,
            config,
        })
    }
}

impl ChipSource for PcscReader {
    fn read(&self, mrz: &Mrz) -> Result<ChipData, ChipError> {
        chip::read_chip(&self.readers, &self.config, mrz)
    }

    fn wait_for_card(&self, timeout: Duration) -> bool {
        self.readers
            .wait_for_card(&self.config.reader, timeout)
            .is_ok()
    }
}

/// The devices and stores the runtime works with.
pub struct LaneIo {
    /// The chip reader.
    pub chip: Arc<dyn ChipSource>,
    /// The CSCA trust store for Passive Authentication.
    pub trust: Arc<TrustStore>,
    /// The face unit, when the lane verifies faces.
    pub face: Option<Arc<Mutex<dyn FaceVerifier + Send>>>,
    /// Takes gate orders (must not block: the gate worker queues them).
    pub gate: Box<dyn FnMut(GateStep) + Send>,
    /// The passage-record store (moved to its own thread).
    pub store: Store,
    /// How long a removed document may take to come back.
    pub document_wait: Duration,
    /// Free disk and sync, watched every [`HEALTH_EVERY`].
    pub watch: Watch,
}

/// How often free disk and the sync worker are looked at.
pub const HEALTH_EVERY: Duration = Duration::from_secs(1);

/// What the runtime watches besides the devices.
pub struct Watch {
    /// Free bytes under the store, `None` when unknown.
    pub free_space: Box<dyn Fn() -> Option<u64> + Send>,
    /// The sync worker, when the unit syncs (woken after each record).
    pub sync: Option<Arc<SyncHandle>>,
    /// When the lane closes or alerts.
    pub limits: HealthLimits,
}

impl Watch {
    /// Free space on the filesystem holding `store`, with no sync and
    /// the default limits (64 MiB free; 1000 records or an hour behind).
    #[must_use]
    pub fn disk(store: &Path) -> Self {
        let dir = store_dir(store).to_path_buf();
        Watch {
            free_space: Box::new(move || free_bytes(&dir)),
            sync: None,
            limits: HealthLimits {
                min_free_bytes: 64 * 1024 * 1024,
                alert_backlog: 1000,
                alert_age: Duration::from_secs(3600),
            },
        }
    }
}

/// The directory holding the store file (`.` for a bare file name).
fn store_dir(store: &Path) -> &Path {
    store
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Free bytes for unprivileged writers on the filesystem holding `dir`.
#[must_use]
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Where the lane tells what happens.
#[derive(Debug, Clone)]
pub struct Outlets {
    /// Every [`LaneEvent`] (no personal data: for the screen, logs, the officer).
    pub events: broadcast::Sender<LaneEvent>,
    /// Every [`Referral`] with its personal data: for the supervision channel only.
    pub referrals: broadcast::Sender<Referral>,
}

impl Outlets {
    /// Outlets with room for `capacity` unread messages per listener.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            events: broadcast::channel(capacity).0,
            referrals: broadcast::channel(capacity).0,
        }
    }
}

/// A sender for device threads; `blocking_send` from threads, `send` from tasks.
pub type InputSender = mpsc::Sender<Input>;

/// The channel the lane's loop reads: its sender for devices, its receiver for [`run`].
#[must_use]
pub fn channel() -> (InputSender, mpsc::Receiver<Input>) {
    mpsc::channel(256)
}

/// Runs the lane until [`Input::Shutdown`] or every sender is gone.
///
/// `first` is the work [`LaneCore::new`] returned. Events and referrals go
/// to `outlets` (nobody listening is fine).
pub async fn run(
    mut core: LaneCore,
    first: Vec<Work>,
    mut io: LaneIo,
    inputs: (InputSender, mpsc::Receiver<Input>),
    outlets: Outlets,
) {
    let events = outlets.events.clone();
    let (tx, mut rx) = inputs;
    let store = spawn_store(io.store, tx.clone(), events.clone(), io.watch.sync.clone());
    let mut health = Health::default();
    let io_rest = Rest {
        chip: io.chip.clone(),
        trust: io.trust.clone(),
        face: io.face.take(),
        document_wait: io.document_wait,
        store,
        tx: tx.clone(),
    };
    drop(tx);
    for w in first {
        io_rest.dispatch(w, &mut io.gate);
    }
    publish(&mut core, &outlets);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut health_tick = tokio::time::interval(HEALTH_EVERY);
    health_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let input = tokio::select! {
            biased;
            input = rx.recv() => match input {
                Some(input) => input,
                None => break,
            },
            _ = tick.tick() => Input::Event(Event::Tick),
            _ = health_tick.tick() => {
                let status = io.watch.sync.as_ref().map(|s| s.status());
                let (lane_events, notices) =
                    health.sample((io.watch.free_space)(), status.as_ref(), &io.watch.limits);
                for n in notices {
                    let _ = events.send(n);
                }
                if health.awaits_store_room() {
                    io_rest.probe_store();
                }
                for e in lane_events {
                    for w in core.handle(e, Instant::now(), SystemTime::now()) {
                        io_rest.dispatch(w, &mut io.gate);
                    }
                }
                publish(&mut core, &outlets);
                continue;
            }
        };
        match input {
            Input::Event(event) => {
                for w in core.handle(event, Instant::now(), SystemTime::now()) {
                    io_rest.dispatch(w, &mut io.gate);
                }
            }
            Input::Gate(notice) => {
                let _ = events.send(LaneEvent::Gate(notice));
            }
            Input::Audit(entry) => io_rest.dispatch(Work::Audit(entry), &mut io.gate),
            Input::StoreFull => health.store_full(),
            Input::StoreRoom(room) => {
                for e in health.store_room(room) {
                    for w in core.handle(e, Instant::now(), SystemTime::now()) {
                        io_rest.dispatch(w, &mut io.gate);
                    }
                }
            }
            Input::Shutdown => break,
        }
        publish(&mut core, &outlets);
    }
    // The store thread ends when its sender goes; the gate's watchdog makes
    // the gate safe when the kiosk stops.
    (io.gate)(GateStep::TurnBack);
}

/// Sends the core's events and referrals to the listeners.
fn publish(core: &mut LaneCore, outlets: &Outlets) {
    // No listener is not an error.
    for e in core.take_events() {
        let _ = outlets.events.send(e);
    }
    for r in core.take_referrals() {
        let _ = outlets.referrals.send(r);
    }
}

/// A job for the store thread.
enum StoreJob {
    Record {
        passage: crate::session::PassageId,
        record: Box<crate::store::PassageRecord>,
    },
    Audit(crate::store::AuditEntry),
    /// Has the store room again? Answered with [`Input::StoreRoom`].
    Probe,
}

/// Everything `dispatch` needs but the gate.
struct Rest {
    chip: Arc<dyn ChipSource>,
    trust: Arc<TrustStore>,
    face: Option<Arc<Mutex<dyn FaceVerifier + Send>>>,
    document_wait: Duration,
    store: std_mpsc::Sender<StoreJob>,
    tx: InputSender,
}

impl Rest {
    /// Asks the store thread whether it has room again.
    fn probe_store(&self) {
        if self.store.send(StoreJob::Probe).is_err() {
            let _ = self.tx.try_send(Input::StoreRoom(false));
        }
    }

    /// Starts one piece of work; its result comes back through the channel.
    fn dispatch(&self, work: Work, gate: &mut Box<dyn FnMut(GateStep) + Send>) {
        match work {
            Work::ReadChip { passage, mrz } => {
                let chip = self.chip.clone();
                let trust = self.trust.clone();
                let tx = self.tx.clone();
                let wait = self.document_wait;
                tokio::task::spawn_blocking(move || {
                    let event = match chip.read(&mrz) {
                        Ok(data) => Event::ChipRead {
                            passage,
                            read: Box::new(chip::assess(&data, &mrz, &trust, SystemTime::now())),
                        },
                        Err(ChipError::Removed) => {
                            let _ = tx.blocking_send(Input::Event(Event::DocumentRemoved));
                            if !chip.wait_for_card(wait) {
                                return;
                            }
                            Event::DocumentReplaced
                        }
                        Err(ChipError::Failed { failure, message }) => {
                            tracing::warn!(passage = passage.0, %message, "chip read failed");
                            Event::ChipFailed { passage, failure }
                        }
                    };
                    let _ = tx.blocking_send(Input::Event(event));
                });
            }
            Work::VerifyFace { passage, reference } => {
                let tx = self.tx.clone();
                let face = self.face.clone();
                tokio::task::spawn_blocking(move || {
                    let result = match face {
                        Some(unit) => match unit.lock() {
                            Ok(mut unit) => unit.verify(&reference),
                            Err(_) => Err(FaceError::Unit("face unit lock poisoned".into())),
                        },
                        None => Err(FaceError::Unit("no face unit configured".into())),
                    };
                    let _ = tx.blocking_send(Input::Event(Event::FaceResult { passage, result }));
                });
            }
            Work::Record { passage, record } => {
                if self
                    .store
                    .send(StoreJob::Record { passage, record })
                    .is_err()
                {
                    let _ = self
                        .tx
                        .try_send(Input::Event(Event::RecordFailed { passage }));
                }
            }
            Work::Audit(entry) => {
                if self.store.send(StoreJob::Audit(entry)).is_err() {
                    let _ = self
                        .tx
                        .try_send(Input::Event(Event::DeviceFault(Device::Store)));
                }
            }
            Work::Gate(step) => gate(step),
        }
    }
}

/// The store's thread: commits records and audit entries in order.
fn spawn_store(
    store: Store,
    tx: InputSender,
    events: broadcast::Sender<LaneEvent>,
    sync: Option<Arc<SyncHandle>>,
) -> std_mpsc::Sender<StoreJob> {
    let (jobs, rx) = std_mpsc::channel::<StoreJob>();
    thread::spawn(move || {
        // Audit entries refused while the store was full: kept, in order, and
        // written before the store says it has room (an officer's action is
        // never dropped for a full disk while the kiosk runs).
        let mut held: VecDeque<crate::store::AuditEntry> = VecDeque::new();
        for job in rx {
            let event = match job {
                StoreJob::Probe => {
                    let room = free_bytes(store_dir(store.path()))
                        .is_none_or(|b| b >= STORE_ROOM_NEEDED)
                        && store
                            .page_headroom_bytes()
                            .is_ok_and(|b| b >= STORE_ROOM_NEEDED)
                        && write_held(&store, &mut held);
                    if tx.blocking_send(Input::StoreRoom(room)).is_err() {
                        return;
                    }
                    continue;
                }
                StoreJob::Record { passage, record } => match store.append(*record) {
                    Ok(stored) => {
                        if let Some(sync) = &sync {
                            sync.wake();
                        }
                        let _ = events.send(LaneEvent::Recorded {
                            passage,
                            record_id: stored.record.id,
                        });
                        Event::RecordCommitted {
                            passage,
                            record_id: stored.record.id,
                        }
                    }
                    Err(e) => {
                        log_store_error(&e);
                        if matches!(e, StoreError::Full) {
                            let _ = tx.blocking_send(Input::StoreFull);
                        }
                        Event::RecordFailed { passage }
                    }
                },
                StoreJob::Audit(entry) if !held.is_empty() => {
                    hold(&mut held, entry);
                    continue;
                }
                StoreJob::Audit(entry) => match store.append_audit(&entry) {
                    Ok(_) => continue,
                    Err(e) => {
                        log_store_error(&e);
                        if matches!(e, StoreError::Full) {
                            hold(&mut held, entry);
                            let _ = tx.blocking_send(Input::StoreFull);
                        }
                        Event::DeviceFault(Device::Store)
                    }
                },
            };
            if tx.blocking_send(Input::Event(event)).is_err() {
                return;
            }
        }
    });
    jobs
}

/// Keeps an audit entry for later; past [`HELD_AUDIT_MAX`] the oldest goes, said in the log.
fn hold(held: &mut VecDeque<crate::store::AuditEntry>, entry: crate::store::AuditEntry) {
    if held.len() >= HELD_AUDIT_MAX {
        held.pop_front();
        tracing::error!(
            max = HELD_AUDIT_MAX,
            "audit entries held for a full store: oldest dropped"
        );
    }
    held.push_back(entry);
}

/// Writes the held audit entries in order; whether all of them are now stored.
fn write_held(store: &Store, held: &mut VecDeque<crate::store::AuditEntry>) -> bool {
    while let Some(entry) = held.front() {
        match store.append_audit(entry) {
            Ok(_) => {
                held.pop_front();
            }
            Err(e) => {
                log_store_error(&e);
                return false;
            }
        }
    }
    true
}

/// Logs a store error (its Display names paths and codes, never record fields).
fn log_store_error(e: &StoreError) {
    tracing::error!(error = %e, "store write failed");
}
