//! Sync unit tests without a network: result matching, configuration.

use std::path::PathBuf;

use super::wire::{AckStatus, BatchResponse, RecordResult};
use super::worker::sort_results;
use super::*;
use crate::store::{PendingRecord, RecordId};

fn pending(seq: u64) -> PendingRecord {
    PendingRecord {
        seq,
        record_id: RecordId::from_bytes([u8::try_from(seq).expect("small"); 16]),
        signed: vec![1, 2, 3],
        signature: [0; 64],
        personal: None,
        enqueued_unix_ms: 0,
    }
}

fn result(seq: u64, status: AckStatus, reason: Option<&str>) -> RecordResult {
    RecordResult {
        record_id: pending(seq).record_id.to_hex(),
        status,
        reason: reason.map(str::to_owned),
    }
}

#[test]
fn stored_and_duplicate_are_acknowledged_rejected_and_missing_are_not() {
    let batch: Vec<_> = (1..=5).map(pending).collect();
    let response = BatchResponse {
        results: vec![
            result(2, AckStatus::Duplicate, None),
            result(1, AckStatus::Stored, None),
            result(3, AckStatus::Rejected, Some("chain_break")),
            // 4 is not answered; 9 was never sent.
            result(5, AckStatus::Stored, None),
            result(9, AckStatus::Stored, None),
        ],
        received_unix_ms: 0,
    };
    let sorted = sort_results(&batch, &response);
    assert_eq!(sorted.acknowledged, vec![1, 2, 5]);
    assert_eq!(sorted.unacknowledged, vec![3, 4]);
    let problem = sorted.problem.expect("a problem");
    assert!(
        problem.contains("seq 3") && problem.contains("chain_break"),
        "{problem}"
    );
}

#[test]
fn a_fully_acknowledged_batch_has_no_problem() {
    let batch: Vec<_> = (1..=3).map(pending).collect();
    let response = BatchResponse {
        results: (1..=3)
            .map(|s| result(s, AckStatus::Stored, None))
            .collect(),
        received_unix_ms: 0,
    };
    let sorted = sort_results(&batch, &response);
    assert_eq!(sorted.acknowledged, vec![1, 2, 3]);
    assert!(sorted.problem.is_none());
}

fn config() -> SyncConfig {
    SyncConfig::new(
        "https://127.0.0.1:8443",
        "unit-1",
        TlsFiles {
            ca: PathBuf::from("ca.pem"),
            cert: PathBuf::from("unit.pem"),
            key: PathBuf::from("unit.key"),
        },
    )
}

#[test]
fn config_errors_name_the_field() {
    assert!(config().validate().is_ok());
    let field = |c: SyncConfig| match c.validate() {
        Err(SyncError::Config { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let mut c = config();
    c.endpoint = "http://127.0.0.1:8443".into();
    assert_eq!(field(c), "endpoint");
    let mut c = config();
    c.endpoint = "https://host/path".into();
    assert_eq!(field(c), "endpoint");
    let mut c = config();
    c.unit_id = "unit 1".into();
    assert_eq!(field(c), "unit_id");
    let mut c = config();
    c.batch_max_records = 0;
    assert_eq!(field(c), "batch_max_records");
    let mut c = config();
    c.batch_max_bytes = 100;
    assert_eq!(field(c), "batch_max_bytes");
}

#[test]
fn missing_tls_files_are_named() {
    let dir = std::env::temp_dir().join(format!("kiosk-sync-tls-{}", std::process::id()));
    let err = client::build(&SyncConfig {
        tls: TlsFiles {
            ca: dir.join("nope.pem"),
            cert: dir.join("unit.pem"),
            key: dir.join("unit.key"),
        },
        ..config()
    })
    .expect_err("no files");
    assert!(
        matches!(err, SyncError::Tls { ref path, .. } if path.ends_with("nope.pem")),
        "{err}"
    );
}
