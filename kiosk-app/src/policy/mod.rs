//! Lane rules, pure: one [`decide`] call turns a document, its verdict and
//! the lane's context into a [`Decision`].
//!
//! Every rule that applies adds its [`ReasonCode`]; none stops at the first.
//! The outcome follows from the reasons: any referral reason refers the
//! traveller to the officer, else any redirection reason sends them to the
//! manual counter, else they are approved.
//!
//! What the traveller is told never says why: every referral shows the same
//! neutral [`MessageKey::SeeOfficer`], so a watch-list hit cannot be told
//! apart from an expired document. The reasons go to the record and, for a
//! referral, to the officer in an [`Alert`].
//!
//! Dates: see [`date`](self::Date) for the century inference and the
//! conservative reading of unknown birth-date parts.

mod date;
mod watch;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use icao9303::mrz::{Mrz, is_asean};
use icao9303::verdict::Verdict;
use sha2::{Digest, Sha256};

pub use crate::store::Direction;
pub use date::Date;
pub use watch::{WatchHit, WatchList, WatchListError};

pub(crate) use date::{birth_range, expiry_date};

/// The lane's configurable rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// An ASEAN lane: holders of other nationalities are redirected to the manual counter.
    pub asean_only: bool,
    /// Refer a document valid for fewer than this many days after today (0: only expired ones).
    pub min_validity_days: u32,
    /// Refer holders younger than this many years (0: no minor rule).
    pub minor_age: u8,
    /// Refer a document seen within this many minutes (0: no anti-passback).
    pub passback_minutes: u32,
    /// Visa-exempt stay in days on arrival, per nationality code.
    pub stay_days: BTreeMap<String, u32>,
    /// Stay for a nationality not in `stay_days`; `None` refers such an arrival.
    pub default_stay_days: Option<u32>,
}

impl Default for Rules {
    /// An ASEAN lane: no validity margin, minors under 18, 10 minutes anti-passback, 30 days' stay.
    fn default() -> Self {
        Self {
            asean_only: true,
            min_validity_days: 0,
            minor_age: 18,
            passback_minutes: 10,
            stay_days: BTreeMap::new(),
            default_stay_days: Some(30),
        }
    }
}

/// The document fields the rules read, from the scanned (or DG1) MRZ.
///
/// `Debug` leaves out names, the document number and the dates.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentFacts {
    /// Document code ("P", "I", ...).
    pub document_type: String,
    /// Issuing state (3 letters, or "D").
    pub issuing_state: String,
    /// Document number, fillers removed.
    pub document_number: String,
    /// Nationality (3 letters, or "D").
    pub nationality: String,
    /// Surname, as the MRZ gives it.
    pub primary_identifier: String,
    /// Given names, as the MRZ gives them.
    pub secondary_identifier: String,
    /// Birth date `YYMMDD`, `<` for unknown parts.
    pub birth_date: String,
    /// Sex as printed.
    pub sex: char,
    /// Expiry date `YYMMDD`.
    pub expiry_date: String,
}

impl DocumentFacts {
    /// The facts of a parsed MRZ.
    #[must_use]
    pub fn from_mrz(mrz: &Mrz) -> Self {
        Self {
            document_type: mrz.document_type.clone(),
            issuing_state: mrz.issuing_state.clone(),
            document_number: mrz.document_number.clone(),
            nationality: mrz.nationality.clone(),
            primary_identifier: mrz.primary_identifier.clone(),
            secondary_identifier: mrz.secondary_identifier.clone(),
            birth_date: mrz.birth_date.clone(),
            sex: mrz.sex,
            expiry_date: mrz.expiry_date.clone(),
        }
    }

    /// The anti-passback key of this document (see [`PassageKey`]).
    #[must_use]
    pub fn passage_key(&self) -> PassageKey {
        PassageKey::of(&self.issuing_state, &self.document_number)
    }
}

impl fmt::Debug for DocumentFacts {
    /// Only the document kind and the states: no names, number or dates.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentFacts")
            .field("document_type", &self.document_type)
            .field("issuing_state", &self.issuing_state)
            .field("nationality", &self.nationality)
            .finish_non_exhaustive()
    }
}

/// `SHA-256("asean-lane/passage/v1" 0 issuing-state 0 document-number)`:
/// identifies a document for anti-passback without naming it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PassageKey(pub [u8; 32]);

impl PassageKey {
    /// The key of the document with this issuing state and number.
    #[must_use]
    pub fn of(issuing_state: &str, document_number: &str) -> Self {
        let mut h = Sha256::new();
        h.update(b"asean-lane/passage/v1");
        h.update([0u8]);
        h.update(issuing_state.trim_end_matches('<').as_bytes());
        h.update([0u8]);
        h.update(document_number.trim_end_matches('<').as_bytes());
        PassageKey(h.finalize().into())
    }
}

