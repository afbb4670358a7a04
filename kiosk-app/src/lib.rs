//! The ASEAN Lane appliance (`asean-lane`): lane state machine, rules,
//! store, runtime and devices.
//!
//! [`config`] (the lane's TOML, validated with errors naming the key),
//! [`policy`] (the lane rules, each decision with its reason codes),
//! [`session`] (the one lane state machine: events in, actions out; the
//! exit opens only after a committed approved record), [`lane`] (the state
//! machine joined to the rules and the store, and its tokio runtime),
//! [`devices`] (the chip reader and the MRZ scanner as the lane uses them),
//! [`face`] (the face unit's trait and a simulated unit), [`store`] (the
//! durable, signed, hash-chained passage records), [`sync`] (store and
//! forward to the central system over mutual TLS), [`supervision`] (the
//! officer consoles' mutual-TLS endpoint and its client), [`appliance`] (a
//! lane put together from its configuration) and, with features, [`demo`]
//! (the whole lane on simulated devices) and `display` (the traveller's
//! screen joined to the lane).
#![forbid(unsafe_code)]

pub mod appliance;
pub mod config;
pub mod devices;
pub mod face;
pub mod lane;
pub mod policy;
pub mod session;
pub mod store;
pub mod supervision;
pub mod sync;

#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "display")]
pub mod display;
