//! The read path as deployed: icao9303 over `PcscChannel` over the `pcsc`
//! crate over a running pcscd, whose vpcd reader holds a virtual chip.
//!
//! Needs pcscd with vsmartcard-vpcd (`scripts/test.sh` starts it). The tests
//! share the one virtual reader, so each takes a lock for its whole run.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use card_reader::{ConnectOptions, PcscChannel, Readers};
use icao9303::bac::BacKeys;
use icao9303::document::read_document;
use icao9303::lds::{DataGroup, Dg1, Dg2, FileId};
use icao9303::pace::Password;
use icao9303::session::{AccessProtocol, ReadOptions, Session};
use icao9303::{CardFault, ChannelErrorKind, Error};
use virtual_emrtd::{ChipProfile, CommandKind, Misbehaviour, PaceConfig, VirtualChip, VpcdCard};

const READER: &str = "Virtual PCD 00 00";
const VPCD: &str = "127.0.0.1:35963";
const MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
const OTHER_MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nX123456785UTO7408122F1204159ZE184226B<<<<<12";

static READER_LOCK: Mutex<()> = Mutex::new(());

/// A virtual chip on the reader, with the reader to itself.
struct OnReader {
    readers: Readers,
    card: Option<VpcdCard>,
    chip_files: Vec<(FileId, Vec<u8>)>,
    _lock: MutexGuard<'static, ()>,
}

fn insert(profile: ChipProfile) -> OnReader {
    let lock = READER_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let readers = Readers::establish().expect("pcscd is running (scripts/test.sh starts it)");
    readers
        .wait_for_removal(READER, Duration::from_secs(5))
        .expect("the previous card left the reader");
    let chip = VirtualChip::new(profile).expect("valid chip profile");
    let chip_files = [
        FileId::Com,
        FileId::Dg(DataGroup::Dg1),
        FileId::Dg(DataGroup::Dg2),
        FileId::Sod,
    ]
    .into_iter()
    .filter_map(|f| chip.file(f.file_id()).map(|b| (f, b.to_vec())))
    .collect();
    let addr: SocketAddr = VPCD.parse().unwrap();
    let card = virtual_emrtd::connect(chip, addr).expect("vpcd listens on 35963");
    readers
        .wait_for_card(READER, Duration::from_secs(5))
        .expect("pcscd sees the card");
    OnReader {
        readers,
        card: Some(card),
        chip_files,
        _lock: lock,
    }
}

impl OnReader {
    fn connect(&self, timeout: Duration) -> PcscChannel {
        let opts = ConnectOptions {
            transmit_timeout: timeout,
            ..ConnectOptions::default()
        };
        self.readers
            .connect(READER, &opts)
            .expect("connect to the virtual card")
    }

    fn open(&self, mrz: &str) -> Result<Session<PcscChannel>, Error> {
        let keys =
            BacKeys::from_mrz(&icao9303::mrz::parse(mrz, Default::default()).unwrap()).unwrap();
        Session::open_bac(
            self.connect(Duration::from_secs(5)),
            keys,
            &ReadOptions::default(),
        )
    }

    fn remove(&mut self) {
        if let Some(card) = self.card.take() {
            card.remove().expect("card removed cleanly");
        }
        self.readers
            .wait_for_removal(READER, Duration::from_secs(5))
            .expect("pcscd sees the card leave");
    }
}

impl Drop for OnReader {
    fn drop(&mut self) {
        if let Some(card) = self.card.take() {
            let _ = card.remove();
        }
    }
}

fn read_all(
    on: &OnReader,
) -> Result<(Session<PcscChannel>, icao9303::document::DocumentRead), Error> {
    let mut session = on.open(MRZ)?;
    let doc = read_document(&mut session)?;
    Ok((session, doc))
}

fn assert_identical(on: &OnReader, doc: &icao9303::document::DocumentRead) {
    for (file, bytes) in &on.chip_files {
        assert_eq!(
            doc.bytes(*file),
            Some(bytes.as_slice()),
            "{} differs",
            file.name()
        );
    }
}

