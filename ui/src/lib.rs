//! The traveller's screen of the ASEAN Lane kiosk, in Slint, and its officer
//! mode.
//!
//! - [`ViewModel`]: plain Rust, no Slint: the lane's [`Screen`] requests, the
//!   touches ([`Input`]) and the clock in; a [`View`] and [`UiEvent`]s out.
//! - [`KioskUi`]: the Slint window driven by a view model, and [`UiHandle`],
//!   its thread-safe, never-blocking remote for the lane.
//! - [`Language`] and [`language_for_nationality`]: thirteen languages, each
//!   with a bundled font (`ui/fonts/`), translated through `@tr` and the
//!   gettext catalogues in `ui/lang/`.
//! - [`inactivity()`]: the pure inactivity timer.
//! - [`headless`]: rendering with no display, for screenshots and benchmarks.
//!
//! The Slint code generated from `ui/kiosk.slint` needs `unsafe`, so this
//! crate root only denies it; every hand-written module forbids it.
#![deny(unsafe_code)]

pub mod headless;
mod inactivity;
mod kiosk_ui;
mod language;
mod view_model;

/// The code Slint generates from `ui/kiosk.slint`.
mod generated {
    #![allow(unsafe_code, missing_docs, unreachable_pub)]
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    slint::include_modules!();
}

pub use generated::KioskWindow;
pub use inactivity::{Inactivity, InactivityTimeouts, inactivity};
pub use kiosk_ui::{Clock, EventSink, KioskUi, UiError, UiHandle};
pub use language::{Language, language_for_nationality};
pub use view_model::{
    Input, MAX_PIN_DIGITS, MIN_PIN_DIGITS, OfficerCommand, OfficerPin, Page, PinStatus, Screen,
    UiEvent, View, ViewModel,
};
