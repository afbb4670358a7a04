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
//! PACE instead of BAC: READ BINARY of EF.CardAccess by SFI, MSE:Set AT,
//! four GENERAL AUTHENTICATE, SELECT application (9303-11 §4.3 BAC, §4.4
//! PACE, §9.2 EF.CardAccess).
//! So the minimum is the access APDUs (BAC 3, PACE 7, 2 more with Chip
//! Authentication) plus, for each file, ceil(file size / largest plain response).
//!
//! With `BENCH_REPORT` set, each profile's figures are also appended there
//! (`scripts/bench.sh`).

// A bench binary: a failed unwrap is a failed run.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../../scripts/bench_figure.rs"]
mod bench_figure;

use std::time::{Duration, Instant, SystemTime};

use card_reader::{ConnectOptions, Readers};
use icao9303::CardChannel;
use icao9303::document::read_document;
use icao9303::lds::{DataGroup, FileId};
use icao9303::pa::TrustStore;
use icao9303::pace::Password;
use icao9303::session::{AccessProtocol, ReadOptions, Session, max_plain_per_response};
use icao9303::verdict::Verdict;
use test_pki::{PkiOptions, SodOptions, TestPki};
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
        run(name, VirtualChip::new(profile).unwrap(), None, n);
    }
    // The whole authenticity path: PACE, every file, Chip Authentication,
    // Passive Authentication against a CSCA (the verdict must be genuine).
    let pki = TestPki::new(PkiOptions::default());
    let mut chip =
        VirtualChip::new(pace(12).with_chip_authentication(virtual_emrtd::CaConfig::default()))
            .unwrap();
    let dgs: Vec<(u8, Vec<u8>)> = [(1, 0x0101), (2, 0x0102), (14, 0x010E)]
        .iter()
        .filter_map(|&(n, fid)| chip.file(fid).map(|b| (n, b.to_vec())))
        .collect();
    assert!(chip.replace_file(0x011D, pki.sod(&dgs, &SodOptions::default())));
    let mut store = TrustStore::new();
    store.add_csca_der(&pki.csca_der()).unwrap();
    run("PACE + read + CA + PA (full)", chip, Some(&store), n);
}

fn password(mrz: &icao9303::mrz::Mrz) -> Password {
    Password::from_mrz(mrz).unwrap()
}

fn run(name: &str, chip: VirtualChip, trust: Option<&TrustStore>, n: usize) {
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
        if let Some(store) = trust {
            assert!(
                authenticate(&mut session, &doc, store, &keys),
                "verdict not genuine"
            );
        }
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
        // Chip Authentication with AES: MSE:Set AT and GENERAL AUTHENTICATE.
        let access = access
            + if session.chip_authentication().is_some() {
                2
            } else {
                0
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
    let row = format!("Chip read through pcscd, {name}");
    for (figure, value, unit) in [
        ("median", ms(times[n / 2]), "ms"),
        ("APDUs", apdus as f64, ""),
        ("minimum", minimum as f64, ""),
        ("bytes", bytes as f64, ""),
    ] {
        bench_figure::emit("chip_read", &row, figure, value, unit).unwrap();
    }
}

/// Clone detection and Passive Authentication; true when the verdict is genuine.
fn authenticate(
    session: &mut Session<card_reader::PcscChannel>,
    doc: &icao9303::document::DocumentRead,
    store: &TrustStore,
    mrz: &icao9303::mrz::Mrz,
) -> bool {
    let clone = icao9303::document::verify_chip(session, doc);
    let dgs: Vec<(DataGroup, &[u8])> = doc
        .files
        .iter()
        .filter_map(|f| match (f.file, &f.outcome) {
            (FileId::Dg(dg), Ok(b)) => Some((dg, b.as_slice())),
            _ => None,
        })
        .collect();
    let sod = doc.bytes(FileId::Sod).unwrap_or_default();
    let pa = icao9303::pa::verify(sod, &dgs, store, "UTO", SystemTime::now());
    let dg1 = doc
        .bytes(FileId::Dg(DataGroup::Dg1))
        .and_then(|b| icao9303::lds::Dg1::parse(b).ok())
        .and_then(|d| d.parse_mrz().ok());
    Verdict::new("PACE", &pa, &clone, mrz, dg1.as_ref()).genuine()
}
