//! The controller firmware loop on a thread, and the people who walk through it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use embedded_io::{Error as _, ErrorKind, Read, Write};
use gate_controller::{Config, Controller, Event, Flash, Slots};
use gate_protocol::{Command, Decoder, FirmwareInfo, GateMode, Light, MAX_FRAME_LEN, Message};

use crate::{Board, LeafDrive, SimFirmware, SimPin};

/// How long the caller waits for the loop to start or to sample the inputs.
const LOOP_WAIT: Duration = Duration::from_secs(5);

/// Period of [`Event::Tick`], in ms (the firmware's timer: 10–50 ms).
const TICK_MS: u64 = 10;

/// Why the simulated gate loop is not running, or did not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The operating system refused to start the loop's thread.
    #[error("could not start the simulated gate thread: {0:?}")]
    Spawn(std::io::ErrorKind),
    /// The controller failed to start or returned an error (cannot happen
    /// with [`SimPin`]s, which never fail); the loop stopped.
    #[error("the gate controller failed: {0}")]
    Controller(String),
    /// The link reported end of stream (the kiosk end was dropped); the loop stopped.
    #[error("the gate link was closed")]
    LinkClosed,
    /// Reading or writing the link failed; the loop stopped.
    #[error("the gate link failed: {0:?}")]
    Link(ErrorKind),
    /// A frame could not be encoded (a bug); the loop stopped.
    #[error("could not encode a frame: {0}")]
    Encode(gate_protocol::Error),
    /// The loop's thread panicked.
    #[error("the simulated gate thread panicked")]
    Panicked,
    /// The loop was stopped on request ([`SimGate::stop`] or drop).
    #[error("the simulated gate was stopped")]
    Stopped,
    /// The loop did not sample the inputs within this time (machine overloaded).
    #[error("the simulated gate did not sample its inputs within {0:?}")]
    Unresponsive(Duration),
}

/// What the loop shares with its [`SimGate`].
#[derive(Debug, Default)]
struct Shared {
    /// Set to end the loop.
    stop: AtomicBool,
    /// Update frames (begin, chunk, finish, abort) received.
    update_frames: AtomicU64,
    /// Controller starts (1 after spawn; one more per restart).
    boots: AtomicU64,
    /// What the loop reports.
    state: Mutex<State>,
}

/// The loop's observable state.
#[derive(Debug, Default)]
struct State {
    /// The controller's mode after its last event; `None` before it started.
    mode: Option<GateMode>,
    /// Why the loop ended, unless it was asked to.
    failure: Option<SimError>,
    /// What the firmware slots report; `None` without slots.
    firmware: Option<FirmwareInfo>,
}

impl Shared {
    /// Locks the state (a poisoned lock still holds valid plain data).
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The real gate-controller firmware logic running on a thread over a [`Board`].
///
/// The loop does what the MCU's main loop does: it decodes frames from
/// `io` (damaged ones are dropped), turns every input change it is told
/// about ([`SimGate::sensors`]) and every leaf movement into
/// [`Event::Sensors`], ticks every 10 ms, and encodes the controller's
/// frames back onto `io`. Leaves reach their commanded position one loop
/// turn (at most about 5 ms on an [`End`](crate::End)) after the controller
/// drives them.
///
/// Dropping the `SimGate` stops the loop and joins the thread. When the
/// link ends or fails the loop stops by itself; [`SimGate::failure`] says why.
#[derive(Debug)]
pub struct SimGate {
    /// The pins (shared with the loop).
    board: Board,
    /// Stop flag and observable state.
    shared: Arc<Shared>,
    /// Requests to sample the inputs; each is answered once it was done.
    sensors: mpsc::Sender<mpsc::Sender<()>>,
    /// The loop; `None` once joined or when it could not start.
    thread: Option<thread::JoinHandle<()>>,
    /// Pause between two steps of a walking person.
    pace: Duration,
}

impl SimGate {
    /// Starts the controller on `board` and its loop over `io`; returns once the controller started.
    ///
    /// `io` follows `gate::GateLink`'s transport contract (an
    /// [`End`](crate::End), or a serial port with a short read timeout, such
    /// as one side of a pseudo-terminal pair through `gate::serial::SerialIo`).
    /// Never fails: a start-up failure is kept for [`SimGate::failure`], and
    /// every later call reports it.
    pub fn spawn<T: Read + Write + Send + 'static>(io: T, board: Board, config: Config) -> Self {
        Self::start(io, board, move |board: &Board, _, now| {
            Controller::new(board.pins(), config, now)
                .map_err(|e| SimError::Controller(format!("{e:?}")))
        })
    }

