//! `kioskctl fleet plan`: one lane configuration per unit of a manifest.
//!
//! The manifest is a CSV whose header names its columns. `site`,
//! `terminal` and `lane` are required; every other column is a
//! configuration key, dotted as for `config set` (`direction`,
//! `devices.reader`, `policy.minor_age`, `sync.endpoint`, ...), with the
//! short names `reader`, `scanner`, `scanner_framing`, `gate` (for
//! `devices.*`) and `unit_id` (for `sync.unit_id`). An empty cell keeps the
//! template's value. When the template has a `[sync]` section and a row
//! gives no unit id, the unit id is `<site>-<terminal>-<lane>`.
//!
//! Each unit's file is the template edited (comments kept) and checked
//! with kiosk-app's validator; nothing is written unless every row passes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};
use kiosk_app::config::Config;
use serde_json::json;
use toml_edit::DocumentMut;

use crate::atomic::{self, Perms};
use crate::config::{EditError, apply, error_key};
use crate::csv;

/// `kioskctl fleet ...`
#[derive(Debug, Subcommand)]
pub(crate) enum FleetAction {
    /// Write a lane configuration for every unit of a CSV manifest.
    ///
    /// One row per unit: site, terminal, lane and any configuration key as a
    /// column (direction, reader, scanner, gate, unit_id, policy.minor_age,
    /// ...; see provisioning/README.md); empty cells keep the template's
    /// value. Writes DIR/<site>-<terminal>-<lane>.toml for each, each checked
    /// as asean-lane checks it. A duplicate unit or an invalid row is
    /// refused naming its line and key (exit 1), and then nothing is written.
    Plan(PlanArgs),
}

/// Options of `kioskctl fleet plan`.
#[derive(Debug, ClapArgs)]
pub(crate) struct PlanArgs {
    /// The lane configuration every unit starts from (comments are kept).
    #[arg(long)]
    pub(crate) template: PathBuf,
    /// Directory for the units' files (created if missing).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Replace units' files that already exist in the directory.
    ///
    /// Without it an existing file is refused before anything is written.
    #[arg(long)]
    pub(crate) force: bool,
    /// Print one JSON object instead of a report.
    #[arg(long)]
    pub(crate) json: bool,
    /// The manifest: a CSV with one row per unit.
    pub(crate) manifest: PathBuf,
}

/// One refused row.
#[derive(Debug)]
struct RowError {
    /// The manifest line, from 1.
    line: usize,
    /// The key at fault, if one is.
    key: Option<String>,
    /// What is wrong.
    message: String,
}

/// One unit's checked configuration, ready to write.
#[derive(Debug)]
struct Unit {
    /// `<site>-<terminal>-<lane>`.
    name: String,
    /// The manifest line.
    line: usize,
    /// Where it goes.
    path: PathBuf,
    /// The file's text.
    text: String,
}

