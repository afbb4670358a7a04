//! The chip's answers to hand-built APDUs: status words, session drops, READ BINARY forms.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use icao9303::apdu::Command;
use icao9303::{CardFault, Error};
use virtual_emrtd::lds::{FID_COM, FID_DG1, FID_DG2};
use virtual_emrtd::{ChipProfile, Misbehaviour};

use common::{MRZ, chip, open_bac, plain, protected, protected_raw, select_ef};

fn read(offset: u16, le: usize) -> Command {
    let [p1, p2] = offset.to_be_bytes();
    Command::new(0x00, 0xB0, p1, p2).with_le(le)
}

fn odd_read(offset: u32, le: usize) -> Command {
    let mut data = vec![0x54, 0x03];
    data.extend_from_slice(&offset.to_be_bytes()[1..]);
    Command::new(0x00, 0xB1, 0x00, 0x00)
        .with_data(data)
        .with_le(le)
}

#[test]
fn files_need_bac_first() {
    let mut chip = chip(ChipProfile::new(MRZ));
    // GET CHALLENGE before the application is selected.
    assert_eq!(plain(&mut chip, &icao9303::bac::get_challenge()).sw, 0x6985);
    let select =
        Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(icao9303::session::LDS1_AID.to_vec());
    assert_eq!(plain(&mut chip, &select).sw, 0x9000);
    assert_eq!(plain(&mut chip, &select_ef(FID_COM)).sw, 0x6982);
    assert_eq!(plain(&mut chip, &read(0, 4)).sw, 0x6982);
    // EXTERNAL AUTHENTICATE without a challenge.
    let ea = Command::new(0x00, 0x82, 0, 0)
        .with_data(vec![0; 40])
        .with_le(40);
    assert_eq!(plain(&mut chip, &ea).sw, 0x6985);
    // A protected command without a session.
    assert_eq!(chip.process(&[0x0C, 0xB0, 0, 0, 0]), [0x69, 0x88]);
    // Unknown instruction, unknown class.
    assert_eq!(chip.process(&[0x00, 0x20, 0, 0]), [0x6D, 0x00]);
    assert_eq!(chip.process(&[0x80, 0x84, 0, 0, 8]), [0x6E, 0x00]);
    assert_eq!(chip.process(&[0x00]), [0x67, 0x00]);
}

#[test]
fn a_wrong_cryptogram_is_6300_and_spends_the_challenge() {
    let mut chip = chip(ChipProfile::new(MRZ));
    let select =
        Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(icao9303::session::LDS1_AID.to_vec());
    plain(&mut chip, &select);
    let rnd_ic: [u8; 8] = plain(&mut chip, &icao9303::bac::get_challenge())
        .data
        .try_into()
        .unwrap();
    let (cmd, _) =
        icao9303::bac::external_authenticate(common::wrong_keys(), rnd_ic, [1; 8], [2; 16])
            .unwrap();
    assert_eq!(plain(&mut chip, &cmd).sw, 0x6300);
    assert!(!chip.has_session());
    // The challenge is spent: the right keys with the old challenge find none.
    let (cmd, _) =
        icao9303::bac::external_authenticate(common::keys(), rnd_ic, [1; 8], [2; 16]).unwrap();
    assert_eq!(plain(&mut chip, &cmd).sw, 0x6985);
}

#[test]
fn an_unprotected_command_after_bac_is_plain_6988_and_ends_the_session() {
    let mut chip = chip(ChipProfile::new(MRZ));
    let mut sm = open_bac(&mut chip);
    assert_eq!(
        protected(&mut chip, &mut sm, &select_ef(FID_COM), false)
            .unwrap()
            .sw,
        0x9000
    );
    assert_eq!(chip.process(&read(0, 4).encode(false)), [0x69, 0x88]);
    assert!(!chip.has_session());
    // The terminal sees the plain error as the end of secure messaging.
    let err = protected(&mut chip, &mut sm, &read(0, 4), false).unwrap_err();
    assert_eq!(err, Error::SecureMessagingAborted { sw: 0x6988 });
}

#[test]
fn a_bad_mac_or_a_replay_is_plain_6988() {
    let mut chip = chip(ChipProfile::new(MRZ));
    let mut sm = open_bac(&mut chip);
    let mut wire = sm.protect_command(&select_ef(FID_COM), false).unwrap();
    let last = wire.len() - 2;
    wire[last] ^= 0x80; // inside DO'8E'
    assert_eq!(chip.process(&wire), [0x69, 0x88]);
    assert!(!chip.has_session());

    let mut sm = open_bac(&mut chip);
    let wire = sm.protect_command(&select_ef(FID_COM), false).unwrap();
    let answer = chip.process(&wire);
    sm.unprotect_response(answer).unwrap();
    // The same APDU again carries an old send sequence counter.
    assert_eq!(chip.process(&wire), [0x69, 0x88]);
}

