//! The lane's configuration: one TOML file, checked entirely at load.
//!
//! Every error names the key path (`policy.minor_age: must be 0..=25, got
//! 40`); unknown keys are refused by name; missing required keys are named.
//!
//! ```toml
//! site = "KUL"
//! terminal = "T1"
//! lane = "A07"
//! direction = "arrival"            # or "departure"
//! store = "/var/lib/asean-lane/passages.sqlite"
//! trust_store = "/var/lib/asean-lane/trust"
//! signing_key = "/var/lib/asean-lane/identity/record-signing.key"  # optional (default shown)
//! store_min_free_mb = 64           # optional: the lane closes below this much free disk (1..=100000)
//!
//! [devices]
//! reader = "Virtual PCD 00 00"     # PC/SC reader name
//! scanner = "/dev/ttyUSB0"         # MRZ scanner serial path
//! scanner_framing = "lines"        # or "stx-etx" (default "lines")
//! gate = "/dev/ttyUSB1"            # gate controller serial path
//!
//! [policy]                         # every key optional (defaults shown)
//! asean_only = true
//! min_validity_days = 0            # 0..=3650
//! minor_age = 18                   # 0..=25
//! passback_minutes = 10            # 0..=1440
//! default_stay_days = 30           # 1..=365, or leave out to refer unlisted nationalities
//! watch_list = "/var/lib/asean-lane/watch-list"   # optional
//! [policy.stay_days]               # nationality code = days (1..=365)
//! THA = 30
//!
//! [biometrics]                     # optional section: no biometrics when absent
//! required = true
//! threshold = 0.8                  # 0.0..=1.0
//! max_tries = 3                    # 1..=10
//!
//! [timeouts]                       # milliseconds, every key optional (defaults shown)
//! document_ms = 30000
//! chip_ms = 10000
//! face_ms = 15000
//! walk_away_ms = 20000
//! processing_ms = 5000
//!
//! [retries]                        # every key optional (defaults shown)
//! document = 2                     # 0..=10
//! chip = 2                         # 0..=10
//!
//! [sync]                           # optional section: no sync when absent
//! endpoint = "https://central.example:8443"
//! unit_id = "KUL-T1-A07"
//! ca = "/var/lib/asean-lane/identity/central-ca.pem"
//! cert = "/var/lib/asean-lane/identity/unit.pem"
//! key = "/var/lib/asean-lane/identity/unit.key"
//! retention_days = 30              # optional: purge personal fields this long after acknowledgement
//! alert_backlog = 1000             # optional (default shown): officer alert above this many unsynced records
//! alert_age_minutes = 60           # optional (default shown): officer alert when the oldest waits longer
//!
//! [supervision]                    # optional section: no officer consoles when absent
//! listen = "0.0.0.0:7443"
//! ca_cert = "/var/lib/asean-lane/identity/console-ca.pem"   # consoles' certificates chain to it
//! cert = "/var/lib/asean-lane/identity/unit.pem"
//! key = "/var/lib/asean-lane/identity/unit.key"
//! officers = "/var/lib/asean-lane/officers.toml"          # officer ids and salted PIN hashes
//! ```
//! (`[supervision]`'s optional limits are listed in [`crate::supervision`].)

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use icao9303::mrz::{CodeKind, code_kind};

use crate::policy::{Direction, Rules};
use crate::session::{FaceSettings, SessionConfig, Timeouts};
use crate::supervision::SupervisionConfig;
use crate::sync::{SyncConfig, TlsFiles};

#[cfg(test)]
mod tests;

/// Where the unit's record-signing key is, unless the configuration says otherwise.
pub const DEFAULT_SIGNING_KEY: &str = "/var/lib/asean-lane/identity/record-signing.key";

