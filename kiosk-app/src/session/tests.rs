use std::collections::{BTreeMap, BTreeSet, HashMap};

use icao9303::lds::ImageFormat;
use icao9303::pa::Outcome as CheckOutcome;
use icao9303::verdict::VerdictCheck;

use super::*;

const SPECIMEN: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
                        L898902C36UTO7408122F1204159ZE184226B<<<<<10";

/// The lane settings the state machine's tests (and the lane core's) use.
pub(crate) fn config(biometrics: bool) -> SessionConfig {
    SessionConfig {
        direction: Direction::Arrival,
        biometrics: biometrics.then_some(FaceSettings {
            threshold_per_mille: 800,
            max_tries: 2,
        }),
        timeouts: Timeouts {
            document: Duration::from_secs(30),
            chip: Duration::from_secs(5),
            face: Duration::from_secs(10),
            walk_away: Duration::from_secs(20),
            processing: Duration::from_secs(3),
        },
        document_retries: 1,
        chip_retries: 1,
    }
}

fn mrz() -> Box<Mrz> {
    Box::new(icao9303::mrz::parse(SPECIMEN, icao9303::mrz::Mode::Strict).expect("specimen"))
}

fn face() -> FaceImage {
    FaceImage {
        format: ImageFormat::Jpeg,
        width: 1,
        height: 1,
        data: vec![0xff, 0xd8, 0xff],
    }
}

fn verdict(genuine: bool) -> Verdict {
    Verdict {
        checks: vec![VerdictCheck {
            name: "passive_authentication".into(),
            outcome: if genuine {
                CheckOutcome::Passed
            } else {
                CheckOutcome::Failed("tampered".into())
            },
            mandatory: true,
        }],
    }
}

fn chip_read(p: u64, genuine: bool, with_face: bool) -> Event {
    Event::ChipRead {
        passage: PassageId(p),
        read: Box::new(ChipRead {
            verdict: verdict(genuine),
            face: with_face.then(face),
        }),
    }
}

fn decided(p: u64, reasons: Vec<ReasonCode>) -> Event {
    Event::Decided {
        passage: PassageId(p),
        decision: Box::new(Decision::from_reasons(
            reasons,
            Some(30),
            Direction::Arrival,
            Biometrics::Pending,
        )),
    }
}

fn rid(n: u8) -> RecordId {
    RecordId::from_bytes([n; 16])
}

fn committed(p: u64, r: u8) -> Event {
    Event::RecordCommitted {
        passage: PassageId(p),
        record_id: rid(r),
    }
}

fn face_score(p: u64, score: f32) -> Event {
    Event::FaceResult {
        passage: PassageId(p),
        result: Ok(FaceMatch { score }),
    }
}

fn face_err(p: u64, e: FaceError) -> Event {
    Event::FaceResult {
        passage: PassageId(p),
        result: Err(e),
    }
}

struct Run {
    lane: Option<Lane>,
    now: Instant,
}

impl Run {
    fn new(biometrics: bool) -> Self {
        let (lane, actions) = Lane::new(config(biometrics));
        assert_eq!(actions, vec![Action::Show(MessageKey::Welcome)]);
        Self {
            lane: Some(lane),
            now: Instant::now(),
        }
    }

    fn ev(&mut self, e: Event) -> Vec<Action> {
        let lane = self.lane.take().expect("lane");
        let (lane, actions) = lane.handle(e, self.now);
        self.lane = Some(lane);
        actions
    }

    fn wait(&mut self, secs: u64) -> Vec<Action> {
        self.now += Duration::from_secs(secs);
        self.ev(Event::Tick)
    }

    fn state(&self) -> &State {
        self.lane.as_ref().expect("lane").state()
    }

    /// Scan, chip read, decision: returns the decision's actions.
    fn through_decision(
        &mut self,
        genuine: bool,
        with_face: bool,
        reasons: Vec<ReasonCode>,
    ) -> Vec<Action> {
        self.ev(Event::MrzScanned(mrz()));
        self.ev(chip_read(1, genuine, with_face));
        self.ev(decided(1, reasons))
    }
}

fn opens(actions: &[Action]) -> bool {
    actions.iter().any(|a| matches!(a, Action::OpenExit { .. }))
}

