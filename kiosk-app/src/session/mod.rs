//! The lane state machine: one traveller after another, pure.
//!
//! [`Lane::handle`] takes an [`Event`] (something a device, the policy, the
//! store, the officer or the clock reported) and the current time, and
//! returns the next lane and the [`Action`]s to carry out. It does no I/O,
//! reads no clock and keeps no timer: the orchestrator sends
//! [`Event::Tick`] at least every 100 ms and every deadline is checked then.
//!
//! A traveller goes
//! [`AwaitDocument`](State::AwaitDocument) → [`AwaitChip`](State::AwaitChip)
//! → [`AwaitDecision`](State::AwaitDecision) → ([`AwaitFace`](State::AwaitFace)
//! when the lane verifies faces) → [`AwaitRecord`](State::AwaitRecord) →
//! [`AwaitPassage`](State::AwaitPassage) (approved) or
//! [`AwaitOfficer`](State::AwaitOfficer) (referred) → `AwaitDocument`.
//! Each state is named for what it waits for, and each has a deadline or an
//! officer command as a way out: nothing waits forever.
//!
//! # Security invariant
//! [`Action::OpenExit`] is emitted only
//! - on [`Event::RecordCommitted`] for the passage being recorded, when its
//!   decision [permits exit](Decision::permits_exit) (approved, face matched
//!   or not configured), its chip verdict is genuine, and no device fault,
//!   store failure or lane closure happened while it was being recorded; or
//! - on an authenticated [`Event::OfficerAccept`] naming the committed
//!   record of the referral the lane is waiting on.
//!
//! Unauthenticated officer commands are ignored and audited. Events for
//! another passage (late answers) are ignored.

use std::time::{Duration, Instant};

use icao9303::lds::FaceImage;
use icao9303::mrz::Mrz;
use icao9303::verdict::Verdict;

use crate::face::{FaceError, FaceMatch};
use crate::policy::{
    Alert, Biometrics, Decision, Direction, DocumentFacts, MessageKey, Outcome, ReasonCode,
};
pub use crate::store::RecordId;

#[cfg(test)]
pub(crate) mod tests;

/// How the lane sequences a traveller (from the lane's config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// The lane's direction, recorded in every decision.
    pub direction: Direction,
    /// Face verification, or `None` for a lane without biometrics.
    pub biometrics: Option<FaceSettings>,
    /// How long each step may take.
    pub timeouts: Timeouts,
    /// Unreadable MRZ scans allowed after the first before a referral.
    pub document_retries: u8,
    /// Chip read attempts allowed after the first before a referral.
    pub chip_retries: u8,
}

/// Face verification settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaceSettings {
    /// The lowest score that matches, per mille.
    pub threshold_per_mille: u16,
    /// Captures allowed before the traveller is referred (at least 1).
    pub max_tries: u8,
}

/// How long each step may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To put a removed document back, and before a failed scan is forgotten.
    pub document: Duration,
    /// One chip read.
    pub chip: Duration,
    /// One face capture and match.
    pub face: Duration,
    /// To walk through an open gate, or to be seen by the officer, before the lane resets.
    pub walk_away: Duration,
    /// The appliance's own steps: the policy decision and the durable record.
    pub processing: Duration,
}

/// One traveller's passage through the lane, numbered by the lane from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PassageId(pub u64);

/// A part of the appliance that can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Device {
    /// The MRZ scanner.
    Scanner,
    /// The contactless reader.
    CardReader,
    /// The face verification unit.
    FaceUnit,
    /// The gate controller.
    Gate,
    /// The passage-record store.
    Store,
    /// The appliance's own processing (a policy decision that never came).
    Processing,
}

/// Why a chip read failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipFailure {
    /// The reader or the chip stopped answering.
    Communication,
    /// BAC or PACE refused the MRZ-derived key.
    AccessDenied,
    /// The chip's files could not be parsed.
    Malformed,
}

/// What a chip read established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipRead {
    /// Every authenticity check and its outcome.
    pub verdict: Verdict,
    /// The first DG2 face image, when DG2 was read.
    pub face: Option<FaceImage>,
}

