//! `kioskctl config show|validate|set`: the lane's TOML configuration.
//!
//! Every check is kiosk-app's own ([`kiosk_app::config::Config`]): what
//! `validate` accepts is exactly what `asean-lane` starts with. `set` edits
//! the file with `toml_edit`, so comments and layout stay, checks the whole
//! result before writing, and replaces the file atomically.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};
use kiosk_app::config::{Config, ConfigError};
use serde_json::{Value as Json, json};
use toml_edit::{DocumentMut, Item, Table, Value};

use crate::atomic::{self, Perms};

/// Where the lane's configuration is unless told otherwise.
pub(crate) const DEFAULT_CONFIG: &str = "/etc/asean-lane/lane.toml";

/// `kioskctl config ...`
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigAction {
    /// Print the effective configuration: every key, defaults filled in.
    ///
    /// Printed as TOML (a file `asean-lane` would accept) or, with --json,
    /// as one JSON object. Paths to keys are shown; key files are never
    /// read, and a user:password in the sync endpoint is replaced by ***.
    /// Exit status 1 naming the key when the file is not valid.
    Show(ShowArgs),
    /// Check the configuration exactly as asean-lane does at start.
    ///
    /// Exit status 0 when it is valid; 1 with the error naming the key
    /// (missing, unknown, wrong type or out of range).
    Validate(ValidateArgs),
    /// Change keys: `set policy.minor_age 16 devices.reader "ACS ACR122U"`.
    ///
    /// KEY is dotted (section.key). VALUE is read as TOML when it is one
    /// (true, 16, 0.8, "text") and as text otherwise; a key that holds text
    /// always gets text. Comments and layout are kept. The whole result is
    /// checked first: an invalid value is refused naming the key (exit 1)
    /// and the file is left exactly as it was. The file is replaced
    /// atomically (temporary file, fsync, rename).
    Set(SetArgs),
}

/// Options of `kioskctl config show`.
#[derive(Debug, ClapArgs)]
pub(crate) struct ShowArgs {
    /// The lane's configuration file.
    #[arg(long, default_value = DEFAULT_CONFIG)]
    pub(crate) config: PathBuf,
    /// Print one JSON object instead of TOML.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Options of `kioskctl config validate`.
#[derive(Debug, ClapArgs)]
pub(crate) struct ValidateArgs {
    /// The lane's configuration file.
    #[arg(long, default_value = DEFAULT_CONFIG)]
    pub(crate) config: PathBuf,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Options of `kioskctl config set`.
#[derive(Debug, ClapArgs)]
pub(crate) struct SetArgs {
    /// The lane's configuration file.
    #[arg(long, default_value = DEFAULT_CONFIG)]
    pub(crate) config: PathBuf,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    pub(crate) json: bool,
    /// KEY VALUE pairs, e.g. `policy.minor_age 16 devices.reader "ACS ACR122U"`.
    #[arg(
        required = true,
        num_args = 2..,
        value_names = ["KEY", "VALUE"],
        allow_hyphen_values = true
    )]
    pub(crate) pairs: Vec<String>,
}

/// The key a configuration error names, if it names one.
pub(crate) fn error_key(err: &ConfigError) -> Option<&str> {
    match err {
        ConfigError::Missing(key) | ConfigError::Unknown(key) => Some(key),
        ConfigError::Type { key, .. } | ConfigError::Invalid { key, .. } => Some(key),
        _ => None,
    }
}

/// Prints a failure (`{"error", "key"}` with --json, else on stderr) and gives exit status 1.
fn fail(json: bool, key: Option<&str>, message: &str) -> ExitCode {
    if json {
        println!("{}", json!({ "error": message, "key": key }));
    } else {
        eprintln!("kioskctl: {message}");
    }
    ExitCode::from(1)
}

/// Prints a configuration error naming its key and gives exit status 1.
fn fail_config(json: bool, path: &Path, err: &ConfigError) -> ExitCode {
    let message = match err {
        ConfigError::Io { .. } => err.to_string(),
        _ => format!("{}: {err}", path.display()),
    };
    fail(json, error_key(err), &message)
}