#[test]
fn lists_the_virtual_reader() {
    let _on = insert(ChipProfile::new(MRZ));
    let names = Readers::establish().unwrap().list().unwrap();
    assert!(names.iter().any(|n| n == READER), "{names:?}");
}

#[test]
fn reads_every_file_byte_for_byte() {
    let on = insert(ChipProfile::new(MRZ));
    let (session, doc) = read_all(&on).unwrap();
    assert_eq!(doc.com.data_groups, [DataGroup::Dg1, DataGroup::Dg2]);
    assert_identical(&on, &doc);
    let dg1 = Dg1::parse(doc.bytes(FileId::Dg(DataGroup::Dg1)).unwrap()).unwrap();
    assert_eq!(dg1.parse_mrz().unwrap().document_number, "L898902C3");
    let dg2 = Dg2::parse(doc.bytes(FileId::Dg(DataGroup::Dg2)).unwrap()).unwrap();
    let face = dg2.face().unwrap();
    assert_eq!(face.format, icao9303::lds::ImageFormat::Jpeg);
    assert_eq!(&face.data[..3], &[0xFF, 0xD8, 0xFF]);
    assert_eq!(session.reauthentications(), 0);
}

#[test]
fn short_apdus_only_when_the_chip_lacks_extended_length() {
    let on = insert(ChipProfile::new(MRZ).with_extended_length(false));
    let channel = on.connect(Duration::from_secs(5));
    assert!(!icao9303::CardChannel::supports_extended_length(&channel));
    drop(channel);
    let (session, doc) = read_all(&on).unwrap();
    assert_identical(&on, &doc);
    assert!(
        session.read_size() <= 231,
        "short reads, got {}",
        session.read_size()
    );
}

#[test]
fn files_above_32k_are_read_with_odd_ins() {
    for extended in [false, true] {
        let on = insert(
            ChipProfile::new(MRZ)
                .with_extended_length(extended)
                .with_dg2_min_size(40_000),
        );
        let (_, doc) = read_all(&on).unwrap();
        let dg2 = doc.bytes(FileId::Dg(DataGroup::Dg2)).unwrap();
        assert!(dg2.len() >= 40_000);
        assert_identical(&on, &doc);
    }
}

#[test]
fn wrong_mrz_is_access_denied() {
    let on = insert(ChipProfile::new(MRZ));
    let err = on.open(OTHER_MRZ).unwrap_err();
    assert!(matches!(err, Error::AccessDenied(_)), "{err:?}");
}

#[test]
fn bad_response_mac_is_caught() {
    let on = insert(ChipProfile::new(MRZ).with(Misbehaviour::BadMac { read: 3 }));
    let err = read_all(&on).unwrap_err();
    assert_eq!(err, Error::CardMisbehaved(CardFault::BadMac));
}

#[test]
fn wrong_status_word_is_reported() {
    let on = insert(ChipProfile::new(MRZ).with(Misbehaviour::WrongSw {
        on: CommandKind::ReadBinary { fid: Some(0x0101) },
        sw: 0x6F00,
    }));
    let err = read_all(&on).unwrap_err();
    assert!(matches!(err, Error::Status { sw: 0x6F00, .. }), "{err:?}");
}

#[test]
fn a_refused_data_group_is_recorded_and_the_rest_still_read() {
    // Both ways a chip refuses a file: to a SELECT (chips without short
    // file identifiers) and to a READ BINARY by short file identifier.
    for profile in [
        ChipProfile::new(MRZ)
            .with(Misbehaviour::NoShortFileIds)
            .with(Misbehaviour::WrongSw {
                on: CommandKind::SelectFile { fid: Some(0x0102) },
                sw: 0x6982,
            }),
        ChipProfile::new(MRZ).with(Misbehaviour::WrongSw {
            on: CommandKind::ReadBinary { fid: Some(0x0102) },
            sw: 0x6982,
        }),
    ] {
        refused_dg2_is_recorded(profile);
    }
}

