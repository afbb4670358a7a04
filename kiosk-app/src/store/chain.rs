//! Hash chain and signatures: how a record is sealed, and how a stored row
//! is read back into the record it claims to be.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rusqlite::Row;
use sha2::{Digest, Sha256};

use crate::store::personal;
use crate::store::record::{
    Biometrics, Decision, Direction, DocumentFields, LaneRef, PassageRecord, RecordId,
    StoredRecord, VerdictSummary,
};

/// `prev_hash` of the first record.
pub(crate) const GENESIS: [u8; 32] = [0u8; 32];

/// SHA-256 of canonical bytes followed by the signature.
pub(crate) fn record_hash(canonical: &[u8], signature: &[u8; 64]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(canonical);
    hasher.update(signature);
    hasher.finalize().into()
}

/// Signs `record` at `seq` after `prev_hash` in format 2 (see
/// [`crate::store::personal`]), its personal part under `salt`; returns the
/// sealed record and its personal digest.
pub(crate) fn seal(
    record: PassageRecord,
    seq: u64,
    prev_hash: [u8; 32],
    salt: &[u8; 16],
    key: &SigningKey,
) -> (StoredRecord, [u8; 32]) {
    let digest = personal::personal_digest(&personal::personal_bytes(&record.document, salt));
    let canonical = personal::canonical_v2(&record, seq, &prev_hash, &digest);
    let signature = key.sign(&canonical).to_bytes();
    let record_hash = record_hash(&canonical, &signature);
    let stored = StoredRecord {
        seq,
        record,
        prev_hash,
        signature,
        record_hash,
    };
    (stored, digest)
}

/// Whether the signature over the record's canonical bytes verifies.
pub(crate) fn signature_ok(canonical: &[u8], signature: &[u8; 64], key: &VerifyingKey) -> bool {
    key.verify_strict(canonical, &Signature::from_bytes(signature))
        .is_ok()
}

/// Columns of `passage` in the order [`from_row`] reads them.
pub(crate) const COLUMNS: &str = "seq, record_id, time_unix_ms, site, terminal, lane, \
    direction, decision, reason_codes, document_type, issuing_state, document_number, \
    nationality, primary_identifier, secondary_identifier, birth_date, sex, expiry_date, \
    genuine, failed_checks, permitted_stay_days, biometrics, bio_score, bio_threshold, \
    bio_matched, bio_tries, prev_hash, signature, record_hash";

