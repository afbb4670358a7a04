//! The receiver's checks on each record, without the network: what is
//! stored, what is a duplicate, and each reason for a rejection.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{UNIT, Unit};
use kiosk_app::store::Outbox;
use kiosk_app::store::sample::{passage, signing_key};
use kiosk_app::sync::wire::{AckStatus, WireRecord};
use sync_receiver::ReceiverDb;

fn wire(unit: &Unit, n: usize) -> Vec<WireRecord> {
    Outbox::open(unit.store_path(), Duration::from_secs(5))
        .unwrap()
        .next_batch(n, 1 << 22)
        .unwrap()
        .iter()
        .map(WireRecord::from_pending)
        .collect()
}

fn outcome(db: &mut ReceiverDb, unit: &Unit, records: &[WireRecord]) -> Vec<String> {
    db.process_batch(UNIT, &unit.key.verifying_key(), records, 0)
        .unwrap()
        .into_iter()
        .map(|r| match r.status {
            AckStatus::Stored => "stored".to_owned(),
            AckStatus::Duplicate => "duplicate".to_owned(),
            AckStatus::Rejected => r.reason.unwrap(),
        })
        .collect()
}

fn setup(name: &str, n: u64) -> (Unit, ReceiverDb, Vec<WireRecord>) {
    let unit = Unit::new(name);
    unit.append(n);
    let db = ReceiverDb::open(unit.receiver_db()).unwrap();
    let records = wire(&unit, usize::try_from(n).unwrap());
    (unit, db, records)
}

#[test]
fn a_batch_is_stored_and_sent_again_is_all_duplicates() {
    let (unit, mut db, records) = setup("dup", 4);
    assert_eq!(outcome(&mut db, &unit, &records), ["stored"; 4]);
    assert_eq!(outcome(&mut db, &unit, &records), ["duplicate"; 4]);
    // Overlapping batches too.
    assert_eq!(
        outcome(&mut db, &unit, &records[2..]),
        ["duplicate", "duplicate"]
    );
    assert_eq!(db.count(UNIT).unwrap(), 4);
    assert_eq!(
        db.verify_chain(UNIT, &unit.key.verifying_key()).unwrap(),
        Ok(4)
    );
}

#[test]
fn a_record_whose_predecessor_is_missing_is_a_chain_gap() {
    let (unit, mut db, records) = setup("gap", 4);
    assert_eq!(
        outcome(&mut db, &unit, &[records[0].clone(), records[2].clone()]),
        ["stored", "chain_gap"]
    );
    assert_eq!(
        outcome(&mut db, &unit, &records[1..]),
        ["stored", "stored", "stored"]
    );
}

#[test]
fn changed_bytes_are_a_bad_signature() {
    let (unit, mut db, mut records) = setup("sig", 2);
    let mut signed = STANDARD.decode(&records[1].signed).unwrap();
    signed[60] ^= 1;
    records[1].signed = STANDARD.encode(&signed);
    assert_eq!(
        outcome(&mut db, &unit, &records),
        ["stored", "bad_signature"]
    );
}

#[test]
fn a_personal_part_that_is_not_the_signed_one_is_refused() {
    let (unit, mut db, records) = setup("personal", 3);
    let mut swapped = records[1].clone();
    swapped.personal = records[2].personal.clone();
    let mut missing = records[1].clone();
    missing.personal = None;
    assert_eq!(
        outcome(&mut db, &unit, &[records[0].clone(), swapped, missing]),
        ["stored", "personal_mismatch", "personal_mismatch"]
    );
}

#[test]
fn an_envelope_that_disagrees_with_the_signed_bytes_is_malformed() {
    let (unit, mut db, records) = setup("envelope", 2);
    let mut wrong_seq = records[0].clone();
    wrong_seq.seq = 2;
    let mut wrong_id = records[0].clone();
    wrong_id.record_id = records[1].record_id.clone();
    let mut not_base64 = records[0].clone();
    not_base64.signed = "***".into();
    assert_eq!(
        outcome(&mut db, &unit, &[wrong_seq, wrong_id, not_base64]),
        ["malformed", "malformed", "malformed"]
    );
    assert_eq!(db.count(UNIT).unwrap(), 0);
}

#[test]
fn another_chain_for_the_same_unit_is_a_fork_or_a_conflict() {
    let (unit, mut db, records) = setup("fork", 2);
    assert_eq!(outcome(&mut db, &unit, &records), ["stored", "stored"]);
    // Another store signed with the same key: a second chain.
    let other = Unit::new("fork-other");
    let other_store = kiosk_app::store::Store::open(
        other.dir.0.join("second.sqlite"),
        &kiosk_app::store::StoreConfig::new(unit.key.clone()),
    )
    .unwrap();
    other_store.append(passage(9)).unwrap();
    other_store.append(passage(10)).unwrap();
    let forked: Vec<WireRecord> =
        Outbox::open(other.dir.0.join("second.sqlite"), Duration::from_secs(5))
            .unwrap()
            .next_batch(2, 1 << 20)
            .unwrap()
            .iter()
            .map(WireRecord::from_pending)
            .collect();
    assert_eq!(outcome(&mut db, &unit, &forked[..1]), ["fork"]);
    // The same record id with other bytes.
    let mut conflict = forked[0].clone();
    conflict.record_id = records[0].record_id.clone();
    assert_eq!(outcome(&mut db, &unit, &[conflict]), ["conflict"]);
    assert_eq!(db.count(UNIT).unwrap(), 2);
}

#[test]
fn a_record_signed_by_another_unit_is_a_bad_signature() {
    let (unit, mut db, records) = setup("other-key", 1);
    let other = signing_key();
    let results = db
        .process_batch(UNIT, &other.verifying_key(), &records, 0)
        .unwrap();
    assert_eq!(results[0].status, AckStatus::Rejected);
    assert_eq!(results[0].reason.as_deref(), Some("bad_signature"));
    assert_eq!(db.count(UNIT).unwrap(), 0);
    drop(unit);
}