fn refused_dg2_is_recorded(profile: ChipProfile) {
    let on = insert(profile);
    let (_, doc) = read_all(&on).unwrap();
    let dg2 = doc
        .files
        .iter()
        .find(|f| f.file == FileId::Dg(DataGroup::Dg2))
        .unwrap();
    assert_eq!(dg2.outcome, Err(0x6982));
    assert!(doc.bytes(FileId::Sod).is_some());
}

#[test]
fn truncated_file_is_a_short_file_error() {
    let on = insert(ChipProfile::new(MRZ).with(Misbehaviour::TruncatedFile { missing: 100 }));
    let err = read_all(&on).unwrap_err();
    assert!(
        matches!(
            err,
            Error::CardMisbehaved(CardFault::ShortFile { what: "DG2", .. })
        ),
        "{err:?}"
    );
}

#[test]
fn oversized_length_is_refused_before_reading() {
    let on = insert(ChipProfile::new(MRZ).with(Misbehaviour::OversizedLength));
    let err = read_all(&on).unwrap_err();
    assert!(
        matches!(&err, Error::Parse(p) if matches!(p.kind, icao9303::ParseErrorKind::TooLong(_))),
        "{err:?}"
    );
}

#[test]
fn refused_long_reads_fall_back_keeping_the_session() {
    let on = insert(ChipProfile::new(MRZ).with_extended_length(false).with(
        Misbehaviour::RefuseReadsAbove {
            max: 200,
            drop_session: false,
        },
    ));
    let (session, doc) = read_all(&on).unwrap();
    assert_identical(&on, &doc);
    assert!(session.read_size() <= 200);
    assert_eq!(session.reauthentications(), 0);
}

#[test]
fn refused_long_reads_fall_back_after_a_dropped_session() {
    let on = insert(ChipProfile::new(MRZ).with_extended_length(false).with(
        Misbehaviour::RefuseReadsAbove {
            max: 200,
            drop_session: true,
        },
    ));
    let (session, doc) = read_all(&on).unwrap();
    assert_identical(&on, &doc);
    assert!(session.read_size() <= 200);
    assert!(session.reauthentications() > 0);
}

#[test]
fn chip_that_announces_but_refuses_extended_length_is_read_short() {
    let on = insert(ChipProfile::new(MRZ).with(Misbehaviour::NoExtendedLength));
    let (session, doc) = read_all(&on).unwrap();
    assert_identical(&on, &doc);
    assert!(session.read_size() <= 231);
}

#[test]
fn slow_chip_within_the_time_limit_is_read() {
    let on = insert(ChipProfile::new(MRZ).with(Misbehaviour::Slow(Duration::from_millis(30))));
    let (_, doc) = read_all(&on).unwrap();
    assert_identical(&on, &doc);
}

#[test]
fn chip_slower_than_the_time_limit_times_out() {
    let on = insert(ChipProfile::new(MRZ).with(Misbehaviour::Slow(Duration::from_millis(1500))));
    let mut channel = on.connect(Duration::from_millis(300));
    let err =
        icao9303::CardChannel::transmit(&mut channel, &[0x00, 0x84, 0x00, 0x00, 0x08]).unwrap_err();
    assert_eq!(err.kind, ChannelErrorKind::Timeout);
    // The channel stays failed: no command can slip through after a timeout.
    let err =
        icao9303::CardChannel::transmit(&mut channel, &[0x00, 0x84, 0x00, 0x00, 0x08]).unwrap_err();
    assert_eq!(err.kind, ChannelErrorKind::Timeout);
}

#[test]
fn chip_that_never_answers_times_out() {
    let on = insert(ChipProfile::new(MRZ).with(Misbehaviour::NeverAnswer));
    let keys = BacKeys::from_mrz(&icao9303::mrz::parse(MRZ, Default::default()).unwrap()).unwrap();
    let mut session = Session::open_bac(
        on.connect(Duration::from_millis(500)),
        keys,
        &ReadOptions::default(),
    )
    .unwrap();
    let err = read_document(&mut session).unwrap_err();
    assert!(
        matches!(&err, Error::Channel(c) if c.kind == ChannelErrorKind::Timeout),
        "{err:?}"
    );
}

