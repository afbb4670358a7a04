//! `kioskctl firmware flash` as a technician runs it: the built binary
//! against the real gate-controller logic with firmware slots (`gate-sim`)
//! behind a pseudo-terminal. Images are made with the test-only signer
//! (`gate_sim::signed_image`) and a stand-in vendor key.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::process::Output;
use std::time::Duration;

mod common;

use common::{TempDir, kioskctl};
use gate::serial::SerialIo;
use gate::{BootState, SlotId};
use gate_sim::firmware::SigningKey;
use gate_sim::{Board, Config, HARDWARE_ID, SimFirmware, SimGate, signed_image};
use serde_json::Value;
use serialport::{SerialPort as _, TTYPort};

/// The simulated gate behind a pty; kioskctl opens `path`.
struct Gate {
    sim: SimGate,
    path: String,
    /// Kept open so the master side never sees the line hang up between runs.
    _slave: TTYPort,
}

fn gate(firmware: SimFirmware) -> Gate {
    let (mut master, slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_millis(20)).unwrap();
    let path = slave.name().unwrap();
    let config = Config {
        watchdog_ms: 10_000,
        ..Config::default()
    };
    let sim = SimGate::spawn_updatable(
        SerialIo::new(Box::new(master)),
        Board::new(),
        config,
        firmware,
    );
    Gate {
        sim,
        path,
        _slave: slave,
    }
}

fn vendor() -> SigningKey {
    SigningKey::from_bytes(&[0x5A; 32])
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 13 % 253) as u8).collect()
}

/// The key file and an image file signed by `signer`.
fn files(
    dir: &TempDir,
    signer: &SigningKey,
    hardware_id: u16,
    version: u32,
    len: usize,
) -> (String, String) {
    let key = dir.write(
        "vendor.pub",
        &hex::encode(vendor().verifying_key().to_bytes()),
    );
    let image = dir.path("gate.img");
    std::fs::write(
        &image,
        signed_image(signer, hardware_id, version, &payload(len)),
    )
    .unwrap();
    (key.display().to_string(), image.display().to_string())
}

fn run(key: &str, image: &str, gate: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "firmware", "flash", "--image", image, "--key", key, "--gate", gate,
    ];
    args.extend_from_slice(extra);
    kioskctl(&args, "")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_good_image_is_flashed_and_confirmed() {
    let dir = TempDir::new("fw-good");
    let g = gate(SimFirmware::factory(1).unwrap());
    let (key, image) = files(&dir, &vendor(), HARDWARE_ID, 2, 6000);
    let out = run(&key, &image, &g.path, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("flashed gate firmware version 2"),
        "{stdout}"
    );
    for percent in ["  0%", " 50%", "100%"] {
        assert!(stderr.contains(&format!("firmware: {percent}")), "{stderr}");
    }
    let info = g.sim.firmware().unwrap();
    assert_eq!(
        (info.running, info.slot, info.state),
        (2, SlotId::B, BootState::Confirmed)
    );
}

#[test]
fn json_success_names_the_new_version() {
    let dir = TempDir::new("fw-json");
    let g = gate(SimFirmware::factory(3).unwrap());
    let (key, image) = files(&dir, &vendor(), HARDWARE_ID, 4, 300);
    let out = run(&key, &image, &g.path, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["flashed"], true);
    assert_eq!(v["version"], 4);
    assert_eq!(v["previous"], 3);
    assert_eq!(v["slot"], "B");
}

