//! The slot logic over an in-memory NOR flash: updates, bad images, rollback, power cuts.

extern crate std;

use std::vec;
use std::vec::Vec;

use embedded_hal::digital::{ErrorType, InputPin, OutputPin};
use gate_protocol::{
    BootState, Chunk, Command, Frame, GateEvent, GateMode, Message, NakReason, SlotId,
};
use sha2::{Digest, Sha256};

use super::*;
use crate::{Config, Controller, Event, Leaf, Pins};

/// Sector size of the test flash.
const SECTOR: u32 = 256;

/// What failed in the test flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlashFault {
    /// Past the end.
    OutOfRange,
    /// Write to bytes that are not erased (a bug in the slot logic).
    NotErased,
    /// The power was cut.
    PowerCut,
}

/// A NOR flash in memory: erase to 0xFF, writes only onto erased bytes,
/// and a power cut after a budget of written bytes (the cut write keeps its prefix).
#[derive(Debug, Clone)]
struct MemFlash {
    bytes: Vec<u8>,
    /// Bytes that may still be written before the power goes; `None` = no cut.
    budget: Option<usize>,
}

impl MemFlash {
    /// Two record sectors and two slots of 16 sectors (4 KiB) each.
    fn new() -> Self {
        Self {
            bytes: vec![0xFF; (SECTOR * 34) as usize],
            budget: None,
        }
    }

    fn range(&self, offset: u32, len: usize) -> Result<core::ops::Range<usize>, FlashFault> {
        let start = offset as usize;
        let end = start.checked_add(len).ok_or(FlashFault::OutOfRange)?;
        if end > self.bytes.len() {
            return Err(FlashFault::OutOfRange);
        }
        Ok(start..end)
    }
}

impl Flash for MemFlash {
    type Error = FlashFault;
    fn capacity(&self) -> u32 {
        self.bytes.len() as u32
    }
    fn erase_size(&self) -> u32 {
        SECTOR
    }
    fn erase(&mut self, offset: u32, len: u32) -> Result<(), FlashFault> {
        if self.budget == Some(0) {
            return Err(FlashFault::PowerCut);
        }
        let r = self.range(offset, len as usize)?;
        self.bytes[r].fill(0xFF);
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), FlashFault> {
        let r = self.range(offset, data.len())?;
        if self.bytes[r.clone()].iter().any(|&b| b != 0xFF) {
            return Err(FlashFault::NotErased);
        }
        let allowed = self.budget.map_or(data.len(), |b| b.min(data.len()));
        self.bytes[r.start..r.start + allowed].copy_from_slice(&data[..allowed]);
        if let Some(b) = &mut self.budget {
            *b -= allowed;
            if allowed < data.len() {
                return Err(FlashFault::PowerCut);
            }
        }
        Ok(())
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), FlashFault> {
        let r = self.range(offset, buf.len())?;
        buf.copy_from_slice(&self.bytes[r]);
        Ok(())
    }
}

const HW: u16 = 0x4147;

fn payload(version: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32 ^ version.wrapping_mul(31)) as u8)
        .collect()
}