impl fmt::Debug for PassageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PassageKey(..)")
    }
}

/// Recent passages, as the caller knows them (the store, or a cache of it).
pub trait PassageHistory {
    /// The Unix time (seconds) of this document's latest passage through the lane, if any.
    fn last_passage_unix_s(&self, key: &PassageKey) -> Option<i64>;
}

impl<F: Fn(&PassageKey) -> Option<i64>> PassageHistory for F {
    fn last_passage_unix_s(&self, key: &PassageKey) -> Option<i64> {
        self(key)
    }
}

/// A small in-memory [`PassageHistory`]: keys with the time of their latest passage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentPassages {
    latest: BTreeMap<PassageKey, i64>,
}

impl RecentPassages {
    /// Notes a passage at this Unix time (seconds); keeps the latest per key.
    pub fn insert(&mut self, key: PassageKey, unix_s: i64) {
        let t = self.latest.entry(key).or_insert(unix_s);
        *t = (*t).max(unix_s);
    }

    /// Forgets passages older than this Unix time.
    pub fn prune_before(&mut self, unix_s: i64) {
        self.latest.retain(|_, t| *t >= unix_s);
    }
}

impl PassageHistory for RecentPassages {
    fn last_passage_unix_s(&self, key: &PassageKey) -> Option<i64> {
        self.latest.get(key).copied()
    }
}

/// Everything besides the document that a decision depends on.
pub struct LaneContext<'a> {
    /// The lane's rules.
    pub rules: &'a Rules,
    /// The lane's direction, recorded in the decision.
    pub direction: Direction,
    /// Today's date at the lane.
    pub today: Date,
    /// Now, Unix seconds (for anti-passback).
    pub now_unix_s: i64,
    /// The provisioned watch list.
    pub watch_list: &'a WatchList,
    /// Recent passages through the lane.
    pub history: &'a dyn PassageHistory,
    /// Whether the lane verifies faces; the decision then carries [`Biometrics::Pending`].
    pub biometrics_required: bool,
}

/// What happens to the traveller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The gate may open (once the record is committed).
    Approved,
    /// The officer must see the traveller.
    Referred,
    /// The traveller belongs at the manual counter.
    Redirected,
}

/// Why a rule applied: a stable code, recorded and shown to officers, never to travellers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ReasonCode {
    /// Nationality outside the ASEAN set on an ASEAN lane (redirect).
    NotAseanNational,
    /// The document's expiry date is before today.
    DocumentExpired,
    /// The document is valid for fewer than the configured days.
    DocumentExpiresSoon,
    /// The expiry date is not a date.
    ExpiryDateInvalid,
    /// The holder is (or may be) younger than the configured age.
    Minor,
    /// The birth year is unknown or the birth date is not a date: the age cannot be established.
    BirthDateUnknown,
    /// The document number and issuing state are on the watch list.
    WatchListDocument,
    /// The name and birth date are on the watch list.
    WatchListPerson,
    /// An authenticity check failed or a mandatory one could not be made.
    NotGenuine,
    /// The same document passed within the anti-passback window.
    Passback,
    /// Arrival of a nationality with no configured visa-exempt stay.
    NoStayConfigured,
    /// The live face did not reach the threshold against DG2.
    FaceMismatch,
    /// No usable face capture within the allowed tries.
    FaceNoUsableCapture,
    /// The face unit failed.
    FaceUnitFault,
    /// The chip has no face image to compare with.
    FaceReferenceMissing,
    /// The MRZ could not be read within the allowed scans.
    MrzUnreadable,
    /// The chip could not be read within the allowed attempts.
    ChipUnreadable,
}

impl ReasonCode {
    /// Every code, for tests and documentation.
    pub const ALL: [ReasonCode; 17] = [
        Self::NotAseanNational,
        Self::DocumentExpired,
        Self::DocumentExpiresSoon,
        Self::ExpiryDateInvalid,
        Self::Minor,
        Self::BirthDateUnknown,
        Self::WatchListDocument,
        Self::WatchListPerson,
        Self::NotGenuine,
        Self::Passback,
        Self::NoStayConfigured,
        Self::FaceMismatch,
        Self::FaceNoUsableCapture,
        Self::FaceUnitFault,
        Self::FaceReferenceMissing,
        Self::MrzUnreadable,
        Self::ChipUnreadable,
    ];

