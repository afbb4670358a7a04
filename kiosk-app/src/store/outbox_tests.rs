//! Tests of format 2, the outbox, acknowledgements, retention purge, and
//! the migration from schema 1.

use std::path::{Path, PathBuf};

use ed25519_dalek::Signer;
use rusqlite::Connection;

use super::sample::signing_key;
use super::test_support::TempDir;
use super::*;

/// Record `i` of [`sample::passage`] with a surname unique to `i`, so the
/// file can be searched for it.
fn record(i: u64) -> PassageRecord {
    let mut record = sample::passage(i);
    record.document.primary_identifier = format!("SURNAMEXQ{i:05}");
    record
}

fn filled(dir: &TempDir, n: u64) -> SigningKey {
    let key = signing_key();
    let store = Store::open(dir.db(), &StoreConfig::new(key.clone())).expect("open");
    for i in 0..n {
        store.append(record(i)).expect("append");
    }
    key
}

fn outbox(path: &Path) -> Outbox {
    Outbox::open(path, std::time::Duration::from_secs(5)).expect("outbox")
}

fn intact(path: &Path, key: &SigningKey) -> u64 {
    match verify_store(path, &key.verifying_key()).expect("verify runs") {
        VerifyReport::Intact { records, .. } => records,
        broken => panic!("{broken}"),
    }
}

fn broken_at(path: &Path, key: &SigningKey) -> (u64, Problem) {
    match verify_store(path, &key.verifying_key()).expect("verify runs") {
        VerifyReport::Broken { first_bad, .. } => (first_bad.seq, first_bad.problem),
        VerifyReport::Intact { .. } => panic!("passed verification"),
    }
}

/// Checks a queued record as a receiver would: signature, decoding, digest.
fn check_as_receiver(p: &PendingRecord, key: &SigningKey) -> SignedRecord {
    let signature = ed25519_dalek::Signature::from_bytes(&p.signature);
    key.verifying_key()
        .verify_strict(&p.signed, &signature)
        .expect("signature verifies");
    let mut decoded = decode_signed(&p.signed).expect("decodes");
    assert_eq!((decoded.seq, decoded.record.id), (p.seq, p.record_id));
    if let Some(digest) = decoded.personal_digest {
        let personal = p
            .personal
            .as_ref()
            .expect("format 2 carries its personal part");
        assert_eq!(personal::personal_digest(personal), digest);
        decode_personal(personal)
            .expect("personal decodes")
            .fill(&mut decoded.record);
    } else {
        assert!(p.personal.is_none());
    }
    decoded
}

#[test]
fn queued_records_go_out_signed_in_format_2_with_their_personal_part() {
    let dir = TempDir::new("format2");
    let key = filled(&dir, 3);
    let batch = outbox(&dir.db()).next_batch(10, 1 << 20).expect("batch");
    assert_eq!(batch.iter().map(|p| p.seq).collect::<Vec<_>>(), [1, 2, 3]);
    let mut prev = chain::GENESIS;
    for (i, p) in batch.iter().enumerate() {
        let decoded = check_as_receiver(p, &key);
        assert_eq!(decoded.format, 2);
        assert_eq!(decoded.prev_hash, prev);
        let want = record(u64::try_from(i).expect("small"));
        assert_eq!(decoded.record.document, want.document);
        assert_eq!(decoded.record.biometrics, want.biometrics);
        prev = chain::record_hash(&p.signed, &p.signature);
    }
}

#[test]
fn batches_follow_sequence_order_and_respect_count_and_bytes() {
    let dir = TempDir::new("batches");
    filled(&dir, 10);
    let mut ob = outbox(&dir.db());
    let seqs = |b: &[PendingRecord]| b.iter().map(|p| p.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(&ob.next_batch(4, 1 << 20).expect("batch")),
        [1, 2, 3, 4]
    );
    let one = ob.next_batch(100, 1).expect("batch");
    assert_eq!(
        seqs(&one),
        [1],
        "a record larger than the limit still goes alone"
    );
    let size = one[0].wire_size();
    assert_eq!(
        seqs(&ob.next_batch(100, size * 3).expect("batch")),
        [1, 2, 3]
    );
    assert_eq!(ob.acknowledge(&[1, 2], 1000, Some(5)).expect("ack"), 2);
    assert_eq!(
        ob.acknowledge(&[2], 1001, None).expect("ack"),
        0,
        "counted once"
    );
    assert_eq!(seqs(&ob.next_batch(2, 1 << 20).expect("batch")), [3, 4]);
    let status = ob.status().expect("status");
    assert_eq!((status.backlog, status.acknowledged), (8, 2));
}

