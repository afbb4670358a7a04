//! The supervision wire protocol, spoken inside mutual TLS 1.3.
//!
//! # Framing
//! Every message is one frame: a 4-byte big-endian length, then that many
//! bytes of UTF-8 JSON (one object). A frame of length 0 is malformed. The
//! reader checks the length before allocating and refuses a frame over its
//! limit: [`MAX_CLIENT_FRAME`] for what a console sends (8 KiB; commands are
//! tiny), [`MAX_SERVER_FRAME`] for what the kiosk sends (2 MiB; a referral
//! carries the chip's face image). A refused frame ends the connection.
//!
//! Every object has a `"type"`. Unknown fields are ignored (forward
//! compatibility); an unknown `"type"` is malformed.
//!
//! # Session
//! 1. TLS 1.3; the console presents a certificate issued by the provisioned
//!    CA, the kiosk one issued by the same CA. No certificate, or one from
//!    another CA: the handshake fails and nothing is sent.
//! 2. The kiosk sends `hello`.
//! 3. The console sends `login` with the officer's id and PIN, within the
//!    login timeout. The kiosk answers `login_ok` (with a fresh random
//!    `session_id`) or `login_refused`. After too many failures the
//!    connection is closed; after too many failures of one officer (or one
//!    console) that officer (or console) is locked out for a while that
//!    doubles with each further failure.
//! 4. `subscribe`: the kiosk sends a `snapshot` (lane state, the open
//!    referral, active alerts), then the live stream: `event`, `referral`,
//!    `lagged`. Personal data (the referral's document and face) is sent only
//!    to a subscribed, logged-in console.
//! 5. `command`s, each bound to the session and carrying a counter strictly
//!    greater than the session's previous one; answered by `ack` or
//!    `refused`. A command's effect on the lane is seen on the stream.
//! 6. `logout` ends the session (and the stream); the connection stays open
//!    for another `login`.
//!
//! # Console to kiosk ([`ClientMessage`])
//! ```json
//! {"type":"login","officer_id":"OFC-0042","pin":"482916"}
//! {"type":"subscribe"}
//! {"type":"command","session_id":"<32 hex>","counter":1,"lane":"A07",
//!  "command":{"kind":"accept","record_id":"<32 hex>"},"reason":"passport checked"}
//! {"type":"logout"}
//! {"type":"ping","nonce":7}
//! ```
//! Commands ([`Command`], field `"kind"`): `accept` (`record_id`: let the
//! referred traveller through, the gate opens once), `refuse` (`record_id`:
//! the traveller goes to the manual counter and is turned back out of the
//! gate), `close_lane`, `reopen_lane`, `reset_lane` (close then reopen: the
//! lane drops whatever it waits for and starts again from idle; a lane with
//! a failed device goes back out of service). `reason` is optional free
//! text for the audit (at most [`MAX_REASON_CHARS`] characters).
//!
//! # Kiosk to console ([`ServerMessage`])
//! ```json
//! {"type":"hello","protocol":1,"lane":"A07"}
//! {"type":"login_ok","session_id":"<32 hex>","officer_id":"OFC-0042","lane":"A07","session_ttl_s":43200}
//! {"type":"login_refused","code":"bad_credentials","retry_after_ms":null,"attempts_left":2}
//! {"type":"logged_out"}
//! {"type":"session_expired"}
//! {"type":"snapshot","lane":"A07","seq":41,"state":"await_officer","referral":{...},"alerts":[...]}
//! {"type":"event","lane":"A07","seq":42,"event":{"kind":"state","state":"await_document"}}
//! {"type":"referral","lane":"A07","seq":43,"referral":{...}}
//! {"type":"lagged","lane":"A07","missed":12}
//! {"type":"ack","counter":1,"command":"accept"}
//! {"type":"refused","counter":1,"code":"replayed","detail":"..."}
//! {"type":"pong","nonce":7}
//! {"type":"error","code":"frame_too_large","detail":"..."}
//! ```
//! `seq` numbers the stream (snapshot included) without gaps; a console
//! that is too slow to read is disconnected and must reconnect for a fresh
//! snapshot. `lagged` means the kiosk itself missed lane events (its own
//! view may be stale until the lane's next state change). `error` is
//! fatal: the kiosk closes the connection after it.
//!
//! Events ([`WireEvent`], field `"kind"`): `state`, `screen`,
//! `document_scanned`, `chip_judged`, `face_checked`, `decided`, `recorded`,
//! `exit_opened`, `referred`, `alert` (an [`AlertView`]: lane faults and
//! the gate's tailgating, emergency, refusal and fault reports), `gate`
//! (the gate's routine reports: `person_in_zone`, `passed`), `audit`,
//! `other`. A referral ([`ReferralView`]) carries the document fields, the
//! verdict with every check and the failed ones, the reasons, and the
//! chip's face image (JPEG or JPEG 2000 bytes, base64; the console decodes
//! it). A face over [`MAX_FACE_BYTES`] is left out (`face_omitted`).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zeroize::Zeroizing;

