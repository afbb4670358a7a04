//! `kioskctl trust import` of a large import: many CSCA files and a master
//! list holding them, counted in the summary line; the progress bar only on
//! a terminal (a real pseudo-terminal here), never off one or in `--json`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{TempDir, kioskctl};
use serialport::{SerialPort as _, TTYPort};
use test_pki::{PkiOptions, TestPki};

/// How many issuing states the large import has: enough to be "large" (100 files or more).
const STATES: usize = 120;

/// `STATES` test PKIs, made once for the binary.
fn pkis() -> &'static [TestPki] {
    static PKIS: OnceLock<Vec<TestPki>> = OnceLock::new();
    PKIS.get_or_init(|| {
        (0..STATES)
            .map(|i| {
                // Two-letter country codes AA, AB, ...; the country only names the CSCA.
                let country: String = [b'A' + (i / 26) as u8, b'A' + (i % 26) as u8]
                    .iter()
                    .map(|&b| b as char)
                    .collect();
                TestPki::new(PkiOptions {
                    country,
                    ..PkiOptions::default()
                })
            })
            .collect()
    })
}

/// Writes every CSCA (DER) and, last, a master list of all of them signed by
/// the first state's master list signer; the files, in import order.
fn large_import(dir: &TempDir) -> Vec<PathBuf> {
    let pkis = pkis();
    let mut files = Vec::new();
    for (i, pki) in pkis.iter().enumerate() {
        let path = dir.path(&format!("csca-{i:03}.der"));
        std::fs::write(&path, pki.csca_der()).unwrap();
        files.push(path);
    }
    let others: Vec<&TestPki> = pkis.iter().skip(1).collect();
    let ml = dir.path("all.ml");
    std::fs::write(&ml, pkis[0].master_list(&others)).unwrap();
    files.push(ml);
    files
}

/// `trust import --store STORE EXTRA... FILES...` arguments.
fn import_args<'a>(store: &'a str, extra: &[&'a str], files: &'a [PathBuf]) -> Vec<&'a str> {
    let mut args = vec!["trust", "import", "--store", store];
    args.extend_from_slice(extra);
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    args
}

#[test]
fn a_large_import_ends_with_the_counts_and_shows_no_progress_off_a_terminal() {
    let dir = TempDir::new("trust-large");
    let files = large_import(&dir);
    let store = dir.path("trust");
    let store = store.to_str().unwrap();

    let out = kioskctl(&import_args(store, &[], &files), "");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    // Off a terminal: no progress line, nothing at all on stderr.
    assert_eq!(stderr, "", "no progress off a terminal");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), STATES + 2, "{stdout}");
    assert!(
        lines[STATES].starts_with("imported ")
            && lines[STATES].ends_with(&format!("(CSCA master list, {STATES} CSCA)")),
        "{}",
        lines[STATES]
    );
    assert_eq!(
        lines[STATES + 1],
        format!(
            "{} files: {} imported, 0 already present, 0 refused; {} CSCA certificates",
            STATES + 1,
            STATES + 1,
            2 * STATES
        )
    );

    // Again: every file is already there, one refused file is counted apart.
    let junk = dir.write("junk.der", "not a certificate");
    let mut again = files.clone();
    again.push(junk);
    let out = kioskctl(&import_args(store, &[], &again), "");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().last().unwrap(),
        format!(
            "{} files: 0 imported, {} already present, 1 refused; {} CSCA certificates",
            STATES + 2,
            STATES + 1,
            2 * STATES
        )
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "only the refusal: {stderr}");
    assert!(stderr.starts_with("refused "), "{stderr}");
}

#[test]
fn json_output_is_the_report_alone() {
    let dir = TempDir::new("trust-json");
    let files = large_import(&dir);
    let store = dir.path("trust");
    let out = kioskctl(
        &import_args(store.to_str().unwrap(), &["--json"], &files),
        "",
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = report.as_array().unwrap();
    assert_eq!(entries.len(), STATES + 1);
    assert_eq!(entries[STATES]["kind"], "CSCA master list");
    assert_eq!(entries[STATES]["cscas"].as_array().unwrap().len(), STATES);
    assert!(entries.iter().all(|e| e["error"].is_null()));
}

#[test]
fn on_a_terminal_a_progress_bar_goes_to_stderr() {
    let dir = TempDir::new("trust-tty");
    let files = large_import(&dir);
    let store = dir.path("trust");
    let (mut master, slave) = TTYPort::pair().unwrap();
    let tty = std::fs::OpenOptions::new()
        .write(true)
        .open(slave.name().unwrap())
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(import_args(store.to_str().unwrap(), &[], &files))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(tty))
        .spawn()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));

    // What reached the terminal (the line discipline adds \r).
    master.set_timeout(Duration::from_millis(200)).unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => break,
            Err(_) => break,
        }
    }
    // Closed only now: a pty whose slave side is closed may drop what it held.
    drop(slave);
    let tty_text = String::from_utf8(seen).unwrap().replace('\r', "");
    let bars: Vec<&str> = tty_text
        .lines()
        .filter(|l| l.starts_with("trust import: ["))
        .collect();
    assert!(
        bars.len() >= 3 && bars.len() <= 10,
        "a line per tenth: {tty_text}"
    );
    let last = format!(
        "trust import: [####################] {0}/{0} files,",
        STATES + 1
    );
    assert!(bars.last().unwrap().starts_with(&last), "{tty_text}");
    assert!(
        tty_text.ends_with(&format!("trust import: {} files checked\n", STATES + 1)),
        "{tty_text}"
    );
    // The report on stdout is the same as off a terminal: no bar in it.
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('#'), "{stdout}");
    assert!(
        stdout.lines().last().unwrap().starts_with(&format!(
            "{} files: {} imported",
            STATES + 1,
            STATES + 1
        )),
        "{stdout}"
    );
}
