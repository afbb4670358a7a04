//! Reads a virtual passport through pcscd N times per profile and prints the
//! median time and APDU count per read next to the theoretical minimum.
//!
//! `cargo bench -p card-reader --bench chip_read -- [N]` (pcscd with
//! vsmartcard-vpcd running: `scripts/test.sh` or `scripts/demo.sh` start it).
//!
//! The theoretical minimum is the APDUs a perfect terminal would need with
//! the same chip: SELECT application, GET CHALLENGE and EXTERNAL
//! AUTHENTICATE, then one READ BINARY per largest response for each file
//! (a short-EF-identifier read needs no SELECT and no separate header read).

// A bench binary: a failed unwrap is a failed run.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use card_reader::{ConnectOptions, Readers};
use icao9303::CardChannel;
use icao9303::document::read_document;
use icao9303::pace::Password;
use icao9303::session::{AccessProtocol, ReadOptions, Session, max_plain_per_response};
use virtual_emrtd::{ChipProfile, VirtualChip};

const READER: &str = "Virtual PCD 00 00";
const VPCD: &str = "127.0.0.1:35963";
const MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20);
    println!("{n} reads per profile through pcscd + vpcd, reader {READER:?}");
    println!(
        "{:<34} {:>10} {:>10} {:>7} {:>9} {:>10}",
        "profile", "median ms", "p90 ms", "APDUs", "minimum", "bytes"
    );
    let pace = |id| {
        ChipProfile::new(MRZ).with_pace(virtual_emrtd::PaceConfig::new(
            "0.4.0.127.0.7.2.2.4.2.2",
            id,
        ))
    };
    let profiles = [
        ("PACE GM ECDH P-256 AES, extended", pace(12)),
        ("PACE GM ECDH bp256 AES, extended", pace(13)),
        ("BAC, extended length", ChipProfile::new(MRZ)),
        (
            "BAC, short APDUs",
            ChipProfile::new(MRZ).with_extended_length(false),
        ),
        (
            "BAC, short APDUs, 20 KB DG2",
            ChipProfile::new(MRZ)
                .with_extended_length(false)
                .with_dg2_min_size(20_000),
        ),
        (
            "BAC, extended, 40 KB DG2 (odd INS)",
            ChipProfile::new(MRZ).with_dg2_min_size(40_000),
        ),
    ];
    for (name, profile) in profiles {
        run(name, profile, n);
    }
}

fn password(mrz: &icao9303::mrz::Mrz) -> Password {
    Password::from_mrz(mrz).unwrap()
}

fn run(name: &str, profile: ChipProfile, n: usize) {
    let chip = VirtualChip::new(profile).unwrap();
    let readers = Readers::establish().unwrap();
    readers
        .wait_for_removal(READER, Duration::from_secs(5))
        .unwrap();
    let card = virtual_emrtd::connect(chip, VPCD.parse().unwrap()).unwrap();
    readers
        .wait_for_card(READER, Duration::from_secs(5))
        .unwrap();
    let keys = icao9303::mrz::parse(MRZ, Default::default()).unwrap();

    let mut times = Vec::with_capacity(n);
    let mut apdus = 0;
    let mut minimum = 0;
    let mut bytes = 0;
    for _ in 0..n {
        let start = Instant::now();
        let channel = readers.connect(READER, &ConnectOptions::default()).unwrap();
        let extended = channel.supports_extended_length();
        let mut session = Session::open(channel, password(&keys), &ReadOptions::default()).unwrap();
        let doc = read_document(&mut session).unwrap();
        times.push(start.elapsed());
        apdus = session.apdu_count();
        let per_response = max_plain_per_response(if extended { 65_536 } else { 256 }, 8);
        let sizes: Vec<usize> = doc
            .files
            .iter()
            .filter_map(|f| f.outcome.as_ref().ok().map(Vec::len))
            .collect();
        bytes = sizes.iter().sum();
        // BAC: SELECT application, GET CHALLENGE, EXTERNAL AUTHENTICATE.
        // PACE: READ BINARY of EF.CardAccess by SFI, MSE:Set AT, four GENERAL
        // AUTHENTICATE, SELECT application.
        let access = match session.protocol() {
            AccessProtocol::Bac => 3,
            AccessProtocol::Pace { .. } => 7,
        };
        minimum = access
            + sizes
                .iter()
                .map(|s| s.div_ceil(per_response))
                .sum::<usize>();
    }
    card.remove().unwrap();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{:<34} {:>10.1} {:>10.1} {:>7} {:>9} {:>10}",
        name,
        ms(times[n / 2]),
        ms(times[(n * 9 / 10).min(n - 1)]),
        apdus,
        minimum,
        bytes
    );
}
