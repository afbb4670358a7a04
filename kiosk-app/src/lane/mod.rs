//! The lane at work: the state machine joined to the rules, the store and
//! the devices.
//!
//! [`LaneCore`] is synchronous and does no I/O: it takes an [`Event`],
//! runs the [state machine](crate::session), applies the
//! [lane rules](crate::policy) at once (they are pure and fast), and
//! returns the slow steps as [`Work`] for a runtime to carry out: a chip
//! read, a face capture, a durable record, a gate order. Each finished step
//! comes back as an [`Event`]. What happened is told as [`LaneEvent`]s,
//! for the screen, the officer and the demo; they carry no personal data.
//! [`runtime`] is the tokio runtime of the appliance; the benchmark drives
//! the core directly.

use std::collections::VecDeque;
use std::time::{Instant, SystemTime};

use icao9303::lds::FaceImage;
use icao9303::mrz::Mrz;

use crate::policy::{
    self, Alert, Date, DocumentFacts, LaneContext, MessageKey, Outcome, PassageKey, ReasonCode,
    RecentPassages, Rules, WatchList,
};
use crate::session::{
    Action, AuditEvent, Event, Lane, OfficerAlert, PassageId, SessionConfig, State,
};
use crate::store::{self, AuditEntry, LaneRef, RecordId};

pub mod health;
pub mod record;
pub mod runtime;

#[cfg(test)]
mod tests;

/// A slow step for the runtime; its result comes back as an [`Event`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Work {
    /// Read and judge the chip, then report `ChipRead`, `ChipFailed` or `DocumentRemoved`.
    ReadChip {
        /// The passage.
        passage: PassageId,
        /// The scanned MRZ (the chip's key).
        mrz: Box<Mrz>,
    },
    /// Capture a live face against this reference, then report `FaceResult`.
    VerifyFace {
        /// The passage.
        passage: PassageId,
        /// DG2's face image.
        reference: Box<FaceImage>,
    },
    /// Commit this record durably, then report `RecordCommitted` or `RecordFailed`.
    Record {
        /// The passage.
        passage: PassageId,
        /// The record, signed and chained by the store.
        record: Box<store::PassageRecord>,
    },
    /// Write this audit entry.
    Audit(AuditEntry),
    /// Give the gate an order.
    Gate(GateStep),
}

/// What the lane asks of the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateStep {
    /// Ready for the next traveller: entry open.
    Admit,
    /// Open the exit for this passage (its record is committed).
    Release {
        /// The passage, as the gate protocol numbers it.
        passage_id: u32,
    },
    /// Close the exit.
    CloseExit,
    /// Send the traveller in the gate back out through the entry.
    TurnBack,
}

/// Something that happened at the lane, for the screen, the officer and the demo.
///
/// Carries no personal data: no names, document numbers or dates.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LaneEvent {
    /// The traveller's screen changed.
    Screen {
        /// The message.
        message: MessageKey,
        /// The permitted stay, shown with [`MessageKey::ProceedToGate`] on arrival.
        permitted_stay_days: Option<u32>,
    },
    /// A document was scanned: a new passage starts.
    DocumentScanned {
        /// The passage.
        passage: PassageId,
        /// The document's issuing state (not personal on its own).
        issuing_state: String,
        /// The holder's nationality (9303-3 §4.2.2): the screen's language is pre-selected from it.
        nationality: String,
    },
    /// The chip was read and judged.
    ChipJudged {
        /// The passage.
        passage: PassageId,
        /// Every mandatory check passed.
        genuine: bool,
        /// The checks that failed.
        failed_checks: Vec<String>,
    },
    /// The face unit answered.
    FaceChecked {
        /// The passage.
        passage: PassageId,
        /// The score per mille, or why there is none.
        result: Result<u16, String>,
    },
    /// The lane rules decided.
    Decided {
        /// The passage.
        passage: PassageId,
        /// The outcome.
        outcome: Outcome,
        /// Every reason, in rule order.
        reasons: Vec<ReasonCode>,
        /// The permitted stay, when computed.
        permitted_stay_days: Option<u32>,
    },
    /// The record was committed.
    Recorded {
        /// The passage.
        passage: PassageId,
        /// The record.
        record_id: RecordId,
    },
    /// The exit gate was ordered open.
    ExitOpened {
        /// The passage.
        passage: PassageId,
        /// Its committed record.
        record_id: RecordId,
    },
    /// The traveller was referred to the officer.
    Referred {
        /// The passage.
        passage: PassageId,
        /// Its committed record.
        record_id: RecordId,
        /// What the officer is told.
        alert: Option<Alert>,
    },
    /// An officer alert about the lane.
    Alert(OfficerAlert),
    /// An audit entry was written (or queued).
    Audit(AuditEvent),
    /// The gate reported something.
    Gate(GateNotice),
    /// The lane's state changed (its name, e.g. `await_chip`).
    State(&'static str),
    /// Free space under the store crossed the lane's limit.
    DiskSpace {
        /// Free bytes.
        free_bytes: u64,
        /// Below the limit: the lane is closed until space returns.
        low: bool,
    },
    /// Sync to the central system fell behind the alert limits, or caught up.
    Sync {
        /// Behind (an officer alert) or caught up.
        behind: bool,
        /// Records waiting.
        backlog: u64,
        /// How long the oldest has waited, in seconds.
        oldest_unsynced_s: u64,
        /// The last sync failure, for the technician.
        last_error: Option<String>,
    },
}