fn sha(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// A flash with version 1 installed in slot A.
fn factory() -> MemFlash {
    let mut flash = MemFlash::new();
    Slots::install(&mut flash, 1, &payload(1, 1000)).expect("installs");
    flash
}

/// Sends `image` as chunks of `CHUNK_MAX` bytes, stopping after `chunks` of them.
fn send(slots: &mut Slots<MemFlash>, image: &[u8], chunks: usize) -> Result<(), NakReason> {
    for (i, part) in image
        .chunks(gate_protocol::CHUNK_MAX)
        .take(chunks)
        .enumerate()
    {
        let chunk = Chunk::new((i * gate_protocol::CHUNK_MAX) as u32, part).expect("sized");
        slots.write(&chunk)?;
    }
    Ok(())
}

/// A full update to `version` on booted slots; returns the flash after the restart's boot.
fn update(slots: Slots<MemFlash>, version: u32) -> Slots<MemFlash> {
    let mut slots = slots;
    let image = payload(version, 3000);
    slots.begin(version, 3000, sha(&image)).expect("begin");
    send(&mut slots, &image, usize::MAX).expect("chunks");
    slots.finish(sha(&image)).expect("finish");
    Slots::boot(slots.into_flash(), HW).expect("boots")
}

#[test]
fn factory_install_boots_slot_a_confirmed() {
    let slots = Slots::boot(factory(), HW).expect("boots");
    let info = slots.info();
    assert_eq!(info.hardware_id, HW);
    assert_eq!(info.running, 1);
    assert_eq!(info.slot, SlotId::A);
    assert_eq!(info.state, BootState::Confirmed);
    assert_eq!(info.other, 0);
    assert_eq!(slots.slot_size(), 16 * SECTOR);
}

#[test]
fn blank_or_tiny_flash_is_refused() {
    assert!(matches!(
        Slots::boot(MemFlash::new(), HW),
        Err(SlotError::NoFirmware)
    ));
    let tiny = MemFlash {
        bytes: vec![0xFF; (SECTOR * 3) as usize],
        budget: None,
    };
    assert!(matches!(Slots::boot(tiny, HW), Err(SlotError::TooSmall)));
    let mut flash = MemFlash::new();
    assert!(matches!(
        Slots::install(&mut flash, 1, &[]),
        Err(SlotError::TooSmall)
    ));
}

#[test]
fn good_update_boots_the_new_slot_on_trial_then_confirmed() {
    let slots = update(Slots::boot(factory(), HW).expect("boots"), 2);
    let info = slots.info();
    assert_eq!(
        (info.running, info.slot, info.state),
        (2, SlotId::B, BootState::Trial)
    );
    assert_eq!(info.other, 1);
    let mut slots = slots;
    assert!(slots.confirm());
    assert!(!slots.confirm(), "only once");
    assert_eq!(slots.info().state, BootState::Confirmed);
    // Confirmed survives a restart; the next update goes back into slot A.
    let slots = Slots::boot(slots.into_flash(), HW).expect("boots");
    assert_eq!((slots.info().running, slots.info().slot), (2, SlotId::B));
    let mut slots = update(slots, 3);
    assert_eq!((slots.info().running, slots.info().slot), (3, SlotId::A));
    assert!(slots.confirm());
}

#[test]
fn pending_image_is_reported_until_the_restart() {
    let mut slots = Slots::boot(factory(), HW).expect("boots");
    let image = payload(2, 100);
    slots.begin(2, 100, sha(&image)).expect("begin");
    assert!(slots.updating());
    send(&mut slots, &image, usize::MAX).expect("chunks");
    slots.finish(sha(&image)).expect("finish");
    assert!(!slots.updating());
    let info = slots.info();
    assert_eq!(
        (info.running, info.state, info.other),
        (1, BootState::Pending, 2)
    );
}

#[test]
fn bad_hash_never_boots() {
    let mut slots = Slots::boot(factory(), HW).expect("boots");
    let image = payload(2, 3000);
    let mut damaged = image.clone();
    damaged[1234] ^= 0x10;
    slots.begin(2, 3000, sha(&image)).expect("begin");
    send(&mut slots, &damaged, usize::MAX).expect("chunks");
    assert_eq!(slots.finish(sha(&image)), Err(NakReason::HashMismatch));
    assert!(!slots.updating(), "the update ended");
    let slots = Slots::boot(slots.into_flash(), HW).expect("boots");
    assert_eq!((slots.info().running, slots.info().slot), (1, SlotId::A));
    assert_eq!(slots.info().state, BootState::Confirmed);

    // A finish naming another hash than announced is refused too.
    let mut slots = slots;
    slots.begin(2, 3000, sha(&image)).expect("begin");
    send(&mut slots, &image, usize::MAX).expect("chunks");
    assert_eq!(slots.finish([0; 32]), Err(NakReason::HashMismatch));
    let slots = Slots::boot(slots.into_flash(), HW).expect("boots");
    assert_eq!(slots.info().running, 1);
}

#[test]
fn a_pending_slot_damaged_before_the_restart_is_rolled_back_unbooted() {
    let mut slots = Slots::boot(factory(), HW).expect("boots");
    let image = payload(2, 3000);
    slots.begin(2, 3000, sha(&image)).expect("begin");
    send(&mut slots, &image, usize::MAX).expect("chunks");
    slots.finish(sha(&image)).expect("finish");
    let mut flash = slots.into_flash();
    // A bit flips in slot B (starts after the two record sectors and slot A).
    let at = (2 * SECTOR + 16 * SECTOR + 10) as usize;
    flash.bytes[at] &= 0x0F;
    let slots = Slots::boot(flash, HW).expect("boots");
    let info = slots.info();
    assert_eq!(
        (info.running, info.slot, info.state),
        (1, SlotId::A, BootState::RolledBack)
    );
}

#[test]
fn no_confirmation_rolls_back() {
    // The firmware gives up the trial itself.
    let mut slots = update(Slots::boot(factory(), HW).expect("boots"), 2);
    slots.rollback();
    let slots = Slots::boot(slots.into_flash(), HW).expect("boots");
    let info = slots.info();
    assert_eq!(
        (info.running, info.slot, info.state),
        (1, SlotId::A, BootState::RolledBack)
    );
    assert_eq!(info.other, 2, "the failed version is reported");

    // A restart (crash, watchdog reset, power cut) before the confirmation rolls back too.
    let slots = update(slots, 3);
    assert!(slots.on_trial());
    let slots = Slots::boot(slots.into_flash(), HW).expect("boots");
    assert_eq!(
        (slots.info().running, slots.info().state),
        (1, BootState::RolledBack)
    );
    // And it stays rolled back.
    let slots = Slots::boot(slots.into_flash(), HW).expect("boots");
    assert_eq!(slots.info().running, 1);
}

#[test]
fn power_loss_mid_write_keeps_the_old_slot() {
    let mut slots = Slots::boot(factory(), HW).expect("boots");
    let image = payload(2, 3000);
    slots.begin(2, 3000, sha(&image)).expect("begin");
    let total = image.len().div_ceil(gate_protocol::CHUNK_MAX);
    send(&mut slots, &image, total / 2).expect("half the chunks");
    // Power cut: the slots are dropped with the flash as it is.
    let slots = Slots::boot(slots.into_flash(), HW).expect("boots");
    let info = slots.info();
    assert_eq!(
        (info.running, info.slot, info.state),
        (1, SlotId::A, BootState::Confirmed)
    );
    assert!(!slots.updating(), "the half update is gone");
    // A fresh update afterwards works.
    let slots = update(slots, 2);
    assert_eq!(slots.info().running, 2);
}

#[test]
fn power_cut_at_any_byte_of_the_update_never_bricks() {
    let image = payload(2, 700);
    // Bytes written by a whole update: chunks plus one record.
    for cut in (0..image.len() + RECORD_LEN + 1).step_by(7) {
        let mut slots = Slots::boot(factory(), HW).expect("boots");
        let mut flash = slots.into_flash();
        flash.budget = Some(cut);
        slots = Slots::boot(flash, HW).expect("boots");
        let _ = slots.begin(2, 700, sha(&image));
        let _ = send(&mut slots, &image, usize::MAX);
        let _ = slots.finish(sha(&image));
        let mut flash = slots.into_flash();
        flash.budget = None;
        let slots = Slots::boot(flash, HW).expect("a record survives");
        let info = slots.info();
        assert!(
            (info.running, info.slot) == (1, SlotId::A)
                || (info.running, info.state) == (2, BootState::Trial),
            "cut at {cut}: {info:?}"
        );
    }
}

#[test]
fn chunk_and_session_errors() {
    let mut slots = Slots::boot(factory(), HW).expect("boots");
    let c = |offset, data: &[u8]| Chunk::new(offset, data).expect("sized");
    assert_eq!(slots.write(&c(0, b"abc")), Err(NakReason::NoUpdate));
    assert_eq!(slots.finish([0; 32]), Err(NakReason::NoUpdate));
    assert_eq!(slots.begin(2, 0, [0; 32]), Err(NakReason::TooLarge));
    assert_eq!(
        slots.begin(2, 16 * SECTOR + 1, [0; 32]),
        Err(NakReason::TooLarge)
    );
    slots.begin(2, 6, sha(b"abcdef")).expect("begin");
    assert_eq!(
        slots.write(&c(3, b"def")),
        Err(NakReason::BadOffset),
        "out of order"
    );
    slots.write(&c(0, b"abc")).expect("first");
    assert_eq!(
        slots.write(&c(3, b"defg")),
        Err(NakReason::BadOffset),
        "past the length"
    );
    assert_eq!(
        slots.write(&c(0, b"abc")),
        Err(NakReason::BadOffset),
        "again"
    );
    assert_eq!(slots.write(&c(u32::MAX, b"abc")), Err(NakReason::BadOffset));
    assert_eq!(
        slots.finish(sha(b"abcdef")),
        Err(NakReason::BadOffset),
        "not all written"
    );
    slots.begin(2, 6, sha(b"abcdef")).expect("begin again");
    slots.write(&c(0, b"abcdef")).expect("all");
    slots.abort();
    assert_eq!(slots.finish(sha(b"abcdef")), Err(NakReason::NoUpdate));
    // On trial, no update until confirmed.
    let mut slots = update(slots, 2);
    assert_eq!(slots.begin(3, 6, [0; 32]), Err(NakReason::InvalidInMode));
    assert!(slots.confirm());
    assert_eq!(slots.begin(3, 6, [0; 32]), Ok(()));
}

#[test]
fn flash_failure_during_a_write_is_storage_and_ends_the_update() {
    let mut slots = Slots::boot(factory(), HW).expect("boots");
    let mut flash = slots.into_flash();
    flash.budget = Some(100);
    slots = Slots::boot(flash, HW).expect("boots");
    let image = payload(2, 3000);
    slots.begin(2, 3000, sha(&image)).expect("begin");
    assert_eq!(
        send(&mut slots, &image, usize::MAX),
        Err(NakReason::Storage)
    );
    assert!(!slots.updating());
}

// --- The controller with slots, on pins that always work. ---

/// A pin that holds a level (shared by clones).
#[derive(Debug, Clone, Default)]
struct Level(std::rc::Rc<core::cell::Cell<bool>>);

impl ErrorType for Level {
    type Error = core::convert::Infallible;
}
impl OutputPin for Level {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0.set(false);
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.0.set(true);
        Ok(())
    }
}
impl InputPin for Level {
    fn is_high(&mut self) -> Result<bool, Self::Error> {
        Ok(self.0.get())
    }
    fn is_low(&mut self) -> Result<bool, Self::Error> {
        Ok(!self.0.get())
    }
}