fn record_of(actions: &[Action]) -> &PassageRecord {
    actions
        .iter()
        .find_map(|a| match a {
            Action::RecordPassage(r) => Some(&**r),
            _ => None,
        })
        .expect("a RecordPassage action")
}

fn is_idle(s: &State) -> bool {
    matches!(s, State::AwaitDocument { .. })
}

#[test]
fn approved_without_biometrics_opens_only_after_its_commit() {
    let mut r = Run::new(false);
    let a = r.ev(Event::MrzScanned(mrz()));
    assert_eq!(
        a,
        vec![
            Action::Show(MessageKey::ReadingChip),
            Action::ReadChip {
                passage: PassageId(1)
            }
        ]
    );
    let a = r.ev(chip_read(1, true, true));
    assert!(matches!(
        a[1],
        Action::Evaluate {
            passage: PassageId(1),
            ..
        }
    ));
    assert!(matches!(r.state(), State::AwaitDecision { .. }));
    let a = r.ev(decided(1, vec![]));
    let rec = record_of(&a);
    assert_eq!(rec.decision.outcome, Outcome::Approved);
    assert_eq!(rec.decision.biometrics, Biometrics::NotConfigured);
    assert!(rec.document.is_some() && rec.verdict.is_some());
    assert!(!opens(&a));
    // Another passage's commit, a failure of another passage: nothing.
    assert!(r.ev(committed(2, 9)).is_empty());
    assert!(
        r.ev(Event::RecordFailed {
            passage: PassageId(2)
        })
        .is_empty()
    );
    let a = r.ev(committed(1, 1));
    assert_eq!(
        a[0],
        Action::OpenExit {
            passage: PassageId(1),
            record_id: rid(1)
        }
    );
    assert!(matches!(r.state(), State::AwaitPassage { .. }));
    let a = r.ev(Event::GatePassed);
    assert_eq!(a, vec![Action::Show(MessageKey::Welcome)]);
    assert!(is_idle(r.state()));
    // The next traveller is passage 2.
    let a = r.ev(Event::MrzScanned(mrz()));
    assert!(a.contains(&Action::ReadChip {
        passage: PassageId(2)
    }));
}

#[test]
fn approved_with_face_match_opens_after_commit() {
    let mut r = Run::new(true);
    let a = r.through_decision(true, true, vec![]);
    assert!(a.iter().any(|a| matches!(a, Action::VerifyFace { .. })));
    assert!(matches!(r.state(), State::AwaitFace { tries: 1, .. }));
    let a = r.ev(face_score(1, 0.8));
    let rec = record_of(&a);
    assert_eq!(
        rec.decision.biometrics,
        Biometrics::FaceMatch {
            score: 800,
            threshold: 800
        }
    );
    assert!(!opens(&a));
    assert!(opens(&r.ev(committed(1, 1))));
}

#[test]
fn face_below_threshold_refers_and_officer_may_accept() {
    let mut r = Run::new(true);
    r.through_decision(true, true, vec![]);
    let a = r.ev(face_score(1, 0.79));
    assert_eq!(
        record_of(&a).decision.reasons,
        vec![ReasonCode::FaceMismatch]
    );
    let a = r.ev(committed(1, 1));
    assert!(!opens(&a));
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::Refer { record_id, .. } if *record_id == rid(1)))
    );
    assert!(a.contains(&Action::Show(MessageKey::SeeOfficer)));
    assert!(matches!(r.state(), State::AwaitOfficer { .. }));
    // Unauthenticated: ignored and audited.
    let a = r.ev(Event::OfficerAccept {
        authenticated: false,
        record_id: rid(1),
    });
    assert_eq!(
        a,
        vec![Action::Audit(AuditEvent::Unauthenticated(
            OfficerCommand::Accept
        ))]
    );
    // Another record: ignored and audited.
    let a = r.ev(Event::OfficerAccept {
        authenticated: true,
        record_id: rid(2),
    });
    assert_eq!(
        a,
        vec![Action::Audit(AuditEvent::OfficerAcceptIgnored {
            record_id: rid(2)
        })]
    );
    let a = r.ev(Event::OfficerAccept {
        authenticated: true,
        record_id: rid(1),
    });
    assert!(opens(&a));
    assert!(a.contains(&Action::Audit(AuditEvent::OfficerAccepted {
        record_id: rid(1)
    })));
}

