//! The chip driven by `icao9303::session::Session` over an in-memory channel.
//!
//! These test the simulator and the terminal logic together, not the PC/SC path.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::time::Duration;

use icao9303::session::{ReadOptions, Session};
use icao9303::{CardChannel, CardFault, ChannelError, ChannelErrorKind, Error, ParseErrorKind};
use virtual_emrtd::lds::{FID_COM, FID_DG1, FID_DG2, FID_SOD};
use virtual_emrtd::{ChipProfile, CommandKind, DirectChannel, FaceImage, Misbehaviour};

use common::{MRZ, chip, keys, wrong_keys};

const FILES: [(u16, &str); 4] = [
    (FID_COM, "EF.COM"),
    (FID_SOD, "EF.SOD"),
    (FID_DG1, "DG1"),
    (FID_DG2, "DG2"),
];

/// A channel that records the INS byte of every command (the header travels in clear).
struct Recording {
    inner: DirectChannel,
    ins: Vec<u8>,
    extended_apdus: usize,
}

impl CardChannel for Recording {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, ChannelError> {
        if let Some(&ins) = command.get(1) {
            self.ins.push(ins);
        }
        // Extended form: Lc or Le starts with a 00 byte and the APDU is longer than a short Case 2.
        if command.len() > 5 && command.get(4) == Some(&0) {
            self.extended_apdus += 1;
        }
        self.inner.transmit(command)
    }

    fn supports_extended_length(&self) -> bool {
        self.inner.supports_extended_length()
    }
}

fn recording(profile: ChipProfile) -> Recording {
    Recording {
        inner: DirectChannel::new(chip(profile)),
        ins: Vec::new(),
        extended_apdus: 0,
    }
}

/// Reads every file and checks it is byte-identical to what the chip holds.
fn read_everything<C: CardChannel>(session: &mut Session<C>, chip_files: &[(u16, Vec<u8>)]) {
    for ((fid, what), (chip_fid, held)) in FILES.iter().zip(chip_files) {
        assert_eq!(fid, chip_fid);
        let read = session
            .read_file(*fid, what)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(&read, held, "{what} differs");
    }
}

fn held(channel: &DirectChannel) -> Vec<(u16, Vec<u8>)> {
    FILES
        .iter()
        .map(|(fid, _)| (*fid, channel.chip().file(*fid).unwrap().to_vec()))
        .collect()
}

#[test]
fn bac_then_every_file_reads_back_identical_with_and_without_extended_length() {
    for extended in [true, false] {
        let mut channel =
            DirectChannel::new(chip(ChipProfile::new(MRZ).with_extended_length(extended)));
        let files = held(&channel);
        let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
        read_everything(&mut session, &files);
        assert_eq!(session.reauthentications(), 0);
        if !extended {
            assert!(session.read_size() <= 231);
        }
    }
}

#[test]
fn files_are_the_documented_lds() {
    let channel = DirectChannel::new(chip(ChipProfile::new(MRZ)));
    let chip = channel.chip();
    assert_eq!(
        chip.file(FID_COM).unwrap(),
        hex::decode("60145F0104303130375F3606303430303030 5C026175".replace(' ', "")).unwrap()
    );
    let dg1 = chip.file(FID_DG1).unwrap();
    assert_eq!(&dg1[..5], &[0x61, 0x5B, 0x5F, 0x1F, 0x58]);
    assert_eq!(&dg1[5..], MRZ.replace('\n', "").as_bytes());
    assert_eq!(chip.file(FID_SOD).unwrap()[0], 0x77);
    let face = FaceImage::synthetic_jpeg();
    let dg2 = chip.file(FID_DG2).unwrap();
    assert!(dg2.ends_with(&face.bytes));
    assert!(dg2.len() < 32_767);
    assert_eq!(chip.file(0x011C), None, "no EF.CardAccess: BAC only");
}

#[test]
fn wrong_mrz_is_access_denied_and_opens_no_session() {
    let mut channel = DirectChannel::new(chip(ChipProfile::new(MRZ)));
    let err = Session::open_bac(&mut channel, wrong_keys(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::AccessDenied(_)), "{err:?}");
    assert!(!channel.chip().has_session());
    // The right keys still work afterwards.
    Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
}

