//! Chip Authentication, PACE-CAM's check and Active Authentication against the virtual chip.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::{MRZ, chip, keys};
use icao9303::Error;
use icao9303::aa::AaFailure;
use icao9303::bac;
use icao9303::crypto::SmCipher;
use icao9303::document::{read_document, verify_chip};
use icao9303::lds::{DataGroup, Dg14, FileId};
use icao9303::pace::Password;
use icao9303::session::{ReadOptions, Session};
use icao9303::verdict::CloneCheck;
use virtual_emrtd::lds::{FID_DG1, FID_DG2, FID_DG14, FID_DG15, FID_SOD};
use virtual_emrtd::{AaKey, CaConfig, ChipProfile, DirectChannel, Misbehaviour, PaceConfig};

const CA_ECDH_3DES: &str = "0.4.0.127.0.7.2.2.3.2.1";
const CA_ECDH_AES128: &str = "0.4.0.127.0.7.2.2.3.2.2";
const CA_DH_3DES: &str = "0.4.0.127.0.7.2.2.3.1.1";

/// Opens `profile`'s chip with BAC and reads the whole document.
fn open_and_read(
    profile: ChipProfile,
) -> (
    Session<DirectChannel>,
    icao9303::document::DocumentRead,
    Vec<u8>,
) {
    let channel = DirectChannel::new(chip(profile));
    let dg2 = channel.chip().file(FID_DG2).unwrap().to_vec();
    let mut session = Session::open_bac(channel, keys(), &ReadOptions::default()).unwrap();
    let doc = read_document(&mut session).unwrap();
    (session, doc, dg2)
}

fn dg14_of(doc: &icao9303::document::DocumentRead) -> Dg14 {
    Dg14::parse(doc.bytes(FileId::Dg(DataGroup::Dg14)).unwrap()).unwrap()
}

#[test]
fn chip_authentication_3des_and_aes_then_reads_go_on() {
    for (oid, id, cipher) in [
        (CA_ECDH_3DES, 12, SmCipher::Tdes),
        (CA_ECDH_AES128, 12, SmCipher::Aes128),
        (CA_ECDH_AES128, 13, SmCipher::Aes128),
        (CA_ECDH_3DES, 13, SmCipher::Tdes),
        // brainpoolP512r1: icao9303's generic curve arithmetic.
        (CA_ECDH_AES128, 17, SmCipher::Aes128),
    ] {
        let profile = ChipProfile::new(MRZ).with_chip_authentication(CaConfig::new(oid, id));
        let (mut session, doc, dg2) = open_and_read(profile);
        assert!(doc.com.data_groups.contains(&DataGroup::Dg14));
        let outcome = session.chip_authenticate(&dg14_of(&doc)).unwrap();
        assert_eq!(outcome.protocol.oid(), oid);
        assert_eq!(outcome.protocol.cipher, cipher);
        assert_eq!(outcome.parameter_id, id);
        assert_eq!(session.chip_authentication(), Some(outcome));
        // Reads go on under the new keys, DG2 needing many of them.
        assert_eq!(session.read_file(FID_DG2, "DG2").unwrap(), dg2);
    }
}

#[test]
fn chip_authentication_with_dh_and_a_key_id() {
    let mut config = CaConfig::new(CA_DH_3DES, 0);
    config.key_id = Some(5);
    let (mut session, doc, dg2) =
        open_and_read(ChipProfile::new(MRZ).with_chip_authentication(config));
    let outcome = session.chip_authenticate(&dg14_of(&doc)).unwrap();
    assert_eq!(outcome.key_id, Some(5));
    assert_eq!(session.read_file(FID_DG2, "DG2").unwrap(), dg2);
}

#[test]
fn a_chip_with_a_given_key_announces_it() {
    let config = CaConfig {
        private_key: Some(vec![0x07; 32]),
        ..CaConfig::default()
    };
    let a = chip(ChipProfile::new(MRZ).with_chip_authentication(config.clone()));
    let b = chip(ChipProfile::new(MRZ).with_chip_authentication(config));
    assert_eq!(a.file(FID_DG14), b.file(FID_DG14));
}