/// This protocol's version, sent in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest frame a console may send (bytes of JSON).
pub const MAX_CLIENT_FRAME: usize = 8 * 1024;

/// Largest frame the kiosk sends (bytes of JSON).
pub const MAX_SERVER_FRAME: usize = 2 * 1024 * 1024;

/// Largest face image sent with a referral; a larger one is left out.
pub const MAX_FACE_BYTES: usize = 1024 * 1024;

/// Longest audit reason a command may carry, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// Why a frame could not be read, written or understood.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The connection failed (or ended inside a frame).
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// The frame is longer than the reader's limit (nothing was allocated).
    #[error("frame of {len} bytes over the limit of {limit}")]
    TooLarge {
        /// The length announced or produced.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A frame of length 0.
    #[error("empty frame")]
    Empty,
    /// The JSON is not a message of this protocol (serde's message names no values).
    #[error("malformed message: {0}")]
    Malformed(String),
}

/// Reads one frame's payload; `Ok(None)` when the peer closed cleanly between frames.
///
/// # Errors
/// [`FrameError::TooLarge`] before allocating when the announced length is
/// over `limit`; [`FrameError::Empty`]; [`FrameError::Io`] when the
/// connection fails or ends inside a frame.
///
/// # Contract
/// Not cancel-safe: a read dropped half-way leaves the stream mid-frame, so
/// the caller must not read from it again.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    limit: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < header.len() {
        let n = reader.read(&mut header[got..]).await?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(FrameError::Io(std::io::ErrorKind::UnexpectedEof.into()))
            };
        }
        got += n;
    }
    let len = usize::try_from(u32::from_be_bytes(header)).unwrap_or(usize::MAX);
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if len > limit {
        return Err(FrameError::TooLarge { len, limit });
    }
    let mut payload = vec![0u8; len];
    reader.read_exact(&mut payload).await?;
    Ok(Some(payload))
}

/// Encodes `message` as one whole frame (length prefix and JSON).
///
/// # Errors
/// [`FrameError::TooLarge`] when the JSON is over `limit`;
/// [`FrameError::Malformed`] when serde refuses the value.
pub fn encode<T: Serialize>(message: &T, limit: usize) -> Result<Vec<u8>, FrameError> {
    let mut frame = vec![0u8; 4];
    serde_json::to_writer(&mut frame, message).map_err(|e| FrameError::Malformed(e.to_string()))?;
    let len = frame.len() - 4;
    if len > limit {
        return Err(FrameError::TooLarge { len, limit });
    }
    let prefix = u32::try_from(len).map_err(|_| FrameError::TooLarge { len, limit })?;
    frame[..4].copy_from_slice(&prefix.to_be_bytes());
    Ok(frame)
}

/// Decodes one frame's payload.
///
/// # Errors
/// [`FrameError::Malformed`] when it is not a `T` in JSON.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    serde_json::from_slice(payload).map_err(|e| FrameError::Malformed(e.to_string()))
}

/// Writes one whole frame made by [`encode`] and flushes.
///
/// # Errors
/// [`FrameError::Io`] when the connection fails.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    frame: &[u8],
) -> Result<(), FrameError> {
    writer.write_all(frame).await?;
    writer.flush().await?;
    Ok(())
}

/// An officer's PIN: zeroed when dropped, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Wraps a PIN.
    #[must_use]
    pub fn new(pin: &str) -> Self {
        Self(Zeroizing::new(pin.to_owned()))
    }

    /// The PIN's bytes, for verification.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

