//! The kiosk driver and the real gate-controller logic (`gate-sim`), joined by
//! an in-memory duplex link (and once by a pseudo-terminal pair), with
//! simulated pins: leaves follow their drive outputs at once, the test moves
//! people through the beams and pulls the fire alarm.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use embedded_io::{Read, Write};
use gate::{Command, GateError, GateEvent, GateLink, GateMode, Light, LinkConfig, NakReason};
use gate_sim::{Board, Config, End, LeafDrive, SimGate, duplex};

use LeafDrive::{Closed, Open};

/// Waits for the first event matching `want`, skipping others.
fn expect_event<T: Read + Write>(
    link: &mut GateLink<T>,
    want: impl Fn(&GateEvent) -> bool,
) -> GateEvent {
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Some(e) = link.next_event(Duration::from_millis(50)).expect("link")
            && want(&e)
        {
            return e;
        }
    }
    panic!("event not received");
}

fn is_mode(mode: GateMode) -> impl Fn(&GateEvent) -> bool {
    move |e| matches!(e, GateEvent::Status { mode: m, .. } if *m == mode)
}

/// Timing for tests that are not about the watchdog: a loaded CI machine must
/// not trip it between two commands.
fn relaxed() -> Config {
    Config {
        watchdog_ms: 10_000,
        ..Config::default()
    }
}

fn setup(config: Config) -> (GateLink<End>, SimGate) {
    let (kiosk, gate_io) = duplex();
    let gate = SimGate::spawn(gate_io, Board::new(), config);
    (GateLink::new(kiosk, LinkConfig::default()), gate)
}

#[test]
fn full_passage() {
    let (mut link, gate) = setup(relaxed());
    link.command(Command::Heartbeat).expect("ack");
    link.command(Command::SetLights(Light::Green)).expect("ack");
    assert_eq!(gate.light(), Some(Light::Green));
    link.command(Command::OpenEntry).expect("ack");
    expect_event(&mut link, is_mode(GateMode::EntryOpen));
    assert_eq!(gate.leaves(), (Open, Closed));

    gate.beams(true, false, false).unwrap();
    gate.beams(false, true, false).unwrap();
    expect_event(&mut link, |e| *e == GateEvent::PersonInZone);
    assert_eq!(gate.leaves(), (Closed, Closed));

    link.command(Command::OpenExit { passage_id: 42 })
        .expect("ack");
    assert_eq!(gate.leaves(), (Closed, Open));
    gate.beams(false, false, true).unwrap();
    gate.beams(false, false, false).unwrap();
    expect_event(&mut link, |e| {
        *e == GateEvent::PassageCompleted { passage_id: 42 }
    });
    expect_event(&mut link, is_mode(GateMode::Closed));
    assert_eq!(gate.leaves(), (Closed, Closed));
}

#[test]
fn the_walking_helpers_make_a_passage() {
    let (mut link, gate) = setup(relaxed());
    link.command(Command::OpenEntry).expect("ack");
    gate.walk_in().unwrap();
    expect_event(&mut link, |e| *e == GateEvent::PersonInZone);
    link.command(Command::OpenExit { passage_id: 7 })
        .expect("ack");
    gate.walk_out().unwrap();
    expect_event(&mut link, |e| {
        *e == GateEvent::PassageCompleted { passage_id: 7 }
    });
    assert_eq!(gate.mode(), Some(GateMode::Closed));
    assert_eq!(gate.failure(), None);
}

#[test]
fn tailgating_through_the_protocol() {
    let (mut link, gate) = setup(relaxed());
    link.command(Command::OpenEntry).expect("ack");
    for (entry, zone, exit) in [
        (true, false, false),
        (false, false, false),
        (true, false, false),
    ] {
        gate.beams(entry, zone, exit).unwrap();
    }
    expect_event(&mut link, |e| *e == GateEvent::Tailgating);
    assert_eq!(gate.leaves(), (Closed, Closed));
    assert_eq!(
        link.command(Command::OpenExit { passage_id: 1 }),
        Err(GateError::Nak {
            seq: 1,
            reason: NakReason::ZoneOccupied
        })
    );
    // The officer sends them back out through the entry.
    link.command(Command::EnterSafeState).expect("ack");
    assert_eq!(gate.leaves(), (Open, Closed));
    gate.beams(false, false, false).unwrap();
    link.command(Command::CloseEntry).expect("ack");
    expect_event(&mut link, is_mode(GateMode::Closed));
}