/// The lane's whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Site (airport) code.
    pub site: String,
    /// Terminal.
    pub terminal: String,
    /// Lane id.
    pub lane: String,
    /// Arrival or departure.
    pub direction: Direction,
    /// The devices.
    pub devices: Devices,
    /// The lane rules.
    pub policy: Rules,
    /// The provisioned watch-list file, if any.
    pub watch_list: Option<PathBuf>,
    /// The passage-record store (SQLite file).
    pub store: PathBuf,
    /// The CSCA trust store directory.
    pub trust_store: PathBuf,
    /// The unit's record-signing key (64 hex digits: the Ed25519 seed).
    pub signing_key: PathBuf,
    /// The lane closes itself when the store's disk has less free space than this, in bytes.
    pub store_min_free_bytes: u64,
    /// Syncing to the central system, or `None` for a unit that does not sync.
    pub sync: Option<SyncSettings>,
    /// The officer consoles' endpoint, or `None` for a lane without one.
    pub supervision: Option<SupervisionConfig>,
    /// Face verification, or `None` for a lane without biometrics.
    pub biometrics: Option<BiometricsConfig>,
    /// Step timeouts.
    pub timeouts: Timeouts,
    /// Unreadable MRZ scans allowed after the first.
    pub document_retries: u8,
    /// Chip read attempts allowed after the first.
    pub chip_retries: u8,
}

/// Syncing to the central system, and when the officer is alerted about it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncSettings {
    /// The sync worker's configuration.
    pub worker: SyncConfig,
    /// Alert the officer above this many unsynced records.
    pub alert_backlog: u64,
    /// Alert the officer when the oldest unsynced record waits longer.
    pub alert_age: Duration,
}

/// The lane's devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Devices {
    /// PC/SC reader name.
    pub reader: String,
    /// MRZ scanner serial path.
    pub scanner: PathBuf,
    /// How the scanner frames scans.
    pub scanner_framing: ScannerFraming,
    /// Gate controller serial path.
    pub gate: PathBuf,
}

/// How the MRZ scanner delimits scans (as `doc_scanner::Framing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScannerFraming {
    /// Unframed lines.
    Lines,
    /// `STX ... ETX` frames.
    StxEtx,
}

/// Face verification settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BiometricsConfig {
    /// The lowest matching score, 0.0 to 1.0.
    pub threshold: f32,
    /// Captures allowed before a referral.
    pub max_tries: u8,
}

/// A configuration that cannot be used; the message names the key path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// Not TOML.
    #[error("not valid TOML: {0}")]
    Syntax(String),
    /// A required key is missing.
    #[error("{0}: missing")]
    Missing(String),
    /// A key the configuration does not have.
    #[error("{0}: unknown key")]
    Unknown(String),
    /// A value of the wrong type.
    #[error("{key}: expected {expected}")]
    Type {
        /// The key path.
        key: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A value outside what the key allows.
    #[error("{key}: {message}")]
    Invalid {
        /// The key path.
        key: String,
        /// What is wrong, with the value when it is not personal data.
        message: String,
    },
}

