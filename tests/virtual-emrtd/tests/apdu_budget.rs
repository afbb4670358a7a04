//! How many APDUs a whole read takes, and the fallbacks when a chip refuses the short cuts.
//!
//! A file's first READ BINARY names it by short EF identifier (ISO/IEC 7816-4
//! §11.2.3) and asks for as much as a response holds, so on a well-behaved
//! chip each file costs one APDU when it fits one response.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use icao9303::bac;
use icao9303::pace::Password;
use icao9303::session::{ReadOptions, Session};
use icao9303::{CardChannel, Error};
use virtual_emrtd::lds::{FID_COM, FID_DG1, FID_DG2, FID_SOD};
use virtual_emrtd::{ChipProfile, DirectChannel, Misbehaviour, PaceConfig};

use common::{MRZ, chip, keys};

const FILES: [(u16, &str); 4] = [
    (FID_COM, "EF.COM"),
    (FID_DG1, "DG1"),
    (FID_DG2, "DG2"),
    (FID_SOD, "EF.SOD"),
];

const ECDH_GM_AES128: &str = "0.4.0.127.0.7.2.2.4.2.2";

fn mrz_password() -> Password {
    Password::Mrz(bac::mrz_information("L898902C3", "740812", "120415").unwrap())
}

/// Reads the four files, checking each against the chip; the APDUs each took.
fn read_all<C: CardChannel>(session: &mut Session<C>, held: &[Vec<u8>]) -> Vec<usize> {
    FILES
        .iter()
        .zip(held)
        .map(|((fid, what), held)| {
            let before = session.apdu_count();
            assert_eq!(&session.read_file(*fid, what).unwrap(), held, "{what}");
            session.apdu_count() - before
        })
        .collect()
}

fn held(channel: &DirectChannel) -> Vec<Vec<u8>> {
    FILES
        .iter()
        .map(|(fid, _)| channel.chip().file(*fid).unwrap().to_vec())
        .collect()
}

/// (APDUs of the whole BAC read, per file) and (of the whole PACE read, per file).
fn counts(profile: &ChipProfile) -> ((usize, Vec<usize>), (usize, Vec<usize>)) {
    let mut channel = DirectChannel::new(chip(profile.clone()));
    let files = held(&channel);
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    let bac_files = read_all(&mut session, &files);
    let bac = (session.apdu_count(), bac_files);
    let profile = profile
        .clone()
        .with_pace(PaceConfig::new(ECDH_GM_AES128, 12));
    let mut channel = DirectChannel::new(chip(profile));
    let mut session = Session::open(&mut channel, mrz_password(), &ReadOptions::default()).unwrap();
    let pace_files = read_all(&mut session, &files);
    (bac, (session.apdu_count(), pace_files))
}

#[test]
fn the_default_chip_is_read_in_the_fewest_apdus() {
    // BAC: SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE, then one READ BINARY per file.
    // PACE: EF.CardAccess by short EF identifier, MSE:Set AT, 4 GENERAL
    // AUTHENTICATE, SELECT of the application, then one READ BINARY per file.
    let ((bac, bac_files), (pace, pace_files)) = counts(&ChipProfile::new(MRZ));
    assert_eq!(
        (bac, pace),
        (7, 11),
        "was 15 and 22 with SELECT and a header read"
    );
    assert_eq!(bac_files, [1, 1, 1, 1]);
    assert_eq!(pace_files, [1, 1, 1, 1]);
    // Short APDUs: small files still take one; DG2 takes one per 223–231 bytes.
    let ((bac, bac_files), (pace, _)) = counts(&ChipProfile::new(MRZ).with_extended_length(false));
    assert_eq!((bac, pace), (35, 40), "was 43 and 51");
    assert_eq!(bac_files[0], 1);
}

#[test]
fn a_chip_without_short_file_ids_is_read_with_select_for_the_session() {
    let ((_, bac_files), (_, pace_files)) =
        counts(&ChipProfile::new(MRZ).with(Misbehaviour::NoShortFileIds));
    // The refused read, SELECT and the read; then SELECT and one read per file, no more tries.
    assert_eq!(bac_files, [3, 2, 2, 2]);
    assert_eq!(pace_files, [3, 2, 2, 2]);
}

#[test]
fn a_chip_that_refuses_le_beyond_the_file_is_read_header_first() {
    let ((_, bac_files), (pace, pace_files)) =
        counts(&ChipProfile::new(MRZ).with(Misbehaviour::StrictLe));
    // The refused large read, the header, the rest; then header and rest per file.
    assert_eq!(bac_files, [3, 2, 2, 2]);
    assert_eq!(pace_files, [3, 2, 2, 2]);
    // EF.CardAccess too: the refused read, the header, the rest (then MSE, 4 GA, SELECT).
    assert_eq!(pace, 3 + 6 + 9);
}

#[test]
fn both_refusals_together_still_read_everything() {
    let profile = ChipProfile::new(MRZ)
        .with(Misbehaviour::NoShortFileIds)
        .with(Misbehaviour::StrictLe);
    let ((_, bac_files), (_, pace_files)) = counts(&profile);
    assert_eq!(bac_files[1..], [3, 3, 3]);
    assert_eq!(pace_files[1..], [3, 3, 3]);
}

#[test]
fn a_missing_file_keeps_short_file_ids_on() {
    let mut channel = DirectChannel::new(chip(ChipProfile::new(MRZ)));
    let dg1 = channel.chip().file(FID_DG1).unwrap().to_vec();
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    // DG3 is absent: 6A82 by short EF identifier, and the SELECT confirms it.
    let err = session.read_file(0x0103, "DG3").unwrap_err();
    assert!(matches!(err, Error::Status { sw: 0x6A82, .. }), "{err:?}");
    let before = session.apdu_count();
    assert_eq!(session.read_file(FID_DG1, "DG1").unwrap(), dg1);
    assert_eq!(session.apdu_count() - before, 1);
}
