//! Host tests: every safety behaviour as embedded-hal-mock pin transactions.

extern crate std;

use std::vec::Vec;

use embedded_hal::digital::ErrorKind;
use embedded_hal_mock::eh1::MockError;
use embedded_hal_mock::eh1::digital::{Mock, State, Transaction};
use gate_protocol::{Command, Frame, GateEvent, Message, NakReason};

use crate::*;

/// Index of each pin in a [`Script`].
#[derive(Debug, Clone, Copy)]
enum P {
    EntryDrive,
    EntryLock,
    EntryOpenSw,
    EntryClosedSw,
    ExitDrive,
    ExitLock,
    ExitOpenSw,
    ExitClosedSw,
    Red,
    Green,
    Amber,
    BeamEntry,
    BeamZone,
    BeamExit,
    AlarmOk,
}

/// Which leaf.
#[derive(Debug, Clone, Copy)]
enum Side {
    Entry,
    Exit,
}

/// What the inputs read.
#[derive(Debug, Clone, Copy)]
struct World {
    alarm: bool,
    entry: LeafState,
    exit: LeafState,
    beams: (bool, bool, bool),
}

impl World {
    /// No alarm, both leaves closed, no beam.
    fn idle() -> Self {
        Self {
            alarm: false,
            entry: LeafState::Closed,
            exit: LeafState::Closed,
            beams: (false, false, false),
        }
    }
    fn entry(self, entry: LeafState) -> Self {
        Self { entry, ..self }
    }
    fn exit(self, exit: LeafState) -> Self {
        Self { exit, ..self }
    }
    fn beams(self, entry: bool, zone: bool, exit: bool) -> Self {
        Self {
            beams: (entry, zone, exit),
            ..self
        }
    }
    fn alarm(self) -> Self {
        Self {
            alarm: true,
            ..self
        }
    }
}

/// Expected transactions, per pin, in order.
#[derive(Default)]
struct Script {
    t: [Vec<Transaction>; 15],
}

/// High or low.
fn st(high: bool) -> State {
    if high { State::High } else { State::Low }
}

impl Script {
    fn set(&mut self, p: P, high: bool) -> &mut Self {
        self.t[p as usize].push(Transaction::set(st(high)));
        self
    }
    fn get(&mut self, p: P, high: bool) -> &mut Self {
        self.t[p as usize].push(Transaction::get(st(high)));
        self
    }
    fn pins(side: Side) -> (P, P) {
        match side {
            Side::Entry => (P::EntryDrive, P::EntryLock),
            Side::Exit => (P::ExitDrive, P::ExitLock),
        }
    }
    /// Unlock, drive open.
    fn open(&mut self, side: Side) -> &mut Self {
        let (drive, lock) = Self::pins(side);
        self.set(lock, false).set(drive, true)
    }
    /// Drive closed, lock.
    fn close(&mut self, side: Side) -> &mut Self {
        let (drive, lock) = Self::pins(side);
        self.set(drive, false).set(lock, true)
    }
    fn light(&mut self, l: Light) -> &mut Self {
        self.set(P::Red, l == Light::Red)
            .set(P::Green, l == Light::Green)
            .set(P::Amber, l == Light::Amber)
    }
    /// Exit closed, entry open, red.
    fn safe(&mut self) -> &mut Self {
        self.close(Side::Exit).open(Side::Entry).light(Light::Red)
    }
    fn leaf(&mut self, open: P, closed: P, s: LeafState) -> &mut Self {
        let (o, c) = match s {
            LeafState::Open => (true, false),
            LeafState::Closed => (false, true),
            LeafState::Moving => (false, false),
            LeafState::Invalid => (true, true),
        };
        self.get(open, o).get(closed, c)
    }
    /// One full sample of the inputs.
    fn sample(&mut self, w: World) -> &mut Self {
        self.get(P::AlarmOk, !w.alarm)
            .leaf(P::EntryOpenSw, P::EntryClosedSw, w.entry)
            .leaf(P::ExitOpenSw, P::ExitClosedSw, w.exit)
            .get(P::BeamEntry, w.beams.0)
            .get(P::BeamZone, w.beams.1)
            .get(P::BeamExit, w.beams.2)
    }
    /// The alarm poll of a tick.
    fn tick(&mut self, alarm: bool) -> &mut Self {
        self.get(P::AlarmOk, !alarm)
    }
    /// What `new()` does, with the inputs reading `w`.
    fn init(&mut self, w: World) -> &mut Self {
        self.close(Side::Exit)
            .close(Side::Entry)
            .light(Light::Red)
            .sample(w)
    }
    /// Makes the mocks (and clones to check them afterwards).
    fn build(&self) -> (Pins<Mock, Mock>, Vec<Mock>) {
        let m: Vec<Mock> = self.t.iter().map(Mock::new).collect();
        let pins = Pins {
            entry: Leaf {
                drive: m[P::EntryDrive as usize].clone(),
                lock: m[P::EntryLock as usize].clone(),
                open_switch: m[P::EntryOpenSw as usize].clone(),
                closed_switch: m[P::EntryClosedSw as usize].clone(),
            },
            exit: Leaf {
                drive: m[P::ExitDrive as usize].clone(),
                lock: m[P::ExitLock as usize].clone(),
                open_switch: m[P::ExitOpenSw as usize].clone(),
                closed_switch: m[P::ExitClosedSw as usize].clone(),
            },
            red: m[P::Red as usize].clone(),
            green: m[P::Green as usize].clone(),
            amber: m[P::Amber as usize].clone(),
            beam_entry: m[P::BeamEntry as usize].clone(),
            beam_zone: m[P::BeamZone as usize].clone(),
            beam_exit: m[P::BeamExit as usize].clone(),
            alarm_ok: m[P::AlarmOk as usize].clone(),
        };
        (pins, m)
    }
}

