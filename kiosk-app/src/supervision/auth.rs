//! Officer PINs and login attempt limits.
//!
//! # The officers file
//! Provisioned with the unit (readable only by the appliance's user). TOML,
//! one `[[officer]]` per officer; the PIN is stored only as
//! PBKDF2-HMAC-SHA256 with a per-officer random salt:
//!
//! ```toml
//! [[officer]]
//! id = "OFC-0042"          # 1 to 64 of A-Z a-z 0-9 . _ -
//! salt = "<hex>"           # 16 to 64 random bytes
//! iterations = 600000      # at least 100000
//! hash = "<hex>"           # 32 bytes: PBKDF2-HMAC-SHA256(PIN, salt, iterations)
//! ```
//!
//! [`OfficerRecord::new`] makes an entry from a PIN (for provisioning) and
//! [`officers_toml`] writes the file. Verification runs the full PBKDF2 even
//! for an unknown officer (against a dummy entry), and compares in constant
//! time, so neither timing nor answer tells which officer ids exist.
//!
//! # Attempt limits
//! [`Limiter`] counts consecutive failures per officer and per console
//! (certificate). From [`AuthLimits::lockout_after`] failures on, the officer
//! (or console) is locked out for [`lockout_duration`]: the base doubled
//! with each further failure, capped. A success clears the count. Each
//! connection may fail [`AuthLimits::per_connection`] times before it is
//! closed (counted by the server), and every failure is answered only after
//! [`AuthLimits::failure_delay`].

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The fewest PBKDF2 iterations the officers file may use.
pub const MIN_ITERATIONS: u32 = 100_000;

/// Iterations [`OfficerRecord::new`] callers should use unless the unit is slow.
pub const DEFAULT_ITERATIONS: u32 = 600_000;

/// The most PBKDF2 iterations accepted (bounds a login's CPU time).
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// Shortest and longest PIN accepted (characters).
pub const PIN_LENGTH: std::ops::RangeInclusive<usize> = 4..=64;

/// Most consoles (certificates) whose failures are remembered.
const MAX_TRACKED: usize = 4096;

/// Why the officers file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The file could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// Not TOML of the officers file's form.
    #[error("officers file: {0}")]
    Syntax(String),
    /// An entry is invalid (the message names the entry by index and id, never a PIN or hash).
    #[error("officers file, officer {index}: {message}")]
    Invalid {
        /// The entry's index, from 0.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// The file holds no officer.
    #[error("officers file holds no officer")]
    Empty,
    /// No randomness for a salt.
    #[error("no randomness: {0}")]
    Random(String),
}

/// One officer's stored PIN verifier. `Debug` shows the id only.
#[derive(Clone, PartialEq, Eq)]
pub struct OfficerRecord {
    id: String,
    salt: Vec<u8>,
    iterations: u32,
    hash: [u8; 32],
}

impl std::fmt::Debug for OfficerRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfficerRecord")
            .field("id", &self.id)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl OfficerRecord {
    /// A new entry for officer `id` with `pin`, a fresh 16-byte salt and `iterations`.
    ///
    /// # Errors
    /// [`AuthError::Invalid`] for a bad id, PIN or iteration count;
    /// [`AuthError::Random`] when there is no randomness.
    pub fn new(id: &str, pin: &str, iterations: u32) -> Result<Self, AuthError> {
        let invalid = |message: &str| AuthError::Invalid {
            index: 0,
            message: message.to_owned(),
        };
        if !valid_officer_id(id) {
            return Err(invalid("id must be 1 to 64 of A-Z a-z 0-9 . _ -"));
        }
        if !PIN_LENGTH.contains(&pin.chars().count()) {
            return Err(invalid("the PIN must be 4 to 64 characters"));
        }
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(invalid("iterations out of range"));
        }
        let mut salt = vec![0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| AuthError::Random(e.to_string()))?;
        let hash = derive(pin.as_bytes(), &salt, iterations);
        Ok(Self {
            id: id.to_owned(),
            salt,
            iterations,
            hash,
        })
    }

    /// The officer's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether `pin` is this officer's PIN (full PBKDF2, constant-time compare).
    #[must_use]
    pub fn verify(&self, pin: &str) -> bool {
        let candidate = derive(pin.as_bytes(), &self.salt, self.iterations);
        bool::from(candidate.ct_eq(&self.hash))
    }
}

/// PBKDF2-HMAC-SHA256, 32 bytes.
fn derive(pin: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(pin, salt, iterations, &mut out);
    out
}

/// Whether `id` is an acceptable officer id: 1 to 64 of `A-Z a-z 0-9 . _ -`.
#[must_use]
pub fn valid_officer_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The provisioned officers.
#[derive(Debug, Clone)]
pub struct Officers {
    by_id: HashMap<String, OfficerRecord>,
    /// Verified against for unknown ids, so they cost the same time.
    dummy: OfficerRecord,
}

