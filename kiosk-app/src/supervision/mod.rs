//! Officer supervision (issue 7): the kiosk's mutual-TLS endpoint for the
//! officer console, and the client library the console uses.
//!
//! [`server`] streams the lane's state, referrals and alerts to logged-in
//! consoles and takes the officer's commands (accept a referral, refuse it,
//! close, reopen or reset the lane); [`client`] is its counterpart;
//! [`protocol`] documents every message on the wire; [`auth`] verifies
//! officer PINs against the provisioned officers file and limits attempts.
//!
//! # Security
//! - Consoles authenticate with a certificate issued by the provisioned CA
//!   (mutual TLS 1.3, rustls with aws-lc-rs); the officer with a PIN per
//!   session (PBKDF2-HMAC-SHA256, at least [`auth::MIN_ITERATIONS`]).
//! - A command reaches the lane (as an `authenticated: true` officer event)
//!   only from a live session on a verified connection, with the session's
//!   id and a counter strictly greater than its last one; anything else is
//!   refused and audited.
//! - Every command and login is audited through the lane (`Input::Audit`,
//!   officer id, time, lane, record), queued before the command itself.
//! - Personal data (a referral's document and face) goes only to a
//!   subscribed, logged-in console; logs carry ids and counts only.
//! - A slow console never holds the lane back: the lane's broadcast never
//!   waits, each console has a bounded queue and is disconnected when it
//!   overflows or a write times out.
//!
//! # Configuration
//! An optional `[supervision]` section of the lane's configuration, read by
//! [`SupervisionConfig::from_table`]:
//!
//! ```toml
//! [supervision]
//! listen = "0.0.0.0:7443"                                  # address:port
//! ca_cert = "/var/lib/asean-lane/identity/supervision-ca.pem"   # CA of consoles and kiosk
//! cert = "/var/lib/asean-lane/identity/supervision.pem"    # this kiosk's certificate chain
//! key = "/var/lib/asean-lane/identity/supervision.key"     # its private key
//! officers = "/var/lib/asean-lane/officers.toml"           # see supervision::auth
//! # optional (defaults shown)
//! max_consoles = 16                  # 1..=256 connections at once
//! session_ttl_s = 43200              # 60..=86400: a PIN session's life
//! login_timeout_s = 30               # 5..=600: to log in after connecting
//! login_failures_per_connection = 3  # 1..=10
//! lockout_after = 5                  # 1..=100 failures of an officer or console
//! lockout_base_s = 30                # 1..=3600, doubled with each further failure
//! lockout_max_s = 900                # 1..=86400
//! failure_delay_ms = 1000            # 0..=10000 before a failure is answered
//! ```

pub mod auth;
pub mod client;
pub mod protocol;
pub mod server;
pub mod view;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

pub use auth::{AuthLimits, Officers};
pub use client::{ClientError, ClientTls, SessionInfo, SupervisionClient};
pub use server::{SupervisionServer, serve};

use crate::config::ConfigError;

/// The `[supervision]` section: where to listen and the provisioned files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisionConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The CA (PEM) that issued the consoles' certificates (and this kiosk's).
    pub ca_cert: PathBuf,
    /// This kiosk's certificate chain (PEM).
    pub cert: PathBuf,
    /// This kiosk's private key (PEM).
    pub key: PathBuf,
    /// The officers file (see [`auth`]).
    pub officers: PathBuf,
    /// Timeouts and limits.
    pub limits: Limits,
}

/// Timeouts and limits of the supervision server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Login attempt limits.
    pub auth: AuthLimits,
    /// Console connections at once; more are dropped at accept.
    pub max_consoles: usize,
    /// For the TLS handshake.
    pub handshake_timeout: Duration,
    /// From connecting (or logging out) to a successful login.
    pub login_timeout: Duration,
    /// A PIN session's life.
    pub session_ttl: Duration,
    /// Messages queued for one console; a console this far behind is disconnected.
    pub console_queue: usize,
    /// For one write to a console.
    pub write_timeout: Duration,
    /// For handing a command to the lane's input channel.
    pub lane_timeout: Duration,
    /// For a reset's close to take effect before the reopen.
    pub reset_wait: Duration,
    /// Refused commands one connection may send before it is closed.
    pub max_refusals: u32,
}

impl Default for Limits {
    /// The values documented in the module documentation; 10 s handshake,
    /// 256 queued messages, 10 s writes, 2 s to the lane, 5 s reset, 10 refusals.
    fn default() -> Self {
        Self {
            auth: AuthLimits::default(),
            max_consoles: 16,
            handshake_timeout: Duration::from_secs(10),
            login_timeout: Duration::from_secs(30),
            session_ttl: Duration::from_secs(12 * 3600),
            console_queue: 256,
            write_timeout: Duration::from_secs(10),
            lane_timeout: Duration::from_secs(2),
            reset_wait: Duration::from_secs(5),
            max_refusals: 10,
        }
    }
}