#[test]
fn even_read_binary_reports_the_end_of_file() {
    let mut chip = chip(ChipProfile::new(MRZ));
    let dg1 = chip.file(FID_DG1).unwrap().to_vec();
    let mut sm = open_bac(&mut chip);
    let r = protected(&mut chip, &mut sm, &read(0, 4), false);
    // No current EF yet.
    assert_eq!(r.unwrap().sw, 0x6986);
    protected(&mut chip, &mut sm, &select_ef(FID_DG1), false).unwrap();
    let r = protected(&mut chip, &mut sm, &read(0, 10), false).unwrap();
    assert_eq!((r.data.as_slice(), r.sw), (&dg1[..10], 0x9000));
    // Exactly the rest: 9000. More than the rest: the rest and 6282.
    let rest = dg1.len() - 10;
    let r = protected(&mut chip, &mut sm, &read(10, rest), false).unwrap();
    assert_eq!((r.data.as_slice(), r.sw), (&dg1[10..], 0x9000));
    let r = protected(&mut chip, &mut sm, &read(10, rest + 5), false).unwrap();
    assert_eq!((r.data.as_slice(), r.sw), (&dg1[10..], 0x6282));
    // At or beyond the end: 6B00, protected.
    let end = u16::try_from(dg1.len()).unwrap();
    assert_eq!(
        protected(&mut chip, &mut sm, &read(end, 1), false)
            .unwrap()
            .sw,
        0x6B00
    );
    assert_eq!(
        protected(&mut chip, &mut sm, &read(0x7FFF, 1), false)
            .unwrap()
            .sw,
        0x6B00
    );
    assert!(chip.has_session());
}

#[test]
fn read_binary_with_a_short_ef_identifier_selects_the_file() {
    let mut chip = chip(ChipProfile::new(MRZ));
    let com = chip.file(FID_COM).unwrap().to_vec();
    let dg1 = chip.file(FID_DG1).unwrap().to_vec();
    let mut sm = open_bac(&mut chip);
    // P1 = 100 11110: SFI 1E (EF.COM), offset 2 in P2.
    let r = protected(
        &mut chip,
        &mut sm,
        &Command::new(0x00, 0xB0, 0x9E, 0x02).with_le(3),
        false,
    )
    .unwrap();
    assert_eq!((r.data.as_slice(), r.sw), (&com[2..5], 0x9000));
    // EF.COM is now current.
    let r = protected(&mut chip, &mut sm, &read(0, 2), false).unwrap();
    assert_eq!(r.data, com[..2]);
    // SFI 01 is DG1; an unknown SFI is 6A82.
    let r = protected(
        &mut chip,
        &mut sm,
        &Command::new(0x00, 0xB0, 0x81, 0x00).with_le(4),
        false,
    )
    .unwrap();
    assert_eq!(r.data, dg1[..4]);
    let r = protected(
        &mut chip,
        &mut sm,
        &Command::new(0x00, 0xB0, 0x8E, 0x00).with_le(4),
        false,
    )
    .unwrap();
    assert_eq!(r.sw, 0x6A82);
}

#[test]
fn odd_read_binary_wraps_data_in_do53_sized_by_le() {
    let profile = ChipProfile::new(MRZ).with_dg2_min_size(40_000);
    let mut chip = chip(profile);
    let dg2 = chip.file(FID_DG2).unwrap().to_vec();
    let mut sm = open_bac(&mut chip);
    protected(&mut chip, &mut sm, &select_ef(FID_DG2), false).unwrap();
    // Le counts DO'53' itself: 53 08 and 8 bytes.
    let r = protected(&mut chip, &mut sm, &odd_read(33_000, 10), false).unwrap();
    assert_eq!(r.sw, 0x9000);
    assert_eq!(r.data[..2], [0x53, 0x08]);
    assert_eq!(r.data[2..], dg2[33_000..33_008]);
    // Past 32,767 with the last bytes: the rest, and 6282 since Le asked for more.
    let tail = u32::try_from(dg2.len() - 5).unwrap();
    let r = protected(&mut chip, &mut sm, &odd_read(tail, 20), false).unwrap();
    assert_eq!(
        (r.data.as_slice(), r.sw),
        (
            &[&[0x53, 5][..], &dg2[dg2.len() - 5..]].concat()[..],
            0x6282
        )
    );
    // A short APDU caps the response at 256 bytes of protected data: DO'53' of 231 bytes.
    let r = protected(&mut chip, &mut sm, &odd_read(33_000, 256), false).unwrap();
    assert_eq!(r.data.len(), 231);
    assert_eq!(r.data[..3], [0x53, 0x81, 228]);
    // Extended: one read can carry the rest of the file.
    let r = protected(&mut chip, &mut sm, &odd_read(32_768, 65_536), true).unwrap();
    assert_eq!(r.sw, 0x6282);
    assert_eq!(r.data[4..], dg2[32_768..]);
    // A malformed DO'54' is 6A80.
    let bad = Command::new(0x00, 0xB1, 0, 0)
        .with_data(vec![0x55, 1, 0])
        .with_le(10);
    assert_eq!(
        protected(&mut chip, &mut sm, &bad, false).unwrap().sw,
        0x6A80
    );
}

