//! A/B firmware slots over a flash-like device: update, verify, boot, confirm, roll back.
//!
//! # Layout
//!
//! ```text
//! sector 0          boot record copy 0
//! sector 1          boot record copy 1
//! slot A            (capacity − 2 sectors) / 2, whole sectors
//! slot B            the same size, after slot A
//! ```
//!
//! The boot record says which slot is confirmed (`active`), the state of
//! the other one ([`BootState`]) and, for each slot, the version, length and
//! SHA-256 of its image. It is written to the copy that does not hold the
//! current record, with a counter one higher and a CRC, so a power cut while
//! writing it leaves the previous record in force. A new image is written
//! only into the slot that is not running, and the record names it only
//! after its hash was checked: a power cut during an update never touches
//! what boots.
//!
//! # States
//!
//! - `Confirmed`: boot `active`.
//! - `Pending` (after [`Slots::finish`]): at the next boot, hash the other
//!   slot again; if it matches, record `Trying` and boot it on trial, else
//!   record `RolledBack` and boot `active`.
//! - `Trying`: the trial image runs. [`Slots::confirm`] (the kiosk's first
//!   heartbeat) makes it `active`/`Confirmed`. [`Slots::rollback`] (no
//!   heartbeat in time) or any restart before confirmation records
//!   `RolledBack` and boots `active` again.
//! - `RolledBack`: as `Confirmed`; the other slot's version is kept for the report.

use gate_protocol::{BootState, Chunk, FirmwareInfo, NakReason, SlotId, crc16};
use sha2::{Digest, Sha256};

/// A flash-like device: erase to 0xFF in sectors, write, read.
///
/// # Contract
///
/// - `erase(offset, len)` must set every byte of `offset..offset+len` to
///   0xFF; callers pass whole sectors of [`Flash::erase_size`].
/// - `write` may only be asked to write erased bytes (NOR semantics); a
///   write cut short by a power loss may leave any prefix written.
/// - `read` must return what was last written (0xFF where erased).
/// - Offsets past [`Flash::capacity`] must be an error, never a panic.
pub trait Flash {
    /// Why an operation failed.
    type Error: core::fmt::Debug;
    /// Size of the device in bytes.
    fn capacity(&self) -> u32;
    /// Erase granularity in bytes (a sector).
    fn erase_size(&self) -> u32;
    /// Erases `len` bytes (whole sectors) at `offset` to 0xFF.
    ///
    /// # Errors
    ///
    /// The device's error.
    fn erase(&mut self, offset: u32, len: u32) -> Result<(), Self::Error>;
    /// Writes `data` at `offset` (erased bytes only).
    ///
    /// # Errors
    ///
    /// The device's error.
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Self::Error>;
    /// Reads `buf.len()` bytes at `offset`.
    ///
    /// # Errors
    ///
    /// The device's error.
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Self::Error>;
}

/// No firmware storage: a controller built with [`crate::Controller::new`] refuses updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoFlash;

impl Flash for NoFlash {
    type Error = core::convert::Infallible;
    fn capacity(&self) -> u32 {
        0
    }
    fn erase_size(&self) -> u32 {
        0
    }
    fn erase(&mut self, _offset: u32, _len: u32) -> Result<(), Self::Error> {
        Ok(())
    }
    fn write(&mut self, _offset: u32, _data: &[u8]) -> Result<(), Self::Error> {
        Ok(())
    }
    fn read(&mut self, _offset: u32, buf: &mut [u8]) -> Result<(), Self::Error> {
        buf.fill(0xFF);
        Ok(())
    }
}

/// The slots could not be set up or booted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlotError<E> {
    /// The flash failed.
    Flash(E),
    /// The flash is too small for two record sectors and two slots (or the
    /// record does not fit a sector, or the image does not fit a slot).
    TooSmall,
    /// Neither boot record copy is valid: nothing was ever installed.
    NoFirmware,
}

/// Magic of a boot record.
const RECORD_MAGIC: [u8; 4] = *b"AGBR";

