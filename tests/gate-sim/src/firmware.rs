//! Simulated firmware storage, firmware that fails, and a test-only image signer.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ed25519_dalek::Signer as _;
/// The Ed25519 key [`signed_image`] signs with (tests hold their own stand-in vendor key).
pub use ed25519_dalek::SigningKey;
use gate_controller::{Flash, Slots};
use gate_protocol::ImageHeader;
use sha2::{Digest, Sha256};

/// Hardware id of the simulated controller board.
pub const HARDWARE_ID: u16 = 0x4147;

/// Sector size of [`SimFlash`].
const SECTOR: u32 = 4096;

/// Why a [`SimFlash`] operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFlashError {
    /// Outside the device.
    OutOfRange,
    /// A write onto bytes that were not erased.
    NotErased,
    /// The failure set with [`SimFlash::fail_after`].
    Broken,
}

/// What a [`SimFlash`] holds.
#[derive(Debug)]
struct FlashState {
    /// The bytes.
    bytes: Vec<u8>,
    /// Bytes that may still be written before every write fails; `None`: no limit.
    budget: Option<usize>,
}

/// A NOR flash in memory, shared by its clones, so it survives a simulated restart.
#[derive(Debug, Clone)]
pub struct SimFlash(Arc<Mutex<FlashState>>);

impl SimFlash {
    /// An erased flash of two record sectors and two slots of `slot_sectors` 4 KiB sectors.
    pub fn new(slot_sectors: u32) -> Self {
        let len = usize::try_from(SECTOR * (2 + 2 * slot_sectors)).unwrap_or(0);
        Self(Arc::new(Mutex::new(FlashState {
            bytes: vec![0xFF; len],
            budget: None,
        })))
    }

    /// From now on, writes fail once `bytes` more bytes were written (a broken flash).
    pub fn fail_after(&self, bytes: usize) {
        self.lock().budget = Some(bytes);
    }

    /// Locks the state (a poisoned lock still holds plain bytes).
    fn lock(&self) -> MutexGuard<'_, FlashState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The byte range `offset..offset+len` if it lies inside `bytes`.
fn range(bytes: &[u8], offset: u32, len: usize) -> Result<std::ops::Range<usize>, SimFlashError> {
    let start = usize::try_from(offset).map_err(|_| SimFlashError::OutOfRange)?;
    let end = start.checked_add(len).ok_or(SimFlashError::OutOfRange)?;
    if end > bytes.len() {
        return Err(SimFlashError::OutOfRange);
    }
    Ok(start..end)
}

impl Flash for SimFlash {
    type Error = SimFlashError;

    fn capacity(&self) -> u32 {
        u32::try_from(self.lock().bytes.len()).unwrap_or(u32::MAX)
    }

    fn erase_size(&self) -> u32 {
        SECTOR
    }

    fn erase(&mut self, offset: u32, len: u32) -> Result<(), SimFlashError> {
        let mut s = self.lock();
        let len = usize::try_from(len).map_err(|_| SimFlashError::OutOfRange)?;
        let r = range(&s.bytes, offset, len)?;
        s.bytes.get_mut(r).unwrap_or_default().fill(0xFF);
        Ok(())
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), SimFlashError> {
        let mut s = self.lock();
        let r = range(&s.bytes, offset, data.len())?;
        if let Some(budget) = &mut s.budget {
            if *budget < data.len() {
                return Err(SimFlashError::Broken);
            }
            *budget -= data.len();
        }
        let target = s.bytes.get_mut(r).unwrap_or_default();
        if target.iter().any(|&b| b != 0xFF) {
            return Err(SimFlashError::NotErased);
        }
        target.copy_from_slice(data);
        Ok(())
    }

    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), SimFlashError> {
        let s = self.lock();
        let r = range(&s.bytes, offset, buf.len())?;
        buf.copy_from_slice(s.bytes.get(r).unwrap_or_default());
        Ok(())
    }
}

/// The firmware side of a simulated gate that can be updated ([`crate::SimGate::spawn_updatable`]).
#[derive(Debug, Clone)]
pub struct SimFirmware {
    /// The slots' storage (shared: tests may break it or look at it).
    pub flash: SimFlash,
    /// Hardware id the controller reports.
    pub hardware_id: u16,
    /// Firmware versions that crash as soon as they boot (the board's
    /// watchdog restarts it, and the boot loader rolls back).
    pub crashing: Vec<u32>,
}

impl SimFirmware {
    /// A board of [`HARDWARE_ID`] with `version` installed in slot A, 16 sectors (64 KiB) per slot.
    ///
    /// # Errors
    ///
    /// The slot error if installing failed (it cannot with these sizes).
    pub fn factory(version: u32) -> Result<Self, gate_controller::SlotError<SimFlashError>> {
        let mut flash = SimFlash::new(16);
        Slots::install(
            &mut flash,
            version,
            &format!("factory firmware {version}").into_bytes(),
        )?;
        Ok(Self {
            flash,
            hardware_id: HARDWARE_ID,
            crashing: Vec::new(),
        })
    }
}

/// Test-only signer: a complete image of `payload` for `hardware_id`, `version`, signed with `key`.
///
/// The vendor's real signing tool is not part of this repository; this is
/// what the tests use to make images.
pub fn signed_image(key: &SigningKey, hardware_id: u16, version: u32, payload: &[u8]) -> Vec<u8> {
    let header = ImageHeader {
        hardware_id,
        version,
        length: u32::try_from(payload.len()).unwrap_or(u32::MAX),
        sha256: Sha256::digest(payload).into(),
    };
    let mut out = header.to_bytes().to_vec();
    out.extend_from_slice(payload);
    let signature = key.sign(&out);
    out.extend_from_slice(&signature.to_bytes());
    out
}
