//! Simulated pins and the board that holds them.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use embedded_hal::digital::{ErrorType, InputPin, OutputPin};
use gate_controller::{Leaf, Pins};
use gate_protocol::Light;

/// One simulated pin: a level shared by every clone (the controller and the test).
#[derive(Debug, Clone, Default)]
pub struct SimPin(Arc<AtomicBool>);

impl SimPin {
    /// The current level (true = high).
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sets the level (true = high).
    pub fn put(&self, high: bool) {
        self.0.store(high, Ordering::SeqCst);
    }
}

impl ErrorType for SimPin {
    type Error = Infallible;
}

impl OutputPin for SimPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.put(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.put(true);
        Ok(())
    }
}

impl InputPin for SimPin {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.get())
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(!self.get())
    }
}

/// What the controller's outputs command a leaf to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafDrive {
    /// Driven open with the lock released.
    Open,
    /// Driven closed with the lock energised.
    Closed,
    /// Drive and lock disagree: only for an instant while the controller
    /// switches them, otherwise a firmware bug.
    Inconsistent,
}

/// Every pin of the gate, shared between the caller and the controller (clones share levels).
///
/// Polarity is the controller's (see `gate-controller`'s README): drive high
/// = open, lock high = locked, switch high = leaf at that end, beam high =
/// interrupted, `alarm_ok` high = fire-alarm loop healthy.
#[derive(Debug, Clone, Default)]
pub struct Board {
    /// Entry leaf motor direction (output).
    pub entry_drive: SimPin,
    /// Entry leaf lock coil (output).
    pub entry_lock: SimPin,
    /// Entry leaf open end switch (input).
    pub entry_open: SimPin,
    /// Entry leaf closed end switch (input).
    pub entry_closed: SimPin,
    /// Exit leaf motor direction (output).
    pub exit_drive: SimPin,
    /// Exit leaf lock coil (output).
    pub exit_lock: SimPin,
    /// Exit leaf open end switch (input).
    pub exit_open: SimPin,
    /// Exit leaf closed end switch (input).
    pub exit_closed: SimPin,
    /// Red lamp (output).
    pub red: SimPin,
    /// Green lamp (output).
    pub green: SimPin,
    /// Amber lamp (output).
    pub amber: SimPin,
    /// Beam just inside the entry leaf (input).
    pub beam_entry: SimPin,
    /// Beam in the middle of the zone (input).
    pub beam_zone: SimPin,
    /// Beam just inside the exit leaf (input).
    pub beam_exit: SimPin,
    /// Fire-alarm loop, high = healthy (input).
    pub alarm_ok: SimPin,
}

impl Board {
    /// A gate at rest: both leaves closed, beams clear, fire-alarm loop healthy.
    pub fn new() -> Self {
        let b = Self::default();
        b.alarm_ok.put(true);
        b.entry_closed.put(true);
        b.exit_closed.put(true);
        b
    }

    /// The controller's view of the pins (clones sharing these levels).
    pub fn pins(&self) -> Pins<SimPin, SimPin> {
        Pins {
            entry: Leaf {
                drive: self.entry_drive.clone(),
                lock: self.entry_lock.clone(),
                open_switch: self.entry_open.clone(),
                closed_switch: self.entry_closed.clone(),
            },
            exit: Leaf {
                drive: self.exit_drive.clone(),
                lock: self.exit_lock.clone(),
                open_switch: self.exit_open.clone(),
                closed_switch: self.exit_closed.clone(),
            },
            red: self.red.clone(),
            green: self.green.clone(),
            amber: self.amber.clone(),
            beam_entry: self.beam_entry.clone(),
            beam_zone: self.beam_zone.clone(),
            beam_exit: self.beam_exit.clone(),
            alarm_ok: self.alarm_ok.clone(),
        }
    }

    /// Leaves reach their commanded position at once; true when a switch changed.
    pub(crate) fn physics(&self) -> bool {
        let mut changed = false;
        for (drive, open, closed) in [
            (&self.entry_drive, &self.entry_open, &self.entry_closed),
            (&self.exit_drive, &self.exit_open, &self.exit_closed),
        ] {
            let d = drive.get();
            if open.get() != d || closed.get() == d {
                open.put(d);
                closed.put(!d);
                changed = true;
            }
        }
        changed
    }

    /// Sets the three beams (true = interrupted); the controller is not told.
    pub fn beams(&self, entry: bool, zone: bool, exit: bool) {
        self.beam_entry.put(entry);
        self.beam_zone.put(zone);
        self.beam_exit.put(exit);
    }

    /// What the outputs command the (entry, exit) leaves to be.
    pub fn leaves(&self) -> (LeafDrive, LeafDrive) {
        let leaf = |drive: &SimPin, lock: &SimPin| match (drive.get(), lock.get()) {
            (true, false) => LeafDrive::Open,
            (false, true) => LeafDrive::Closed,
            _ => LeafDrive::Inconsistent,
        };
        (
            leaf(&self.entry_drive, &self.entry_lock),
            leaf(&self.exit_drive, &self.exit_lock),
        )
    }

    /// The lit lamp ([`Light::Off`] when none is); `None` when several are lit.
    pub fn light(&self) -> Option<Light> {
        match (self.red.get(), self.green.get(), self.amber.get()) {
            (false, false, false) => Some(Light::Off),
            (true, false, false) => Some(Light::Red),
            (false, true, false) => Some(Light::Green),
            (false, false, true) => Some(Light::Amber),
            _ => None,
        }
    }
}
