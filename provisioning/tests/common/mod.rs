//! Helpers shared by the `kioskctl` test binaries.

// Each test binary uses only part of this module.
#![allow(dead_code)]

pub(crate) mod central_ca;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use gate::serial::SerialIo;
use gate_sim::{Board, SimGate};
use serialport::{SerialPort as _, TTYPort};
use virtual_emrtd::{VirtualChip, VpcdCard};

/// Runs the built `kioskctl` with `args`, feeding `stdin`, and returns what it did.
pub(crate) fn kioskctl(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kioskctl starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the input");
    child.wait_with_output().expect("kioskctl finishes")
}

/// The vpcd reader the `kioskctl` tests use (the card-reader tests use "… 00 00").
pub(crate) const READER: &str = "Virtual PCD 00 01";
/// vpcd's port for [`READER`].
const VPCD: &str = "127.0.0.1:35964";

/// One test at a time on [`READER`] within a test binary.
static READER_LOCK: Mutex<()> = Mutex::new(());

/// A virtual chip on [`READER`] for the duration of a test; removed when dropped.
pub(crate) struct OnReader {
    card: Option<VpcdCard>,
    _lock: MutexGuard<'static, ()>,
}

impl Drop for OnReader {
    fn drop(&mut self) {
        if let Some(card) = self.card.take() {
            let _ = card.remove();
        }
        if let Ok(readers) = card_reader::Readers::establish() {
            let _ = readers.wait_for_removal(READER, Duration::from_secs(5));
        }
    }
}

/// Takes [`READER`] for this test, with no card on it.
pub(crate) fn reader_lock() -> MutexGuard<'static, ()> {
    READER_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lays `chip` on [`READER`] and waits until pcscd sees it.
pub(crate) fn insert(chip: VirtualChip) -> OnReader {
    let lock = reader_lock();
    let addr = VPCD.parse().expect("VPCD is a socket address");
    let card =
        virtual_emrtd::connect(chip, addr).expect("vpcd listens (scripts/test.sh starts pcscd)");
    card_reader::Readers::establish()
        .expect("pcscd is running")
        .wait_for_card(READER, Duration::from_secs(5))
        .expect("pcscd sees the card");
    OnReader {
        card: Some(card),
        _lock: lock,
    }
}

/// A fresh directory, removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// A new directory named for `tag`.
    pub(crate) fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("temp dir")
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("kioskctl-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    /// `name` inside it.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `text` to `name` inside it; the file's path.
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).expect("temp dir");
        p
    }

    /// The names in the directory, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("temp dir")
            .map(|e| {
                e.expect("temp dir")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// gate-sim running the gate firmware behind a pty: the simulator, and the kiosk's end of the line.
pub(crate) fn sim_gate() -> (SimGate, TTYPort) {
    let (mut master, mut slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_millis(5)).unwrap();
    slave.set_timeout(Duration::from_millis(20)).unwrap();
    let config = gate_sim::Config {
        watchdog_ms: 10_000,
        ..gate_sim::Config::default()
    };
    let sim = SimGate::spawn(SerialIo::new(Box::new(master)), Board::new(), config);
    (sim, slave)
}