#[test]
fn a_cloned_chip_fails_chip_authentication_by_name() {
    let profile = ChipProfile::new(MRZ)
        .with_chip_authentication(CaConfig::default())
        .with(Misbehaviour::CloneWithoutCaKey);
    let (mut session, doc, _) = open_and_read(profile);
    let err = session.chip_authenticate(&dg14_of(&doc)).unwrap_err();
    assert!(matches!(err, Error::ChipAuthenticationFailed(_)), "{err:?}");
}

#[test]
fn verify_chip_runs_chip_authentication() {
    for (profile, passes) in [
        (
            ChipProfile::new(MRZ).with_chip_authentication(CaConfig::default()),
            true,
        ),
        (
            ChipProfile::new(MRZ)
                .with_chip_authentication(CaConfig::new(CA_ECDH_3DES, 12))
                .with(Misbehaviour::CloneWithoutCaKey),
            false,
        ),
        (
            // CA first, even when DG15 is there too.
            ChipProfile::new(MRZ)
                .with_chip_authentication(CaConfig::default())
                .with_active_authentication(AaKey::P256),
            true,
        ),
    ] {
        let (mut session, doc, _) = open_and_read(profile);
        match verify_chip(&mut session, &doc) {
            CloneCheck::ChipAuthentication(result) => assert_eq!(result.is_ok(), passes),
            other => panic!("expected Chip Authentication, got {other:?}"),
        }
    }
}

#[test]
fn active_authentication_rsa_and_ecdsa_pass() {
    for key in [AaKey::Rsa1024, AaKey::P256] {
        let (mut session, doc, dg2) =
            open_and_read(ChipProfile::new(MRZ).with_active_authentication(key));
        assert!(doc.com.data_groups.contains(&DataGroup::Dg15));
        assert_eq!(
            doc.com.data_groups.contains(&DataGroup::Dg14),
            key == AaKey::P256
        );
        assert_eq!(
            verify_chip(&mut session, &doc),
            CloneCheck::ActiveAuthentication(Ok(()))
        );
        // The session is still usable.
        assert_eq!(session.read_file(FID_DG2, "DG2").unwrap(), dg2);
    }
}

#[test]
fn active_authentication_with_rsa_2048_fits_extended_length() {
    let (mut session, doc, _) =
        open_and_read(ChipProfile::new(MRZ).with_active_authentication(AaKey::Rsa2048));
    assert_eq!(
        verify_chip(&mut session, &doc),
        CloneCheck::ActiveAuthentication(Ok(()))
    );
}

#[test]
fn a_cloned_chip_fails_active_authentication() {
    for key in [AaKey::Rsa1024, AaKey::P256] {
        let profile = ChipProfile::new(MRZ)
            .with_active_authentication(key)
            .with(Misbehaviour::CloneWithoutAaKey);
        let (mut session, doc, _) = open_and_read(profile);
        // The clone signs with a fresh key of its own: its RSA signature can
        // be at or above DG15's modulus (then malformed for that key), or
        // below it and recover to garbage; either way it is refused.
        let check = verify_chip(&mut session, &doc);
        assert!(
            matches!(
                check,
                CloneCheck::ActiveAuthentication(Err(AaFailure::BadSignature
                    | AaFailure::WrongChallenge
                    | AaFailure::Malformed("signature is not below the modulus")))
            ),
            "{key:?}: {check:?}"
        );
    }
}

#[test]
fn a_chip_with_neither_offers_nothing() {
    let (mut session, doc, _) = open_and_read(ChipProfile::new(MRZ));
    assert!(!doc.com.data_groups.contains(&DataGroup::Dg14));
    assert_eq!(verify_chip(&mut session, &doc), CloneCheck::NotOffered);
}

fn pace_cam_session(profile: ChipProfile) -> CloneCheck {
    let channel = DirectChannel::new(chip(profile));
    let password = Password::Mrz(bac::mrz_information("L898902C3", "740812", "120415").unwrap());
    let mut session = Session::open(channel, password, &ReadOptions::default()).unwrap();
    assert!(session.chip_authentication_mapping().is_some());
    let doc = read_document(&mut session).unwrap();
    verify_chip(&mut session, &doc)
}

#[test]
fn pace_cam_is_checked_against_dg14() {
    let profile = ChipProfile::new(MRZ)
        .with_pace(PaceConfig::new("0.4.0.127.0.7.2.2.4.6.2", 13))
        .with_chip_authentication(CaConfig::new(CA_ECDH_AES128, 13));
    assert_eq!(
        pace_cam_session(profile),
        CloneCheck::ChipAuthentication(Ok(()))
    );
}