fn level(high: bool) -> Level {
    let l = Level::default();
    l.0.set(high);
    l
}

/// Pins of a gate at rest (both closed, beams clear, alarm loop healthy); the zone beam and the exit lock handed back.
fn pins() -> (Pins<Level, Level>, Level, Level) {
    let leaf = || Leaf {
        drive: level(false),
        lock: level(true),
        open_switch: level(false),
        closed_switch: level(true),
    };
    let zone = level(false);
    let exit = leaf();
    let exit_lock = exit.lock.clone();
    (
        Pins {
            entry: leaf(),
            exit,
            red: level(false),
            green: level(false),
            amber: level(false),
            beam_entry: level(false),
            beam_zone: zone.clone(),
            beam_exit: level(false),
            alarm_ok: level(true),
        },
        zone,
        exit_lock,
    )
}

type Gate = Controller<Level, Level, MemFlash>;

fn gate(flash: MemFlash) -> (Gate, Level, Level) {
    let (pins, zone, exit_lock) = pins();
    let slots = Slots::boot(flash, HW).expect("boots");
    let config = Config {
        watchdog_ms: 60_000,
        confirm_ms: 5_000,
        ..Config::default()
    };
    let c = Controller::with_firmware(pins, config, slots, 0).expect("starts");
    (c, zone, exit_lock)
}