/// A controller under test and the mocks to verify.
struct Rig {
    c: Controller<Mock, Mock>,
    mocks: Vec<Mock>,
}

/// A command frame.
fn cmd(seq: u16, c: Command) -> Event {
    Event::Frame(Frame {
        seq,
        message: Message::Command(c),
    })
}

fn ack(seq: u16) -> Message {
    Message::Ack { seq }
}

fn nak(seq: u16, reason: NakReason) -> Message {
    Message::Nak { seq, reason }
}

fn status(mode: GateMode, entry: LeafState, exit: LeafState, occupancy: Occupancy) -> Message {
    Message::Event(GateEvent::Status {
        mode,
        entry,
        exit,
        occupancy,
    })
}

fn ev(e: GateEvent) -> Message {
    Message::Event(e)
}

impl Rig {
    fn new(script: &Script) -> Self {
        let (pins, mocks) = script.build();
        let c = Controller::new(pins, Config::default(), 0).expect("init");
        Self { c, mocks }
    }

    /// Handles an event; returns the messages sent (gate heartbeats dropped).
    fn run(&mut self, e: Event, now: u64) -> Vec<Message> {
        let mut out = Vec::new();
        self.c
            .handle(e, now, |f| out.push(f))
            .expect("no pin error");
        let seqs: Vec<u16> = out.iter().map(|f| f.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)),
            "{seqs:?}"
        );
        out.into_iter()
            .map(|f| f.message)
            .filter(|m| *m != Message::Event(GateEvent::Heartbeat))
            .collect()
    }

    fn done(mut self) {
        for m in &mut self.mocks {
            m.done();
        }
    }
}

#[test]
fn new_drives_every_actuator_safe_first() {
    let mut s = Script::default();
    s.init(World::idle());
    let rig = Rig::new(&s);
    assert_eq!(rig.c.mode(), GateMode::Closed);
    rig.done();
}

#[test]
fn new_in_an_alarm_opens_both_leaves() {
    let mut s = Script::default();
    s.init(World::idle().alarm())
        .open(Side::Exit)
        .open(Side::Entry)
        .light(Light::Green);
    let rig = Rig::new(&s);
    assert_eq!(rig.c.mode(), GateMode::Emergency);
    rig.done();
}

#[test]
fn new_with_someone_inside_opens_the_entry_only() {
    let mut s = Script::default();
    s.init(World::idle().beams(false, true, false))
        .open(Side::Entry);
    let rig = Rig::new(&s);
    assert_eq!(rig.c.mode(), GateMode::SafeState);
    rig.done();
}

#[test]
fn new_returns_the_pin_error() {
    let mut s = Script::default();
    s.t[P::ExitDrive as usize]
        .push(Transaction::set(State::Low).with_error(MockError::Io(std::io::ErrorKind::Other)));
    let (pins, mut mocks) = s.build();
    let err = Controller::new(pins, Config::default(), 0).expect_err("pin fails");
    assert!(matches!(err, InitError::Pin(_)));
    for m in &mut mocks {
        m.done();
    }
}

