//! Gate controller firmware logic over embedded-hal 1.0 traits.
//!
//! Not built yet: reserved for issue 4. `no_std` from the start.
#![no_std]
#![forbid(unsafe_code)]