/// Bytes of one encoded slot description.
const META_LEN: usize = 4 + 4 + 32;

/// Bytes of an encoded boot record: magic, counter, active, state, two metas, CRC.
const RECORD_LEN: usize = 4 + 4 + 1 + 1 + 2 * META_LEN + 2;

/// Bytes read from flash at a time while hashing.
const READ_BLOCK: usize = 64;

/// Where things are on the flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    /// Sector size.
    sector: u32,
    /// Size of each slot.
    slot_size: u32,
}

impl Layout {
    /// The layout of a device, if it is large enough.
    fn of<F: Flash>(flash: &F) -> Option<Self> {
        let sector = flash.erase_size();
        if sector == 0 || usize::try_from(sector).ok()? < RECORD_LEN {
            return None;
        }
        let sectors = flash.capacity() / sector;
        let per_slot = sectors.checked_sub(2)? / 2;
        if per_slot == 0 {
            return None;
        }
        Some(Self {
            sector,
            slot_size: per_slot * sector,
        })
    }

    /// Offset of a record copy (0 or 1).
    fn record(&self, copy: u8) -> u32 {
        u32::from(copy) * self.sector
    }

    /// Offset of a slot.
    fn slot(&self, slot: SlotId) -> u32 {
        2 * self.sector
            + match slot {
                SlotId::A => 0,
                SlotId::B => self.slot_size,
            }
    }
}

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Meta {
    /// Firmware version.
    version: u32,
    /// Image length; 0 for an empty slot.
    length: u32,
    /// SHA-256 of the image.
    hash: [u8; 32],
}

/// The boot record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    /// Higher is newer.
    counter: u32,
    /// The confirmed slot.
    active: SlotId,
    /// State of the other slot.
    state: BootState,
    /// Slot A and slot B.
    meta: [Meta; 2],
}

/// Index of a slot in [`Record::meta`].
fn index(slot: SlotId) -> usize {
    match slot {
        SlotId::A => 0,
        SlotId::B => 1,
    }
}

impl Record {
    /// The description of `slot`.
    fn meta(&self, slot: SlotId) -> Meta {
        self.meta.get(index(slot)).copied().unwrap_or_default()
    }

    /// Replaces the description of `slot`.
    fn set_meta(&mut self, slot: SlotId, meta: Meta) {
        if let Some(m) = self.meta.get_mut(index(slot)) {
            *m = meta;
        }
    }

    /// The record's bytes.
    fn encode(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            if let Some(slot) = out.get_mut(at..at + bytes.len()) {
                slot.copy_from_slice(bytes);
            }
            at += bytes.len();
        };
        put(&RECORD_MAGIC);
        put(&self.counter.to_be_bytes());
        put(&[slot_byte(self.active), state_byte(self.state)]);
        for m in &self.meta {
            put(&m.version.to_be_bytes());
            put(&m.length.to_be_bytes());
            put(&m.hash);
        }
        let crc = crc16(out.get(..RECORD_LEN - 2).unwrap_or_default());
        if let Some(slot) = out.get_mut(RECORD_LEN - 2..) {
            slot.copy_from_slice(&crc.to_be_bytes());
        }
        out
    }

    /// A record from its bytes; `None` when erased, torn or corrupt.
    fn decode(bytes: &[u8; RECORD_LEN]) -> Option<Self> {
        let (body, crc) = bytes.split_last_chunk::<2>()?;
        if crc16(body) != u16::from_be_bytes(*crc) {
            return None;
        }
        let (magic, rest) = body.split_first_chunk::<4>()?;
        if *magic != RECORD_MAGIC {
            return None;
        }
        let (counter, rest) = rest.split_first_chunk::<4>()?;
        let ([active, state], mut rest) = rest.split_first_chunk::<2>()?;
        let mut meta = [Meta::default(); 2];
        for m in &mut meta {
            let (version, r) = rest.split_first_chunk::<4>()?;
            let (length, r) = r.split_first_chunk::<4>()?;
            let (hash, r) = r.split_first_chunk::<32>()?;
            *m = Meta {
                version: u32::from_be_bytes(*version),
                length: u32::from_be_bytes(*length),
                hash: *hash,
            };
            rest = r;
        }
        Some(Self {
            counter: u32::from_be_bytes(*counter),
            active: match active {
                0 => SlotId::A,
                1 => SlotId::B,
                _ => return None,
            },
            state: match state {
                0 => BootState::Confirmed,
                1 => BootState::Pending,
                2 => BootState::Trial,
                3 => BootState::RolledBack,
                _ => return None,
            },
            meta,
        })
    }
}

