//! `kioskctl trust import` and `kioskctl trust list`: the unit's trust store.

use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use icao9303::pa::{CertInfo, TrustStore};
use serde::Serialize;
use trust_store::{Listing, TrustDir};

use crate::cli::{TrustImportArgs, TrustListArgs, TrustRemoveArgs};
use crate::progress::{Progress, bar};

/// An import this large (all files together) shows progress on a terminal.
const LARGE_IMPORT_BYTES: u64 = 256 * 1024;
/// An import of this many files shows progress on a terminal.
const LARGE_IMPORT_FILES: usize = 100;

/// One imported file as `--json` prints it.
#[derive(Debug, Serialize)]
struct ImportJson {
    file: String,
    kind: Option<String>,
    already_present: bool,
    cscas: Vec<CertJson>,
    error: Option<String>,
}

/// A CSCA certificate as `--json` prints it.
#[derive(Debug, Serialize)]
struct CertJson {
    country: Option<String>,
    subject: String,
    not_before: String,
    not_after: String,
    sha256: String,
}

/// Runs `kioskctl trust import`: every file is tried; exit 1 if any was refused.
///
/// A large import (many files, or big master lists) shows a progress bar on
/// stderr when stderr is a terminal and `--json` is not given; the text
/// report ends with one summary line.
pub(crate) fn import(opts: &TrustImportArgs) -> anyhow::Result<ExitCode> {
    let dir = TrustDir::open(&opts.store)
        .with_context(|| format!("opening the trust store {}", opts.store.display()))?;
    let sizes: Vec<u64> = opts
        .files
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .collect();
    let total: u64 = sizes.iter().sum();
    let large = total >= LARGE_IMPORT_BYTES || opts.files.len() >= LARGE_IMPORT_FILES;
    // A line per tenth of the bytes.
    let mut progress = if opts.json || !large {
        Progress::new("trust import", total.div_ceil(10), false)
    } else {
        Progress::on_terminal("trust import", total.div_ceil(10))
    };
    let mut done: u64 = 0;
    let mut results = Vec::with_capacity(opts.files.len());
    for (i, (path, size)) in opts.files.iter().zip(&sizes).enumerate() {
        let name = path.display().to_string();
        let outcome = std::fs::read(path)
            .with_context(|| format!("reading {name}"))
            .and_then(|bytes| dir.import(&name, &bytes).map_err(anyhow::Error::from));
        results.push(match outcome {
            Ok(imported) => ImportJson {
                file: name,
                kind: Some(imported.kind.to_string()),
                already_present: imported.already_present,
                cscas: imported.cscas.iter().map(cert_json).collect(),
                error: None,
            },
            Err(err) => ImportJson {
                file: name,
                kind: None,
                already_present: false,
                cscas: Vec::new(),
                error: Some(crate::error_chain(&err)),
            },
        });
        done += size;
        let files = opts.files.len();
        progress.update(done, || {
            format!(
                "{} {}/{files} files, {} of {}",
                bar(done, total, 20),
                i + 1,
                size_text(done),
                size_text(total)
            )
        });
    }
    progress.finish(|| format!("{} files checked", opts.files.len()));
    let refused = results.iter().filter(|r| r.error.is_some()).count();
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        for r in &results {
            match (&r.error, &r.kind) {
                (Some(err), _) => eprintln!("refused  {err}"),
                (None, Some(kind)) => {
                    let state = if r.already_present {
                        "present "
                    } else {
                        "imported"
                    };
                    println!("{state} {} ({kind}, {} CSCA)", r.file, r.cscas.len());
                }
                (None, None) => {}
            }
        }
        println!("{}", summary(&results));
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The report's last line: `3 files: 2 imported, 1 already present, 0 refused; 41 CSCA certificates`.
fn summary(results: &[ImportJson]) -> String {
    let refused = results.iter().filter(|r| r.error.is_some()).count();
    let present = results
        .iter()
        .filter(|r| r.error.is_none() && r.already_present)
        .count();
    let imported = results.len() - refused - present;
    let cscas: usize = results.iter().map(|r| r.cscas.len()).sum();
    format!(
        "{} files: {imported} imported, {present} already present, {refused} refused; \
         {cscas} CSCA certificates",
        results.len()
    )
}

/// A byte count for a person: `812 KiB`, `3.4 MiB`.
fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// Runs `kioskctl trust list`.
pub(crate) fn list(opts: &TrustListArgs) -> anyhow::Result<ExitCode> {
    let dir = TrustDir::open(&opts.store)
        .with_context(|| format!("opening the trust store {}", opts.store.display()))?;
    let listing = dir.list().context("listing the trust store")?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&listing_json(&listing))?);
    } else {
        print_listing(&listing);
    }
    Ok(if listing.warnings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs `kioskctl trust remove`: exit 1 when the fingerprint matched nothing.
pub(crate) fn remove(opts: &TrustRemoveArgs) -> anyhow::Result<ExitCode> {
    let dir = TrustDir::open(&opts.store)
        .with_context(|| format!("opening the trust store {}", opts.store.display()))?;
    let removed = dir.remove(&opts.fingerprint)?;
    println!("removed {removed} file(s) matching {}", opts.fingerprint);
    Ok(if removed == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Loads the trust store at `path` for a check; each unusable file is reported on stderr.
pub(crate) fn load(path: &Path) -> anyhow::Result<TrustStore> {
    let dir = TrustDir::open(path)
        .with_context(|| format!("opening the trust store {}", path.display()))?;
    let (store, warnings) = dir.load().context("loading the trust store")?;
    for w in warnings {
        eprintln!("trust store: {w}");
    }
    Ok(store)
}

fn listing_json(l: &Listing) -> serde_json::Value {
    serde_json::json!({
        "cscas": l.cscas.iter().map(|c| {
            let mut v = serde_json::to_value(cert_json(&c.info)).unwrap_or_default();
            v["file"] = c.file.display().to_string().into();
            v
        }).collect::<Vec<_>>(),
        "crls": l.crls.iter().map(|c| serde_json::json!({
            "issuer": c.info.issuer,
            "country": c.info.country,
            "this_update": date(c.info.this_update),
            "next_update": c.info.next_update.map(date),
            "revoked": c.info.revoked,
            "verified": !c.info.verified_by.is_empty(),
            "file": c.file.display().to_string(),
        })).collect::<Vec<_>>(),
        "master_lists": l.master_lists.iter().map(|m| serde_json::json!({
            "file": m.file.display().to_string(),
            "signer": m.signer.as_ref().map(|s| s.subject.clone()),
            "signature_verified": m.signature_verified,
            "signer_trusted": m.signer_trusted,
            "certificates": m.certificates,
        })).collect::<Vec<_>>(),
        "warnings": l.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

fn print_listing(l: &Listing) {
    println!(
        "{:<8} {:<11} {:<11} {:<16} subject",
        "country", "valid from", "valid to", "sha256"
    );
    for c in &l.cscas {
        let j = cert_json(&c.info);
        println!(
            "{:<8} {:<11} {:<11} {:<16} {}",
            j.country.as_deref().unwrap_or("?"),
            j.not_before,
            j.not_after,
            &j.sha256[..16],
            j.subject
        );
    }
    println!(
        "{} CSCA certificates, {} CRLs, {} master lists",
        l.cscas.len(),
        l.crls.len(),
        l.master_lists.len()
    );
    for c in &l.crls {
        println!(
            "CRL      {} issued {}, next {}, {} revoked{}",
            c.info.issuer,
            date(c.info.this_update),
            c.info.next_update.map_or_else(|| "-".into(), date),
            c.info.revoked,
            if c.info.verified_by.is_empty() {
                " (NOT VERIFIED)"
            } else {
                ""
            }
        );
    }
    for m in &l.master_lists {
        println!(
            "ML       {} ({} certificates, signature {}, signer {})",
            m.file.display(),
            m.certificates,
            if m.signature_verified {
                "verified"
            } else {
                "NOT verified"
            },
            if m.signer_trusted {
                "trusted"
            } else {
                "not chained to a CSCA"
            }
        );
    }
    for w in &l.warnings {
        eprintln!("warning  {w}");
    }
}

fn cert_json(c: &CertInfo) -> CertJson {
    CertJson {
        country: c.country.clone(),
        subject: c.subject.clone(),
        not_before: date(c.not_before),
        not_after: date(c.not_after),
        sha256: hex_lower(&c.sha256),
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A time as YYYY-MM-DD (UTC), by the civil-from-days algorithm.
pub(crate) fn date(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(date(UNIX_EPOCH), "1970-01-01");
        assert_eq!(
            date(UNIX_EPOCH + Duration::from_secs(1_704_067_200)),
            "2024-01-01"
        );
        assert_eq!(
            date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29"
        );
        assert_eq!(date(UNIX_EPOCH - Duration::from_secs(86_400)), "1969-12-31");
    }
}
