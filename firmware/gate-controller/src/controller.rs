//! The orchestrator: one state machine over the gate's pins.

use embedded_hal::digital::{InputPin, OutputPin};
use gate_protocol::{
    Command, FaultCode, FirmwareInfo, Frame, GateEvent, GateMode, LeafState, Light, Message,
    NakReason, Occupancy,
};

use crate::slots::{Flash, NoFlash, Slots};
use crate::{Config, Error, Event, InitError, Leaf, Pins};

/// The gate controller: mode, leaves, beams, watchdog.
///
/// # Safety rules (contract)
///
/// - The fire alarm wins over everything: while `alarm_ok` reads low both
///   leaves are driven open and unlocked, every command but `Heartbeat` and
///   `QueryStatus` is refused with [`NakReason::EmergencyActive`], and the
///   watchdog is not consulted. When the alarm clears the gate goes to
///   [`GateMode::SafeState`] (or back to [`GateMode::Fault`] if one was latched),
///   never straight back to service.
/// - The exit leaf is open only in [`GateMode::ExitOpen`] (after an
///   `OpenExit` for a single occupant) and in [`GateMode::Emergency`].
/// - The safe state (watchdog, `EnterSafeState`, fault) is: exit closed and
///   locked, entry open and unlocked, red light. Nobody leaves through the
///   exit unauthenticated; nobody in the zone is trapped (they walk back out
///   the entry). It is left only by a `CloseEntry` with every beam clear.
/// - Tailgating (a second body through the entry before it has closed)
///   closes the entry, keeps the exit closed and refuses `OpenExit` until the
///   lane was cleared through the safe state.
/// - Commands must carry the next sequence number. A repeat of the last one
///   is answered again without acting twice; any other number gets
///   [`NakReason::BadSequence`] and changes nothing. The first command after
///   start-up or after a watchdog expiry may carry any number (a new session).
/// - A pin error sends the controller to [`GateMode::Fault`] (latched until
///   restart) after a best-effort drive to the safe outputs.
/// - Firmware updates (a controller made with [`Controller::with_firmware`])
///   start only with every beam clear in [`GateMode::Closed`] or
///   [`GateMode::SafeState`], put the gate in [`GateMode::SafeState`] and keep
///   it there: leaf commands get [`NakReason::Updating`] until the update
///   ends. A verified image is booted by a restart
///   ([`Controller::reboot_requested`]); on trial, the kiosk's first
///   `Heartbeat` within [`Config::confirm_ms`] confirms it, else the
///   controller rolls back and asks for a restart again.
#[derive(Debug)]
pub struct Controller<O, I, F = NoFlash> {
    /// The pins.
    pins: Pins<O, I>,
    /// Timing.
    config: Config,
    /// Current mode.
    mode: GateMode,
    /// Last sampled inputs.
    inputs: Inputs,
    /// Commanded leaf positions.
    entry_target: Target,
    /// Commanded exit position.
    exit_target: Target,
    /// Sequence number of the last accepted command; `None` until the first.
    last_seq: Option<u16>,
    /// The reply sent to the last accepted command, resent on a repeat.
    last_reply: Option<Message>,
    /// Our own frame counter.
    tx_seq: u16,
    /// When the kiosk last sent an accepted command.
    last_kiosk_ms: u64,
    /// When we last sent our heartbeat.
    last_beat_ms: u64,
    /// Entry-beam breaks since the entry opened.
    bodies: u8,
    /// Tailgating seen; cleared through the safe state.
    tailgate: bool,
    /// Passage id of the open exit and whether its beam has been broken.
    passage: Option<(u32, bool)>,
    /// Fault latched until restart.
    fault: Option<FaultCode>,
    /// The firmware slots; `None` for a controller that cannot be updated.
    firmware: Option<Slots<F>>,
    /// When the controller started (the trial's confirmation clock).
    boot_ms: u64,
    /// The firmware asks the board to restart (after an update or a rollback).
    reboot: bool,
}

