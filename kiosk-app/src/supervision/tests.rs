//! Unit tests of the supervision module without a network: framing,
//! messages, PINs, limits, the configuration section and the lane view.

use std::time::{Duration, Instant};

use icao9303::lds::{FaceImage, ImageFormat};
use icao9303::pa::Outcome as CheckOutcome;
use icao9303::verdict::{Verdict, VerdictCheck};

use super::auth::{
    AuthError, AuthLimits, Limiter, MIN_ITERATIONS, OfficerRecord, Officers, lockout_duration,
    officers_toml,
};
use super::protocol::{
    ClientMessage, Command, CommandFrame, FrameError, MAX_CLIENT_FRAME, MAX_FACE_BYTES, Pin,
    ServerMessage, WireEvent, decode, encode, read_frame,
};
use super::view::{LaneView, RECENT_ALERTS};
use super::*;
use crate::lane::{GateNotice, LaneEvent, Referral};
use crate::policy::{Alert, AlertPriority, DocumentFacts, ReasonCode};
use crate::session::{Device, OfficerAlert, PassageId};
use crate::store::RecordId;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

// ---- framing ----

#[test]
fn a_frame_round_trips() {
    let msg = ClientMessage::Ping { nonce: 7 };
    let frame = encode(&msg, MAX_CLIENT_FRAME).unwrap();
    assert_eq!(
        &frame[..4],
        &u32::try_from(frame.len() - 4).unwrap().to_be_bytes()
    );
    let mut r = &frame[..];
    let payload = block_on(read_frame(&mut r, MAX_CLIENT_FRAME))
        .unwrap()
        .unwrap();
    assert_eq!(decode::<ClientMessage>(&payload).unwrap(), msg);
    // Then a clean end.
    assert!(
        block_on(read_frame(&mut r, MAX_CLIENT_FRAME))
            .unwrap()
            .is_none()
    );
}

#[test]
fn an_oversized_frame_is_refused_before_allocating() {
    let header = u32::MAX.to_be_bytes();
    let mut r = &header[..];
    assert!(matches!(
        block_on(read_frame(&mut r, MAX_CLIENT_FRAME)),
        Err(FrameError::TooLarge { .. })
    ));
    let over = u32::try_from(MAX_CLIENT_FRAME + 1).unwrap().to_be_bytes();
    let mut r = &over[..];
    assert!(matches!(
        block_on(read_frame(&mut r, MAX_CLIENT_FRAME)),
        Err(FrameError::TooLarge { len, .. }) if len == MAX_CLIENT_FRAME + 1
    ));
}

#[test]
fn truncated_and_empty_frames_are_errors() {
    let mut r = &[0u8, 0][..];
    assert!(matches!(
        block_on(read_frame(&mut r, 100)),
        Err(FrameError::Io(_))
    ));
    let mut r = &[0u8, 0, 0, 10, b'{'][..];
    assert!(matches!(
        block_on(read_frame(&mut r, 100)),
        Err(FrameError::Io(_))
    ));
    let mut r = &[0u8, 0, 0, 0][..];
    assert!(matches!(
        block_on(read_frame(&mut r, 100)),
        Err(FrameError::Empty)
    ));
}

#[test]
fn encoding_refuses_a_message_over_the_limit() {
    let msg = ClientMessage::Login {
        officer_id: "x".repeat(100),
        pin: Pin::new("1234"),
    };
    assert!(matches!(encode(&msg, 50), Err(FrameError::TooLarge { .. })));
}

#[test]
fn hostile_json_is_malformed_not_a_panic() {
    for bad in [
        &b"not json"[..],
        b"{}",
        b"{\"type\":\"nope\"}",
        b"{\"type\":\"login\"}",
        b"{\"type\":\"command\",\"session_id\":1}",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        b"\xff\xfe",
    ] {
        assert!(decode::<ClientMessage>(bad).is_err());
    }
}

