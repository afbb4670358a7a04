//! Synthetic kiosk messages for screenshots and tests: a referred
//! traveller (a made-up person, the cartoon face of the virtual chip), lane
//! snapshots and alerts. Nothing here comes from a real document.
#![forbid(unsafe_code)]

use kiosk_app::supervision::protocol::{
    AlertView, CheckView, DocumentView, FaceView, ReferralView, ServerMessage, Snapshot,
    VerdictView, WireEvent,
};

use crate::model::LaneUpdate;

/// The virtual chip's synthetic face (a cartoon), JPEG, 240x320.
pub const FACE_JPEG: &[u8] = include_bytes!("../../../tests/virtual-emrtd/assets/face.jpg");

/// The same face as a JPEG 2000 (JP2) file.
pub const FACE_JP2: &[u8] = include_bytes!("../../../tests/virtual-emrtd/assets/face.jp2");

/// Which face a sample referral carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFace {
    /// The JPEG face.
    Jpeg,
    /// The JPEG 2000 face.
    Jpeg2000,
    /// Bytes no decoder takes.
    Damaged,
    /// Left out by the kiosk (too large).
    Omitted,
    /// The chip had none.
    None,
}

/// A referral of a tampered passport (DG2 altered: not genuine, high
/// priority) with record id `record_id`.
#[must_use]
pub fn referral(record_id: &str, high: bool, face: SampleFace) -> ReferralView {
    let check = |name: &str, outcome: &str| CheckView {
        name: name.to_owned(),
        outcome: outcome.to_owned(),
        detail: (outcome != "passed").then(|| "hash mismatch".to_owned()),
        mandatory: true,
    };
    let face_view = |format: &str, data: &[u8]| FaceView {
        format: format.to_owned(),
        width: 240,
        height: 320,
        data: data.to_vec(),
    };
    ReferralView {
        passage: 7,
        record_id: record_id.to_owned(),
        priority: Some(if high { "high" } else { "normal" }.to_owned()),
        reasons: if high {
            vec!["not_genuine".to_owned()]
        } else {
            vec!["document_expires_soon".to_owned(), "minor".to_owned()]
        },
        document: Some(DocumentView {
            document_type: "P".into(),
            issuing_state: "PHL".into(),
            document_number: "P1234567A".into(),
            nationality: "PHL".into(),
            primary_identifier: "SANTOS".into(),
            secondary_identifier: "MARIA CLARA".into(),
            birth_date: "900412".into(),
            sex: "F".into(),
            expiry_date: "350101".into(),
        }),
        verdict: Some(VerdictView {
            genuine: !high,
            failed_checks: if high {
                vec!["dg_hash_2".to_owned(), "passive_authentication".to_owned()]
            } else {
                Vec::new()
            },
            checks: vec![
                check("access_control", "passed"),
                check("mrz_matches_dg1", "passed"),
                check("sod_format", "passed"),
                check("sod_signature", "passed"),
                check("ds_chain", "passed"),
                check("ds_validity", "passed"),
                check("dg_hash_1", "passed"),
                check("dg_hash_2", if high { "failed" } else { "passed" }),
                check("dg_hash_14", "passed"),
                check(
                    "passive_authentication",
                    if high { "failed" } else { "passed" },
                ),
                check("clone_detection", "passed"),
            ],
        }),
        face: match face {
            SampleFace::Jpeg => Some(face_view("jpeg", FACE_JPEG)),
            SampleFace::Jpeg2000 => Some(face_view("jpeg2000", FACE_JP2)),
            SampleFace::Damaged => Some(face_view("jpeg", &[0xFF, 0xD8, 0xFF, 0x00, 0x13])),
            SampleFace::Omitted | SampleFace::None => None,
        },
        face_omitted: face == SampleFace::Omitted,
    }
}

/// A lane's snapshot in `state`, with `referral` and `alerts`.
#[must_use]
pub fn snapshot(
    lane: &str,
    state: &str,
    referral: Option<ReferralView>,
    alerts: Vec<AlertView>,
) -> LaneUpdate {
    LaneUpdate::Message(Box::new(ServerMessage::Snapshot(Snapshot {
        lane: lane.to_owned(),
        seq: 1,
        state: state.to_owned(),
        referral,
        alerts,
    })))
}

/// A lane's state change.
#[must_use]
pub fn state(lane: &str, state: &str) -> LaneUpdate {
    event(
        lane,
        WireEvent::State {
            state: state.to_owned(),
        },
    )
}

/// A lane's event.
#[must_use]
pub fn event(lane: &str, event: WireEvent) -> LaneUpdate {
    LaneUpdate::Message(Box::new(ServerMessage::Event {
        lane: lane.to_owned(),
        seq: 2,
        event,
    }))
}

/// A referral message.
#[must_use]
pub fn referral_message(lane: &str, referral: ReferralView) -> LaneUpdate {
    LaneUpdate::Message(Box::new(ServerMessage::Referral {
        lane: lane.to_owned(),
        seq: 3,
        referral,
    }))
}

/// An alert of `kind` (on `device`), in force or not.
#[must_use]
pub fn alert(kind: &str, device: Option<&str>, active: bool) -> AlertView {
    AlertView {
        kind: kind.to_owned(),
        active,
        device: device.map(str::to_owned),
        record_id: None,
        detail: None,
    }
}