#[test]
fn normal_passage() {
    use LeafState::{Closed, Open};
    let idle = World::idle();
    let mut s = Script::default();
    s.init(idle);
    s.open(Side::Entry); // OpenEntry
    s.sample(idle.entry(Open).beams(true, false, false)); // steps in
    s.sample(idle.entry(Open).beams(false, true, false)); // in the zone
    s.close(Side::Entry);
    s.open(Side::Exit); // OpenExit
    s.sample(idle.exit(Open).beams(false, false, true)); // walks out
    s.sample(idle.exit(Open)); // gone
    s.close(Side::Exit);
    let mut rig = Rig::new(&s);

    assert_eq!(
        rig.run(cmd(1, Command::OpenEntry), 10),
        [
            ack(1),
            status(GateMode::EntryOpen, Closed, Closed, Occupancy::Empty)
        ]
    );
    assert_eq!(rig.run(Event::Sensors, 20), []);
    assert_eq!(
        rig.run(Event::Sensors, 30),
        [
            ev(GateEvent::PersonInZone),
            status(GateMode::Occupied, Open, Closed, Occupancy::One)
        ]
    );
    assert_eq!(
        rig.run(cmd(2, Command::OpenExit { passage_id: 77 }), 40),
        [
            ack(2),
            status(GateMode::ExitOpen, Open, Closed, Occupancy::One)
        ]
    );
    assert_eq!(rig.run(Event::Sensors, 50), []);
    assert_eq!(
        rig.run(Event::Sensors, 60),
        [
            ev(GateEvent::PassageCompleted { passage_id: 77 }),
            status(GateMode::Closed, Closed, Open, Occupancy::Empty)
        ]
    );
    rig.done();
}

#[test]
fn tailgating_closes_entry_keeps_exit_closed_and_refuses_open_exit() {
    use LeafState::{Closed, Open};
    let idle = World::idle().entry(Open);
    let mut s = Script::default();
    s.init(World::idle());
    s.open(Side::Entry);
    s.sample(idle.beams(true, false, false)); // first body
    s.sample(idle.beams(false, true, false)); // in the zone
    s.close(Side::Entry); // person in zone → closing
    s.sample(idle.beams(true, true, false)); // a second body on the entry beam, leaf still open
    s.close(Side::Entry).close(Side::Exit).light(Light::Red); // tailgating
    let mut rig = Rig::new(&s);

    rig.run(cmd(1, Command::OpenEntry), 0);
    assert_eq!(rig.run(Event::Sensors, 10), []);
    assert_eq!(rig.run(Event::Sensors, 20)[0], ev(GateEvent::PersonInZone));
    assert_eq!(
        rig.run(Event::Sensors, 30),
        [
            ev(GateEvent::Tailgating),
            status(GateMode::Occupied, Open, Closed, Occupancy::Several)
        ]
    );
    assert_eq!(
        rig.run(cmd(2, Command::OpenExit { passage_id: 1 }), 40),
        [nak(2, NakReason::ZoneOccupied)]
    );
    rig.done();
}

#[test]
fn two_bodies_before_the_entry_closes_is_tailgating() {
    let open = World::idle().entry(LeafState::Open);
    let mut s = Script::default();
    s.init(World::idle());
    s.open(Side::Entry);
    s.sample(open.beams(true, false, false));
    s.sample(open.beams(false, false, false));
    s.sample(open.beams(true, false, false)); // a second body
    s.close(Side::Entry).close(Side::Exit).light(Light::Red);
    let mut rig = Rig::new(&s);
    rig.run(cmd(1, Command::OpenEntry), 0);
    rig.run(Event::Sensors, 10);
    rig.run(Event::Sensors, 20);
    assert_eq!(
        rig.run(Event::Sensors, 30),
        [
            ev(GateEvent::Tailgating),
            status(
                GateMode::Occupied,
                LeafState::Open,
                LeafState::Closed,
                Occupancy::Several
            )
        ]
    );
    rig.done();
}

