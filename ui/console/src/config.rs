//! The console's configuration: a TOML file naming the officer, the
//! console's TLS identity and the lanes to supervise.
//!
//! ```toml
//! officer_id = "OFC-0042"
//! ca_cert = "supervision-ca.pem"     # the CA of the kiosks and consoles
//! cert = "console.pem"               # this console's certificate chain
//! key = "console.key"                # its private key
//! # optional (defaults shown)
//! ping_interval_s = 5                # 1..=300: how often a quiet lane is checked
//! reconnect_first_ms = 500           # 50..=60000: the first wait after a failure
//! reconnect_max_s = 30               # 1..=600: the longest wait (doubling up to it)
//!
//! [[lane]]
//! name = "A07"                       # shown on the tile (1 to 12 characters, unique)
//! address = "10.0.7.7:7443"          # host:port of the kiosk's supervision server
//! server_name = "lane-a07.kiosk"     # the name in the kiosk's certificate
//! ```
//!
//! Relative paths are taken from the configuration file's folder. Errors
//! name the key (`lane[2].address: ...`); unknown keys are refused.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use kiosk_app::supervision::auth::valid_officer_id;
use rustls_pki_types::ServerName;

use crate::backoff::Backoff;

/// Most lanes one console supervises.
pub const MAX_LANES: usize = 64;

/// Longest lane name, in characters.
pub const MAX_LANE_NAME: usize = 12;

/// The console's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// The officer who uses this console.
    pub officer_id: String,
    /// The CA (PEM) of the kiosks' and consoles' certificates.
    pub ca_cert: PathBuf,
    /// This console's certificate chain (PEM).
    pub cert: PathBuf,
    /// This console's private key (PEM).
    pub key: PathBuf,
    /// How often a connected lane is pinged.
    pub ping_interval: Duration,
    /// Waits between attempts to reach a lane.
    pub backoff: Backoff,
    /// The lanes, in the order of their tiles.
    pub lanes: Vec<LaneEndpoint>,
}

/// Where one lane's kiosk is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneEndpoint {
    /// The lane's name on its tile.
    pub name: String,
    /// `host:port` of the kiosk's supervision server.
    pub address: String,
    /// The name the kiosk's certificate must carry.
    pub server_name: String,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: cannot read: {problem}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: std::io::Error,
    },
    /// The file is not TOML.
    #[error("not TOML: {0}")]
    Syntax(String),
    /// A required key is missing.
    #[error("{0}: missing")]
    Missing(String),
    /// A key this version does not know.
    #[error("{0}: unknown key")]
    Unknown(String),
    /// A key has the wrong type.
    #[error("{key}: must be {expected}")]
    Type {
        /// The key.
        key: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A key's value is not acceptable.
    #[error("{key}: {message}")]
    Invalid {
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl ConsoleConfig {
    /// Reads and checks the file at `path`; relative paths in it are taken
    /// from its folder.
    ///
    /// # Errors
    /// [`ConfigError::Read`], and those of [`ConsoleConfig::parse`].
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|problem| ConfigError::Read {
            path: path.to_path_buf(),
            problem,
        })?;
        let mut config = Self::parse(&text)?;
        if let Some(dir) = path.parent() {
            for p in [&mut config.ca_cert, &mut config.cert, &mut config.key] {
                if p.is_relative() {
                    *p = dir.join(&*p);
                }
            }
        }
        Ok(config)
    }

    /// Checks the configuration's text.
    ///
    /// # Errors
    /// [`ConfigError::Syntax`], [`ConfigError::Missing`],
    /// [`ConfigError::Unknown`], [`ConfigError::Type`],
    /// [`ConfigError::Invalid`], each naming the key.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax(e.message().to_owned()))?;
        const KEYS: [&str; 8] = [
            "officer_id",
            "ca_cert",
            "cert",
            "key",
            "ping_interval_s",
            "reconnect_first_ms",
            "reconnect_max_s",
            "lane",
        ];
        if let Some(k) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(ConfigError::Unknown(k.clone()));
        }
        let officer_id = string(&table, "officer_id", "officer_id")?;
        if !valid_officer_id(&officer_id) {
            return Err(ConfigError::Invalid {
                key: "officer_id".into(),
                message: "must be 1 to 64 letters, digits, '-', '_' or '.'".into(),
            });
        }
        let first = int(&table, "reconnect_first_ms", 50..=60_000)?
            .map_or(Backoff::default().first, |v| {
                Duration::from_millis(v.unsigned_abs())
            });
        let max = int(&table, "reconnect_max_s", 1..=600)?.map_or(Backoff::default().max, |v| {
            Duration::from_secs(v.unsigned_abs())
        });
        if max < first {
            return Err(ConfigError::Invalid {
                key: "reconnect_max_s".into(),
                message: "must not be less than reconnect_first_ms".into(),
            });
        }
        Ok(Self {
            officer_id,
            ca_cert: path(&table, "ca_cert")?,
            cert: path(&table, "cert")?,
            key: path(&table, "key")?,
            ping_interval: int(&table, "ping_interval_s", 1..=300)?
                .map_or(Duration::from_secs(5), |v| {
                    Duration::from_secs(v.unsigned_abs())
                }),
            backoff: Backoff { first, max },
            lanes: lanes(&table)?,
        })
    }
}

