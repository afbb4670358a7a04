//! The kiosk driver and the real gate-controller logic, joined by an
//! in-memory duplex link (and once by a pseudo-terminal pair), with simulated
//! pins: leaves follow their drive outputs at once, the test moves people
//! through the beams and pulls the fire alarm.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use embedded_hal::digital::{ErrorType as PinErrorType, InputPin, OutputPin};
use embedded_io::{Error as _, ErrorKind, Read, Write};
use gate::{Command, GateError, GateEvent, GateLink, GateMode, Light, LinkConfig, NakReason};
use gate_controller::{Config, Controller, Event, Leaf, Pins};
use gate_protocol::{Decoder, Frame, MAX_FRAME_LEN, encode};

// ---------------------------------------------------------------- pins

/// One simulated pin: a shared level.
#[derive(Clone, Default)]
struct SimPin(Arc<AtomicBool>);

impl SimPin {
    fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    fn put(&self, v: bool) {
        self.0.store(v, Ordering::SeqCst);
    }
}

impl PinErrorType for SimPin {
    type Error = Infallible;
}

impl OutputPin for SimPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.put(false);
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        self.put(true);
        Ok(())
    }
}

impl InputPin for SimPin {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.get())
    }
    fn is_low(&mut self) -> Result<bool, Infallible> {
        Ok(!self.get())
    }
}

/// Every pin of the gate, shared between the test and the controller.
#[derive(Clone, Default)]
struct Board {
    entry_drive: SimPin,
    entry_lock: SimPin,
    entry_open: SimPin,
    entry_closed: SimPin,
    exit_drive: SimPin,
    exit_lock: SimPin,
    exit_open: SimPin,
    exit_closed: SimPin,
    red: SimPin,
    green: SimPin,
    amber: SimPin,
    beam_entry: SimPin,
    beam_zone: SimPin,
    beam_exit: SimPin,
    alarm_ok: SimPin,
}

impl Board {
    fn new() -> Self {
        let b = Self::default();
        b.alarm_ok.put(true);
        b.entry_closed.put(true);
        b.exit_closed.put(true);
        b
    }

    fn pins(&self) -> Pins<SimPin, SimPin> {
        Pins {
            entry: Leaf {
                drive: self.entry_drive.clone(),
                lock: self.entry_lock.clone(),
                open_switch: self.entry_open.clone(),
                closed_switch: self.entry_closed.clone(),
            },
            exit: Leaf {
                drive: self.exit_drive.clone(),
                lock: self.exit_lock.clone(),
                open_switch: self.exit_open.clone(),
                closed_switch: self.exit_closed.clone(),
            },
            red: self.red.clone(),
            green: self.green.clone(),
            amber: self.amber.clone(),
            beam_entry: self.beam_entry.clone(),
            beam_zone: self.beam_zone.clone(),
            beam_exit: self.beam_exit.clone(),
            alarm_ok: self.alarm_ok.clone(),
        }
    }

    /// Leaves reach their commanded position at once; true when a switch changed.
    fn physics(&self) -> bool {
        let mut changed = false;
        for (drive, open, closed) in [
            (&self.entry_drive, &self.entry_open, &self.entry_closed),
            (&self.exit_drive, &self.exit_open, &self.exit_closed),
        ] {
            let d = drive.get();
            if open.get() != d || closed.get() == d {
                open.put(d);
                closed.put(!d);
                changed = true;
            }
        }
        changed
    }

    fn beams(&self, entry: bool, zone: bool, exit: bool) {
        self.beam_entry.put(entry);
        self.beam_zone.put(zone);
        self.beam_exit.put(exit);
    }

    /// (entry open, exit open) as driven, with the locks agreeing.
    fn leaves(&self) -> (bool, bool) {
        assert_ne!(self.entry_drive.get(), self.entry_lock.get(), "entry lock");
        assert_ne!(self.exit_drive.get(), self.exit_lock.get(), "exit lock");
        (self.entry_drive.get(), self.exit_drive.get())
    }
}

// ---------------------------------------------------------------- link

