//! The ASEAN Lane appliance: lane state machine, policy, store and sync.
//!
//! Built so far: [`store`], the durable, signed and hash-chained
//! passage-record store (issue 4). Not built yet: the lane state machine,
//! policy, devices, sync worker and the `asean-lane` binary (issues 4 and 5);
//! the chip-reading demo runs through `kioskctl chip read` (see the README).
#![forbid(unsafe_code)]

pub mod store;
