//! `GateLink::flash` against the real controller logic with firmware slots
//! (`gate-sim`), over an in-memory link: a good update, a lost chunk,
//! refusals before any update frame, a NAK mid-way, a crashing image.
#![allow(clippy::unwrap_used)]

use std::io;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use embedded_io::{ErrorType, Read, Write};
use gate::firmware::{FlashConfig, FlashError, FlashProgress, FlashStage, verify};
use gate::{BootState, GateError, GateLink, LinkConfig, NakReason, SlotId};
use gate_protocol::ImageError;
use gate_sim::{Board, Config, End, HARDWARE_ID, SimFirmware, SimGate, duplex, signed_image};

fn vendor() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

fn relaxed() -> Config {
    Config {
        watchdog_ms: 10_000,
        ..Config::default()
    }
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn config() -> FlashConfig {
    FlashConfig {
        boot_timeout: Duration::from_secs(10),
        ..FlashConfig::default()
    }
}

fn setup(firmware: SimFirmware) -> (GateLink<End>, SimGate) {
    let (kiosk, gate_io) = duplex();
    let gate = SimGate::spawn_updatable(gate_io, Board::new(), relaxed(), firmware);
    (GateLink::new(kiosk, LinkConfig::default()), gate)
}

#[test]
fn a_good_image_is_flashed_booted_and_confirmed() {
    let (mut link, gate) = setup(SimFirmware::factory(1).unwrap());
    let bytes = signed_image(&vendor(), HARDWARE_ID, 2, &payload(5000));
    let image = verify(&bytes, &vendor().verifying_key()).unwrap();
    let mut seen = Vec::new();
    let report = link.flash(&image, &config(), |p| seen.push(p)).unwrap();
    assert_eq!(report.version, 2);
    assert_eq!(report.slot, SlotId::B);
    assert_eq!(report.previous, 1);
    assert_eq!(seen.first(), Some(&FlashProgress::Started { running: 1 }));
    assert!(seen.contains(&FlashProgress::Writing {
        written: 5000,
        total: 5000
    }));
    assert!(seen.contains(&FlashProgress::Verifying));
    assert_eq!(seen.last(), Some(&FlashProgress::Confirmed { version: 2 }));
    let info = gate.firmware().unwrap();
    assert_eq!(
        (info.running, info.state, info.other),
        (2, BootState::Confirmed, 1)
    );
    assert_eq!(gate.boots(), 2, "one restart into the new slot");
    assert_eq!(gate.failure(), None);
}

/// Drops the `n`th frame the kiosk writes (each `write_all` of `GateLink` is one frame).
struct DropOne {
    inner: End,
    writes: usize,
    drop_at: usize,
}

impl ErrorType for DropOne {
    type Error = io::Error;
}
impl Read for DropOne {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        self.inner.read(buf)
    }
}
impl Write for DropOne {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        self.writes += 1;
        if self.writes == self.drop_at {
            return Ok(buf.len());
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> Result<(), io::Error> {
        self.inner.flush()
    }
}

#[test]
fn a_lost_chunk_is_sent_again_and_the_flash_succeeds() {
    let (kiosk, gate_io) = duplex();
    let gate = SimGate::spawn_updatable(
        gate_io,
        Board::new(),
        relaxed(),
        SimFirmware::factory(1).unwrap(),
    );
    // Write 1 is the query, 2 the begin, 10 a chunk in the middle.
    let io = DropOne {
        inner: kiosk,
        writes: 0,
        drop_at: 10,
    };
    let mut link = GateLink::new(io, LinkConfig::default());
    let bytes = signed_image(&vendor(), HARDWARE_ID, 2, &payload(2000));
    let image = verify(&bytes, &vendor().verifying_key()).unwrap();
    let report = link.flash(&image, &config(), |_| {}).unwrap();
    assert_eq!(report.version, 2);
    assert_eq!(gate.firmware().unwrap().running, 2);
}

#[test]
fn wrong_hardware_is_refused_before_any_update_frame() {
    let (mut link, gate) = setup(SimFirmware::factory(1).unwrap());
    let bytes = signed_image(&vendor(), 0x1234, 2, &payload(100));
    let image = verify(&bytes, &vendor().verifying_key()).unwrap();
    let err = link.flash(&image, &config(), |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            FlashError::Refused {
                error: ImageError::WrongHardware {
                    expected: HARDWARE_ID,
                    actual: 0x1234
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.running(), Some(1));
    assert_eq!(gate.update_frames(), 0);
}

#[test]
fn a_downgrade_is_refused_unless_allowed() {
    let (mut link, gate) = setup(SimFirmware::factory(5).unwrap());
    let bytes = signed_image(&vendor(), HARDWARE_ID, 4, &payload(100));
    let image = verify(&bytes, &vendor().verifying_key()).unwrap();
    let err = link.flash(&image, &config(), |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            FlashError::Refused {
                error: ImageError::Downgrade {
                    installed: 5,
                    offered: 4
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(gate.update_frames(), 0);
    let allow = FlashConfig {
        allow_downgrade: true,
        ..config()
    };
    assert_eq!(link.flash(&image, &allow, |_| {}).unwrap().version, 4);
}

#[test]
fn a_nak_mid_way_fails_and_the_old_firmware_keeps_running() {
    let firmware = SimFirmware::factory(1).unwrap();
    firmware.flash.fail_after(2048);
    let (mut link, gate) = setup(firmware);
    let bytes = signed_image(&vendor(), HARDWARE_ID, 2, &payload(5000));
    let image = verify(&bytes, &vendor().verifying_key()).unwrap();
    let mut written = 0;
    let err = link
        .flash(&image, &config(), |p| {
            if let FlashProgress::Writing { written: w, .. } = p {
                written = w;
            }
        })
        .unwrap_err();
    match &err {
        FlashError::Failed {
            stage: FlashStage::Write { offset },
            error: GateError::Nak { reason, .. },
            running,
        } => {
            assert_eq!(*reason, NakReason::Storage);
            assert_eq!(*offset, 2048);
            assert_eq!(
                running.map(|i| (i.running, i.state)),
                Some((1, BootState::Confirmed))
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(written, 2048);
    assert_eq!(err.running(), Some(1));
    assert_eq!(gate.firmware().unwrap().running, 1);
    assert_eq!(gate.boots(), 1, "never restarted");
}

#[test]
fn an_image_that_crashes_at_boot_is_rolled_back() {
    let mut firmware = SimFirmware::factory(1).unwrap();
    firmware.crashing.push(2);
    let (mut link, gate) = setup(firmware);
    let bytes = signed_image(&vendor(), HARDWARE_ID, 2, &payload(1000));
    let image = verify(&bytes, &vendor().verifying_key()).unwrap();
    let err = link.flash(&image, &config(), |_| {}).unwrap_err();
    match err {
        FlashError::RolledBack {
            offered: 2,
            running,
        } => {
            assert_eq!(
                (running.running, running.slot, running.state, running.other),
                (1, SlotId::A, BootState::RolledBack, 2)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(gate.firmware().unwrap().running, 1);
}

#[test]
fn an_update_is_refused_while_a_traveller_is_in_the_lane() {
    let (mut link, gate) = setup(SimFirmware::factory(1).unwrap());
    gate.beams(false, true, false).unwrap();
    let bytes = signed_image(&vendor(), HARDWARE_ID, 2, &payload(100));
    let image = verify(&bytes, &vendor().verifying_key()).unwrap();
    let err = link.flash(&image, &config(), |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            FlashError::Failed {
                stage: FlashStage::Begin,
                error: GateError::Nak {
                    reason: NakReason::ZoneOccupied,
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.running(), Some(1));
}

#[test]
fn a_gate_without_slots_says_so() {
    let (kiosk, gate_io) = duplex();
    let _gate = SimGate::spawn(gate_io, Board::new(), relaxed());
    let mut link = GateLink::new(kiosk, LinkConfig::default());
    let bytes = signed_image(&vendor(), HARDWARE_ID, 2, &payload(100));
    let image = verify(&bytes, &vendor().verifying_key()).unwrap();
    let err = link.flash(&image, &config(), |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            FlashError::Query(GateError::Nak {
                reason: NakReason::Unsupported,
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn a_restarted_kiosk_can_flash_again_at_once() {
    // Default watchdog (2 s): the second link starts at sequence 0 inside the first one's session.
    let (kiosk, gate_io) = duplex();
    let gate = SimGate::spawn_updatable(
        gate_io,
        Board::new(),
        Config::default(),
        SimFirmware::factory(1).unwrap(),
    );
    let mut link = GateLink::new(kiosk, LinkConfig::default());
    let bytes = signed_image(&vendor(), HARDWARE_ID, 2, &payload(700));
    let image = verify(&bytes, &vendor().verifying_key()).unwrap();
    assert_eq!(link.flash(&image, &config(), |_| {}).unwrap().version, 2);
    let mut link = GateLink::new(link.into_inner(), LinkConfig::default());
    let bytes = signed_image(&vendor(), HARDWARE_ID, 3, &payload(900));
    let image = verify(&bytes, &vendor().verifying_key()).unwrap();
    assert_eq!(link.flash(&image, &config(), |_| {}).unwrap().version, 3);
    assert_eq!(gate.firmware().unwrap().running, 3);
}