/// The `[[lane]]` entries.
fn lanes(table: &toml::Table) -> Result<Vec<LaneEndpoint>, ConfigError> {
    let entries = match table.get("lane") {
        None => return Err(ConfigError::Missing("lane".into())),
        Some(toml::Value::Array(a)) => a,
        Some(_) => {
            return Err(ConfigError::Type {
                key: "lane".into(),
                expected: "an array of tables ([[lane]])",
            });
        }
    };
    if entries.is_empty() || entries.len() > MAX_LANES {
        return Err(ConfigError::Invalid {
            key: "lane".into(),
            message: format!("must list 1 to {MAX_LANES} lanes, got {}", entries.len()),
        });
    }
    let mut lanes: Vec<LaneEndpoint> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let at = |k: &str| format!("lane[{i}].{k}");
        let toml::Value::Table(t) = entry else {
            return Err(ConfigError::Type {
                key: format!("lane[{i}]"),
                expected: "a table",
            });
        };
        if let Some(k) = t
            .keys()
            .find(|k| !["name", "address", "server_name"].contains(&k.as_str()))
        {
            return Err(ConfigError::Unknown(at(k)));
        }
        let name = string(t, "name", &at("name"))?;
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_LANE_NAME || name.chars().any(char::is_control) {
            return Err(ConfigError::Invalid {
                key: at("name"),
                message: format!("must be 1 to {MAX_LANE_NAME} printable characters"),
            });
        }
        if lanes.iter().any(|l| l.name == name) {
            return Err(ConfigError::Invalid {
                key: at("name"),
                message: format!("{name:?} is already the name of another lane"),
            });
        }
        let address = string(t, "address", &at("address"))?;
        let port_ok = address.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok {
            return Err(ConfigError::Invalid {
                key: at("address"),
                message: format!("must be host:port, got {address:?}"),
            });
        }
        let server_name = string(t, "server_name", &at("server_name"))?;
        if ServerName::try_from(server_name.as_str()).is_err() {
            return Err(ConfigError::Invalid {
                key: at("server_name"),
                message: format!("not a DNS name or IP address: {server_name:?}"),
            });
        }
        lanes.push(LaneEndpoint {
            name,
            address,
            server_name,
        });
    }
    Ok(lanes)
}

/// A required string; `key` is its full name for errors.
fn string(table: &toml::Table, name: &str, key: &str) -> Result<String, ConfigError> {
    match table.get(name) {
        None => Err(ConfigError::Missing(key.to_owned())),
        Some(toml::Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ConfigError::Type {
            key: key.to_owned(),
            expected: "a string",
        }),
    }
}

