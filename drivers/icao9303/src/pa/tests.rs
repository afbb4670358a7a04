//! Passive Authentication against a fresh test PKI (`test-pki`): genuine documents pass, each hostile case fails the right check.

use std::sync::OnceLock;

use der::asn1::ObjectIdentifier;
use proptest::prelude::*;
use test_pki::{Hash, KeyKind, PkiOptions, SodOptions, TestPki, check_time, days};

use super::*;

/// DG1 (a TD3 MRZ) and DG2 and DG14 stand-ins, as whole files.
fn data_groups() -> Vec<(u8, Vec<u8>)> {
    let mrz =
        b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let mut dg1 = vec![0x61, 0x5B, 0x5F, 0x1F, 0x58];
    dg1.extend_from_slice(mrz);
    vec![
        (1, dg1),
        (2, vec![0x75, 0x03, 0x7F, 0x61, 0x00]),
        (14, vec![0x6E, 0x02, 0x31, 0x00]),
    ]
}

/// The data groups as `verify` takes them.
fn read(dgs: &[(u8, Vec<u8>)]) -> Vec<(DataGroup, &[u8])> {
    dgs.iter()
        .map(|(n, b)| (DataGroup::from_number(*n).expect("DG number"), b.as_slice()))
        .collect()
}

/// A store trusting `pki`'s CSCA, with a CRL that does not revoke its DS.
fn store_for(pki: &TestPki) -> TrustStore {
    let mut store = TrustStore::new();
    store.add_csca_der(&pki.csca_der()).expect("CSCA");
    store
        .add_crl_der(&pki.crl(false, Some(days(test_pki::Y2034))))
        .expect("CRL");
    store
}

/// Runs PA on `pki`'s SOD built with `options`, against `store`.
fn run(pki: &TestPki, options: &SodOptions, store: &TrustStore) -> PaReport {
    let dgs = data_groups();
    let sod = pki.sod(&dgs, options);
    verify(&sod, &read(&dgs), store, "UTO", check_time())
}

/// One ECDSA P-256 PKI per test process.
fn ecdsa_pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| TestPki::new(PkiOptions::default()))
}

/// One RSA PKCS#1 v1.5 PKI per test process.
fn rsa_pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| TestPki::new(PkiOptions::with_key(KeyKind::Rsa)))
}

/// Asserts every check passed and the report says genuine.
fn assert_all_passed(report: &PaReport) {
    for c in &report.checks {
        assert_eq!(c.outcome, Outcome::Passed, "{}: {}", c.name, c.outcome);
    }
    assert!(report.genuine());
    let names: Vec<CheckName> = report.checks.iter().map(|c| c.name).collect();
    for name in [
        CheckName::SodFormat,
        CheckName::SodSignedAttributes,
        CheckName::SodSignature,
        CheckName::DgHash(DataGroup::Dg1),
        CheckName::DgHash(DataGroup::Dg2),
        CheckName::DgHash(DataGroup::Dg14),
        CheckName::DsChain,
        CheckName::DsValidity,
        CheckName::CscaValidity,
        CheckName::KeyUsage,
        CheckName::CountryMatch,
        CheckName::CrlStatus,
    ] {
        assert!(names.contains(&name), "{name} missing");
    }
}

/// Asserts `name` failed and the document is not genuine.
fn assert_failed(report: &PaReport, name: CheckName) {
    assert!(
        matches!(report.outcome(name), Some(Outcome::Failed(_))),
        "{name}: {:?}",
        report.outcome(name)
    );
    assert!(!report.genuine());
}

#[test]
fn genuine_ecdsa_p256_document_passes() {
    let pki = ecdsa_pki();
    let report = run(pki, &SodOptions::default(), &store_for(pki));
    assert_all_passed(&report);
    assert_eq!(report.hash_algorithm, Some(HashAlgorithm::Sha256));
    assert_eq!(
        report.csca.as_ref().map(|c| c.country.as_deref()),
        Some(Some("UT"))
    );
}

#[test]
fn genuine_rsa_pkcs1_document_passes() {
    let pki = rsa_pki();
    assert_all_passed(&run(pki, &SodOptions::default(), &store_for(pki)));
}

#[test]
fn genuine_rsa_pss_document_passes() {
    let pki = TestPki::new(PkiOptions::with_key(KeyKind::RsaPss));
    assert_all_passed(&run(&pki, &SodOptions::default(), &store_for(&pki)));
}

