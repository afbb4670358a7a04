//! Slint traveller UI and officer console.
//!
//! Not built yet: reserved for issues 6 and 7. Slint is not a dependency yet,
//! so the workspace builds without a display stack.
#![forbid(unsafe_code)]