    /// As [`SimGate::spawn`], with firmware slots on `firmware.flash`: the gate can be updated.
    ///
    /// When the controller asks for a restart (a verified image to boot, a
    /// rollback) the loop does what the board does: the boot loader
    /// ([`Slots::boot`]) picks the slot and a fresh controller starts on the
    /// same pins. A version in [`SimFirmware::crashing`] booted on trial
    /// crashes at once: the loop restarts again and the boot loader rolls back.
    pub fn spawn_updatable<T: Read + Write + Send + 'static>(
        io: T,
        board: Board,
        config: Config,
        firmware: SimFirmware,
    ) -> Self {
        Self::start(io, board, move |board: &Board, shared: &Shared, now| {
            let mut slots = Slots::boot(firmware.flash.clone(), firmware.hardware_id)
                .map_err(|e| SimError::Controller(format!("boot: {e:?}")))?;
            while slots.on_trial() && firmware.crashing.contains(&slots.info().running) {
                shared.boots.fetch_add(1, Ordering::SeqCst);
                slots = Slots::boot(firmware.flash.clone(), firmware.hardware_id)
                    .map_err(|e| SimError::Controller(format!("boot: {e:?}")))?;
            }
            Controller::with_firmware(board.pins(), config, slots, now)
                .map_err(|e| SimError::Controller(format!("{e:?}")))
        })
    }

    /// Starts the loop with `boot` making (and remaking, at each restart) the controller.
    fn start<T, F, B>(io: T, board: Board, boot: B) -> Self
    where
        T: Read + Write + Send + 'static,
        F: Flash,
        B: FnMut(&Board, &Shared, u64) -> Result<Controller<SimPin, SimPin, F>, SimError>
            + Send
            + 'static,
    {
        let (sensors, requests) = mpsc::channel::<mpsc::Sender<()>>();
        let (started, has_started) = mpsc::channel::<()>();
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = Arc::clone(&shared);
            let board = board.clone();
            thread::Builder::new()
                .name("gate-sim".into())
                .spawn(move || {
                    let result = run(io, &board, boot, &shared, &requests, &started);
                    if let Err(e) = result {
                        shared.state().failure = Some(e);
                    }
                })
        };
        let thread = match thread {
            Ok(t) => {
                // Ok: started. Err: the loop already ended (its failure is recorded)
                // or is very slow to start (calls will report it unresponsive).
                let _started = has_started.recv_timeout(LOOP_WAIT).is_ok();
                Some(t)
            }
            Err(e) => {
                shared.state().failure = Some(SimError::Spawn(e.kind()));
                None
            }
        };
        Self {
            board,
            shared,
            sensors,
            thread,
            pace: Duration::from_millis(10),
        }
    }

    /// The pins, to set inputs (then call [`SimGate::sensors`]) or read outputs.
    pub fn board(&self) -> &Board {
        &self.board
    }

    /// Sets the pause between two steps of a walking person (10 ms by
    /// default; a demo may want several hundred).
    pub fn set_pace(&mut self, pace: Duration) {
        self.pace = pace;
    }

    /// Tells the controller its inputs changed; returns once it sampled them.
    ///
    /// # Errors
    ///
    /// Why the loop is not running, or [`SimError::Unresponsive`].
    pub fn sensors(&self) -> Result<(), SimError> {
        let (done, wait) = mpsc::channel();
        if self.sensors.send(done).is_err() {
            return Err(self.ended());
        }
        match wait.recv_timeout(LOOP_WAIT) {
            Ok(()) => Ok(()),
            Err(RecvTimeoutError::Timeout) => Err(SimError::Unresponsive(LOOP_WAIT)),
            Err(RecvTimeoutError::Disconnected) => Err(self.ended()),
        }
    }

    /// Sets the beams (true = interrupted) and tells the controller.
    ///
    /// # Errors
    ///
    /// As [`SimGate::sensors`].
    pub fn beams(&self, entry: bool, zone: bool, exit: bool) -> Result<(), SimError> {
        self.board.beams(entry, zone, exit);
        self.sensors()
    }

    /// One person steps in through the entry: entry beam, entry and zone beams, zone beam.
    ///
    /// The person does not look at the leaves (walking into a closed leaf
    /// is the caller's business); they stay in the zone.
    ///
    /// # Errors
    ///
    /// As [`SimGate::sensors`].
    pub fn walk_in(&self) -> Result<(), SimError> {
        self.walk(&[
            (true, false, false),
            (true, true, false),
            (false, true, false),
        ])
    }

    /// The person in the zone leaves through the exit: zone, zone and exit, exit, clear.
    ///
    /// # Errors
    ///
    /// As [`SimGate::sensors`].
    pub fn walk_out(&self) -> Result<(), SimError> {
        self.walk(&[
            (false, true, false),
            (false, true, true),
            (false, false, true),
            (false, false, false),
        ])
    }

    /// Whoever is in the zone goes back out through the entry: zone, zone and entry, entry, clear.
    ///
    /// # Errors
    ///
    /// As [`SimGate::sensors`].
    pub fn turn_back(&self) -> Result<(), SimError> {
        self.walk(&[
            (false, true, false),
            (true, true, false),
            (true, false, false),
            (false, false, false),
        ])
    }

    /// Two people come through the entry one right behind the other
    /// (entry, gap, entry again, then both inside); they stay in the zone.
    ///
    /// # Errors
    ///
    /// As [`SimGate::sensors`].
    pub fn tailgate(&self) -> Result<(), SimError> {
        self.walk(&[
            (true, false, false),
            (false, false, false),
            (true, false, false),
            (true, true, false),
        ])
    }

    /// Raises (true) or clears the fire alarm and tells the controller.
    ///
    /// # Errors
    ///
    /// As [`SimGate::sensors`].
    pub fn set_alarm(&self, active: bool) -> Result<(), SimError> {
        self.board.alarm_ok.put(!active);
        self.sensors()
    }

    /// What the outputs command the (entry, exit) leaves to be.
    pub fn leaves(&self) -> (LeafDrive, LeafDrive) {
        self.board.leaves()
    }

    /// The lit lamp ([`Light::Off`] when none is); `None` when several are lit.
    pub fn light(&self) -> Option<Light> {
        self.board.light()
    }

    /// The controller's mode after its last event; `None` if it never started.
    pub fn mode(&self) -> Option<GateMode> {
        self.shared.state().mode
    }

    /// What the firmware slots report after the last event; `None` without slots.
    pub fn firmware(&self) -> Option<FirmwareInfo> {
        self.shared.state().firmware
    }

    /// How many update frames (begin, chunk, finish, abort) the gate received.
    pub fn update_frames(&self) -> u64 {
        self.shared.update_frames.load(Ordering::SeqCst)
    }

    /// How many times the controller started (1 after spawn, one more per restart or crash).
    pub fn boots(&self) -> u64 {
        self.shared.boots.load(Ordering::SeqCst)
    }

    /// Why the loop stopped by itself; `None` while it runs or after a requested stop.
    pub fn failure(&self) -> Option<SimError> {
        self.shared.state().failure.clone()
    }

    /// Stops the loop and joins its thread.
    ///
    /// # Errors
    ///
    /// Why the loop had already stopped by itself, if it had.
    pub fn stop(mut self) -> Result<(), SimError> {
        self.halt();
        match self.failure() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Sets the stop flag and joins the thread (once).
    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            self.shared
                .state()
                .failure
                .get_or_insert(SimError::Panicked);
        }
    }

    /// Beam patterns one after the other, each sampled, [`SimGate::set_pace`] apart.
    fn walk(&self, steps: &[(bool, bool, bool)]) -> Result<(), SimError> {
        for (i, &(entry, zone, exit)) in steps.iter().enumerate() {
            if i > 0 {
                thread::sleep(self.pace);
            }
            self.beams(entry, zone, exit)?;
        }
        Ok(())
    }

    /// The error to give once the loop is gone.
    fn ended(&self) -> SimError {
        self.failure().unwrap_or(SimError::Stopped)
    }
}