#[test]
fn unknown_file_is_6a82_and_the_session_survives() {
    let mut channel = DirectChannel::new(chip(ChipProfile::new(MRZ)));
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    let err = session.read_file(0x011C, "EF.CardAccess").unwrap_err();
    assert!(matches!(err, Error::Status { sw: 0x6A82, .. }), "{err:?}");
    session.read_file(FID_DG1, "DG1").unwrap();
}

#[test]
fn dg2_above_32k_is_read_with_odd_ins() {
    // With extended length the first read after the header carries about 65,000
    // bytes, so the file must be larger for the odd INS to be needed.
    for (extended, face, size) in [
        (false, FaceImage::synthetic_jpeg2000(), 40_000),
        (true, FaceImage::synthetic_jpeg(), 100_000),
    ] {
        let profile = ChipProfile::new(MRZ)
            .with_face(face.clone())
            .with_extended_length(extended)
            .with_dg2_min_size(size);
        let mut channel = recording(profile);
        let dg2 = channel.inner.chip().file(FID_DG2).unwrap().to_vec();
        assert!(dg2.len() >= size);
        // The padded face is still an image of the same size.
        let record = icao9303::tlv::find_first(&dg2, 0x5F2E)
            .unwrap()
            .unwrap()
            .value;
        let padded = FaceImage::from_bytes(record[46..].to_vec()).unwrap();
        assert_eq!(
            (padded.width, padded.height, padded.format),
            (face.width, face.height, face.format)
        );
        let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
        assert_eq!(session.read_file(FID_DG2, "DG2").unwrap(), dg2);
        drop(session);
        assert!(
            channel.ins.contains(&0xB1),
            "odd INS used (extended {extended})"
        );
        assert_eq!(channel.extended_apdus > 0, extended);
    }
}

#[test]
fn bad_mac_on_the_second_read_is_a_card_fault() {
    let profile = ChipProfile::new(MRZ).with(Misbehaviour::BadMac { read: 2 });
    let mut channel = DirectChannel::new(chip(profile));
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    // EF.COM comes whole in the first read; DG1's read is the second, corrupted.
    session.read_file(FID_COM, "EF.COM").unwrap();
    let err = session.read_file(FID_DG1, "DG1").unwrap_err();
    assert!(
        matches!(err, Error::CardMisbehaved(CardFault::BadMac)),
        "{err:?}"
    );
}

#[test]
fn wrong_status_words_reach_the_terminal() {
    // Without short EF identifiers the terminal SELECTs, and sees the SELECT's status word.
    let profile = ChipProfile::new(MRZ)
        .with(Misbehaviour::NoShortFileIds)
        .with(Misbehaviour::WrongSw {
            on: CommandKind::SelectFile { fid: Some(FID_DG2) },
            sw: 0x6A82,
        });
    let mut channel = DirectChannel::new(chip(profile));
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    session.read_file(FID_DG1, "DG1").unwrap();
    let err = session.read_file(FID_DG2, "DG2").unwrap_err();
    assert!(matches!(err, Error::Status { sw: 0x6A82, .. }), "{err:?}");

    let profile = ChipProfile::new(MRZ).with(Misbehaviour::WrongSw {
        on: CommandKind::ReadBinary { fid: None },
        sw: 0x6F00,
    });
    let mut channel = DirectChannel::new(chip(profile));
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    let err = session.read_file(FID_COM, "EF.COM").unwrap_err();
    assert!(matches!(err, Error::Status { sw: 0x6F00, .. }), "{err:?}");

    let profile = ChipProfile::new(MRZ).with(Misbehaviour::WrongSw {
        on: CommandKind::GetChallenge,
        sw: 0x6D00,
    });
    let mut channel = DirectChannel::new(chip(profile));
    let err = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Status { sw: 0x6D00, .. }), "{err:?}");
}

