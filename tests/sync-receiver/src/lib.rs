//! The reference receiver of the kiosk's store-and-forward upload (issue 5):
//! the protocol of `kiosk-app/sync-api.yaml` over HTTPS with mutual TLS (rustls),
//! every record's signature, personal digest and chain checked, stored into
//! its own SQLite database, idempotent by record id. For tests and benches,
//! with switchable faults; not the central border system. [`soak`] is the
//! `kill -9` loop of the kiosk process, for the test and the soak binary.
#![forbid(unsafe_code)]

pub mod db;
pub mod pki;
pub mod server;
pub mod soak;

pub use db::{ReceiverDb, StoredRow};
pub use pki::{CertKey, PkiError, TestCa};
pub use server::{Faults, Receiver, ReceiverConfig, ReceiverError, Stats};
pub use soak::{SoakError, SoakOptions, SoakReport};

/// The peak resident set (`VmHWM`) of process `pid`, or of this process for
/// `None`, in KiB; `None` where `/proc` does not tell (not Linux, or the
/// process is gone).
pub fn vm_hwm_kib(pid: Option<u32>) -> Option<u64> {
    let pid = pid.map_or_else(|| "self".to_owned(), |pid| pid.to_string());
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
