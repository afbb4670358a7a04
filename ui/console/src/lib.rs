//! The supervising officer's console (issue 7): every lane's state at a
//! glance, the alert queue by urgency with a chime, and the referral view
//! where the officer accepts or refuses a referred traveller.
//!
//! - [`ConsoleConfig`]: the TOML configuration (officer, TLS identity, lanes).
//! - [`ConsoleModel`]: plain Rust, no Slint, no network: [`LaneUpdate`]s and
//!   the officer's actions in; lane [`Look`]s, the [`Alert`] queue, the open
//!   referral and [`Effect`]s out.
//! - [`Connections`]: one task per lane on a tokio runtime of its own
//!   thread, through `kiosk_app::supervision::client`, reconnecting with a
//!   capped [`Backoff`].
//! - [`ConsoleUi`]: the Slint window drawn from the model, and
//!   [`ConsoleHandle`], its thread-safe, never-blocking remote.
//! - [`face`]: the chip's face image decoded (JPEG, JPEG 2000).
//! - [`headless`]: rendering with no display, for screenshots.
//! - [`sample`]: synthetic kiosk messages for screenshots and tests.
//!
//! The Slint code generated from `ui/console.slint` needs `unsafe`, so this
//! crate root only denies it; every hand-written module forbids it.
#![deny(unsafe_code)]

mod backoff;
mod config;
mod connection;
mod console_ui;
pub mod face;
pub mod headless;
mod model;
mod pin;
pub mod sample;
pub mod sound;

/// The code Slint generates from `ui/console.slint`.
mod generated {
    #![allow(unsafe_code, missing_docs, unreachable_pub)]
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    slint::include_modules!();
}

pub use backoff::Backoff;
pub use config::{ConfigError, ConsoleConfig, LaneEndpoint, MAX_LANE_NAME, MAX_LANES};
pub use connection::{ConnectionError, ConnectionSettings, Connections, Sink};
pub use console_ui::{
    Clock, ConsoleHandle, ConsoleUi, DateKind, RequestSink, UiError, UiRequest, mrz_date,
};
/// The generated window and its adapter global (for tests and tools: the
/// console itself drives them through [`ConsoleUi`]).
pub use generated::{Console, ConsoleWindow};
pub use model::{
    Alert, AlertKind, CONDITION_KINDS, Chime, CommandResult, CommandStatus, Connection,
    ConsoleModel, Effect, FAULT_KINDS, IN_SERVICE_STATES, Lane, LaneUpdate, LoginState, Look,
    MAX_MOMENTARY, Urgency, look,
};
pub use pin::{BadPin, MAX_PIN_DIGITS, MIN_PIN_DIGITS, OfficerPin};
