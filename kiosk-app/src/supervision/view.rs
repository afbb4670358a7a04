//! The server's view of its lane, kept from the lane's outlets: the state,
//! the open referral and the alerts, for snapshots and for checking
//! commands; and the translation of lane events to wire messages.
//!
//! The lane publishes a step's events, then its referral, on two channels.
//! The view opens a referral only when the lane's `referred` event for the
//! same record came first and no later state change closed it, so the
//! order in which the two channels are read cannot open a stale one.
//!
//! Alerts in force: device and store faults (until the lane is back in
//! service: `await_document`), the gate's fault (until it reports
//! `restored`) and the fire-alarm emergency (until released). Momentary
//! alerts (gate not passed, gate withheld, tailgating, gate refusal) are
//! kept as the latest [`RECENT_ALERTS`].

use std::collections::VecDeque;

use icao9303::lds::ImageFormat;

use crate::lane::{GateNotice, LaneEvent, Referral};
use crate::policy::{AlertPriority, MessageKey, Outcome};
use crate::session::{Device, OfficerAlert};
use crate::store::RecordId;
use crate::supervision::protocol::{
    AlertView, CheckView, DocumentView, FaceView, MAX_FACE_BYTES, ReferralView, Snapshot,
    VerdictView, WireEvent,
};

/// How many momentary alerts a snapshot keeps.
pub const RECENT_ALERTS: usize = 8;

/// Longest gate detail text passed on (characters).
const MAX_DETAIL_CHARS: usize = 200;

/// What commands are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneStatus {
    /// The lane's state name.
    pub state: &'static str,
    /// The record of the referral the lane waits on.
    pub open_referral: Option<RecordId>,
}

/// The lane as the server last heard of it.
#[derive(Debug, Clone)]
pub struct LaneView {
    state: &'static str,
    /// The record of the lane's latest referral while it may still wait on it.
    pending: Option<RecordId>,
    referral: Option<(RecordId, ReferralView)>,
    conditions: Vec<AlertView>,
    recent: VecDeque<AlertView>,
}

impl LaneView {
    /// A lane in `state` (every new lane starts in `await_document`).
    #[must_use]
    pub fn new(state: &'static str) -> Self {
        Self {
            state,
            pending: None,
            referral: None,
            conditions: Vec::new(),
            recent: VecDeque::new(),
        }
    }

    /// What commands are checked against.
    #[must_use]
    pub fn status(&self) -> LaneStatus {
        LaneStatus {
            state: self.state,
            open_referral: self.referral.as_ref().map(|(id, _)| *id),
        }
    }

    /// The snapshot for a new subscriber.
    #[must_use]
    pub fn snapshot(&self, lane: &str, seq: u64) -> Snapshot {
        Snapshot {
            lane: lane.to_owned(),
            seq,
            state: self.state.to_owned(),
            referral: self.referral.as_ref().map(|(_, r)| r.clone()),
            alerts: self
                .conditions
                .iter()
                .chain(self.recent.iter())
                .cloned()
                .collect(),
        }
    }

    /// Takes a referral; returns its wire form. It becomes the open
    /// referral only if the lane's `referred` event for its record came
    /// first and the lane has not moved on since (a late referral is told,
    /// never opened).
    pub fn referral(&mut self, referral: &Referral) -> ReferralView {
        let view = referral_view(referral);
        if self.pending == Some(referral.record_id) {
            self.referral = Some((referral.record_id, view.clone()));
        }
        view
    }

    /// Takes a lane event; returns its wire form.
    pub fn event(&mut self, event: &LaneEvent) -> WireEvent {
        let wire = wire_event(event);
        match event {
            LaneEvent::State(name) => {
                self.state = name;
                if *name != "await_officer" {
                    self.pending = None;
                    self.referral = None;
                }
                if *name == "await_document" {
                    self.conditions
                        .retain(|a| !matches!(a.kind.as_str(), "device_fault" | "store_fault"));
                }
            }
            LaneEvent::Referred { record_id, .. } => {
                self.pending = Some(*record_id);
                self.referral = None;
            }
            LaneEvent::ExitOpened { record_id, .. } if self.pending == Some(*record_id) => {
                self.pending = None;
                self.referral = None;
            }
            _ => {}
        }
        if let WireEvent::Alert { alert } = &wire {
            self.alert(alert.clone());
        }
        wire
    }

    /// Files an alert under conditions or recent ones.
    fn alert(&mut self, alert: AlertView) {
        match alert.kind.as_str() {
            "device_fault" | "store_fault" | "gate_fault" | "gate_emergency" | "disk_low"
            | "sync_behind" => {
                self.conditions
                    .retain(|a| !(a.kind == alert.kind && a.device == alert.device));
                if alert.active {
                    self.conditions.push(alert);
                }
            }
            _ => {
                if self.recent.len() >= RECENT_ALERTS {
                    self.recent.pop_front();
                }
                self.recent.push_back(alert);
            }
        }
    }
}