/// A sample of every input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Inputs {
    /// Alarm active (loop open).
    alarm: bool,
    /// Entry leaf position.
    entry: LeafState,
    /// Exit leaf position.
    exit: LeafState,
    /// Entry beam interrupted.
    beam_entry: bool,
    /// Zone beam interrupted.
    beam_zone: bool,
    /// Exit beam interrupted.
    beam_exit: bool,
}

/// Where a leaf was told to go, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    /// Open (true) or closed.
    open: bool,
    /// When it was commanded.
    since_ms: u64,
}

impl<O, I> Controller<O, I, NoFlash>
where
    O: OutputPin,
    I: InputPin<Error = O::Error>,
{
    /// Takes the pins, drives every actuator safe, samples the inputs; no firmware updates.
    ///
    /// Order: exit closed and locked, entry closed and locked, red light;
    /// then the inputs. If the alarm is active the gate starts in
    /// [`GateMode::Emergency`] (both open, green); if a beam is interrupted (someone inside at
    /// power-up) in [`GateMode::SafeState`]; otherwise [`GateMode::Closed`].
    /// The watchdog starts at `now_ms`.
    ///
    /// # Errors
    ///
    /// [`InitError::Pin`] with the first pin error; the pins are dropped.
    pub fn new(pins: Pins<O, I>, config: Config, now_ms: u64) -> Result<Self, InitError<O::Error>> {
        Self::start(pins, config, None, now_ms)
    }
}

