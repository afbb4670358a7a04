//! `kill -9` of a recording and syncing kiosk process at random moments,
//! many times over: no committed record is lost, the receiver stores none
//! twice, and both chains verify.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{UNIT, Unit};
use kiosk_app::store::{VerifyReport, verify_store};

/// Kill cycles; each runs the recorder for 100 to 700 ms (about 20 s in all
/// in a debug build). The soak is the catch-up bench's `--kill-cycles`.
const CYCLES: u32 = 25;

fn random_ms(low: u64, high: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    low + u64::from_le_bytes(b) % (high - low)
}

fn recorder(unit: &Unit, endpoint: &str, mode: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recorder"));
    cmd.args(["--store", unit.store_path().to_str().unwrap()])
        .args(["--seed", &hex::encode(unit.key.to_bytes())])
        .args(["--endpoint", endpoint, "--unit", UNIT])
        .args(["--ca", unit.tls.ca.to_str().unwrap()])
        .args(["--cert", unit.tls.cert.to_str().unwrap()])
        .args(["--key", unit.tls.key.to_str().unwrap()])
        .args(["--batch", "50"])
        .args(mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
}

#[test]
fn kill_9_at_random_points_loses_nothing_and_duplicates_nothing() {
    let unit = Unit::new("kill9");
    let receiver = unit.receiver();
    let endpoint = receiver.endpoint();
    let mut committed = HashSet::new();
    let mut killed_with_backlog = 0;
    for _ in 0..CYCLES {
        let mut child = recorder(
            &unit,
            &endpoint,
            &["--append", "1000000", "--interval-ms", "20"],
        )
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(random_ms(100, 700)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        for line in out.lines() {
            if let Some(id) = line.strip_prefix("committed ") {
                committed.insert(id.to_owned());
            }
        }
        if unit.store.outbox_count().unwrap() > 0 {
            killed_with_backlog += 1;
        }
    }
    // Restart once more and let it drain.
    let drain = recorder(&unit, &endpoint, &["--drain"]).output().unwrap();
    assert!(drain.status.success(), "{drain:?}");

    let kiosk = unit.kiosk_rows();
    let stored: HashSet<&str> = kiosk.iter().map(|r| r.record_id.as_str()).collect();
    let lost: Vec<_> = committed
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .collect();
    assert!(lost.is_empty(), "committed but not in the store: {lost:?}");
    assert!(
        committed.len() > 100,
        "only {} records made",
        committed.len()
    );
    assert!(killed_with_backlog > 0, "no kill hit a non-empty outbox");
    assert_eq!(unit.store.outbox_count().unwrap(), 0);
    // Every stored record at the receiver exactly once, same hashes.
    assert_eq!(unit.received(), kiosk);
    assert_eq!(unit.receiver_chain(), Ok(kiosk.len() as u64));
    let report = verify_store(unit.store_path(), &unit.key.verifying_key()).unwrap();
    assert!(report.is_intact(), "{report}");
    assert!(
        matches!(report, VerifyReport::Intact { records, .. } if records == kiosk.len() as u64)
    );
}
