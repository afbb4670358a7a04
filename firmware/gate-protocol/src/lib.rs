//! Framed wire protocol shared by the gate firmware and the kiosk driver.
//!
//! Not built yet: reserved for issue 4. `no_std` from the start, because the
//! gate controller's firmware will link it.
#![no_std]
#![forbid(unsafe_code)]
