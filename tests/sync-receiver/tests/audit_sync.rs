//! Officer audit entries (issue 7) synced to the reference receiver over
//! real HTTPS with mutual TLS: exactly once, signed and chained, through a
//! connection cut after storing and a worker restart.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{UNIT, Unit, wait_for};
use kiosk_app::store::AuditEntry;
use kiosk_app::sync::{self, SyncHandle};
use sync_receiver::ReceiverDb;
use sync_receiver::db::AuditRow;

const LIMIT: Duration = Duration::from_secs(30);

fn entry(i: u64) -> AuditEntry {
    AuditEntry {
        officer_id: format!("officer-{i}"),
        time_unix_ms: 1_790_000_000_000 + i64::try_from(i).unwrap(),
        lane: "A03".into(),
        action: format!("action_{i}"),
        record_id: None,
        reason: "checked by hand".into(),
    }
}

fn append_audit(unit: &Unit, range: std::ops::Range<u64>) {
    for i in range {
        unit.store.append_audit(&entry(i)).unwrap();
    }
}

fn audit_drained(worker: &SyncHandle) {
    wait_for("the audit backlog to drain", LIMIT, || {
        let s = worker.status();
        s.audit_backlog == 0 && s.backlog == 0 && s.last_error.is_none()
    });
}

/// The receiver holds entries 1..=n of the unit, once each, in order, with
/// the unit's hashes, and its audit chain verifies.
fn all_audit_delivered_once(unit: &Unit, n: u64) {
    let db = ReceiverDb::open(unit.receiver_db()).unwrap();
    let got: Vec<AuditRow> = db.audit_entries(UNIT).unwrap();
    let kiosk: Vec<AuditRow> = {
        let conn = rusqlite::Connection::open(unit.store_path()).unwrap();
        let mut stmt = conn
            .prepare("SELECT id, action, entry_hash FROM audit ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| {
            let hash: Vec<u8> = r.get(2)?;
            Ok(AuditRow {
                id: u64::try_from(r.get::<_, i64>(0)?).unwrap(),
                action: r.get(1)?,
                entry_hash: hash.try_into().unwrap(),
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    assert_eq!(kiosk.len() as u64, n);
    assert_eq!(
        got, kiosk,
        "receiver holds exactly the unit's audit entries"
    );
    assert_eq!(
        db.verify_audit_chain(UNIT, &unit.key.verifying_key())
            .unwrap(),
        Ok(n)
    );
    assert_eq!(unit.store.audit_outbox_count().unwrap(), 0);
}

#[test]
fn audit_entries_reach_the_receiver_once_with_passage_records() {
    let unit = Unit::new("audit-deliver");
    unit.append(5);
    append_audit(&unit, 1..13);
    let receiver = unit.receiver();
    let mut config = unit.sync_config(&receiver.endpoint());
    config.batch_max_records = 5;
    let worker = sync::start(unit.store_path(), config).unwrap();
    audit_drained(&worker);
    all_audit_delivered_once(&unit, 12);
    assert_eq!(unit.received().len(), 5, "passage records still sync");
    // Entries written while the worker runs follow.
    append_audit(&unit, 13..16);
    worker.wake();
    wait_for("the later entries", LIMIT, || {
        unit.store.audit_outbox_count().unwrap() == 0
    });
    audit_drained(&worker);
    all_audit_delivered_once(&unit, 15);
    assert_eq!(
        receiver.stats().audit_batches_stored.load(Ordering::SeqCst),
        4
    );
}

#[test]
fn lost_audit_acknowledgement_is_answered_as_duplicate_not_stored_twice() {
    let unit = Unit::new("audit-cut-after");
    append_audit(&unit, 1..9);
    let receiver = unit.receiver();
    receiver
        .faults()
        .cut_after_store_next
        .store(2, Ordering::SeqCst);
    let mut config = unit.sync_config(&receiver.endpoint());
    config.batch_max_records = 4;
    let worker = sync::start(unit.store_path(), config).unwrap();
    audit_drained(&worker);
    all_audit_delivered_once(&unit, 8);
    // The first batch was stored, cut, and sent again (answered duplicate).
    assert!(
        receiver.stats().audit_batches_stored.load(Ordering::SeqCst) >= 4,
        "{}",
        receiver.stats().audit_batches_stored.load(Ordering::SeqCst)
    );
    assert_eq!(worker.status().audit_backlog, 0);
}

#[test]
fn a_cut_before_storing_is_retried() {
    let unit = Unit::new("audit-cut-before");
    append_audit(&unit, 1..4);
    let receiver = unit.receiver();
    receiver
        .faults()
        .cut_before_store_next
        .store(2, Ordering::SeqCst);
    let worker = sync::start(unit.store_path(), unit.sync_config(&receiver.endpoint())).unwrap();
    audit_drained(&worker);
    all_audit_delivered_once(&unit, 3);
    assert_eq!(receiver.stats().requests.load(Ordering::SeqCst), 3);
}

#[test]
fn a_restarted_worker_resumes_the_audit_outbox() {
    let unit = Unit::new("audit-restart");
    append_audit(&unit, 1..41);
    let receiver = unit.receiver();
    let mut config = unit.sync_config(&receiver.endpoint());
    config.batch_max_records = 4;
    receiver.faults().delay_ms.store(100, Ordering::SeqCst);
    let worker = sync::start(unit.store_path(), config.clone()).unwrap();
    wait_for("some audit batches", LIMIT, || {
        unit.store.audit_outbox_count().unwrap() <= 32
    });
    worker.stop();
    let after_stop = unit.store.audit_outbox_count().unwrap();
    assert!(after_stop > 0 && after_stop < 40, "{after_stop}");
    assert_eq!(
        kiosk_app::store::outbox_status(unit.store_path())
            .unwrap()
            .audit_backlog,
        after_stop
    );
    receiver.faults().delay_ms.store(0, Ordering::SeqCst);
    let worker = sync::start(unit.store_path(), config).unwrap();
    audit_drained(&worker);
    all_audit_delivered_once(&unit, 40);
}

#[test]
fn a_tampered_audit_entry_is_rejected_and_stays_queued() {
    let unit = Unit::new("audit-tampered");
    append_audit(&unit, 1..5);
    rusqlite::Connection::open(unit.store_path())
        .unwrap()
        .execute("UPDATE audit SET action = 'nothing' WHERE id = 3", [])
        .unwrap();
    let receiver = unit.receiver();
    let worker = sync::start(unit.store_path(), unit.sync_config(&receiver.endpoint())).unwrap();
    wait_for("the rejection", LIMIT, || {
        worker
            .status()
            .last_error
            .is_some_and(|e| e.contains("audit entry 3 rejected: bad_signature"))
    });
    let db = ReceiverDb::open(unit.receiver_db()).unwrap();
    assert_eq!(db.audit_entries(UNIT).unwrap().len(), 2);
    assert_eq!(
        worker.status().audit_backlog,
        2,
        "it and the one after stay queued"
    );
}