/// Something that happened, reported to the lane.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The scanner read a valid MRZ.
    MrzScanned(Box<Mrz>),
    /// The scanner read something that is not a valid MRZ.
    MrzUnreadable,
    /// The chip was read.
    ChipRead {
        /// The passage the read was for.
        passage: PassageId,
        /// What the read established.
        read: Box<ChipRead>,
    },
    /// The chip read failed.
    ChipFailed {
        /// The passage the read was for.
        passage: PassageId,
        /// Why.
        failure: ChipFailure,
    },
    /// The traveller pressed Cancel on the screen.
    TravellerCancelled,
    /// The document left the reader.
    DocumentRemoved,
    /// A document is on the reader again.
    DocumentReplaced,
    /// The policy decided.
    Decided {
        /// The passage decided.
        passage: PassageId,
        /// The decision.
        decision: Box<Decision>,
    },
    /// The face unit answered.
    FaceResult {
        /// The passage verified.
        passage: PassageId,
        /// The score, or why there is none.
        result: Result<FaceMatch, FaceError>,
    },
    /// The store committed the passage's record.
    RecordCommitted {
        /// The passage recorded.
        passage: PassageId,
        /// The record's id.
        record_id: RecordId,
    },
    /// The store could not commit the passage's record.
    RecordFailed {
        /// The passage.
        passage: PassageId,
    },
    /// The traveller walked through the open gate.
    GatePassed,
    /// A device failed or was unplugged.
    DeviceFault(Device),
    /// A device works again.
    DeviceRestored(Device),
    /// The officer lets a referred traveller through.
    OfficerAccept {
        /// Whether the officer console authenticated the officer.
        authenticated: bool,
        /// The referral's record.
        record_id: RecordId,
    },
    /// The officer has dealt with a referred traveller.
    OfficerDismiss {
        /// Whether the officer console authenticated the officer.
        authenticated: bool,
    },
    /// The officer closes the lane.
    OfficerClose {
        /// Whether the officer console authenticated the officer.
        authenticated: bool,
    },
    /// The officer opens a closed lane.
    OfficerOpen {
        /// Whether the officer console authenticated the officer.
        authenticated: bool,
    },
    /// Time passes: deadlines are checked.
    Tick,
}

/// Something the orchestrator must do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// Show this message on the traveller's screen.
    Show(MessageKey),
    /// Read the chip with the scanned MRZ's key, then report `ChipRead` or `ChipFailed`.
    ReadChip {
        /// The passage.
        passage: PassageId,
    },
    /// Run the policy, then report `Decided`.
    Evaluate {
        /// The passage.
        passage: PassageId,
        /// The scanned document.
        facts: Box<DocumentFacts>,
        /// The chip's verdict.
        verdict: Box<Verdict>,
    },
    /// Ask the face unit for a live capture against this reference, then report `FaceResult`.
    VerifyFace {
        /// The passage.
        passage: PassageId,
        /// The DG2 face image.
        reference: Box<FaceImage>,
    },
    /// Write the record durably, then report `RecordCommitted` or `RecordFailed`.
    RecordPassage(Box<PassageRecord>),
    /// Open the exit gate (the record is committed).
    OpenExit {
        /// The passage.
        passage: PassageId,
        /// Its committed record.
        record_id: RecordId,
    },
    /// Close the exit gate (the controller closes it once the passage is clear).
    CloseExit,
    /// Refer the traveller to the officer.
    Refer {
        /// The passage.
        passage: PassageId,
        /// Its committed record.
        record_id: RecordId,
        /// What the officer is told.
        alert: Option<Alert>,
    },
    /// Tell the officer about the lane.
    AlertOfficer(OfficerAlert),
    /// Write an audit entry.
    Audit(AuditEvent),
}

/// What the store records for one passage (the orchestrator adds the lane,
/// the time and the record id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassageRecord {
    /// The passage.
    pub passage: PassageId,
    /// The scanned document, when the MRZ was read.
    pub document: Option<DocumentFacts>,
    /// The chip's verdict, when the chip was read.
    pub verdict: Option<Verdict>,
    /// The decision.
    pub decision: Decision,
}

/// A lane condition the officer must know about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfficerAlert {
    /// A device failed; the lane is out of service.
    DeviceFault(Device),
    /// A record could not be committed; the lane is out of service.
    StoreFault,
    /// The gate opened but nobody walked through before the walk-away timeout.
    GateNotPassed,
    /// An approved traveller's gate was withheld (a fault or closure while recording).
    GateWithheld {
        /// The committed record.
        record_id: RecordId,
    },
}

/// An officer command, as named in the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficerCommand {
    /// [`Event::OfficerAccept`].
    Accept,
    /// [`Event::OfficerDismiss`].
    Dismiss,
    /// [`Event::OfficerClose`].
    Close,
    /// [`Event::OfficerOpen`].
    Open,
}

