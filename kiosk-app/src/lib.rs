//! The ASEAN Lane appliance: lane state machine, policy, store and sync.
//!
//! Built so far, all pure or synchronous and tested on the host (issue 4):
//! [`config`] (the lane's TOML, validated with errors naming the key),
//! [`policy`] (the lane rules, each decision with its reason codes),
//! [`session`] (the one lane state machine: events in, actions out; the
//! exit opens only after a committed approved record), [`face`] (the face
//! verification unit's trait and a simulated unit) and [`store`] (the
//! durable, signed, hash-chained passage records). Not built yet: the tokio
//! orchestrator that joins them to the devices, the sync worker and the
//! `asean-lane` binary (issues 4 and 5); the chip-reading demo runs through
//! `kioskctl chip read` (see the README).
#![forbid(unsafe_code)]

pub mod config;
pub mod face;
pub mod policy;
pub mod session;
pub mod store;
