//! The gate hardware simulated on the host, for end-to-end tests and the demo.
//!
//! [`Board`] holds every pin of the gate as a [`SimPin`] (a shared level);
//! [`SimGate::spawn`] runs the real [`gate_controller::Controller`] on a
//! thread over those pins, as its firmware loop would, speaking
//! [`gate_protocol`] over any embedded-io byte stream: one [`End`] of an
//! in-memory [`duplex`] link, or a pseudo-terminal. People are moved
//! through the beams with [`SimGate::walk_in`], [`SimGate::walk_out`],
//! [`SimGate::turn_back`] and [`SimGate::tailgate`]; the fire alarm with
//! [`SimGate::set_alarm`]. [`SimGate::spawn_updatable`] adds firmware slots
//! on a [`SimFlash`] and restarts the controller as the board would after
//! an update or a rollback; [`signed_image`] makes test images.
//!
//! Nothing here panics: pins cannot fail, and a link or controller error
//! stops the simulated firmware loop and is kept for [`SimGate::failure`].
#![forbid(unsafe_code)]

mod board;
pub mod firmware;
mod link;
mod sim;

pub use board::{Board, LeafDrive, SimPin};
pub use firmware::{HARDWARE_ID, SimFirmware, SimFlash, signed_image};
pub use gate_controller::Config;
pub use gate_protocol::{GateMode, Light};
pub use link::{End, duplex};
pub use sim::{SimError, SimGate};
