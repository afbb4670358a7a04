//! The sync worker against the reference receiver over real HTTPS with
//! mutual TLS on loopback: delivery, batching, restart, retention, and the
//! faults that must lose nothing (receiver down, 5xx, slow, connection cut
//! before and after storing, clock skew, rejected records, wrong
//! certificates).

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{UNIT, Unit, wait_for};
use kiosk_app::store::sample::passage;
use kiosk_app::store::{VerifyReport, verify_store};
use kiosk_app::sync::{self, SyncHandle};
use sync_receiver::Receiver;

const LIMIT: Duration = Duration::from_secs(30);

fn drained(worker: &SyncHandle) {
    wait_for("the backlog to drain", LIMIT, || {
        let s = worker.status();
        s.backlog == 0 && s.last_error.is_none()
    });
}

/// Every record of the unit's store is at the receiver once, in order,
/// with the same hash, and the receiver's chain verifies.
fn all_delivered_once(unit: &Unit, n: u64) {
    let kiosk = unit.kiosk_rows();
    assert_eq!(kiosk.len() as u64, n);
    assert_eq!(
        unit.received(),
        kiosk,
        "receiver holds exactly the unit's records"
    );
    assert_eq!(unit.receiver_chain(), Ok(n));
}

#[test]
fn records_reach_the_receiver_in_count_limited_batches() {
    let unit = Unit::new("deliver");
    unit.append(30);
    let receiver = unit.receiver();
    let mut config = unit.sync_config(&receiver.endpoint());
    config.batch_max_records = 7;
    let worker = sync::start(unit.store_path(), config).unwrap();
    drained(&worker);
    all_delivered_once(&unit, 30);
    assert_eq!(receiver.stats().batches_stored.load(Ordering::SeqCst), 5);
    let status = worker.status();
    assert_eq!((status.backlog, status.acknowledged), (0, 30));
    assert_eq!(status.oldest_unsynced_age, None);
    assert!(status.running && status.last_success_unix_ms.is_some());
    worker.stop();
}

#[test]
fn batches_are_limited_by_bytes() {
    let unit = Unit::new("bytes");
    unit.append(20);
    let receiver = unit.receiver();
    let mut config = unit.sync_config(&receiver.endpoint());
    config.batch_max_bytes = 4096;
    let worker = sync::start(unit.store_path(), config).unwrap();
    drained(&worker);
    all_delivered_once(&unit, 20);
    // A record is about 700 bytes on the wire: at most 5 fit in 4 KiB.
    assert!(receiver.stats().batches_stored.load(Ordering::SeqCst) >= 4);
}

#[test]
fn receiver_down_then_up_loses_nothing() {
    let unit = Unit::new("down");
    // A port where nothing listens yet.
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let worker = sync::start(
        unit.store_path(),
        unit.sync_config(&format!("https://127.0.0.1:{}", addr.port())),
    )
    .unwrap();
    unit.append(10);
    wait_for("failures while the receiver is down", LIMIT, || {
        worker.status().consecutive_failures >= 3
    });
    let status = worker.status();
    assert_eq!(status.backlog, 10);
    assert!(status.oldest_unsynced_age.is_some());
    assert!(status.last_error.unwrap().contains("transport"));
    let receiver = Receiver::start(unit.receiver_config(0), addr).unwrap();
    drained(&worker);
    all_delivered_once(&unit, 10);
    assert_eq!(worker.status().consecutive_failures, 0);
    drop(receiver);
}

#[test]
fn server_errors_are_retried() {
    let unit = Unit::new("5xx");
    unit.append(5);
    let receiver = unit.receiver();
    receiver.faults().fail_next.store(3, Ordering::SeqCst);
    let worker = sync::start(unit.store_path(), unit.sync_config(&receiver.endpoint())).unwrap();
    drained(&worker);
    all_delivered_once(&unit, 5);
    assert_eq!(receiver.stats().requests.load(Ordering::SeqCst), 4);
    let attempts: i64 = rusqlite::Connection::open(unit.store_path())
        .unwrap()
        .query_row("SELECT COUNT(*) FROM sync_ack", [], |r| r.get(0))
        .unwrap();
    assert_eq!(attempts, 5);
}