#[test]
fn a_bad_signature_is_refused_before_any_byte_is_sent() {
    let dir = TempDir::new("fw-badsig");
    let g = gate(SimFirmware::factory(1).unwrap());
    let impostor = SigningKey::from_bytes(&[0x11; 32]);
    let (key, image) = files(&dir, &impostor, HARDWARE_ID, 2, 500);
    let out = run(&key, &image, &g.path, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad signature"), "{stderr}");
    assert!(stderr.contains("nothing was sent to the gate"), "{stderr}");
    assert_eq!(g.sim.update_frames(), 0);
    assert_eq!(g.sim.firmware().unwrap().running, 1);
}

#[test]
fn a_bad_signature_is_refused_even_without_a_gate() {
    let dir = TempDir::new("fw-badsig-nogate");
    let impostor = SigningKey::from_bytes(&[0x11; 32]);
    let (key, image) = files(&dir, &impostor, HARDWARE_ID, 2, 500);
    let out = run(&key, &image, "/dev/does-not-exist", &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["error"].as_str().unwrap().contains("bad signature"),
        "{v}"
    );
}

#[test]
fn a_tampered_image_is_refused() {
    let dir = TempDir::new("fw-tampered");
    let g = gate(SimFirmware::factory(1).unwrap());
    let (key, image) = files(&dir, &vendor(), HARDWARE_ID, 2, 500);
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[100] ^= 0xFF;
    std::fs::write(&image, bytes).unwrap();
    let out = run(&key, &image, &g.path, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("SHA-256"), "{stderr}");
    assert_eq!(g.sim.update_frames(), 0);
}

#[test]
fn a_wrong_hardware_id_is_refused() {
    let dir = TempDir::new("fw-hw");
    let g = gate(SimFirmware::factory(1).unwrap());
    let (key, image) = files(&dir, &vendor(), 0x0BAD, 2, 500);
    let out = run(&key, &image, &g.path, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("hardware 0x0bad"), "{stderr}");
    assert!(stderr.contains("the controller runs version 1"), "{stderr}");
    assert_eq!(g.sim.update_frames(), 0);
}

#[test]
fn a_downgrade_needs_allow_downgrade() {
    let dir = TempDir::new("fw-down");
    let g = gate(SimFirmware::factory(5).unwrap());
    let (key, image) = files(&dir, &vendor(), HARDWARE_ID, 4, 500);
    let out = run(&key, &image, &g.path, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("older than the installed version 5"),
        "{stderr}"
    );
    assert_eq!(g.sim.update_frames(), 0);
    let out = run(&key, &image, &g.path, &["--allow-downgrade"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(g.sim.firmware().unwrap().running, 4);
}

#[test]
fn a_gate_that_naks_mid_way_fails_and_the_rollback_is_reported() {
    let dir = TempDir::new("fw-nak");
    let firmware = SimFirmware::factory(1).unwrap();
    firmware.flash.fail_after(4096);
    let g = gate(firmware);
    let (key, image) = files(&dir, &vendor(), HARDWARE_ID, 2, 10_000);
    let out = run(&key, &image, &g.path, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("rolled back to version 1"), "{error}");
    assert!(error.contains("Storage"), "{error}");
    assert_eq!(v["running"], 1);
    assert_eq!(v["flashed"], false);
    assert!(g.sim.update_frames() > 0, "the flash had started");
    assert_eq!(g.sim.firmware().unwrap().running, 1);
}

#[test]
fn an_image_that_never_confirms_is_rolled_back() {
    let dir = TempDir::new("fw-crash");
    let mut firmware = SimFirmware::factory(1).unwrap();
    firmware.crashing.push(2);
    let g = gate(firmware);
    let (key, image) = files(&dir, &vendor(), HARDWARE_ID, 2, 800);
    let out = run(&key, &image, &g.path, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("rolled back to version 1"), "{stderr}");
    let info = g.sim.firmware().unwrap();
    assert_eq!(
        (info.running, info.state, info.other),
        (1, BootState::RolledBack, 2)
    );
}

#[test]
fn unreadable_key_or_image_is_exit_2() {
    let dir = TempDir::new("fw-files");
    let (key, image) = files(&dir, &vendor(), HARDWARE_ID, 2, 10);
    let out = run(
        &dir.path("missing.pub").display().to_string(),
        &image,
        "/dev/null",
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let bad_key = dir.write("bad.pub", "not hex");
    let out = run(&bad_key.display().to_string(), &image, "/dev/null", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("64 hex digits"));
    let out = run(
        &key,
        &dir.path("missing.img").display().to_string(),
        "/dev/null",
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn there_is_no_sign_command() {
    let out = kioskctl(&["firmware", "sign"], "");
    assert_eq!(out.status.code(), Some(2));
    let help = kioskctl(&["firmware", "--help"], "");
    let help = text(&help.stdout);
    assert!(help.contains("flash"), "{help}");
    assert!(!help.contains("sign "), "{help}");
}
