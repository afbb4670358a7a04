//! `kioskctl store verify` against a real passage-record store written by the lane's store code.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::kioskctl;
use kiosk_app::store::sample::{approved, signing_key};
use kiosk_app::store::{Store, StoreConfig};
use serde_json::Value;

/// A store with `n` records in a fresh folder, and the public key file.
struct Fixture {
    dir: PathBuf,
    db: PathBuf,
    key: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture(n: u64) -> Fixture {
    let dir = std::env::temp_dir().join(format!(
        "kioskctl-store-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let signing = signing_key();
    let key = dir.join("record-signing.pub");
    std::fs::write(&key, hex::encode(signing.verifying_key().as_bytes())).unwrap();
    let db = dir.join("passages.sqlite");
    let store = Store::open(&db, &StoreConfig::new(signing)).unwrap();
    for i in 0..n {
        store.append(approved(i)).unwrap();
    }
    Fixture { dir, db, key }
}

fn verify(f: &Fixture) -> (Option<i32>, Value) {
    let out = kioskctl(
        &[
            "store",
            "verify",
            "--store",
            f.db.to_str().unwrap(),
            "--key",
            f.key.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}

fn sql(f: &Fixture, statement: &str) {
    let conn = rusqlite::Connection::open(&f.db).unwrap();
    conn.execute_batch(statement).unwrap();
}

#[test]
fn intact_store_exits_0() {
    let f = fixture(5);
    let (code, v) = verify(&f);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["intact"], true);
    assert_eq!(v["records"], 5);
}

#[test]
fn changed_byte_names_the_record() {
    let f = fixture(5);
    sql(
        &f,
        "UPDATE passage SET document_number = 'L89890099' WHERE seq = 3;",
    );
    let (code, v) = verify(&f);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["first_bad"]["seq"], 3);
}

#[test]
fn removed_record_is_found() {
    let f = fixture(5);
    sql(
        &f,
        "DELETE FROM outbox WHERE seq = 2; DELETE FROM passage WHERE seq = 2;",
    );
    let (code, v) = verify(&f);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["intact"], false);
}

#[test]
fn swapped_records_are_found() {
    let f = fixture(5);
    sql(
        &f,
        "PRAGMA foreign_keys = OFF;
         UPDATE passage SET seq = 100 WHERE seq = 2;
         UPDATE passage SET seq = 2 WHERE seq = 4;
         UPDATE passage SET seq = 4 WHERE seq = 100;",
    );
    let (code, v) = verify(&f);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["first_bad"]["seq"], 2);
}

#[test]
fn another_units_key_does_not_verify() {
    let f = fixture(3);
    let other = signing_key();
    std::fs::write(&f.key, hex::encode(other.verifying_key().as_bytes())).unwrap();
    let (code, v) = verify(&f);
    assert_eq!(code, Some(1), "{v}");
}

#[test]
fn a_file_that_is_not_a_store_is_a_clear_error() {
    let f = fixture(1);
    std::fs::write(&f.db, b"this is not a database, just some bytes....").unwrap();
    let out = kioskctl(
        &[
            "store",
            "verify",
            "--store",
            f.db.to_str().unwrap(),
            "--key",
            f.key.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("store verify failed"), "{err}");
}

fn status(f: &Fixture) -> (Option<i32>, Value) {
    let out = kioskctl(
        &[
            "store",
            "status",
            "--store",
            f.db.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}

#[test]
fn status_shows_the_backlog_and_the_last_error() {
    let f = fixture(4);
    let (code, v) = status(&f);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["backlog"], 4);
    assert_eq!(v["acknowledged"], 0);
    assert!(v["oldest_unsynced_age_s"].is_u64(), "{v}");
    assert!(v["last_error"].is_null());

    // What the sync worker writes: two acknowledged, then a failure.
    let mut outbox =
        kiosk_app::store::Outbox::open(&f.db, std::time::Duration::from_secs(5)).unwrap();
    outbox.acknowledge(&[1, 2], 1_000, Some(250)).unwrap();
    outbox
        .note_failure(&[3], "HTTP 503: unavailable", 2_000)
        .unwrap();
    let (code, v) = status(&f);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["backlog"], 2);
    assert_eq!(v["acknowledged"], 2);
    assert_eq!(v["last_error"], "HTTP 503: unavailable");
    assert_eq!(v["last_success_unix_ms"], 1_000);
    assert_eq!(v["clock_skew_ms"], 250);

    let out = kioskctl(&["store", "status", "--store", f.db.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("backlog: 2 records"), "{text}");
    assert!(text.contains("last error: HTTP 503: unavailable"), "{text}");
}

#[test]
fn status_of_a_file_that_is_not_a_store_exits_1() {
    let f = fixture(1);
    std::fs::write(&f.db, b"this is not a database, just some bytes....").unwrap();
    let (code, v) = status(&f);
    assert_eq!(code, Some(1), "{v}");
    assert!(v["error"].is_string(), "{v}");
}
