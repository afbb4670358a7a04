//! Tests of the audit outbox and seal (schema 3), and the migration from
//! schema 2.

use rusqlite::Connection;

use super::sample::{passage, signing_key};
use super::test_support::TempDir;
use super::*;

fn entry(i: u64, record_id: Option<RecordId>) -> AuditEntry {
    AuditEntry {
        officer_id: format!("officer-{i}"),
        time_unix_ms: 1_790_000_000_000 + i64::try_from(i).expect("small"),
        lane: "A03".into(),
        action: "override_open".into(),
        record_id,
        reason: format!("reason {i}"),
    }
}

fn outbox(store: &Store) -> Outbox {
    Outbox::open(store.path(), Duration::from_secs(5)).expect("outbox")
}

/// Checks a batch as the receiver does: signature, decoding, ids and chain
/// from id 1; returns the entries.
fn check_chain(batch: &[PendingAudit], key: &SigningKey) -> Vec<AuditEntry> {
    let mut prev = [0u8; 32];
    let mut out = Vec::new();
    for (n, p) in batch.iter().enumerate() {
        key.verifying_key()
            .verify_strict(
                &p.signed,
                &ed25519_dalek::Signature::from_bytes(&p.signature),
            )
            .expect("signature verifies");
        let decoded = decode_audit(&p.signed).expect("decodes");
        assert_eq!(decoded.id, p.id);
        assert_eq!(decoded.id, u64::try_from(n).expect("small") + 1);
        assert_eq!(decoded.prev_hash, prev, "entry {} chains", p.id);
        prev = chain::record_hash(&p.signed, &p.signature);
        out.push(decoded.entry);
    }
    out
}

#[test]
fn the_audit_outbox_row_is_written_with_the_audit_row_and_only_then() {
    let dir = TempDir::new("audit-outbox");
    let key = signing_key();
    let store = Store::open(dir.db(), &StoreConfig::new(key.clone())).expect("open");
    let stored = store.append(passage(1)).expect("append");
    assert_eq!(
        store
            .append_audit(&entry(1, Some(stored.record.id)))
            .expect("audit"),
        1
    );
    assert_eq!(store.audit_outbox_count().expect("count"), 1);
    // A refused entry leaves neither an audit row nor an outbox row.
    let unknown = Some(RecordId::random().expect("rng"));
    assert!(matches!(
        store.append_audit(&entry(2, unknown)),
        Err(StoreError::InvalidRecord {
            field: "record_id",
            ..
        })
    ));
    assert_eq!(store.audit_outbox_count().expect("count"), 1);
    assert_eq!(store.append_audit(&entry(3, None)).expect("audit"), 2);
    let raw = Connection::open(dir.db()).expect("raw");
    let (audit, queued, sealed): (i64, i64, i64) = raw
        .query_row(
            "SELECT (SELECT COUNT(*) FROM audit), (SELECT COUNT(*) FROM audit_outbox), \
             (SELECT COUNT(*) FROM audit WHERE signature IS NOT NULL AND entry_hash IS NOT NULL)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("counts");
    assert_eq!((audit, queued, sealed), (2, 2, 2));

    let mut ob = outbox(&store);
    assert_eq!(ob.status().expect("status").audit_backlog, 2);
    let batch = ob.next_audit_batch(10, 1 << 20).expect("batch");
    let entries = check_chain(&batch, &key);
    assert_eq!(entries, [entry(1, Some(stored.record.id)), entry(3, None)]);
    assert!(
        !format!("{batch:?}").contains("officer-"),
        "Debug names no officer"
    );
    assert_eq!(ob.acknowledge_audit(&[1], 5, None).expect("ack"), 1);
    assert_eq!(ob.acknowledge_audit(&[1], 6, None).expect("ack again"), 0);
    let status = ob.status().expect("status");
    assert_eq!((status.audit_backlog, status.backlog), (1, 1));
    assert_eq!(ob.next_audit_batch(10, 1 << 20).expect("batch")[0].id, 2);
}

#[test]
fn a_tampered_audit_column_no_longer_matches_its_signature() {
    let dir = TempDir::new("audit-tamper");
    let key = signing_key();
    let store = Store::open(dir.db(), &StoreConfig::new(key.clone())).expect("open");
    store.append_audit(&entry(1, None)).expect("audit");
    Connection::open(dir.db())
        .expect("raw")
        .execute("UPDATE audit SET reason = 'nothing happened'", [])
        .expect("tamper");
    let batch = outbox(&store).next_audit_batch(10, 1 << 20).expect("batch");
    assert!(
        key.verifying_key()
            .verify_strict(
                &batch[0].signed,
                &ed25519_dalek::Signature::from_bytes(&batch[0].signature)
            )
            .is_err()
    );
}

#[test]
fn a_schema_2_store_migrates_and_its_audit_rows_are_sealed_and_queued() {
    let dir = TempDir::new("audit-migrate");
    let key = signing_key();
    {
        let mut conn = Connection::open(dir.db()).expect("open");
        let _: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .expect("wal");
        schema::migrate_to(&mut conn, 0, 2).expect("schema 2");
        // As the software of schema 2 wrote them: no seal, no outbox.
        for i in 1..=3u64 {
            let e = entry(i, None);
            conn.execute(
                "INSERT INTO audit (officer_id, time_unix_ms, lane, action, record_id, reason) \
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
                (&e.officer_id, e.time_unix_ms, &e.lane, &e.action, &e.reason),
            )
            .expect("v2 audit row");
        }
    }
    assert!(matches!(
        Outbox::open(dir.db(), Duration::from_secs(1)),
        Err(StoreError::OlderSchema { found: 2, .. })
    ));
    let store = Store::open(dir.db(), &StoreConfig::new(key.clone())).expect("migrates");
    assert_eq!(schema::SCHEMA_VERSION, 3);
    assert_eq!(store.audit_outbox_count().expect("count"), 3);
    assert_eq!(store.append_audit(&entry(4, None)).expect("audit"), 4);
    drop(store);
    // Opening again seals nothing twice: the chain is unchanged.
    let store = Store::open(dir.db(), &StoreConfig::new(key.clone())).expect("reopen");
    let batch = outbox(&store).next_audit_batch(10, 1 << 20).expect("batch");
    let entries = check_chain(&batch, &key);
    assert_eq!(entries, (1..=4).map(|i| entry(i, None)).collect::<Vec<_>>());
    assert_eq!(
        outbox_status(dir.db())
            .expect("read-only status")
            .audit_backlog,
        4
    );
}