/// The stored byte of a slot.
fn slot_byte(slot: SlotId) -> u8 {
    match slot {
        SlotId::A => 0,
        SlotId::B => 1,
    }
}

/// The stored byte of a state.
fn state_byte(state: BootState) -> u8 {
    match state {
        BootState::Confirmed => 0,
        BootState::Pending => 1,
        BootState::Trial => 2,
        BootState::RolledBack => 3,
    }
}

/// An update being received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Session {
    /// What [`Slots::begin`] announced.
    meta: Meta,
    /// Bytes written so far (the next chunk's offset).
    written: u32,
    /// Bytes of the slot erased so far.
    erased: u32,
}

/// The two firmware slots and the boot record, as the running firmware sees them.
///
/// # Contract
///
/// - A new image is only ever written into the slot that is not running;
///   the boot record names it (`Pending`) only after [`Slots::finish`]
///   hashed the whole slot against the announced SHA-256.
/// - A trial image that is not confirmed before the next restart, or before
///   [`Slots::rollback`], is never booted again.
/// - No method panics on any input or flash content.
#[derive(Debug)]
pub struct Slots<F> {
    /// The device.
    flash: F,
    /// Where things are.
    layout: Layout,
    /// The boot record in force.
    record: Record,
    /// Which copy holds it.
    record_copy: u8,
    /// The board's hardware id.
    hardware_id: u16,
    /// The slot running now.
    running: SlotId,
    /// An update being received.
    session: Option<Session>,
}

impl<F: Flash> Slots<F> {
    /// Factory install: erases the records, writes `payload` into slot A as confirmed `version`.
    ///
    /// # Errors
    ///
    /// [`SlotError::TooSmall`] when the device or slot is too small, else the flash's error.
    pub fn install(flash: &mut F, version: u32, payload: &[u8]) -> Result<(), SlotError<F::Error>> {
        let layout = Layout::of(flash).ok_or(SlotError::TooSmall)?;
        let length = u32::try_from(payload.len()).map_err(|_| SlotError::TooSmall)?;
        if length == 0 || length > layout.slot_size {
            return Err(SlotError::TooSmall);
        }
        flash
            .erase(0, 2 * layout.sector)
            .map_err(SlotError::Flash)?;
        let base = layout.slot(SlotId::A);
        let erase = length.div_ceil(layout.sector) * layout.sector;
        flash.erase(base, erase).map_err(SlotError::Flash)?;
        flash.write(base, payload).map_err(SlotError::Flash)?;
        let mut record = Record {
            counter: 1,
            active: SlotId::A,
            state: BootState::Confirmed,
            meta: [Meta::default(); 2],
        };
        record.set_meta(
            SlotId::A,
            Meta {
                version,
                length,
                hash: Sha256::digest(payload).into(),
            },
        );
        flash
            .write(layout.record(0), &record.encode())
            .map_err(SlotError::Flash)
    }