/// What the gate told the lane, beyond passages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GateNotice {
    /// A traveller stepped into the gate.
    PersonInZone,
    /// The traveller walked out through the exit.
    Passed,
    /// A second person followed the first in: the exit stays closed.
    Tailgating,
    /// The fire alarm opened (or released) both leaves.
    Emergency {
        /// Whether the alarm is active.
        active: bool,
    },
    /// The gate refused an order (with the gate's reason).
    Refused(String),
    /// The gate link failed or the gate faulted.
    Fault(String),
    /// The gate link works again.
    Restored,
}

/// What the officer needs to decide on a referral: personal data, so it
/// goes only to the authenticated supervision channel, never to logs.
///
/// `Debug` leaves out the document fields and the face image.
#[derive(Clone, PartialEq)]
pub struct Referral {
    /// The passage.
    pub passage: PassageId,
    /// The referral's committed record (the officer's accept names it).
    pub record_id: RecordId,
    /// What the officer is told: priority and reasons.
    pub alert: Option<Alert>,
    /// Every reason of the decision, in rule order.
    pub reasons: Vec<ReasonCode>,
    /// The scanned document, when the MRZ was read.
    pub document: Option<DocumentFacts>,
    /// The chip's verdict with every check, when the chip was read.
    pub verdict: Option<icao9303::verdict::Verdict>,
    /// DG2's face image, when the chip had one.
    pub face: Option<FaceImage>,
}

impl std::fmt::Debug for Referral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Referral")
            .field("passage", &self.passage)
            .field("record_id", &self.record_id)
            .field("alert", &self.alert)
            .field("reasons", &self.reasons)
            .field("document", &self.document)
            .field("face", &self.face.as_ref().map(|_| "<image>"))
            .finish_non_exhaustive()
    }
}

/// What the lane needs besides its state machine.
pub struct LaneSettings {
    /// Where the lane is (recorded in every record).
    pub lane: LaneRef,
    /// The state machine's configuration.
    pub session: SessionConfig,
    /// The lane rules.
    pub rules: Rules,
    /// The provisioned watch list.
    pub watch_list: WatchList,
    /// Approved passages already in the store (for anti-passback).
    pub history: RecentPassages,
}

/// The lane, synchronous: state machine, rules, and the record being written.
pub struct LaneCore {
    lane: Option<Lane>,
    settings: LaneSettings,
    scanned: Option<Box<Mrz>>,
    recording: Option<Recording>,
    last_stay: Option<u32>,
    face: Option<(PassageId, FaceImage)>,
    events: Vec<LaneEvent>,
    referrals: Vec<Referral>,
}

/// The record being committed: what anti-passback learns once it is, and
/// what a referral shows the officer.
struct Recording {
    passage: PassageId,
    key: Option<PassageKey>,
    approved: bool,
    time_unix_s: i64,
    record: Box<crate::session::PassageRecord>,
}

impl LaneCore {
    /// A lane waiting for a document; the work is the gate's first order.
    #[must_use]
    pub fn new(settings: LaneSettings) -> (Self, Vec<Work>) {
        let (lane, actions) = Lane::new(settings.session.clone());
        let mut core = Self {
            lane: Some(lane),
            settings,
            scanned: None,
            recording: None,
            last_stay: None,
            face: None,
            events: Vec::new(),
            referrals: Vec::new(),
        };
        let mut work = vec![Work::Gate(GateStep::Admit)];
        let mut queue = VecDeque::new();
        for action in actions {
            core.act(action, SystemTime::now(), &mut queue, &mut work);
        }
        (core, work)
    }