/// Why a traveller's passage ended without a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abandon {
    /// The document was not put back in time.
    WalkedAway,
    /// A device failed.
    DeviceFault,
    /// The officer closed the lane.
    LaneClosed,
    /// Another document was scanned.
    NewDocument,
    /// The policy decision never came.
    NoDecision,
    /// The traveller cancelled before the decision.
    Cancelled,
}

/// An entry for the audit table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditEvent {
    /// An officer command without authentication, ignored.
    Unauthenticated(OfficerCommand),
    /// An authenticated accept, acted on.
    OfficerAccepted {
        /// The record accepted.
        record_id: RecordId,
    },
    /// An authenticated accept for no pending referral, ignored.
    OfficerAcceptIgnored {
        /// The record named.
        record_id: RecordId,
    },
    /// An authenticated dismissal of a referral.
    OfficerDismissed {
        /// The referral's record.
        record_id: RecordId,
    },
    /// The lane was closed.
    LaneClosed,
    /// The lane was opened.
    LaneOpened,
    /// A passage ended without a record.
    Abandoned {
        /// The passage.
        passage: PassageId,
        /// Why.
        cause: Abandon,
    },
    /// An approved passage's gate was withheld.
    GateWithheld {
        /// The passage.
        passage: PassageId,
        /// Its record.
        record_id: RecordId,
    },
}

/// A traveller in the lane: the passage, the scanned document and what the chip gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Traveller {
    passage: PassageId,
    facts: DocumentFacts,
    chip: Option<ChipRead>,
}

impl Traveller {
    /// The passage.
    #[must_use]
    pub fn passage(&self) -> PassageId {
        self.passage
    }
}

/// What happens once the record is committed, decided before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterCommit {
    /// Open the gate (approved, exit permitted).
    OpenExit,
    /// Refer to the officer with this alert.
    Refer(Option<Alert>),
    /// Send the traveller to the manual counter.
    Redirect,
}

/// What the lane waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// A traveller's document. After an unreadable scan, `reset_at` forgets it.
    AwaitDocument {
        /// Unreadable scans so far.
        failed_scans: u8,
        /// When to forget the failed scans and show the welcome screen again.
        reset_at: Option<Instant>,
    },
    /// The chip read's answer.
    AwaitChip {
        /// The traveller.
        traveller: Box<Traveller>,
        /// This read's number, from 1.
        attempt: u8,
        /// When the read counts as failed.
        deadline: Instant,
    },
    /// The removed document to be put back.
    AwaitDocumentReturn {
        /// The traveller.
        traveller: Box<Traveller>,
        /// The interrupted read's number.
        attempt: u8,
        /// When the traveller counts as gone.
        deadline: Instant,
    },
    /// The policy's decision.
    AwaitDecision {
        /// The traveller.
        traveller: Box<Traveller>,
        /// When the lane goes out of service.
        deadline: Instant,
    },
    /// The face unit's answer.
    AwaitFace {
        /// The traveller.
        traveller: Box<Traveller>,
        /// The provisional decision.
        decision: Box<Decision>,
        /// This capture's number, from 1.
        tries: u8,
        /// When this capture counts as unusable.
        deadline: Instant,
    },
    /// The store's commit.
    AwaitRecord {
        /// The passage being recorded.
        passage: PassageId,
        /// What to do once committed.
        then: AfterCommit,
        /// Devices that failed meanwhile (the lane goes out of service after the commit).
        faults: Vec<Device>,
        /// The officer closed the lane meanwhile.
        closing: bool,
        /// Something went wrong meanwhile: never open the gate for this passage.
        withheld: bool,
        /// When the store counts as failed.
        deadline: Instant,
    },
    /// The traveller to walk through the open gate.
    AwaitPassage {
        /// The passage.
        passage: PassageId,
        /// Its record.
        record_id: RecordId,
        /// When the gate is closed again.
        deadline: Instant,
    },
    /// The officer, for a referred traveller.
    AwaitOfficer {
        /// The passage.
        passage: PassageId,
        /// The referral's record.
        record_id: RecordId,
        /// When the lane resets.
        deadline: Instant,
    },
    /// Devices to be restored.
    OutOfService {
        /// The failed devices.
        faults: Vec<Device>,
    },
    /// The officer to open the lane.
    Closed {
        /// Devices that failed while closed.
        faults: Vec<Device>,
    },
}

/// The lane: its configuration, its passage counter and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    config: SessionConfig,
    last_passage: u64,
    state: State,
}