/// A required, non-empty path.
fn path(table: &toml::Table, name: &str) -> Result<PathBuf, ConfigError> {
    let s = string(table, name, name)?;
    if s.is_empty() {
        return Err(ConfigError::Invalid {
            key: name.to_owned(),
            message: "must not be empty".into(),
        });
    }
    Ok(PathBuf::from(s))
}

/// An optional integer within `range`.
fn int(
    table: &toml::Table,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, ConfigError> {
    match table.get(name) {
        None => Ok(None),
        Some(toml::Value::Integer(v)) if range.contains(v) => Ok(Some(*v)),
        Some(toml::Value::Integer(v)) => Err(ConfigError::Invalid {
            key: name.to_owned(),
            message: format!("must be {}..={}, got {v}", range.start(), range.end()),
        }),
        Some(_) => Err(ConfigError::Type {
            key: name.to_owned(),
            expected: "an integer",
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const GOOD: &str = r#"
officer_id = "OFC-0042"
ca_cert = "ca.pem"
cert = "console.pem"
key = "console.key"

[[lane]]
name = "A07"
address = "10.0.7.7:7443"
server_name = "lane-a07.kiosk"

[[lane]]
name = "A08"
address = "127.0.0.1:7444"
server_name = "127.0.0.1"
"#;

    fn error(text: &str) -> String {
        ConsoleConfig::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_good_file_is_read_with_defaults() {
        let c = ConsoleConfig::parse(GOOD).unwrap();
        assert_eq!(c.officer_id, "OFC-0042");
        assert_eq!(c.lanes.len(), 2);
        assert_eq!(c.lanes[1].server_name, "127.0.0.1");
        assert_eq!(c.ping_interval, Duration::from_secs(5));
        assert_eq!(c.backoff, Backoff::default());
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(
            error(&GOOD.replace("officer_id = \"OFC-0042\"\n", "")),
            "officer_id: missing"
        );
        assert!(error(&GOOD.replace("10.0.7.7:7443", "10.0.7.7")).starts_with("lane[0].address:"));
        assert!(
            error(&GOOD.replace("\"127.0.0.1\"\n", "\"not a name!\"\n"))
                .starts_with("lane[1].server_name:")
        );
        assert!(error(&GOOD.replace("\"A08\"", "\"A07\"")).starts_with("lane[1].name:"));
        assert_eq!(
            error(&format!(
                "{GOOD}\n[[lane]]\nname = \"A09\"\naddress = \"h:1\"\n"
            )),
            "lane[2].server_name: missing"
        );
        assert_eq!(
            error(&GOOD.replace(
                "[[lane]]\nname = \"A07\"",
                "[[lane]]\ncolour = 1\nname = \"A07\""
            )),
            "lane[0].colour: unknown key"
        );
        assert_eq!(
            error(&format!("ping_interval_s = 0\n{GOOD}")),
            "ping_interval_s: must be 1..=300, got 0"
        );
        assert_eq!(
            error(&format!("reconnect_max_s = \"30\"\n{GOOD}")),
            "reconnect_max_s: must be an integer"
        );
        assert_eq!(
            error(&format!("pin = \"1234\"\n{GOOD}")),
            "pin: unknown key"
        );
        assert!(error(&GOOD.replace("OFC-0042", "OFC 0042")).starts_with("officer_id:"));
    }

    #[test]
    fn relative_paths_are_taken_from_the_file_s_folder() {
        let dir = std::env::temp_dir().join(format!("console-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("console.toml");
        std::fs::write(&file, GOOD.replace("\"ca.pem\"", "\"/etc/ca.pem\"")).unwrap();
        let c = ConsoleConfig::load(&file).unwrap();
        assert_eq!(c.ca_cert, PathBuf::from("/etc/ca.pem"));
        assert_eq!(c.cert, dir.join("console.pem"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