    /// What the lane waits for.
    #[must_use]
    pub fn state(&self) -> Option<&State> {
        self.lane.as_ref().map(Lane::state)
    }

    /// Takes `event` at monotonic time `now` and wall-clock time `wall`;
    /// returns the slow steps to carry out.
    pub fn handle(&mut self, event: Event, now: Instant, wall: SystemTime) -> Vec<Work> {
        let mut work = Vec::new();
        let mut queue = VecDeque::from([event]);
        while let Some(event) = queue.pop_front() {
            self.note(&event);
            let Some(lane) = self.lane.take() else {
                return work;
            };
            let before = state_name(lane.state());
            let was_idle = matches!(lane.state(), State::AwaitDocument { .. });
            let was_passage = matches!(lane.state(), State::AwaitPassage { .. });
            let (lane, actions) = lane.handle(event, now);
            let after = state_name(lane.state());
            let now_idle = matches!(lane.state(), State::AwaitDocument { .. });
            let stopped = matches!(
                lane.state(),
                State::OutOfService { .. } | State::Closed { .. }
            );
            self.lane = Some(lane);
            for action in actions {
                self.act(action, wall, &mut queue, &mut work);
            }
            if before != after {
                self.events.push(LaneEvent::State(after));
                if now_idle && !was_idle {
                    // The traveller left through the exit, or must turn back.
                    if !was_passage {
                        work.push(Work::Gate(GateStep::TurnBack));
                    }
                    work.push(Work::Gate(GateStep::Admit));
                } else if stopped {
                    work.push(Work::Gate(GateStep::TurnBack));
                }
            }
        }
        work
    }

    /// What happened since the last call.
    pub fn take_events(&mut self) -> Vec<LaneEvent> {
        std::mem::take(&mut self.events)
    }

    /// The referrals made since the last call, with what the officer needs.
    pub fn take_referrals(&mut self) -> Vec<Referral> {
        std::mem::take(&mut self.referrals)
    }

    /// Remembers what an event carries that a later action needs.
    fn note(&mut self, event: &Event) {
        match event {
            Event::MrzScanned(mrz) => self.scanned = Some(mrz.clone()),
            Event::RecordCommitted { passage, .. } => {
                if let Some(r) = self.recording.as_ref().filter(|r| r.passage == *passage)
                    && r.approved
                    && let Some(key) = r.key
                {
                    self.settings.history.insert(key, r.time_unix_s);
                }
            }
            Event::FaceResult { passage, result } => {
                self.events.push(LaneEvent::FaceChecked {
                    passage: *passage,
                    result: result
                        .as_ref()
                        .map(|m| m.per_mille())
                        .map_err(ToString::to_string),
                });
            }
            Event::ChipRead { passage, read } => {
                self.face = read.face.clone().map(|f| (*passage, f));
                let failed_checks = read
                    .verdict
                    .checks
                    .iter()
                    .filter(|c| matches!(c.outcome, icao9303::pa::Outcome::Failed(_)))
                    .map(|c| c.name.clone())
                    .collect();
                self.events.push(LaneEvent::ChipJudged {
                    passage: *passage,
                    genuine: read.verdict.genuine(),
                    failed_checks,
                });
            }
            _ => {}
        }
    }