impl Config {
    /// Reads and checks a configuration file.
    ///
    /// # Errors
    /// [`ConfigError::Io`] when the file cannot be read, else as [`Config::from_toml_str`].
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text)
    }

    /// Parses and checks a configuration.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first key that is missing, unknown, of
    /// the wrong type or out of range.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let root: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax(e.message().to_string()))?;
        let mut top = Section::new("", &root);
        let site = top.name("site")?;
        let terminal = top.name("terminal")?;
        let lane = top.name("lane")?;
        let direction = match top.string("direction")?.as_str() {
            "arrival" => Direction::Arrival,
            "departure" => Direction::Departure,
            other => {
                return Err(top.invalid(
                    "direction",
                    format!("must be arrival or departure, got {other:?}"),
                ));
            }
        };
        let store = top.path("store")?;
        let trust_store = top.path("trust_store")?;
        let signing_key = top
            .opt_path("signing_key")?
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SIGNING_KEY));
        let store_min_free_bytes = top
            .opt_int("store_min_free_mb", 1..=100_000)?
            .map_or(64, i64::unsigned_abs)
            * 1024
            * 1024;

        let mut d = top.section("devices")?;
        let devices = Devices {
            reader: d.name("reader")?,
            scanner: d.path("scanner")?,
            scanner_framing: match d.opt_string("scanner_framing")?.as_deref() {
                None | Some("lines") => ScannerFraming::Lines,
                Some("stx-etx") => ScannerFraming::StxEtx,
                Some(other) => {
                    return Err(d.invalid(
                        "scanner_framing",
                        format!("must be lines or stx-etx, got {other:?}"),
                    ));
                }
            },
            gate: d.path("gate")?,
        };
        d.finish()?;

        let (policy, watch_list) = match top.opt_section("policy")? {
            None => (Rules::default(), None),
            Some(mut p) => {
                let defaults = Rules::default();
                let asean_only = p.opt_bool("asean_only")?.unwrap_or(defaults.asean_only);
                let min_validity_days = p
                    .opt_int("min_validity_days", 0..=3650)?
                    .map_or(defaults.min_validity_days, to_u32);
                let minor_age = p
                    .opt_int("minor_age", 0..=25)?
                    .map_or(defaults.minor_age, to_u8);
                let passback_minutes = p
                    .opt_int("passback_minutes", 0..=1440)?
                    .map_or(defaults.passback_minutes, to_u32);
                let default_stay_days = p.opt_int("default_stay_days", 1..=365)?.map(to_u32);
                let watch_list = p.opt_path("watch_list")?;
                let mut stay_days = BTreeMap::new();
                if let Some(mut s) = p.opt_section("stay_days")? {
                    for code in s.keys() {
                        if matches!(code_kind(&code), CodeKind::Invalid) {
                            return Err(s.invalid(
                                &code,
                                "is not a nationality code (1 to 3 capital letters)".into(),
                            ));
                        }
                        let days = s.opt_int(&code, 1..=365)?.map_or(0, to_u32);
                        stay_days.insert(code, days);
                    }
                    s.finish()?;
                }
                p.finish()?;
                let rules = Rules {
                    asean_only,
                    min_validity_days,
                    minor_age,
                    passback_minutes,
                    stay_days,
                    default_stay_days,
                };
                (rules, watch_list)
            }
        };

        let biometrics = match top.opt_section("biometrics")? {
            None => None,
            Some(mut b) => {
                let required = b.bool("required")?;
                let threshold = b.opt_float("threshold", 0.0..=1.0)?;
                let max_tries = b.opt_int("max_tries", 1..=10)?.map(to_u8);
                let out = if required {
                    Some(BiometricsConfig {
                        threshold: threshold.ok_or_else(|| b.missing("threshold"))?,
                        max_tries: max_tries.unwrap_or(3),
                    })
                } else {
                    None
                };
                b.finish()?;
                out
            }
        };

        let timeouts = {
            let mut t = top.opt_section("timeouts")?;
            let mut ms = |key: &str, default: u64| -> Result<Duration, ConfigError> {
                let v = match t.as_mut() {
                    Some(t) => t.opt_int(key, 100..=600_000)?,
                    None => None,
                };
                Ok(Duration::from_millis(
                    v.map_or(default, |v| v.unsigned_abs()),
                ))
            };
            let timeouts = Timeouts {
                document: ms("document_ms", 30_000)?,
                chip: ms("chip_ms", 10_000)?,
                face: ms("face_ms", 15_000)?,
                walk_away: ms("walk_away_ms", 20_000)?,
                processing: ms("processing_ms", 5_000)?,
            };
            if let Some(t) = t {
                t.finish()?;
            }
            timeouts
        };

        let (document_retries, chip_retries) = match top.opt_section("retries")? {
            None => (2, 2),
            Some(mut r) => {
                let document = r.opt_int("document", 0..=10)?.map_or(2, to_u8);
                let chip = r.opt_int("chip", 0..=10)?.map_or(2, to_u8);
                r.finish()?;
                (document, chip)
            }
        };
        let sync = match top.opt_section("sync")? {
            None => None,
            Some(mut y) => {
                let tls = TlsFiles {
                    ca: y.path("ca")?,
                    cert: y.path("cert")?,
                    key: y.path("key")?,
                };
                let mut worker = SyncConfig::new(y.string("endpoint")?, y.string("unit_id")?, tls);
                worker.retention = y
                    .opt_int("retention_days", 1..=3650)?
                    .map(|d| Duration::from_secs(d.unsigned_abs() * 86_400));
                let alert_backlog = y
                    .opt_int("alert_backlog", 1..=100_000_000)?
                    .map_or(1000, i64::unsigned_abs);
                let alert_age = Duration::from_secs(
                    y.opt_int("alert_age_minutes", 1..=100_000)?
                        .map_or(60, i64::unsigned_abs)
                        * 60,
                );
                if let Err(crate::sync::SyncError::Config { field, problem }) = worker.validate() {
                    return Err(y.invalid(field, problem.into()));
                }
                y.finish()?;
                Some(SyncSettings {
                    worker,
                    alert_backlog,
                    alert_age,
                })
            }
        };
        let supervision = match top.opt_section("supervision")? {
            None => None,
            // Its keys are checked, and named, by the supervision module.
            Some(section) => Some(SupervisionConfig::from_table(section.table)?),
        };
        top.finish()?;

        let config = Self {
            site,
            terminal,
            lane,
            direction,
            devices,
            policy,
            watch_list,
            store,
            trust_store,
            signing_key,
            store_min_free_bytes,
            sync,
            supervision,
            biometrics,
            timeouts,
            document_retries,
            chip_retries,
        };
        config.check()?;
        Ok(config)
    }

    /// Checks the rules that span several keys (for `asean-lane --check-config`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key at fault.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.devices.scanner == self.devices.gate {
            return Err(ConfigError::Invalid {
                key: "devices.gate".into(),
                message: "must not be the scanner's serial path".into(),
            });
        }
        if self.store == self.trust_store {
            return Err(ConfigError::Invalid {
                key: "trust_store".into(),
                message: "must not be the store's path".into(),
            });
        }
        if let Some(retention) = self.sync.as_ref().and_then(|s| s.worker.retention) {
            // Purged records no longer identify a document: anti-passback
            // must not look further back than the retention.
            if retention < Duration::from_secs(u64::from(self.policy.passback_minutes) * 60) {
                return Err(ConfigError::Invalid {
                    key: "sync.retention_days".into(),
                    message: "must be longer than policy.passback_minutes".into(),
                });
            }
        }
        let t = self.timeouts;
        if t.walk_away <= t.processing {
            return Err(ConfigError::Invalid {
                key: "timeouts.walk_away_ms".into(),
                message: "must be longer than timeouts.processing_ms".into(),
            });
        }
        Ok(())
    }

    /// The state machine's settings.
    #[must_use]
    pub fn session(&self) -> SessionConfig {
        SessionConfig {
            direction: self.direction,
            biometrics: self.biometrics.map(|b| FaceSettings {
                threshold_per_mille: crate::face::FaceMatch { score: b.threshold }.per_mille(),
                max_tries: b.max_tries,
            }),
            timeouts: self.timeouts,
            document_retries: self.document_retries,
            chip_retries: self.chip_retries,
        }
    }
}