#[test]
fn unusable_face_captures_are_retried_then_referred() {
    let mut r = Run::new(true);
    r.through_decision(true, true, vec![]);
    let a = r.ev(face_err(1, FaceError::NoUsableCapture));
    assert!(a.iter().any(|a| matches!(a, Action::VerifyFace { .. })));
    assert!(matches!(r.state(), State::AwaitFace { tries: 2, .. }));
    // A face timeout counts as an unusable capture.
    let a = r.wait(10);
    let rec = record_of(&a);
    assert_eq!(
        rec.decision.biometrics,
        Biometrics::NoUsableCapture { tries: 2 }
    );
    assert_eq!(rec.decision.reasons, vec![ReasonCode::FaceNoUsableCapture]);
}

#[test]
fn face_unit_fault_and_unusable_reference_refer() {
    for (err, reason) in [
        (FaceError::Unit("camera".into()), ReasonCode::FaceUnitFault),
        (
            FaceError::ReferenceUnusable,
            ReasonCode::FaceReferenceMissing,
        ),
    ] {
        let mut r = Run::new(true);
        r.through_decision(true, true, vec![]);
        let a = r.ev(face_err(1, err));
        assert_eq!(record_of(&a).decision.reasons, vec![reason]);
        assert!(!opens(&r.ev(committed(1, 1))));
    }
}

#[test]
fn chip_without_face_image_refers_on_a_biometric_lane() {
    let mut r = Run::new(true);
    let a = r.through_decision(true, false, vec![]);
    let rec = record_of(&a);
    assert_eq!(rec.decision.biometrics, Biometrics::NoReference);
    assert_eq!(rec.decision.outcome, Outcome::Referred);
}

#[test]
fn referral_on_a_biometric_lane_skips_the_face() {
    let mut r = Run::new(true);
    let a = r.through_decision(true, true, vec![ReasonCode::DocumentExpired]);
    assert!(!a.iter().any(|a| matches!(a, Action::VerifyFace { .. })));
    assert_eq!(record_of(&a).decision.biometrics, Biometrics::Skipped);
}

#[test]
fn approval_of_a_non_genuine_chip_is_overruled() {
    let mut r = Run::new(false);
    let a = r.through_decision(false, true, vec![]);
    let rec = record_of(&a);
    assert_eq!(rec.decision.outcome, Outcome::Referred);
    assert!(rec.decision.reasons.contains(&ReasonCode::NotGenuine));
    assert!(!opens(&r.ev(committed(1, 1))));
}

#[test]
fn redirected_traveller_goes_to_the_counter_and_the_lane_resets() {
    let mut r = Run::new(false);
    r.through_decision(true, true, vec![ReasonCode::NotAseanNational]);
    let a = r.ev(committed(1, 1));
    assert!(!opens(&a));
    assert!(a.contains(&Action::Show(MessageKey::GoToManualCounter)));
    assert!(is_idle(r.state()));
    assert_eq!(r.wait(20), vec![Action::Show(MessageKey::Welcome)]);
}

#[test]
fn chip_failures_are_retried_then_referred() {
    let mut r = Run::new(false);
    r.ev(Event::MrzScanned(mrz()));
    let fail = Event::ChipFailed {
        passage: PassageId(1),
        failure: ChipFailure::Communication,
    };
    let a = r.ev(fail.clone());
    assert!(a.contains(&Action::ReadChip {
        passage: PassageId(1)
    }));
    assert!(matches!(r.state(), State::AwaitChip { attempt: 2, .. }));
    let a = r.ev(fail);
    let rec = record_of(&a);
    assert_eq!(rec.decision.reasons, vec![ReasonCode::ChipUnreadable]);
    assert!(rec.document.is_some() && rec.verdict.is_none());
    let a = r.ev(committed(1, 1));
    assert!(!opens(&a));
    assert!(matches!(r.state(), State::AwaitOfficer { .. }));
}