#[test]
fn messages_have_the_documented_json() {
    let frame = ClientMessage::Command(CommandFrame {
        session_id: "ab".into(),
        counter: 3,
        lane: "A07".into(),
        command: Command::Accept {
            record_id: "00".repeat(16),
        },
        reason: None,
    });
    let json: serde_json::Value = serde_json::to_value(&frame).unwrap();
    assert_eq!(json["type"], "command");
    assert_eq!(json["counter"], 3);
    assert_eq!(json["command"]["kind"], "accept");
    let login: ClientMessage =
        serde_json::from_str(r#"{"type":"login","officer_id":"OFC-1","pin":"1234"}"#).unwrap();
    assert!(matches!(login, ClientMessage::Login { .. }));
    assert!(
        !format!("{login:?}").contains("1234"),
        "Debug hides the PIN"
    );
    let reset: ClientMessage = serde_json::from_str(
        r#"{"type":"command","session_id":"s","counter":1,"lane":"A07","command":{"kind":"reset_lane"},"extra":1}"#,
    )
    .unwrap();
    assert!(matches!(
        reset,
        ClientMessage::Command(CommandFrame {
            command: Command::ResetLane,
            ..
        })
    ));
    let unknown: ServerMessage = serde_json::from_str(
        r#"{"type":"event","lane":"A07","seq":1,"event":{"kind":"something_new"}}"#,
    )
    .unwrap();
    assert!(matches!(
        unknown,
        ServerMessage::Event {
            event: WireEvent::Other,
            ..
        }
    ));
}

// ---- PINs and limits ----

fn officers() -> Officers {
    Officers::from_records(vec![
        OfficerRecord::new("OFC-0042", "482916", MIN_ITERATIONS).unwrap(),
    ])
    .unwrap()
}

#[test]
fn the_right_pin_verifies_and_a_wrong_one_or_an_unknown_officer_does_not() {
    let o = officers();
    assert!(o.verify("OFC-0042", "482916"));
    assert!(!o.verify("OFC-0042", "482917"));
    assert!(!o.verify("OFC-0043", "482916"));
    assert!(!o.verify("OFC-0042", ""));
}

#[test]
fn the_officers_file_round_trips_and_stores_no_pin() {
    let record = OfficerRecord::new("OFC-0042", "482916", MIN_ITERATIONS).unwrap();
    let text = officers_toml(std::slice::from_ref(&record));
    assert!(!text.contains("482916"));
    let o = Officers::from_toml_str(&text).unwrap();
    assert_eq!(o.len(), 1);
    assert!(o.verify("OFC-0042", "482916"));
    assert!(!format!("{record:?}").contains("hash"));
}

#[test]
fn weak_or_broken_officer_entries_are_refused() {
    let good = OfficerRecord::new("OFC-1", "1234", MIN_ITERATIONS).unwrap();
    let text = officers_toml(&[good]);
    let weak = text.replace(
        &format!("iterations = {MIN_ITERATIONS}"),
        "iterations = 1000",
    );
    assert!(matches!(
        Officers::from_toml_str(&weak),
        Err(AuthError::Invalid { .. })
    ));
    let dup = format!(
        "{text}{}",
        text.lines().skip(1).collect::<Vec<_>>().join("\n")
    );
    assert!(matches!(
        Officers::from_toml_str(&dup),
        Err(AuthError::Invalid { .. })
    ));
    assert!(matches!(Officers::from_toml_str(""), Err(AuthError::Empty)));
    assert!(matches!(
        Officers::from_toml_str("[[officer]]\nid = \"x\"\n"),
        Err(AuthError::Syntax(_))
    ));
    let bad_hex = text.replace("hash = \"", "hash = \"zz");
    assert!(Officers::from_toml_str(&bad_hex).is_err());
    assert!(OfficerRecord::new("bad id!", "1234", MIN_ITERATIONS).is_err());
    assert!(OfficerRecord::new("OFC-1", "12", MIN_ITERATIONS).is_err());
    assert!(OfficerRecord::new("OFC-1", "1234", MIN_ITERATIONS - 1).is_err());
}

#[test]
fn lockouts_double_and_are_capped() {
    let limits = AuthLimits {
        per_connection: 3,
        lockout_after: 3,
        lockout_base: Duration::from_secs(30),
        lockout_max: Duration::from_secs(300),
        failure_delay: Duration::ZERO,
    };
    assert_eq!(lockout_duration(0, &limits), Duration::ZERO);
    assert_eq!(lockout_duration(2, &limits), Duration::ZERO);
    assert_eq!(lockout_duration(3, &limits), Duration::from_secs(30));
    assert_eq!(lockout_duration(4, &limits), Duration::from_secs(60));
    assert_eq!(lockout_duration(5, &limits), Duration::from_secs(120));
    assert_eq!(lockout_duration(7, &limits), Duration::from_secs(300));
    assert_eq!(
        lockout_duration(u32::MAX, &limits),
        Duration::from_secs(300)
    );
}

#[test]
fn the_limiter_locks_an_officer_and_a_console_and_a_success_clears_them() {
    let limits = AuthLimits {
        lockout_after: 2,
        ..AuthLimits::default()
    };
    let mut l = Limiter::new(limits);
    let now = Instant::now();
    assert!(l.check("OFC-1", "c1", now).is_ok());
    assert_eq!(l.failed("OFC-1", true, "c1", now), None);
    assert_eq!(
        l.failed("OFC-1", true, "c2", now),
        Some(limits.lockout_base)
    );
    // The officer is locked from every console; the consoles failed once each only.
    assert!(l.check("OFC-1", "c3", now).is_err());
    assert!(l.check("OFC-2", "c2", now).is_ok());
    assert!(l.check("OFC-2", "c1", now).is_ok());
    // Over once the time has passed.
    let later = now + limits.lockout_base + Duration::from_secs(1);
    assert!(l.check("OFC-1", "c3", later).is_ok());
    // Unknown officers are not remembered, but their console is.
    let mut l = Limiter::new(limits);
    l.failed("ghost", false, "c9", now);
    l.failed("ghost2", false, "c9", now);
    assert!(l.check("ghost", "c8", now).is_ok());
    assert!(l.check("OFC-1", "c9", now).is_err());
    l.succeeded("OFC-1", "c9");
    assert!(l.check("OFC-1", "c9", now).is_ok());
}

// ---- configuration ----

fn table(text: &str) -> toml::Table {
    text.parse().unwrap()
}

const MINIMAL: &str = r#"
listen = "127.0.0.1:7443"
ca_cert = "/p/ca.pem"
cert = "/p/kiosk.pem"
key = "/p/kiosk.key"
officers = "/p/officers.toml"
"#;

#[test]
fn the_section_loads_with_defaults() {
    let c = SupervisionConfig::from_table(&table(MINIMAL)).unwrap();
    assert_eq!(c.listen, "127.0.0.1:7443".parse().unwrap());
    assert_eq!(c.officers, std::path::PathBuf::from("/p/officers.toml"));
    assert_eq!(c.limits, Limits::default());
    let c = SupervisionConfig::from_table(&table(&format!(
        "{MINIMAL}lockout_after = 3\nfailure_delay_ms = 0\nsession_ttl_s = 600\nmax_consoles = 4\n"
    )))
    .unwrap();
    assert_eq!(c.limits.auth.lockout_after, 3);
    assert_eq!(c.limits.auth.failure_delay, Duration::ZERO);
    assert_eq!(c.limits.session_ttl, Duration::from_secs(600));
    assert_eq!(c.limits.max_consoles, 4);
}

#[test]
fn section_errors_name_the_key() {
    let err = |text: &str| {
        SupervisionConfig::from_table(&table(text))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(&MINIMAL.replace("officers = \"/p/officers.toml\"", "")),
        "supervision.officers: missing"
    );
    assert_eq!(
        err(&format!("{MINIMAL}colour = 1\n")),
        "supervision.colour: unknown key"
    );
    assert!(err(&MINIMAL.replace("127.0.0.1:7443", "nowhere")).starts_with("supervision.listen:"));
    assert!(
        err(&format!("{MINIMAL}lockout_after = 0\n")).starts_with("supervision.lockout_after:")
    );
    assert!(
        err(&format!("{MINIMAL}max_consoles = \"4\"\n")).starts_with("supervision.max_consoles:")
    );
    assert!(
        err(&format!(
            "{MINIMAL}lockout_base_s = 600\nlockout_max_s = 60\n"
        ))
        .starts_with("supervision.lockout_max_s:")
    );
}

// ---- the lane view ----

fn referral(record: u8, face_len: usize) -> Referral {
    let mrz = icao9303::mrz::parse(
        &icao9303::mrz::encode_td3(&icao9303::mrz::Td3Fields {
            document_code: "P",
            issuing_state: "PHL",
            primary: "SANTOS",
            secondary: "MARIA",
            document_number: "P1234567A",
            nationality: "PHL",
            birth_date: "900412",
            sex: 'F',
            expiry_date: "310101",
            optional: "",
        })
        .unwrap(),
        icao9303::mrz::Mode::Strict,
    )
    .unwrap();
    Referral {
        passage: PassageId(3),
        record_id: RecordId::from_bytes([record; 16]),
        alert: Some(Alert {
            priority: AlertPriority::High,
            reasons: vec![ReasonCode::NotGenuine],
        }),
        reasons: vec![ReasonCode::NotGenuine],
        document: Some(DocumentFacts::from_mrz(&mrz)),
        verdict: Some(Verdict {
            checks: vec![
                VerdictCheck {
                    name: "passive_authentication".into(),
                    outcome: CheckOutcome::Failed("dg_hash_2".into()),
                    mandatory: true,
                },
                VerdictCheck {
                    name: "active_authentication".into(),
                    outcome: CheckOutcome::Passed,
                    mandatory: false,
                },
            ],
        }),
        face: Some(FaceImage {
            format: ImageFormat::Jpeg,
            width: 240,
            height: 320,
            data: vec![0xAB; face_len],
        }),
    }
}

#[test]
fn a_referral_carries_what_the_officer_needs_and_debug_hides_it() {
    let mut view = LaneView::new("await_document");
    let r = view.referral(&referral(5, 100));
    let doc = r.document.as_ref().unwrap();
    assert_eq!(doc.document_number, "P1234567A");
    assert_eq!(doc.primary_identifier, "SANTOS");
    assert_eq!(doc.sex, "F");
    let verdict = r.verdict.as_ref().unwrap();
    assert!(!verdict.genuine);
    assert_eq!(verdict.failed_checks, vec!["passive_authentication"]);
    assert_eq!(verdict.checks[0].detail.as_deref(), Some("dg_hash_2"));
    assert_eq!(r.face.as_ref().unwrap().data.len(), 100);
    assert_eq!(r.priority.as_deref(), Some("high"));
    assert_eq!(r.reasons, vec!["not_genuine"]);
    let debug = format!("{r:?}");
    assert!(!debug.contains("SANTOS") && !debug.contains("P1234567A"));
    // Over the wire, the face as base64.
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"data\":\"q6ur"));
    let back: super::protocol::ReferralView = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn a_face_too_large_is_left_out() {
    let mut view = LaneView::new("await_document");
    let r = view.referral(&referral(5, MAX_FACE_BYTES + 1));
    assert!(r.face.is_none());
    assert!(r.face_omitted);
}

