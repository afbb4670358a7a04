//! `kioskctl store verify`: is every passage record as the unit wrote it?

use std::process::ExitCode;

use anyhow::Context;
use kiosk_app::store::{VerifyReport, VerifyingKey, verify_store};

use crate::cli::StoreVerifyArgs;

/// Runs `kioskctl store verify`: exit 0 when intact, 1 naming the first bad record.
pub(crate) fn verify(opts: &StoreVerifyArgs) -> anyhow::Result<ExitCode> {
    let key = read_key(opts)?;
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

fn read_key(opts: &StoreVerifyArgs) -> anyhow::Result<VerifyingKey> {
    let text = std::fs::read_to_string(&opts.key)
        .with_context(|| format!("reading the record-signing key {}", opts.key.display()))?;
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .with_context(|| {
            format!(
                "{}: expected 64 hex digits (an Ed25519 public key)",
                opts.key.display()
            )
        })?;
    VerifyingKey::from_bytes(&bytes)
        .with_context(|| format!("{}: not a valid Ed25519 public key", opts.key.display()))
}