#[test]
fn chip_timeout_counts_as_a_failed_read() {
    let mut r = Run::new(false);
    r.ev(Event::MrzScanned(mrz()));
    assert!(r.wait(4).is_empty());
    let a = r.wait(1);
    assert!(a.contains(&Action::ReadChip {
        passage: PassageId(1)
    }));
    let a = r.wait(5);
    assert_eq!(
        record_of(&a).decision.reasons,
        vec![ReasonCode::ChipUnreadable]
    );
}

#[test]
fn document_pulled_out_then_put_back_is_read_again() {
    let mut r = Run::new(false);
    r.ev(Event::MrzScanned(mrz()));
    let a = r.ev(Event::DocumentRemoved);
    assert_eq!(a, vec![Action::Show(MessageKey::PutDocumentBack)]);
    assert!(matches!(r.state(), State::AwaitDocumentReturn { .. }));
    let a = r.ev(Event::DocumentReplaced);
    assert!(a.contains(&Action::ReadChip {
        passage: PassageId(1)
    }));
    // The late answer of the interrupted read is still for this passage.
    let a = r.ev(chip_read(1, true, true));
    assert!(a.iter().any(|a| matches!(a, Action::Evaluate { .. })));
}

#[test]
fn document_pulled_out_and_not_returned_abandons() {
    let mut r = Run::new(false);
    r.ev(Event::MrzScanned(mrz()));
    r.ev(Event::DocumentRemoved);
    assert!(r.wait(29).is_empty());
    let a = r.wait(1);
    assert_eq!(
        a,
        vec![
            Action::Audit(AuditEvent::Abandoned {
                passage: PassageId(1),
                cause: Abandon::WalkedAway
            }),
            Action::Show(MessageKey::Welcome)
        ]
    );
    assert!(is_idle(r.state()));
}

#[test]
fn another_document_while_waiting_for_return_starts_a_new_passage() {
    let mut r = Run::new(false);
    r.ev(Event::MrzScanned(mrz()));
    r.ev(Event::DocumentRemoved);
    let a = r.ev(Event::MrzScanned(mrz()));
    assert_eq!(
        a[0],
        Action::Audit(AuditEvent::Abandoned {
            passage: PassageId(1),
            cause: Abandon::NewDocument
        })
    );
    assert!(a.contains(&Action::ReadChip {
        passage: PassageId(2)
    }));
}

#[test]
fn chip_read_failing_after_the_last_return_refers() {
    let mut r = Run::new(false);
    r.ev(Event::MrzScanned(mrz()));
    r.ev(Event::ChipFailed {
        passage: PassageId(1),
        failure: ChipFailure::AccessDenied,
    });
    r.ev(Event::DocumentRemoved);
    let a = r.ev(Event::DocumentReplaced);
    assert_eq!(
        record_of(&a).decision.reasons,
        vec![ReasonCode::ChipUnreadable]
    );
}

#[test]
fn unreadable_scans_are_retried_then_referred_and_forgotten() {
    let mut r = Run::new(false);
    assert_eq!(
        r.ev(Event::MrzUnreadable),
        vec![Action::Show(MessageKey::RescanDocument)]
    );
    // Forgotten after the document timeout.
    assert_eq!(r.wait(30), vec![Action::Show(MessageKey::Welcome)]);
    assert!(matches!(
        r.state(),
        State::AwaitDocument {
            failed_scans: 0,
            reset_at: None
        }
    ));
    r.ev(Event::MrzUnreadable);
    let a = r.ev(Event::MrzUnreadable);
    let rec = record_of(&a);
    assert_eq!(rec.decision.reasons, vec![ReasonCode::MrzUnreadable]);
    assert!(rec.document.is_none());
    assert_eq!(rec.passage, PassageId(1));
    assert!(!opens(&r.ev(committed(1, 1))));
}

#[test]
fn missing_decision_takes_the_lane_out_of_service() {
    let mut r = Run::new(false);
    r.ev(Event::MrzScanned(mrz()));
    r.ev(chip_read(1, true, true));
    let a = r.wait(3);
    assert!(a.contains(&Action::AlertOfficer(OfficerAlert::DeviceFault(
        Device::Processing
    ))));
    assert_eq!(
        r.state(),
        &State::OutOfService {
            faults: vec![Device::Processing]
        }
    );
    // A late decision does nothing.
    assert!(r.ev(decided(1, vec![])).is_empty());
    assert_eq!(
        r.ev(Event::DeviceRestored(Device::Processing)),
        vec![Action::Show(MessageKey::Welcome)]
    );
}