#[test]
fn the_open_referral_lasts_while_the_lane_waits_for_the_officer() {
    let mut view = LaneView::new("await_document");
    let referred = |n: u8| LaneEvent::Referred {
        passage: PassageId(3),
        record_id: RecordId::from_bytes([n; 16]),
        alert: None,
    };
    // A referral without its `referred` event first is told, never opened.
    view.referral(&referral(4, 10));
    assert_eq!(view.status().open_referral, None);
    view.event(&referred(5));
    view.event(&LaneEvent::State("await_officer"));
    view.referral(&referral(5, 10));
    assert_eq!(
        view.status().open_referral,
        Some(RecordId::from_bytes([5; 16]))
    );
    assert!(view.snapshot("A07", 9).referral.is_some());
    view.event(&LaneEvent::ExitOpened {
        passage: PassageId(3),
        record_id: RecordId::from_bytes([5; 16]),
    });
    assert_eq!(view.status().open_referral, None);
    view.event(&referred(6));
    view.event(&LaneEvent::State("await_officer"));
    view.referral(&referral(6, 10));
    assert!(view.status().open_referral.is_some());
    view.event(&LaneEvent::State("await_document"));
    assert_eq!(view.status().open_referral, None);
    assert_eq!(view.status().state, "await_document");
}

