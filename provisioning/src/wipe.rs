//! `kioskctl wipe`: decommission a unit by destroying its keys.
//!
//! Refused while the passage store holds records or audit entries the
//! central system has not acknowledged, unless `--force --reason TEXT`; then
//! an audit entry `unit_wiped` (reason, time, unsynced counts) is signed
//! into the store with the unit's key before any key is destroyed.
//!
//! Destroyed: the private keys (`record-signing.key`, `unit.key`,
//! `supervision.key`), each overwritten with zeros, fsynced, then unlinked.
//! Removed: the certificate and CSR that named those keys. Kept: the
//! record-signing public key and the CA certificates, so the store can
//! still be verified (`kioskctl store verify`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kiosk_app::appliance::read_signing_key;
use kiosk_app::store::{AuditEntry, Store, StoreConfig, outbox_status};

use crate::cli::WipeArgs;
use crate::identity::{RECORD_KEY, TLS_CERT, TLS_CSR, TLS_KEY, problem};

/// Private keys: overwritten with zeros, fsynced, unlinked.
const KEY_FILES: [&str; 3] = [RECORD_KEY, TLS_KEY, "supervision.key"];
/// Public files naming those keys: unlinked.
const PUBLIC_FILES: [&str; 3] = [TLS_CERT, TLS_CSR, "supervision.pem"];

/// The audit action recorded by a forced wipe.
pub(crate) const WIPE_ACTION: &str = "unit_wiped";

/// Runs `kioskctl wipe`: exit 0 when the keys are destroyed, 1 when refused
/// (backlog without `--force`, no identity, store unreadable) or a key could not be destroyed.
pub(crate) fn wipe(opts: &WipeArgs) -> anyhow::Result<ExitCode> {
    let fail = |msg: String| Ok(problem(opts.json, "wipe", &msg));
    let dir = &opts.dir;
    let keys: Vec<PathBuf> = present(dir, &KEY_FILES);
    if keys.is_empty() {
        return fail(format!(
            "{} holds no key ({}); nothing was destroyed",
            dir.display(),
            KEY_FILES.join(", ")
        ));
    }
    let status = match outbox_status(&opts.store) {
        Ok(s) => s,
        Err(e) => {
            return fail(format!(
                "cannot read the store {} to check for unsynced records: {e}; nothing was destroyed",
                opts.store.display()
            ));
        }
    };
    let (records, audits) = (status.backlog, status.audit_backlog);
    let unsynced = records + audits;
    let mut audit_id = None;
    match (&opts.reason, unsynced) {
        (None, 0) => {}
        (None, _) => {
            return fail(format!(
                "{records} passage record(s) and {audits} audit entry(ies) in {} have not reached \
                 the central system; let the unit sync (`kioskctl store status`), or destroy \
                 them with `--force --reason \"...\"`; nothing was destroyed",
                opts.store.display()
            ));
        }
        (Some(reason), _) => match record_wipe(opts, reason, records, audits) {
            Ok(id) => audit_id = Some(id),
            Err(msg) => return fail(format!("{msg}; nothing was destroyed")),
        },
    }
    let mut destroyed = Vec::new();
    let mut errors = Vec::new();
    for key in keys {
        match destroy(&key) {
            Ok(()) => destroyed.push(key),
            Err(e) => errors.push(format!("{}: {e}", key.display())),
        }
    }
    let mut removed = Vec::new();
    for file in present(dir, &PUBLIC_FILES) {
        match fs::remove_file(&file) {
            Ok(()) => removed.push(file),
            Err(e) => errors.push(format!("{}: {e}", file.display())),
        }
    }
    let _ = File::open(dir).and_then(|d| d.sync_all());
    let paths = |v: &[PathBuf]| {
        v.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
    };
    if opts.json {
        let mut json = serde_json::json!({
            "destroyed": paths(&destroyed),
            "removed": paths(&removed),
            "unsynced_records": records,
            "unsynced_audit_entries": audits,
            "forced": opts.force,
            "audit_id": audit_id,
        });
        if !errors.is_empty() {
            json["error"] = format!("not destroyed: {}", errors.join("; ")).into();
        }
        println!("{json}");
    } else {
        if let Some(id) = audit_id {
            println!(
                "recorded in {} (audit entry {id}): wiped with {records} unsynced record(s) \
                 and {audits} unsynced audit entry(ies)",
                opts.store.display()
            );
        }
        for p in &destroyed {
            println!(
                "destroyed {} (overwritten with zeros, then removed)",
                p.display()
            );
        }
        for p in &removed {
            println!("removed {}", p.display());
        }
        for e in &errors {
            eprintln!("kioskctl wipe: not destroyed: {e}");
        }
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The files of `names` present in `dir` (as regular files or anything else).
fn present(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| fs::symlink_metadata(p).is_ok())
        .collect()
}

/// Signs the `unit_wiped` audit entry into the store; its row id.
fn record_wipe(opts: &WipeArgs, reason: &str, records: u64, audits: u64) -> Result<i64, String> {
    let key_path = opts.dir.join(RECORD_KEY);
    let key = read_signing_key(&key_path)
        .map_err(|e| format!("cannot sign the wipe into the store: {e}"))?;
    let store = Store::open(&opts.store, &StoreConfig::new(key))
        .map_err(|e| format!("cannot open the store {}: {e}", opts.store.display()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let entry = AuditEntry {
        officer_id: "kioskctl".to_owned(),
        time_unix_ms: now,
        lane: unit_id(&opts.dir).unwrap_or_default(),
        action: WIPE_ACTION.to_owned(),
        record_id: None,
        reason: format!(
            "{reason} (forced wipe; unsynced: {records} passage record(s), {audits} audit entry(ies))"
        ),
    };
    store
        .append_audit(&entry)
        .map_err(|e| format!("cannot record the wipe in {}: {e}", opts.store.display()))
}

/// The unit id: the CN of `unit.csr`.
fn unit_id(dir: &Path) -> Option<String> {
    use der::DecodePem;
    let bytes = fs::read(dir.join(TLS_CSR)).ok()?;
    let csr = x509_cert::request::CertReq::from_pem(&bytes).ok()?;
    csr.info
        .subject
        .common_name()
        .ok()
        .flatten()
        .map(|cn| cn.value().into_owned())
}

/// Overwrites a regular file with zeros, fsyncs it, unlinks it.
///
/// A symbolic link or other non-regular file is unlinked without writing through it.
fn destroy(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.file_type().is_file() {
        let mut file = OpenOptions::new().write(true).open(path)?;
        let zeros = [0u8; 4096];
        let mut left = meta.len();
        while left > 0 {
            let n = usize::try_from(left.min(zeros.len() as u64)).unwrap_or(zeros.len());
            file.write_all(&zeros[..n])?;
            left -= n as u64;
        }
        file.sync_all()?;
    }
    fs::remove_file(path)
}
