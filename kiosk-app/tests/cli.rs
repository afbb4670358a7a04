//! `asean-lane --check-config` and start-up refusals, through the binary.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lane(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asean-lane"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A complete configuration under `dir`, with `extra` appended to the top level.
fn config(dir: &Path, extra: &str) -> PathBuf {
    let text = format!(
        "{extra}\nsite = \"KUL\"\nterminal = \"T1\"\nlane = \"A07\"\ndirection = \"arrival\"\n\
         store = {:?}\ntrust_store = {:?}\nsigning_key = {:?}\n\n\
         [devices]\nreader = \"Virtual PCD 00 01\"\nscanner = \"/dev/null-scanner\"\ngate = \"/dev/null-gate\"\n",
        dir.join("passages.sqlite").display().to_string(),
        dir.join("trust").display().to_string(),
        dir.join("key").display().to_string(),
    );
    let path = dir.join("lane.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_valid_configuration_checks_with_exit_0() {
    let dir = common::work_dir("valid");
    let path = config(&dir, "");
    let out = lane(&["--config", path.to_str().unwrap(), "--check-config"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_invalid_configuration_exits_2_naming_the_key() {
    let dir = common::work_dir("invalid");
    let path = config(&dir, "[policy]\nminor_age = 40\n");
    // The [policy] table must come after the top-level keys.
    let text = std::fs::read_to_string(&path).unwrap();
    let (policy, rest) = text.split_at(text.find("\nsite").unwrap());
    std::fs::write(&path, format!("{rest}\n{policy}\n")).unwrap();
    let out = lane(&["--config", path.to_str().unwrap(), "--check-config"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("policy.minor_age"),
        "{}",
        stderr(&out)
    );

    let out = lane(&[
        "--config",
        dir.join("absent.toml").to_str().unwrap(),
        "--check-config",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("absent.toml"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_lane_does_not_start_without_its_key_or_with_a_corrupt_store() {
    let dir = common::work_dir("start");
    let path = config(&dir, "");
    let out = lane(&["--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("signing key"), "{}", stderr(&out));

    std::fs::write(dir.join("key"), "11".repeat(32)).unwrap();
    std::fs::write(dir.join("passages.sqlite"), b"not a database at all").unwrap();
    let out = lane(&["--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("passage store"), "{}", stderr(&out));
    // Never rebuilt: the file is as it was.
    assert_eq!(
        std::fs::read(dir.join("passages.sqlite")).unwrap(),
        b"not a database at all"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
