//! Gate controller firmware logic over embedded-hal 1.0 traits.
//!
//! One orchestrator, [`Controller`], consumes [`Event`]s (a frame from the
//! kiosk, "the inputs changed", a periodic tick), drives the leaves, locks
//! and lights through [`OutputPin`]s, samples the beams, leaf switches and
//! the fire-alarm loop through [`InputPin`]s, and answers through
//! [`gate_protocol`] frames handed to a callback. Time is a monotonic
//! millisecond count passed with every event, so the logic runs the same on
//! the MCU and in host tests. `no_std`, no alloc, no `unsafe`.
//!
//! The safety rules (fire alarm first, the watchdog's safe state, tailgating)
//! are in the crate README and on [`Controller`]. Firmware updates go into
//! the inactive one of two [`Slots`] over a [`Flash`] device and are booted
//! on trial, rolled back unless the kiosk confirms them.
#![no_std]
#![forbid(unsafe_code)]

mod controller;
pub mod slots;

pub use controller::Controller;
#[cfg(doc)]
use embedded_hal::digital::{InputPin, OutputPin};
pub use gate_protocol::{FaultCode, GateMode, LeafState, Light, Occupancy};
pub use slots::{Flash, NoFlash, SlotError, Slots};

/// The pins of one leaf.
///
/// `drive` high commands the leaf open, low commands it closed. `lock` high
/// energises the lock (fail-safe: an unpowered lock is released). A switch
/// reads high when the leaf is at that position.
#[derive(Debug)]
pub struct Leaf<O, I> {
    /// Motor direction: high = open, low = closed.
    pub drive: O,
    /// Lock coil: high = locked.
    pub lock: O,
    /// High when the leaf is fully open.
    pub open_switch: I,
    /// High when the leaf is fully closed.
    pub closed_switch: I,
}

/// Every pin the controller owns.
///
/// Beams read high while interrupted. `alarm_ok` is the fire-alarm loop,
/// normally closed: high means healthy, low means alarm *or a cut wire*, so a
/// broken loop opens the gate rather than silently disabling the release.
#[derive(Debug)]
pub struct Pins<O, I> {
    /// Entry leaf (the side the traveller comes from).
    pub entry: Leaf<O, I>,
    /// Exit leaf (the landside / cleared side).
    pub exit: Leaf<O, I>,
    /// Red lane light.
    pub red: O,
    /// Green lane light.
    pub green: O,
    /// Amber lane light.
    pub amber: O,
    /// Beam just inside the entry leaf.
    pub beam_entry: I,
    /// Beam in the middle of the zone between the leaves.
    pub beam_zone: I,
    /// Beam just inside the exit leaf.
    pub beam_exit: I,
    /// Fire-alarm loop: high = healthy, low = alarm.
    pub alarm_ok: I,
}

/// Timing of the controller, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// No accepted command from the kiosk for this long → [`GateMode::SafeState`].
    pub watchdog_ms: u64,
    /// A leaf not at its commanded position after this long → [`GateMode::Fault`].
    pub leaf_timeout_ms: u64,
    /// Interval of the gate's own heartbeat event.
    pub heartbeat_ms: u64,
    /// A trial firmware image not confirmed by a kiosk heartbeat this long
    /// after start-up is rolled back.
    pub confirm_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            watchdog_ms: 2_000,
            leaf_timeout_ms: 4_000,
            heartbeat_ms: 1_000,
            confirm_ms: 30_000,
        }
    }
}

/// What the orchestrator reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A frame decoded from the kiosk link.
    Frame(gate_protocol::Frame),
    /// An input changed (edge interrupt): sample every input.
    Sensors,
    /// Periodic tick (every 10–50 ms): polls the fire alarm, runs the watchdog,
    /// leaf timeouts and the gate heartbeat.
    Tick,
}

/// [`Controller::new`] could not make the actuators safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InitError<E> {
    /// A pin failed while driving the safe state or sampling the inputs.
    Pin(E),
}

/// A pin failed while handling an event; the controller is now in [`GateMode::Fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The first pin error; the controller went to [`GateMode::Fault`] and
    /// tried to drive the fail-safe outputs.
    Pin(E),
}

#[cfg(test)]
mod tests;