/// Runs `kioskctl config validate`: exit 0 when valid, 1 naming the key.
pub(crate) fn validate(opts: &ValidateArgs) -> anyhow::Result<ExitCode> {
    match Config::load(&opts.config) {
        Ok(_) => {
            if opts.json {
                println!(
                    "{}",
                    json!({ "valid": true, "config": opts.config.display().to_string() })
                );
            } else {
                println!("{}: valid", opts.config.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => Ok(fail_config(opts.json, &opts.config, &err)),
    }
}

/// Runs `kioskctl config show`: the effective configuration, no key material.
pub(crate) fn show(opts: &ShowArgs) -> anyhow::Result<ExitCode> {
    let config = match Config::load(&opts.config) {
        Ok(config) => config,
        Err(err) => return Ok(fail_config(opts.json, &opts.config, &err)),
    };
    let effective = effective(&config);
    if opts.json {
        println!("{effective}");
    } else {
        println!(
            "# {}: the effective configuration (defaults filled in, no key material)",
            opts.config.display()
        );
        print!("{}", to_toml(&effective));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `kioskctl config set`: check the edited file whole, then replace it atomically.
pub(crate) fn set(opts: &SetArgs) -> anyhow::Result<ExitCode> {
    let pairs = pairs(&opts.pairs)?;
    let text = match std::fs::read_to_string(&opts.config) {
        Ok(text) => text,
        Err(e) => {
            let message = format!("{}: {e}", opts.config.display());
            return Ok(fail(opts.json, None, &message));
        }
    };
    let doc: DocumentMut = match text.parse() {
        Ok(doc) => doc,
        Err(e) => {
            let message = format!("{}: not valid TOML: {}", opts.config.display(), e.message());
            return Ok(fail(opts.json, None, &message));
        }
    };
    let edited = match apply(doc, &pairs) {
        Ok((doc, _)) => doc.to_string(),
        Err(EditError::Key { key, message }) => {
            let message = format!("{}: {key}: {message}", opts.config.display());
            return Ok(fail(opts.json, Some(&key), &message));
        }
        Err(EditError::Config(err)) => return Ok(fail_config(opts.json, &opts.config, &err)),
    };
    if edited == text {
        report_set(opts, &pairs, false);
        return Ok(ExitCode::SUCCESS);
    }
    if let Err(e) = atomic::replace(&opts.config, edited.as_bytes(), Perms::KeepOr(0o644)) {
        let message = format!("writing {}: {e}", opts.config.display());
        return Ok(fail(opts.json, None, &message));
    }
    report_set(opts, &pairs, true);
    Ok(ExitCode::SUCCESS)
}

/// Prints what `config set` did.
fn report_set(opts: &SetArgs, pairs: &[(&str, &str)], changed: bool) {
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
    if opts.json {
        println!(
            "{}",
            json!({ "config": opts.config.display().to_string(), "keys": keys, "changed": changed })
        );
    } else if changed {
        println!("{}: set {}", opts.config.display(), keys.join(", "));
    } else {
        println!(
            "{}: unchanged (already {})",
            opts.config.display(),
            keys.join(", ")
        );
    }
}

/// KEY VALUE pairs from the command line.
///
/// # Errors
/// When the arguments are not pairs (a usage error: exit status 2).
fn pairs(args: &[String]) -> anyhow::Result<Vec<(&str, &str)>> {
    if !args.len().is_multiple_of(2) {
        anyhow::bail!(
            "config set takes KEY VALUE pairs; {:?} has no value",
            args.last().map_or("", String::as_str)
        );
    }
    Ok(args
        .chunks_exact(2)
        .filter_map(|pair| match pair {
            [k, v] => Some((k.as_str(), v.as_str())),
            _ => None,
        })
        .collect())
}

/// Why an edit was refused.
#[derive(Debug)]
pub(crate) enum EditError {
    /// A key that cannot be set as asked (not a table on the way, a table itself).
    Key {
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The edited configuration is not valid: kiosk-app's error, naming the key.
    Config(ConfigError),
}

/// Sets every pair in `doc` and checks the result with kiosk-app's validator.
///
/// A value that is TOML but not text, for a key the validator wants text
/// for (`sync.unit_id 1234`), is set again as text.
///
/// # Errors
/// [`EditError`] naming the key; `doc` is consumed either way.
pub(crate) fn apply(
    mut doc: DocumentMut,
    pairs: &[(&str, &str)],
) -> Result<(DocumentMut, Config), EditError> {
    let mut as_text: Vec<&str> = Vec::new();
    for (key, raw) in pairs {
        set_key(&mut doc, key, raw, false)?;
    }
    loop {
        match Config::from_toml_str(&doc.to_string()) {
            Ok(config) => return Ok((doc, config)),
            Err(ConfigError::Type {
                key,
                expected: "a string",
            }) if !as_text.contains(&key.as_str()) => {
                let Some((k, raw)) = pairs.iter().rev().find(|(k, _)| *k == key) else {
                    return Err(EditError::Config(ConfigError::Type {
                        key,
                        expected: "a string",
                    }));
                };
                set_key(&mut doc, k, raw, true)?;
                as_text.push(k);
            }
            Err(err) => return Err(EditError::Config(err)),
        }
    }
}

/// Sets one dotted key, creating the tables on the way and keeping the old value's comments.
///
/// # Errors
/// [`EditError::Key`] when the key is malformed, a part of it is not a
/// table, or it names a table.
pub(crate) fn set_key(
    doc: &mut DocumentMut,
    key: &str,
    raw: &str,
    force_text: bool,
) -> Result<(), EditError> {
    let bad = |message: &str| EditError::Key {
        key: key.to_owned(),
        message: message.to_owned(),
    };
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.trim().is_empty() || *p != p.trim()) {
        return Err(bad("is not a dotted key (section.key)"));
    }
    let Some((last, sections)) = parts.split_last() else {
        return Err(bad("is empty"));
    };
    let mut table = doc.as_table_mut() as &mut dyn toml_edit::TableLike;
    for (i, part) in sections.iter().enumerate() {
        if table.get(part).is_none() {
            let mut new = Table::new();
            new.set_implicit(i + 1 < sections.len());
            table.insert(part, Item::Table(new));
        }
        table = match table.get_mut(part).and_then(Item::as_table_like_mut) {
            Some(t) => t,
            None => {
                let prefix = parts.get(..=i).unwrap_or_default().join(".");
                return Err(bad(&format!("{prefix} is a value, not a section")));
            }
        };
    }
    let old = table.get(last);
    if old.is_some_and(|item| item.is_table_like()) {
        return Err(bad("is a section: give one of its keys"));
    }
    let old_value = old.and_then(Item::as_value);
    let mut value = parse_value(raw, force_text || old_value.is_some_and(Value::is_str));
    if let Some(old) = old_value {
        *value.decor_mut() = old.decor().clone();
    }
    // In place when the key exists: the key keeps its comments (a file's
    // leading comment belongs to its first key).
    match table.get_mut(last) {
        Some(item) => *item = Item::Value(value),
        None => {
            table.insert(last, Item::Value(value));
        }
    }
    Ok(())
}

/// A command-line VALUE as TOML: a TOML value when it is one, else text.
fn parse_value(raw: &str, text: bool) -> Value {
    if !text && let Ok(value) = raw.trim().parse::<Value>() {
        let mut value = value;
        value.decor_mut().clear();
        return value;
    }
    Value::from(raw)
}

/// The effective configuration as JSON: every key as the TOML file names it, defaults filled in.
///
/// Only paths to key files appear, never their content; a user:password
/// in the sync endpoint is replaced by `***`.
pub(crate) fn effective(c: &Config) -> Json {
    let secs = |d: std::time::Duration| d.as_secs();
    let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let direction = match c.direction {
        kiosk_app::policy::Direction::Arrival => "arrival",
        kiosk_app::policy::Direction::Departure => "departure",
    };
    let framing = match c.devices.scanner_framing {
        kiosk_app::config::ScannerFraming::Lines => "lines",
        kiosk_app::config::ScannerFraming::StxEtx => "stx-etx",
    };
    let p = &c.policy;
    let biometrics = match c.biometrics {
        None => json!({ "required": false }),
        Some(b) => json!({
            "required": true,
            // Through its shortest text: 0.8, not 0.800000011920929.
            "threshold": b.threshold.to_string().parse::<f64>().unwrap_or(f64::from(b.threshold)),
            "max_tries": b.max_tries,
        }),
    };
    let t = c.timeouts;
    let sync = c.sync.as_ref().map(|s| {
        json!({
            "endpoint": redact_endpoint(&s.worker.endpoint),
            "unit_id": s.worker.unit_id,
            "ca": s.worker.tls.ca,
            "cert": s.worker.tls.cert,
            "key": s.worker.tls.key,
            "retention_days": s.worker.retention.map(|r| secs(r) / 86_400),
            "alert_backlog": s.alert_backlog,
            "alert_age_minutes": secs(s.alert_age) / 60,
        })
    });
    let supervision = c.supervision.as_ref().map(|s| {
        let l = s.limits;
        json!({
            "listen": s.listen.to_string(),
            "ca_cert": s.ca_cert,
            "cert": s.cert,
            "key": s.key,
            "officers": s.officers,
            "max_consoles": l.max_consoles,
            "session_ttl_s": secs(l.session_ttl),
            "login_timeout_s": secs(l.login_timeout),
            "login_failures_per_connection": l.auth.per_connection,
            "lockout_after": l.auth.lockout_after,
            "lockout_base_s": secs(l.auth.lockout_base),
            "lockout_max_s": secs(l.auth.lockout_max),
            "failure_delay_ms": millis(l.auth.failure_delay),
        })
    });
    json!({
        "site": c.site,
        "terminal": c.terminal,
        "lane": c.lane,
        "direction": direction,
        "store": c.store,
        "trust_store": c.trust_store,
        "signing_key": c.signing_key,
        "store_min_free_mb": c.store_min_free_bytes / (1024 * 1024),
        "devices": {
            "reader": c.devices.reader,
            "scanner": c.devices.scanner,
            "scanner_framing": framing,
            "gate": c.devices.gate,
        },
        "policy": {
            "asean_only": p.asean_only,
            "min_validity_days": p.min_validity_days,
            "minor_age": p.minor_age,
            "passback_minutes": p.passback_minutes,
            "default_stay_days": p.default_stay_days,
            "watch_list": c.watch_list,
            "stay_days": p.stay_days,
        },
        "biometrics": biometrics,
        "timeouts": {
            "document_ms": millis(t.document),
            "chip_ms": millis(t.chip),
            "face_ms": millis(t.face),
            "walk_away_ms": millis(t.walk_away),
            "processing_ms": millis(t.processing),
        },
        "retries": { "document": c.document_retries, "chip": c.chip_retries },
        "sync": sync,
        "supervision": supervision,
    })
}

/// `https://user:pass@host` as `https://***@host`; other endpoints as they are.
fn redact_endpoint(endpoint: &str) -> String {
    match endpoint.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => endpoint.to_owned(),
        },
        None => endpoint.to_owned(),
    }
}

/// A JSON object as a TOML document (nulls left out: a key not set).
fn to_toml(json: &Json) -> String {
    let mut doc = DocumentMut::new();
    if let Json::Object(map) = json {
        fill_table(doc.as_table_mut(), map);
    }
    doc.to_string()
}

/// Fills `table` from a JSON object: objects become sections, the rest values.
fn fill_table(table: &mut Table, map: &serde_json::Map<String, Json>) {
    // Plain keys first, then sections, as a person writes the file.
    for (key, value) in map {
        if let Some(v) = toml_value(value) {
            table.insert(key, Item::Value(v));
        }
    }
    for (key, value) in map {
        if let Json::Object(inner) = value {
            let mut sub = Table::new();
            fill_table(&mut sub, inner);
            table.insert(key, Item::Table(sub));
        }
    }
}

/// A JSON scalar or array as a TOML value; `None` for null and objects.
fn toml_value(json: &Json) -> Option<Value> {
    match json {
        Json::Null | Json::Object(_) => None,
        Json::Bool(b) => Some(Value::from(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Some(Value::from(i)),
            None => n.as_f64().map(Value::from),
        },
        Json::String(s) => Some(Value::from(s.as_str())),
        Json::Array(items) => Some(Value::Array(items.iter().filter_map(toml_value).collect())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn endpoint_userinfo_is_redacted() {
        assert_eq!(redact_endpoint("https://u:p@h:1"), "https://***@h:1");
        assert_eq!(redact_endpoint("https://h:1"), "https://h:1");
    }

    #[test]
    fn set_key_keeps_comments_and_refuses_sections() {
        let mut doc: DocumentMut = "a = 1 # one\n[s]\nb = \"x\" # text\n".parse().unwrap();
        set_key(&mut doc, "a", "2", false).unwrap();
        set_key(&mut doc, "s.b", "7", false).unwrap();
        set_key(&mut doc, "s.t.u", "true", false).unwrap();
        let text = doc.to_string();
        assert!(text.contains("a = 2 # one"), "{text}");
        assert!(text.contains("b = \"7\" # text"), "{text}");
        assert!(text.contains("u = true"), "{text}");
        assert!(matches!(
            set_key(&mut doc, "s", "1", false),
            Err(EditError::Key { .. })
        ));
        assert!(matches!(
            set_key(&mut doc, "a.b", "1", false),
            Err(EditError::Key { .. })
        ));
        assert!(matches!(
            set_key(&mut doc, "a..b", "1", false),
            Err(EditError::Key { .. })
        ));
    }
}
