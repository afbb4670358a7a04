//! The reference receiver as a process (for the catch-up bench): listens
//! with mutual TLS and stores into its SQLite database until killed.
//!
//! ```text
//! sync-receiver --db FILE --listen ADDR --cert PEM --key PEM --client-ca PEM --unit ID=PUBKEYHEX
//! ```
//!
//! Prints `listening on ADDR` once ready. Exit status 2 for bad arguments,
//! 1 when it cannot start.

use std::process::ExitCode;

use anyhow::Context;
use ed25519_dalek::VerifyingKey;
use sync_receiver::{CertKey, Receiver, ReceiverConfig};

fn parse() -> anyhow::Result<(ReceiverConfig, std::net::SocketAddr)> {
    let mut it = std::env::args().skip(1);
    let mut get = std::collections::HashMap::new();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        get.insert(flag, value);
    }
    let mut take = |name: &str| get.remove(name).with_context(|| format!("missing {name}"));
    let read = |path: String| std::fs::read_to_string(&path).with_context(|| path);
    let unit = take("--unit")?;
    let (id, key) = unit.split_once('=').context("--unit ID=PUBKEYHEX")?;
    let key: [u8; 32] = hex::decode(key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("--unit: 64 hex digits of public key")?;
    let config = ReceiverConfig {
        db_path: take("--db")?.into(),
        server: CertKey {
            cert_pem: read(take("--cert")?)?,
            key_pem: read(take("--key")?)?,
        },
        client_ca_pem: read(take("--client-ca")?)?,
        units: vec![(id.to_owned(), VerifyingKey::from_bytes(&key)?)],
        clock_offset_ms: 0,
    };
    let listen = take("--listen")?.parse().context("--listen ADDR")?;
    Ok((config, listen))
}

fn main() -> ExitCode {
    let (config, listen) = match parse() {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("sync-receiver: {e:#}");
            return ExitCode::from(2);
        }
    };
    match Receiver::start(config, listen) {
        Ok(receiver) => {
            println!("listening on {}", receiver.addr());
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("sync-receiver: {e}");
            ExitCode::from(1)
        }
    }
}