impl Serialize for Pin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Pin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(Zeroizing::new(String::deserialize(d)?)))
    }
}

/// What a console sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientMessage {
    /// Log an officer in with a PIN.
    Login {
        /// The officer's provisioned id.
        officer_id: String,
        /// The officer's PIN.
        pin: Pin,
    },
    /// Start the stream: a snapshot, then the live events (needs a session).
    Subscribe,
    /// A command for the lane.
    Command(CommandFrame),
    /// End the session (and the stream).
    Logout,
    /// Liveness check; answered by `pong` with the same nonce.
    Ping {
        /// Echoed back.
        nonce: u64,
    },
}

/// A command bound to a session, with its replay counter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandFrame {
    /// The session id from `login_ok`.
    pub session_id: String,
    /// Strictly greater than the session's previous command's counter.
    pub counter: u64,
    /// The lane the command is meant for (must be the kiosk's lane).
    pub lane: String,
    /// What to do.
    pub command: Command,
    /// The officer's reason, free text for the audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What an officer can order a lane to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// Let the referred traveller through: the gate opens once.
    Accept {
        /// The open referral's record id (32 hex digits).
        record_id: String,
    },
    /// Send the referred traveller to the manual counter (turned back out of the gate).
    Refuse {
        /// The open referral's record id (32 hex digits).
        record_id: String,
    },
    /// Close the lane.
    CloseLane,
    /// Reopen a closed lane.
    ReopenLane,
    /// Close then reopen: a stuck lane starts again from idle.
    ResetLane,
}

impl Command {
    /// The command's name, as in `ack` and the audit.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Accept { .. } => "accept",
            Self::Refuse { .. } => "refuse",
            Self::CloseLane => "close",
            Self::ReopenLane => "reopen",
            Self::ResetLane => "reset",
        }
    }
}

/// What the kiosk sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ServerMessage {
    /// First message on every connection.
    Hello {
        /// [`PROTOCOL_VERSION`].
        protocol: u32,
        /// The lane this kiosk runs.
        lane: String,
    },
    /// The officer is logged in.
    LoginOk {
        /// The session's random id: every command must carry it.
        session_id: String,
        /// The officer.
        officer_id: String,
        /// The lane.
        lane: String,
        /// Seconds until the session expires.
        session_ttl_s: u64,
    },
    /// The login was refused.
    LoginRefused {
        /// Why.
        code: LoginRefusal,
        /// When the officer (or console) may try again, if locked out.
        retry_after_ms: Option<u64>,
        /// Failures this connection may still make before it is closed.
        attempts_left: Option<u32>,
    },
    /// The session ended on the console's `logout`.
    LoggedOut,
    /// The session expired; log in again.
    SessionExpired,
    /// The lane as it is now: sent first after `subscribe`.
    Snapshot(Snapshot),
    /// Something happened at the lane.
    Event {
        /// The lane.
        lane: String,
        /// Stream sequence number.
        seq: u64,
        /// What happened.
        event: WireEvent,
    },
    /// A traveller was referred to the officer, with what the officer needs.
    Referral {
        /// The lane.
        lane: String,
        /// Stream sequence number.
        seq: u64,
        /// The referral.
        referral: ReferralView,
    },
    /// The kiosk missed lane events: its view may be stale until the next state change.
    Lagged {
        /// The lane.
        lane: String,
        /// How many lane messages were missed.
        missed: u64,
    },
    /// The command passed every check and was handed to the lane.
    Ack {
        /// The command's counter.
        counter: u64,
        /// The command's name.
        command: String,
    },
    /// The command was refused (and audited); nothing was done.
    Refused {
        /// The command's counter, when the frame had one.
        counter: Option<u64>,
        /// Why.
        code: Refusal,
        /// For the officer and the technician (no personal data).
        detail: String,
    },
    /// Answer to `ping`.
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// A fatal protocol error; the kiosk closes the connection.
    Error {
        /// Stable code: `frame_too_large`, `malformed`, `login_timeout`, `too_slow`, `too_many_refusals`, `shutting_down`.
        code: String,
        /// Details (no personal data).
        detail: String,
    },
}

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LoginRefusal {
    /// Unknown officer or wrong PIN (the two are not told apart).
    BadCredentials,
    /// The officer or the console is locked out after repeated failures.
    LockedOut,
    /// This connection failed too often; the kiosk closes it.
    TooManyAttempts,
    /// The officer id or PIN is not of an acceptable form.
    Malformed,
    /// A code this client does not know.
    #[serde(other)]
    Unknown,
}