/// Runs `kioskctl fleet plan`: exit 0 when every unit was written, 1 naming the bad rows.
pub(crate) fn plan(opts: &PlanArgs) -> anyhow::Result<ExitCode> {
    let template_text = match std::fs::read_to_string(&opts.template) {
        Ok(t) => t,
        Err(e) => {
            return Ok(fail(
                opts,
                &format!("{}: {e}", opts.template.display()),
                &[],
            ));
        }
    };
    let template: DocumentMut = match template_text.parse() {
        Ok(doc) => doc,
        Err(e) => {
            let message = format!(
                "{}: not valid TOML: {}",
                opts.template.display(),
                e.message()
            );
            return Ok(fail(opts, &message, &[]));
        }
    };
    let bytes = match std::fs::read(&opts.manifest) {
        Ok(b) => b,
        Err(e) => {
            return Ok(fail(
                opts,
                &format!("{}: {e}", opts.manifest.display()),
                &[],
            ));
        }
    };
    let units = match units(opts, &template, &bytes) {
        Ok(units) => units,
        Err(errors) => {
            let message = format!(
                "{}: {} refused, nothing written",
                opts.manifest.display(),
                if errors.len() == 1 {
                    "1 row".to_owned()
                } else {
                    format!("{} rows", errors.len())
                }
            );
            return Ok(fail(opts, &message, &errors));
        }
    };
    if !opts.force
        && let Some(unit) = units.iter().find(|u| u.path.exists())
    {
        let message = format!(
            "{} exists (line {}); --force replaces it; nothing written",
            unit.path.display(),
            unit.line
        );
        return Ok(fail(opts, &message, &[]));
    }
    if let Err(e) = std::fs::create_dir_all(&opts.out) {
        return Ok(fail(opts, &format!("{}: {e}", opts.out.display()), &[]));
    }
    for unit in &units {
        if let Err(e) = atomic::replace(&unit.path, unit.text.as_bytes(), Perms::KeepOr(0o644)) {
            let message = format!("writing {}: {e}", unit.path.display());
            return Ok(fail(opts, &message, &[]));
        }
    }
    if opts.json {
        let list: Vec<_> = units
            .iter()
            .map(
                |u| json!({ "unit": u.name, "line": u.line, "path": u.path.display().to_string() }),
            )
            .collect();
        println!("{}", json!({ "written": units.len(), "units": list }));
    } else {
        for unit in &units {
            println!("{}: {}", unit.name, unit.path.display());
        }
        println!("{} units written to {}", units.len(), opts.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a failure (`{"error", "errors"}` with --json, else on stderr) and gives exit status 1.
fn fail(opts: &PlanArgs, message: &str, errors: &[RowError]) -> ExitCode {
    if opts.json {
        let list: Vec<_> = errors
            .iter()
            .map(|e| json!({ "line": e.line, "key": e.key, "error": e.message }))
            .collect();
        println!("{}", json!({ "error": message, "errors": list }));
    } else {
        eprintln!("kioskctl: {message}");
        for e in errors {
            eprintln!("  line {}: {}", e.line, e.message);
        }
    }
    ExitCode::from(1)
}

/// The manifest's column names as configuration keys.
fn key_of(column: &str) -> &str {
    match column {
        "reader" => "devices.reader",
        "scanner" => "devices.scanner",
        "scanner_framing" => "devices.scanner_framing",
        "gate" => "devices.gate",
        "unit_id" => "sync.unit_id",
        other => other,
    }
}

/// Every unit of the manifest, each checked; or every refused row.
///
/// # Errors
/// Each row that cannot be made a valid, unique unit.
fn units(
    opts: &PlanArgs,
    template: &DocumentMut,
    bytes: &[u8],
) -> Result<Vec<Unit>, Vec<RowError>> {
    let one = |line, key: Option<&str>, message: String| {
        vec![RowError {
            line,
            key: key.map(str::to_owned),
            message,
        }]
    };
    let text = csv::decode(bytes).map_err(|e| one(e.line, None, e.what.to_owned()))?;
    let mut records = csv::records(text);
    let header = match records.next() {
        None => {
            return Err(one(
                1,
                None,
                "the manifest is empty: a header line is needed".into(),
            ));
        }
        Some(Err(e)) => return Err(one(e.line, None, e.what.to_owned())),
        Some(Ok(h)) => h,
    };
    let columns = csv::header(&header).map_err(|m| one(header.line, None, m))?;
    let keys: Vec<String> = columns.iter().map(|c| key_of(c).to_owned()).collect();
    for required in ["site", "terminal", "lane"] {
        if !keys.iter().any(|k| k == required) {
            return Err(one(
                header.line,
                Some(required),
                format!("header: the {required} column is required"),
            ));
        }
    }
    if let Some(dup) = keys
        .iter()
        .enumerate()
        .find(|(i, k)| keys.iter().skip(i + 1).any(|other| other == *k))
    {
        return Err(one(
            header.line,
            Some(dup.1),
            format!("header: {} is given by two columns", dup.1),
        ));
    }
    let template_syncs = template
        .get("sync")
        .is_some_and(toml_edit::Item::is_table_like);

    let mut units = Vec::new();
    let mut errors = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut unit_ids: BTreeMap<String, usize> = BTreeMap::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    line: e.line,
                    key: None,
                    message: e.what.to_owned(),
                });
                break;
            }
        };
        let line = record.line;
        let mut push = |key: Option<&str>, message: String| {
            errors.push(RowError {
                line,
                key: key.map(str::to_owned),
                message,
            });
        };
        if record.fields.len() != keys.len() {
            push(
                None,
                format!(
                    "{} fields, the header has {}",
                    record.fields.len(),
                    keys.len()
                ),
            );
            continue;
        }
        let mut pairs: Vec<(&str, &str)> = keys
            .iter()
            .zip(&record.fields)
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let cell = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let mut bad_name = None;
        for key in ["site", "terminal", "lane"] {
            match cell(key) {
                None => bad_name = Some((key, "is empty".to_owned())),
                Some(v) if !file_name_safe(v) => {
                    bad_name = Some((
                        key,
                        "must be letters, digits, '.', '_' or '-' (it names the file)".to_owned(),
                    ));
                }
                Some(_) => {}
            }
            if bad_name.is_some() {
                break;
            }
        }
        if let Some((key, message)) = bad_name {
            push(Some(key), format!("{key}: {message}"));
            continue;
        }
        let name = format!(
            "{}-{}-{}",
            cell("site").unwrap_or(""),
            cell("terminal").unwrap_or(""),
            cell("lane").unwrap_or("")
        );
        if let Some(first) = seen.get(&name) {
            push(
                Some("lane"),
                format!("site, terminal and lane {name} are already on line {first}"),
            );
            continue;
        }
        seen.insert(name.clone(), line);
        if template_syncs && cell("sync.unit_id").is_none() {
            pairs.push(("sync.unit_id", name.as_str()));
        }
        let (doc, config) = match apply(template.clone(), &pairs) {
            Ok(done) => done,
            Err(EditError::Key { key, message }) => {
                push(Some(&key), format!("{key}: {message}"));
                continue;
            }
            Err(EditError::Config(err)) => {
                push(error_key(&err), err.to_string());
                continue;
            }
        };
        if let Some(sync) = &config.sync {
            if let Some(first) = unit_ids.get(&sync.worker.unit_id) {
                push(
                    Some("sync.unit_id"),
                    format!("sync.unit_id: the same as line {first}'s"),
                );
                continue;
            }
            unit_ids.insert(sync.worker.unit_id.clone(), line);
        }
        let text = format!(
            "# {name}: written by kioskctl fleet plan from {} line {line}\n{doc}",
            opts.manifest.display()
        );
        // What is written is what asean-lane will load.
        if let Err(err) = Config::from_toml_str(&text) {
            push(error_key(&err), err.to_string());
            continue;
        }
        units.push(Unit {
            path: opts.out.join(format!("{name}.toml")),
            name,
            line,
            text,
        });
    }
    if errors.is_empty() {
        Ok(units)
    } else {
        Err(errors)
    }
}

/// Whether a site, terminal or lane can be part of a file name as it is.
fn file_name_safe(value: &str) -> bool {
    !value.starts_with('.')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_in_the_directory() {
        assert!(file_name_safe("KUL"));
        assert!(file_name_safe("T1.a_b-c"));
        assert!(!file_name_safe(".."));
        assert!(!file_name_safe("a/b"));
        assert!(!file_name_safe("a b"));
    }

    #[test]
    fn short_column_names() {
        assert_eq!(key_of("reader"), "devices.reader");
        assert_eq!(key_of("gate"), "devices.gate");
        assert_eq!(key_of("unit_id"), "sync.unit_id");
        assert_eq!(key_of("policy.minor_age"), "policy.minor_age");
    }
}