#[test]
fn lost_acknowledgement_is_answered_as_duplicate_not_stored_twice() {
    let unit = Unit::new("cut-after");
    unit.append(12);
    let receiver = unit.receiver();
    receiver
        .faults()
        .cut_after_store_next
        .store(2, Ordering::SeqCst);
    let mut config = unit.sync_config(&receiver.endpoint());
    config.batch_max_records = 5;
    let worker = sync::start(unit.store_path(), config).unwrap();
    drained(&worker);
    all_delivered_once(&unit, 12);
    // The first batch was stored twice over (and answered once, as duplicates).
    assert!(receiver.stats().batches_stored.load(Ordering::SeqCst) >= 5);
}

#[test]
fn connection_cut_mid_batch_is_retried() {
    let unit = Unit::new("cut-before");
    unit.append(8);
    let receiver = unit.receiver();
    receiver
        .faults()
        .cut_before_store_next
        .store(2, Ordering::SeqCst);
    let worker = sync::start(unit.store_path(), unit.sync_config(&receiver.endpoint())).unwrap();
    drained(&worker);
    all_delivered_once(&unit, 8);
    assert_eq!(receiver.stats().requests.load(Ordering::SeqCst), 3);
}

#[test]
fn slow_receiver_times_out_and_the_retry_is_a_duplicate() {
    let unit = Unit::new("slow");
    unit.append(6);
    let receiver = unit.receiver();
    receiver.faults().delay_ms.store(3_000, Ordering::SeqCst);
    let mut config = unit.sync_config(&receiver.endpoint());
    config.request_timeout = Duration::from_millis(300);
    let worker = sync::start(unit.store_path(), config).unwrap();
    wait_for("a timed-out upload", LIMIT, || {
        worker.status().consecutive_failures >= 1
            && receiver.stats().batches_stored.load(Ordering::SeqCst) >= 1
    });
    assert_eq!(worker.status().backlog, 6, "nothing acknowledged yet");
    assert!(worker.status().last_error.unwrap().contains("transport"));
    receiver.faults().delay_ms.store(0, Ordering::SeqCst);
    drained(&worker);
    all_delivered_once(&unit, 6);
}

#[test]
fn clock_skew_is_reported_and_changes_nothing() {
    for offset in [3 * 86_400_000i64, -365 * 86_400_000] {
        let unit = Unit::new("skew");
        unit.append(4);
        let receiver =
            Receiver::start(unit.receiver_config(offset), "127.0.0.1:0".parse().unwrap()).unwrap();
        let worker =
            sync::start(unit.store_path(), unit.sync_config(&receiver.endpoint())).unwrap();
        drained(&worker);
        all_delivered_once(&unit, 4);
        let skew = worker.status().clock_skew_ms.unwrap();
        assert!(
            (skew - offset).abs() < 60_000,
            "skew {skew} for offset {offset}"
        );
    }
}

#[test]
fn the_lane_appends_while_an_upload_is_in_flight() {
    let unit = Unit::new("in-flight");
    unit.append(3);
    let receiver = unit.receiver();
    receiver.faults().delay_ms.store(5_000, Ordering::SeqCst);
    let worker = sync::start(unit.store_path(), unit.sync_config(&receiver.endpoint())).unwrap();
    wait_for("an upload in flight", LIMIT, || {
        receiver.stats().batches_stored.load(Ordering::SeqCst) == 1
    });
    // The worker is mid-request: the lane's durable appends go through.
    for i in 0..20 {
        unit.store.append(passage(100 + i)).unwrap();
    }
    assert_eq!(receiver.stats().in_flight.load(Ordering::SeqCst), 1);
    assert_eq!(
        worker.status().acknowledged,
        0,
        "the first upload had not been answered"
    );
    receiver.faults().delay_ms.store(0, Ordering::SeqCst);
    drained(&worker);
    all_delivered_once(&unit, 23);
}

#[test]
fn a_restarted_worker_resumes_where_it_stopped() {
    let unit = Unit::new("restart");
    unit.append(40);
    let receiver = unit.receiver();
    let mut config = unit.sync_config(&receiver.endpoint());
    config.batch_max_records = 4;
    receiver.faults().delay_ms.store(100, Ordering::SeqCst);
    let worker = sync::start(unit.store_path(), config.clone()).unwrap();
    wait_for("some batches", LIMIT, || worker.status().acknowledged >= 8);
    worker.stop();
    let after_stop = unit.store.outbox_count().unwrap();
    assert!(after_stop > 0 && after_stop < 40, "{after_stop}");
    receiver.faults().delay_ms.store(0, Ordering::SeqCst);
    let worker = sync::start(unit.store_path(), config).unwrap();
    drained(&worker);
    all_delivered_once(&unit, 40);
}

