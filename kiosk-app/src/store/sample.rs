//! Synthetic passage records and throwaway keys for tests, benches and soak
//! tools: the traveller is ICAO's specimen (Doc 9303's ANNA MARIA ERIKSSON
//! of Utopia, not a real person), numbered so that records differ. Nothing
//! here is used by the lane.

use crate::store::{
    Biometrics, Decision, Direction, DocumentFields, LaneRef, PassageRecord, RecordId, SigningKey,
    VerdictSummary,
};

/// A synthetic passage of ICAO's specimen traveller, numbered so records
/// differ: for tests, benches and soak tools.
///
/// Record `i` passed at `1_790_000_000_000 + 1000 * i` unix ms, arriving
/// through lane BKK T1 A03, with document number `L8989` followed by `i`
/// (at least four digits). The rest varies with `i`:
/// - even: approved, 30 days' stay; odd: referred
///   (`doc.expiring_soon`, `minor`), no stay;
/// - a multiple of 3: not genuine (`passive_authentication` failed);
/// - `i % 3` = 0: biometrics not configured, 1: a face match, 2: no usable
///   face capture, so any three consecutive records cover every
///   biometrics shape.
///
/// Every field but the (random) record id is a function of `i`.
///
/// # Panics
/// When the OS random number generator fails.
pub fn passage(i: u64) -> PassageRecord {
    let even = i.is_multiple_of(2);
    let not_genuine = i.is_multiple_of(3);
    PassageRecord {
        id: RecordId::random().expect("OS RNG"),
        time_unix_ms: i64::try_from(i)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000)
            .saturating_add(1_790_000_000_000),
        lane: LaneRef {
            site: "BKK".into(),
            terminal: "T1".into(),
            lane: "A03".into(),
        },
        direction: Direction::Arrival,
        decision: if even {
            Decision::Approved
        } else {
            Decision::Referred
        },
        reason_codes: if even {
            vec![]
        } else {
            vec!["doc.expiring_soon".into(), "minor".into()]
        },
        document: DocumentFields {
            document_type: "P".into(),
            issuing_state: "UTO".into(),
            document_number: format!("L8989{i:04}"),
            nationality: "UTO".into(),
            primary_identifier: "ERIKSSON".into(),
            secondary_identifier: "ANNA MARIA".into(),
            birth_date: "740812".into(),
            sex: "F".into(),
            expiry_date: "120415".into(),
        },
        verdict: VerdictSummary {
            genuine: !not_genuine,
            failed_checks: if not_genuine {
                vec!["passive_authentication".into()]
            } else {
                vec![]
            },
        },
        permitted_stay_days: if even { Some(30) } else { None },
        biometrics: match i % 3 {
            0 => Biometrics::NotConfigured,
            1 => Biometrics::FaceMatch {
                score: 812,
                threshold: 700,
                matched: true,
            },
            _ => Biometrics::NoUsableCapture { tries: 3 },
        },
    }
}

/// Record `i` of [`passage`] made plain: approved, genuine, no reason codes,
/// 30 days' stay, biometrics not configured (the same document, time and
/// lane).
///
/// # Panics
/// When the OS random number generator fails.
pub fn approved(i: u64) -> PassageRecord {
    PassageRecord {
        decision: Decision::Approved,
        reason_codes: vec![],
        verdict: VerdictSummary {
            genuine: true,
            failed_checks: vec![],
        },
        permitted_stay_days: Some(30),
        biometrics: Biometrics::NotConfigured,
        ..passage(i)
    }
}

/// A fresh random record-signing key, for throwaway stores (a unit's real
/// key is provisioned, never made here).
///
/// # Panics
/// When the OS random number generator fails.
pub fn signing_key() -> SigningKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("OS RNG");
    SigningKey::from_bytes(&seed)
}
