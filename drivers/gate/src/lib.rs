//! Kiosk side of the gate-controller link.
//!
//! [`GateLink`] speaks [`gate_protocol`] over any blocking byte stream that
//! implements embedded-io [`Read`](embedded_io::Read) +
//! [`Write`](embedded_io::Write): [`GateLink::command`] is done only when
//! the controller acknowledged that frame's sequence number (retransmitting
//! a bounded number of times), and gate events ([`GateEvent`]) are queued
//! for [`GateLink::next_event`]. [`serial::SerialIo`] adapts a Linux serial
//! port (crate `serialport`) to embedded-io. [`GateWorker`] runs a link on
//! its own thread for the lane orchestrator: [`GateOrder`]s in,
//! [`GateReport`]s out, heartbeats in between. [`firmware`] verifies a
//! signed controller image ([`firmware::verify`]) and flashes it
//! ([`GateLink::flash`]).
#![forbid(unsafe_code)]

mod error;
pub mod firmware;
mod link;
pub mod serial;
pub mod worker;

pub use error::GateError;
pub use gate_protocol::{
    BootState, Command, FaultCode, FirmwareInfo, GateEvent, GateMode, LeafState, Light, NakReason,
    Occupancy, SlotId,
};
pub use link::{Ack, GateLink, LinkConfig};
pub use worker::{GateClosed, GateHandle, GateOrder, GateReport, GateWorker, WorkerConfig};
