//! The `virtual-emrtd` binary: MRZ validation, and one insertion into a listener playing vpcd.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_virtual-emrtd");
const LINE1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";

#[test]
fn an_invalid_mrz_exits_2_without_printing_it() {
    // Composite check digit changed from 0 to 1.
    let mrz = format!("{LINE1}\\nL898902C36UTO7408122F1204159ZE184226B<<<<<11");
    let out = Command::new(BIN)
        .args(["--mrz", &mrz, "--port", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid MRZ"), "{stderr}");
    assert!(
        !stderr.contains("ERIKSSON") && !stderr.contains("L898902C3"),
        "no personal data: {stderr}"
    );
}

#[test]
fn a_bad_face_exits_2() {
    let mrz = format!("{LINE1}\nL898902C36UTO7408122F1204159ZE184226B<<<<<10");
    let face = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let out = Command::new(BIN)
        .args(["--mrz", &mrz, "--face", face, "--port", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_valid_mrz_inserts_the_card_and_says_so_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let dir = std::env::temp_dir().join(format!("virtual-emrtd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mrz_file = dir.join("specimen.mrz");
    std::fs::write(
        &mrz_file,
        format!("{LINE1}\r\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\r\n"),
    )
    .unwrap();
    let face = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/face.jp2");
    let mut child = Command::new(BIN)
        .args(["--mrz-file".as_ref(), mrz_file.as_os_str()])
        .args(["--face", face, "--port", &port, "--no-extended-length"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (mut vpcd, _) = listener.accept().unwrap();
    vpcd.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    vpcd.write_all(&[0, 1, 0x01, 0, 1, 0x04]).unwrap();
    let mut atr = [0u8; 12];
    vpcd.read_exact(&mut atr).unwrap();
    assert_eq!(
        atr,
        [
            0, 10, 0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x94, 0x01, 0x00, 0x62
        ]
    );
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("virtual-emrtd: card inserted into vpcd at 127.0.0.1:"),
        "{line}"
    );
    assert!(!line.contains("ERIKSSON"));
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