/// Sends one command, returns every frame the controller emitted.
fn cmd(c: &mut Gate, seq: u16, command: Command, now: u64) -> Vec<Message> {
    let mut out = Vec::new();
    c.handle(
        Event::Frame(Frame {
            seq,
            message: Message::Command(command),
        }),
        now,
        |f| out.push(f.message),
    )
    .expect("pins never fail");
    out
}

fn acked(out: &[Message], seq: u16) -> bool {
    out.contains(&Message::Ack { seq })
}

fn nak(out: &[Message]) -> Option<NakReason> {
    out.iter().find_map(|m| match m {
        Message::Nak { reason, .. } => Some(*reason),
        _ => None,
    })
}

/// Begin, chunks, finish through the controller; returns the next sequence number.
fn flash_through(c: &mut Gate, image: &[u8], version: u32, mut seq: u16) -> u16 {
    let out = cmd(
        c,
        seq,
        Command::BeginUpdate {
            version,
            length: image.len() as u32,
            hash: sha(image),
        },
        10,
    );
    assert!(acked(&out, seq), "{out:?}");
    for (i, part) in image.chunks(gate_protocol::CHUNK_MAX).enumerate() {
        seq += 1;
        let chunk = Chunk::new((i * gate_protocol::CHUNK_MAX) as u32, part).expect("sized");
        assert!(acked(&cmd(c, seq, Command::WriteChunk(chunk), 20), seq));
    }
    seq += 1;
    let out = cmd(c, seq, Command::FinishUpdate { hash: sha(image) }, 30);
    assert!(acked(&out, seq), "{out:?}");
    seq + 1
}