    /// The stable identifier stored in records.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAseanNational => "not_asean_national",
            Self::DocumentExpired => "document_expired",
            Self::DocumentExpiresSoon => "document_expires_soon",
            Self::ExpiryDateInvalid => "expiry_date_invalid",
            Self::Minor => "minor",
            Self::BirthDateUnknown => "birth_date_unknown",
            Self::WatchListDocument => "watch_list_document",
            Self::WatchListPerson => "watch_list_person",
            Self::NotGenuine => "not_genuine",
            Self::Passback => "passback",
            Self::NoStayConfigured => "no_stay_configured",
            Self::FaceMismatch => "face_mismatch",
            Self::FaceNoUsableCapture => "face_no_usable_capture",
            Self::FaceUnitFault => "face_unit_fault",
            Self::FaceReferenceMissing => "face_reference_missing",
            Self::MrzUnreadable => "mrz_unreadable",
            Self::ChipUnreadable => "chip_unreadable",
        }
    }

    /// What this reason does to the outcome on its own.
    #[must_use]
    pub fn outcome(self) -> Outcome {
        match self {
            Self::NotAseanNational => Outcome::Redirected,
            _ => Outcome::Referred,
        }
    }

    /// Whether the officer must be alerted with high priority.
    #[must_use]
    pub fn is_sensitive(self) -> bool {
        matches!(
            self,
            Self::WatchListDocument | Self::WatchListPerson | Self::NotGenuine
        )
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message for the traveller's screen, translated by the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKey {
    /// Idle: place your passport on the scanner.
    Welcome,
    /// Scan again, the document could not be read.
    RescanDocument,
    /// Keep the document on the reader.
    ReadingChip,
    /// Put the document back on the reader.
    PutDocumentBack,
    /// Please wait.
    PleaseWait,
    /// Look at the camera.
    LookAtCamera,
    /// Proceed through the gate (the screen adds the permitted stay).
    ProceedToGate,
    /// Please see the officer (neutral: used for every referral).
    SeeOfficer,
    /// Please go to the manual counter.
    GoToManualCounter,
    /// The lane is closed.
    LaneClosed,
    /// The lane is out of service.
    OutOfService,
}

/// How urgent an officer alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertPriority {
    /// A routine referral.
    Normal,
    /// A watch-list hit or a document that is not genuine.
    High,
}

/// What the officer is told about a referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// How urgent.
    pub priority: AlertPriority,
    /// The reasons, as in the decision.
    pub reasons: Vec<ReasonCode>,
}

/// Whether and how biometrics were used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Biometrics {
    /// The lane is configured without biometrics.
    NotConfigured,
    /// Required, not done yet (a provisional decision).
    Pending,
    /// Required, not attempted: the decision was already a referral or redirection.
    Skipped,
    /// A live face was compared with DG2.
    FaceMatch {
        /// Match score, per mille.
        score: u16,
        /// Threshold in force, per mille.
        threshold: u16,
    },
    /// No usable capture after this many tries.
    NoUsableCapture {
        /// Captures tried.
        tries: u8,
    },
    /// The face unit failed.
    UnitFault,
    /// The chip had no face image.
    NoReference,
}

impl Biometrics {
    /// Whether this allows approval: not configured, or a score at or above the threshold.
    #[must_use]
    pub fn allows_approval(self) -> bool {
        match self {
            Self::NotConfigured => true,
            Self::FaceMatch { score, threshold } => score >= threshold,
            _ => false,
        }
    }

    /// The reason this adds to a decision, if any.
    #[must_use]
    pub fn reason(self) -> Option<ReasonCode> {
        match self {
            Self::FaceMatch { score, threshold } if score < threshold => {
                Some(ReasonCode::FaceMismatch)
            }
            Self::NoUsableCapture { .. } => Some(ReasonCode::FaceNoUsableCapture),
            Self::UnitFault => Some(ReasonCode::FaceUnitFault),
            Self::NoReference => Some(ReasonCode::FaceReferenceMissing),
            _ => None,
        }
    }
}

/// The lane's decision on one traveller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What happens.
    pub outcome: Outcome,
    /// Every reason that applied, in rule order, without duplicates.
    pub reasons: Vec<ReasonCode>,
    /// Visa-exempt stay on arrival (shown when approved, always recorded when known).
    pub permitted_stay_days: Option<u32>,
    /// What the traveller's screen says.
    pub traveller_message: MessageKey,
    /// What the officer is told (every referral).
    pub officer_alert: Option<Alert>,
    /// The lane's direction.
    pub direction: Direction,
    /// Whether and how biometrics were used.
    pub biometrics: Biometrics,
}