/// The file's form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficersFile {
    #[serde(default)]
    officer: Vec<OfficerEntry>,
}

/// One `[[officer]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficerEntry {
    id: String,
    salt: String,
    iterations: u32,
    hash: String,
}

impl Officers {
    /// Reads and checks the officers file.
    ///
    /// # Errors
    /// [`AuthError::Io`], else as [`Officers::from_toml_str`].
    pub fn load(path: &Path) -> Result<Self, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|e| AuthError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text)
    }

    /// Parses and checks an officers file's text.
    ///
    /// # Errors
    /// [`AuthError::Syntax`] for bad TOML or unknown keys,
    /// [`AuthError::Invalid`] for a bad entry or a duplicate id,
    /// [`AuthError::Empty`] for no officer.
    pub fn from_toml_str(text: &str) -> Result<Self, AuthError> {
        let file: OfficersFile =
            toml::from_str(text).map_err(|e| AuthError::Syntax(e.message().to_owned()))?;
        let records = file
            .officer
            .into_iter()
            .enumerate()
            .map(|(index, entry)| check_entry(index, entry))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_records(records)
    }

    /// The officers of these entries.
    ///
    /// # Errors
    /// [`AuthError::Invalid`] for a duplicate id, [`AuthError::Empty`] for none.
    pub fn from_records(records: Vec<OfficerRecord>) -> Result<Self, AuthError> {
        if records.is_empty() {
            return Err(AuthError::Empty);
        }
        let iterations = records
            .iter()
            .map(|r| r.iterations)
            .max()
            .unwrap_or(MIN_ITERATIONS);
        let mut by_id = HashMap::new();
        for (index, record) in records.into_iter().enumerate() {
            if by_id.contains_key(&record.id) {
                return Err(AuthError::Invalid {
                    index,
                    message: format!("duplicate id {}", record.id),
                });
            }
            by_id.insert(record.id.clone(), record);
        }
        let dummy = OfficerRecord {
            id: String::new(),
            salt: vec![0x5a; 16],
            iterations,
            hash: [0; 32],
        };
        Ok(Self { by_id, dummy })
    }

    /// How many officers there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none (never, once loaded).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Whether `officer_id` is provisioned.
    #[must_use]
    pub fn contains(&self, officer_id: &str) -> bool {
        self.by_id.contains_key(officer_id)
    }

    /// The officer whose PIN this is, for the kiosk's own PIN pad (which
    /// asks no id). Tries every officer, so it costs one hash per officer.
    #[must_use]
    pub fn officer_with_pin(&self, pin: &str) -> Option<&str> {
        if !PIN_LENGTH.contains(&pin.chars().count()) {
            return None;
        }
        let mut found = None;
        // No early exit: the time does not tell which officer matched.
        for (id, record) in &self.by_id {
            if record.verify(pin) && found.is_none() {
                found = Some(id.as_str());
            }
        }
        found
    }

    /// Whether `pin` is `officer_id`'s PIN. Slow on purpose (PBKDF2): run it
    /// off the async threads. An unknown id costs the same and is `false`.
    #[must_use]
    pub fn verify(&self, officer_id: &str, pin: &str) -> bool {
        let pin_ok = PIN_LENGTH.contains(&pin.chars().count());
        match self.by_id.get(officer_id) {
            Some(record) => record.verify(pin) && pin_ok,
            None => {
                let _ = self.dummy.verify(pin);
                false
            }
        }
    }
}

/// Checks one `[[officer]]`.
fn check_entry(index: usize, e: OfficerEntry) -> Result<OfficerRecord, AuthError> {
    let invalid = |message: String| AuthError::Invalid { index, message };
    if !valid_officer_id(&e.id) {
        return Err(invalid("id must be 1 to 64 of A-Z a-z 0-9 . _ -".into()));
    }
    let salt = hex::decode(&e.salt).map_err(|_| invalid(format!("{}: salt is not hex", e.id)))?;
    if !(16..=64).contains(&salt.len()) {
        return Err(invalid(format!("{}: salt must be 16 to 64 bytes", e.id)));
    }
    if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&e.iterations) {
        return Err(invalid(format!(
            "{}: iterations must be {MIN_ITERATIONS}..={MAX_ITERATIONS}, got {}",
            e.id, e.iterations
        )));
    }
    let hash = hex::decode(&e.hash)
        .ok()
        .and_then(|h| <[u8; 32]>::try_from(h).ok())
        .ok_or_else(|| invalid(format!("{}: hash must be 32 bytes of hex", e.id)))?;
    Ok(OfficerRecord {
        id: e.id,
        salt,
        iterations: e.iterations,
        hash,
    })
}

