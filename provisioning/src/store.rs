//! `kioskctl store verify`: is every passage record as the unit wrote it?
//! `kioskctl store status`: what waits for the central system?

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use kiosk_app::store::{OutboxStatus, VerifyReport, VerifyingKey, outbox_status, verify_store};

use crate::cli::{StoreStatusArgs, StoreVerifyArgs};

/// Runs `kioskctl store status`: exit 0 with the sync status, 1 when the
/// store cannot be read.
pub(crate) fn status(opts: &StoreStatusArgs) -> anyhow::Result<ExitCode> {
    let status = match outbox_status(&opts.store) {
        Ok(status) => status,
        Err(err) => {
            let msg = format!("{}: {err}", opts.store.display());
            if opts.json {
                println!("{}", serde_json::json!({ "error": msg }));
            } else {
                eprintln!("store status failed: {msg}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let now = now_unix_ms();
    let age = status.oldest_age(now).map(|d| d.as_secs());
    if opts.json {
        println!("{}", status_json(&status, now));
    } else {
        let or_never = |t: Option<i64>| t.map_or("never".to_owned(), |t| format!("{t} (unix ms)"));
        match age {
            Some(age) => println!(
                "backlog: {} records, the oldest waiting {}",
                status.backlog,
                duration_text(age)
            ),
            None => println!("backlog: 0 records"),
        }
        println!(
            "acknowledged: {} records ({} with personal fields purged)",
            status.acknowledged, status.purged
        );
        println!("last success: {}", or_never(status.last_success_unix_ms));
        match (&status.last_error, status.last_error_unix_ms) {
            (Some(e), Some(t)) => println!("last error: {e} at {t} (unix ms)"),
            (Some(e), None) => println!("last error: {e}"),
            _ => println!("last error: none"),
        }
        if let Some(skew) = status.clock_skew_ms {
            println!("central clock minus unit clock: {skew} ms");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `3h 12m`, `5m 3s`, `42s`.
fn duration_text(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// Runs `kioskctl store verify`: exit 0 when intact, 1 naming the first bad record.
pub(crate) fn verify(opts: &StoreVerifyArgs) -> anyhow::Result<ExitCode> {
    let key = read_public_key(&opts.key, "record-signing key")?;
    // A store that cannot be read is a finding (exit 1), not a usage error.
    let report = match verify_store(&opts.store, &key) {
        Ok(report) => report,
        Err(err) => {
            let msg = format!("{}: {err}", opts.store.display());
            if opts.json {
                println!("{}", serde_json::json!({ "intact": false, "error": msg }));
            } else {
                eprintln!("store verify failed: {msg}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let intact = report.is_intact();
    if opts.json {
        let json = match &report {
            VerifyReport::Intact { records, .. } => serde_json::json!({
                "intact": true,
                "records": records,
                "summary": report.to_string(),
            }),
            VerifyReport::Broken {
                intact_records,
                first_bad,
            } => serde_json::json!({
                "intact": false,
                "records": intact_records,
                "first_bad": { "seq": first_bad.seq, "record_id": first_bad.record_id },
                "summary": report.to_string(),
            }),
        };
        println!("{json}");
    } else {
        println!("{report}");
    }
    Ok(if intact {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The sync status as JSON (`store status --json`, the diagnostics bundle): counts, ages and times only.
pub(crate) fn status_json(status: &OutboxStatus, now_unix_ms: i64) -> serde_json::Value {
    serde_json::json!({
        "backlog": status.backlog,
        "oldest_unsynced_age_s": status.oldest_age(now_unix_ms).map(|d| d.as_secs()),
        "oldest_enqueued_unix_ms": status.oldest_enqueued_unix_ms,
        "acknowledged": status.acknowledged,
        "purged": status.purged,
        "audit_backlog": status.audit_backlog,
        "last_error": status.last_error,
        "last_error_unix_ms": status.last_error_unix_ms,
        "last_success_unix_ms": status.last_success_unix_ms,
        "clock_skew_ms": status.clock_skew_ms,
    })
}

/// Milliseconds since the Unix epoch now (0 for a clock before 1970).
pub(crate) fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// An Ed25519 public key file (64 hex digits); `what` names the key in errors.
pub(crate) fn read_public_key(path: &Path, what: &str) -> anyhow::Result<VerifyingKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the {what} {}", path.display()))?;
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .with_context(|| {
            format!(
                "{}: expected 64 hex digits (an Ed25519 public key)",
                path.display()
            )
        })?;
    VerifyingKey::from_bytes(&bytes)
        .with_context(|| format!("{}: not a valid Ed25519 public key", path.display()))
}