/// A checked integer that fits (the range was checked against `u32`'s).
fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A checked integer that fits (the range was checked against `u8`'s).
fn to_u8(v: i64) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

/// One table, read key by key; [`Section::finish`] refuses the keys not read.
struct Section<'a> {
    prefix: String,
    table: &'a toml::Table,
    used: BTreeSet<String>,
}

impl<'a> Section<'a> {
    fn new(prefix: &str, table: &'a toml::Table) -> Self {
        Self {
            prefix: prefix.to_string(),
            table,
            used: BTreeSet::new(),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn missing(&self, key: &str) -> ConfigError {
        ConfigError::Missing(self.key(key))
    }

    fn invalid(&self, key: &str, message: String) -> ConfigError {
        ConfigError::Invalid {
            key: self.key(key),
            message,
        }
    }

    fn type_error(&self, key: &str, expected: &'static str) -> ConfigError {
        ConfigError::Type {
            key: self.key(key),
            expected,
        }
    }

    fn get(&mut self, key: &str) -> Option<&'a toml::Value> {
        self.used.insert(key.to_string());
        self.table.get(key)
    }

    fn keys(&self) -> Vec<String> {
        self.table.keys().cloned().collect()
    }

    fn opt_string(&mut self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.type_error(key, "a string")),
        }
    }

    fn string(&mut self, key: &str) -> Result<String, ConfigError> {
        self.opt_string(key)?.ok_or_else(|| self.missing(key))
    }

    /// A non-empty identifier-like string (no control characters).
    fn name(&mut self, key: &str) -> Result<String, ConfigError> {
        let s = self.string(key)?;
        if s.trim().is_empty() || s.chars().any(char::is_control) || s.len() > 64 {
            return Err(self.invalid(key, "must be 1 to 64 printable characters".into()));
        }
        Ok(s)
    }

    fn opt_path(&mut self, key: &str) -> Result<Option<PathBuf>, ConfigError> {
        match self.opt_string(key)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Err(self.invalid(key, "must not be empty".into())),
            Some(s) => Ok(Some(PathBuf::from(s))),
        }
    }

    fn path(&mut self, key: &str) -> Result<PathBuf, ConfigError> {
        self.opt_path(key)?.ok_or_else(|| self.missing(key))
    }

    fn opt_bool(&mut self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(_) => Err(self.type_error(key, "true or false")),
        }
    }

    fn bool(&mut self, key: &str) -> Result<bool, ConfigError> {
        self.opt_bool(key)?.ok_or_else(|| self.missing(key))
    }

    fn opt_int(
        &mut self,
        key: &str,
        range: RangeInclusive<i64>,
    ) -> Result<Option<i64>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(v)) if range.contains(v) => Ok(Some(*v)),
            Some(toml::Value::Integer(v)) => Err(self.invalid(
                key,
                format!("must be {}..={}, got {v}", range.start(), range.end()),
            )),
            Some(_) => Err(self.type_error(key, "an integer")),
        }
    }

    fn opt_float(
        &mut self,
        key: &str,
        range: RangeInclusive<f64>,
    ) -> Result<Option<f32>, ConfigError> {
        let v = match self.get(key) {
            None => return Ok(None),
            Some(toml::Value::Float(v)) => *v,
            #[allow(clippy::cast_precision_loss)]
            Some(toml::Value::Integer(v)) => *v as f64,
            Some(_) => return Err(self.type_error(key, "a number")),
        };
        if !range.contains(&v) {
            return Err(self.invalid(
                key,
                format!("must be {}..={}, got {v}", range.start(), range.end()),
            ));
        }
        #[allow(clippy::cast_possible_truncation)]
        Ok(Some(v as f32))
    }

    fn opt_section(&mut self, key: &str) -> Result<Option<Section<'a>>, ConfigError> {
        let prefix = format!("{}{key}.", self.prefix);
        match self.get(key) {
            None => Ok(None),
            Some(toml::Value::Table(t)) => Ok(Some(Section::new(&prefix, t))),
            Some(_) => Err(self.type_error(key, "a table")),
        }
    }

    fn section(&mut self, key: &str) -> Result<Section<'a>, ConfigError> {
        self.opt_section(key)?.ok_or_else(|| self.missing(key))
    }

    /// Refuses the first key that was not read.
    fn finish(self) -> Result<(), ConfigError> {
        match self.table.keys().find(|k| !self.used.contains(*k)) {
            Some(k) => Err(ConfigError::Unknown(self.key(k))),
            None => Ok(()),
        }
    }
}