/// Why the supervision server cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisionError {
    /// A TLS file is missing, unreadable or unusable.
    #[error("{path}: {problem}")]
    Tls {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The officers file is unusable.
    #[error(transparent)]
    Officers(#[from] auth::AuthError),
}

impl SupervisionConfig {
    /// Reads the `[supervision]` section's table; errors name the key
    /// (`supervision.listen: ...`). Unknown keys are refused.
    ///
    /// # Errors
    /// [`ConfigError::Missing`], [`ConfigError::Unknown`],
    /// [`ConfigError::Type`], [`ConfigError::Invalid`].
    pub fn from_table(table: &toml::Table) -> Result<Self, ConfigError> {
        const KEYS: [&str; 13] = [
            "listen",
            "ca_cert",
            "cert",
            "key",
            "officers",
            "max_consoles",
            "session_ttl_s",
            "login_timeout_s",
            "login_failures_per_connection",
            "lockout_after",
            "lockout_base_s",
            "lockout_max_s",
            "failure_delay_ms",
        ];
        if let Some(k) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(ConfigError::Unknown(key(k)));
        }
        let listen = string(table, "listen")?;
        let listen: SocketAddr = listen.parse().map_err(|_| ConfigError::Invalid {
            key: key("listen"),
            message: format!("must be address:port, got {listen:?}"),
        })?;
        let d = Limits::default();
        let secs = |name: &str, range: RangeInclusive<i64>, default: Duration| {
            Ok::<_, ConfigError>(
                int(table, name, range)?.map_or(default, |v| Duration::from_secs(v.unsigned_abs())),
            )
        };
        let count = |name: &str, range: RangeInclusive<i64>, default: u32| {
            Ok::<_, ConfigError>(
                int(table, name, range)?.map_or(default, |v| u32::try_from(v).unwrap_or(u32::MAX)),
            )
        };
        let auth = AuthLimits {
            per_connection: count(
                "login_failures_per_connection",
                1..=10,
                d.auth.per_connection,
            )?,
            lockout_after: count("lockout_after", 1..=100, d.auth.lockout_after)?,
            lockout_base: secs("lockout_base_s", 1..=3600, d.auth.lockout_base)?,
            lockout_max: secs("lockout_max_s", 1..=86_400, d.auth.lockout_max)?,
            failure_delay: int(table, "failure_delay_ms", 0..=10_000)?
                .map_or(d.auth.failure_delay, |v| {
                    Duration::from_millis(v.unsigned_abs())
                }),
        };
        if auth.lockout_max < auth.lockout_base {
            return Err(ConfigError::Invalid {
                key: key("lockout_max_s"),
                message: "must not be less than lockout_base_s".into(),
            });
        }
        Ok(Self {
            listen,
            ca_cert: path(table, "ca_cert")?,
            cert: path(table, "cert")?,
            key: path(table, "key")?,
            officers: path(table, "officers")?,
            limits: Limits {
                auth,
                max_consoles: count("max_consoles", 1..=256, 16)?.try_into().unwrap_or(16),
                session_ttl: secs("session_ttl_s", 60..=86_400, d.session_ttl)?,
                login_timeout: secs("login_timeout_s", 5..=600, d.login_timeout)?,
                ..d
            },
        })
    }
}

/// The key's full name.
fn key(name: &str) -> String {
    format!("supervision.{name}")
}

/// A required string.
fn string(table: &toml::Table, name: &str) -> Result<String, ConfigError> {
    match table.get(name) {
        None => Err(ConfigError::Missing(key(name))),
        Some(toml::Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ConfigError::Type {
            key: key(name),
            expected: "a string",
        }),
    }
}

/// A required, non-empty path.
fn path(table: &toml::Table, name: &str) -> Result<PathBuf, ConfigError> {
    let s = string(table, name)?;
    if s.is_empty() {
        return Err(ConfigError::Invalid {
            key: key(name),
            message: "must not be empty".into(),
        });
    }
    Ok(PathBuf::from(s))
}

/// An optional integer within `range`.
fn int(
    table: &toml::Table,
    name: &str,
    range: RangeInclusive<i64>,
) -> Result<Option<i64>, ConfigError> {
    match table.get(name) {
        None => Ok(None),
        Some(toml::Value::Integer(v)) if range.contains(v) => Ok(Some(*v)),
        Some(toml::Value::Integer(v)) => Err(ConfigError::Invalid {
            key: key(name),
            message: format!("must be {}..={}, got {v}", range.start(), range.end()),
        }),
        Some(_) => Err(ConfigError::Type {
            key: key(name),
            expected: "an integer",
        }),
    }
}