#[test]
fn genuine_brainpool_document_passes() {
    let pki = TestPki::new(PkiOptions::with_key(KeyKind::BrainpoolP256));
    assert_all_passed(&run(&pki, &SodOptions::default(), &store_for(&pki)));
}

#[test]
fn every_allowed_hash_passes() {
    let pki = ecdsa_pki();
    let store = store_for(pki);
    for hash in [
        Hash::Sha1,
        Hash::Sha224,
        Hash::Sha256,
        Hash::Sha384,
        Hash::Sha512,
    ] {
        let options = SodOptions {
            hash,
            ..SodOptions::default()
        };
        let report = run(pki, &options, &store);
        assert!(
            report.genuine(),
            "{hash:?}: {:?}",
            report.failures().collect::<Vec<_>>()
        );
    }
    let options = SodOptions {
        hash: Hash::Sha512,
        ..SodOptions::default()
    };
    assert!(run(rsa_pki(), &options, &store_for(rsa_pki())).genuine());
}

#[test]
fn tampered_dg_fails_its_own_hash_only() {
    let pki = ecdsa_pki();
    let options = SodOptions {
        tamper: vec![2],
        ..SodOptions::default()
    };
    let report = run(pki, &options, &store_for(pki));
    assert_failed(&report, CheckName::DgHash(DataGroup::Dg2));
    assert_eq!(
        report.outcome(CheckName::DgHash(DataGroup::Dg1)),
        Some(&Outcome::Passed)
    );
    assert_eq!(
        report.outcome(CheckName::DgHash(DataGroup::Dg14)),
        Some(&Outcome::Passed)
    );
    assert_eq!(
        report.outcome(CheckName::SodSignature),
        Some(&Outcome::Passed)
    );
}

#[test]
fn changed_dg_bytes_fail_and_each_dg_is_reported() {
    let pki = ecdsa_pki();
    let dgs = data_groups();
    let sod = pki.sod(&dgs, &SodOptions::default());
    let mut changed = dgs.clone();
    changed[0].1[10] ^= 1;
    changed[2].1[3] ^= 1;
    let report = verify(&sod, &read(&changed), &store_for(pki), "UTO", check_time());
    assert_failed(&report, CheckName::DgHash(DataGroup::Dg1));
    assert_failed(&report, CheckName::DgHash(DataGroup::Dg14));
    assert_eq!(
        report.outcome(CheckName::DgHash(DataGroup::Dg2)),
        Some(&Outcome::Passed)
    );
}

#[test]
fn dg_not_in_sod_fails_and_unread_dg_is_listed() {
    let pki = ecdsa_pki();
    let dgs = data_groups();
    let sod = SecurityObject::parse(&pki.sod(&dgs[..2], &SodOptions::default())).expect("SOD");
    let checks = verify_data_groups(&sod, &read(&dgs));
    assert!(matches!(checks[2].outcome, Outcome::Failed(_)));
    let report = verify_parsed(&sod, &read(&dgs[..1]), &store_for(pki), "UTO", check_time());
    assert_eq!(report.not_read, vec![DataGroup::Dg2]);
    assert!(report.genuine());
}

#[test]
fn no_data_group_is_not_genuine() {
    let pki = ecdsa_pki();
    let sod = pki.sod(&data_groups(), &SodOptions::default());
    let report = verify(&sod, &[], &store_for(pki), "UTO", check_time());
    assert!(report.failures().next().is_none());
    assert!(!report.genuine());
}

#[test]
fn unknown_csca_fails_ds_chain() {
    let pki = ecdsa_pki();
    let stranger = TestPki::new(PkiOptions::default());
    let report = run(&stranger, &SodOptions::default(), &store_for(pki));
    assert_failed(&report, CheckName::DsChain);
    assert_eq!(
        report.outcome(CheckName::SodSignature),
        Some(&Outcome::Passed)
    );
    let rsa_stranger = TestPki::new(PkiOptions {
        key: KeyKind::Rsa,
        key_set: 1,
        ..PkiOptions::default()
    });
    assert_failed(
        &run(&rsa_stranger, &SodOptions::default(), &store_for(rsa_pki())),
        CheckName::DsChain,
    );
}

