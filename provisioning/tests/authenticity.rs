//! The authenticity verdict end to end: `kioskctl trust import` fills a trust
//! store on disk, `kioskctl chip read --trust` reads a virtual chip through
//! pcscd ("Virtual PCD 00 01") and prints the verdict. Every hostile case
//! must come out not genuine and name the check that caught it.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use std::time::SystemTime;

mod common;

use common::{OnReader, READER, kioskctl};
use serde_json::Value;
use test_pki::{PkiOptions, SodOptions, TestPki};
use virtual_emrtd::{AaKey, CaConfig, ChipProfile, Misbehaviour, PaceConfig, VirtualChip};

const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
/// The data groups a virtual chip can hold, by number and file identifier.
const DG_FIDS: [(u8, u16); 4] = [(1, 0x0101), (2, 0x0102), (14, 0x010E), (15, 0x010F)];

/// A virtual chip on the reader and a trust store, for one test.
struct Lane {
    store: PathBuf,
    _on: OnReader,
}

impl Drop for Lane {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// Builds the chip, signs its data groups with `signer` into EF.SOD, trusts `trusted`, inserts the chip.
fn lane(profile: ChipProfile, signer: &TestPki, sod: &SodOptions, trusted: &[&[u8]]) -> Lane {
    let mut chip = VirtualChip::new(profile).unwrap();
    let dgs: Vec<(u8, Vec<u8>)> = DG_FIDS
        .iter()
        .filter_map(|&(n, fid)| chip.file(fid).map(|b| (n, b.to_vec())))
        .collect();
    assert!(chip.replace_file(0x011D, signer.sod(&dgs, sod)));
    let store = std::env::temp_dir().join(format!(
        "kioskctl-trust-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    for (i, bytes) in trusted.iter().enumerate() {
        let file = store.with_extension(format!("in{i}"));
        std::fs::write(&file, bytes).unwrap();
        let out = kioskctl(
            &[
                "trust",
                "import",
                "--store",
                store.to_str().unwrap(),
                file.to_str().unwrap(),
            ],
            "",
        );
        assert!(
            out.status.success(),
            "import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::remove_file(file).unwrap();
    }
    Lane {
        store,
        _on: common::insert(chip),
    }
}

/// Runs `chip read --trust` and returns (exit code, the verdict).
fn read(lane: &Lane, mrz: &str) -> (Option<i32>, Value) {
    let out = kioskctl(
        &[
            "chip",
            "read",
            "--reader",
            READER,
            "--mrz",
            mrz,
            "--json",
            "--trust",
            path(&lane.store),
        ],
        "",
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), v["verdict"].clone())
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The names of the checks that failed.
fn failed(verdict: &Value) -> Vec<String> {
    verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_caught(lane: &Lane, mrz: &str, check: &str) {
    let (code, verdict) = read(lane, mrz);
    assert_eq!(verdict["genuine"], false, "{verdict:#}");
    assert_eq!(code, Some(1));
    let failed = failed(&verdict);
    assert!(
        failed.iter().any(|f| f == check),
        "{check} not among {failed:?}"
    );
}

fn pki() -> TestPki {
    TestPki::new(PkiOptions::default())
}

#[test]
fn genuine_document_passes_every_check() {
    let pki = pki();
    let lane = lane(
        ChipProfile::new(TD3),
        &pki,
        &SodOptions::default(),
        &[&pki.csca_der(), &pki.crl(false, None)],
    );
    let (code, verdict) = read(&lane, TD3);
    assert_eq!(verdict["genuine"], true, "{verdict:#}");
    assert_eq!(code, Some(0));
    assert!(failed(&verdict).is_empty());
    let passed: Vec<&str> = verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "passed")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for check in [
        "sod_signature",
        "dg_hash_1",
        "dg_hash_2",
        "ds_chain",
        "crl_status",
        "country_match",
        "mrz_matches_dg1",
    ] {
        assert!(passed.contains(&check), "{check} not passed: {verdict:#}");
    }
}

#[test]
fn genuine_pace_chip_with_chip_authentication_passes() {
    let pki = pki();
    let profile = ChipProfile::new(TD3)
        .with_pace(PaceConfig::new("0.4.0.127.0.7.2.2.4.2.2", 12))
        .with_chip_authentication(CaConfig::default());
    let lane = lane(profile, &pki, &SodOptions::default(), &[&pki.csca_der()]);
    let (code, verdict) = read(&lane, TD3);
    assert_eq!(verdict["genuine"], true, "{verdict:#}");
    assert_eq!(code, Some(0));
}

#[test]
fn tampered_data_group_fails_its_hash() {
    let pki = pki();
    let sod = SodOptions {
        tamper: vec![2],
        ..SodOptions::default()
    };
    let lane = lane(ChipProfile::new(TD3), &pki, &sod, &[&pki.csca_der()]);
    assert_caught(&lane, TD3, "dg_hash_2");
}

#[test]
fn sod_signed_under_an_unknown_csca_fails_the_chain() {
    let signer = pki();
    let other = TestPki::new(PkiOptions {
        key_set: 1,
        ..PkiOptions::default()
    });
    let lane = lane(
        ChipProfile::new(TD3),
        &signer,
        &SodOptions::default(),
        &[&other.csca_der()],
    );
    assert_caught(&lane, TD3, "ds_chain");
}

#[test]
fn expired_document_signer_fails_validity() {
    let pki = TestPki::new(PkiOptions {
        ds_validity: (test_pki::days(0), test_pki::days(365)),
        ..PkiOptions::default()
    });
    let lane = lane(
        ChipProfile::new(TD3),
        &pki,
        &SodOptions::default(),
        &[&pki.csca_der()],
    );
    assert_caught(&lane, TD3, "ds_validity");
}

#[test]
fn revoked_document_signer_fails_the_crl() {
    let pki = pki();
    let lane = lane(
        ChipProfile::new(TD3),
        &pki,
        &SodOptions::default(),
        &[&pki.csca_der(), &pki.crl(true, None)],
    );
    assert_caught(&lane, TD3, "crl_status");
}

#[test]
fn document_signer_of_another_country_fails_the_country_match() {
    let pki = TestPki::new(PkiOptions {
        country: "TH".into(),
        ..PkiOptions::default()
    });
    let lane = lane(
        ChipProfile::new(TD3),
        &pki,
        &SodOptions::default(),
        &[&pki.csca_der()],
    );
    assert_caught(&lane, TD3, "country_match");
}

#[test]
fn unsupported_hash_is_never_genuine() {
    let pki = pki();
    let sod = SodOptions {
        hash_oid_override: Some(der::asn1::ObjectIdentifier::new_unwrap("1.2.3.4.5")),
        ..SodOptions::default()
    };
    let lane = lane(ChipProfile::new(TD3), &pki, &sod, &[&pki.csca_der()]);
    let (code, verdict) = read(&lane, TD3);
    assert_eq!(verdict["genuine"], false, "{verdict:#}");
    assert_eq!(code, Some(1));
}

#[test]
fn cloned_chip_without_the_chip_authentication_key_is_caught() {
    let pki = pki();
    let profile = ChipProfile::new(TD3)
        .with_chip_authentication(CaConfig::default())
        .with(Misbehaviour::CloneWithoutCaKey);
    let lane = lane(profile, &pki, &SodOptions::default(), &[&pki.csca_der()]);
    assert_caught(&lane, TD3, "clone_detection");
}

#[test]
fn cloned_chip_without_the_active_authentication_key_is_caught() {
    let pki = pki();
    let profile = ChipProfile::new(TD3)
        .with_active_authentication(AaKey::Rsa1024)
        .with(Misbehaviour::CloneWithoutAaKey);
    let lane = lane(profile, &pki, &SodOptions::default(), &[&pki.csca_der()]);
    assert_caught(&lane, TD3, "clone_detection");
}

#[test]
fn scanned_mrz_differing_from_dg1_is_caught() {
    let pki = pki();
    let lane = lane(
        ChipProfile::new(TD3),
        &pki,
        &SodOptions::default(),
        &[&pki.csca_der()],
    );
    // Same access key (number, dates), another name: the scan does not match the chip.
    assert_caught(
        &lane,
        &TD3.replace("ANNA<MARIA<", "ANNE<MARIA<"),
        "mrz_matches_dg1",
    );
}

#[test]
fn pace_chip_lying_in_its_token_never_gets_a_verdict() {
    let pki = pki();
    let profile = ChipProfile::new(TD3)
        .with_pace(PaceConfig::new("0.4.0.127.0.7.2.2.4.2.2", 12))
        .with(Misbehaviour::LyingToken);
    let lane = lane(profile, &pki, &SodOptions::default(), &[&pki.csca_der()]);
    let out = kioskctl(
        &[
            "chip",
            "read",
            "--reader",
            READER,
            "--mrz",
            TD3,
            "--json",
            "--trust",
            path(&lane.store),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["error"].as_str().unwrap().contains("access control"),
        "{v}"
    );
    assert!(v.get("verdict").is_none());
}

#[test]
fn trust_list_shows_the_imported_csca_and_refuses_garbage() {
    let pki = pki();
    let lane = lane(
        ChipProfile::new(TD3),
        &pki,
        &SodOptions::default(),
        &[&pki.csca_der(), &pki.crl(false, None)],
    );
    let out = kioskctl(
        &["trust", "list", "--store", path(&lane.store), "--json"],
        "",
    );
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cscas"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(v["cscas"][0]["country"], "UT");
    assert_eq!(v["crls"].as_array().unwrap().len(), 1);
    let junk = lane.store.with_extension("junk");
    std::fs::write(&junk, b"not a certificate").unwrap();
    let out = kioskctl(
        &[
            "trust",
            "import",
            "--store",
            path(&lane.store),
            "--json",
            path(&junk),
        ],
        "",
    );
    std::fs::remove_file(&junk).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v[0]["error"]
            .as_str()
            .unwrap()
            .contains("not a certificate"),
        "{v:#}"
    );
}

#[test]
fn trust_remove_takes_the_csca_out_and_the_document_fails_the_chain() {
    let pki = pki();
    let lane = lane(
        ChipProfile::new(TD3),
        &pki,
        &SodOptions::default(),
        &[&pki.csca_der()],
    );
    let out = kioskctl(
        &["trust", "list", "--store", path(&lane.store), "--json"],
        "",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fingerprint = v["cscas"][0]["sha256"].as_str().unwrap()[..12].to_owned();
    let out = kioskctl(
        &[
            "trust",
            "remove",
            "--store",
            path(&lane.store),
            &fingerprint,
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = kioskctl(
        &[
            "trust",
            "remove",
            "--store",
            path(&lane.store),
            &fingerprint,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "nothing left to remove");
    assert_caught(&lane, TD3, "ds_chain");
}