/// Restarts the board as the MCU would: boot loader, then a fresh controller.
fn restart(c: Gate) -> Gate {
    let (_, slots) = c.into_parts();
    gate(slots.expect("has slots").into_flash()).0
}

#[test]
fn controller_update_confirmed_by_the_first_heartbeat() {
    let (mut c, _, _) = gate(factory());
    let out = cmd(&mut c, 0, Command::QueryFirmware, 1);
    assert!(
        out.iter()
            .any(|m| matches!(m, Message::Event(GateEvent::Firmware(i)) if i.running == 1))
    );
    let image = payload(2, 500);
    flash_through(&mut c, &image, 2, 1);
    assert!(c.reboot_requested());
    let mut c = restart(c);
    assert_eq!(
        c.firmware().map(|i| (i.running, i.state)),
        Some((2, BootState::Trial))
    );
    cmd(&mut c, 900, Command::Heartbeat, 100);
    assert_eq!(c.firmware().map(|i| i.state), Some(BootState::Confirmed));
    c.handle(Event::Tick, 10_000, |_| {}).expect("tick");
    assert!(!c.reboot_requested(), "confirmed: no rollback");
}

#[test]
fn controller_rolls_back_without_a_heartbeat() {
    let (mut c, _, _) = gate(factory());
    flash_through(&mut c, &payload(2, 500), 2, 0);
    let mut c = restart(c);
    c.handle(Event::Tick, 4_000, |_| {}).expect("tick");
    assert!(!c.reboot_requested(), "still within confirm_ms");
    // Other commands do not confirm.
    cmd(&mut c, 0, Command::QueryStatus, 4_500);
    c.handle(Event::Tick, 5_001, |_| {}).expect("tick");
    assert!(c.reboot_requested());
    let c = restart(c);
    let info = c.firmware().expect("slots");
    assert_eq!(
        (info.running, info.state, info.other),
        (1, BootState::RolledBack, 2)
    );
}

#[test]
fn update_refused_while_a_traveller_is_in_the_lane() {
    let (mut c, zone, _) = gate(factory());
    zone.0.set(true);
    c.handle(Event::Sensors, 1, |_| {}).expect("sample");
    let out = cmd(
        &mut c,
        0,
        Command::BeginUpdate {
            version: 2,
            length: 10,
            hash: [0; 32],
        },
        2,
    );
    assert_eq!(nak(&out), Some(NakReason::ZoneOccupied));
    assert_eq!(c.mode(), GateMode::Closed, "the refusal changed nothing");
    // During a passage (entry open) it is refused too.
    zone.0.set(false);
    c.handle(Event::Sensors, 3, |_| {}).expect("sample");
    assert!(acked(&cmd(&mut c, 1, Command::OpenEntry, 4), 1));
    let out = cmd(
        &mut c,
        2,
        Command::BeginUpdate {
            version: 2,
            length: 10,
            hash: [0; 32],
        },
        5,
    );
    assert_eq!(nak(&out), Some(NakReason::InvalidInMode));
}

