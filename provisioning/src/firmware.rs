//! `kioskctl firmware flash`: install a signed gate-controller image.
//!
//! Order of checks, each before anything is sent to the gate: the vendor's
//! public key is read, the image file is parsed, its payload hashed and its
//! Ed25519 signature verified (`gate::firmware::verify`). Only then is the
//! gate's serial line opened; the gate is asked what it runs, and an image
//! for other hardware, or older than what runs (without
//! `--allow-downgrade`), is refused before any update frame. The flash
//! itself is `gate::GateLink::flash`: chunks acknowledged one by one, the
//! gate's own hash check, its restart into the new slot, confirmation.
//!
//! There is deliberately no `firmware sign`: the vendor's signing key never
//! leaves the vendor.
//!
//! Exit codes: 0 the new version runs confirmed; 1 the image was refused or
//! the flash failed (the message says which version the controller runs,
//! the one it kept or rolled back to); 2 the key or image file could not be
//! read, or the command line was wrong.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args as ClapArgs, Subcommand};
use gate::firmware::{FlashConfig, FlashError, FlashProgress, verify};
use gate::serial::SerialIo;
use gate::{GateLink, LinkConfig, SlotId};

use crate::identity::problem;

/// Largest image file read (a controller slot is far smaller).
const MAX_IMAGE_FILE: u64 = 16 * 1024 * 1024;

/// What `kioskctl firmware` can do.
#[derive(Debug, Subcommand)]
pub(crate) enum FirmwareAction {
    /// Flash a signed gate-controller image over the gate's serial line.
    ///
    /// The image's hash and vendor signature are checked before the serial
    /// line is opened; its hardware id and version against what the
    /// controller reports before any update frame is sent. Progress goes to
    /// stderr as percent lines. Stop the lane (asean-lane) first: it holds
    /// the serial line. Exit status 0 when the new version runs confirmed,
    /// 1 when the image is refused or the flash failed (the controller keeps
    /// or rolls back to its previous version, which the message names).
    Flash(FlashArgs),
}

/// Options of `kioskctl firmware flash`.
#[derive(Debug, ClapArgs)]
pub(crate) struct FlashArgs {
    /// The signed firmware image (format: firmware/gate-protocol/README.md).
    #[arg(long, value_name = "FILE")]
    pub(crate) image: PathBuf,
    /// The vendor's firmware-signing public key: 64 hex digits (Ed25519).
    #[arg(long, value_name = "PUBKEY_FILE")]
    pub(crate) key: PathBuf,
    /// The gate controller's serial line, e.g. /dev/ttyUSB0.
    #[arg(long, value_name = "SERIAL_PATH")]
    pub(crate) gate: String,
    /// Serial line speed.
    #[arg(long, default_value_t = 115_200)]
    pub(crate) baud: u32,
    /// Accept an image older than the firmware the controller runs.
    #[arg(long)]
    pub(crate) allow_downgrade: bool,
    /// Print one JSON object instead of lines of text (progress stays on stderr).
    #[arg(long)]
    pub(crate) json: bool,
}

/// Runs `kioskctl firmware flash`.
pub(crate) fn flash(opts: &FlashArgs) -> anyhow::Result<ExitCode> {
    let key = crate::store::read_public_key(&opts.key, "firmware-signing key")?;
    let bytes = read_image(opts)?;
    let image = match verify(&bytes, &key) {
        Ok(image) => image,
        Err(e) => {
            let msg = format!("image refused: {e}; nothing was sent to the gate");
            return Ok(problem(opts.json, "firmware flash", &msg));
        }
    };
    let header = *image.header();
    if !opts.json {
        eprintln!(
            "firmware: {} verified: version {}, hardware {:#06x}, {} bytes, signed by the vendor key",
            opts.image.display(),
            header.version,
            header.hardware_id,
            header.length
        );
    }
    let io = match SerialIo::open(&opts.gate, opts.baud) {
        Ok(io) => io,
        Err(e) => {
            let msg = format!(
                "cannot open the gate's serial line {}: {e}; nothing was flashed",
                opts.gate
            );
            return Ok(problem(opts.json, "firmware flash", &msg));
        }
    };
    let mut link = GateLink::new(io, LinkConfig::default());
    let config = FlashConfig {
        allow_downgrade: opts.allow_downgrade,
        ..FlashConfig::default()
    };
    let mut shown = None;
    let result = link.flash(&image, &config, |p| progress(p, &mut shown));
    match result {
        Ok(report) => {
            if opts.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "flashed": true,
                        "version": report.version,
                        "previous": report.previous,
                        "slot": slot_name(report.slot),
                    })
                );
            } else {
                println!(
                    "flashed gate firmware version {} (slot {}, was version {}); the controller confirmed it",
                    report.version,
                    slot_name(report.slot),
                    report.previous
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(failure(opts.json, &e)),
    }
}

/// Reports a refused image or a failed flash, naming the version the controller runs; exit 1.
fn failure(json: bool, error: &FlashError) -> ExitCode {
    let state = match (error, error.running()) {
        (FlashError::Query(_), _) => "nothing was flashed".to_owned(),
        (FlashError::Refused { .. }, Some(v)) => {
            format!("nothing was flashed; the controller runs version {v}")
        }
        (_, Some(v)) => format!("the controller rolled back to version {v}"),
        (_, None) => "the controller did not say which version it runs".to_owned(),
    };
    let msg = format!("{error}; {state}");
    if json {
        println!(
            "{}",
            serde_json::json!({
                "error": msg,
                "flashed": false,
                "running": error.running(),
                "rolled_back": !matches!(error, FlashError::Query(_) | FlashError::Refused { .. }),
            })
        );
        ExitCode::from(1)
    } else {
        problem(false, "firmware flash", &msg)
    }
}

/// One stderr line per 10 % written, and one per later step.
fn progress(p: FlashProgress, shown: &mut Option<u64>) {
    match p {
        FlashProgress::Started { running } => {
            eprintln!("firmware: the gate (version {running}) is in its safe state; writing");
        }
        FlashProgress::Writing { written, total } => {
            let percent = u64::from(written) * 100 / u64::from(total.max(1));
            let step = percent / 10 * 10;
            if shown.is_none_or(|s| step > s) {
                *shown = Some(step);
                eprintln!("firmware: {step:>3}% ({written}/{total} bytes)");
            }
        }
        FlashProgress::Verifying => eprintln!("firmware: the gate checks the image's hash"),
        FlashProgress::Restarting => {
            eprintln!("firmware: the gate restarts into the new slot; waiting for it to confirm");
        }
        FlashProgress::Confirmed { version } => {
            eprintln!("firmware: version {version} runs and is confirmed");
        }
    }
}

/// "A" or "B".
fn slot_name(slot: SlotId) -> &'static str {
    match slot {
        SlotId::A => "A",
        SlotId::B => "B",
    }
}

/// The image file, refusing one larger than [`MAX_IMAGE_FILE`] before reading it.
fn read_image(opts: &FlashArgs) -> anyhow::Result<Vec<u8>> {
    let path = &opts.image;
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading the firmware image {}", path.display()))?
        .len();
    anyhow::ensure!(
        len <= MAX_IMAGE_FILE,
        "{}: {len} bytes, larger than any gate firmware image ({MAX_IMAGE_FILE} bytes at most)",
        path.display()
    );
    std::fs::read(path).with_context(|| format!("reading the firmware image {}", path.display()))
}
