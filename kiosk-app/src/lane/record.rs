//! What the lane's decisions become in the store: passage records and audit entries.

use icao9303::verdict::Verdict;

use crate::policy::{self, DocumentFacts, Outcome};
use crate::session::{Abandon, AuditEvent, OfficerCommand, PassageRecord};
use crate::store::{self, AuditEntry, DocumentFields, LaneRef, RecordId, VerdictSummary};

/// The officer id of entries the lane writes itself.
pub const LANE_ACTOR: &str = "lane";

/// The store's record of one passage.
#[must_use]
pub fn passage_record(
    id: RecordId,
    time_unix_ms: i64,
    lane: &LaneRef,
    passage: &PassageRecord,
) -> store::PassageRecord {
    let decision = &passage.decision;
    store::PassageRecord {
        id,
        time_unix_ms,
        lane: lane.clone(),
        direction: decision.direction,
        decision: match decision.outcome {
            Outcome::Approved => store::Decision::Approved,
            Outcome::Referred => store::Decision::Referred,
            Outcome::Redirected => store::Decision::Redirected,
        },
        reason_codes: decision
            .reasons
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        document: passage
            .document
            .as_ref()
            .map_or_else(unread_document, document_fields),
        verdict: passage
            .verdict
            .as_ref()
            .map_or_else(unread_verdict, verdict_summary),
        permitted_stay_days: decision.permitted_stay_days,
        biometrics: biometrics(decision.biometrics),
    }
}

/// The store's audit entry for a lane audit event.
#[must_use]
pub fn audit_entry(event: &AuditEvent, lane: &str, time_unix_ms: i64) -> AuditEntry {
    let (action, record_id) = match *event {
        AuditEvent::Unauthenticated(command) => {
            (format!("unauthenticated_{}", command_name(command)), None)
        }
        AuditEvent::OfficerAccepted { record_id } => ("officer_accept".into(), Some(record_id)),
        // The id named may be no stored record: it is not referenced.
        AuditEvent::OfficerAcceptIgnored { .. } => ("officer_accept_ignored".into(), None),
        AuditEvent::OfficerDismissed { record_id } => ("officer_dismiss".into(), Some(record_id)),
        AuditEvent::LaneClosed => ("lane_closed".into(), None),
        AuditEvent::LaneOpened => ("lane_opened".into(), None),
        AuditEvent::Abandoned { cause, .. } => {
            (format!("passage_abandoned_{}", abandon_name(cause)), None)
        }
        AuditEvent::GateWithheld { record_id, .. } => ("gate_withheld".into(), Some(record_id)),
    };
    AuditEntry {
        officer_id: LANE_ACTOR.into(),
        time_unix_ms,
        lane: lane.into(),
        action,
        record_id,
        reason: String::new(),
    }
}

/// The store's copy of the document fields.
fn document_fields(facts: &DocumentFacts) -> DocumentFields {
    DocumentFields {
        document_type: facts.document_type.clone(),
        issuing_state: facts.issuing_state.clone(),
        document_number: facts.document_number.clone(),
        nationality: facts.nationality.clone(),
        primary_identifier: facts.primary_identifier.clone(),
        secondary_identifier: facts.secondary_identifier.clone(),
        birth_date: facts.birth_date.clone(),
        sex: facts.sex.to_string(),
        expiry_date: facts.expiry_date.clone(),
    }
}

/// The fields of a passage whose MRZ was never read: all empty.
fn unread_document() -> DocumentFields {
    DocumentFields {
        document_type: String::new(),
        issuing_state: String::new(),
        document_number: String::new(),
        nationality: String::new(),
        primary_identifier: String::new(),
        secondary_identifier: String::new(),
        birth_date: String::new(),
        sex: String::new(),
        expiry_date: String::new(),
    }
}

/// The verdict as the central system needs it: genuine, and what failed.
fn verdict_summary(verdict: &Verdict) -> VerdictSummary {
    VerdictSummary {
        genuine: verdict.genuine(),
        failed_checks: verdict
            .checks
            .iter()
            .filter(|c| {
                c.mandatory && !matches!(c.outcome, icao9303::pa::Outcome::Passed)
                    || matches!(c.outcome, icao9303::pa::Outcome::Failed(_))
            })
            .map(|c| check_code(&c.name))
            .collect(),
    }
}

/// No chip was read: not genuine, and the check that could not be made.
fn unread_verdict() -> VerdictSummary {
    VerdictSummary {
        genuine: false,
        failed_checks: vec!["chip_not_read".into()],
    }
}

/// A check name as a stable code (`[a-z0-9_.:-]`, at most 64 characters).
fn check_code(name: &str) -> String {
    let code: String = name
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if code.is_empty() {
        "unnamed_check".into()
    } else {
        code
    }
}

/// The store's biometrics field.
fn biometrics(b: policy::Biometrics) -> store::Biometrics {
    match b {
        policy::Biometrics::NotConfigured => store::Biometrics::NotConfigured,
        // A record is written only after the face step; Pending cannot reach
        // it, and would mean the face was never verified.
        policy::Biometrics::Pending | policy::Biometrics::Skipped => store::Biometrics::Skipped,
        policy::Biometrics::FaceMatch { score, threshold } => store::Biometrics::FaceMatch {
            score,
            threshold,
            matched: score >= threshold,
        },
        policy::Biometrics::NoUsableCapture { tries } => {
            store::Biometrics::NoUsableCapture { tries }
        }
        policy::Biometrics::UnitFault => store::Biometrics::UnitFault,
        policy::Biometrics::NoReference => store::Biometrics::NoReference,
    }
}

/// The audit name of an officer command.
fn command_name(c: OfficerCommand) -> &'static str {
    match c {
        OfficerCommand::Accept => "accept",
        OfficerCommand::Dismiss => "dismiss",
        OfficerCommand::Close => "close",
        OfficerCommand::Open => "open",
    }
}

/// The audit name of an abandoned passage's cause.
fn abandon_name(a: Abandon) -> &'static str {
    match a {
        Abandon::WalkedAway => "walked_away",
        Abandon::DeviceFault => "device_fault",
        Abandon::LaneClosed => "lane_closed",
        Abandon::NewDocument => "new_document",
        Abandon::NoDecision => "no_decision",
        Abandon::Cancelled => "cancelled",
    }
}