#[test]
fn pace_cam_from_a_cloned_chip_fails_the_check() {
    let profile = ChipProfile::new(MRZ)
        .with_pace(PaceConfig::new("0.4.0.127.0.7.2.2.4.6.2", 13))
        .with_chip_authentication(CaConfig::new(CA_ECDH_AES128, 13))
        .with(Misbehaviour::CloneWithoutCaKey);
    assert!(matches!(
        pace_cam_session(profile),
        CloneCheck::ChipAuthentication(Err(_))
    ));
}

#[test]
fn pace_gm_then_chip_authentication() {
    let profile = ChipProfile::new(MRZ)
        .with_pace(PaceConfig::new("0.4.0.127.0.7.2.2.4.2.2", 12))
        .with_chip_authentication(CaConfig::default());
    let channel = DirectChannel::new(chip(profile));
    let password = Password::Mrz(bac::mrz_information("L898902C3", "740812", "120415").unwrap());
    let mut session = Session::open(channel, password, &ReadOptions::default()).unwrap();
    assert!(session.chip_authentication_mapping().is_none());
    let doc = read_document(&mut session).unwrap();
    assert_eq!(
        verify_chip(&mut session, &doc),
        CloneCheck::ChipAuthentication(Ok(()))
    );
    assert!(session.read_file(FID_DG1, "DG1").is_ok());
}

#[test]
fn data_groups_are_fixed_and_the_sod_can_be_replaced() {
    let profile = ChipProfile::new(MRZ)
        .with_chip_authentication(CaConfig::default())
        .with_active_authentication(AaKey::P256);
    let mut chip = chip(profile);
    let dg14 = chip.file(FID_DG14).unwrap().to_vec();
    let dg15 = chip.file(FID_DG15).unwrap().to_vec();
    let sod = vec![0x77, 0x03, 0x30, 0x01, 0x00];
    assert!(chip.replace_file(FID_SOD, sod.clone()));
    assert!(!chip.replace_file(0x0110, vec![]));
    let channel = DirectChannel::new(chip);
    let mut session = Session::open_bac(channel, keys(), &ReadOptions::default()).unwrap();
    let doc = read_document(&mut session).unwrap();
    assert_eq!(doc.bytes(FileId::Dg(DataGroup::Dg14)), Some(&dg14[..]));
    assert_eq!(doc.bytes(FileId::Dg(DataGroup::Dg15)), Some(&dg15[..]));
    assert_eq!(doc.bytes(FileId::Sod), Some(&sod[..]));
    let with_sod =
        virtual_emrtd::VirtualChip::new(ChipProfile::new(MRZ).with_sod(sod.clone())).unwrap();
    assert_eq!(with_sod.file(FID_SOD), Some(&sod[..]));
}

#[test]
fn chip_authentication_with_explicit_domain_parameters_in_dg14() {
    for id in [12, 13, 17] {
        let profile = ChipProfile::new(MRZ)
            .with_chip_authentication(CaConfig::new(CA_ECDH_AES128, id).with_explicit_parameters());
        let (mut session, doc, dg2) = open_and_read(profile);
        let dg14 = dg14_of(&doc);
        // DG14 spells the curve out: no namedCurve OID, an ECParameters SEQUENCE.
        let keys = icao9303::ca::chip_authentication_public_keys(&dg14).unwrap();
        let spki = &keys[0].subject_public_key_info;
        assert!(icao9303::ecparams::spki_der_with_named_curve(spki).unwrap() != *spki);
        let outcome = session.chip_authenticate(&dg14).unwrap();
        assert_eq!(outcome.parameter_id, id);
        assert_eq!(session.read_file(FID_DG2, "DG2").unwrap(), dg2);
    }
}

#[test]
fn active_authentication_with_an_explicit_parameter_p256_key_in_dg15() {
    let (mut session, doc, _) = open_and_read(
        ChipProfile::new(MRZ).with_active_authentication(AaKey::P256ExplicitParameters),
    );
    assert_eq!(
        verify_chip(&mut session, &doc),
        CloneCheck::ActiveAuthentication(Ok(()))
    );
}