#[test]
fn empty_store_fails_ds_chain() {
    let report = run(ecdsa_pki(), &SodOptions::default(), &TrustStore::new());
    assert_failed(&report, CheckName::DsChain);
    assert!(matches!(
        report.outcome(CheckName::CrlStatus),
        Some(Outcome::NotPossible(_))
    ));
}

#[test]
fn expired_ds_fails_ds_validity() {
    let pki = TestPki::new(PkiOptions {
        ds_validity: (days(test_pki::Y2020), days(test_pki::Y2024)),
        ..PkiOptions::default()
    });
    let report = run(&pki, &SodOptions::default(), &store_for(&pki));
    assert_failed(&report, CheckName::DsValidity);
    assert_eq!(report.outcome(CheckName::DsChain), Some(&Outcome::Passed));
}

#[test]
fn expired_csca_fails_csca_validity() {
    let pki = ecdsa_pki();
    let dgs = data_groups();
    let sod = pki.sod(&dgs, &SodOptions::default());
    let report = verify(
        &sod,
        &read(&dgs),
        &store_for(pki),
        "UTO",
        days(test_pki::Y2040 + 1),
    );
    assert_failed(&report, CheckName::CscaValidity);
    assert_failed(&report, CheckName::DsValidity);
}

#[test]
fn revoked_ds_fails_crl_status() {
    let pki = ecdsa_pki();
    let mut store = TrustStore::new();
    store.add_csca_pem(&pki.csca_pem()).expect("PEM");
    let info = store
        .add_crl_der(&pki.crl(true, Some(days(test_pki::Y2034))))
        .expect("CRL");
    assert_eq!(info.revoked, 1);
    assert_eq!(info.verified_by.len(), 1);
    assert_failed(
        &run(pki, &SodOptions::default(), &store),
        CheckName::CrlStatus,
    );
}