#[test]
fn card_pulled_out_is_reported_as_removed() {
    let mut on = insert(ChipProfile::new(MRZ));
    let mut session = on.open(MRZ).unwrap();
    on.remove();
    let err = session.read_file(0x011E, "EF.COM").unwrap_err();
    assert!(
        matches!(&err, Error::Channel(c) if c.kind == ChannelErrorKind::CardRemoved),
        "{err:?}"
    );
}

#[test]
fn waiting_for_a_card_times_out_on_an_empty_reader() {
    let mut on = insert(ChipProfile::new(MRZ));
    on.remove();
    let err = on
        .readers
        .wait_for_card(READER, Duration::from_millis(300))
        .unwrap_err();
    assert_eq!(err.kind, ChannelErrorKind::Timeout);
}

#[test]
fn unknown_reader_is_unavailable() {
    let readers = Readers::establish().unwrap();
    let err = readers
        .wait_for_card("No Such Reader 99", Duration::from_millis(200))
        .unwrap_err();
    assert_eq!(err.kind, ChannelErrorKind::ReaderUnavailable);
}

const PACE_ECDH_GM_AES128: &str = "0.4.0.127.0.7.2.2.4.2.2";

fn pace_chip(parameter_id: u32, can: Option<&str>, bac_enabled: bool) -> ChipProfile {
    let mut config = PaceConfig::new(PACE_ECDH_GM_AES128, parameter_id);
    config.can = can.map(str::to_owned);
    config.bac_enabled = bac_enabled;
    ChipProfile::new(MRZ).with_pace(config)
}

fn open_with(on: &OnReader, password: Password) -> Result<Session<PcscChannel>, Error> {
    Session::open(
        on.connect(Duration::from_secs(5)),
        password,
        &ReadOptions::default(),
    )
}

fn mrz_password(mrz: &str) -> Password {
    Password::from_mrz(&icao9303::mrz::parse(mrz, Default::default()).unwrap()).unwrap()
}

#[test]
fn pace_chip_is_opened_with_pace_and_read_byte_for_byte() {
    for parameter_id in [12, 13] {
        let on = insert(pace_chip(parameter_id, None, true));
        let mut session = open_with(&on, mrz_password(MRZ)).unwrap();
        assert!(
            matches!(session.protocol(), AccessProtocol::Pace { parameter_id: p, .. } if p == parameter_id),
            "{:?}",
            session.protocol()
        );
        let doc = read_document(&mut session).unwrap();
        assert_identical(&on, &doc);
    }
}

#[test]
fn pace_only_chip_with_a_can() {
    let on = insert(pace_chip(12, Some("123456"), false));
    let mut session = open_with(&on, Password::Can("123456".into())).unwrap();
    let doc = read_document(&mut session).unwrap();
    assert_identical(&on, &doc);
    drop(session);
    let err = open_with(&on, Password::Can("654321".into())).unwrap_err();
    assert!(matches!(err, Error::AccessDenied(_)), "{err:?}");
}

#[test]
fn bac_only_chip_falls_back_to_bac() {
    let on = insert(ChipProfile::new(MRZ));
    let session = open_with(&on, mrz_password(MRZ)).unwrap();
    assert_eq!(session.protocol(), AccessProtocol::Bac);
}

#[test]
fn pace_chip_that_lies_in_its_token_is_refused() {
    let on = insert(pace_chip(12, None, true).with(Misbehaviour::LyingToken));
    let err = open_with(&on, mrz_password(MRZ)).unwrap_err();
    assert!(matches!(err, Error::AccessDenied(_)), "{err:?}");
}

#[test]
fn pace_with_the_wrong_mrz_is_access_denied() {
    let on = insert(pace_chip(13, None, false));
    let err = open_with(&on, mrz_password(OTHER_MRZ)).unwrap_err();
    assert!(matches!(err, Error::AccessDenied(_)), "{err:?}");
}
