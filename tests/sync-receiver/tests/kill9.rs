//! `kill -9` of a recording and syncing kiosk process at random moments,
//! many times over: no committed record is lost, the receiver stores none
//! twice, and both chains verify. The loop is `sync_receiver::soak`; the
//! longer soak is the `kill9-soak` binary.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use sync_receiver::soak::{self, SoakOptions};

/// Kill cycles; each runs the recorder for 100 to 700 ms (about 20 s in all
/// in a debug build).
const CYCLES: u32 = 25;

#[test]
fn kill_9_at_random_points_loses_nothing_and_duplicates_nothing() {
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).unwrap();
    let seed = u64::from_le_bytes(seed);
    eprintln!("kill schedule seed {seed}");
    let report = soak::run(&SoakOptions::new(
        env!("CARGO_BIN_EXE_recorder"),
        CYCLES,
        seed,
    ))
    .unwrap();

    assert!(
        report.recorder_failures.is_empty(),
        "recorders exited before the kill: {:?}",
        report.recorder_failures
    );
    assert!(
        report.lost_from_store.is_empty(),
        "committed but not in the store: {:?}",
        report.lost_from_store
    );
    assert!(
        report.committed > 100,
        "only {} records made",
        report.committed
    );
    assert!(
        report.killed_with_backlog > 0,
        "no kill hit a non-empty outbox"
    );
    assert_eq!(report.outbox_after_drain, 0);
    // Every stored record at the receiver exactly once, same hashes.
    assert!(
        report.lost_at_receiver.is_empty(),
        "committed but not at the receiver: {:?}",
        report.lost_at_receiver
    );
    assert!(
        report.duplicates.is_empty(),
        "stored twice: {:?}",
        report.duplicates
    );
    assert_eq!(report.receiver_rows, report.kiosk_rows);
    let ids: HashSet<&str> = report
        .receiver_rows
        .iter()
        .map(|r| r.record_id.as_str())
        .collect();
    assert_eq!(ids.len(), report.receiver_rows.len());
    assert_eq!(report.receiver_chain, Ok(report.kiosk_rows.len() as u64));
    assert!(report.kiosk_chain.is_intact(), "{}", report.kiosk_chain);
    assert!(report.kiosk_chain_intact(), "{}", report.kiosk_chain);
    assert!(report.is_clean());
}