#[test]
fn crl_states_missing_and_stale() {
    let pki = ecdsa_pki();
    let mut store = TrustStore::new();
    store.add_csca_der(&pki.csca_der()).expect("CSCA");
    let report = run(pki, &SodOptions::default(), &store);
    assert!(matches!(
        report.outcome(CheckName::CrlStatus),
        Some(Outcome::NotPossible(_))
    ));
    assert!(report.genuine(), "no CRL is for policy to decide");
    store
        .add_crl_der(&pki.crl(false, Some(days(test_pki::CHECK_DAY - 1))))
        .expect("CRL");
    let report = run(pki, &SodOptions::default(), &store);
    match report.outcome(CheckName::CrlStatus) {
        Some(Outcome::NotPossible(why)) => assert!(why.contains("nextUpdate"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn crl_added_before_its_csca_is_verified_when_the_csca_arrives() {
    let pki = ecdsa_pki();
    let mut store = TrustStore::new();
    let info = store
        .add_crl_der(&pki.crl(true, Some(days(test_pki::Y2034))))
        .expect("CRL");
    assert!(info.verified_by.is_empty());
    store.add_csca_der(&pki.csca_der()).expect("CSCA");
    assert_eq!(store.crls().next().map(|c| c.verified_by.len()), Some(1));
    assert_failed(
        &run(pki, &SodOptions::default(), &store),
        CheckName::CrlStatus,
    );
}

#[test]
fn crl_from_another_csca_is_not_used() {
    let pki = ecdsa_pki();
    let other = TestPki::new(PkiOptions::default());
    let mut store = TrustStore::new();
    store.add_csca_der(&pki.csca_der()).expect("CSCA");
    // Same issuer name, other key: its signature does not verify with the trusted CSCA.
    let info = store.add_crl_der(&other.crl(true, None)).expect("CRL");
    assert!(info.verified_by.is_empty());
    let report = run(pki, &SodOptions::default(), &store);
    assert!(matches!(
        report.outcome(CheckName::CrlStatus),
        Some(Outcome::NotPossible(_))
    ));
}

#[test]
fn ds_from_another_country_fails_country_match() {
    let pki = TestPki::new(PkiOptions {
        country: "SG".into(),
        ..PkiOptions::default()
    });
    let report = run(&pki, &SodOptions::default(), &store_for(&pki));
    assert_failed(&report, CheckName::CountryMatch);
    let dgs = data_groups();
    let sod = pki.sod(&dgs, &SodOptions::default());
    let report = verify(&sod, &read(&dgs), &store_for(&pki), "SGP", check_time());
    assert!(report.genuine());
    let report = verify(&sod, &read(&dgs), &store_for(&pki), "XXA", check_time());
    assert!(matches!(
        report.outcome(CheckName::CountryMatch),
        Some(Outcome::NotPossible(_))
    ));
}

#[test]
fn ds_without_digital_signature_fails_key_usage() {
    let pki = TestPki::new(PkiOptions {
        ds_digital_signature: false,
        ..PkiOptions::default()
    });
    assert_failed(
        &run(&pki, &SodOptions::default(), &store_for(&pki)),
        CheckName::KeyUsage,
    );
}

#[test]
fn unsupported_hash_is_not_genuine() {
    let pki = ecdsa_pki();
    let options = SodOptions {
        hash_oid_override: Some(ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.8")), // SHA3-256
        ..SodOptions::default()
    };
    let report = run(pki, &options, &store_for(pki));
    assert!(matches!(
        report.outcome(CheckName::DgHash(DataGroup::Dg1)),
        Some(Outcome::NotPossible(_))
    ));
    assert_eq!(report.hash_algorithm, None);
    assert!(!report.genuine());
}

#[test]
fn unsupported_signature_algorithm_is_not_genuine() {
    let pki = ecdsa_pki();
    let options = SodOptions {
        signature_oid_override: Some(ObjectIdentifier::new_unwrap("1.3.101.112")), // Ed25519
        ..SodOptions::default()
    };
    let report = run(pki, &options, &store_for(pki));
    assert!(matches!(
        report.outcome(CheckName::SodSignature),
        Some(Outcome::NotPossible(_))
    ));
    assert!(!report.genuine());
}

#[test]
fn signature_algorithm_of_wrong_key_type_fails() {
    let pki = ecdsa_pki();
    let options = SodOptions {
        signature_oid_override: Some(ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11")),
        ..SodOptions::default()
    };
    assert_failed(
        &run(pki, &options, &store_for(pki)),
        CheckName::SodSignature,
    );
}

#[test]
fn wrong_message_digest_fails_signed_attributes() {
    let pki = ecdsa_pki();
    let options = SodOptions {
        wrong_message_digest: true,
        ..SodOptions::default()
    };
    let report = run(pki, &options, &store_for(pki));
    assert_failed(&report, CheckName::SodSignedAttributes);
    assert_eq!(
        report.outcome(CheckName::SodSignature),
        Some(&Outcome::Passed)
    );
}

#[test]
fn sod_without_ds_certificate_is_not_genuine() {
    let pki = ecdsa_pki();
    let options = SodOptions {
        omit_ds_certificate: true,
        ..SodOptions::default()
    };
    let report = run(pki, &options, &store_for(pki));
    assert!(matches!(
        report.outcome(CheckName::SodSignature),
        Some(Outcome::NotPossible(_))
    ));
    assert!(matches!(
        report.outcome(CheckName::DsChain),
        Some(Outcome::NotPossible(_))
    ));
    assert!(!report.genuine());
}

#[test]
fn flipped_signature_byte_fails_sod_signature() {
    let pki = ecdsa_pki();
    let dgs = data_groups();
    let mut sod = pki.sod(&dgs, &SodOptions::default());
    // The signature is the last OCTET STRING of the SignerInfo, at the end of the file.
    let last = sod.len() - 5;
    sod[last] ^= 0x01;
    let report = verify(&sod, &read(&dgs), &store_for(pki), "UTO", check_time());
    assert!(!report.genuine());
    assert!(report.failures().next().is_some(), "{report:?}");
}

#[test]
fn truncated_and_garbage_sod_fail_sod_format() {
    let pki = ecdsa_pki();
    let dgs = data_groups();
    let sod = pki.sod(&dgs, &SodOptions::default());
    let store = store_for(pki);
    for len in [0, 1, 2, 10, sod.len() / 2, sod.len() - 1] {
        let report = verify(&sod[..len], &read(&dgs), &store, "UTO", check_time());
        assert_failed(&report, CheckName::SodFormat);
    }
    for garbage in [&[0x77, 0x00][..], &[0x30, 0x80, 0x00, 0x00], &[0xFF; 40]] {
        assert_failed(
            &verify(garbage, &read(&dgs), &store, "UTO", check_time()),
            CheckName::SodFormat,
        );
    }
    let mut trailing = sod.clone();
    trailing.push(0);
    assert_failed(
        &verify(&trailing, &read(&dgs), &store, "UTO", check_time()),
        CheckName::SodFormat,
    );
}

#[test]
fn master_list_import_round_trip() {
    let pki = ecdsa_pki();
    let other = TestPki::new(PkiOptions {
        country: "SG".into(),
        ..PkiOptions::default()
    });
    let ml = pki.master_list(&[&other]);

    let mut fresh = TrustStore::new();
    let import = fresh.import_master_list(&ml).expect("master list");
    assert!(import.signature_verified, "{:?}", import.signature_problem);
    assert!(!import.signer_trusted);
    assert_eq!(import.added.len(), 2);
    assert_eq!(
        import.signer.as_ref().map(|s| s.country.as_deref()),
        Some(Some("UT"))
    );
    assert!(run(pki, &SodOptions::default(), &fresh).genuine());

    let mut trusting = TrustStore::new();
    trusting.add_csca_der(&pki.csca_der()).expect("CSCA");
    let import = trusting.import_master_list(&ml).expect("master list");
    assert!(import.signer_trusted);
    assert_eq!((import.added.len(), import.already_present), (1, 1));

    let mut tampered = ml.clone();
    let at = tampered.len() - 3;
    tampered[at] ^= 1;
    if let Ok(import) = TrustStore::new().import_master_list(&tampered) {
        assert!(!import.signature_verified);
    }
    assert!(
        TrustStore::new()
            .import_master_list(&ml[..ml.len() / 2])
            .is_err()
    );
    assert!(
        TrustStore::new()
            .import_master_list(&pki.sod(&data_groups(), &SodOptions::default()))
            .is_err()
    );
}

#[test]
fn rsa_master_list_verifies() {
    let pki = rsa_pki();
    let import = TrustStore::new()
        .import_master_list(&pki.master_list(&[]))
        .expect("master list");
    assert!(import.signature_verified, "{:?}", import.signature_problem);
}

#[test]
fn csca_import_list_and_remove() {
    let pki = ecdsa_pki();
    let mut store = TrustStore::new();
    let from_der = store.add_csca_der(&pki.csca_der()).expect("DER");
    let from_pem = store.add_csca_pem(&pki.csca_pem()).expect("PEM");
    assert_eq!(from_pem, vec![from_der.clone()]);
    assert_eq!(
        store.cscas().count(),
        1,
        "the same certificate twice is kept once"
    );
    assert_eq!(from_der.country.as_deref(), Some("UT"));
    assert_eq!(from_der.subject, "CN=CSCA UT,O=Test PKI,C=UT");
    assert_eq!(from_der.fingerprint_hex().len(), 64);
    assert!(from_der.not_before < check_time() && check_time() < from_der.not_after);

    let other = TestPki::new(PkiOptions::with_key(KeyKind::BrainpoolP256));
    store.add_csca_der(&other.csca_der()).expect("DER");
    assert_eq!(store.cscas().count(), 2);
    assert!(store.remove_csca(&from_der.sha256));
    assert!(!store.remove_csca(&from_der.sha256));
    assert_eq!(
        store.remove_csca_by_subject("CN=CSCA UT,O=Test PKI,C=UT"),
        1
    );
    assert_eq!(store.cscas().count(), 0);

    assert!(store.add_csca_der(&pki.ds_der()[..20]).is_err());
    assert!(
        store
            .add_csca_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .is_err()
    );
    assert!(store.add_crl_der(b"not a CRL").is_err());
}

#[test]
fn country_table() {
    assert_eq!(icao_to_iso3166("UTO"), Some("UT"));
    assert_eq!(icao_to_iso3166("D<<"), Some("DE"));
    assert_eq!(icao_to_iso3166("tls"), Some("TL"));
    for code in [
        "BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM",
    ] {
        assert!(icao_to_iso3166(code).is_some(), "{code}");
    }
    assert_eq!(icao_to_iso3166("ZZZ"), None);
}

#[test]
fn check_names_are_stable() {
    assert_eq!(CheckName::DgHash(DataGroup::Dg2).id(), "dg_hash_2");
    assert_eq!(CheckName::SodSignature.to_string(), "sod_signature");
}

/// A valid EF.SOD, its data groups and a store.
type Fixture = (Vec<u8>, Vec<(u8, Vec<u8>)>, TrustStore);

/// The [`Fixture`], built once.
fn fuzz_fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let pki = ecdsa_pki();
        let dgs = data_groups();
        (pki.sod(&dgs, &SodOptions::default()), dgs, store_for(pki))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random byte changes to a valid SOD never panic and never leave it genuine.
    #[test]
    fn mutated_sod_never_panics_nor_passes(
        changes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let (sod, dgs, store) = fuzz_fixture();
        let mut mutated = sod.clone();
        for (at, byte) in &changes {
            let i = at.index(mutated.len());
            mutated[i] = *byte;
        }
        if let Some(cut) = cut {
            mutated.truncate(cut.index(mutated.len()));
        }
        let report = verify(&mutated, &read(dgs), store, "UTO", check_time());
        if mutated != *sod {
            prop_assert!(!report.genuine(), "a changed SOD passed: {:?}", report);
        } else {
            prop_assert!(report.genuine());
        }
    }

    /// Arbitrary bytes never panic any parser.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let (_, dgs, store) = fuzz_fixture();
        let report = verify(&bytes, &read(dgs), store, "UTO", check_time());
        prop_assert!(!report.genuine());
        let mut scratch = TrustStore::new();
        let _ = scratch.import_master_list(&bytes);
        let _ = scratch.add_csca_der(&bytes);
        let _ = scratch.add_crl_der(&bytes);
    }
}

#[test]
fn signed_attributes_are_verified_as_encoded() {
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;
    use der::{Decode, Encode};
    let sod = ecdsa_pki().sod(&data_groups(), &SodOptions::default());
    let ci = crate::lds::Sod::parse(&sod).expect("77").content_info;
    let raw = super::signed::raw_signed_attributes(&ci).expect("located");
    let sd = ContentInfo::from_der(&ci)
        .expect("ContentInfo")
        .content
        .decode_as::<SignedData>()
        .expect("SignedData");
    let attrs = sd.signer_infos.0.as_slice()[0]
        .signed_attrs
        .as_ref()
        .expect("signed attributes")
        .to_der()
        .expect("DER");
    assert_eq!(raw, attrs);
}

/// A PKI whose CSCA, DS and master list signer keys carry explicit EC domain parameters.
fn explicit_pki(key: KeyKind) -> TestPki {
    TestPki::new(PkiOptions {
        explicit_ec_params: true,
        ..PkiOptions::with_key(key)
    })
}

#[test]
fn explicit_ec_parameters_in_ds_and_csca_verify() {
    for key in [KeyKind::P256, KeyKind::BrainpoolP256] {
        let pki = explicit_pki(key);
        let spki = pki.ds.tbs_certificate().subject_public_key_info();
        assert_eq!(
            spki.algorithm.parameters.as_ref().map(der::Tagged::tag),
            Some(der::Tag::Sequence),
            "the test PKI writes explicit parameters"
        );
        let store = store_for(&pki);
        assert_eq!(
            store.crls().next().map(|c| c.verified_by.len()),
            Some(1),
            "{key:?}: the CRL verifies with the explicit CSCA key"
        );
        assert_all_passed(&run(&pki, &SodOptions::default(), &store));

        // Tampered: a data group, and the SOD signature.
        let tampered = run(
            &pki,
            &SodOptions {
                tamper: vec![2],
                ..SodOptions::default()
            },
            &store,
        );
        assert_failed(&tampered, CheckName::DgHash(DataGroup::Dg2));
        let dgs = data_groups();
        let mut sod = pki.sod(&dgs, &SodOptions::default());
        let last = sod.len() - 1;
        sod[last] ^= 0x01;
        let report = verify(&sod, &read(&dgs), &store, "UTO", check_time());
        assert!(!report.genuine());
        assert!(report.failures().next().is_some(), "{report:?}");
    }
}

#[test]
fn explicit_parameters_of_an_unknown_curve_are_not_genuine() {
    let pki = explicit_pki(KeyKind::P256);
    // The CSCA's explicit b changed: a curve this crate does not know, so
    // the DS chain cannot be checked (and the SOD itself still verifies).
    let mut csca = pki.csca_der();
    let b = hex::decode("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b")
        .expect("hex");
    let at = csca
        .windows(b.len())
        .position(|w| w == b.as_slice())
        .expect("b in the CSCA's parameters");
    csca[at + 31] ^= 0x01;
    let mut store = TrustStore::new();
    store.add_csca_der(&csca).expect("CSCA");
    let report = run(&pki, &SodOptions::default(), &store);
    assert!(!report.genuine());
    assert!(
        matches!(report.outcome(CheckName::DsChain), Some(Outcome::NotPossible(why)) if why.contains("unknown curve")),
        "{:?}",
        report.outcome(CheckName::DsChain)
    );
}

#[test]
fn master_list_with_explicit_parameters_verifies_and_chains() {
    let pki = explicit_pki(KeyKind::BrainpoolP256);
    let ml = pki.master_list(&[]);
    let mut store = TrustStore::new();
    store.add_csca_der(&pki.csca_der()).expect("CSCA");
    let import = store.import_master_list(&ml).expect("master list");
    assert!(import.signature_verified, "{:?}", import.signature_problem);
    assert!(import.signer_trusted);
}

/// brainpoolP512r1 (no crate; crate::weierstrass): a key and an ecdsa-with-SHA512 signature made with OpenSSL 3.0.
mod brainpool_p512r1 {
    use der::Decode;
    use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

    use super::algorithm::{Verification, verify};

    const NAMED: &str = "30819b301406072a8648ce3d020106092b240303020801010d0381820004aa53df8f7cf7fed596a3ed1810e696e94e68ee1ac302f5a15a5ed0d8b42652f5a03958f24e78fa8acb671e33849bc15d75fa404d38d72980d591dfc75c5934f025d1165e6dddc4dca4e31119f57eadb9380f9671b8ee074b7e24b5a2fcebe36455fbd11fbcad8731930f5a0aac144015859371fbad0fab60227e77a49f464ae5";
    const EXPLICIT: &str = "30820238308201af06072a8648ce3d0201308201a2020101304c06072a8648ce3d0101024100aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca703308717d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f330818404407830a3318b603b89e2327145ac234cc594cbdd8d3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94ca04403df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94cadc083e67984050b75ebae5dd2809bd638016f7230481810481aee4bdd82ed9645a21322e9c4c6a9385ed9f70b5d916c1b43b62eef4d0098eff3b1f78e2d0d48d50d1687b93b97d5f7c6d5047406a5e688b352209bcb9f8227dde385d566332ecc0eabfa9cf7822fdf209f70024a57b1aa000c55b881f8111b2dcde494a5f485e5bca4bd88a2763aed1ca2b2fa8f0540678cd1e0f3ad80892024100aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca900690201010381820004aa53df8f7cf7fed596a3ed1810e696e94e68ee1ac302f5a15a5ed0d8b42652f5a03958f24e78fa8acb671e33849bc15d75fa404d38d72980d591dfc75c5934f025d1165e6dddc4dca4e31119f57eadb9380f9671b8ee074b7e24b5a2fcebe36455fbd11fbcad8731930f5a0aac144015859371fbad0fab60227e77a49f464ae5";
    const SIG: &str = "3081840240351c2f8ec234ce544377c22d7cfe7db0fc6c532551a86cc19edecd710320a612e522ca233278240fcac286062526b0d85b58b86083c11a585b1c46853c6b30b902407e3fd2ef25f62760ed276319e3b4a81fdfa2bee5eb441df3f77520484affef2af0e646a3e764ec3bfc273c13acd8ccd142e4f33864a7b13992df0fa6246d3d79";
    const MESSAGE: &[u8] = b"EF.SOD signed attributes";

    fn ecdsa_sha512() -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4"),
            parameters: None,
        }
    }

    #[test]
    fn openssl_signature_verifies_with_named_and_explicit_parameters() {
        for key in [NAMED, EXPLICIT] {
            let spki = SubjectPublicKeyInfoOwned::from_der(&hex::decode(key).unwrap()).unwrap();
            let sig = hex::decode(SIG).unwrap();
            assert_eq!(
                verify(&spki, &ecdsa_sha512(), None, MESSAGE, &sig),
                Verification::Valid
            );
            assert!(matches!(
                verify(
                    &spki,
                    &ecdsa_sha512(),
                    None,
                    b"EF.SOD signed attributeS",
                    &sig
                ),
                Verification::Invalid(_)
            ));
            let mut flipped = sig.clone();
            flipped[20] ^= 0x01;
            assert!(matches!(
                verify(&spki, &ecdsa_sha512(), None, MESSAGE, &flipped),
                Verification::Invalid(_)
            ));
            assert!(matches!(
                verify(&spki, &ecdsa_sha512(), None, MESSAGE, &sig[..40]),
                Verification::Invalid(_)
            ));
        }
    }
}