#[test]
fn failed_or_hung_record_never_opens() {
    let mut r = Run::new(false);
    r.through_decision(true, true, vec![]);
    let a = r.ev(Event::RecordFailed {
        passage: PassageId(1),
    });
    assert!(a.contains(&Action::AlertOfficer(OfficerAlert::StoreFault)));
    assert_eq!(
        r.state(),
        &State::OutOfService {
            faults: vec![Device::Store]
        }
    );
    assert!(!opens(&r.ev(committed(1, 1))));

    let mut r = Run::new(false);
    r.through_decision(true, true, vec![]);
    let a = r.wait(3);
    assert!(a.contains(&Action::AlertOfficer(OfficerAlert::StoreFault)));
    assert!(!opens(&r.ev(committed(1, 1))));
}

#[test]
fn device_fault_while_recording_withholds_the_gate() {
    let mut r = Run::new(false);
    r.through_decision(true, true, vec![]);
    r.ev(Event::DeviceFault(Device::Scanner));
    // Restored before the commit: the passage stays withheld.
    r.ev(Event::DeviceRestored(Device::Scanner));
    let a = r.ev(committed(1, 1));
    assert!(!opens(&a));
    assert!(a.contains(&Action::Audit(AuditEvent::GateWithheld {
        passage: PassageId(1),
        record_id: rid(1)
    })));
    assert!(matches!(r.state(), State::AwaitOfficer { .. }));
    // The officer may still let the traveller through.
    assert!(opens(&r.ev(Event::OfficerAccept {
        authenticated: true,
        record_id: rid(1)
    })));

    let mut r = Run::new(false);
    r.through_decision(true, true, vec![]);
    r.ev(Event::DeviceFault(Device::Gate));
    let a = r.ev(committed(1, 1));
    assert!(!opens(&a));
    assert_eq!(
        r.state(),
        &State::OutOfService {
            faults: vec![Device::Gate]
        }
    );
}

#[test]
fn device_fault_mid_traveller_abandons_and_restore_reopens() {
    for setup in 0..4 {
        let mut r = Run::new(true);
        r.ev(Event::MrzScanned(mrz()));
        match setup {
            1 => {
                r.ev(Event::DocumentRemoved);
            }
            2 => {
                r.ev(chip_read(1, true, true));
            }
            3 => {
                r.through_face_prompt();
            }
            _ => {}
        }
        let a = r.ev(Event::DeviceFault(Device::CardReader));
        assert_eq!(
            a[0],
            Action::Audit(AuditEvent::Abandoned {
                passage: PassageId(1),
                cause: Abandon::DeviceFault
            }),
            "setup {setup}"
        );
        r.ev(Event::DeviceFault(Device::Gate));
        assert_eq!(
            r.state(),
            &State::OutOfService {
                faults: vec![Device::CardReader, Device::Gate]
            }
        );
        assert!(r.ev(Event::DeviceRestored(Device::CardReader)).is_empty());
        assert!(r.ev(Event::MrzScanned(mrz())).is_empty());
        r.ev(Event::DeviceRestored(Device::Gate));
        assert!(is_idle(r.state()));
    }
}

impl Run {
    fn through_face_prompt(&mut self) {
        self.ev(chip_read(1, true, true));
        self.ev(decided(1, vec![]));
        assert!(matches!(self.state(), State::AwaitFace { .. }));
    }
}

#[test]
fn device_fault_when_idle_waiting_or_gate_open() {
    let mut r = Run::new(false);
    r.ev(Event::DeviceFault(Device::Scanner));
    assert!(matches!(r.state(), State::OutOfService { .. }));

    let mut r = Run::new(false);
    r.through_decision(true, true, vec![]);
    r.ev(committed(1, 1));
    r.ev(Event::DeviceFault(Device::Gate));
    assert!(matches!(r.state(), State::OutOfService { .. }));
}

