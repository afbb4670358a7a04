//! PACE against the virtual chip through `icao9303::session::Session::open`.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::{MRZ, chip};
use icao9303::Error;
use icao9303::bac;
use icao9303::pace::{Mapping, Password};
use icao9303::session::{AccessProtocol, ReadOptions, Session};
use virtual_emrtd::{ChipProfile, DirectChannel, Misbehaviour, PaceConfig};

const ECDH_GM_AES128: &str = "0.4.0.127.0.7.2.2.4.2.2";

fn mrz_password() -> Password {
    Password::Mrz(bac::mrz_information("L898902C3", "740812", "120415").unwrap())
}

fn wrong_mrz_password() -> Password {
    Password::Mrz(bac::mrz_information("L898902C<", "690806", "940623").unwrap())
}

fn pace_chip(config: PaceConfig) -> DirectChannel {
    DirectChannel::new(chip(ChipProfile::new(MRZ).with_pace(config)))
}

/// Opens with `password` and reads DG1 and DG2, checking them against the chip's files.
fn open_and_read(channel: DirectChannel, password: Password) -> AccessProtocol {
    let dg1 = channel.chip().file(0x0101).unwrap().to_vec();
    let dg2 = channel.chip().file(0x0102).unwrap().to_vec();
    let mut session = Session::open(channel, password, &ReadOptions::default()).unwrap();
    assert_eq!(session.read_file(0x0101, "DG1").unwrap(), dg1);
    assert_eq!(session.read_file(0x0102, "DG2").unwrap(), dg2);
    session.protocol()
}

fn pace_of(protocol: AccessProtocol) -> (String, Mapping, u32) {
    match protocol {
        AccessProtocol::Pace {
            protocol,
            parameter_id,
        } => (protocol.oid(), protocol.mapping, parameter_id),
        other => panic!("expected PACE, got {other:?}"),
    }
}

#[test]
fn pace_gm_ecdh_p256_aes128_reads_the_files() {
    let got = open_and_read(
        pace_chip(PaceConfig::new(ECDH_GM_AES128, 12)),
        mrz_password(),
    );
    assert_eq!(
        pace_of(got),
        (ECDH_GM_AES128.to_owned(), Mapping::Generic, 12)
    );
}

#[test]
fn pace_gm_ecdh_brainpool_p256_aes128_reads_the_files() {
    let got = open_and_read(
        pace_chip(PaceConfig::new(ECDH_GM_AES128, 13)),
        mrz_password(),
    );
    assert_eq!(pace_of(got).2, 13);
}

#[test]
fn pace_gm_ecdh_brainpool_p512r1_reads_the_files() {
    // brainpoolP512r1 (9303-11 section 9.5.1, ID 17): icao9303's generic curve arithmetic.
    let got = open_and_read(
        pace_chip(PaceConfig::new("0.4.0.127.0.7.2.2.4.2.2", 17)),
        mrz_password(),
    );
    assert_eq!(
        pace_of(got),
        ("0.4.0.127.0.7.2.2.4.2.2".to_owned(), Mapping::Generic, 17)
    );
}

#[test]
fn pace_with_every_cipher_and_mapping() {
    for (oid, id) in [
        ("0.4.0.127.0.7.2.2.4.2.1", 12), // ECDH-GM-3DES
        ("0.4.0.127.0.7.2.2.4.2.3", 15), // ECDH-GM-AES-192 on P-384
        ("0.4.0.127.0.7.2.2.4.2.4", 18), // ECDH-GM-AES-256 on P-521
        ("0.4.0.127.0.7.2.2.4.4.2", 16), // ECDH-IM-AES-128 on brainpoolP384r1
        ("0.4.0.127.0.7.2.2.4.6.2", 13), // ECDH-CAM-AES-128
        ("0.4.0.127.0.7.2.2.4.3.2", 0),  // DH-IM-AES-128
    ] {
        let got = open_and_read(pace_chip(PaceConfig::new(oid, id)), mrz_password());
        assert_eq!(pace_of(got).0, oid);
    }
}

#[test]
fn pace_gm_dh_1024_reads_the_files() {
    let oid = "0.4.0.127.0.7.2.2.4.1.2";
    let got = open_and_read(pace_chip(PaceConfig::new(oid, 0)), mrz_password());
    assert_eq!(pace_of(got), (oid.to_owned(), Mapping::Generic, 0));
}

#[test]
fn pace_with_the_can() {
    let mut config = PaceConfig::new(ECDH_GM_AES128, 12);
    config.can = Some("123456".into());
    open_and_read(pace_chip(config.clone()), Password::Can("123456".into()));
    let err = Session::open(
        pace_chip(config),
        Password::Can("654321".into()),
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::AccessDenied(_)), "{err}");
}

#[test]
fn pace_only_chip_refuses_bac_but_opens_with_pace() {
    let mut config = PaceConfig::new(ECDH_GM_AES128, 13);
    config.bac_enabled = false;
    let got = open_and_read(pace_chip(config.clone()), mrz_password());
    assert!(matches!(got, AccessProtocol::Pace { .. }));
    let err =
        Session::open_bac(pace_chip(config), common::keys(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Status { sw: 0x6D00, .. }), "{err}");
}

#[test]
fn bac_only_chip_falls_back_to_bac_with_the_mrz() {
    let channel = DirectChannel::new(chip(ChipProfile::new(MRZ)));
    assert_eq!(open_and_read(channel, mrz_password()), AccessProtocol::Bac);
}

#[test]
fn bac_only_chip_with_a_can_is_an_error() {
    let channel = DirectChannel::new(chip(ChipProfile::new(MRZ)));
    let err = Session::open(
        channel,
        Password::Can("123456".into()),
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
}

#[test]
fn a_chip_that_lies_in_its_token_is_refused() {
    let channel = DirectChannel::new(chip(
        ChipProfile::new(MRZ)
            .with_pace(PaceConfig::new(ECDH_GM_AES128, 12))
            .with(Misbehaviour::LyingToken),
    ));
    let err = Session::open(channel, mrz_password(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::AccessDenied(_)), "{err}");
}

#[test]
fn an_off_curve_mapping_point_is_refused() {
    let channel = DirectChannel::new(chip(
        ChipProfile::new(MRZ)
            .with_pace(PaceConfig::new(ECDH_GM_AES128, 13))
            .with(Misbehaviour::BadMappingPoint),
    ));
    let err = Session::open(channel, mrz_password(), &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CardMisbehaved(icao9303::CardFault::BadPublicKey(_))
        ),
        "{err}"
    );
}

#[test]
fn wrong_mrz_is_access_denied() {
    let err = Session::open(
        pace_chip(PaceConfig::new(ECDH_GM_AES128, 12)),
        wrong_mrz_password(),
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::AccessDenied(_)), "{err}");
}

#[test]
fn a_dropped_pace_session_reauthenticates_with_pace() {
    let channel = DirectChannel::new(chip(
        ChipProfile::new(MRZ)
            .with_pace(PaceConfig::new(ECDH_GM_AES128, 12))
            .with(Misbehaviour::RefuseReadsAbove {
                max: 100,
                drop_session: true,
            }),
    ));
    let dg2 = channel.chip().file(0x0102).unwrap().to_vec();
    let mut session = Session::open(channel, mrz_password(), &ReadOptions::default()).unwrap();
    assert_eq!(session.read_file(0x0102, "DG2").unwrap(), dg2);
    assert!(session.reauthentications() > 0);
    assert!(matches!(session.protocol(), AccessProtocol::Pace { .. }));
    assert!(session.read_size() <= 100);
}