/// A lane event's wire form.
#[must_use]
pub fn wire_event(event: &LaneEvent) -> WireEvent {
    match event {
        LaneEvent::State(name) => WireEvent::State {
            state: (*name).to_owned(),
        },
        LaneEvent::Screen {
            message,
            permitted_stay_days,
        } => WireEvent::Screen {
            message: message_name(*message).to_owned(),
            permitted_stay_days: *permitted_stay_days,
        },
        LaneEvent::DocumentScanned {
            passage,
            issuing_state,
            ..
        } => WireEvent::DocumentScanned {
            passage: passage.0,
            issuing_state: issuing_state.clone(),
        },
        LaneEvent::ChipJudged {
            passage,
            genuine,
            failed_checks,
        } => WireEvent::ChipJudged {
            passage: passage.0,
            genuine: *genuine,
            failed_checks: failed_checks.clone(),
        },
        LaneEvent::FaceChecked { passage, result } => WireEvent::FaceChecked {
            passage: passage.0,
            score_per_mille: result.as_ref().ok().copied(),
            error: result.as_ref().err().cloned(),
        },
        LaneEvent::Decided {
            passage,
            outcome,
            reasons,
            permitted_stay_days,
        } => WireEvent::Decided {
            passage: passage.0,
            outcome: outcome_name(*outcome).to_owned(),
            reasons: reasons.iter().map(|r| r.as_str().to_owned()).collect(),
            permitted_stay_days: *permitted_stay_days,
        },
        LaneEvent::Recorded { passage, record_id } => WireEvent::Recorded {
            passage: passage.0,
            record_id: record_id.to_hex(),
        },
        LaneEvent::ExitOpened { passage, record_id } => WireEvent::ExitOpened {
            passage: passage.0,
            record_id: record_id.to_hex(),
        },
        LaneEvent::Referred {
            passage,
            record_id,
            alert,
        } => WireEvent::Referred {
            passage: passage.0,
            record_id: record_id.to_hex(),
            priority: alert.as_ref().map(|a| priority_name(a.priority).to_owned()),
            reasons: alert
                .as_ref()
                .map(|a| a.reasons.iter().map(|r| r.as_str().to_owned()).collect())
                .unwrap_or_default(),
        },
        LaneEvent::Alert(alert) => WireEvent::Alert {
            alert: officer_alert(*alert),
        },
        LaneEvent::Audit(event) => {
            let entry = crate::lane::record::audit_entry(event, "", 0);
            WireEvent::Audit {
                action: entry.action,
                record_id: entry.record_id.map(|id| id.to_hex()),
            }
        }
        LaneEvent::Gate(notice) => gate_event(notice),
        LaneEvent::DiskSpace { free_bytes, low } => WireEvent::Alert {
            alert: AlertView {
                kind: "disk_low".into(),
                active: *low,
                device: Some("store".into()),
                record_id: None,
                detail: Some(format!("{} MiB free", free_bytes / (1024 * 1024))),
            },
        },
        LaneEvent::Sync {
            behind,
            backlog,
            oldest_unsynced_s,
            last_error,
        } => WireEvent::Alert {
            alert: AlertView {
                kind: "sync_behind".into(),
                active: *behind,
                device: None,
                record_id: None,
                detail: Some(
                    format!(
                        "{backlog} records waiting, oldest {} min{}",
                        oldest_unsynced_s / 60,
                        last_error
                            .as_ref()
                            .map_or(String::new(), |e| format!("; last error: {e}"))
                    )
                    .chars()
                    .take(MAX_DETAIL_CHARS)
                    .collect(),
                ),
            },
        },
    }
}

/// A gate report: an alert, or a routine `gate` event.
fn gate_event(notice: &GateNotice) -> WireEvent {
    let alert = |kind: &str, active: bool, detail: Option<&String>| WireEvent::Alert {
        alert: AlertView {
            kind: kind.to_owned(),
            active,
            device: Some("gate".into()),
            record_id: None,
            detail: detail.map(|d| d.chars().take(MAX_DETAIL_CHARS).collect()),
        },
    };
    match notice {
        GateNotice::PersonInZone => WireEvent::Gate {
            notice: "person_in_zone".into(),
        },
        GateNotice::Passed => WireEvent::Gate {
            notice: "passed".into(),
        },
        GateNotice::Tailgating => alert("gate_tailgating", true, None),
        GateNotice::Emergency { active } => alert("gate_emergency", *active, None),
        GateNotice::Refused(reason) => alert("gate_refused", true, Some(reason)),
        GateNotice::Fault(reason) => alert("gate_fault", true, Some(reason)),
        GateNotice::Restored => alert("gate_fault", false, None),
    }
}

