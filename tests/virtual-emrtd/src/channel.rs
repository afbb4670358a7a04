//! An in-memory [`CardChannel`] to a [`VirtualChip`], for tests of the terminal logic without pcscd.

use icao9303::{CardChannel, ChannelError, ChannelErrorKind};

use crate::chip::VirtualChip;

/// A [`CardChannel`] that hands each APDU straight to a [`VirtualChip`].
///
/// It tests the chip and the terminal logic, not the PC/SC reading path (for
/// that, see [`crate::vpcd`]). A silent chip ([`crate::Misbehaviour::NeverAnswer`])
/// is reported at once as [`ChannelErrorKind::Timeout`].
#[derive(Debug)]
pub struct DirectChannel {
    chip: VirtualChip,
    extended: bool,
    apdus: usize,
}

impl DirectChannel {
    /// A channel to `chip`, taking extended length exactly when the chip's ATR says so.
    pub fn new(chip: VirtualChip) -> Self {
        let extended = chip.extended_length();
        Self {
            chip,
            extended,
            apdus: 0,
        }
    }

    /// Overrides what [`CardChannel::supports_extended_length`] reports (a reader that lacks it, or a chip that lies).
    pub fn with_extended_length(mut self, on: bool) -> Self {
        self.extended = on;
        self
    }

    /// The chip.
    pub fn chip(&self) -> &VirtualChip {
        &self.chip
    }

    /// The chip, mutably (to reset it, say).
    pub fn chip_mut(&mut self) -> &mut VirtualChip {
        &mut self.chip
    }

    /// Gives the chip back.
    pub fn into_chip(self) -> VirtualChip {
        self.chip
    }

    /// APDUs transmitted so far.
    pub fn apdu_count(&self) -> usize {
        self.apdus
    }
}

impl CardChannel for DirectChannel {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, ChannelError> {
        self.apdus += 1;
        self.chip.answer(command).ok_or_else(|| {
            ChannelError::new(ChannelErrorKind::Timeout, "virtual chip did not answer")
        })
    }

    fn supports_extended_length(&self) -> bool {
        self.extended
    }
}