/// One direction of the in-memory link.
#[derive(Default)]
struct Pipe {
    bytes: Mutex<VecDeque<u8>>,
    ready: Condvar,
}

/// One end of the in-memory duplex link.
struct End {
    rx: Arc<Pipe>,
    tx: Arc<Pipe>,
}

fn duplex() -> (End, End) {
    let a = Arc::new(Pipe::default());
    let b = Arc::new(Pipe::default());
    (
        End {
            rx: a.clone(),
            tx: b.clone(),
        },
        End { rx: b, tx: a },
    )
}

impl embedded_io::ErrorType for End {
    type Error = io::Error;
}

impl Read for End {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        let guard = self.rx.bytes.lock().expect("lock");
        let (mut bytes, _) = self
            .rx
            .ready
            .wait_timeout_while(guard, Duration::from_millis(5), |b| b.is_empty())
            .expect("lock");
        if bytes.is_empty() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let n = buf.len().min(bytes.len());
        for (slot, b) in buf.iter_mut().zip(bytes.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }
}

impl Write for End {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        self.tx.bytes.lock().expect("lock").extend(buf);
        self.tx.ready.notify_all();
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), io::Error> {
        Ok(())
    }
}

// ---------------------------------------------------------------- gate

/// The gate controller running in its own thread, as its firmware loop would.
struct Gate {
    sensors: mpsc::Sender<mpsc::Sender<()>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Gate {
    fn spawn<T: Read + Write + Send + 'static>(mut io: T, board: Board, config: Config) -> Self {
        let (sensors, requests) = mpsc::channel::<mpsc::Sender<()>>();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = thread::spawn(move || {
            let start = Instant::now();
            let now = || u64::try_from(start.elapsed().as_millis()).expect("ms");
            let mut c = Controller::new(board.pins(), config, now()).expect("init");
            let mut decoder = Decoder::new();
            let mut last_tick = 0;
            let mut buf = [0u8; 64];
            while !stopping.load(Ordering::SeqCst) {
                if board.physics() {
                    step(&mut c, Event::Sensors, now(), &mut io);
                }
                match io.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        let frames: Vec<Frame> = decoder
                            .feed_slice(&buf[..n])
                            .filter_map(Result::ok)
                            .collect();
                        for f in frames {
                            step(&mut c, Event::Frame(f), now(), &mut io);
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::TimedOut => {}
                    Err(_) => break, // the kiosk end went away
                }
                while let Ok(done) = requests.try_recv() {
                    step(&mut c, Event::Sensors, now(), &mut io);
                    let _ = done.send(());
                }
                if now() >= last_tick + 10 {
                    last_tick = now();
                    step(&mut c, Event::Tick, last_tick, &mut io);
                }
            }
        });
        Self {
            sensors,
            stop,
            thread: Some(thread),
        }
    }