#[test]
fn status_tracks_failures_successes_and_oldest_record() {
    let dir = TempDir::new("status");
    filled(&dir, 3);
    let mut ob = outbox(&dir.db());
    let before = outbox_status(dir.db()).expect("status");
    assert_eq!(before.backlog, 3);
    assert!(before.last_error.is_none() && before.last_success_unix_ms.is_none());
    let oldest = before.oldest_enqueued_unix_ms.expect("oldest");
    assert_eq!(
        before.oldest_age(oldest + 1500),
        Some(std::time::Duration::from_millis(1500))
    );
    assert_eq!(
        before.oldest_age(oldest - 10_000),
        Some(std::time::Duration::ZERO),
        "a clock set back gives age 0, not a wrap-around"
    );
    ob.note_failure(&[1, 2], "HTTP 503: unavailable", 5000)
        .expect("note");
    let failed = outbox_status(dir.db()).expect("status");
    assert_eq!(failed.last_error.as_deref(), Some("HTTP 503: unavailable"));
    assert_eq!(failed.last_error_unix_ms, Some(5000));
    ob.acknowledge(&[1], 6000, Some(-42)).expect("ack");
    let ok = outbox_status(dir.db()).expect("status");
    assert_eq!(ok.last_error, None);
    assert_eq!(
        (ok.last_success_unix_ms, ok.clock_skew_ms),
        (Some(6000), Some(-42))
    );
    assert_eq!((ok.backlog, ok.acknowledged), (2, 1));
    let attempts: i64 = Connection::open(dir.db())
        .expect("raw")
        .query_row("SELECT attempts FROM outbox WHERE seq = 2", [], |r| {
            r.get(0)
        })
        .expect("attempts");
    assert_eq!(attempts, 1);
}

/// Whether `needle` occurs in the store's file or its WAL.
fn on_disk(path: &Path, needle: &str) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    [path.to_path_buf(), PathBuf::from(wal)].iter().any(|p| {
        std::fs::read(p)
            .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or(false)
    })
}

