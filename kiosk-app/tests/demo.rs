//! `asean-lane demo` run as a test: the whole lane through pcscd ("Virtual
//! PCD 00 00"), a pty scanner and the host gate firmware, with every kind of
//! traveller; then the store it wrote is checked record by record.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;

use kiosk_app::store::{VerifyingKey, verify_store};
use rusqlite::Connection;

/// The demo lays its chips on one vpcd reader: one demo at a time in this binary.
static READER: Mutex<()> = Mutex::new(());

fn demo(args: &[&str]) -> Output {
    let _reader = READER.lock().unwrap_or_else(|e| e.into_inner());
    Command::new(env!("CARGO_BIN_EXE_asean-lane"))
        .arg("demo")
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn public_key(store: &Path) -> VerifyingKey {
    let hex = std::fs::read_to_string(store.with_extension("pub")).unwrap();
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    VerifyingKey::from_bytes(&bytes.try_into().unwrap()).unwrap()
}

#[test]
fn the_demo_lane_decides_every_traveller_and_records_each_passage() {
    let dir = common::work_dir("all");
    let store = dir.join("passages.sqlite");
    let out = demo(&["--store", store.to_str().unwrap()]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("demo passed"), "{all}");

    // Each step is printed as it happens, in order, for the approved traveller.
    let first = &all[..all.find("── traveller 2/7").unwrap()];
    let steps = [
        "steps into the gate",
        "MRZ read: THA passport",
        "chip     read; genuine",
        "rules    approved, stay 30 days",
        "face     live face",
        "store    passage record",
        "gate     exit opened",
        "walks out through the exit",
    ];
    let mut at = 0;
    for step in steps {
        let i = first[at..]
            .find(step)
            .unwrap_or_else(|| panic!("{step:?} missing or out of order in:\n{first}"));
        at += i + step.len();
    }

    // The summary line of each traveller: outcome, reasons, gate.
    for (label, outcome, reasons, gate) in [
        ("approved", "approved", "-", "opened"),
        ("expired", "referred", "document_expired", "closed"),
        ("non-ASEAN", "redirected", "not_asean_national", "closed"),
        ("watch-listed", "referred", "watch_list_document", "closed"),
        ("tampered chip", "referred", "not_genuine", "closed"),
        ("cloned chip", "referred", "not_genuine", "closed"),
        ("minor", "referred", "minor", "closed"),
    ] {
        let line = all
            .lines()
            .find(|l| l.trim_start().starts_with(label) && l.contains("gate:"))
            .unwrap_or_else(|| panic!("no summary for {label}:\n{all}"));
        let fields: Vec<&str> = line[line.find(label).unwrap() + label.len()..]
            .split_whitespace()
            .collect();
        assert_eq!(fields[0], outcome, "{line}");
        assert_eq!(fields[1], reasons, "{line}");
        assert_eq!(fields[3], gate, "{line}");
        assert!(line.ends_with("as expected"), "{line}");
    }
    // The tampered chip is caught by DG2's hash, the clone by clone detection.
    assert!(all.contains("NOT genuine: failed dg_hash_2"), "{all}");
    assert!(all.contains("NOT genuine: failed clone_detection"), "{all}");
    // The traveller's screen never says why: only the officer's alert does.
    assert!(!all.contains("screen   \"watch"), "{all}");
    // No names or document numbers, on screen or in logs.
    for personal in ["SRISUK", "NARIN", "AA1234567", "SANTOSO", "X9876543"] {
        assert!(!all.contains(personal), "{personal} printed:\n{all}");
    }

    // The store holds one signed, chained record per traveller, and verifies.
    let report = verify_store(&store, &public_key(&store)).unwrap();
    assert!(report.is_intact(), "{report}");
    let db = Connection::open(&store).unwrap();
    let rows: Vec<(String, String, String, String)> = db
        .prepare("SELECT decision, nationality, reason_codes, biometrics FROM passage ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            ("approved", "THA", "[]", "face_match"),
            ("referred", "MYS", "[\"document_expired\"]", "skipped"),
            ("redirected", "UTO", "[\"not_asean_national\"]", "skipped"),
            ("referred", "IDN", "[\"watch_list_document\"]", "skipped"),
            ("referred", "PHL", "[\"not_genuine\"]", "skipped"),
            ("referred", "VNM", "[\"not_genuine\"]", "skipped"),
            ("referred", "SGP", "[\"minor\"]", "skipped"),
        ]
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
    );
    let outbox: i64 = db
        .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(outbox, 7, "every record waits for sync");
    let dismissed: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'officer_dismiss' AND record_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dismissed, 5, "each referral's dismissal is audited");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_demo_fails_when_a_traveller_is_not_decided_as_the_file_expects() {
    let dir = common::work_dir("expect");
    let file = dir.join("travellers.toml");
    std::fs::write(
        &file,
        "[[traveller]]\nlabel = \"wrong\"\nsurname = \"LEE\"\ngiven_names = \"ANN\"\n\
         nationality = \"BRN\"\ndocument_number = \"B1234567\"\nbirth_date = \"1980-01-01\"\n\
         expiry_date = \"-1d\"\nsex = \"F\"\nchip = \"genuine\"\nexpect = \"approved\"\n",
    )
    .unwrap();
    let store = dir.join("passages.sqlite");
    let out = demo(&[
        "--travellers",
        file.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("NOT AS EXPECTED"), "{all}");
    assert!(all.contains("demo FAILED"), "{all}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_travellers_file_is_refused_naming_the_key() {
    let dir = common::work_dir("bad");
    let file = dir.join("travellers.toml");
    std::fs::write(&file, "[[traveller]]\nlabel = \"x\"\nchip = \"forged\"\n").unwrap();
    let out = demo(&["--travellers", file.to_str().unwrap()]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("traveller 1 (x)"), "{all}");
    let _ = std::fs::remove_dir_all(&dir);
}
