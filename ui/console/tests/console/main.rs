//! The officer console's tests, in one binary (every test binary links all
//! of Slint; one binary saves the disk and the link time of five).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod catalogue;
mod common;
mod flows;
mod model;
mod real_kiosks;
mod render_console;