#[test]
fn purge_blanks_personal_fields_after_retention_and_the_chain_still_verifies() {
    let dir = TempDir::new("purge");
    let key = filled(&dir, 6);
    let mut ob = outbox(&dir.db());
    ob.acknowledge(&[1, 2, 3], 10_000, None).expect("ack");
    ob.acknowledge(&[4], 20_000, None).expect("ack");
    // Nothing acknowledged early enough: nothing changes.
    assert_eq!(ob.purge_personal(9_999, 100, 30_000).expect("purge"), 0);
    assert_eq!(ob.purge_personal(10_000, 2, 30_000).expect("purge"), 2);
    assert_eq!(ob.purge_personal(10_000, 2, 30_000).expect("purge"), 1);
    assert_eq!(ob.purge_personal(10_000, 2, 30_000).expect("purge"), 0);
    assert_eq!(intact(&dir.db(), &key), 6);
    let status = ob.status().expect("status");
    assert_eq!(
        (status.acknowledged, status.purged, status.backlog),
        (4, 3, 2)
    );

    let conn = Connection::open(dir.db()).expect("raw");
    let row = |seq: i64| -> (String, String, String, Option<Vec<u8>>) {
        conn.query_row(
            "SELECT document_number, primary_identifier, nationality, personal_salt \
             FROM passage WHERE seq = ?1",
            [seq],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("row")
    };
    assert_eq!(row(2), (String::new(), String::new(), "UTO".into(), None));
    let kept = row(4);
    assert_eq!(kept.1, "SURNAMEXQ00003", "acknowledged later: not due yet");
    assert!(kept.3.is_some());
    drop(conn);

    // Purged names are gone from the file and the WAL, not just unlinked.
    assert!(ob.checkpoint().expect("checkpoint"));
    assert!(!on_disk(&dir.db(), "SURNAMEXQ00000"));
    assert!(!on_disk(&dir.db(), "SURNAMEXQ00002"));
    assert!(on_disk(&dir.db(), "SURNAMEXQ00004"), "the search works");
}

#[test]
fn tampering_with_a_purged_record_is_still_detected() {
    let dir = TempDir::new("purged-tamper");
    let key = filled(&dir, 4);
    let mut ob = outbox(&dir.db());
    ob.acknowledge(&[1, 2, 3], 1, None).expect("ack");
    assert_eq!(ob.purge_personal(1, 10, 2).expect("purge"), 3);
    assert_eq!(intact(&dir.db(), &key), 4);
    let conn = Connection::open(dir.db()).expect("raw");
    let edit = |sql: &str, undo: &str, want: Problem| {
        conn.execute_batch(sql).expect("edit");
        assert_eq!(broken_at(&dir.db(), &key), (2, want), "{sql}");
        conn.execute_batch(undo).expect("undo");
        assert_eq!(intact(&dir.db(), &key), 4);
    };
    edit(
        "UPDATE passage SET decision = 'refused' WHERE seq = 2",
        "UPDATE passage SET decision = 'referred' WHERE seq = 2",
        Problem::ContentChanged,
    );
    edit(
        "UPDATE passage SET nationality = 'XXX' WHERE seq = 2",
        "UPDATE passage SET nationality = 'UTO' WHERE seq = 2",
        Problem::ContentChanged,
    );
    edit(
        "UPDATE passage SET primary_identifier = 'SOMEONE' WHERE seq = 2",
        "UPDATE passage SET primary_identifier = '' WHERE seq = 2",
        Problem::Unreadable {
            column: "primary_identifier",
        },
    );
    let digest: Vec<u8> = conn
        .query_row(
            "SELECT personal_digest FROM passage WHERE seq = 2",
            [],
            |r| r.get(0),
        )
        .expect("digest");
    let mut other = digest.clone();
    other[0] ^= 1;
    conn.execute(
        "UPDATE passage SET personal_digest = ?1 WHERE seq = 2",
        [&other],
    )
    .expect("edit");
    assert_eq!(broken_at(&dir.db(), &key), (2, Problem::ContentChanged));
}

#[test]
fn unacknowledged_records_are_never_purged() {
    let dir = TempDir::new("unacked");
    let key = filled(&dir, 3);
    let mut ob = outbox(&dir.db());
    assert_eq!(ob.purge_personal(i64::MAX, 100, 1).expect("purge"), 0);
    let batch = ob.next_batch(10, 1 << 20).expect("batch");
    assert_eq!(batch.len(), 3);
    assert!(batch.iter().all(|p| p.personal.is_some()));
    assert_eq!(intact(&dir.db(), &key), 3);
}

/// Writes `n` format 1 records into a schema 1 store, as the software
/// before schema 2 did.
fn schema_1_store(path: &Path, key: &SigningKey, n: u64) {
    let mut conn = Connection::open(path).expect("open");
    let _: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .expect("wal");
    schema::migrate_to(&mut conn, 0, 1).expect("schema 1");
    let mut prev = chain::GENESIS;
    for i in 0..n {
        let seq = i + 1;
        let rec = record(100 + i);
        let canonical = rec.canonical_bytes(seq, &prev);
        let signature = key.sign(&canonical).to_bytes();
        let record_hash = chain::record_hash(&canonical, &signature);
        let stored = StoredRecord {
            seq,
            record: rec,
            prev_hash: prev,
            signature,
            record_hash,
        };
        insert_passage(&conn, &stored).expect("insert");
        conn.execute(
            "INSERT INTO outbox (seq, enqueued_unix_ms) VALUES (?1, 0)",
            [seq_sql(seq)],
        )
        .expect("outbox");
        prev = record_hash;
    }
}

#[test]
fn schema_1_store_migrates_its_records_verify_sync_and_are_not_purged() {
    let dir = TempDir::new("migrate");
    let key = signing_key();
    schema_1_store(&dir.db(), &key, 3);
    assert!(matches!(
        Outbox::open(dir.db(), std::time::Duration::from_secs(1)),
        Err(StoreError::OlderSchema { found: 1, .. })
    ));
    let store = Store::open(dir.db(), &StoreConfig::new(key.clone())).expect("migrates");
    store.append(record(0)).expect("append");
    store.append(record(1)).expect("append");
    drop(store);
    assert_eq!(intact(&dir.db(), &key), 5);

    let mut ob = outbox(&dir.db());
    let batch = ob.next_batch(10, 1 << 20).expect("batch");
    let formats: Vec<u8> = batch
        .iter()
        .map(|p| check_as_receiver(p, &key).format)
        .collect();
    assert_eq!(formats, [1, 1, 1, 2, 2]);
    ob.acknowledge(&[1, 2, 3, 4, 5], 1, None).expect("ack");
    assert_eq!(ob.purge_personal(1, 100, 2).expect("purge"), 2);
    assert_eq!(
        ob.purge_personal(1, 100, 2).expect("purge"),
        0,
        "format 1 is not retried"
    );
    let status = ob.status().expect("status");
    assert_eq!((status.acknowledged, status.purged), (5, 2));
    assert_eq!(intact(&dir.db(), &key), 5);
    let conn = Connection::open(dir.db()).expect("raw");
    let kept: String = conn
        .query_row(
            "SELECT primary_identifier FROM passage WHERE seq = 1",
            [],
            |r| r.get(0),
        )
        .expect("row");
    assert_eq!(kept, "SURNAMEXQ00100", "a format 1 record cannot be purged");
}

#[test]
fn signed_bytes_decode_only_when_exact() {
    let dir = TempDir::new("decode");
    filled(&dir, 1);
    let batch = outbox(&dir.db()).next_batch(1, 1 << 20).expect("batch");
    let signed = &batch[0].signed;
    for len in 0..signed.len() {
        assert!(decode_signed(&signed[..len]).is_err(), "truncated to {len}");
    }
    let mut longer = signed.clone();
    longer.push(0);
    assert_eq!(decode_signed(&longer), Err(DecodeError::TrailingData(1)));
    let mut bad = signed.clone();
    bad[7] = 9;
    assert!(matches!(
        decode_signed(&bad),
        Err(DecodeError::Invalid { what: "magic", .. })
    ));
    // A personal field smuggled into format 2 signed bytes is not canonical.
    let mut decoded = decode_signed(signed).expect("decodes");
    decoded.record.document.sex = "F".into();
    let digest = decoded.personal_digest.expect("format 2");
    let mut smuggled = decoded
        .record
        .canonical_bytes(decoded.seq, &decoded.prev_hash);
    smuggled[..8].copy_from_slice(&personal::CANONICAL_MAGIC_V2);
    smuggled.extend_from_slice(&digest);
    assert_eq!(decode_signed(&smuggled), Err(DecodeError::NotCanonical));
    let personal = batch[0].personal.as_ref().expect("personal");
    for len in 0..personal.len() {
        assert!(
            decode_personal(&personal[..len]).is_err(),
            "truncated to {len}"
        );
    }
    assert!(format!("{:?}", decode_personal(personal).expect("ok")).len() < 40);
}

#[test]
fn bulk_append_chains_like_single_appends() {
    let dir = TempDir::new("bulk");
    let key = signing_key();
    let store = Store::open(dir.db(), &StoreConfig::new(key.clone())).expect("open");
    store.append(record(0)).expect("append");
    assert_eq!(store.append_many((1..50).map(record)).expect("bulk"), 49);
    store.append(record(50)).expect("append");
    assert_eq!(store.outbox_count().expect("count"), 51);
    // All or nothing: a bad record in the middle writes none of the batch.
    let mut bad = record(52);
    bad.reason_codes = vec!["Not A Code".into()];
    let err = store
        .append_many([record(51), bad, record(53)])
        .expect_err("refused");
    assert!(matches!(err, StoreError::InvalidRecord { .. }), "{err:?}");
    assert_eq!(store.record_count().expect("count"), 51);
    drop(store);
    assert_eq!(intact(&dir.db(), &key), 51);
}
