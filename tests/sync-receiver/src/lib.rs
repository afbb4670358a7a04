//! The reference receiver of the kiosk's store-and-forward upload (issue 5):
//! the protocol of `kiosk-app/sync-api.yaml` over HTTPS with mutual TLS (rustls),
//! every record's signature, personal digest and chain checked, stored into
//! its own SQLite database, idempotent by record id. For tests and benches,
//! with switchable faults; not the central border system.
#![forbid(unsafe_code)]

pub mod db;
pub mod pki;
pub mod server;

pub use db::{ReceiverDb, StoredRow};
pub use pki::{CertKey, PkiError, TestCa};
pub use server::{Faults, Receiver, ReceiverConfig, ReceiverError, Stats};