#[test]
fn short_reads_are_capped_by_the_envelope_and_extended_need_support() {
    let profile = ChipProfile::new(MRZ).with_dg2_min_size(40_000);
    let mut chip = chip(profile.clone());
    let mut sm = open_bac(&mut chip);
    protected(&mut chip, &mut sm, &select_ef(FID_DG2), false).unwrap();
    let r = protected(&mut chip, &mut sm, &read(0, 256), false).unwrap();
    assert_eq!((r.data.len(), r.sw), (231, 0x9000));
    let r = protected(&mut chip, &mut sm, &read(0, 4000), true).unwrap();
    assert_eq!((r.data.len(), r.sw), (4000, 0x9000));

    // Without extended-length support, an extended APDU still gets a short-sized answer.
    let mut chip =
        virtual_emrtd::VirtualChip::new(profile.clone().with_extended_length(false)).unwrap();
    let mut sm = open_bac(&mut chip);
    protected(&mut chip, &mut sm, &select_ef(FID_DG2), false).unwrap();
    let r = protected(&mut chip, &mut sm, &read(0, 4000), true).unwrap();
    assert_eq!((r.data.len(), r.sw), (231, 0x9000));

    // NoExtendedLength: any extended APDU is plain 6700 and ends the session.
    let mut chip = common::chip(profile.with(Misbehaviour::NoExtendedLength));
    let mut sm = open_bac(&mut chip);
    assert_eq!(
        protected_raw(&mut chip, &mut sm, &select_ef(FID_DG2), true),
        [0x67, 0x00]
    );
    assert!(!chip.has_session());
}

#[test]
fn refusals_are_protected_or_plain_as_configured() {
    for drop_session in [false, true] {
        let profile = ChipProfile::new(MRZ).with(Misbehaviour::RefuseReadsAbove {
            max: 224,
            drop_session,
        });
        let mut chip = chip(profile);
        let mut sm = open_bac(&mut chip);
        protected(&mut chip, &mut sm, &select_ef(FID_DG2), false).unwrap();
        assert_eq!(
            protected(&mut chip, &mut sm, &read(0, 224), false)
                .unwrap()
                .data
                .len(),
            224
        );
        let r = protected(&mut chip, &mut sm, &read(0, 225), false);
        if drop_session {
            assert_eq!(r.unwrap_err(), Error::SecureMessagingAborted { sw: 0x6700 });
            assert!(!chip.has_session());
        } else {
            assert_eq!(r.unwrap().sw, 0x6700);
            assert!(chip.has_session());
        }
    }
}

#[test]
fn bad_mac_hits_only_the_chosen_read() {
    let profile = ChipProfile::new(MRZ).with(Misbehaviour::BadMac { read: 2 });
    let mut chip = chip(profile);
    let mut sm = open_bac(&mut chip);
    protected(&mut chip, &mut sm, &select_ef(FID_COM), false).unwrap();
    protected(&mut chip, &mut sm, &read(0, 4), false).unwrap();
    let err = protected(&mut chip, &mut sm, &read(4, 4), false).unwrap_err();
    assert_eq!(err, Error::CardMisbehaved(CardFault::BadMac));
    // The chip kept its session and counter: the next read verifies again.
    assert!(protected(&mut chip, &mut sm, &read(8, 4), false).is_ok());
}

#[test]
fn reset_forgets_the_session() {
    let mut chip = chip(ChipProfile::new(MRZ));
    open_bac(&mut chip);
    chip.reset();
    assert!(!chip.has_session());
    assert_eq!(plain(&mut chip, &select_ef(FID_COM)).sw, 0x6982);
}