#[test]
fn officer_closes_and_opens_the_lane() {
    let mut r = Run::new(false);
    r.ev(Event::MrzScanned(mrz()));
    let a = r.ev(Event::OfficerClose {
        authenticated: false,
    });
    assert_eq!(
        a,
        vec![Action::Audit(AuditEvent::Unauthenticated(
            OfficerCommand::Close
        ))]
    );
    let a = r.ev(Event::OfficerClose {
        authenticated: true,
    });
    assert_eq!(
        a,
        vec![
            Action::Audit(AuditEvent::LaneClosed),
            Action::Audit(AuditEvent::Abandoned {
                passage: PassageId(1),
                cause: Abandon::LaneClosed
            }),
            Action::Show(MessageKey::LaneClosed)
        ]
    );
    assert!(r.ev(Event::MrzScanned(mrz())).is_empty());
    r.ev(Event::DeviceFault(Device::Gate));
    r.ev(Event::DeviceRestored(Device::Gate));
    assert!(
        r.ev(Event::OfficerOpen {
            authenticated: false
        })[0]
            == Action::Audit(AuditEvent::Unauthenticated(OfficerCommand::Open))
    );
    let a = r.ev(Event::OfficerOpen {
        authenticated: true,
    });
    assert_eq!(
        a,
        vec![
            Action::Audit(AuditEvent::LaneOpened),
            Action::Show(MessageKey::Welcome)
        ]
    );
    // Opening with a device still faulted goes out of service.
    r.ev(Event::OfficerClose {
        authenticated: true,
    });
    r.ev(Event::DeviceFault(Device::Scanner));
    r.ev(Event::OfficerOpen {
        authenticated: true,
    });
    assert!(matches!(r.state(), State::OutOfService { .. }));
}

#[test]
fn closing_while_recording_finishes_the_record_then_closes() {
    let mut r = Run::new(false);
    r.through_decision(true, true, vec![]);
    r.ev(Event::OfficerClose {
        authenticated: true,
    });
    assert!(matches!(
        r.state(),
        State::AwaitRecord { closing: true, .. }
    ));
    let a = r.ev(committed(1, 1));
    assert!(!opens(&a));
    assert!(matches!(r.state(), State::Closed { .. }));
}

#[test]
fn open_gate_not_passed_is_closed_after_walk_away() {
    let mut r = Run::new(false);
    r.through_decision(true, true, vec![]);
    r.ev(committed(1, 1));
    assert!(r.wait(19).is_empty());
    let a = r.wait(1);
    assert_eq!(
        a,
        vec![
            Action::CloseExit,
            Action::AlertOfficer(OfficerAlert::GateNotPassed),
            Action::Show(MessageKey::Welcome)
        ]
    );
}

#[test]
fn referral_ends_by_dismissal_or_walk_away() {
    let mut r = Run::new(false);
    r.through_decision(true, true, vec![ReasonCode::Minor]);
    r.ev(committed(1, 1));
    let a = r.ev(Event::OfficerDismiss {
        authenticated: true,
    });
    assert_eq!(
        a,
        vec![
            Action::Audit(AuditEvent::OfficerDismissed { record_id: rid(1) }),
            Action::Show(MessageKey::Welcome)
        ]
    );

    let mut r = Run::new(false);
    r.through_decision(true, true, vec![ReasonCode::Minor]);
    let a = r.ev(committed(1, 1));
    let alert = a.iter().find_map(|a| match a {
        Action::Refer { alert, .. } => alert.clone(),
        _ => None,
    });
    assert_eq!(alert.map(|a| a.reasons), Some(vec![ReasonCode::Minor]));
    assert_eq!(r.wait(20), vec![Action::Show(MessageKey::Welcome)]);
    // Too late for the officer to accept.
    assert!(!opens(&r.ev(Event::OfficerAccept {
        authenticated: true,
        record_id: rid(1)
    })));
}

// ---------------------------------------------------------------------------
// The security invariant, over every event sequence up to a length.
// ---------------------------------------------------------------------------

/// What the oracle knows, from events and actions only (not the lane's state).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Ghost {
    /// Passages that received an approving `Decided` event.
    approved: BTreeSet<u64>,
    /// Whether the chip read the lane took for each passage was genuine.
    genuine: BTreeMap<u64, bool>,
    /// The record being written: passage, eligible to open, tainted by an error since.
    pending: Option<(u64, bool, bool)>,
    /// Committed records and their passages.
    committed: BTreeMap<[u8; 16], u64>,
    /// Passages whose gate opened.
    opened: BTreeSet<u64>,
}

