//! `kioskctl` as a technician runs it: the built binary, its exit codes and output.
//!
//! The `chip read` tests go through pcscd to a virtual chip on the second
//! vpcd reader ("Virtual PCD 00 01"), so they never meet the card-reader
//! tests on the first one.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::process::Output;

mod common;

use common::{OnReader, READER, kioskctl};
use serde_json::Value;
use virtual_emrtd::{ChipProfile, VirtualChip};

const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n";
const TD1_LONG: &str = "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<\n";
const TD2: &str = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6\n";

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The `{"error": ...}` of a run that must have exited 1.
fn json_error(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    json(out)["error"].as_str().unwrap().to_owned()
}

#[test]
fn mrz_parse_json_td3() {
    let out = kioskctl(&["mrz", "parse", "--json"], TD3);
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v["format"], "TD3");
    assert_eq!(v["document_type"], "P");
    assert_eq!(v["issuing_state"], "UTO");
    assert_eq!(v["surname"], "ERIKSSON");
    assert_eq!(v["given_names"], "ANNA MARIA");
    assert_eq!(v["document_number"], "L898902C3");
    assert_eq!(v["nationality"], "UTO");
    assert_eq!(v["birth_date"], "740812");
    assert_eq!(v["expiry_date"], "120415");
    assert_eq!(v["sex"], "F");
    assert_eq!(v["optional_data"], "ZE184226B");
    assert_eq!(v["optional_data_2"], Value::Null);
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn mrz_parse_json_td1_with_long_document_number() {
    let v = json(&kioskctl(&["mrz", "parse", "--json"], TD1_LONG));
    assert_eq!(v["format"], "TD1");
    assert_eq!(v["document_number"], "D23145890734");
    assert_eq!(v["optional_data"], "");
    assert_eq!(v["optional_data_2"], "");
    assert_eq!(v["sex"], "M");
}

#[test]
fn mrz_parse_json_td2() {
    let v = json(&kioskctl(&["mrz", "parse", "--json"], TD2));
    assert_eq!(v["format"], "TD2");
    assert_eq!(v["document_number"], "D23145890");
}

#[test]
fn mrz_parse_names_the_failed_check_and_exits_1() {
    let bad = TD3.replace("L898902C36", "L898902C46");
    let out = kioskctl(&["mrz", "parse", "--json"], &bad);
    let err = json_error(&out);
    assert!(err.contains("document number check digit"), "{err}");
}

#[test]
fn mrz_parse_repair_reports_what_it_fixed() {
    let scanned = TD3.replace("7408122F", "74O8122F");
    let strict = kioskctl(&["mrz", "parse", "--json"], &scanned);
    assert_eq!(strict.status.code(), Some(1));
    let out = kioskctl(&["mrz", "parse", "--json", "--repair"], &scanned);
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v["birth_date"], "740812");
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1, "{v}");
}

#[test]
fn mrz_parse_human_output_is_a_table() {
    let out = kioskctl(&["mrz", "parse"], TD3);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("document number") && l.ends_with("L898902C3")),
        "{text}"
    );
}

fn insert(profile: ChipProfile) -> OnReader {
    common::insert(VirtualChip::new(profile).unwrap())
}

#[test]
fn chip_read_json_reports_protocol_files_dg1_face_and_apdus() {
    let _on = insert(ChipProfile::new(TD3.trim()));
    let dir = std::env::temp_dir().join(format!("kioskctl-test-{}", std::process::id()));
    let out = kioskctl(
        &[
            "chip",
            "read",
            "--reader",
            READER,
            "--mrz",
            TD3.trim(),
            "--json",
            "--out",
            dir.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = json(&out);
    assert_eq!(v["protocol"], "BAC");
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["EF.COM", "DG1", "DG2", "EF.SOD"]);
    assert_eq!(v["dg1"]["document_number"], "L898902C3");
    assert_eq!(v["dg1"]["surname"], "ERIKSSON");
    assert_eq!(v["dg1_matches_mrz"], true);
    assert_eq!(v["face"]["format"], "JPEG");
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps[0]["step"], "access control");
    let step_apdus: u64 = steps.iter().map(|s| s["apdus"].as_u64().unwrap()).sum();
    assert_eq!(
        step_apdus,
        v["apdus"].as_u64().unwrap(),
        "steps add up to the total"
    );
    let face = std::fs::read(dir.join("face.jpg")).unwrap();
    assert_eq!(face.len() as u64, v["face"]["size"].as_u64().unwrap());
    for f in files {
        let size = std::fs::metadata(dir.join(format!("{f}.bin")))
            .unwrap()
            .len();
        let reported = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["file"] == f)
            .unwrap()["size"]
            .as_u64();
        assert_eq!(Some(size), reported, "{f}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn chip_read_with_the_wrong_mrz_is_an_access_control_error() {
    let _on = insert(ChipProfile::new(TD3.trim()));
    let other =
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<|X123456785UTO7408122F1204159ZE184226B<<<<<12";
    let out = kioskctl(
        &["chip", "read", "--reader", READER, "--mrz", other, "--json"],
        "",
    );
    let err = json_error(&out);
    assert!(err.contains("access control"), "{err}");
}

#[test]
fn chip_read_without_a_card_times_out_clearly() {
    let _lock = common::reader_lock();
    let out = kioskctl(
        &[
            "chip",
            "read",
            "--reader",
            READER,
            "--mrz",
            TD3.trim(),
            "--wait",
            "1",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("waiting for a card"), "{err}");
}

#[test]
fn chip_read_refuses_an_invalid_mrz_before_touching_the_reader() {
    let out = kioskctl(
        &[
            "chip",
            "read",
            "--reader",
            "No Such Reader",
            "--mrz",
            "P<UTO|garbage",
            "--json",
        ],
        "",
    );
    let err = json_error(&out);
    assert!(err.contains("MRZ"), "{err}");
}

#[test]
fn bad_command_line_exits_2() {
    let out = kioskctl(&["chip", "read"], "");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn chip_read_opens_a_pace_chip_with_pace() {
    let config = virtual_emrtd::PaceConfig::new("0.4.0.127.0.7.2.2.4.2.2", 13);
    let _on = insert(ChipProfile::new(TD3.trim()).with_pace(config));
    let out = kioskctl(
        &[
            "chip",
            "read",
            "--reader",
            READER,
            "--mrz",
            TD3.trim(),
            "--json",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = json(&out);
    assert_eq!(v["protocol"], "PACE");
    assert_eq!(v["pace_protocol"], "id-PACE-ECDH-GM-AES-CBC-CMAC-128");
    assert_eq!(v["dg1_matches_mrz"], true);
}