impl Lane {
    /// A lane waiting for a document, and the action that shows the welcome screen.
    #[must_use]
    pub fn new(config: SessionConfig) -> (Self, Vec<Action>) {
        let lane = Self {
            config,
            last_passage: 0,
            state: idle(),
        };
        (lane, vec![Action::Show(MessageKey::Welcome)])
    }

    /// What the lane waits for.
    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Takes one event at time `now` (monotonic); returns the next lane and what to do.
    #[must_use]
    pub fn handle(mut self, event: Event, now: Instant) -> (Self, Vec<Action>) {
        let mut out = Vec::new();
        let state = std::mem::replace(&mut self.state, idle());
        self.state = self.step(state, event, now, &mut out);
        (self, out)
    }

    /// The transition function.
    fn step(&mut self, state: State, event: Event, now: Instant, out: &mut Vec<Action>) -> State {
        if let Some((command, false)) = officer_command(&event) {
            out.push(Action::Audit(AuditEvent::Unauthenticated(command)));
            return state;
        }
        match event {
            Event::DeviceFault(device) => return self.on_fault(state, device, out),
            Event::DeviceRestored(device) => return on_restored(state, device, out),
            Event::OfficerClose { .. } => return on_close(state, out),
            _ => {}
        }
        let t = self.config.timeouts;
        match (state, event) {
            // Idle.
            (State::AwaitDocument { .. }, Event::MrzScanned(mrz)) => self.start(&mrz, now, out),
            (State::AwaitDocument { failed_scans, .. }, Event::MrzUnreadable) => {
                let failed = failed_scans.saturating_add(1);
                if failed > self.config.document_retries {
                    let passage = self.next_passage();
                    self.refer_without_decision(passage, None, ReasonCode::MrzUnreadable, now, out)
                } else {
                    out.push(Action::Show(MessageKey::RescanDocument));
                    State::AwaitDocument {
                        failed_scans: failed,
                        reset_at: Some(after(now, t.document)),
                    }
                }
            }
            (
                State::AwaitDocument {
                    reset_at: Some(at), ..
                },
                Event::Tick,
            ) if now >= at => to_idle(out),

            // Chip.
            (State::AwaitChip { mut traveller, .. }, Event::ChipRead { passage, read })
                if passage == traveller.passage =>
            {
                out.push(Action::Show(MessageKey::PleaseWait));
                out.push(Action::Evaluate {
                    passage,
                    facts: Box::new(traveller.facts.clone()),
                    verdict: Box::new(read.verdict.clone()),
                });
                traveller.chip = Some(*read);
                State::AwaitDecision {
                    traveller,
                    deadline: after(now, t.processing),
                }
            }
            (
                State::AwaitChip {
                    traveller, attempt, ..
                },
                Event::ChipFailed { passage, .. },
            ) if passage == traveller.passage => self.retry_chip(traveller, attempt, now, out),
            (
                State::AwaitChip {
                    traveller,
                    attempt,
                    deadline,
                },
                Event::Tick,
            ) if now >= deadline => self.retry_chip(traveller, attempt, now, out),
            (
                State::AwaitChip {
                    traveller, attempt, ..
                },
                Event::DocumentRemoved,
            ) => {
                out.push(Action::Show(MessageKey::PutDocumentBack));
                State::AwaitDocumentReturn {
                    traveller,
                    attempt,
                    deadline: after(now, t.document),
                }
            }

            // Document pulled out during the chip read.
            (
                State::AwaitDocumentReturn {
                    traveller, attempt, ..
                },
                Event::DocumentReplaced,
            ) => self.retry_chip(traveller, attempt, now, out),
            (State::AwaitDocumentReturn { traveller, .. }, Event::MrzScanned(mrz)) => {
                out.push(abandoned(traveller.passage, Abandon::NewDocument));
                self.start(&mrz, now, out)
            }
            (
                State::AwaitDocumentReturn {
                    traveller,
                    deadline,
                    ..
                },
                Event::Tick,
            ) if now >= deadline => {
                out.push(abandoned(traveller.passage, Abandon::WalkedAway));
                to_idle(out)
            }

            // Cancel before anything is decided: the passage ends unrecorded
            // (nothing was decided, nothing opens). Later, it is too late.
            (
                State::AwaitChip { traveller, .. }
                | State::AwaitDocumentReturn { traveller, .. }
                | State::AwaitFace { traveller, .. },
                Event::TravellerCancelled,
            ) => {
                out.push(abandoned(traveller.passage, Abandon::Cancelled));
                to_idle(out)
            }
            (
                State::AwaitDocument {
                    reset_at: Some(_), ..
                },
                Event::TravellerCancelled,
            ) => to_idle(out),

            // Decision.
            (State::AwaitDecision { traveller, .. }, Event::Decided { passage, decision })
                if passage == traveller.passage =>
            {
                self.decided(traveller, *decision, now, out)
            }
            (
                State::AwaitDecision {
                    traveller,
                    deadline,
                },
                Event::Tick,
            ) if now >= deadline => {
                out.push(abandoned(traveller.passage, Abandon::NoDecision));
                out_of_service(vec![Device::Processing], Device::Processing, out)
            }

            // Face.
            (
                State::AwaitFace {
                    traveller,
                    decision,
                    tries,
                    ..
                },
                Event::FaceResult { passage, result },
            ) if passage == traveller.passage => {
                self.face_result(traveller, *decision, tries, result, now, out)
            }
            (
                State::AwaitFace {
                    traveller,
                    decision,
                    tries,
                    deadline,
                },
                Event::Tick,
            ) if now >= deadline => self.face_result(
                traveller,
                *decision,
                tries,
                Err(FaceError::NoUsableCapture),
                now,
                out,
            ),

            // Record.
            (
                State::AwaitRecord {
                    passage,
                    then,
                    faults,
                    closing,
                    withheld,
                    ..
                },
                Event::RecordCommitted {
                    passage: p,
                    record_id,
                },
            ) if p == passage => self.committed(
                passage, record_id, then, faults, closing, withheld, now, out,
            ),
            (
                State::AwaitRecord {
                    passage, faults, ..
                },
                Event::RecordFailed { passage: p },
            ) if p == passage => store_fault(faults, out),
            (
                State::AwaitRecord {
                    faults, deadline, ..
                },
                Event::Tick,
            ) if now >= deadline => store_fault(faults, out),

            // Gate open.
            (State::AwaitPassage { .. }, Event::GatePassed) => to_idle(out),
            (State::AwaitPassage { deadline, .. }, Event::Tick) if now >= deadline => {
                out.push(Action::CloseExit);
                out.push(Action::AlertOfficer(OfficerAlert::GateNotPassed));
                to_idle(out)
            }

            // Referred.
            (
                State::AwaitOfficer {
                    passage, record_id, ..
                },
                Event::OfficerAccept {
                    authenticated: true,
                    record_id: r,
                },
            ) if r == record_id => {
                out.push(Action::Audit(AuditEvent::OfficerAccepted { record_id }));
                out.push(Action::OpenExit { passage, record_id });
                out.push(Action::Show(MessageKey::ProceedToGate));
                State::AwaitPassage {
                    passage,
                    record_id,
                    deadline: after(now, t.walk_away),
                }
            }
            (State::AwaitOfficer { record_id, .. }, Event::OfficerDismiss { .. }) => {
                out.push(Action::Audit(AuditEvent::OfficerDismissed { record_id }));
                to_idle(out)
            }
            (State::AwaitOfficer { deadline, .. }, Event::Tick) if now >= deadline => to_idle(out),

            // Closed.
            (State::Closed { faults }, Event::OfficerOpen { .. }) => {
                out.push(Action::Audit(AuditEvent::LaneOpened));
                if let Some(&first) = faults.first() {
                    out_of_service(faults, first, out)
                } else {
                    to_idle(out)
                }
            }

            // An accept for nothing the lane waits on.
            (state, Event::OfficerAccept { record_id, .. }) => {
                out.push(Action::Audit(AuditEvent::OfficerAcceptIgnored {
                    record_id,
                }));
                state
            }
            // Anything else (late answers, events that do not apply) changes nothing.
            (state, _) => state,
        }
    }