#[test]
fn a_tampered_record_is_rejected_and_stays_queued() {
    let unit = Unit::new("tampered");
    unit.append(5);
    rusqlite::Connection::open(unit.store_path())
        .unwrap()
        .execute("UPDATE passage SET decision = 'refused' WHERE seq = 3", [])
        .unwrap();
    let receiver = unit.receiver();
    let worker = sync::start(unit.store_path(), unit.sync_config(&receiver.endpoint())).unwrap();
    wait_for("the rejection", LIMIT, || {
        worker
            .status()
            .last_error
            .is_some_and(|e| e.contains("(seq 3) rejected: bad_signature"))
    });
    assert_eq!(unit.received().len(), 2, "records before it are stored");
    assert_eq!(
        worker.status().backlog,
        3,
        "it and the records after it stay queued"
    );
    assert_eq!(unit.receiver_chain(), Ok(2));
}

#[test]
fn retention_purges_acknowledged_personal_fields_and_the_chain_verifies() {
    let unit = Unit::new("retention");
    unit.append(10);
    let receiver = unit.receiver();
    let mut config = unit.sync_config(&receiver.endpoint());
    config.retention = Some(Duration::ZERO);
    config.purge_every = Duration::from_millis(50);
    let worker = sync::start(unit.store_path(), config).unwrap();
    wait_for("the purge", LIMIT, || worker.status().purged == 10);
    worker.stop();
    let report = verify_store(unit.store_path(), &unit.key.verifying_key()).unwrap();
    assert!(
        matches!(report, VerifyReport::Intact { records: 10, .. }),
        "{report}"
    );
    let names: i64 = rusqlite::Connection::open(unit.store_path())
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM passage WHERE primary_identifier != '' OR document_number != ''",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(names, 0);
    // The receiver keeps its own copy, personal part included.
    all_delivered_once(&unit, 10);
}

#[test]
fn a_certificate_from_another_ca_is_refused_at_the_handshake() {
    let unit = Unit::new("other-ca");
    unit.append(2);
    let receiver = unit.receiver();
    let other = sync_receiver::TestCa::new("Someone else").unwrap();
    let dir = unit.dir.0.join("other");
    std::fs::create_dir_all(&dir).unwrap();
    let (_, cert, key) = other.write_unit_files(&dir, UNIT).unwrap();
    let mut config = unit.sync_config(&receiver.endpoint());
    config.tls.cert = cert;
    config.tls.key = key;
    let worker = sync::start(unit.store_path(), config).unwrap();
    wait_for("failures", LIMIT, || {
        worker.status().consecutive_failures >= 2
    });
    assert_eq!(receiver.stats().requests.load(Ordering::SeqCst), 0);
    assert_eq!(worker.status().backlog, 2);
    assert!(unit.received().is_empty());
}

#[test]
fn a_server_certificate_from_another_ca_is_not_trusted() {
    let unit = Unit::new("rogue-server");
    unit.append(2);
    let rogue = sync_receiver::TestCa::new("Rogue").unwrap();
    let mut rc = unit.receiver_config(0);
    rc.server = rogue.server().unwrap();
    let receiver = Receiver::start(rc, "127.0.0.1:0".parse().unwrap()).unwrap();
    let worker = sync::start(unit.store_path(), unit.sync_config(&receiver.endpoint())).unwrap();
    wait_for("failures", LIMIT, || {
        worker.status().consecutive_failures >= 2
    });
    assert_eq!(receiver.stats().requests.load(Ordering::SeqCst), 0);
    assert_eq!(worker.status().backlog, 2);
}

#[test]
fn a_unit_cannot_upload_as_another() {
    let unit = Unit::new("impostor");
    unit.append(2);
    let receiver = unit.receiver();
    let dir = unit.dir.0.join("b");
    std::fs::create_dir_all(&dir).unwrap();
    // A genuine certificate of the same CA, but for another unit.
    let (_, cert, key) = unit.ca.write_unit_files(&dir, "another-unit").unwrap();
    let mut config = unit.sync_config(&receiver.endpoint());
    config.tls.cert = cert;
    config.tls.key = key;
    let worker = sync::start(unit.store_path(), config).unwrap();
    wait_for("the refusal", LIMIT, || {
        worker
            .status()
            .last_error
            .is_some_and(|e| e.contains("HTTP 403: unit_mismatch"))
    });
    assert!(unit.received().is_empty());
    assert_eq!(worker.status().backlog, 2);
}
