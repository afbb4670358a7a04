//! The gate link as a long-running thread, driven by plain orders.
//!
//! [`GateWorker::spawn`] moves a [`GateLink`] onto its own thread and
//! returns a [`GateHandle`]. The lane orchestrator queues [`GateOrder`]s
//! with [`GateHandle::order`] (never blocks) and learns everything through
//! [`GateReport`]s handed to its callback: the outcome of each order, what
//! the gate saw, and the health of the link. Meanwhile the worker sends
//! `Heartbeat`s so the gate's watchdog never trips while the kiosk is alive.

use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use embedded_io::{Read, Write};
use gate_protocol::{Command, FaultCode, GateEvent, GateMode, Light, NakReason};

use crate::{GateError, GateLink};

/// What the lane orchestrator asks of the gate.
///
/// Each order is answered by exactly one of [`GateReport::Acknowledged`],
/// [`GateReport::Refused`] or [`GateReport::Unconfirmed`]: an order is done
/// only when the gate acknowledged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateOrder {
    /// Make the gate ready for the next traveller: entry open.
    ///
    /// From `Closed` this is `OpenEntry`. From `SafeState` (after
    /// [`GateOrder::TurnBack`], tailgating, the watchdog or a fire alarm) it
    /// is `CloseEntry` then `OpenEntry`, which puts the lane back in
    /// service: send it only when it may be (after an alarm, once the
    /// officer confirmed). While someone is still in the zone the worker
    /// waits, retrying every [`WorkerConfig::admit_retry`], until the zone
    /// is clear; the next order cancels the wait (the Admit is then
    /// `Refused { reason: ZoneOccupied }`). Refused with `InvalidInMode`
    /// while a traveller is in the zone or passing the exit.
    Admit,
    /// Open the exit for the traveller in the zone (`OpenExit`).
    Release {
        /// The kiosk's passage id, echoed in [`GateReport::Passed`].
        passage_id: u32,
    },
    /// Close the exit (`CloseExit`), e.g. a cleared traveller did not leave.
    CloseExit,
    /// Send whoever is in the zone back out through the entry (`EnterSafeState`):
    /// a refused or redirected traveller, or after tailgating. [`GateOrder::Admit`] follows.
    TurnBack,
    /// Set the lane light (`SetLights`).
    Lights(Light),
}

/// What the worker tells the lane orchestrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateReport {
    /// The gate acknowledged (carried out) the order.
    Acknowledged(GateOrder),
    /// The gate refused the order; it changed nothing.
    Refused {
        /// The order.
        order: GateOrder,
        /// The gate's reason.
        reason: NakReason,
    },
    /// The gate did not acknowledge the order (the link is down; a
    /// [`GateReport::LinkLost`] says why). It may or may not have acted:
    /// the next [`GateReport::Status`] tells. The order is not retried.
    Unconfirmed(GateOrder),
    /// One traveller is in the zone; the entry closed behind them.
    PersonInZone,
    /// The traveller of this passage left through the exit; the exit closed.
    Passed {
        /// The id given with [`GateOrder::Release`].
        passage_id: u32,
    },
    /// A second person followed through the entry; entry closed, exit kept
    /// closed, [`GateOrder::Release`] refused until [`GateOrder::TurnBack`] and [`GateOrder::Admit`].
    Tailgating,
    /// The fire alarm started (both leaves open, orders refused) or ended (gate in `SafeState`).
    Emergency {
        /// Whether the alarm is active now.
        active: bool,
    },
    /// The gate latched a fault; only its restart clears it.
    Fault(FaultCode),
    /// The gate's mode: at start, after the link is restored, and on every change the gate reports.
    Status(GateMode),
    /// Commands stopped getting through (the error's text; no personal data). Sent once per outage.
    LinkLost(String),
    /// A command was acknowledged again after [`GateReport::LinkLost`]; a
    /// [`GateReport::Status`] follows.
    LinkRestored,
}

/// Timing of the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Longest time without a command to the gate; a `Heartbeat` fills the
    /// gap. Keep it well below the controller's watchdog (2 s by default)
    /// minus one failed command (`attempts × ack_timeout`, 600 ms by
    /// default). Default 500 ms.
    pub heartbeat: Duration,
    /// How long the worker listens for gate events before it looks at its
    /// order queue again: the longest an order waits. Default 20 ms.
    pub poll: Duration,
    /// How often a waiting [`GateOrder::Admit`] tries again while the zone
    /// is occupied. Default 100 ms.
    pub admit_retry: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_millis(500),
            poll: Duration::from_millis(20),
            admit_retry: Duration::from_millis(100),
        }
    }
}

/// The worker thread is gone (shut down, or its report callback panicked); the order was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the gate worker has stopped; order {0:?} not sent")]
pub struct GateClosed(pub GateOrder);

/// Starts gate workers; see [`GateWorker::spawn`].
#[derive(Debug)]
pub enum GateWorker {}