#[test]
fn watchdog_through_the_protocol() {
    let config = Config {
        watchdog_ms: 150,
        ..Config::default()
    };
    let (mut link, gate) = setup(config);
    link.command(Command::OpenEntry).expect("ack");
    // The kiosk falls silent.
    expect_event(&mut link, is_mode(GateMode::SafeState));
    assert_eq!(
        gate.leaves(),
        (Open, Closed),
        "exit closed and locked, entry open"
    );
    assert_eq!(gate.light(), Some(Light::Red));
    // The kiosk comes back (any sequence number starts a new session).
    link.command(Command::CloseEntry).expect("ack");
    assert_eq!(gate.leaves(), (Closed, Closed));
}

#[test]
fn emergency_through_the_protocol() {
    let (mut link, gate) = setup(relaxed());
    link.command(Command::OpenEntry).expect("ack");
    gate.set_alarm(true).unwrap();
    expect_event(&mut link, |e| {
        *e == GateEvent::EmergencyRelease { active: true }
    });
    assert_eq!(gate.leaves(), (Open, Open));
    let refused = link.command(Command::CloseEntry);
    assert!(matches!(
        refused,
        Err(GateError::Nak {
            reason: NakReason::EmergencyActive,
            ..
        })
    ));
    link.command(Command::QueryStatus)
        .expect("status is served");
    expect_event(&mut link, is_mode(GateMode::Emergency));
    assert_eq!(gate.leaves(), (Open, Open));

    gate.set_alarm(false).unwrap();
    expect_event(&mut link, |e| {
        *e == GateEvent::EmergencyRelease { active: false }
    });
    expect_event(&mut link, is_mode(GateMode::SafeState));
    assert_eq!(gate.leaves(), (Open, Closed));
}

#[test]
fn a_silent_gate_is_no_ack() {
    let (kiosk, _unused) = duplex();
    let config = LinkConfig {
        ack_timeout: Duration::from_millis(30),
        attempts: 3,
    };
    let mut link = GateLink::new(kiosk, config);
    assert_eq!(
        link.command(Command::Heartbeat),
        Err(GateError::NoAck {
            seq: 0,
            attempts: 3
        })
    );
}

#[test]
fn a_dropped_kiosk_end_stops_the_gate_loop() {
    let (link, gate) = setup(relaxed());
    drop(link);
    let deadline = Instant::now() + Duration::from_secs(3);
    while gate.failure().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(gate.failure(), Some(gate_sim::SimError::LinkClosed));
    assert_eq!(gate.sensors(), Err(gate_sim::SimError::LinkClosed));
}

#[test]
fn over_a_pseudo_terminal() {
    use serialport::{SerialPort, TTYPort};
    let (mut a, mut b) = TTYPort::pair().expect("pty pair");
    a.set_timeout(Duration::from_millis(20)).expect("timeout");
    b.set_timeout(Duration::from_millis(20)).expect("timeout");
    let gate = SimGate::spawn(
        gate::serial::SerialIo::new(Box::new(b)),
        Board::new(),
        relaxed(),
    );
    let mut link = GateLink::new(
        gate::serial::SerialIo::new(Box::new(a)),
        LinkConfig::default(),
    );
    link.command(Command::Heartbeat).expect("ack over the pty");
    link.command(Command::QueryStatus).expect("ack");
    expect_event(&mut link, is_mode(GateMode::Closed));
    link.command(Command::OpenEntry).expect("ack");
    assert_eq!(gate.leaves(), (Open, Closed));
}