    /// The boot loader's decision: reads the record, picks the slot, records the transition.
    ///
    /// See the module documentation for the states. A pending image whose
    /// slot no longer matches its hash is rolled back without being booted.
    ///
    /// # Errors
    ///
    /// [`SlotError::TooSmall`], [`SlotError::NoFirmware`] when no record is
    /// valid, or the flash's error.
    pub fn boot(mut flash: F, hardware_id: u16) -> Result<Self, SlotError<F::Error>> {
        let layout = Layout::of(&flash).ok_or(SlotError::TooSmall)?;
        let mut best: Option<(Record, u8)> = None;
        for copy in 0..2u8 {
            let mut bytes = [0u8; RECORD_LEN];
            flash
                .read(layout.record(copy), &mut bytes)
                .map_err(SlotError::Flash)?;
            if let Some(r) = Record::decode(&bytes)
                && best.is_none_or(|(b, _)| r.counter > b.counter)
            {
                best = Some((r, copy));
            }
        }
        let (record, record_copy) = best.ok_or(SlotError::NoFirmware)?;
        let mut slots = Self {
            flash,
            layout,
            record,
            record_copy,
            hardware_id,
            running: record.active,
            session: None,
        };
        match record.state {
            BootState::Confirmed | BootState::RolledBack => {}
            BootState::Pending => {
                let candidate = record.active.other();
                let meta = record.meta(candidate);
                let intact = slots.hash_slot(candidate, meta.length).ok() == Some(meta.hash);
                slots.record.state = if intact {
                    BootState::Trial
                } else {
                    BootState::RolledBack
                };
                slots.write_record().map_err(SlotError::Flash)?;
                if intact {
                    slots.running = candidate;
                }
            }
            BootState::Trial => {
                // Restarted before the trial image was confirmed.
                slots.record.state = BootState::RolledBack;
                slots.write_record().map_err(SlotError::Flash)?;
            }
        }
        Ok(slots)
    }

    /// What runs and where the slots stand.
    pub fn info(&self) -> FirmwareInfo {
        let other = self.record.meta(self.running.other());
        FirmwareInfo {
            hardware_id: self.hardware_id,
            running: self.record.meta(self.running).version,
            slot: self.running,
            state: self.record.state,
            other: if other.length == 0 { 0 } else { other.version },
        }
    }

    /// Whether the running image is on trial (not confirmed yet).
    pub fn on_trial(&self) -> bool {
        self.record.state == BootState::Trial
    }

    /// Whether an update is being received.
    pub fn updating(&self) -> bool {
        self.session.is_some()
    }

    /// Size of a slot: the largest image that fits.
    pub fn slot_size(&self) -> u32 {
        self.layout.slot_size
    }

    /// Confirms a trial image (it becomes the active slot); true when it was on trial.
    ///
    /// A flash error leaves the trial as it was (the next heartbeat tries again).
    pub fn confirm(&mut self) -> bool {
        if !self.on_trial() {
            return false;
        }
        let before = self.record;
        self.record.active = self.running;
        self.record.state = BootState::Confirmed;
        if self.write_record().is_err() {
            self.record = before;
            return false;
        }
        true
    }

    /// Gives up a trial image: records the rollback; the caller restarts into the active slot.
    ///
    /// Even if writing the record fails, the restart rolls back (a `Trial`
    /// record at boot is a rollback).
    pub fn rollback(&mut self) {
        if self.on_trial() {
            self.record.state = BootState::RolledBack;
            // A failed write changes nothing: boot() treats the Trial record as a rollback.
            let _boot_rolls_back = self.write_record().is_err();
        }
    }

    /// Starts receiving an image of `length` bytes into the slot that is not running.
    ///
    /// A pending image not booted yet is forgotten first (its slot is reused).
    ///
    /// # Errors
    ///
    /// `InvalidInMode` while on trial (confirm first), `TooLarge` when
    /// `length` is 0 or above [`Slots::slot_size`], `Storage` when the flash failed.
    pub fn begin(&mut self, version: u32, length: u32, hash: [u8; 32]) -> Result<(), NakReason> {
        if self.on_trial() {
            return Err(NakReason::InvalidInMode);
        }
        if length == 0 || length > self.layout.slot_size {
            return Err(NakReason::TooLarge);
        }
        self.session = None;
        if self.record.state == BootState::Pending {
            self.record.state = BootState::Confirmed;
            self.write_record().map_err(|_| NakReason::Storage)?;
        }
        self.session = Some(Session {
            meta: Meta {
                version,
                length,
                hash,
            },
            written: 0,
            erased: 0,
        });
        Ok(())
    }

