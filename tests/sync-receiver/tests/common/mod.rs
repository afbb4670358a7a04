//! Helpers shared by the receiver's test binaries: a temp dir, a unit with
//! a store and provisioned certificates, a receiver, and comparisons.

// Each test binary uses only part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use kiosk_app::store::sample::{passage, signing_key};
use kiosk_app::store::{SigningKey, Store, StoreConfig};
use kiosk_app::sync::{Backoff, SyncConfig, TlsFiles};
use sync_receiver::{Receiver, ReceiverConfig, ReceiverDb, StoredRow, TestCa};

/// A directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sync-receiver-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) const UNIT: &str = "bkk-t1-a03";

/// One unit: its store, key, CA-issued certificate, and a receiver config.
pub(crate) struct Unit {
    pub(crate) dir: TempDir,
    pub(crate) ca: TestCa,
    pub(crate) key: SigningKey,
    pub(crate) store: Store,
    pub(crate) tls: TlsFiles,
}

impl Unit {
    pub(crate) fn new(name: &str) -> Unit {
        let dir = TempDir::new(name);
        let ca = TestCa::new("ASEAN Lane test CA").expect("CA");
        let (ca_pem, cert, key_file) = ca.write_unit_files(&dir.0, UNIT).expect("unit files");
        let key = signing_key();
        let store = Store::open(
            dir.0.join("passages.sqlite"),
            &StoreConfig::new(key.clone()),
        )
        .expect("store");
        Unit {
            dir,
            ca,
            key,
            store,
            tls: TlsFiles {
                ca: ca_pem,
                cert,
                key: key_file,
            },
        }
    }

    pub(crate) fn store_path(&self) -> PathBuf {
        self.dir.0.join("passages.sqlite")
    }

    pub(crate) fn receiver_db(&self) -> PathBuf {
        self.dir.0.join("receiver.sqlite")
    }

    pub(crate) fn receiver_config(&self, clock_offset_ms: i64) -> ReceiverConfig {
        ReceiverConfig {
            db_path: self.receiver_db(),
            server: self.ca.server().expect("server cert"),
            client_ca_pem: self.ca.cert_pem(),
            units: vec![(UNIT.to_owned(), self.key.verifying_key())],
            clock_offset_ms,
        }
    }

    pub(crate) fn receiver(&self) -> Receiver {
        Receiver::start(
            self.receiver_config(0),
            "127.0.0.1:0".parse().expect("addr"),
        )
        .expect("receiver starts")
    }

    /// A sync config with short waits, for tests.
    pub(crate) fn sync_config(&self, endpoint: &str) -> SyncConfig {
        let mut c = SyncConfig::new(endpoint, UNIT, self.tls.clone());
        c.backoff = Backoff {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(200),
        };
        c.idle_poll = Duration::from_millis(50);
        c.request_timeout = Duration::from_secs(10);
        c.connect_timeout = Duration::from_secs(2);
        c
    }

    pub(crate) fn append(&self, n: u64) {
        for i in 0..n {
            self.store.append(passage(i)).expect("append");
        }
    }

    /// (seq, record id, record hash) of every record in the unit's store.
    pub(crate) fn kiosk_rows(&self) -> Vec<StoredRow> {
        kiosk_rows(&self.store_path())
    }

    /// What the receiver stored for the unit.
    pub(crate) fn received(&self) -> Vec<StoredRow> {
        ReceiverDb::open(self.receiver_db())
            .expect("receiver db")
            .records(UNIT)
            .expect("rows")
    }

    /// The receiver's chain re-verified from its stored bytes.
    pub(crate) fn receiver_chain(&self) -> Result<u64, u64> {
        ReceiverDb::open(self.receiver_db())
            .expect("receiver db")
            .verify_chain(UNIT, &self.key.verifying_key())
            .expect("verify")
    }
}

/// (seq, record id, record hash) of every record in a kiosk store.
pub(crate) fn kiosk_rows(path: &Path) -> Vec<StoredRow> {
    let conn = rusqlite::Connection::open(path).expect("raw");
    let mut stmt = conn
        .prepare("SELECT seq, record_id, record_hash FROM passage ORDER BY seq")
        .expect("prepare");
    stmt.query_map([], |r| {
        let hash: Vec<u8> = r.get(2)?;
        Ok(StoredRow {
            seq: u64::try_from(r.get::<_, i64>(0)?).expect("seq"),
            record_id: r.get(1)?,
            record_hash: hash.try_into().expect("32 bytes"),
        })
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

/// Polls `done` until it holds; panics naming `what` after `limit`.
pub(crate) fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
