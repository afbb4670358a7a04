//! Helpers shared by the `kioskctl` test binaries.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs the built `kioskctl` with `args`, feeding `stdin`, and returns what it did.
pub(crate) fn kioskctl(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kioskctl starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the input");
    child.wait_with_output().expect("kioskctl finishes")
}
