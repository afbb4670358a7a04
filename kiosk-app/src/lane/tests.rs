use icao9303::mrz::{Mode, Td3Fields, encode_td3};
use icao9303::pa::Outcome as CheckOutcome;
use icao9303::verdict::{Verdict, VerdictCheck};

use super::*;
use crate::policy::{AlertPriority, Direction};
use crate::session::ChipRead;

fn core(biometrics: bool) -> LaneCore {
    let (core, work) = LaneCore::new(LaneSettings {
        lane: LaneRef {
            site: "KUL".into(),
            terminal: "T1".into(),
            lane: "A07".into(),
        },
        session: crate::session::tests::config(biometrics),
        rules: Rules::default(),
        watch_list: WatchList::new(b"salt"),
        history: RecentPassages::default(),
    });
    assert_eq!(work, vec![Work::Gate(GateStep::Admit)]);
    core
}

fn mrz(nationality: &str, number: &str, expiry: &str) -> Box<Mrz> {
    let text = encode_td3(&Td3Fields {
        document_code: "P",
        issuing_state: nationality,
        primary: "SRISUK",
        secondary: "NARIN",
        document_number: number,
        nationality,
        birth_date: "900412",
        sex: 'F',
        expiry_date: expiry,
        optional: "",
    })
    .unwrap();
    Box::new(icao9303::mrz::parse(&text, Mode::Strict).unwrap())
}

fn verdict(genuine: bool) -> Verdict {
    Verdict {
        checks: vec![
            VerdictCheck {
                name: "access_control".into(),
                outcome: CheckOutcome::Passed,
                mandatory: true,
            },
            VerdictCheck {
                name: "dg_hash_1".into(),
                outcome: if genuine {
                    CheckOutcome::Passed
                } else {
                    CheckOutcome::Failed("hash differs".into())
                },
                mandatory: false,
            },
            VerdictCheck {
                name: "passive_authentication".into(),
                outcome: if genuine {
                    CheckOutcome::Passed
                } else {
                    CheckOutcome::Failed("dg_hash_1".into())
                },
                mandatory: true,
            },
        ],
    }
}

/// Drives a core with the clock under the test's control.
struct Drive {
    core: LaneCore,
    now: Instant,
}

impl Drive {
    fn new(biometrics: bool) -> Self {
        Self {
            core: core(biometrics),
            now: Instant::now(),
        }
    }

    fn ev(&mut self, e: Event) -> Vec<Work> {
        self.core.handle(e, self.now, SystemTime::now())
    }

    /// Scan and chip read; returns the work after the chip's answer.
    fn scan_and_read(&mut self, m: Box<Mrz>, passage: u64, genuine: bool) -> Vec<Work> {
        let w = self.ev(Event::MrzScanned(m.clone()));
        assert_eq!(
            w,
            vec![Work::ReadChip {
                passage: PassageId(passage),
                mrz: m
            }]
        );
        self.ev(Event::ChipRead {
            passage: PassageId(passage),
            read: Box::new(ChipRead {
                verdict: verdict(genuine),
                face: None,
            }),
        })
    }

    fn commit(&mut self, passage: u64, n: u8) -> Vec<Work> {
        self.ev(Event::RecordCommitted {
            passage: PassageId(passage),
            record_id: RecordId::from_bytes([n; 16]),
        })
    }
}

fn the_record(work: &[Work]) -> &store::PassageRecord {
    let records: Vec<_> = work
        .iter()
        .filter_map(|w| match w {
            Work::Record { record, .. } => Some(&**record),
            _ => None,
        })
        .collect();
    assert_eq!(records.len(), 1, "{work:?}");
    records[0]
}

fn gate_steps(work: &[Work]) -> Vec<GateStep> {
    work.iter()
        .filter_map(|w| match w {
            Work::Gate(s) => Some(*s),
            _ => None,
        })
        .collect()
}