/// Why a command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Refusal {
    /// No officer is logged in on this connection.
    NotLoggedIn,
    /// The session id is of a session that ended.
    SessionClosed,
    /// The session id is not this connection's session.
    UnknownSession,
    /// The session expired.
    SessionExpired,
    /// The counter is not greater than the session's last one: a replay.
    Replayed,
    /// The command names another lane.
    WrongLane,
    /// The record named is not the lane's open referral.
    NotPending,
    /// The record id is not 32 hex digits.
    BadRecordId,
    /// The reason is too long or has control characters.
    BadReason,
    /// The lane is not taking commands (stopped or overloaded).
    LaneUnavailable,
    /// The lane closed but did not reach `closed` in time to be reopened.
    ResetIncomplete,
    /// The stream needs a logged-in officer.
    NotSubscribable,
    /// A code this client does not know.
    #[serde(other)]
    Unknown,
}

impl Refusal {
    /// The code's wire name (for the audit).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotLoggedIn => "not_logged_in",
            Self::SessionClosed => "session_closed",
            Self::UnknownSession => "unknown_session",
            Self::SessionExpired => "session_expired",
            Self::Replayed => "replayed",
            Self::WrongLane => "wrong_lane",
            Self::NotPending => "not_pending",
            Self::BadRecordId => "bad_record_id",
            Self::BadReason => "bad_reason",
            Self::LaneUnavailable => "lane_unavailable",
            Self::ResetIncomplete => "reset_incomplete",
            Self::NotSubscribable => "not_subscribable",
            Self::Unknown => "unknown",
        }
    }
}

/// The lane as it is when a console subscribes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The lane.
    pub lane: String,
    /// Stream sequence number (the next live message has `seq + 1`).
    pub seq: u64,
    /// The lane's state name (`await_document`, `await_officer`, `closed`, ...).
    pub state: String,
    /// The referral the lane waits on, if any.
    pub referral: Option<ReferralView>,
    /// Alerts in force and the latest momentary ones.
    pub alerts: Vec<AlertView>,
}

/// A lane event on the wire (carries no personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WireEvent {
    /// The lane's state changed.
    State {
        /// Its name.
        state: String,
    },
    /// The traveller's screen changed.
    Screen {
        /// The message key (`welcome`, `see_officer`, ...).
        message: String,
        /// The permitted stay shown with `proceed_to_gate`.
        permitted_stay_days: Option<u32>,
    },
    /// A document was scanned: a new passage.
    DocumentScanned {
        /// The passage.
        passage: u64,
        /// The issuing state.
        issuing_state: String,
    },
    /// The chip was judged.
    ChipJudged {
        /// The passage.
        passage: u64,
        /// Every mandatory check passed.
        genuine: bool,
        /// The checks that failed.
        failed_checks: Vec<String>,
    },
    /// The face unit answered.
    FaceChecked {
        /// The passage.
        passage: u64,
        /// The score per mille.
        score_per_mille: Option<u16>,
        /// Why there is no score.
        error: Option<String>,
    },
    /// The lane rules decided.
    Decided {
        /// The passage.
        passage: u64,
        /// `approved`, `referred` or `redirected`.
        outcome: String,
        /// Reason codes, in rule order.
        reasons: Vec<String>,
        /// The permitted stay, when computed.
        permitted_stay_days: Option<u32>,
    },
    /// The record was committed.
    Recorded {
        /// The passage.
        passage: u64,
        /// The record.
        record_id: String,
    },
    /// The exit gate was ordered open.
    ExitOpened {
        /// The passage.
        passage: u64,
        /// Its record.
        record_id: String,
    },
    /// The traveller was referred (the details come as a `referral` message).
    Referred {
        /// The passage.
        passage: u64,
        /// Its record.
        record_id: String,
        /// `normal` or `high`.
        priority: Option<String>,
        /// The alert's reasons.
        reasons: Vec<String>,
    },
    /// An alert: a lane fault, or the gate's tailgating, emergency, refusal or fault.
    Alert {
        /// The alert.
        alert: AlertView,
    },
    /// A routine gate report (`person_in_zone`, `passed`).
    Gate {
        /// The report.
        notice: String,
    },
    /// The lane wrote an audit entry.
    Audit {
        /// The audit action.
        action: String,
        /// The record concerned.
        record_id: Option<String>,
    },
    /// An event this version does not describe.
    #[serde(other)]
    Other,
}