    /// Writes the next chunk (its offset must be the bytes written so far).
    ///
    /// # Errors
    ///
    /// `NoUpdate` without [`Slots::begin`], `BadOffset` for a chunk out of
    /// order or past the announced length, `Storage` when the flash failed
    /// (the update is then abandoned).
    pub fn write(&mut self, chunk: &Chunk) -> Result<(), NakReason> {
        let mut s = self.session.ok_or(NakReason::NoUpdate)?;
        let data = chunk.data();
        let len = u32::try_from(data.len()).map_err(|_| NakReason::BadOffset)?;
        let end = chunk
            .offset()
            .checked_add(len)
            .ok_or(NakReason::BadOffset)?;
        if chunk.offset() != s.written || end > s.meta.length {
            return Err(NakReason::BadOffset);
        }
        let base = self.layout.slot(self.running.other());
        let result = (|| {
            while s.erased < end {
                self.flash.erase(base + s.erased, self.layout.sector)?;
                s.erased += self.layout.sector;
            }
            self.flash.write(base + chunk.offset(), data)
        })();
        if result.is_err() {
            self.session = None;
            return Err(NakReason::Storage);
        }
        s.written = end;
        self.session = Some(s);
        Ok(())
    }

    /// Checks the written slot against `hash` and marks it pending; the caller restarts.
    ///
    /// The update ends either way.
    ///
    /// # Errors
    ///
    /// `NoUpdate` without [`Slots::begin`], `BadOffset` when not every byte
    /// was written, `HashMismatch` when `hash` is not the announced one or
    /// the slot does not hash to it, `Storage` when the flash failed.
    pub fn finish(&mut self, hash: [u8; 32]) -> Result<(), NakReason> {
        let s = self.session.take().ok_or(NakReason::NoUpdate)?;
        if s.written != s.meta.length {
            return Err(NakReason::BadOffset);
        }
        if hash != s.meta.hash {
            return Err(NakReason::HashMismatch);
        }
        let target = self.running.other();
        let actual = self
            .hash_slot(target, s.meta.length)
            .map_err(|_| NakReason::Storage)?;
        if actual != s.meta.hash {
            return Err(NakReason::HashMismatch);
        }
        let before = self.record;
        self.record.set_meta(target, s.meta);
        self.record.state = BootState::Pending;
        if self.write_record().is_err() {
            self.record = before;
            return Err(NakReason::Storage);
        }
        Ok(())
    }

    /// Forgets the update in progress, if any.
    pub fn abort(&mut self) {
        self.session = None;
    }

    /// Gives the device back.
    pub fn into_flash(self) -> F {
        self.flash
    }

    /// SHA-256 of the first `length` bytes of `slot`.
    fn hash_slot(&mut self, slot: SlotId, length: u32) -> Result<[u8; 32], F::Error> {
        let base = self.layout.slot(slot);
        let length = length.min(self.layout.slot_size);
        let mut hasher = Sha256::new();
        let mut block = [0u8; READ_BLOCK];
        let mut at = 0u32;
        while at < length {
            let n = (length - at).min(READ_BLOCK as u32);
            let buf = block.get_mut(..n as usize).unwrap_or_default();
            self.flash.read(base + at, buf)?;
            hasher.update(&*buf);
            at += n;
        }
        Ok(hasher.finalize().into())
    }

    /// Writes the record into the other copy with a higher counter.
    fn write_record(&mut self) -> Result<(), F::Error> {
        let copy = 1 - self.record_copy.min(1);
        self.record.counter = self.record.counter.wrapping_add(1);
        let offset = self.layout.record(copy);
        self.flash.erase(offset, self.layout.sector)?;
        self.flash.write(offset, &self.record.encode())?;
        self.record_copy = copy;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