#[test]
fn emergency_opens_both_refuses_commands_and_ends_in_safe_state() {
    use LeafState::Closed;
    let mut s = Script::default();
    s.init(World::idle());
    s.open(Side::Entry); // OpenEntry
    s.tick(true); // alarm
    s.open(Side::Exit).open(Side::Entry).light(Light::Green);
    s.tick(true); // still
    s.tick(false); // cleared
    s.safe();
    let mut rig = Rig::new(&s);

    rig.run(cmd(1, Command::OpenEntry), 0);
    assert_eq!(
        rig.run(Event::Tick, 10),
        [
            ev(GateEvent::EmergencyRelease { active: true }),
            status(GateMode::Emergency, Closed, Closed, Occupancy::Empty)
        ]
    );
    for (seq, c) in [
        (2, Command::CloseEntry),
        (3, Command::OpenExit { passage_id: 5 }),
        (4, Command::CloseExit),
        (5, Command::SetLights(Light::Red)),
        (6, Command::EnterSafeState),
        (7, Command::OpenEntry),
    ] {
        assert_eq!(
            rig.run(cmd(seq, c), 20),
            [nak(seq, NakReason::EmergencyActive)]
        );
    }
    assert_eq!(rig.run(cmd(8, Command::Heartbeat), 30), [ack(8)]);
    assert_eq!(
        rig.run(cmd(9, Command::QueryStatus), 30),
        [
            ack(9),
            status(GateMode::Emergency, Closed, Closed, Occupancy::Empty)
        ]
    );
    // The watchdog does not close anything during an alarm.
    assert_eq!(rig.run(Event::Tick, 10_000), []);
    assert_eq!(
        rig.run(Event::Tick, 10_010),
        [
            ev(GateEvent::EmergencyRelease { active: false }),
            status(GateMode::SafeState, Closed, Closed, Occupancy::Empty)
        ]
    );
    rig.done();
}

#[test]
fn emergency_through_the_sensor_interrupt_overrides_an_open_exit() {
    let mut s = Script::default();
    s.init(World::idle());
    s.open(Side::Entry);
    s.sample(
        World::idle()
            .entry(LeafState::Open)
            .beams(true, false, false),
    );
    s.sample(World::idle().beams(false, true, false));
    s.close(Side::Entry);
    s.sample(World::idle().alarm().beams(false, true, false));
    s.open(Side::Exit).open(Side::Entry).light(Light::Green);
    let mut rig = Rig::new(&s);
    rig.run(cmd(1, Command::OpenEntry), 0);
    rig.run(Event::Sensors, 1);
    rig.run(Event::Sensors, 2);
    assert_eq!(rig.c.mode(), GateMode::Occupied);
    let out = rig.run(Event::Sensors, 3);
    assert_eq!(out[0], ev(GateEvent::EmergencyRelease { active: true }));
    assert_eq!(rig.c.mode(), GateMode::Emergency);
    rig.done();
}

#[test]
fn watchdog_goes_to_safe_state_and_close_entry_recovers() {
    use LeafState::Closed;
    let mut s = Script::default();
    s.init(World::idle());
    s.tick(false); // 1000
    s.tick(false); // 3000: heartbeat at 1500 kept it alive
    s.tick(false); // 3600: expired
    s.safe();
    s.tick(false); // 3700: already safe, nothing
    s.close(Side::Entry); // CloseEntry recovers, in a new session (any seq)
    let mut rig = Rig::new(&s);

    assert_eq!(rig.run(Event::Tick, 1_000), []);
    assert_eq!(rig.run(cmd(40, Command::Heartbeat), 1_500), [ack(40)]);
    assert_eq!(rig.run(Event::Tick, 3_000), []);
    assert_eq!(
        rig.run(Event::Tick, 3_600),
        [status(
            GateMode::SafeState,
            Closed,
            Closed,
            Occupancy::Empty
        )]
    );
    assert_eq!(rig.run(Event::Tick, 3_700), []);
    assert_eq!(
        rig.run(cmd(500, Command::CloseEntry), 3_800),
        [
            ack(500),
            status(GateMode::Closed, Closed, Closed, Occupancy::Empty)
        ]
    );
    rig.done();
}

#[test]
fn safe_state_is_not_left_while_someone_is_inside() {
    let mut s = Script::default();
    s.init(World::idle());
    s.safe(); // EnterSafeState
    s.sample(
        World::idle()
            .entry(LeafState::Open)
            .beams(false, true, false),
    );
    let mut rig = Rig::new(&s);
    rig.run(cmd(1, Command::EnterSafeState), 0);
    rig.run(Event::Sensors, 1);
    assert_eq!(
        rig.run(cmd(2, Command::CloseEntry), 2),
        [nak(2, NakReason::ZoneOccupied)]
    );
    assert_eq!(rig.c.mode(), GateMode::SafeState);
    rig.done();
}