/// An alert about the lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    /// `device_fault`, `store_fault`, `gate_not_passed`, `gate_withheld`,
    /// `gate_tailgating`, `gate_emergency`, `gate_refused`, `gate_fault`,
    /// `disk_low`, `sync_behind`, `other`.
    pub kind: String,
    /// Whether the condition is in force (`false`: it ended, e.g. the emergency was released).
    pub active: bool,
    /// The failed device (`scanner`, `card_reader`, `face_unit`, `gate`, `store`, `processing`).
    pub device: Option<String>,
    /// The record concerned.
    pub record_id: Option<String>,
    /// The gate's words (no personal data).
    pub detail: Option<String>,
}

/// What the officer needs to decide on a referral. Personal data: `Debug`
/// shows only the passage, record and reasons.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralView {
    /// The passage.
    pub passage: u64,
    /// The referral's record (name it in `accept` / `refuse`).
    pub record_id: String,
    /// `normal` or `high`, when the lane raised an alert.
    pub priority: Option<String>,
    /// Every reason of the decision, in rule order.
    pub reasons: Vec<String>,
    /// The scanned document, when the MRZ was read.
    pub document: Option<DocumentView>,
    /// The chip's verdict, when the chip was read.
    pub verdict: Option<VerdictView>,
    /// The chip's face image, when it had one (and it was not too large).
    pub face: Option<FaceView>,
    /// The chip had a face image over [`MAX_FACE_BYTES`]: not sent.
    #[serde(default)]
    pub face_omitted: bool,
}

impl fmt::Debug for ReferralView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReferralView")
            .field("passage", &self.passage)
            .field("record_id", &self.record_id)
            .field("priority", &self.priority)
            .field("reasons", &self.reasons)
            .finish_non_exhaustive()
    }
}

/// The document's fields as the MRZ gives them. Personal data: no `Debug` fields.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentView {
    /// Document code (`P`, `I`, ...).
    pub document_type: String,
    /// Issuing state.
    pub issuing_state: String,
    /// Document number.
    pub document_number: String,
    /// Nationality.
    pub nationality: String,
    /// Surname.
    pub primary_identifier: String,
    /// Given names.
    pub secondary_identifier: String,
    /// Birth date `YYMMDD`.
    pub birth_date: String,
    /// Sex as printed.
    pub sex: String,
    /// Expiry date `YYMMDD`.
    pub expiry_date: String,
}

impl fmt::Debug for DocumentView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentView").finish_non_exhaustive()
    }
}

/// The chip's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictView {
    /// Every mandatory check passed and none failed.
    pub genuine: bool,
    /// The checks that failed, and the mandatory ones that could not be made.
    pub failed_checks: Vec<String>,
    /// Every check, in the order made.
    pub checks: Vec<CheckView>,
}

/// One check of the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    /// Its stable name (`passive_authentication`, `dg_hash_2`, ...).
    pub name: String,
    /// `passed`, `failed` or `not_possible`.
    pub outcome: String,
    /// Why it failed or was not possible.
    pub detail: Option<String>,
    /// Whether `genuine` needs it.
    pub mandatory: bool,
}

/// The chip's face image. Personal data: `Debug` shows the size only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaceView {
    /// `jpeg` or `jpeg2000`.
    pub format: String,
    /// Width in pixels, as the chip states it.
    pub width: u16,
    /// Height in pixels, as the chip states it.
    pub height: u16,
    /// The encoded image (base64 on the wire).
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
}

impl fmt::Debug for FaceView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaceView")
            .field("format", &self.format)
            .field("bytes", &self.data.len())
            .finish_non_exhaustive()
    }
}

/// Bytes as standard base64 in JSON.
mod base64_bytes {
    use super::{Deserialize, Deserializer, Engine, STANDARD, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|_| serde::de::Error::custom("not base64"))
    }
}