impl Drop for SimGate {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The firmware loop; returns `Ok` when asked to stop, else why it stopped.
fn run<T: Read + Write, F: Flash>(
    mut io: T,
    board: &Board,
    mut boot: impl FnMut(&Board, &Shared, u64) -> Result<Controller<SimPin, SimPin, F>, SimError>,
    shared: &Shared,
    requests: &mpsc::Receiver<mpsc::Sender<()>>,
    started: &mpsc::Sender<()>,
) -> Result<(), SimError> {
    let start = Instant::now();
    let now = || u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut c = boot(board, shared, now())?;
    shared.boots.fetch_add(1, Ordering::SeqCst);
    {
        let mut state = shared.state();
        state.mode = Some(c.mode());
        state.firmware = c.firmware();
    }
    // The spawner may have stopped waiting; nothing to do then.
    let _waiting = started.send(()).is_ok();
    let mut decoder = Decoder::new();
    let mut last_tick = 0;
    let mut buf = [0u8; 64];
    while !shared.stop.load(Ordering::SeqCst) {
        if board.physics() {
            step(&mut c, Event::Sensors, now(), &mut io, shared)?;
        }
        match io.read(&mut buf) {
            Ok(0) => return Err(SimError::LinkClosed),
            Ok(n) => {
                // Damaged frames are dropped, as the firmware does; the kiosk retransmits.
                for frame in decoder
                    .feed_slice(buf.get(..n).unwrap_or_default())
                    .flatten()
                {
                    if matches!(
                        frame.message,
                        Message::Command(
                            Command::BeginUpdate { .. }
                                | Command::WriteChunk(_)
                                | Command::FinishUpdate { .. }
                                | Command::AbortUpdate
                        )
                    ) {
                        shared.update_frames.fetch_add(1, Ordering::SeqCst);
                    }
                    step(&mut c, Event::Frame(frame), now(), &mut io, shared)?;
                    if c.reboot_requested() {
                        // The board restarts: bytes after this frame are lost with the UART's buffer.
                        break;
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            Err(e) => return Err(SimError::Link(e.kind())),
        }
        while let Ok(done) = requests.try_recv() {
            step(&mut c, Event::Sensors, now(), &mut io, shared)?;
            // The caller may have stopped waiting; nothing to do then.
            let _waiting = done.send(()).is_ok();
        }
        let t = now();
        if t >= last_tick + TICK_MS {
            last_tick = t;
            step(&mut c, Event::Tick, t, &mut io, shared)?;
        }
        if c.reboot_requested() {
            drop(c);
            decoder.reset();
            c = boot(board, shared, now())?;
            shared.boots.fetch_add(1, Ordering::SeqCst);
            let mut state = shared.state();
            state.mode = Some(c.mode());
            state.firmware = c.firmware();
        }
    }
    Ok(())
}

/// One event through the controller; its frames onto the wire, even when it failed.
fn step<T: Write, F: Flash>(
    c: &mut Controller<SimPin, SimPin, F>,
    event: Event,
    now: u64,
    io: &mut T,
    shared: &Shared,
) -> Result<(), SimError> {
    let mut out = Vec::new();
    let result = c.handle(event, now, |f| out.push(f));
    {
        let mut state = shared.state();
        state.mode = Some(c.mode());
        state.firmware = c.firmware();
    }
    for frame in out {
        let mut wire = [0u8; MAX_FRAME_LEN];
        let n = gate_protocol::encode(&frame, &mut wire).map_err(SimError::Encode)?;
        io.write_all(wire.get(..n).unwrap_or_default())
            .map_err(|e| SimError::Link(e.kind()))?;
    }
    result.map_err(|e| SimError::Controller(format!("{e:?}")))
}