    /// Tells the controller the inputs changed; returns once it sampled them.
    fn sensors(&self) {
        let (done, wait) = mpsc::channel();
        self.sensors.send(done).expect("gate running");
        wait.recv_timeout(Duration::from_secs(2))
            .expect("gate sampled the inputs");
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One event through the controller; its frames onto the wire.
fn step<T: Write>(c: &mut Controller<SimPin, SimPin>, event: Event, now: u64, io: &mut T) {
    let mut out = Vec::new();
    c.handle(event, now, |f| out.push(f))
        .expect("sim pins never fail");
    for f in out {
        let mut wire = [0u8; MAX_FRAME_LEN];
        let n = encode(&f, &mut wire).expect("fits");
        io.write_all(&wire[..n]).expect("link");
    }
}

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

fn setup(config: Config) -> (GateLink<End>, Gate, Board) {
    let (kiosk, gate_io) = duplex();
    let board = Board::new();
    let gate = Gate::spawn(gate_io, board.clone(), config);
    (GateLink::new(kiosk, LinkConfig::default()), gate, board)
}

// ---------------------------------------------------------------- tests

#[test]
fn full_passage() {
    let (mut link, gate, board) = setup(relaxed());
    link.command(Command::Heartbeat).expect("ack");
    link.command(Command::SetLights(Light::Green)).expect("ack");
    assert!(board.green.get() && !board.red.get());
    link.command(Command::OpenEntry).expect("ack");
    expect_event(&mut link, is_mode(GateMode::EntryOpen));
    assert_eq!(board.leaves(), (true, false));

    board.beams(true, false, false);
    gate.sensors();
    board.beams(false, true, false);
    gate.sensors();
    expect_event(&mut link, |e| *e == GateEvent::PersonInZone);
    assert_eq!(board.leaves(), (false, false));

    link.command(Command::OpenExit { passage_id: 42 })
        .expect("ack");
    assert_eq!(board.leaves(), (false, true));
    board.beams(false, false, true);
    gate.sensors();
    board.beams(false, false, false);
    gate.sensors();
    expect_event(&mut link, |e| {
        *e == GateEvent::PassageCompleted { passage_id: 42 }
    });
    expect_event(&mut link, is_mode(GateMode::Closed));
    assert_eq!(board.leaves(), (false, false));
}

#[test]
fn tailgating_through_the_protocol() {
    let (mut link, gate, board) = setup(relaxed());
    link.command(Command::OpenEntry).expect("ack");
    for beams in [
        (true, false, false),
        (false, false, false),
        (true, false, false),
    ] {
        board.beams(beams.0, beams.1, beams.2);
        gate.sensors();
    }
    expect_event(&mut link, |e| *e == GateEvent::Tailgating);
    assert_eq!(board.leaves(), (false, false));
    assert_eq!(
        link.command(Command::OpenExit { passage_id: 1 }),
        Err(GateError::Nak {
            seq: 1,
            reason: NakReason::ZoneOccupied
        })
    );
    // The officer sends them back out through the entry.
    link.command(Command::EnterSafeState).expect("ack");
    assert_eq!(board.leaves(), (true, false));
    board.beams(false, false, false);
    gate.sensors();
    link.command(Command::CloseEntry).expect("ack");
    expect_event(&mut link, is_mode(GateMode::Closed));
}

#[test]
fn watchdog_through_the_protocol() {
    let config = Config {
        watchdog_ms: 150,
        ..Config::default()
    };
    let (mut link, _gate, board) = setup(config);
    link.command(Command::OpenEntry).expect("ack");
    // The kiosk falls silent.
    expect_event(&mut link, is_mode(GateMode::SafeState));
    assert_eq!(
        board.leaves(),
        (true, false),
        "exit closed and locked, entry open"
    );
    assert!(board.red.get());
    // The kiosk comes back (any sequence number starts a new session).
    link.command(Command::CloseEntry).expect("ack");
    assert_eq!(board.leaves(), (false, false));
}

#[test]
fn emergency_through_the_protocol() {
    let (mut link, gate, board) = setup(relaxed());
    link.command(Command::OpenEntry).expect("ack");
    board.alarm_ok.put(false);
    gate.sensors();
    expect_event(&mut link, |e| {
        *e == GateEvent::EmergencyRelease { active: true }
    });
    assert_eq!(board.leaves(), (true, true));
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
    assert_eq!(board.leaves(), (true, true));

    board.alarm_ok.put(true);
    gate.sensors();
    expect_event(&mut link, |e| {
        *e == GateEvent::EmergencyRelease { active: false }
    });
    expect_event(&mut link, is_mode(GateMode::SafeState));
    assert_eq!(board.leaves(), (true, false));
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
fn over_a_pseudo_terminal() {
    use serialport::{SerialPort, TTYPort};
    let (mut a, mut b) = TTYPort::pair().expect("pty pair");
    a.set_timeout(Duration::from_millis(20)).expect("timeout");
    b.set_timeout(Duration::from_millis(20)).expect("timeout");
    let board = Board::new();
    let _gate = Gate::spawn(
        gate::serial::SerialIo::new(Box::new(b)),
        board.clone(),
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
    assert_eq!(board.leaves(), (true, false));
}
