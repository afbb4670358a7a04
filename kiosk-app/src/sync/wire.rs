//! The batch-upload protocol's JSON bodies (documented in
//! `kiosk-app/sync-api.yaml`), shared by the worker and the reference receiver.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::store::{PendingAudit, PendingRecord};

/// The upload endpoint's path.
pub const BATCH_PATH: &str = "/v1/passages/batch";

/// The audit upload endpoint's route (`{unit}` is the unit id).
pub const AUDIT_ROUTE: &str = "/v1/units/{unit}/audit";

/// The audit upload path of `unit_id`.
pub fn audit_path(unit_id: &str) -> String {
    AUDIT_ROUTE.replace("{unit}", unit_id)
}

/// Most records a receiver must accept in one batch.
pub const MAX_BATCH_RECORDS: usize = 1000;

/// Largest body a receiver must accept, in bytes.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// `POST /v1/passages/batch` request body.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The sending unit; must be the unit named by its TLS client certificate.
    pub unit_id: String,
    /// Records in chain order (ascending `seq`).
    pub records: Vec<WireRecord>,
}

/// One signed record on the wire.
///
/// `Debug` omits the personal part.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRecord {
    /// The record id, 32 lowercase hex digits: the idempotency key.
    pub record_id: String,
    /// Position in the unit's chain.
    pub seq: u64,
    /// The signed bytes (format 1 or 2), base64.
    pub signed: String,
    /// Ed25519 signature over the signed bytes, base64 (64 bytes).
    pub signature: String,
    /// Format 2: the personal part the signed bytes commit to, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal: Option<String>,
}

impl fmt::Debug for WireRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireRecord")
            .field("record_id", &self.record_id)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl WireRecord {
    /// The wire form of a queued record.
    pub fn from_pending(p: &PendingRecord) -> Self {
        WireRecord {
            record_id: p.record_id.to_hex(),
            seq: p.seq,
            signed: STANDARD.encode(&p.signed),
            signature: STANDARD.encode(p.signature),
            personal: p.personal.as_ref().map(|b| STANDARD.encode(b)),
        }
    }

    /// The signed bytes; `None` if not base64.
    pub fn signed_bytes(&self) -> Option<Vec<u8>> {
        STANDARD.decode(&self.signed).ok()
    }

    /// The signature; `None` if not base64 of 64 bytes.
    pub fn signature_bytes(&self) -> Option<[u8; 64]> {
        STANDARD.decode(&self.signature).ok()?.try_into().ok()
    }

    /// The personal part: `Ok(None)` when absent, `Err(())` if not base64.
    #[allow(clippy::result_unit_err)]
    pub fn personal_bytes(&self) -> Result<Option<Vec<u8>>, ()> {
        self.personal
            .as_ref()
            .map(|p| STANDARD.decode(p).map_err(|_| ()))
            .transpose()
    }
}

/// `200` response body: one result per record received, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// The outcome of each record.
    pub results: Vec<RecordResult>,
    /// The receiver's clock when it answered, unix milliseconds.
    pub received_unix_ms: i64,
}

/// What the receiver did with one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordResult {
    /// The record id it concerns.
    pub record_id: String,
    /// Stored, duplicate or rejected.
    pub status: AckStatus,
    /// For `rejected`: a stable reason code (see [`Rejection`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Per-record acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// Verified and durably stored now. The unit may forget it.
    Stored,
    /// Already stored with the same hash (an earlier upload). The unit may forget it.
    Duplicate,
    /// Not stored; see the reason. The unit keeps it queued.
    Rejected,
}

impl AckStatus {
    /// Whether the receiver holds the record (the unit may dequeue it).
    pub fn is_acknowledged(self) -> bool {
        matches!(self, AckStatus::Stored | AckStatus::Duplicate)
    }
}

/// Why a receiver rejected a record (the `reason` codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Not decodable, or the envelope's id/seq disagree with the signed bytes.
    Malformed,
    /// The signature does not verify under the unit's key.
    BadSignature,
    /// The personal part is missing or its digest is not the signed one.
    PersonalMismatch,
    /// The record id is stored with a different hash.
    Conflict,
    /// Another record is stored at this sequence number.
    Fork,
    /// The record before it in the chain is not stored.
    ChainGap,
    /// `prev_hash` is not the hash of the stored record before it.
    ChainBreak,
}

impl Rejection {
    /// The stable reason code.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::BadSignature => "bad_signature",
            Rejection::PersonalMismatch => "personal_mismatch",
            Rejection::Conflict => "conflict",
            Rejection::Fork => "fork",
            Rejection::ChainGap => "chain_gap",
            Rejection::ChainBreak => "chain_break",
        }
    }
}

/// `POST /v1/units/{unit}/audit` request body (the unit is in the path).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditBatchRequest {
    /// Entries in chain order (ascending `id`).
    pub entries: Vec<WireAudit>,
}

/// One signed audit entry on the wire. `Debug` shows only the id.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireAudit {
    /// The audit id (position in the unit's audit chain): with the unit,
    /// the idempotency key.
    pub id: u64,
    /// The signed bytes, base64 (see `kiosk_app::store::audit`).
    pub signed: String,
    /// Ed25519 signature over the signed bytes, base64 (64 bytes).
    pub signature: String,
}

impl fmt::Debug for WireAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireAudit")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl WireAudit {
    /// The wire form of a queued audit entry.
    pub fn from_pending(p: &PendingAudit) -> Self {
        WireAudit {
            id: p.id,
            signed: STANDARD.encode(&p.signed),
            signature: STANDARD.encode(p.signature),
        }
    }

    /// The signed bytes; `None` if not base64.
    pub fn signed_bytes(&self) -> Option<Vec<u8>> {
        STANDARD.decode(&self.signed).ok()
    }

    /// The signature; `None` if not base64 of 64 bytes.
    pub fn signature_bytes(&self) -> Option<[u8; 64]> {
        STANDARD.decode(&self.signature).ok()?.try_into().ok()
    }
}

/// `200` response body of an audit upload: one result per entry, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditBatchResponse {
    /// The outcome of each entry.
    pub results: Vec<AuditResult>,
    /// The receiver's clock when it answered, unix milliseconds.
    pub received_unix_ms: i64,
}

/// What the receiver did with one audit entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditResult {
    /// The audit id it concerns.
    pub id: u64,
    /// Stored, duplicate or rejected.
    pub status: AckStatus,
    /// For `rejected`: a stable reason code (see [`Rejection`]; never
    /// `personal_mismatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Body of every non-200 response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable error code (`bad_request`, `unknown_unit`, `unit_mismatch`,
    /// `too_large`, `unavailable`, `internal`).
    pub error: String,
    /// Human-readable detail (no personal data).
    pub message: String,
}
