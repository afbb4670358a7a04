use super::*;
use crate::lds::DataGroup;
use crate::mrz::{Mode, parse};
use crate::pa::{Check, CheckName};

const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

fn genuine_pa() -> PaReport {
    let passed = |name| Check {
        name,
        outcome: Outcome::Passed,
    };
    PaReport {
        checks: vec![
            passed(CheckName::SodFormat),
            passed(CheckName::SodSignedAttributes),
            passed(CheckName::SodSignature),
            passed(CheckName::DgHash(DataGroup::Dg1)),
            passed(CheckName::DsChain),
            passed(CheckName::DsValidity),
            passed(CheckName::CscaValidity),
            Check {
                name: CheckName::CrlStatus,
                outcome: Outcome::NotPossible("no CRL".into()),
            },
        ],
        hash_algorithm: None,
        not_read: Vec::new(),
        ds: None,
        csca: None,
    }
}

fn mrz() -> Mrz {
    parse(TD3, Mode::Strict).unwrap()
}

fn failed(v: &Verdict) -> Vec<&str> {
    v.failures().map(|c| c.name.as_str()).collect()
}

#[test]
fn all_passed_is_genuine_and_names_every_check() {
    let aa = CloneCheck::ActiveAuthentication(Ok(()));
    let v = Verdict::new("BAC", &genuine_pa(), &aa, &mrz(), Some(&mrz()));
    assert!(v.genuine(), "{v:?}");
    let names: Vec<&str> = v.checks.iter().map(|c| c.name.as_str()).collect();
    for expected in [
        "access_control",
        "sod_signature",
        "dg_hash_1",
        "ds_chain",
        "crl_status",
        "clone_detection",
        "mrz_matches_dg1",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[test]
fn no_clone_detection_offered_is_recorded_not_failed() {
    let v = Verdict::new(
        "BAC",
        &genuine_pa(),
        &CloneCheck::NotOffered,
        &mrz(),
        Some(&mrz()),
    );
    assert!(v.genuine());
    let clone = v
        .checks
        .iter()
        .find(|c| c.name == "clone_detection")
        .unwrap();
    assert!(matches!(clone.outcome, Outcome::NotPossible(_)));
}

#[test]
fn failed_active_authentication_is_not_genuine() {
    let aa = CloneCheck::ActiveAuthentication(Err(AaFailure::BadSignature));
    let v = Verdict::new("BAC", &genuine_pa(), &aa, &mrz(), Some(&mrz()));
    assert!(!v.genuine());
    assert_eq!(failed(&v), ["clone_detection"]);
}

#[test]
fn failed_passive_authentication_names_the_check() {
    let mut pa = genuine_pa();
    pa.checks[3].outcome = Outcome::Failed("hash differs".into());
    let v = Verdict::new("BAC", &pa, &CloneCheck::NotOffered, &mrz(), Some(&mrz()));
    assert!(!v.genuine());
    assert_eq!(failed(&v), ["dg_hash_1", "passive_authentication"]);
}

#[test]
fn mrz_differing_from_dg1_is_not_genuine() {
    let other = parse(&TD3.replace("ANNA<MARIA<", "ANNE<MARIA<"), Mode::Strict).unwrap();
    let v = Verdict::new(
        "BAC",
        &genuine_pa(),
        &CloneCheck::NotOffered,
        &mrz(),
        Some(&other),
    );
    assert_eq!(failed(&v), ["mrz_matches_dg1"]);
    let v = Verdict::new("BAC", &genuine_pa(), &CloneCheck::NotOffered, &mrz(), None);
    assert_eq!(failed(&v), ["mrz_matches_dg1"]);
}

#[test]
fn chip_authentication_is_mandatory_when_it_ran() {
    let pa = genuine_pa();
    let mrz = mrz();
    let ok = Verdict::new(
        "BAC",
        &pa,
        &CloneCheck::ChipAuthentication(Ok(())),
        &mrz,
        Some(&mrz),
    );
    assert!(ok.genuine());
    let failed = Verdict::new(
        "BAC",
        &pa,
        &CloneCheck::ChipAuthentication(Err("clone".into())),
        &mrz,
        Some(&mrz),
    );
    assert!(!failed.genuine());
    assert!(
        failed
            .failures()
            .any(|c| c.name == "clone_detection" && c.mandatory)
    );
}