/// The orchestrator's side of a running [`GateWorker`]; dropping it stops the worker.
#[derive(Debug)]
pub struct GateHandle {
    /// Orders and the shutdown request, in order.
    orders: mpsc::Sender<Message>,
    /// The worker; `None` once joined.
    thread: Option<thread::JoinHandle<()>>,
}

/// What the handle sends the worker.
#[derive(Debug)]
enum Message {
    /// Carry out this order.
    Order(GateOrder),
    /// Put the gate in its safe state and end.
    Shutdown,
}

impl GateWorker {
    /// Moves `link` onto a new thread that serves orders, heartbeats and gate events.
    ///
    /// At start the worker asks the gate for its status (a
    /// [`GateReport::Status`], or [`GateReport::LinkLost`] if the gate does
    /// not answer). `reports` is called on the worker thread, in order; it
    /// must not block for long (a heartbeat waits for it). A panic in it ends
    /// the worker: later orders get [`GateClosed`], and the gate's watchdog
    /// puts the gate in its safe state.
    ///
    /// # Errors
    ///
    /// The operating system's error when the thread cannot be started.
    pub fn spawn<T, R>(
        link: GateLink<T>,
        config: WorkerConfig,
        reports: R,
    ) -> Result<GateHandle, std::io::Error>
    where
        T: Read + Write + Send + 'static,
        R: FnMut(GateReport) + Send + 'static,
    {
        let (orders, inbox) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("gate-worker".into())
            .spawn(move || {
                Worker {
                    link,
                    config,
                    reports,
                    inbox,
                    link_up: true,
                    resync: true,
                    admit_waiting: false,
                    next_admit: Instant::now(),
                    next_beat: Instant::now() + config.heartbeat,
                }
                .run();
            })?;
        Ok(GateHandle {
            orders,
            thread: Some(thread),
        })
    }
}

impl GateHandle {
    /// Queues `order`; its outcome comes back as a [`GateReport`]. Never blocks.
    ///
    /// # Errors
    ///
    /// [`GateClosed`] when the worker has stopped.
    pub fn order(&self, order: GateOrder) -> Result<(), GateClosed> {
        self.orders
            .send(Message::Order(order))
            .map_err(|_| GateClosed(order))
    }

    /// Stops the worker after the orders already queued, and waits for it.
    ///
    /// The worker's last command is `EnterSafeState` (exit closed and
    /// locked, entry open, red light): with no kiosk behind it the gate must
    /// let nobody out through the exit and trap nobody in the zone. The
    /// gate's watchdog would do the same once heartbeats stop; sending it
    /// now closes that gap. If the link is down the watchdog does it.
    ///
    /// Blocks for up to one command per queued order plus this one
    /// (`attempts × ack_timeout` each when the gate is silent); from async
    /// code call it from a blocking task. Dropping the handle does the same.
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// Sends the shutdown request and joins the worker (once).
    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // A send error means the worker already ended; join anyway.
            let _already_ended = self.orders.send(Message::Shutdown).is_err();
            // A panicked worker (its callback panicked) has nothing more to clean up.
            let _panicked = thread.join().is_err();
        }
    }
}

impl Drop for GateHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How a command went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Acknowledged.
    Done,
    /// Refused for this reason.
    Refused(NakReason),
    /// Not acknowledged: the link is down.
    Lost,
}

/// The worker thread's state.
struct Worker<T, R> {
    /// The link to the gate.
    link: GateLink<T>,
    /// Timing.
    config: WorkerConfig,
    /// The orchestrator's callback.
    reports: R,
    /// Orders from the handle.
    inbox: mpsc::Receiver<Message>,
    /// The last command got an answer (false after [`GateReport::LinkLost`]).
    link_up: bool,
    /// A `QueryStatus` is due (at start, after the link came back).
    resync: bool,
    /// An [`GateOrder::Admit`] waits for the zone to clear.
    admit_waiting: bool,
    /// When the waiting Admit tries again.
    next_admit: Instant,
    /// When the next heartbeat is due.
    next_beat: Instant,
}

impl<T: Read + Write, R: FnMut(GateReport)> Worker<T, R> {
    /// Serves orders, heartbeats and events until shutdown or the handle is gone.
    fn run(mut self) {
        let mut link_failing = false;
        loop {
            // Orders first. While reading the link fails at once (stream
            // closed) wait on the inbox instead, so the loop does not spin.
            let mut first = true;
            loop {
                let message = if first && link_failing {
                    match self.inbox.recv_timeout(self.config.poll) {
                        Ok(m) => Some(m),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => Some(Message::Shutdown),
                    }
                } else {
                    match self.inbox.try_recv() {
                        Ok(m) => Some(m),
                        Err(TryRecvError::Empty) => None,
                        Err(TryRecvError::Disconnected) => Some(Message::Shutdown),
                    }
                };
                first = false;
                match message {
                    Some(Message::Order(order)) => self.order(order),
                    Some(Message::Shutdown) => return self.shut_down(),
                    None => break,
                }
            }
            if self.resync {
                self.resync = false;
                self.command(Command::QueryStatus);
            }
            let now = Instant::now();
            if self.admit_waiting && now >= self.next_admit {
                self.admit();
            }
            if now >= self.next_beat {
                self.command(Command::Heartbeat);
            }
            match self.link.next_event(self.config.poll) {
                Ok(Some(event)) => {
                    link_failing = false;
                    self.event(event);
                }
                Ok(None) => link_failing = false,
                Err(e) => {
                    link_failing = true;
                    self.lost(&e);
                }
            }
        }
    }