/// Reads one `passage` row. `Err(column)` names the first column that does
/// not hold what the schema promises (only a damaged or edited row does that).
pub(crate) fn from_row(row: &Row<'_>) -> Result<StoredRecord, &'static str> {
    fn get<T: rusqlite::types::FromSql>(
        row: &Row<'_>,
        index: usize,
        name: &'static str,
    ) -> Result<T, &'static str> {
        row.get(index).map_err(|_| name)
    }
    fn list(row: &Row<'_>, index: usize, name: &'static str) -> Result<Vec<String>, &'static str> {
        let text: String = get(row, index, name)?;
        let items: Vec<String> = serde_json::from_str(&text).map_err(|_| name)?;
        // Only the exact text the store wrote is accepted, so no byte of the
        // column can change without the record changing.
        match serde_json::to_string(&items) {
            Ok(again) if again == text => Ok(items),
            _ => Err(name),
        }
    }
    fn flag(row: &Row<'_>, index: usize, name: &'static str) -> Result<bool, &'static str> {
        match get::<i64>(row, index, name)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(name),
        }
    }
    fn array<const N: usize>(
        row: &Row<'_>,
        index: usize,
        name: &'static str,
    ) -> Result<[u8; N], &'static str> {
        let bytes: Vec<u8> = get(row, index, name)?;
        bytes.try_into().map_err(|_| name)
    }

    let seq: i64 = get(row, 0, "seq")?;
    let id_hex: String = get(row, 1, "record_id")?;
    let direction: String = get(row, 6, "direction")?;
    let decision: String = get(row, 7, "decision")?;
    let biometrics_kind: String = get(row, 21, "biometrics")?;
    let biometrics = match biometrics_kind.as_str() {
        "not_configured" => Biometrics::NotConfigured,
        "face_match" => Biometrics::FaceMatch {
            score: get(row, 22, "bio_score")?,
            threshold: get(row, 23, "bio_threshold")?,
            matched: flag(row, 24, "bio_matched")?,
        },
        "no_usable_capture" => Biometrics::NoUsableCapture {
            tries: get(row, 25, "bio_tries")?,
        },
        "skipped" => Biometrics::Skipped,
        "unit_fault" => Biometrics::UnitFault,
        "no_reference" => Biometrics::NoReference,
        _ => return Err("biometrics"),
    };
    // Columns the kind does not use must be NULL, and used ones must match.
    let (_, score, threshold, matched, tries) = biometrics_columns(biometrics);
    let expected = [
        score.map(i64::from),
        threshold.map(i64::from),
        matched.map(i64::from),
        tries.map(i64::from),
    ];
    for (offset, want) in expected.into_iter().enumerate() {
        let got: Option<i64> = get(row, 22 + offset, "biometrics")?;
        if got != want {
            return Err("biometrics");
        }
    }
    let record = PassageRecord {
        id: RecordId::from_hex(&id_hex)
            .filter(|id| id.to_hex() == id_hex)
            .ok_or("record_id")?,
        time_unix_ms: get(row, 2, "time_unix_ms")?,
        lane: LaneRef {
            site: get(row, 3, "site")?,
            terminal: get(row, 4, "terminal")?,
            lane: get(row, 5, "lane")?,
        },
        direction: Direction::from_name(&direction).ok_or("direction")?,
        decision: Decision::from_name(&decision).ok_or("decision")?,
        reason_codes: list(row, 8, "reason_codes")?,
        document: DocumentFields {
            document_type: get(row, 9, "document_type")?,
            issuing_state: get(row, 10, "issuing_state")?,
            document_number: get(row, 11, "document_number")?,
            nationality: get(row, 12, "nationality")?,
            primary_identifier: get(row, 13, "primary_identifier")?,
            secondary_identifier: get(row, 14, "secondary_identifier")?,
            birth_date: get(row, 15, "birth_date")?,
            sex: get(row, 16, "sex")?,
            expiry_date: get(row, 17, "expiry_date")?,
        },
        verdict: VerdictSummary {
            genuine: flag(row, 18, "genuine")?,
            failed_checks: list(row, 19, "failed_checks")?,
        },
        permitted_stay_days: get(row, 20, "permitted_stay_days")?,
        biometrics,
    };
    Ok(StoredRecord {
        seq: u64::try_from(seq).map_err(|_| "seq")?,
        record,
        prev_hash: array(row, 26, "prev_hash")?,
        signature: array(row, 27, "signature")?,
        record_hash: array(row, 28, "record_hash")?,
    })
}

/// The biometrics columns (kind, score, threshold, matched, tries).
pub(crate) fn biometrics_columns(
    bio: Biometrics,
) -> (
    &'static str,
    Option<u16>,
    Option<u16>,
    Option<bool>,
    Option<u8>,
) {
    match bio {
        Biometrics::NotConfigured => ("not_configured", None, None, None, None),
        Biometrics::FaceMatch {
            score,
            threshold,
            matched,
        } => (
            "face_match",
            Some(score),
            Some(threshold),
            Some(matched),
            None,
        ),
        Biometrics::NoUsableCapture { tries } => {
            ("no_usable_capture", None, None, None, Some(tries))
        }
        Biometrics::Skipped => ("skipped", None, None, None, None),
        Biometrics::UnitFault => ("unit_fault", None, None, None, None),
        Biometrics::NoReference => ("no_reference", None, None, None, None),
    }
}
