//! A virtual ePassport (eMRTD) chip for tests and demos.
//!
//! What it is: the chip side of ICAO Doc 9303 for an LDS1 application with
//! Basic Access Control (9303-11 §4.3), PACE (9303-11 §4.4, optional, with
//! EF.CardAccess in the master file) and 3DES or AES secure messaging (9303-11
//! §9.8), holding EF.COM, DG1, DG2 and a placeholder EF.SOD built from a
//! [`ChipProfile`]. [`VirtualChip`] is pure (APDU in, APDU out, no I/O);
//! [`vpcd`] plugs it into pcscd through vsmartcard's vpcd reader driver so a
//! kiosk's real PC/SC path is what gets tested, and [`DirectChannel`] hands
//! APDUs straight to it for tests that only need the terminal logic.
//!
//! Chip Authentication (9303-11 §6.2, DG14) and Active Authentication
//! (9303-11 §6.1, DG15) are offered when the profile asks for them.
//!
//! What it is not: a certified chip or a security reference. EF.SOD is
//! **unsigned** (a well-formed placeholder) unless a test puts a signed one
//! in ([`ChipProfile::with_sod`], [`VirtualChip::replace_file`]), so Passive
//! Authentication fails on it by default.
//! [`Misbehaviour`]s make it act like the awkward chips found in the field.
#![forbid(unsafe_code)]

pub mod atr;
mod channel;
mod chip;
pub mod face;
pub mod lds;
mod profile;
pub mod vpcd;

pub use channel::DirectChannel;
pub use chip::VirtualChip;
pub use face::{FaceError, FaceImage, ImageFormat};
pub use profile::{
    AaKey, CaConfig, ChipProfile, CommandKind, MAX_DG2_MIN_SIZE, Misbehaviour, PaceConfig,
    ProfileError,
};
pub use vpcd::{VpcdCard, connect};