#[test]
fn alerts_in_force_clear_and_momentary_ones_are_bounded() {
    let mut view = LaneView::new("await_document");
    view.event(&LaneEvent::Alert(OfficerAlert::DeviceFault(Device::Gate)));
    view.event(&LaneEvent::Gate(GateNotice::Emergency { active: true }));
    view.event(&LaneEvent::Gate(GateNotice::Fault("link down".into())));
    for _ in 0..20 {
        view.event(&LaneEvent::Gate(GateNotice::Tailgating));
    }
    let s = view.snapshot("A07", 1);
    let kinds: Vec<&str> = s.alerts.iter().map(|a| a.kind.as_str()).collect();
    assert!(kinds.contains(&"device_fault"));
    assert!(kinds.contains(&"gate_emergency"));
    assert!(kinds.contains(&"gate_fault"));
    assert_eq!(
        kinds.iter().filter(|k| **k == "gate_tailgating").count(),
        RECENT_ALERTS
    );
    view.event(&LaneEvent::Gate(GateNotice::Emergency { active: false }));
    view.event(&LaneEvent::Gate(GateNotice::Restored));
    view.event(&LaneEvent::State("await_document"));
    let s = view.snapshot("A07", 2);
    assert!(s.alerts.iter().all(|a| a.kind == "gate_tailgating"));
    // A routine gate report is not an alert.
    assert_eq!(
        view.event(&LaneEvent::Gate(GateNotice::Passed)),
        WireEvent::Gate {
            notice: "passed".into()
        }
    );
}