#[test]
fn approved_traveller_is_recorded_before_the_exit_opens_with_the_stay_shown() {
    let mut d = Drive::new(false);
    let w = d.scan_and_read(mrz("THA", "AA1234567", "310101"), 1, true);
    let r = the_record(&w);
    assert_eq!(r.decision, store::Decision::Approved);
    assert!(r.reason_codes.is_empty());
    assert_eq!(r.document.document_number, "AA1234567");
    assert_eq!(r.document.sex, "F");
    assert_eq!(r.lane.lane, "A07");
    assert_eq!(r.direction, Direction::Arrival);
    assert!(r.verdict.genuine);
    assert!(r.verdict.failed_checks.is_empty());
    assert_eq!(r.permitted_stay_days, Some(30));
    assert_eq!(r.biometrics, store::Biometrics::NotConfigured);
    assert!(gate_steps(&w).is_empty(), "nothing opens before the commit");

    let w = d.commit(1, 7);
    assert_eq!(gate_steps(&w), vec![GateStep::Release { passage_id: 1 }]);
    let events = d.core.take_events();
    assert!(events.contains(&LaneEvent::Screen {
        message: MessageKey::ProceedToGate,
        permitted_stay_days: Some(30)
    }));
    assert!(events.contains(&LaneEvent::ExitOpened {
        passage: PassageId(1),
        record_id: RecordId::from_bytes([7; 16])
    }));

    // Through the gate: the next traveller is admitted; nobody is turned back.
    let w = d.ev(Event::GatePassed);
    assert_eq!(gate_steps(&w), vec![GateStep::Admit]);
    assert!(matches!(d.core.state(), Some(State::AwaitDocument { .. })));
}

#[test]
fn non_asean_traveller_is_redirected_turned_back_and_the_gate_readied() {
    let mut d = Drive::new(false);
    let w = d.scan_and_read(mrz("UTO", "L898902C3", "310101"), 1, true);
    let r = the_record(&w);
    assert_eq!(r.decision, store::Decision::Redirected);
    assert_eq!(r.reason_codes, vec!["not_asean_national".to_string()]);
    let w = d.commit(1, 1);
    assert_eq!(gate_steps(&w), vec![GateStep::TurnBack, GateStep::Admit]);
    assert!(d.core.take_events().contains(&LaneEvent::Screen {
        message: MessageKey::GoToManualCounter,
        permitted_stay_days: None
    }));
}

#[test]
fn tampered_chip_is_referred_with_its_failed_checks_and_a_high_alert() {
    let mut d = Drive::new(false);
    let w = d.scan_and_read(mrz("PHL", "P1234567A", "310101"), 1, false);
    let r = the_record(&w);
    assert_eq!(r.decision, store::Decision::Referred);
    assert_eq!(r.reason_codes, vec!["not_genuine".to_string()]);
    assert!(!r.verdict.genuine);
    assert_eq!(
        r.verdict.failed_checks,
        vec![
            "dg_hash_1".to_string(),
            "passive_authentication".to_string()
        ]
    );
    let w = d.commit(1, 1);
    assert!(gate_steps(&w).is_empty(), "a referral never opens the exit");
    let events = d.core.take_events();
    let alert = events.iter().find_map(|e| match e {
        LaneEvent::Referred { alert, .. } => alert.clone(),
        _ => None,
    });
    assert_eq!(alert.map(|a| a.priority), Some(AlertPriority::High));
    assert!(events.contains(&LaneEvent::ChipJudged {
        passage: PassageId(1),
        genuine: false,
        failed_checks: vec!["dg_hash_1".into(), "passive_authentication".into()],
    }));
}

#[test]
fn an_approved_passage_arms_anti_passback_and_a_referred_one_does_not() {
    let mut d = Drive::new(false);
    // A referral (not genuine) first: it does not count as a passage.
    d.scan_and_read(mrz("MYS", "A12345678", "310101"), 1, false);
    d.commit(1, 1);
    d.ev(Event::OfficerDismiss {
        authenticated: true,
    });
    let w = d.scan_and_read(mrz("MYS", "A12345678", "310101"), 2, true);
    assert_eq!(the_record(&w).decision, store::Decision::Approved);
    d.commit(2, 2);
    d.ev(Event::GatePassed);
    // The same document again within the window.
    let w = d.scan_and_read(mrz("MYS", "A12345678", "310101"), 3, true);
    let r = the_record(&w);
    assert_eq!(r.decision, store::Decision::Referred);
    assert_eq!(r.reason_codes, vec!["passback".to_string()]);
    // Before its commit the approval had not counted: the commit is what arms it.
    let mut d = Drive::new(false);
    d.scan_and_read(mrz("MYS", "A12345678", "310101"), 1, true);
    d.ev(Event::RecordFailed {
        passage: PassageId(1),
    });
    d.ev(Event::DeviceRestored(crate::session::Device::Store));
    let w = d.scan_and_read(mrz("MYS", "A12345678", "310101"), 2, true);
    assert_eq!(the_record(&w).decision, store::Decision::Approved);
}