impl<O, I, F> Controller<O, I, F>
where
    O: OutputPin,
    I: InputPin<Error = O::Error>,
    F: Flash,
{
    /// As [`Controller::new`], with the firmware slots the boot loader chose ([`Slots::boot`]).
    ///
    /// A trial image must be confirmed by the kiosk's first `Heartbeat`
    /// within [`Config::confirm_ms`] of `now_ms`.
    ///
    /// # Errors
    ///
    /// [`InitError::Pin`] with the first pin error; the pins and slots are dropped.
    pub fn with_firmware(
        pins: Pins<O, I>,
        config: Config,
        firmware: Slots<F>,
        now_ms: u64,
    ) -> Result<Self, InitError<O::Error>> {
        Self::start(pins, config, Some(firmware), now_ms)
    }

    /// What [`Controller::new`] does, with or without slots.
    fn start(
        pins: Pins<O, I>,
        config: Config,
        firmware: Option<Slots<F>>,
        now_ms: u64,
    ) -> Result<Self, InitError<O::Error>> {
        let closed = Target {
            open: false,
            since_ms: now_ms,
        };
        let mut c = Self {
            pins,
            config,
            mode: GateMode::Closed,
            inputs: Inputs {
                alarm: false,
                entry: LeafState::Closed,
                exit: LeafState::Closed,
                beam_entry: false,
                beam_zone: false,
                beam_exit: false,
            },
            entry_target: closed,
            exit_target: closed,
            last_seq: None,
            last_reply: None,
            tx_seq: 0,
            last_kiosk_ms: now_ms,
            last_beat_ms: now_ms,
            bodies: 0,
            tailgate: false,
            passage: None,
            fault: None,
            firmware,
            boot_ms: now_ms,
            reboot: false,
        };
        c.close_exit(now_ms).map_err(InitError::Pin)?;
        c.close_entry(now_ms).map_err(InitError::Pin)?;
        c.set_light(Light::Red).map_err(InitError::Pin)?;
        c.inputs = c.sample().map_err(InitError::Pin)?;
        if c.inputs.alarm {
            c.open_both(now_ms).map_err(InitError::Pin)?;
            c.set_light(Light::Green).map_err(InitError::Pin)?;
            c.mode = GateMode::Emergency;
        } else if c.zone_busy() {
            c.open_entry(now_ms).map_err(InitError::Pin)?;
            c.mode = GateMode::SafeState;
        }
        Ok(c)
    }

    /// Handles one event at `now_ms`; frames to send go to `emit`, in order.
    ///
    /// # Errors
    ///
    /// [`Error::Pin`] when a pin failed; the controller is then in
    /// [`GateMode::Fault`] and has emitted a `Fault` event.
    pub fn handle(
        &mut self,
        event: Event,
        now_ms: u64,
        mut emit: impl FnMut(Frame),
    ) -> Result<(), Error<O::Error>> {
        let before = (self.mode, self.tailgate);
        let result = match event {
            Event::Frame(frame) => self.on_frame(frame, now_ms, &mut emit),
            Event::Sensors => self.on_sensors(now_ms, &mut emit),
            Event::Tick => self.on_tick(now_ms, &mut emit),
        };
        if let Err(e) = result {
            let code = match self.fault {
                Some(code) => code,
                None => FaultCode::Actuator,
            };
            return Err(self.fail(code, e, now_ms, &mut emit));
        }
        if (self.mode, self.tailgate) != before {
            self.send_status(&mut emit);
        }
        Ok(())
    }

    /// The current mode.
    pub fn mode(&self) -> GateMode {
        self.mode
    }

    /// The status event as it would be sent now.
    pub fn status(&self) -> GateEvent {
        GateEvent::Status {
            mode: self.mode,
            entry: self.inputs.entry,
            exit: self.inputs.exit,
            occupancy: self.occupancy(),
        }
    }

    /// Gives the pins back (for tests and a controlled restart).
    pub fn release(self) -> Pins<O, I> {
        self.pins
    }

    /// What firmware runs; `None` for a controller without slots.
    pub fn firmware(&self) -> Option<FirmwareInfo> {
        self.firmware.as_ref().map(Slots::info)
    }

    /// The firmware wants the board restarted (a verified image to boot, or a rollback).
    ///
    /// The board must restart once the frames emitted so far are on the
    /// wire, then run [`Slots::boot`] and [`Controller::with_firmware`].
    pub fn reboot_requested(&self) -> bool {
        self.reboot
    }

    /// Gives the pins and the firmware slots back (for a restart).
    pub fn into_parts(self) -> (Pins<O, I>, Option<Slots<F>>) {
        (self.pins, self.firmware)
    }

    /// Sequence check, command, reply.
    fn on_frame(
        &mut self,
        frame: Frame,
        now_ms: u64,
        emit: &mut impl FnMut(Frame),
    ) -> Result<(), O::Error> {
        let Message::Command(command) = frame.message else {
            if let Message::Event(_) = frame.message {
                let reply = Message::Nak {
                    seq: frame.seq,
                    reason: NakReason::Unsupported,
                };
                self.send(reply, emit);
            }
            return Ok(());
        };
        match self.last_seq {
            Some(last) if frame.seq == last => {
                self.last_kiosk_ms = now_ms;
                if let Some(reply) = self.last_reply {
                    self.send(reply, emit);
                    // A repeated query gets its report again: the first may be lost too.
                    if matches!(reply, Message::Ack { .. }) {
                        self.send_report(command, emit);
                    }
                }
                return Ok(());
            }
            Some(last) if frame.seq != last.wrapping_add(1) => {
                let reply = Message::Nak {
                    seq: frame.seq,
                    reason: NakReason::BadSequence,
                };
                self.send(reply, emit);
                return Ok(());
            }
            _ => {}
        }
        self.last_seq = Some(frame.seq);
        self.last_kiosk_ms = now_ms;
        let outcome = self.command(command, now_ms);
        let reply = match outcome {
            Ok(Ok(())) => Message::Ack { seq: frame.seq },
            Ok(Err(reason)) => Message::Nak {
                seq: frame.seq,
                reason,
            },
            Err(e) => {
                let reply = Message::Nak {
                    seq: frame.seq,
                    reason: NakReason::Faulted,
                };
                self.last_reply = Some(reply);
                self.send(reply, emit);
                return Err(e);
            }
        };
        self.last_reply = Some(reply);
        self.send(reply, emit);
        if matches!(reply, Message::Ack { .. }) {
            self.send_report(command, emit);
        }
        Ok(())
    }

    /// The report an acknowledged query asks for: `Status` or `Firmware`.
    fn send_report(&mut self, command: Command, emit: &mut impl FnMut(Frame)) {
        match command {
            Command::QueryStatus => self.send_status(emit),
            Command::QueryFirmware => {
                if let Some(info) = self.firmware() {
                    self.send(Message::Event(GateEvent::Firmware(info)), emit);
                }
            }
            _ => {}
        }
    }

    /// Carries out one command; the inner error is the NAK reason.
    fn command(
        &mut self,
        command: Command,
        now_ms: u64,
    ) -> Result<Result<(), NakReason>, O::Error> {
        match command {
            Command::Heartbeat => {
                if let Some(fw) = &mut self.firmware {
                    // The kiosk talks to this image: it is good. A flash
                    // error leaves it on trial; the next heartbeat retries.
                    let _confirmed = fw.confirm();
                }
                return Ok(Ok(()));
            }
            Command::QueryStatus => return Ok(Ok(())),
            Command::QueryFirmware => {
                return Ok(match self.firmware {
                    Some(_) => Ok(()),
                    None => Err(NakReason::Unsupported),
                });
            }
            _ => {}
        }
        match self.mode {
            GateMode::Emergency => return Ok(Err(NakReason::EmergencyActive)),
            GateMode::Fault => return Ok(Err(NakReason::Faulted)),
            _ => {}
        }
        let refuse = |reason| Ok(Err(reason));
        let updating = self.firmware.as_ref().is_some_and(Slots::updating);
        match command {
            Command::BeginUpdate {
                version,
                length,
                hash,
            } => {
                if self.firmware.is_none() {
                    return refuse(NakReason::Unsupported);
                }
                if self.zone_busy() {
                    return refuse(NakReason::ZoneOccupied);
                }
                if !matches!(self.mode, GateMode::Closed | GateMode::SafeState) {
                    return refuse(NakReason::InvalidInMode);
                }
                self.enter_safe_state(now_ms)?;
                return Ok(self.with_slots(|fw| fw.begin(version, length, hash)));
            }
            Command::WriteChunk(chunk) => return Ok(self.with_slots(|fw| fw.write(&chunk))),
            Command::FinishUpdate { hash } => {
                let result = self.with_slots(|fw| fw.finish(hash));
                self.reboot |= result.is_ok();
                return Ok(result);
            }
            Command::AbortUpdate => {
                return Ok(self.with_slots(|fw| {
                    fw.abort();
                    Ok(())
                }));
            }
            Command::OpenEntry
            | Command::CloseEntry
            | Command::OpenExit { .. }
            | Command::CloseExit
                if updating =>
            {
                return refuse(NakReason::Updating);
            }
            _ => {}
        }
        match (command, self.mode) {
            (
                Command::Heartbeat
                | Command::QueryStatus
                | Command::QueryFirmware
                | Command::BeginUpdate { .. }
                | Command::WriteChunk(_)
                | Command::FinishUpdate { .. }
                | Command::AbortUpdate,
                _,
            ) => {}
            (Command::SetLights(light), _) => self.set_light(light)?,
            (Command::EnterSafeState, _) => self.enter_safe_state(now_ms)?,
            (Command::OpenEntry, GateMode::EntryOpen) => {}
            (Command::OpenEntry, GateMode::Closed) => {
                if self.zone_busy() {
                    return refuse(NakReason::ZoneOccupied);
                }
                self.open_entry(now_ms)?;
                self.bodies = 0;
                self.mode = GateMode::EntryOpen;
            }
            (Command::OpenEntry, _) => return refuse(NakReason::InvalidInMode),
            (Command::CloseEntry, GateMode::EntryOpen | GateMode::SafeState) => {
                if self.zone_busy() {
                    return refuse(NakReason::ZoneOccupied);
                }
                self.close_entry(now_ms)?;
                self.tailgate = false;
                self.mode = GateMode::Closed;
            }
            (Command::CloseEntry, _) => {}
            (Command::OpenExit { passage_id }, GateMode::Occupied) => {
                if self.tailgate {
                    return refuse(NakReason::ZoneOccupied);
                }
                self.open_exit(now_ms)?;
                self.passage = Some((passage_id, false));
                self.mode = GateMode::ExitOpen;
            }
            (Command::OpenExit { passage_id }, GateMode::ExitOpen)
                if self.passage.map(|(id, _)| id) == Some(passage_id) => {}
            (Command::OpenExit { .. }, _) => return refuse(NakReason::InvalidInMode),
            (Command::CloseExit, GateMode::ExitOpen) => {
                if self.inputs.beam_exit {
                    return refuse(NakReason::ZoneOccupied);
                }
                self.close_exit(now_ms)?;
                self.passage = None;
                self.mode = if self.zone_busy() {
                    GateMode::Occupied
                } else {
                    GateMode::Closed
                };
            }
            (Command::CloseExit, _) => {}
        }
        Ok(Ok(()))
    }

    /// Runs `f` on the slots; `Unsupported` without them.
    fn with_slots(
        &mut self,
        f: impl FnOnce(&mut Slots<F>) -> Result<(), NakReason>,
    ) -> Result<(), NakReason> {
        match &mut self.firmware {
            Some(fw) => f(fw),
            None => Err(NakReason::Unsupported),
        }
    }

    /// Abandons an update in progress (the kiosk is gone, or the fire alarm).
    fn abort_update(&mut self) {
        if let Some(fw) = &mut self.firmware {
            fw.abort();
        }
    }

    /// Samples the inputs and reacts to what changed.
    fn on_sensors(&mut self, now_ms: u64, emit: &mut impl FnMut(Frame)) -> Result<(), O::Error> {
        let before = self.inputs;
        let now = match self.sample() {
            Ok(now) => now,
            Err(e) => {
                self.fault = Some(FaultCode::Sensor);
                return Err(e);
            }
        };
        self.inputs = now;
        if now.alarm != before.alarm {
            return self.on_alarm(now.alarm, now_ms, emit);
        }
        if self.mode == GateMode::Emergency {
            return Ok(());
        }
        if now.entry == LeafState::Invalid || now.exit == LeafState::Invalid {
            return self.latch_fault(FaultCode::LeafSwitches, now_ms, emit);
        }
        let entry_rose = now.beam_entry && !before.beam_entry;
        match self.mode {
            GateMode::EntryOpen => {
                if entry_rose {
                    self.bodies = self.bodies.saturating_add(1);
                }
                if self.bodies >= 2 {
                    self.tailgating(now_ms, emit)?;
                } else if self.bodies == 1 && now.beam_zone && !now.beam_entry && !now.beam_exit {
                    self.close_entry(now_ms)?;
                    self.mode = GateMode::Occupied;
                    self.send(Message::Event(GateEvent::PersonInZone), emit);
                }
            }
            GateMode::Occupied
                if entry_rose && now.entry != LeafState::Closed && !self.tailgate =>
            {
                self.tailgating(now_ms, emit)?;
            }
            GateMode::ExitOpen => {
                if let Some((id, seen)) = self.passage {
                    let seen = seen || now.beam_exit;
                    self.passage = Some((id, seen));
                    if seen && !self.zone_busy() {
                        self.close_exit(now_ms)?;
                        self.passage = None;
                        self.mode = GateMode::Closed;
                        let done = GateEvent::PassageCompleted { passage_id: id };
                        self.send(Message::Event(done), emit);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Polls the alarm, runs the watchdog, leaf timeouts and heartbeat.
    fn on_tick(&mut self, now_ms: u64, emit: &mut impl FnMut(Frame)) -> Result<(), O::Error> {
        let alarm = match self.pins.alarm_ok.is_low() {
            Ok(alarm) => alarm,
            Err(e) => {
                self.fault = Some(FaultCode::Sensor);
                return Err(e);
            }
        };
        if alarm != self.inputs.alarm {
            self.inputs.alarm = alarm;
            self.on_alarm(alarm, now_ms, emit)?;
        }
        let supervised = !matches!(
            self.mode,
            GateMode::Emergency | GateMode::Fault | GateMode::SafeState
        );
        if now_ms.saturating_sub(self.last_kiosk_ms) > self.config.watchdog_ms {
            // The kiosk's session is over: a restarted kiosk may start from any
            // sequence number.
            self.last_seq = None;
            self.last_reply = None;
            self.abort_update();
            if supervised {
                self.enter_safe_state(now_ms)?;
            }
        }
        if !matches!(self.mode, GateMode::Emergency | GateMode::Fault) {
            let late = |target: Target, at: LeafState| {
                let want = if target.open {
                    LeafState::Open
                } else {
                    LeafState::Closed
                };
                at != want && now_ms.saturating_sub(target.since_ms) > self.config.leaf_timeout_ms
            };
            if late(self.entry_target, self.inputs.entry)
                || late(self.exit_target, self.inputs.exit)
            {
                self.latch_fault(FaultCode::LeafTimeout, now_ms, emit)?;
            }
        }
        if let Some(fw) = &mut self.firmware
            && fw.on_trial()
            && !self.reboot
            && now_ms.saturating_sub(self.boot_ms) > self.config.confirm_ms
        {
            // The kiosk never confirmed this image: back to the old one.
            fw.rollback();
            self.reboot = true;
        }
        if now_ms.saturating_sub(self.last_beat_ms) >= self.config.heartbeat_ms {
            self.last_beat_ms = now_ms;
            self.send(Message::Event(GateEvent::Heartbeat), emit);
        }
        Ok(())
    }

    /// The alarm input changed.
    fn on_alarm(
        &mut self,
        active: bool,
        now_ms: u64,
        emit: &mut impl FnMut(Frame),
    ) -> Result<(), O::Error> {
        self.send(Message::Event(GateEvent::EmergencyRelease { active }), emit);
        if active {
            self.mode = GateMode::Emergency;
            self.passage = None;
            self.abort_update();
            self.open_both(now_ms)?;
            self.set_light(Light::Green)
        } else if let Some(code) = self.fault {
            self.mode = GateMode::Fault;
            self.safe_outputs(now_ms)?;
            self.send(Message::Event(GateEvent::Fault(code)), emit);
            Ok(())
        } else {
            self.enter_safe_state(now_ms)
        }
    }

    /// Two bodies through the entry: close it, keep the exit closed, report.
    fn tailgating(&mut self, now_ms: u64, emit: &mut impl FnMut(Frame)) -> Result<(), O::Error> {
        self.close_entry(now_ms)?;
        self.close_exit(now_ms)?;
        self.set_light(Light::Red)?;
        self.tailgate = true;
        self.mode = GateMode::Occupied;
        self.send(Message::Event(GateEvent::Tailgating), emit);
        Ok(())
    }

    /// Exit closed and locked, entry open, red light.
    fn enter_safe_state(&mut self, now_ms: u64) -> Result<(), O::Error> {
        self.mode = GateMode::SafeState;
        self.passage = None;
        self.safe_outputs(now_ms)
    }

    /// Latches a fault found by the logic (not a pin error) and goes safe.
    fn latch_fault(
        &mut self,
        code: FaultCode,
        now_ms: u64,
        emit: &mut impl FnMut(Frame),
    ) -> Result<(), O::Error> {
        self.fault = Some(code);
        self.mode = GateMode::Fault;
        self.passage = None;
        self.send(Message::Event(GateEvent::Fault(code)), emit);
        self.safe_outputs(now_ms)
    }

    /// A pin failed: latch the fault, drive what can still be driven, report.
    ///
    /// Every safe output is attempted even when one fails; the error returned
    /// is the original one (later ones describe the same broken hardware).
    fn fail(
        &mut self,
        code: FaultCode,
        first: O::Error,
        now_ms: u64,
        emit: &mut impl FnMut(Frame),
    ) -> Error<O::Error> {
        self.fault = Some(code);
        self.passage = None;
        if self.inputs.alarm {
            self.mode = GateMode::Emergency;
            let _also_failed = self.open_both(now_ms).is_err();
        } else {
            self.mode = GateMode::Fault;
            let _also_failed = self.safe_outputs_all(now_ms);
        }
        self.send(Message::Event(GateEvent::Fault(code)), emit);
        self.send_status(emit);
        Error::Pin(first)
    }

    /// The safe-state outputs, stopping at the first error.
    fn safe_outputs(&mut self, now_ms: u64) -> Result<(), O::Error> {
        self.close_exit(now_ms)?;
        self.open_entry(now_ms)?;
        self.set_light(Light::Red)
    }

    /// The safe-state outputs, each attempted; true when any failed.
    fn safe_outputs_all(&mut self, now_ms: u64) -> bool {
        let exit = self.close_exit(now_ms).is_err();
        let entry = self.open_entry(now_ms).is_err();
        let light = self.set_light(Light::Red).is_err();
        exit || entry || light
    }

    /// Both leaves unlocked and open.
    fn open_both(&mut self, now_ms: u64) -> Result<(), O::Error> {
        self.open_exit(now_ms)?;
        self.open_entry(now_ms)
    }

    /// Entry unlocked, then driven open.
    fn open_entry(&mut self, now_ms: u64) -> Result<(), O::Error> {
        self.entry_target = Target {
            open: true,
            since_ms: now_ms,
        };
        open_leaf(&mut self.pins.entry)
    }

    /// Entry driven closed, then locked.
    fn close_entry(&mut self, now_ms: u64) -> Result<(), O::Error> {
        self.entry_target = Target {
            open: false,
            since_ms: now_ms,
        };
        close_leaf(&mut self.pins.entry)
    }

    /// Exit unlocked, then driven open.
    fn open_exit(&mut self, now_ms: u64) -> Result<(), O::Error> {
        self.exit_target = Target {
            open: true,
            since_ms: now_ms,
        };
        open_leaf(&mut self.pins.exit)
    }

    /// Exit driven closed, then locked.
    fn close_exit(&mut self, now_ms: u64) -> Result<(), O::Error> {
        self.exit_target = Target {
            open: false,
            since_ms: now_ms,
        };
        close_leaf(&mut self.pins.exit)
    }

    /// One lamp on, the others off (all off for [`Light::Off`]).
    fn set_light(&mut self, light: Light) -> Result<(), O::Error> {
        let p = &mut self.pins;
        p.red.set_state((light == Light::Red).into())?;
        p.green.set_state((light == Light::Green).into())?;
        p.amber.set_state((light == Light::Amber).into())
    }

    /// Reads every input: alarm, entry switches, exit switches, beams.
    fn sample(&mut self) -> Result<Inputs, O::Error> {
        let p = &mut self.pins;
        Ok(Inputs {
            alarm: p.alarm_ok.is_low()?,
            entry: leaf_state(&mut p.entry)?,
            exit: leaf_state(&mut p.exit)?,
            beam_entry: p.beam_entry.is_high()?,
            beam_zone: p.beam_zone.is_high()?,
            beam_exit: p.beam_exit.is_high()?,
        })
    }

    /// Whether any beam is interrupted.
    fn zone_busy(&self) -> bool {
        self.inputs.beam_entry || self.inputs.beam_zone || self.inputs.beam_exit
    }

    /// What the beams say.
    fn occupancy(&self) -> Occupancy {
        if self.tailgate {
            Occupancy::Several
        } else if self.zone_busy() {
            Occupancy::One
        } else {
            Occupancy::Empty
        }
    }

    /// Sends the status event.
    fn send_status(&mut self, emit: &mut impl FnMut(Frame)) {
        self.send(Message::Event(self.status()), emit);
    }

    /// Numbers a message and hands it to `emit`.
    fn send(&mut self, message: Message, emit: &mut impl FnMut(Frame)) {
        let seq = self.tx_seq;
        self.tx_seq = seq.wrapping_add(1);
        emit(Frame { seq, message });
    }
}

/// Unlocks, then drives open.
fn open_leaf<O: OutputPin, I>(leaf: &mut Leaf<O, I>) -> Result<(), O::Error> {
    leaf.lock.set_low()?;
    leaf.drive.set_high()
}

/// Drives closed, then locks.
fn close_leaf<O: OutputPin, I>(leaf: &mut Leaf<O, I>) -> Result<(), O::Error> {
    leaf.drive.set_low()?;
    leaf.lock.set_high()
}

/// Reads a leaf's two switches: open first, then closed.
fn leaf_state<O, I: InputPin>(leaf: &mut Leaf<O, I>) -> Result<LeafState, I::Error> {
    let open = leaf.open_switch.is_high()?;
    let closed = leaf.closed_switch.is_high()?;
    Ok(match (open, closed) {
        (true, false) => LeafState::Open,
        (false, true) => LeafState::Closed,
        (false, false) => LeafState::Moving,
        (true, true) => LeafState::Invalid,
    })
}