    /// Carries out one action of the state machine.
    fn act(
        &mut self,
        action: Action,
        wall: SystemTime,
        queue: &mut VecDeque<Event>,
        work: &mut Vec<Work>,
    ) {
        match action {
            Action::Show(message) => self.events.push(LaneEvent::Screen {
                message,
                permitted_stay_days: (message == MessageKey::ProceedToGate)
                    .then_some(self.last_stay)
                    .flatten(),
            }),
            Action::ReadChip { passage } => match &self.scanned {
                Some(mrz) => {
                    self.events.push(LaneEvent::DocumentScanned {
                        passage,
                        issuing_state: mrz.issuing_state.clone(),
                        nationality: mrz.nationality.clone(),
                    });
                    work.push(Work::ReadChip {
                        passage,
                        mrz: mrz.clone(),
                    });
                }
                // Unreachable: the machine asks for a read only after a scan.
                None => queue.push_back(Event::ChipFailed {
                    passage,
                    failure: crate::session::ChipFailure::AccessDenied,
                }),
            },
            Action::Evaluate {
                passage,
                facts,
                verdict,
            } => {
                let decision = self.decide(&facts, &verdict, wall);
                self.events.push(LaneEvent::Decided {
                    passage,
                    outcome: decision.outcome,
                    reasons: decision.reasons.clone(),
                    permitted_stay_days: decision.permitted_stay_days,
                });
                queue.push_back(Event::Decided {
                    passage,
                    decision: Box::new(decision),
                });
            }
            Action::VerifyFace { passage, reference } => {
                work.push(Work::VerifyFace { passage, reference });
            }
            Action::RecordPassage(passage_record) => {
                let passage = passage_record.passage;
                let Ok(id) = RecordId::random() else {
                    // No randomness: nothing can be recorded, so nothing may open.
                    queue.push_back(Event::RecordFailed { passage });
                    return;
                };
                let time_unix_ms = unix_ms(wall);
                let record =
                    record::passage_record(id, time_unix_ms, &self.settings.lane, &passage_record);
                self.last_stay = passage_record.decision.permitted_stay_days;
                self.recording = Some(Recording {
                    passage,
                    key: passage_record
                        .document
                        .as_ref()
                        .map(DocumentFacts::passage_key),
                    approved: passage_record.decision.outcome == Outcome::Approved,
                    time_unix_s: time_unix_ms.div_euclid(1000),
                    record: passage_record,
                });
                work.push(Work::Record {
                    passage,
                    record: Box::new(record),
                });
            }
            Action::OpenExit { passage, record_id } => {
                self.events
                    .push(LaneEvent::ExitOpened { passage, record_id });
                work.push(Work::Gate(GateStep::Release {
                    passage_id: gate_passage_id(passage),
                }));
            }
            Action::CloseExit => work.push(Work::Gate(GateStep::CloseExit)),
            Action::Refer {
                passage,
                record_id,
                alert,
            } => {
                let record = self
                    .recording
                    .as_ref()
                    .filter(|r| r.passage == passage)
                    .map(|r| &r.record);
                self.referrals.push(Referral {
                    passage,
                    record_id,
                    alert: alert.clone(),
                    reasons: record
                        .map(|r| r.decision.reasons.clone())
                        .unwrap_or_default(),
                    document: record.and_then(|r| r.document.clone()),
                    verdict: record.and_then(|r| r.verdict.clone()),
                    face: self
                        .face
                        .as_ref()
                        .filter(|(p, _)| *p == passage)
                        .map(|(_, f)| f.clone()),
                });
                self.events.push(LaneEvent::Referred {
                    passage,
                    record_id,
                    alert,
                });
            }
            Action::AlertOfficer(alert) => self.events.push(LaneEvent::Alert(alert)),
            Action::Audit(event) => {
                work.push(Work::Audit(record::audit_entry(
                    &event,
                    &self.settings.lane.lane,
                    unix_ms(wall),
                )));
                self.events.push(LaneEvent::Audit(event));
            }
        }
    }

    /// Applies the lane rules.
    fn decide(
        &self,
        facts: &DocumentFacts,
        verdict: &icao9303::verdict::Verdict,
        wall: SystemTime,
    ) -> policy::Decision {
        let now_unix_s = unix_ms(wall).div_euclid(1000);
        let ctx = LaneContext {
            rules: &self.settings.rules,
            direction: self.settings.session.direction,
            today: Date::from_unix_seconds(now_unix_s),
            now_unix_s,
            watch_list: &self.settings.watch_list,
            history: &self.settings.history,
            biometrics_required: self.settings.session.biometrics.is_some(),
        };
        policy::decide(facts, verdict, &ctx)
    }
}

/// A state's name, for [`LaneEvent::State`].
#[must_use]
pub fn state_name(state: &State) -> &'static str {
    match state {
        State::AwaitDocument { .. } => "await_document",
        State::AwaitChip { .. } => "await_chip",
        State::AwaitDocumentReturn { .. } => "await_document_return",
        State::AwaitDecision { .. } => "await_decision",
        State::AwaitFace { .. } => "await_face",
        State::AwaitRecord { .. } => "await_record",
        State::AwaitPassage { .. } => "await_passage",
        State::AwaitOfficer { .. } => "await_officer",
        State::OutOfService { .. } => "out_of_service",
        State::Closed { .. } => "closed",
    }
}

/// The gate protocol's 32-bit passage number (the lane's wraps past 2^32).
fn gate_passage_id(passage: PassageId) -> u32 {
    u32::try_from(passage.0 & u64::from(u32::MAX)).unwrap_or(u32::MAX)
}

/// Unix milliseconds of a wall-clock time (negative before 1970).
#[must_use]
pub fn unix_ms(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}