#[test]
fn a_referral_on_a_biometric_lane_records_the_face_as_skipped() {
    let mut d = Drive::new(true);
    let w = d.scan_and_read(mrz("VNM", "C1234567", "200101"), 1, true);
    let r = the_record(&w);
    assert_eq!(r.decision, store::Decision::Referred);
    assert_eq!(r.reason_codes, vec!["document_expired".to_string()]);
    assert_eq!(r.biometrics, store::Biometrics::Skipped);
}

#[test]
fn approval_on_a_biometric_lane_without_a_face_image_is_referred_not_opened() {
    let mut d = Drive::new(true);
    let w = d.scan_and_read(mrz("LAO", "L1234567", "310101"), 1, true);
    let r = the_record(&w);
    assert_eq!(r.decision, store::Decision::Referred);
    assert_eq!(r.reason_codes, vec!["face_reference_missing".to_string()]);
    assert_eq!(r.biometrics, store::Biometrics::NoReference);
    assert!(gate_steps(&d.commit(1, 1)).is_empty());
}

#[test]
fn unauthenticated_officer_commands_are_audited_by_the_lane() {
    let mut d = Drive::new(false);
    let w = d.ev(Event::OfficerOpen {
        authenticated: false,
    });
    let audits: Vec<_> = w
        .iter()
        .filter_map(|w| match w {
            Work::Audit(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].action, "unauthenticated_open");
    assert_eq!(audits[0].officer_id, record::LANE_ACTOR);
    assert_eq!(audits[0].lane, "A07");
    assert_eq!(audits[0].record_id, None);
}

#[test]
fn a_device_fault_turns_the_traveller_back_and_the_restore_readies_the_gate() {
    let mut d = Drive::new(false);
    let w = d.ev(Event::DeviceFault(crate::session::Device::Gate));
    assert_eq!(gate_steps(&w), vec![GateStep::TurnBack]);
    assert!(
        d.core
            .take_events()
            .contains(&LaneEvent::State("out_of_service"))
    );
    let w = d.ev(Event::DeviceRestored(crate::session::Device::Gate));
    assert_eq!(gate_steps(&w), vec![GateStep::TurnBack, GateStep::Admit]);
}

#[test]
fn lane_events_carry_no_personal_data() {
    let mut d = Drive::new(false);
    d.scan_and_read(mrz("THA", "AA1234567", "310101"), 1, true);
    d.commit(1, 1);
    let text = format!("{:?}", d.core.take_events());
    for personal in ["AA1234567", "SRISUK", "NARIN", "900412", "310101"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
}

#[test]
fn a_referral_gives_the_officer_the_document_verdict_face_and_reasons() {
    let mut d = Drive::new(false);
    let m = mrz("PHL", "P1234567A", "310101");
    d.ev(Event::MrzScanned(m.clone()));
    let face = icao9303::lds::FaceImage {
        format: icao9303::lds::ImageFormat::Jpeg,
        width: 1,
        height: 1,
        data: vec![0xff, 0xd8, 0xff, 0xd9],
    };
    d.ev(Event::ChipRead {
        passage: PassageId(1),
        read: Box::new(ChipRead {
            verdict: verdict(false),
            face: Some(face.clone()),
        }),
    });
    assert!(d.core.take_referrals().is_empty(), "not before the commit");
    d.commit(1, 9);
    let referrals = d.core.take_referrals();
    assert_eq!(referrals.len(), 1);
    let r = &referrals[0];
    assert_eq!(r.record_id, RecordId::from_bytes([9; 16]));
    assert_eq!(r.reasons, vec![ReasonCode::NotGenuine]);
    assert_eq!(r.document.as_ref().unwrap().document_number, "P1234567A");
    assert_eq!(r.verdict, Some(verdict(false)));
    assert_eq!(r.face, Some(face));
    assert_eq!(r.alert.as_ref().unwrap().priority, AlertPriority::High);
    // Its Debug (what a log line would show) names no one.
    let shown = format!("{r:?}");
    assert!(
        !shown.contains("P1234567A") && !shown.contains("SRISUK"),
        "{shown}"
    );

    // An approved passage makes no referral.
    d.ev(Event::OfficerDismiss {
        authenticated: true,
    });
    d.scan_and_read(mrz("THA", "AA1234567", "310101"), 2, true);
    d.commit(2, 10);
    assert!(d.core.take_referrals().is_empty());
}
