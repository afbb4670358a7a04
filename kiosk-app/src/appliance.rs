//! Putting a lane together from its configuration: keys, trust store,
//! watch list and store loaded and checked, and the devices' reports
//! turned into the runtime's [`Input`]s.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use doc_scanner::{Framing, Scanner, ScannerConfig, SerialConfig, SerialLine};
use gate::serial::SerialIo;
use gate::worker::{GateHandle, GateOrder, GateReport, GateWorker, WorkerConfig};
use gate::{GateLink, LinkConfig};
use icao9303::pa::TrustStore;
use tokio::sync::mpsc;

use crate::config::{Config, ScannerFraming};
use crate::devices::chip::ChipConfig;
use crate::devices::scanner::{Reopen, ScannerReport, spawn_scanner};
use crate::face::FaceVerifier;
use crate::lane::runtime::{self, ChipSource, Input, InputSender, LaneIo, PcscReader, Watch};
use crate::lane::{GateNotice, GateStep, LaneCore, LaneSettings, Work, unix_ms};
use crate::policy::WatchList;
use crate::session::{Device, Event};
use crate::store::{LaneRef, SigningKey, Store, StoreConfig, StoreError};

/// Why a lane could not start; each names the file at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The signing key file is missing, unreadable or not 64 hex digits.
    #[error("signing key {path}: {problem}")]
    SigningKey {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The trust store could not be read.
    #[error("trust store {path}: {problem}")]
    TrustStore {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The watch list could not be read or parsed.
    #[error("watch list {path}: {problem}")]
    WatchList {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The store could not be opened (corrupt, newer schema, unreadable): the lane stays closed.
    #[error("passage store: {0}")]
    Store(#[from] StoreError),
    /// A device could not be opened.
    #[error("{device} at {path}: {problem}")]
    Device {
        /// Which device.
        device: &'static str,
        /// Its path or name.
        path: String,
        /// What failed.
        problem: String,
    },
    /// The lane verifies faces but no face unit was given.
    #[error("biometrics.required is set, but no face unit is available in this build")]
    NoFaceUnit,
}

/// The lane's devices, open.
pub struct Devices {
    /// The MRZ scanner's serial line.
    pub scanner: SerialLine,
    /// Opens the scanner's line again after it failed (unplugged), if it can be.
    pub scanner_reopen: Option<Reopen<SerialLine>>,
    /// The gate controller's serial line.
    pub gate: SerialIo,
    /// The chip reader.
    pub chip: Arc<dyn ChipSource>,
    /// The face unit, for a lane that verifies faces.
    pub face: Option<Arc<Mutex<dyn FaceVerifier + Send>>>,
}

/// A lane ready to run: pass the parts to [`runtime::run`].
pub struct Assembled {
    /// The lane core.
    pub core: LaneCore,
    /// The core's first work.
    pub first: Vec<Work>,
    /// The runtime's devices and store.
    pub io: LaneIo,
    /// The input channel (devices hold clones of the sender).
    pub inputs: (InputSender, mpsc::Receiver<Input>),
    /// The gate worker (dropping it puts the gate in its safe state).
    pub gate: Arc<GateHandle>,
}

/// Everything a lane loads before it opens.
pub struct Loaded {
    /// The lane core's settings (rules, watch list, recent passages).
    pub settings: LaneSettings,
    /// The CSCA trust store.
    pub trust: TrustStore,
    /// The open, checked passage store.
    pub store: Store,
}

/// Loads the signing key, the trust store, the watch list and the store
/// named by `config`, and the passages within the anti-passback window.
///
/// # Errors
/// [`StartError`] naming the file that is missing or bad. A store that
/// fails its integrity check is never rebuilt.
pub fn load(config: &Config) -> Result<Loaded, StartError> {
    let key = read_signing_key(&config.signing_key)?;
    let trust = load_trust(&config.trust_store)?;
    let watch_list = match &config.watch_list {
        None => WatchList::new(&[]),
        Some(path) => load_watch_list(path)?,
    };
    let store = Store::open(&config.store, &StoreConfig::new(key))?;
    let window_ms = i64::from(config.policy.passback_minutes) * 60_000;
    let history = store.recent_passages(unix_ms(SystemTime::now()) - window_ms)?;
    Ok(Loaded {
        settings: LaneSettings {
            lane: LaneRef {
                site: config.site.clone(),
                terminal: config.terminal.clone(),
                lane: config.lane.clone(),
            },
            session: config.session(),
            rules: config.policy.clone(),
            watch_list,
            history,
        },
        trust,
        store,
    })
}

/// Opens the devices named by `config`: the scanner and gate serial lines
/// and the PC/SC reader. No face unit driver exists yet.
///
/// # Errors
/// [`StartError::Device`] naming the device that could not be opened.
pub fn open_devices(config: &Config) -> Result<Devices, StartError> {
    let scanner_path = config.devices.scanner.to_string_lossy().into_owned();
    let scanner = SerialLine::open(&scanner_path, &SerialConfig::default()).map_err(|e| {
        StartError::Device {
            device: "MRZ scanner",
            path: scanner_path.clone(),
            problem: e.to_string(),
        }
    })?;
    let gate_path = config.devices.gate.to_string_lossy().into_owned();
    let gate = SerialIo::open(&gate_path, 115_200).map_err(|e| StartError::Device {
        device: "gate controller",
        path: gate_path.clone(),
        problem: e.to_string(),
    })?;
    let chip = PcscReader::new(ChipConfig {
        reader: config.devices.reader.clone(),
        card_wait: Duration::from_secs(2),
        connect: card_reader::ConnectOptions::default(),
    })
    .map_err(|e| StartError::Device {
        device: "PC/SC service (is pcscd running?)",
        path: config.devices.reader.clone(),
        problem: e.to_string(),
    })?;
    let framing = scanner_framing(config.devices.scanner_framing);
    let reopen: Reopen<SerialLine> = Box::new(move || {
        let line = SerialLine::open(&scanner_path, &SerialConfig::default()).ok()?;
        Some(Scanner::new(
            line,
            ScannerConfig {
                framing,
                ..ScannerConfig::default()
            },
        ))
    });
    Ok(Devices {
        scanner,
        scanner_reopen: Some(reopen),
        gate,
        chip: Arc::new(chip),
        face: None,
    })
}

/// Joins the loaded lane to its devices: starts the scanner thread and the
/// gate worker, both reporting into the lane's input channel.
///
/// # Errors
/// [`StartError::NoFaceUnit`] when the lane verifies faces without a unit;
/// [`StartError::Device`] when a device thread cannot start.
pub fn assemble(
    config: &Config,
    loaded: Loaded,
    devices: Devices,
) -> Result<Assembled, StartError> {
    if config.biometrics.is_some() && devices.face.is_none() {
        return Err(StartError::NoFaceUnit);
    }
    let (tx, rx) = runtime::channel();
    let framing = scanner_framing(config.devices.scanner_framing);
    let scanner_config = ScannerConfig {
        framing,
        ..ScannerConfig::default()
    };
    let scanner = Scanner::new(devices.scanner, scanner_config);
    let scanner_tx = tx.clone();
    spawn_scanner(scanner, devices.scanner_reopen, move |r| {
        send_scanner_report(&scanner_tx, r)
    });

    let gate_tx = tx.clone();
    let gate = GateWorker::spawn(
        GateLink::new(devices.gate, LinkConfig::default()),
        WorkerConfig::default(),
        move |r| send_gate_report(&gate_tx, r),
    )
    .map_err(|e| StartError::Device {
        device: "gate worker",
        path: config.devices.gate.to_string_lossy().into_owned(),
        problem: e.to_string(),
    })?;
    let gate = Arc::new(gate);
    let orders = gate.clone();

    let mut watch = Watch::disk(&config.store);
    watch.limits.min_free_bytes = config.store_min_free_bytes;
    if let Some(sync) = &config.sync {
        watch.limits.alert_backlog = sync.alert_backlog;
        watch.limits.alert_age = sync.alert_age;
        let handle = crate::sync::start(&config.store, sync.worker.clone()).map_err(|e| {
            StartError::Device {
                device: "sync worker",
                path: sync.worker.endpoint.clone(),
                problem: e.to_string(),
            }
        })?;
        watch.sync = Some(Arc::new(handle));
    }
    let (core, first) = LaneCore::new(loaded.settings);
    let io = LaneIo {
        chip: devices.chip,
        trust: Arc::new(loaded.trust),
        face: devices.face,
        gate: Box::new(move |step| {
            if let Err(e) = orders.order(gate_order(step)) {
                tracing::error!(error = %e, "gate worker stopped");
            }
        }),
        store: loaded.store,
        document_wait: config.timeouts.document,
        watch,
    };
    Ok(Assembled {
        core,
        first,
        io,
        inputs: (tx, rx),
        gate,
    })
}

/// Reads an Ed25519 signing key stored as 64 hex digits (its seed).
///
/// # Errors
/// [`StartError::SigningKey`] when the file is missing or malformed.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, StartError> {
    let bad = |problem: String| StartError::SigningKey {
        path: path.to_path_buf(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let text = text.trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("must hold 64 hex digits".into()));
    }
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        let pair = text.get(2 * i..2 * i + 2).unwrap_or("00");
        *byte = u8::from_str_radix(pair, 16).map_err(|e| bad(e.to_string()))?;
    }
    Ok(SigningKey::from_bytes(&seed))
}

/// Loads the trust store directory (warnings about unusable files are logged).
fn load_trust(path: &Path) -> Result<TrustStore, StartError> {
    let bad = |problem: String| StartError::TrustStore {
        path: path.to_path_buf(),
        problem,
    };
    let dir = trust_store::TrustDir::open(path).map_err(|e| bad(e.to_string()))?;
    let (trust, warnings) = dir.load().map_err(|e| bad(e.to_string()))?;
    for w in warnings {
        tracing::warn!(warning = %w, "trust store file not used");
    }
    Ok(trust)
}

/// Reads and parses the provisioned watch list.
fn load_watch_list(path: &Path) -> Result<WatchList, StartError> {
    let bad = |problem: String| StartError::WatchList {
        path: path.to_path_buf(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    WatchList::parse(&text).map_err(|e| bad(e.to_string()))
}

/// The scanner thread's report as a runtime input; `false` once the lane is gone.
pub fn send_scanner_report(tx: &InputSender, report: ScannerReport) -> bool {
    if tx.is_closed() {
        // The lane stopped; a line closing now is the shutdown, not a fault.
        return false;
    }
    let event = match report {
        ScannerReport::Mrz(mrz) => Event::MrzScanned(mrz),
        ScannerReport::Unreadable => Event::MrzUnreadable,
        ScannerReport::Fault(message) => {
            tracing::error!(%message, "MRZ scanner fault");
            Event::DeviceFault(Device::Scanner)
        }
        ScannerReport::Restored => {
            tracing::info!("MRZ scanner line open again");
            Event::DeviceRestored(Device::Scanner)
        }
    };
    tx.blocking_send(Input::Event(event)).is_ok()
}

/// The gate worker's report as runtime inputs (an event, a notice, or both).
pub fn send_gate_report(tx: &InputSender, report: GateReport) {
    let (event, notice) = match report {
        GateReport::Passed { .. } => (Some(Event::GatePassed), Some(GateNotice::Passed)),
        GateReport::PersonInZone => (None, Some(GateNotice::PersonInZone)),
        GateReport::Tailgating => (None, Some(GateNotice::Tailgating)),
        // Fire alarm: both leaves open, the lane out of service until it clears.
        GateReport::Emergency { active } => (
            Some(if active {
                Event::DeviceFault(Device::Gate)
            } else {
                Event::DeviceRestored(Device::Gate)
            }),
            Some(GateNotice::Emergency { active }),
        ),
        GateReport::Fault(code) => (
            Some(Event::DeviceFault(Device::Gate)),
            Some(GateNotice::Fault(format!("{code:?}"))),
        ),
        GateReport::LinkLost(message) => (
            Some(Event::DeviceFault(Device::Gate)),
            Some(GateNotice::Fault(message)),
        ),
        GateReport::LinkRestored => (
            Some(Event::DeviceRestored(Device::Gate)),
            Some(GateNotice::Restored),
        ),
        GateReport::Refused { order, reason } => (
            None,
            Some(GateNotice::Refused(format!("{order:?}: {reason:?}"))),
        ),
        GateReport::Unconfirmed(order) => (
            None,
            Some(GateNotice::Refused(format!("{order:?}: not acknowledged"))),
        ),
        GateReport::Acknowledged(_) | GateReport::Status(_) => (None, None),
    };
    // The lane's loop may be gone (shutting down): nothing to tell then.
    if let Some(notice) = notice {
        let _ = tx.blocking_send(Input::Gate(notice));
    }
    if let Some(event) = event {
        let _ = tx.blocking_send(Input::Event(event));
    }
}

/// The gate order for a lane's gate step.
#[must_use]
pub fn gate_order(step: GateStep) -> GateOrder {
    match step {
        GateStep::Admit => GateOrder::Admit,
        GateStep::Release { passage_id } => GateOrder::Release { passage_id },
        GateStep::CloseExit => GateOrder::CloseExit,
        GateStep::TurnBack => GateOrder::TurnBack,
    }
}

/// The driver's framing for the configured one.
fn scanner_framing(f: ScannerFraming) -> Framing {
    match f {
        ScannerFraming::Lines => Framing::Lines,
        ScannerFraming::StxEtx => Framing::StxEtx,
    }
}