fn alphabet() -> Vec<(Event, u64)> {
    let mut events = vec![
        (Event::MrzScanned(mrz()), 0),
        (Event::MrzUnreadable, 0),
        (chip_read(1, true, true), 0),
        (chip_read(1, false, true), 0),
        (
            Event::ChipFailed {
                passage: PassageId(1),
                failure: ChipFailure::Communication,
            },
            0,
        ),
        (Event::DocumentRemoved, 0),
        (Event::DocumentReplaced, 0),
        (Event::TravellerCancelled, 0),
        (decided(1, vec![]), 0),
        (decided(1, vec![ReasonCode::WatchListPerson]), 0),
        (face_score(1, 0.95), 0),
        (face_score(1, 0.2), 0),
        (face_err(1, FaceError::NoUsableCapture), 0),
        (committed(1, 1), 0),
        (
            Event::RecordFailed {
                passage: PassageId(1),
            },
            0,
        ),
        (Event::GatePassed, 0),
        (Event::DeviceFault(Device::Gate), 0),
        (Event::DeviceRestored(Device::Gate), 0),
        (
            Event::OfficerAccept {
                authenticated: true,
                record_id: rid(1),
            },
            0,
        ),
        (
            Event::OfficerAccept {
                authenticated: false,
                record_id: rid(1),
            },
            0,
        ),
        (
            Event::OfficerClose {
                authenticated: true,
            },
            0,
        ),
        (
            Event::OfficerOpen {
                authenticated: true,
            },
            0,
        ),
        (Event::Tick, 1),
        (Event::Tick, 3600),
        // A second passage.
        (chip_read(2, true, true), 0),
        (decided(2, vec![]), 0),
        (committed(2, 2), 0),
        (
            Event::OfficerAccept {
                authenticated: true,
                record_id: rid(2),
            },
            0,
        ),
    ];
    events.shrink_to_fit();
    events
}

/// Updates the oracle with one step and checks every `OpenExit` in it.
fn check_step(ghost: &mut Ghost, event: &Event, actions: &[Action], biometrics: bool) {
    match event {
        Event::Decided { passage, decision } if decision.outcome == Outcome::Approved => {
            ghost.approved.insert(passage.0);
        }
        // The read the lane took (it asked for a decision on it).
        Event::ChipRead { passage, read }
            if actions
                .iter()
                .any(|a| matches!(a, Action::Evaluate { passage: ap, .. } if ap == passage)) =>
        {
            ghost.genuine.insert(passage.0, read.verdict.genuine());
        }
        _ => {}
    }
    for a in actions {
        if let Action::RecordPassage(rec) = a {
            let p = rec.passage.0;
            assert_eq!(
                rec.decision.biometrics == Biometrics::NotConfigured,
                !biometrics,
                "every record says whether biometrics are configured"
            );
            let genuine = rec.verdict.as_ref().is_some_and(Verdict::genuine);
            let eligible = rec.decision.permits_exit()
                && genuine
                && ghost.approved.contains(&p)
                && ghost.genuine.get(&p) == Some(&true);
            ghost.pending = Some((p, eligible, false));
        }
    }
    for a in actions {
        if let Action::OpenExit { passage, record_id } = a {
            let p = passage.0;
            let by_commit = matches!(event, Event::RecordCommitted { passage: ep, record_id: er }
                    if ep == passage && er == record_id)
                && ghost.pending == Some((p, true, false));
            let by_officer = matches!(event, Event::OfficerAccept { authenticated: true, record_id: er }
                    if er == record_id)
                && ghost.committed.get(record_id.as_bytes()) == Some(&p);
            assert!(
                by_commit || by_officer,
                "OpenExit without an approved committed record or an authenticated accept: {event:?}"
            );
            assert!(
                ghost.opened.insert(p),
                "the gate opened twice for a passage"
            );
        }
    }
    match event {
        Event::RecordCommitted { passage, record_id }
            if ghost.pending.is_some_and(|(p, ..)| p == passage.0) =>
        {
            ghost.committed.insert(*record_id.as_bytes(), passage.0);
            ghost.pending = None;
        }
        Event::RecordFailed { passage } if ghost.pending.is_some_and(|(p, ..)| p == passage.0) => {
            ghost.pending = None;
        }
        Event::DeviceFault(_)
        | Event::OfficerClose {
            authenticated: true,
        } => {
            if let Some((_, _, tainted)) = ghost.pending.as_mut() {
                *tainted = true;
            }
        }
        _ => {}
    }
}

