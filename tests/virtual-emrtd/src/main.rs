//! `virtual-emrtd`: serves a virtual ePassport chip to pcscd through vsmartcard's vpcd until killed.
//!
//! ```text
//! virtual-emrtd --mrz-file specimen.mrz [--face face.jp2] [--host 127.0.0.1] [--port 35963]
//! virtual-emrtd --mrz 'P<UTO...\nL898902C36...'
//! ```
//!
//! Exit status: 2 for an invalid MRZ, face or option; 1 when vpcd cannot be
//! reached. The MRZ is personal data and is never printed.
#![forbid(unsafe_code)]

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{ArgGroup, Parser};
use icao9303::mrz::{self, Mode};
use virtual_emrtd::vpcd::{self, DEFAULT_PORT};
use virtual_emrtd::{ChipProfile, FaceImage, VirtualChip};

/// Pause before reconnecting after vpcd closed the connection.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);
/// How long to wait for vpcd to listen, at start and after it went away.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// Command line.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Serve a virtual ePassport (eMRTD) chip to pcscd through vsmartcard's vpcd"
)]
#[command(group(ArgGroup::new("mrz_source").required(true).args(["mrz_file", "mrz"])))]
struct Args {
    /// File holding the MRZ, 2 or 3 lines.
    #[arg(long, value_name = "FILE")]
    mrz_file: Option<PathBuf>,
    /// The MRZ, lines separated by newlines or by a literal "\n".
    #[arg(long, value_name = "TEXT")]
    mrz: Option<String>,
    /// Face image for DG2, JPEG or JPEG 2000 (default: the bundled synthetic face).
    #[arg(long, value_name = "FILE")]
    face: Option<PathBuf>,
    /// vpcd host.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// vpcd port: 35963 for reader "Virtual PCD 00 00", 35964 for "00 01".
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Do not take extended-length APDUs (and do not say so in the ATR).
    #[arg(long)]
    no_extended_length: bool,
    /// Pad the face so DG2 is at least this many bytes (above 32767 exercises odd-INS READ BINARY).
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    dg2_min_size: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let profile = match profile(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("virtual-emrtd: {e:#}");
            return ExitCode::from(2);
        }
    };
    match serve(&args, &profile) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("virtual-emrtd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reads and checks the MRZ and the face.
fn profile(args: &Args) -> anyhow::Result<ChipProfile> {
    let text = match (&args.mrz_file, &args.mrz) {
        (Some(path), _) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, Some(text)) => text.replace("\\n", "\n"),
        (None, None) => bail!("give --mrz-file or --mrz"),
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // Validate before anything connects; the error names the failed check, never the MRZ itself.
    mrz::parse(&lines.join("\n"), Mode::Strict).context("invalid MRZ")?;
    let mut profile = ChipProfile::new(lines.join("\n"))
        .with_extended_length(!args.no_extended_length)
        .with_dg2_min_size(args.dg2_min_size);
    if let Some(path) = &args.face {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let face = FaceImage::from_bytes(bytes)
            .with_context(|| format!("face image {}", path.display()))?;
        profile = profile.with_face(face);
    }
    VirtualChip::new(profile.clone()).context("building the chip")?;
    Ok(profile)
}

/// Inserts the card, and again whenever vpcd goes away and comes back, until killed.
fn serve(args: &Args, profile: &ChipProfile) -> anyhow::Result<()> {
    let addr = resolve(&args.host, args.port)?;
    loop {
        let chip = VirtualChip::new(profile.clone()).context("building the chip")?;
        let atr = hex::encode_upper(chip.atr());
        let card = vpcd::connect_with_retry(chip, addr, CONNECT_WAIT).with_context(|| {
            format!("connecting to vpcd at {addr} (is pcscd running with vsmartcard-vpcd?)")
        })?;
        println!("virtual-emrtd: card inserted into vpcd at {addr} (ATR {atr})");
        let apdus = card.apdu_counter();
        let ended = card.wait();
        let count = apdus.load(std::sync::atomic::Ordering::SeqCst);
        match ended {
            Ok(()) => eprintln!(
                "virtual-emrtd: vpcd closed the connection after {count} APDUs; reconnecting"
            ),
            Err(e) => {
                eprintln!("virtual-emrtd: connection lost after {count} APDUs ({e}); reconnecting")
            }
        }
        std::thread::sleep(RECONNECT_PAUSE);
    }
}

fn resolve(host: &str, port: u16) -> anyhow::Result<SocketAddr> {
    (host, port)
        .to_socket_addrs()
        .with_context(|| format!("resolving {host}"))?
        .next()
        .with_context(|| format!("{host} has no address"))
}