impl Decision {
    /// A decision made of these reasons (approved if none).
    #[must_use]
    pub fn from_reasons(
        mut reasons: Vec<ReasonCode>,
        permitted_stay_days: Option<u32>,
        direction: Direction,
        biometrics: Biometrics,
    ) -> Self {
        let mut seen = std::collections::HashSet::new();
        reasons.retain(|r| seen.insert(*r));
        let outcome = if reasons.iter().any(|r| r.outcome() == Outcome::Referred) {
            Outcome::Referred
        } else if reasons.is_empty() {
            Outcome::Approved
        } else {
            Outcome::Redirected
        };
        let traveller_message = match outcome {
            Outcome::Approved => MessageKey::ProceedToGate,
            Outcome::Referred => MessageKey::SeeOfficer,
            Outcome::Redirected => MessageKey::GoToManualCounter,
        };
        let officer_alert = (outcome == Outcome::Referred).then(|| Alert {
            priority: if reasons.iter().any(|r| r.is_sensitive()) {
                AlertPriority::High
            } else {
                AlertPriority::Normal
            },
            reasons: reasons.clone(),
        });
        Self {
            outcome,
            reasons,
            permitted_stay_days,
            traveller_message,
            officer_alert,
            direction,
            biometrics,
        }
    }

    /// This decision with the face verification's result: a result that
    /// does not allow approval adds its reason (and so refers).
    #[must_use]
    pub fn with_biometrics(self, biometrics: Biometrics) -> Self {
        let mut reasons = self.reasons;
        reasons.extend(biometrics.reason());
        Self::from_reasons(
            reasons,
            self.permitted_stay_days,
            self.direction,
            biometrics,
        )
    }

    /// Whether the gate may open for this decision once it is recorded:
    /// approved, and biometrics not configured or matched.
    #[must_use]
    pub fn permits_exit(&self) -> bool {
        self.outcome == Outcome::Approved && self.biometrics.allows_approval()
    }
}

/// Applies the lane's rules (see the module documentation).
///
/// Rules, in order: nationality (ASEAN lane), expiry, minimum validity,
/// minors, watch list (document, person), authenticity, anti-passback,
/// permitted stay (arrival only).
#[must_use]
pub fn decide(facts: &DocumentFacts, verdict: &Verdict, ctx: &LaneContext<'_>) -> Decision {
    let rules = ctx.rules;
    let mut reasons = Vec::new();

    let asean = is_asean(&facts.nationality);
    if rules.asean_only && !asean {
        reasons.push(ReasonCode::NotAseanNational);
    }

    match expiry_date(&facts.expiry_date, ctx.today) {
        None => reasons.push(ReasonCode::ExpiryDateInvalid),
        Some(expiry) => {
            let days_left = expiry.days() - ctx.today.days();
            if days_left < 0 {
                reasons.push(ReasonCode::DocumentExpired);
            } else if days_left < i64::from(rules.min_validity_days) {
                reasons.push(ReasonCode::DocumentExpiresSoon);
            }
        }
    }

    match birth_range(&facts.birth_date, ctx.today) {
        None => reasons.push(ReasonCode::BirthDateUnknown),
        Some(range) => {
            if range.latest.age_on(ctx.today) < i32::from(rules.minor_age) {
                reasons.push(ReasonCode::Minor);
            }
        }
    }

    let hit = ctx.watch_list.check(facts);
    if hit.document {
        reasons.push(ReasonCode::WatchListDocument);
    }
    if hit.person {
        reasons.push(ReasonCode::WatchListPerson);
    }

    if !verdict.genuine() {
        reasons.push(ReasonCode::NotGenuine);
    }

    if rules.passback_minutes > 0
        && let Some(last) = ctx.history.last_passage_unix_s(&facts.passage_key())
    {
        // A passage "in the future" (clock stepped back) counts as recent.
        if ctx.now_unix_s - last < i64::from(rules.passback_minutes) * 60 {
            reasons.push(ReasonCode::Passback);
        }
    }

    let mut stay = None;
    if ctx.direction == Direction::Arrival {
        stay = rules
            .stay_days
            .get(facts.nationality.trim_end_matches('<'))
            .copied()
            .or(rules.default_stay_days);
        if stay.is_none() && !reasons.contains(&ReasonCode::NotAseanNational) {
            reasons.push(ReasonCode::NoStayConfigured);
        }
    }

    let biometrics = if ctx.biometrics_required {
        Biometrics::Pending
    } else {
        Biometrics::NotConfigured
    };
    Decision::from_reasons(reasons, stay, ctx.direction, biometrics)
}