    /// Carries out one order and reports its outcome.
    fn order(&mut self, order: GateOrder) {
        if self.admit_waiting {
            self.admit_waiting = false;
            self.report(GateReport::Refused {
                order: GateOrder::Admit,
                reason: NakReason::ZoneOccupied,
            });
        }
        let command = match order {
            GateOrder::Admit => return self.admit(),
            GateOrder::Release { passage_id } => Command::OpenExit { passage_id },
            GateOrder::CloseExit => Command::CloseExit,
            GateOrder::TurnBack => Command::EnterSafeState,
            GateOrder::Lights(light) => Command::SetLights(light),
        };
        let outcome = self.command(command);
        self.conclude(order, outcome);
    }

    /// One attempt at [`GateOrder::Admit`]; waits again while the zone is occupied.
    fn admit(&mut self) {
        self.admit_waiting = false;
        let mut outcome = self.command(Command::OpenEntry);
        if outcome == Outcome::Refused(NakReason::InvalidInMode) {
            // SafeState: close the entry (refused while anyone is inside),
            // then open it. In the other modes CloseEntry changes nothing and
            // the second OpenEntry is refused again.
            outcome = match self.command(Command::CloseEntry) {
                Outcome::Done => self.command(Command::OpenEntry),
                other => other,
            };
        }
        if outcome == Outcome::Refused(NakReason::ZoneOccupied) {
            self.admit_waiting = true;
            self.next_admit = Instant::now() + self.config.admit_retry;
        } else {
            self.conclude(GateOrder::Admit, outcome);
        }
    }

    /// Reports an order's outcome.
    fn conclude(&mut self, order: GateOrder, outcome: Outcome) {
        self.report(match outcome {
            Outcome::Done => GateReport::Acknowledged(order),
            Outcome::Refused(reason) => GateReport::Refused { order, reason },
            Outcome::Lost => GateReport::Unconfirmed(order),
        });
    }

    /// Sends one command, keeps the link state and the heartbeat schedule.
    ///
    /// A `BadSequence` refusal also counts as a lost link: the gate missed
    /// a command and refuses every later one until its watchdog ends the
    /// session (going to `SafeState`); the next acknowledged command restores it.
    fn command(&mut self, command: Command) -> Outcome {
        let result = self.link.command(command);
        self.next_beat = Instant::now() + self.config.heartbeat;
        match result {
            Ok(_) => {
                self.restored();
                Outcome::Done
            }
            Err(e @ GateError::Nak { reason, .. }) => {
                if reason == NakReason::BadSequence {
                    self.lost(&e);
                } else {
                    self.restored();
                }
                Outcome::Refused(reason)
            }
            Err(e) => {
                self.lost(&e);
                Outcome::Lost
            }
        }
    }

    /// The gate answered: report the end of an outage (once) and ask for its status.
    fn restored(&mut self) {
        if !self.link_up {
            self.link_up = true;
            self.resync = true;
            self.report(GateReport::LinkRestored);
        }
    }

    /// A command or read failed: report the outage (once).
    fn lost(&mut self, error: &GateError) {
        if self.link_up {
            self.link_up = false;
            self.report(GateReport::LinkLost(error.to_string()));
        }
    }

    /// Passes a gate event on (the gate's own heartbeat is not reported).
    fn event(&mut self, event: GateEvent) {
        let report = match event {
            GateEvent::Status { mode, .. } => GateReport::Status(mode),
            GateEvent::PassageCompleted { passage_id } => GateReport::Passed { passage_id },
            GateEvent::Tailgating => GateReport::Tailgating,
            GateEvent::PersonInZone => GateReport::PersonInZone,
            GateEvent::EmergencyRelease { active } => GateReport::Emergency { active },
            GateEvent::Fault(code) => GateReport::Fault(code),
            GateEvent::Heartbeat | GateEvent::Firmware(_) => return,
        };
        self.report(report);
    }

    /// Ends a waiting Admit, sends `EnterSafeState` once; see [`GateHandle::shutdown`].
    fn shut_down(mut self) {
        if self.admit_waiting {
            self.admit_waiting = false;
            self.report(GateReport::Refused {
                order: GateOrder::Admit,
                reason: NakReason::ZoneOccupied,
            });
        }
        // Refused (fire alarm, fault) or lost: the gate is already safe, or
        // its watchdog makes it so. Either way there is nothing left to do.
        let _outcome = self.command(Command::EnterSafeState);
    }

    /// Hands a report to the orchestrator.
    fn report(&mut self, report: GateReport) {
        (self.reports)(report);
    }
}
