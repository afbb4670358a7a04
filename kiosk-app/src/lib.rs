//! The ASEAN Lane appliance: lane state machine, policy, store and sync.
//!
//! Not built yet: reserved for issues 4 and 5. There is no `asean-lane`
//! binary until the lane exists; the chip-reading demo runs through
//! `kioskctl chip read` (see the README).
#![forbid(unsafe_code)]
