//! The lane's own time for one traveller: from the MRZ received from the
//! scanner to the gate command, with the chip's I/O left out (the chip was
//! read once, before timing) but Passive Authentication, the verdict, the
//! lane rules and the durable, signed record included. Prints p50, p90,
//! p99 and the records per second this path sustains.
//!
//! Run with `cargo bench -p kiosk-app --bench lane -- [ITERATIONS]` (default 500).
//! With `BENCH_REPORT` set, the figures are also appended there (`scripts/bench.sh`).

#[path = "../../scripts/bench_figure.rs"]
mod bench_figure;

use std::time::{Duration, Instant, SystemTime};

use icao9303::mrz::{Mode, Td3Fields, encode_td3};
use kiosk_app::devices::chip::{self, ChipData};
use kiosk_app::lane::{GateStep, LaneCore, LaneSettings, Work};
use kiosk_app::policy::{RecentPassages, Rules, WatchList};
use kiosk_app::session::{Event, SessionConfig, Timeouts};
use kiosk_app::store::{LaneRef, SigningKey, Store, StoreConfig};
use test_pki::{PkiOptions, SodOptions, TestPki};
use virtual_emrtd::{AaKey, ChipProfile, DirectChannel, PaceConfig, VirtualChip};

/// The MRZ of the benchmark's traveller (an approved Thai passport).
fn mrz_text() -> String {
    encode_td3(&Td3Fields {
        document_code: "P",
        issuing_state: "THA",
        primary: "SRISUK",
        secondary: "NARIN",
        document_number: "AA1234567",
        nationality: "THA",
        birth_date: "900412",
        sex: 'F',
        expiry_date: "350101",
        optional: "",
    })
    .expect("valid fields")
}

/// Reads a genuine PACE + Active Authentication chip once (the excluded chip I/O).
fn chip_data(mrz_text: &str, pki: &TestPki) -> ChipData {
    let profile = ChipProfile::new(mrz_text.to_owned())
        .with_active_authentication(AaKey::P256)
        .with_pace(PaceConfig::new("0.4.0.127.0.7.2.2.4.2.2", 12));
    let mut chip = VirtualChip::new(profile).expect("profile");
    let dgs: Vec<(u8, Vec<u8>)> = [(1, 0x0101), (2, 0x0102), (14, 0x010E), (15, 0x010F)]
        .iter()
        .filter_map(|&(n, fid)| chip.file(fid).map(|b| (n, b.to_vec())))
        .collect();
    assert!(chip.replace_file(0x011D, pki.sod(&dgs, &SodOptions::default())));
    let mrz = icao9303::mrz::parse(mrz_text, Mode::Strict).expect("mrz");
    chip::read_over(DirectChannel::new(chip), &mrz).expect("chip read")
}

fn main() {
    let iterations: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(500);
    let text = mrz_text();
    let pki = TestPki::new(PkiOptions {
        country: "TH".into(),
        ..PkiOptions::default()
    });
    let mut trust = icao9303::pa::TrustStore::new();
    trust.add_csca_der(&pki.csca_der()).expect("CSCA");
    let data = chip_data(&text, &pki);

    let dir = std::env::temp_dir().join(format!("asean-lane-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = Store::open(
        dir.join("passages.sqlite"),
        &StoreConfig::new(SigningKey::from_bytes(&[7; 32])),
    )
    .expect("store");
    let (mut core, _) = LaneCore::new(LaneSettings {
        lane: LaneRef {
            site: "BENCH".into(),
            terminal: "T1".into(),
            lane: "L01".into(),
        },
        session: SessionConfig {
            direction: kiosk_app::policy::Direction::Arrival,
            biometrics: None,
            timeouts: Timeouts {
                document: Duration::from_secs(30),
                chip: Duration::from_secs(10),
                face: Duration::from_secs(15),
                walk_away: Duration::from_secs(20),
                processing: Duration::from_secs(5),
            },
            document_retries: 2,
            chip_retries: 2,
        },
        // The same document passes again and again: no anti-passback here.
        rules: Rules {
            passback_minutes: 0,
            ..Rules::default()
        },
        watch_list: WatchList::new(b"bench"),
        history: RecentPassages::default(),
    });

    let mut times = Vec::with_capacity(iterations);
    let started = Instant::now();
    for _ in 0..iterations {
        let t0 = Instant::now();
        // The scan's text, as the scanner driver hands it over.
        let mrz = icao9303::mrz::parse(&text, Mode::Repair).expect("mrz");
        let work = core.handle(
            Event::MrzScanned(Box::new(mrz)),
            Instant::now(),
            SystemTime::now(),
        );
        let Some(Work::ReadChip { passage, mrz }) = work.into_iter().next() else {
            panic!("no chip read asked for");
        };
        let read = chip::assess(&data, &mrz, &trust, SystemTime::now());
        let work = core.handle(
            Event::ChipRead {
                passage,
                read: Box::new(read),
            },
            Instant::now(),
            SystemTime::now(),
        );
        let record = work
            .into_iter()
            .find_map(|w| match w {
                Work::Record { record, .. } => Some(record),
                _ => None,
            })
            .expect("a record");
        let stored = store.append(*record).expect("durable append");
        let work = core.handle(
            Event::RecordCommitted {
                passage,
                record_id: stored.record.id,
            },
            Instant::now(),
            SystemTime::now(),
        );
        assert!(
            work.iter()
                .any(|w| matches!(w, Work::Gate(GateStep::Release { .. }))),
            "the gate command"
        );
        times.push(t0.elapsed());
        core.handle(Event::GatePassed, Instant::now(), SystemTime::now());
    }
    let total = started.elapsed();
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    println!(
        "MRZ received -> gate command (chip I/O excluded; PA, rules, durable signed record included)"
    );
    println!("  iterations  {iterations}");
    println!("  p50         {:>8.2} ms", pct(50).as_secs_f64() * 1e3);
    println!("  p90         {:>8.2} ms", pct(90).as_secs_f64() * 1e3);
    println!("  p99         {:>8.2} ms", pct(99).as_secs_f64() * 1e3);
    println!(
        "  max         {:>8.2} ms",
        times[times.len() - 1].as_secs_f64() * 1e3
    );
    let per_second = iterations as f64 / total.as_secs_f64();
    println!("  durable records/s through this path: {per_second:.0}");
    let row = "MRZ received -> gate command (PA, rules, signed durable record; chip I/O excluded)";
    for (figure, value, unit) in [
        ("p50", pct(50).as_secs_f64() * 1e3, "ms"),
        ("p99", pct(99).as_secs_f64() * 1e3, "ms"),
        ("through this path", per_second, "records/s"),
    ] {
        bench_figure::emit("lane", row, figure, value, unit).expect("BENCH_REPORT");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