#[test]
fn truncated_dg2_ends_in_an_error_not_a_hang() {
    let profile = ChipProfile::new(MRZ).with(Misbehaviour::TruncatedFile { missing: 100 });
    let mut channel = DirectChannel::new(chip(profile));
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    session.read_file(FID_DG1, "DG1").unwrap();
    let err = session.read_file(FID_DG2, "DG2").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Status {
                sw: 0x6B00 | 0x6282,
                ..
            } | Error::CardMisbehaved(CardFault::ShortFile { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn oversized_dg2_length_is_refused_before_reading() {
    let profile = ChipProfile::new(MRZ).with(Misbehaviour::OversizedLength);
    let mut channel = DirectChannel::new(chip(profile));
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    let before = session.apdu_count();
    let err = session.read_file(FID_DG2, "DG2").unwrap_err();
    assert!(
        matches!(&err, Error::Parse(p) if matches!(p.kind, ParseErrorKind::TooLong(_))),
        "{err:?}"
    );
    // One READ BINARY by short EF identifier (header and all), no more.
    assert_eq!(session.apdu_count() - before, 1);
}

#[test]
fn refused_read_sizes_shrink_with_the_session_kept() {
    for extended in [true, false] {
        let profile = ChipProfile::new(MRZ).with_extended_length(extended).with(
            Misbehaviour::RefuseReadsAbove {
                max: 200,
                drop_session: false,
            },
        );
        let mut channel = DirectChannel::new(chip(profile));
        let files = held(&channel);
        let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
        read_everything(&mut session, &files);
        assert!(session.read_size() <= 200, "{}", session.read_size());
        assert_eq!(session.reauthentications(), 0);
    }
}

#[test]
fn refused_read_sizes_with_a_dropped_session_reauthenticate() {
    let profile = ChipProfile::new(MRZ).with(Misbehaviour::RefuseReadsAbove {
        max: 200,
        drop_session: true,
    });
    let mut channel = DirectChannel::new(chip(profile));
    let files = held(&channel);
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    read_everything(&mut session, &files);
    assert!(session.read_size() <= 200);
    assert!(session.reauthentications() > 0);
}

#[test]
fn a_chip_that_lies_about_extended_length_answers_6700() {
    // Reader and ATR claim extended length; the chip refuses every extended APDU.
    let profile = ChipProfile::new(MRZ).with(Misbehaviour::NoExtendedLength);
    let mut channel = DirectChannel::new(chip(profile.clone()));
    let files = held(&channel);
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    // The terminal falls back to short APDUs (authenticating again: the chip dropped the session).
    read_everything(&mut session, &files);
    assert!(session.reauthentications() > 0);
    // Told the truth (no extended length), the terminal reads everything.
    let mut channel = DirectChannel::new(chip(profile)).with_extended_length(false);
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    read_everything(&mut session, &files);
}

#[test]
fn a_chip_that_never_answers_after_bac_times_out() {
    let profile = ChipProfile::new(MRZ).with(Misbehaviour::NeverAnswer);
    let mut channel = DirectChannel::new(chip(profile));
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    let err = session.read_file(FID_COM, "EF.COM").unwrap_err();
    assert!(
        matches!(&err, Error::Channel(c) if c.kind == ChannelErrorKind::Timeout),
        "{err:?}"
    );
    // Silent until reset.
    drop(session);
    assert!(
        channel
            .chip_mut()
            .answer(&[0x00, 0xA4, 0x04, 0x0C])
            .is_none()
    );
    channel.chip_mut().reset();
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    assert!(session.read_file(FID_COM, "EF.COM").is_err());
}

#[test]
fn slow_is_left_to_the_transport() {
    let profile = ChipProfile::new(MRZ).with(Misbehaviour::Slow(Duration::from_millis(300)));
    let mut channel = DirectChannel::new(chip(profile));
    assert_eq!(
        channel.chip().response_delay(),
        Some(Duration::from_millis(300))
    );
    let started = std::time::Instant::now();
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    session.read_file(FID_DG1, "DG1").unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "process() itself does not sleep"
    );
}

#[test]
fn a_new_session_after_an_error_starts_over_with_a_plain_select() {
    let profile = ChipProfile::new(MRZ).with(Misbehaviour::BadMac { read: 1 });
    let mut channel = DirectChannel::new(chip(profile));
    let files = held(&channel);
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    assert!(session.read_file(FID_COM, "EF.COM").is_err());
    drop(session);
    // The chip still holds its session; the plain SELECT of the application resets it.
    let mut session = Session::open_bac(&mut channel, keys(), &ReadOptions::default()).unwrap();
    read_everything(&mut session, &files);
}