    /// The next passage number.
    fn next_passage(&mut self) -> PassageId {
        self.last_passage += 1;
        PassageId(self.last_passage)
    }

    /// A new traveller: read the chip.
    fn start(&mut self, mrz: &Mrz, now: Instant, out: &mut Vec<Action>) -> State {
        let passage = self.next_passage();
        out.push(Action::Show(MessageKey::ReadingChip));
        out.push(Action::ReadChip { passage });
        State::AwaitChip {
            traveller: Box::new(Traveller {
                passage,
                facts: DocumentFacts::from_mrz(mrz),
                chip: None,
            }),
            attempt: 1,
            deadline: after(now, self.config.timeouts.chip),
        }
    }

    /// Read attempt `attempt` failed: read again, or refer when the retries are spent.
    fn retry_chip(
        &mut self,
        traveller: Box<Traveller>,
        attempt: u8,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> State {
        if attempt > self.config.chip_retries {
            let Traveller { passage, facts, .. } = *traveller;
            return self.refer_without_decision(
                passage,
                Some(facts),
                ReasonCode::ChipUnreadable,
                now,
                out,
            );
        }
        out.push(Action::Show(MessageKey::ReadingChip));
        out.push(Action::ReadChip {
            passage: traveller.passage,
        });
        State::AwaitChip {
            traveller,
            attempt: attempt + 1,
            deadline: after(now, self.config.timeouts.chip),
        }
    }

    /// The biometrics a decision must carry on this lane before face verification.
    fn biometrics_before_face(&self) -> Biometrics {
        if self.config.biometrics.is_some() {
            Biometrics::Skipped
        } else {
            Biometrics::NotConfigured
        }
    }

    /// A referral the lane makes itself (no policy decision possible).
    fn refer_without_decision(
        &mut self,
        passage: PassageId,
        facts: Option<DocumentFacts>,
        reason: ReasonCode,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> State {
        let decision = Decision::from_reasons(
            vec![reason],
            None,
            self.config.direction,
            self.biometrics_before_face(),
        );
        self.record(passage, facts, None, decision, now, out)
    }

    /// The policy decided: verify the face, or record.
    fn decided(
        &mut self,
        traveller: Box<Traveller>,
        mut decision: Decision,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> State {
        let Traveller {
            passage,
            facts,
            chip,
        } = *traveller;
        decision.direction = self.config.direction;
        let genuine = chip.as_ref().is_some_and(|c| c.verdict.genuine());
        if decision.outcome == Outcome::Approved && !genuine {
            // Defence in depth: the machine never approves what the verdict rejects.
            let mut reasons = decision.reasons.clone();
            reasons.push(ReasonCode::NotGenuine);
            decision = Decision::from_reasons(
                reasons,
                decision.permitted_stay_days,
                decision.direction,
                decision.biometrics,
            );
        }
        let verdict = chip.as_ref().map(|c| c.verdict.clone());
        match (self.config.biometrics, decision.outcome) {
            (None, _) => {
                decision.biometrics = Biometrics::NotConfigured;
                self.record(passage, Some(facts), verdict, decision, now, out)
            }
            (Some(_), Outcome::Approved) => {
                decision.biometrics = Biometrics::Pending;
                match chip.as_ref().and_then(|c| c.face.clone()) {
                    Some(reference) => {
                        out.push(Action::Show(MessageKey::LookAtCamera));
                        out.push(Action::VerifyFace {
                            passage,
                            reference: Box::new(reference),
                        });
                        State::AwaitFace {
                            traveller: Box::new(Traveller {
                                passage,
                                facts,
                                chip,
                            }),
                            decision: Box::new(decision),
                            tries: 1,
                            deadline: after(now, self.config.timeouts.face),
                        }
                    }
                    None => {
                        let decision = decision.with_biometrics(Biometrics::NoReference);
                        self.record(passage, Some(facts), verdict, decision, now, out)
                    }
                }
            }
            (Some(_), _) => {
                decision.biometrics = Biometrics::Skipped;
                self.record(passage, Some(facts), verdict, decision, now, out)
            }
        }
    }

    /// The face unit answered (or timed out, as an unusable capture).
    fn face_result(
        &mut self,
        traveller: Box<Traveller>,
        decision: Decision,
        tries: u8,
        result: Result<FaceMatch, FaceError>,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> State {
        let Some(settings) = self.config.biometrics else {
            // Unreachable by construction: AwaitFace exists only with biometrics.
            let decision = decision.with_biometrics(Biometrics::UnitFault);
            return self.record_traveller(*traveller, decision, now, out);
        };
        let biometrics = match result {
            Ok(m) => Biometrics::FaceMatch {
                score: m.per_mille(),
                threshold: settings.threshold_per_mille,
            },
            Err(FaceError::NoUsableCapture) if tries < settings.max_tries => {
                out.push(Action::Show(MessageKey::LookAtCamera));
                if let Some(reference) = traveller.chip.as_ref().and_then(|c| c.face.clone()) {
                    out.push(Action::VerifyFace {
                        passage: traveller.passage,
                        reference: Box::new(reference),
                    });
                }
                return State::AwaitFace {
                    traveller,
                    decision: Box::new(decision),
                    tries: tries + 1,
                    deadline: after(now, self.config.timeouts.face),
                };
            }
            Err(FaceError::NoUsableCapture) => Biometrics::NoUsableCapture { tries },
            Err(FaceError::ReferenceUnusable) => Biometrics::NoReference,
            Err(FaceError::Unit(_)) => Biometrics::UnitFault,
        };
        let decision = decision.with_biometrics(biometrics);
        self.record_traveller(*traveller, decision, now, out)
    }

    /// Records a traveller whose chip was read.
    fn record_traveller(
        &mut self,
        traveller: Traveller,
        decision: Decision,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> State {
        let verdict = traveller.chip.map(|c| c.verdict);
        self.record(
            traveller.passage,
            Some(traveller.facts),
            verdict,
            decision,
            now,
            out,
        )
    }

    /// Writes the record; what follows the commit is fixed now.
    fn record(
        &mut self,
        passage: PassageId,
        document: Option<DocumentFacts>,
        verdict: Option<Verdict>,
        decision: Decision,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> State {
        let genuine = verdict.as_ref().is_some_and(Verdict::genuine);
        let then = if decision.permits_exit() && genuine {
            AfterCommit::OpenExit
        } else if decision.outcome == Outcome::Redirected {
            AfterCommit::Redirect
        } else {
            AfterCommit::Refer(decision.officer_alert.clone())
        };
        out.push(Action::Show(MessageKey::PleaseWait));
        out.push(Action::RecordPassage(Box::new(PassageRecord {
            passage,
            document,
            verdict,
            decision,
        })));
        State::AwaitRecord {
            passage,
            then,
            faults: Vec::new(),
            closing: false,
            withheld: false,
            deadline: after(now, self.config.timeouts.processing),
        }
    }

    /// The record is committed: open, refer, redirect, or stop.
    #[allow(clippy::too_many_arguments)]
    fn committed(
        &mut self,
        passage: PassageId,
        record_id: RecordId,
        then: AfterCommit,
        faults: Vec<Device>,
        closing: bool,
        withheld: bool,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> State {
        let walk_away = after(now, self.config.timeouts.walk_away);
        if then == AfterCommit::OpenExit && !withheld && !closing && faults.is_empty() {
            out.push(Action::OpenExit { passage, record_id });
            out.push(Action::Show(MessageKey::ProceedToGate));
            return State::AwaitPassage {
                passage,
                record_id,
                deadline: walk_away,
            };
        }
        match &then {
            AfterCommit::OpenExit => {
                out.push(Action::Audit(AuditEvent::GateWithheld {
                    passage,
                    record_id,
                }));
                out.push(Action::AlertOfficer(OfficerAlert::GateWithheld {
                    record_id,
                }));
            }
            AfterCommit::Refer(alert) => out.push(Action::Refer {
                passage,
                record_id,
                alert: alert.clone(),
            }),
            AfterCommit::Redirect => {}
        }
        if let Some(&first) = faults.first() {
            return out_of_service(faults, first, out);
        }
        if closing {
            out.push(Action::Show(MessageKey::LaneClosed));
            return State::Closed { faults };
        }
        match then {
            AfterCommit::Redirect => {
                out.push(Action::Show(MessageKey::GoToManualCounter));
                State::AwaitDocument {
                    failed_scans: 0,
                    reset_at: Some(walk_away),
                }
            }
            AfterCommit::OpenExit | AfterCommit::Refer(_) => {
                out.push(Action::Show(MessageKey::SeeOfficer));
                State::AwaitOfficer {
                    passage,
                    record_id,
                    deadline: walk_away,
                }
            }
        }
    }

    /// A device failed.
    fn on_fault(&mut self, state: State, device: Device, out: &mut Vec<Action>) -> State {
        match state {
            State::OutOfService { mut faults } => {
                add_fault(&mut faults, device);
                out.push(Action::AlertOfficer(OfficerAlert::DeviceFault(device)));
                State::OutOfService { faults }
            }
            State::Closed { mut faults } => {
                add_fault(&mut faults, device);
                out.push(Action::AlertOfficer(OfficerAlert::DeviceFault(device)));
                State::Closed { faults }
            }
            State::AwaitRecord {
                passage,
                then,
                mut faults,
                closing,
                deadline,
                ..
            } => {
                add_fault(&mut faults, device);
                out.push(Action::AlertOfficer(OfficerAlert::DeviceFault(device)));
                State::AwaitRecord {
                    passage,
                    then,
                    faults,
                    closing,
                    withheld: true,
                    deadline,
                }
            }
            State::AwaitChip { traveller, .. }
            | State::AwaitDocumentReturn { traveller, .. }
            | State::AwaitDecision { traveller, .. }
            | State::AwaitFace { traveller, .. } => {
                out.push(abandoned(traveller.passage, Abandon::DeviceFault));
                out_of_service(vec![device], device, out)
            }
            State::AwaitDocument { .. }
            | State::AwaitPassage { .. }
            | State::AwaitOfficer { .. } => out_of_service(vec![device], device, out),
        }
    }
}

/// The officer command an event is, with its authentication.
fn officer_command(event: &Event) -> Option<(OfficerCommand, bool)> {
    match *event {
        Event::OfficerAccept { authenticated, .. } => Some((OfficerCommand::Accept, authenticated)),
        Event::OfficerDismiss { authenticated } => Some((OfficerCommand::Dismiss, authenticated)),
        Event::OfficerClose { authenticated } => Some((OfficerCommand::Close, authenticated)),
        Event::OfficerOpen { authenticated } => Some((OfficerCommand::Open, authenticated)),
        _ => None,
    }
}

/// A device works again.
fn on_restored(state: State, device: Device, out: &mut Vec<Action>) -> State {
    match state {
        State::OutOfService { mut faults } => {
            faults.retain(|&d| d != device);
            if faults.is_empty() {
                to_idle(out)
            } else {
                State::OutOfService { faults }
            }
        }
        State::Closed { mut faults } => {
            faults.retain(|&d| d != device);
            State::Closed { faults }
        }
        State::AwaitRecord {
            passage,
            then,
            mut faults,
            closing,
            withheld,
            deadline,
        } => {
            // The fault is gone, but the passage stays withheld.
            faults.retain(|&d| d != device);
            State::AwaitRecord {
                passage,
                then,
                faults,
                closing,
                withheld,
                deadline,
            }
        }
        other => other,
    }
}

/// The officer closes the lane (authenticated).
fn on_close(state: State, out: &mut Vec<Action>) -> State {
    out.push(Action::Audit(AuditEvent::LaneClosed));
    let faults = match state {
        State::AwaitRecord {
            passage,
            then,
            faults,
            deadline,
            ..
        } => {
            // The record is being written: finish it, then close.
            return State::AwaitRecord {
                passage,
                then,
                faults,
                closing: true,
                withheld: true,
                deadline,
            };
        }
        State::AwaitChip { traveller, .. }
        | State::AwaitDocumentReturn { traveller, .. }
        | State::AwaitDecision { traveller, .. }
        | State::AwaitFace { traveller, .. } => {
            out.push(abandoned(traveller.passage, Abandon::LaneClosed));
            Vec::new()
        }
        State::OutOfService { faults } | State::Closed { faults } => faults,
        State::AwaitDocument { .. } | State::AwaitPassage { .. } | State::AwaitOfficer { .. } => {
            Vec::new()
        }
    };
    out.push(Action::Show(MessageKey::LaneClosed));
    State::Closed { faults }
}

/// The record could not be committed: out of service, the gate stays shut.
fn store_fault(mut faults: Vec<Device>, out: &mut Vec<Action>) -> State {
    add_fault(&mut faults, Device::Store);
    out.push(Action::AlertOfficer(OfficerAlert::StoreFault));
    out.push(Action::Show(MessageKey::OutOfService));
    State::OutOfService { faults }
}

/// Enters out of service because `device` failed.
fn out_of_service(faults: Vec<Device>, device: Device, out: &mut Vec<Action>) -> State {
    out.push(Action::AlertOfficer(OfficerAlert::DeviceFault(device)));
    out.push(Action::Show(MessageKey::OutOfService));
    State::OutOfService { faults }
}

/// Adds a device to a fault list once.
fn add_fault(faults: &mut Vec<Device>, device: Device) {
    if !faults.contains(&device) {
        faults.push(device);
    }
}

/// The idle state.
fn idle() -> State {
    State::AwaitDocument {
        failed_scans: 0,
        reset_at: None,
    }
}

/// Back to idle, showing the welcome screen.
fn to_idle(out: &mut Vec<Action>) -> State {
    out.push(Action::Show(MessageKey::Welcome));
    idle()
}

/// The audit action for an abandoned passage.
fn abandoned(passage: PassageId, cause: Abandon) -> Action {
    Action::Audit(AuditEvent::Abandoned { passage, cause })
}

/// `now + d`, saturating at `now` on overflow (an absurd timeout then fires at once).
fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d).unwrap_or(now)
}
