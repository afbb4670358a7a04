//! `GateWorker` against the real gate-controller logic (`gate-sim`): orders
//! in, reports out, heartbeats in between. Every wait has a generous
//! deadline; no test asserts how long anything took.
#![allow(clippy::unwrap_used)]

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use embedded_io::Read;
use gate::{
    GateHandle, GateLink, GateMode, GateOrder, GateReport, GateWorker, Light, LinkConfig,
    NakReason, WorkerConfig,
};
use gate_sim::{Board, Config, LeafDrive, SimGate, duplex};

use LeafDrive::{Closed, Open};

/// The worker, what it reports, and the simulated gate it drives.
struct Lane {
    handle: GateHandle,
    reports: mpsc::Receiver<GateReport>,
    gate: SimGate,
}

/// A worker whose reports go into a channel.
fn worker<T>(link: GateLink<T>, config: WorkerConfig) -> (GateHandle, mpsc::Receiver<GateReport>)
where
    T: embedded_io::Read + embedded_io::Write + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let handle = GateWorker::spawn(link, config, move |r| {
        let _ = tx.send(r);
    })
    .unwrap();
    (handle, rx)
}

/// A lane whose gate starts `Closed` (its first report is checked).
fn lane(gate_config: Config, config: WorkerConfig) -> Lane {
    let (kiosk, gate_io) = duplex();
    let gate = SimGate::spawn(gate_io, Board::new(), gate_config);
    let (handle, reports) = worker(GateLink::new(kiosk, LinkConfig::default()), config);
    let lane = Lane {
        handle,
        reports,
        gate,
    };
    lane.expect(GateReport::Status(GateMode::Closed));
    lane
}

/// Timing for tests that are not about the watchdog.
fn relaxed() -> Config {
    Config {
        watchdog_ms: 10_000,
        ..Config::default()
    }
}

impl Lane {
    fn order(&self, order: GateOrder) {
        self.handle.order(order).unwrap();
    }

    /// Waits for `want`, skipping other reports; returns the skipped ones.
    fn expect(&self, want: GateReport) -> Vec<GateReport> {
        expect(&self.reports, |r| *r == want)
    }
}

/// Waits for the first report matching `want`; returns the ones before it.
fn expect(
    reports: &mpsc::Receiver<GateReport>,
    want: impl Fn(&GateReport) -> bool,
) -> Vec<GateReport> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut skipped = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match reports.recv_timeout(left) {
            Ok(r) if want(&r) => return skipped,
            Ok(r) => skipped.push(r),
            Err(_) => break,
        }
    }
    panic!("report not received; got {skipped:?}");
}

#[test]
fn admit_walk_in_release_walk_out_is_a_passage() {
    let lane = lane(relaxed(), WorkerConfig::default());
    lane.order(GateOrder::Admit);
    lane.expect(GateReport::Acknowledged(GateOrder::Admit));
    assert_eq!(lane.gate.leaves(), (Open, Closed));

    lane.gate.walk_in().unwrap();
    lane.expect(GateReport::PersonInZone);
    assert_eq!(lane.gate.leaves(), (Closed, Closed));

    let release = GateOrder::Release { passage_id: 7 };
    lane.order(release);
    lane.expect(GateReport::Acknowledged(release));
    assert_eq!(lane.gate.leaves(), (Closed, Open));

    lane.gate.walk_out().unwrap();
    lane.expect(GateReport::Passed { passage_id: 7 });
    lane.expect(GateReport::Status(GateMode::Closed));
    assert_eq!(lane.gate.leaves(), (Closed, Closed));
}

#[test]
fn release_with_nobody_inside_is_refused() {
    let lane = lane(relaxed(), WorkerConfig::default());
    let release = GateOrder::Release { passage_id: 1 };
    lane.order(release);
    lane.expect(GateReport::Refused {
        order: release,
        reason: NakReason::InvalidInMode,
    });
    assert_eq!(lane.gate.leaves(), (Closed, Closed));
}

#[test]
fn tailgating_is_reported_and_blocks_release_until_turned_back() {
    let lane = lane(relaxed(), WorkerConfig::default());
    lane.order(GateOrder::Admit);
    lane.expect(GateReport::Acknowledged(GateOrder::Admit));

    lane.gate.tailgate().unwrap();
    lane.expect(GateReport::Tailgating);
    assert_eq!(lane.gate.leaves(), (Closed, Closed));
    let release = GateOrder::Release { passage_id: 2 };
    lane.order(release);
    lane.expect(GateReport::Refused {
        order: release,
        reason: NakReason::ZoneOccupied,
    });
    assert_eq!(lane.gate.leaves(), (Closed, Closed));

    // The officer sends both back; the lane then serves the next traveller.
    lane.order(GateOrder::TurnBack);
    lane.expect(GateReport::Acknowledged(GateOrder::TurnBack));
    lane.gate.turn_back().unwrap();
    lane.order(GateOrder::Admit);
    lane.expect(GateReport::Acknowledged(GateOrder::Admit));
    assert_eq!(lane.gate.mode(), Some(GateMode::EntryOpen));
    assert_eq!(lane.gate.leaves(), (Open, Closed));
}