/// Explores every sequence of `depth` events from idle (states reached
/// twice with as much depth left are explored once); returns the number of
/// distinct nodes and how many opened the gate.
fn explore(biometrics: bool, depth: usize) -> (usize, usize) {
    let events = alphabet();
    let base = Instant::now();
    let (lane, _) = Lane::new(config(biometrics));
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut stack = vec![(lane, Ghost::default(), 0u64, depth)];
    let mut opened = 0;
    while let Some((lane, ghost, t, left)) = stack.pop() {
        if left == 0 {
            continue;
        }
        let key = format!("{:?}|{ghost:?}|{t}", lane.state());
        let key = format!("{key}|{}", lane.last_passage);
        if seen.get(&key).is_some_and(|&l| l >= left) {
            continue;
        }
        seen.insert(key, left);
        for (event, advance) in &events {
            let t = t + advance;
            let (next, actions) = lane
                .clone()
                .handle(event.clone(), base + Duration::from_secs(t));
            let mut g = ghost.clone();
            check_step(&mut g, event, &actions, biometrics);
            if opens(&actions) {
                opened += 1;
            }
            stack.push((next, g, t, left - 1));
        }
    }
    (seen.len(), opened)
}

#[test]
fn gate_opens_only_after_committed_approval_without_biometrics() {
    let (nodes, opened) = explore(false, 10);
    assert!(nodes > 10_000, "{nodes}");
    assert!(opened > 0, "the search must reach an open gate");
}

#[test]
fn gate_opens_only_after_committed_approval_with_biometrics() {
    let (nodes, opened) = explore(true, 10);
    assert!(nodes > 10_000, "{nodes}");
    assert!(opened > 0, "the search must reach an open gate");
}

#[test]
fn debug_of_states_and_actions_has_no_personal_data() {
    let mut r = Run::new(true);
    let a = r.through_decision(true, true, vec![]);
    let shown = format!("{:?} {a:?}", r.state());
    for secret in ["ERIKSSON", "ANNA", "L898902C3", "740812", "120415"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn cancel_ends_an_undecided_passage_and_is_ignored_once_decided() {
    for before in ["chip", "return", "face"] {
        let mut r = Run::new(true);
        r.ev(Event::MrzScanned(mrz()));
        match before {
            "return" => {
                r.ev(Event::DocumentRemoved);
            }
            "face" => {
                r.ev(chip_read(1, true, true));
                r.ev(decided(1, vec![]));
                assert!(matches!(r.state(), State::AwaitFace { .. }));
            }
            _ => {}
        }
        let a = r.ev(Event::TravellerCancelled);
        assert!(is_idle(r.state()), "{before}");
        assert!(a.contains(&Action::Audit(AuditEvent::Abandoned {
            passage: PassageId(1),
            cause: Abandon::Cancelled
        })));
        assert!(!a.iter().any(|a| matches!(a, Action::RecordPassage(_))));
        assert!(a.contains(&Action::Show(MessageKey::Welcome)));
    }
    // Once the decision is being recorded, Cancel changes nothing.
    let mut r = Run::new(false);
    r.through_decision(true, false, vec![]);
    assert!(matches!(r.state(), State::AwaitRecord { .. }));
    assert!(r.ev(Event::TravellerCancelled).is_empty());
    assert!(matches!(r.state(), State::AwaitRecord { .. }));
    // After a failed scan, Cancel shows the welcome screen again.
    let mut r = Run::new(false);
    r.ev(Event::MrzUnreadable);
    assert_eq!(
        r.ev(Event::TravellerCancelled),
        vec![Action::Show(MessageKey::Welcome)]
    );
}