#[test]
fn during_an_update_the_gate_stays_safe() {
    let (mut c, _, exit_lock) = gate(factory());
    let out = cmd(
        &mut c,
        0,
        Command::BeginUpdate {
            version: 2,
            length: 100,
            hash: [0; 32],
        },
        1,
    );
    assert!(acked(&out, 0));
    assert_eq!(c.mode(), GateMode::SafeState);
    assert!(exit_lock.0.get(), "exit locked");
    for (seq, command) in [
        (1, Command::CloseEntry),
        (2, Command::OpenEntry),
        (3, Command::OpenExit { passage_id: 1 }),
        (4, Command::CloseExit),
    ] {
        assert_eq!(
            nak(&cmd(&mut c, seq, command, 2)),
            Some(NakReason::Updating),
            "{command:?}"
        );
    }
    assert_eq!(c.mode(), GateMode::SafeState);
    // Abort ends it; the lane can be put back into service.
    assert!(acked(&cmd(&mut c, 5, Command::AbortUpdate, 3), 5));
    assert!(acked(&cmd(&mut c, 6, Command::CloseEntry, 4), 6));
    assert_eq!(c.mode(), GateMode::Closed);
}

#[test]
fn a_retransmitted_chunk_is_written_once() {
    let (mut c, _, _) = gate(factory());
    let image = payload(2, 100);
    assert!(acked(
        &cmd(
            &mut c,
            0,
            Command::BeginUpdate {
                version: 2,
                length: 100,
                hash: sha(&image)
            },
            1
        ),
        0
    ));
    let first = Command::WriteChunk(Chunk::new(0, &image[..64]).expect("sized"));
    assert!(acked(&cmd(&mut c, 1, first, 2), 1));
    assert!(
        acked(&cmd(&mut c, 1, first, 3), 1),
        "the repeat is answered again"
    );
    let second = Command::WriteChunk(Chunk::new(64, &image[64..]).expect("sized"));
    assert!(acked(&cmd(&mut c, 2, second, 4), 2));
    assert!(acked(
        &cmd(&mut c, 3, Command::FinishUpdate { hash: sha(&image) }, 5),
        3
    ));
}

#[test]
fn a_controller_without_slots_refuses_updates() {
    let (pins, _, _) = pins();
    let mut c = Controller::new(pins, Config::default(), 0).expect("starts");
    let mut out = Vec::new();
    for (seq, command) in [
        (0, Command::QueryFirmware),
        (
            1,
            Command::BeginUpdate {
                version: 2,
                length: 1,
                hash: [0; 32],
            },
        ),
        (2, Command::WriteChunk(Chunk::new(0, b"x").expect("sized"))),
    ] {
        c.handle(
            Event::Frame(Frame {
                seq,
                message: Message::Command(command),
            }),
            1,
            |f| out.push(f.message),
        )
        .expect("pins never fail");
    }
    let naks: Vec<_> = out
        .iter()
        .filter_map(|m| match m {
            Message::Nak { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect();
    assert_eq!(naks, [NakReason::Unsupported; 3]);
    assert_eq!(c.firmware(), None);
}

#[test]
fn a_repeated_query_gets_its_report_again() {
    let (mut c, _, _) = gate(factory());
    let report = |out: &[Message]| {
        out.iter()
            .filter(|m| matches!(m, Message::Event(GateEvent::Firmware(_))))
            .count()
    };
    let first = cmd(&mut c, 5, Command::QueryFirmware, 1);
    assert!(acked(&first, 5));
    assert_eq!(report(&first), 1);
    let again = cmd(&mut c, 5, Command::QueryFirmware, 2);
    assert!(acked(&again, 5));
    assert_eq!(report(&again), 1, "the lost report is sent again");
}