#[test]
fn a_fire_alarm_is_an_emergency() {
    let lane = lane(relaxed(), WorkerConfig::default());
    lane.order(GateOrder::Admit);
    lane.expect(GateReport::Acknowledged(GateOrder::Admit));

    lane.gate.set_alarm(true).unwrap();
    lane.expect(GateReport::Emergency { active: true });
    assert_eq!(lane.gate.leaves(), (Open, Open));
    lane.order(GateOrder::CloseExit);
    lane.expect(GateReport::Refused {
        order: GateOrder::CloseExit,
        reason: NakReason::EmergencyActive,
    });

    lane.gate.set_alarm(false).unwrap();
    lane.expect(GateReport::Emergency { active: false });
    lane.expect(GateReport::Status(GateMode::SafeState));
    assert_eq!(lane.gate.leaves(), (Open, Closed));
}

#[test]
fn a_silent_gate_is_link_lost_then_restored_when_it_appears() {
    let (kiosk, mut gate_io) = duplex();
    let link = GateLink::new(
        kiosk,
        LinkConfig {
            ack_timeout: Duration::from_millis(30),
            attempts: 2,
        },
    );
    let config = WorkerConfig {
        heartbeat: Duration::from_millis(50),
        ..WorkerConfig::default()
    };
    let (handle, reports) = worker(link, config);
    expect(&reports, |r| matches!(r, GateReport::LinkLost(_)));
    handle.order(GateOrder::Admit).unwrap();
    expect(&reports, |r| {
        *r == GateReport::Unconfirmed(GateOrder::Admit)
    });

    // A powered-off gate heard nothing of what was sent meanwhile.
    let mut buf = [0u8; 256];
    while gate_io.read(&mut buf).is_ok() {}
    let gate = SimGate::spawn(gate_io, Board::new(), relaxed());
    let skipped = expect(&reports, |r| *r == GateReport::LinkRestored);
    assert!(
        !skipped.iter().any(|r| matches!(r, GateReport::LinkLost(_))),
        "LinkLost is reported once per outage: {skipped:?}"
    );
    expect(&reports, |r| *r == GateReport::Status(GateMode::Closed));
    handle.order(GateOrder::Admit).unwrap();
    expect(&reports, |r| {
        *r == GateReport::Acknowledged(GateOrder::Admit)
    });
    assert_eq!(gate.leaves(), (Open, Closed));
}

#[test]
fn heartbeats_keep_the_gate_out_of_its_safe_state() {
    let watchdog_ms = 300;
    let gate_config = Config {
        watchdog_ms,
        ..Config::default()
    };
    let config = WorkerConfig {
        heartbeat: Duration::from_millis(50),
        ..WorkerConfig::default()
    };
    let lane = lane(gate_config, config);
    lane.order(GateOrder::Admit);
    lane.expect(GateReport::Acknowledged(GateOrder::Admit));

    // No order for several watchdog periods: only heartbeats reach the gate.
    thread::sleep(Duration::from_millis(5 * watchdog_ms));
    assert_eq!(lane.gate.mode(), Some(GateMode::EntryOpen));
    let reports: Vec<_> = lane.reports.try_iter().collect();
    assert!(
        !reports.contains(&GateReport::Status(GateMode::SafeState)),
        "{reports:?}"
    );
}

#[test]
fn shutdown_leaves_the_gate_in_its_safe_state() {
    let lane = lane(relaxed(), WorkerConfig::default());
    lane.order(GateOrder::Admit);
    lane.expect(GateReport::Acknowledged(GateOrder::Admit));
    lane.gate.walk_in().unwrap();
    lane.expect(GateReport::PersonInZone);

    lane.handle.shutdown();
    // The watchdog (10 s here) has not acted: the worker said EnterSafeState.
    assert_eq!(lane.gate.mode(), Some(GateMode::SafeState));
    assert_eq!(lane.gate.leaves(), (Open, Closed));
}

#[test]
fn turn_back_then_admit_waits_for_the_zone_to_clear() {
    let lane = lane(relaxed(), WorkerConfig::default());
    lane.order(GateOrder::Admit);
    lane.expect(GateReport::Acknowledged(GateOrder::Admit));
    lane.gate.walk_in().unwrap();
    lane.expect(GateReport::PersonInZone);

    // The officer dismissed the referral: back out through the entry.
    lane.order(GateOrder::TurnBack);
    lane.expect(GateReport::Acknowledged(GateOrder::TurnBack));
    lane.expect(GateReport::Status(GateMode::SafeState));
    assert_eq!(lane.gate.leaves(), (Open, Closed));
    assert_eq!(lane.gate.light(), Some(Light::Red));

    // Admit while they are still inside waits; the next order ends the wait.
    lane.order(GateOrder::Admit);
    lane.order(GateOrder::Lights(Light::Amber));
    let skipped = lane.expect(GateReport::Refused {
        order: GateOrder::Admit,
        reason: NakReason::ZoneOccupied,
    });
    assert!(
        !skipped.contains(&GateReport::Acknowledged(GateOrder::Admit)),
        "{skipped:?}"
    );
    lane.expect(GateReport::Acknowledged(GateOrder::Lights(Light::Amber)));
    assert_eq!(lane.gate.mode(), Some(GateMode::SafeState));

    // Admit again; it completes once the traveller has walked out.
    lane.order(GateOrder::Admit);
    lane.gate.turn_back().unwrap();
    lane.expect(GateReport::Acknowledged(GateOrder::Admit));
    assert_eq!(lane.gate.mode(), Some(GateMode::EntryOpen));
    assert_eq!(lane.gate.leaves(), (Open, Closed));

    // And the next traveller passes as usual.
    lane.gate.walk_in().unwrap();
    lane.expect(GateReport::PersonInZone);
}