/// The officers file's text for these entries (see the module documentation).
#[must_use]
pub fn officers_toml(records: &[OfficerRecord]) -> String {
    let mut out = String::from(
        "# Officers allowed to supervise this lane: PBKDF2-HMAC-SHA256 PIN verifiers.\n",
    );
    for r in records {
        out.push_str(&format!(
            "\n[[officer]]\nid = \"{}\"\nsalt = \"{}\"\niterations = {}\nhash = \"{}\"\n",
            r.id,
            hex::encode(&r.salt),
            r.iterations,
            hex::encode(r.hash)
        ));
    }
    out
}

/// How many login failures are allowed, and what follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimits {
    /// Failures one connection may make; the connection is closed at this many.
    pub per_connection: u32,
    /// Consecutive failures of one officer (or console) that start a lockout.
    pub lockout_after: u32,
    /// The first lockout's length.
    pub lockout_base: Duration,
    /// The longest lockout.
    pub lockout_max: Duration,
    /// How long every failed attempt waits before it is answered.
    pub failure_delay: Duration,
}

impl Default for AuthLimits {
    /// 3 per connection; 5 per officer or console, then 30 s doubling to 15 min; 1 s per failure.
    fn default() -> Self {
        Self {
            per_connection: 3,
            lockout_after: 5,
            lockout_base: Duration::from_secs(30),
            lockout_max: Duration::from_secs(15 * 60),
            failure_delay: Duration::from_secs(1),
        }
    }
}

/// How long a lockout lasts after `failures` consecutive failures: zero
/// below [`AuthLimits::lockout_after`], then the base doubled with each
/// further failure, never more than [`AuthLimits::lockout_max`].
#[must_use]
pub fn lockout_duration(failures: u32, limits: &AuthLimits) -> Duration {
    if failures < limits.lockout_after.max(1) {
        return Duration::ZERO;
    }
    let doublings = (failures - limits.lockout_after.max(1)).min(32);
    let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
    limits
        .lockout_base
        .checked_mul(factor)
        .unwrap_or(limits.lockout_max)
        .min(limits.lockout_max)
}

/// Consecutive failures of one officer or console.
#[derive(Debug, Clone, Copy, Default)]
struct Strikes {
    failures: u32,
    locked_until: Option<Instant>,
}

impl Strikes {
    /// Time left of a lockout at `now`.
    fn locked(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .and_then(|until| until.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }
}

/// Login failures per officer and per console, shared by a server's connections.
#[derive(Debug)]
pub struct Limiter {
    limits: AuthLimits,
    officers: HashMap<String, Strikes>,
    consoles: HashMap<String, Strikes>,
}

impl Limiter {
    /// No failures yet.
    #[must_use]
    pub fn new(limits: AuthLimits) -> Self {
        Self {
            limits,
            officers: HashMap::new(),
            consoles: HashMap::new(),
        }
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> &AuthLimits {
        &self.limits
    }

    /// `Err(time left)` when the officer or the console is locked out at `now`.
    ///
    /// # Errors
    /// The longer of the two lockouts' remaining time.
    pub fn check(&self, officer: &str, console: &str, now: Instant) -> Result<(), Duration> {
        let left = [
            self.officers.get(officer).and_then(|s| s.locked(now)),
            self.consoles.get(console).and_then(|s| s.locked(now)),
        ]
        .into_iter()
        .flatten()
        .max();
        left.map_or(Ok(()), Err)
    }

    /// Notes a failure; `known` says whether the officer id is provisioned
    /// (unknown ids are not remembered, only the console's failure is).
    /// Returns the lockout this failure started, if any.
    pub fn failed(
        &mut self,
        officer: &str,
        known: bool,
        console: &str,
        now: Instant,
    ) -> Option<Duration> {
        let limits = self.limits;
        let mut started = None;
        let mut strike = |s: &mut Strikes| {
            s.failures = s.failures.saturating_add(1);
            let d = lockout_duration(s.failures, &limits);
            if !d.is_zero() {
                s.locked_until = now.checked_add(d);
                started = Some(started.map_or(d, |x: Duration| x.max(d)));
            }
        };
        if known {
            strike(self.officers.entry(officer.to_owned()).or_default());
        }
        if !self.consoles.contains_key(console) && self.consoles.len() >= MAX_TRACKED {
            self.consoles.retain(|_, s| s.locked(now).is_some());
        }
        if self.consoles.contains_key(console) || self.consoles.len() < MAX_TRACKED {
            strike(self.consoles.entry(console.to_owned()).or_default());
        }
        started
    }

    /// Notes a success: the officer's and the console's counts start again.
    pub fn succeeded(&mut self, officer: &str, console: &str) {
        self.officers.remove(officer);
        self.consoles.remove(console);
    }
}
