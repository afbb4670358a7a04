//! Kiosk side of the gate-controller link.
//!
//! Not built yet: this crate is reserved for the gate driver (issue 4). It
//! exports nothing, so nothing can depend on it by mistake.
#![forbid(unsafe_code)]