#[test]
fn bad_sequence_is_refused_and_a_repeat_is_answered_without_acting_twice() {
    let mut s = Script::default();
    s.init(World::idle());
    s.open(Side::Entry); // seq 5 only once
    s.close(Side::Entry); // seq 6
    let mut rig = Rig::new(&s);

    assert_eq!(rig.run(cmd(5, Command::OpenEntry), 0)[0], ack(5));
    assert_eq!(
        rig.run(cmd(9, Command::CloseEntry), 1),
        [nak(9, NakReason::BadSequence)]
    );
    assert_eq!(
        rig.run(cmd(4, Command::CloseEntry), 1),
        [nak(4, NakReason::BadSequence)]
    );
    assert_eq!(rig.c.mode(), GateMode::EntryOpen);
    assert_eq!(rig.run(cmd(5, Command::OpenEntry), 2), [ack(5)]);
    assert_eq!(rig.run(cmd(6, Command::CloseEntry), 3)[0], ack(6));
    assert_eq!(rig.c.mode(), GateMode::Closed);
    rig.done();
}

#[test]
fn sequence_numbers_wrap() {
    let mut s = Script::default();
    s.init(World::idle());
    let mut rig = Rig::new(&s);
    assert_eq!(
        rig.run(cmd(u16::MAX, Command::Heartbeat), 0),
        [ack(u16::MAX)]
    );
    assert_eq!(rig.run(cmd(0, Command::Heartbeat), 1), [ack(0)]);
    rig.done();
}

#[test]
fn open_exit_needs_an_occupant_and_lights_follow_commands() {
    let mut s = Script::default();
    s.init(World::idle());
    s.light(Light::Green);
    s.light(Light::Off);
    let mut rig = Rig::new(&s);
    assert_eq!(
        rig.run(cmd(1, Command::OpenExit { passage_id: 3 }), 0),
        [nak(1, NakReason::InvalidInMode)]
    );
    assert_eq!(
        rig.run(cmd(2, Command::SetLights(Light::Green)), 1),
        [ack(2)]
    );
    assert_eq!(rig.run(cmd(3, Command::SetLights(Light::Off)), 2), [ack(3)]);
    rig.done();
}

#[test]
fn an_actuator_error_goes_to_fault_and_is_returned() {
    let mut s = Script::default();
    s.init(World::idle());
    s.t[P::EntryLock as usize]
        .push(Transaction::set(State::Low).with_error(MockError::Io(std::io::ErrorKind::Other)));
    s.safe(); // the fail-safe attempt
    let (pins, mut mocks) = s.build();
    let mut c = Controller::new(pins, Config::default(), 0).expect("init");
    let mut out = Vec::new();
    let err = c
        .handle(cmd(1, Command::OpenEntry), 0, |f| out.push(f.message))
        .expect_err("pin error");
    assert!(
        matches!(err, Error::Pin(e) if embedded_hal::digital::Error::kind(&e) == ErrorKind::Other)
    );
    assert_eq!(c.mode(), GateMode::Fault);
    assert_eq!(out[0], nak(1, NakReason::Faulted));
    assert_eq!(out[1], ev(GateEvent::Fault(FaultCode::Actuator)));
    let mut out = Vec::new();
    c.handle(cmd(2, Command::OpenEntry), 1, |f| out.push(f.message))
        .expect("no pins touched");
    assert_eq!(out, [nak(2, NakReason::Faulted)]);
    for m in &mut mocks {
        m.done();
    }
}

#[test]
fn a_leaf_that_does_not_move_is_a_fault() {
    let mut s = Script::default();
    s.init(World::idle());
    s.open(Side::Entry);
    s.sample(World::idle().entry(LeafState::Moving));
    s.tick(false);
    s.safe();
    let mut rig = Rig::new(&s);
    rig.run(cmd(1, Command::OpenEntry), 0);
    rig.run(Event::Sensors, 100);
    rig.run(cmd(2, Command::Heartbeat), 4_000);
    let out = rig.run(Event::Tick, 4_101);
    assert_eq!(out[0], ev(GateEvent::Fault(FaultCode::LeafTimeout)));
    assert_eq!(rig.c.mode(), GateMode::Fault);
    rig.done();
}

#[test]
fn the_gate_sends_heartbeats() {
    let mut s = Script::default();
    s.init(World::idle());
    s.tick(false).tick(false);
    let (pins, mut mocks) = s.build();
    let mut c = Controller::new(pins, Config::default(), 0).expect("init");
    let mut out = Vec::new();
    c.handle(Event::Tick, 500, |f| out.push(f.message))
        .expect("ok");
    assert_eq!(out, []);
    c.handle(cmd(1, Command::Heartbeat), 900, |f| out.push(f.message))
        .expect("ok");
    c.handle(Event::Tick, 1_000, |f| out.push(f.message))
        .expect("ok");
    assert_eq!(out, [ack(1), ev(GateEvent::Heartbeat)]);
    for m in &mut mocks {
        m.done();
    }
}