/// An officer alert's wire form.
fn officer_alert(alert: OfficerAlert) -> AlertView {
    let (kind, device, record_id) = match alert {
        OfficerAlert::DeviceFault(device) => ("device_fault", Some(device_name(device)), None),
        OfficerAlert::StoreFault => ("store_fault", Some("store"), None),
        OfficerAlert::GateNotPassed => ("gate_not_passed", Some("gate"), None),
        OfficerAlert::GateWithheld { record_id } => ("gate_withheld", None, Some(record_id)),
    };
    AlertView {
        kind: kind.to_owned(),
        active: true,
        device: device.map(str::to_owned),
        record_id: record_id.map(|id| id.to_hex()),
        detail: None,
    }
}

/// What the officer needs, in wire form; a face over [`MAX_FACE_BYTES`] is left out.
#[must_use]
pub fn referral_view(r: &Referral) -> ReferralView {
    let face_omitted = r
        .face
        .as_ref()
        .is_some_and(|f| f.data.len() > MAX_FACE_BYTES);
    ReferralView {
        passage: r.passage.0,
        record_id: r.record_id.to_hex(),
        priority: r
            .alert
            .as_ref()
            .map(|a| priority_name(a.priority).to_owned()),
        reasons: r.reasons.iter().map(|c| c.as_str().to_owned()).collect(),
        document: r.document.as_ref().map(|d| DocumentView {
            document_type: d.document_type.clone(),
            issuing_state: d.issuing_state.clone(),
            document_number: d.document_number.clone(),
            nationality: d.nationality.clone(),
            primary_identifier: d.primary_identifier.clone(),
            secondary_identifier: d.secondary_identifier.clone(),
            birth_date: d.birth_date.clone(),
            sex: d.sex.to_string(),
            expiry_date: d.expiry_date.clone(),
        }),
        verdict: r.verdict.as_ref().map(|v| VerdictView {
            genuine: v.genuine(),
            failed_checks: v
                .checks
                .iter()
                .filter(|c| {
                    matches!(c.outcome, icao9303::pa::Outcome::Failed(_))
                        || c.mandatory && !matches!(c.outcome, icao9303::pa::Outcome::Passed)
                })
                .map(|c| c.name.clone())
                .collect(),
            checks: v
                .checks
                .iter()
                .map(|c| {
                    let (outcome, detail) = match &c.outcome {
                        icao9303::pa::Outcome::Passed => ("passed", None),
                        icao9303::pa::Outcome::Failed(why) => ("failed", Some(why.clone())),
                        icao9303::pa::Outcome::NotPossible(why) => {
                            ("not_possible", Some(why.clone()))
                        }
                    };
                    CheckView {
                        name: c.name.clone(),
                        outcome: outcome.to_owned(),
                        detail,
                        mandatory: c.mandatory,
                    }
                })
                .collect(),
        }),
        face: r.face.as_ref().filter(|_| !face_omitted).map(|f| FaceView {
            format: match f.format {
                ImageFormat::Jpeg => "jpeg".into(),
                ImageFormat::Jpeg2000 => "jpeg2000".into(),
            },
            width: f.width,
            height: f.height,
            data: f.data.clone(),
        }),
        face_omitted,
    }
}

/// A screen message's wire name.
fn message_name(m: MessageKey) -> &'static str {
    match m {
        MessageKey::Welcome => "welcome",
        MessageKey::RescanDocument => "rescan_document",
        MessageKey::ReadingChip => "reading_chip",
        MessageKey::PutDocumentBack => "put_document_back",
        MessageKey::PleaseWait => "please_wait",
        MessageKey::LookAtCamera => "look_at_camera",
        MessageKey::ProceedToGate => "proceed_to_gate",
        MessageKey::SeeOfficer => "see_officer",
        MessageKey::GoToManualCounter => "go_to_manual_counter",
        MessageKey::LaneClosed => "lane_closed",
        MessageKey::OutOfService => "out_of_service",
    }
}

/// An outcome's wire name.
fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Approved => "approved",
        Outcome::Referred => "referred",
        Outcome::Redirected => "redirected",
    }
}

/// A priority's wire name.
fn priority_name(p: AlertPriority) -> &'static str {
    match p {
        AlertPriority::Normal => "normal",
        AlertPriority::High => "high",
    }
}

/// A device's wire name.
fn device_name(d: Device) -> &'static str {
    match d {
        Device::Scanner => "scanner",
        Device::CardReader => "card_reader",
        Device::FaceUnit => "face_unit",
        Device::Gate => "gate",
        Device::Store => "store",
        Device::Processing => "processing",
    }
}
