//! Throughput of the MRZ parser: a TD3 and a TD1 in strict mode, a TD1 that
//! needs three repairs, and a document number that makes repair try 511 candidates.
//!
//! Run with `cargo bench -p icao9303 --bench mrz -- --quick`.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use icao9303::mrz::{Mode, MrzError, parse};

/// 9303-4 specimen passport.
const TD3: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
                   L898902C36UTO7408122F1204159ZE184226B<<<<<10";

/// 9303-5 specimen identity card.
const TD1: &str = "I<UTOD231458907<<<<<<<<<<<<<<<\n\
                   7408122F1204159UTO<<<<<<<<<<<6\n\
                   ERIKSSON<<ANNA<MARIA<<<<<<<<<<";

/// The TD1 specimen as a poor OCR read it: `O` for 0 in the birth date, `I`
/// for 1 and `O` for 0 in the expiry date. Repair mode fixes all three.
const TD1_REPAIR: &str = "I<UTOD231458907<<<<<<<<<<<<<<<\n\
                          74O8122FI2O4159UTO<<<<<<<<<<<6\n\
                          ERIKSSON<<ANNA<MARIA<<<<<<<<<<";

/// A passport whose document number is all confusable characters and whose
/// check digit matches none as read: repair tries 2^9 - 1 candidates and refuses.
const TD3_REPAIR_WORST: &str = "P<MMRNGUYEN<<VAN<AN<<<<<<<<<<<<<<<<<<<<<<<<<\n\
                                B0125S8ZO1MMR8503150M3101012<<<<<<<<<<<<<<<7";

fn parsing(c: &mut Criterion) {
    assert!(parse(TD3, Mode::Strict).is_ok());
    assert!(parse(TD1, Mode::Strict).is_ok());
    assert!(parse(TD1_REPAIR, Mode::Strict).is_err());
    assert_eq!(
        parse(TD1_REPAIR, Mode::Repair).map(|m| m.repairs.len()),
        Ok(3)
    );
    assert!(matches!(
        parse(TD3_REPAIR_WORST, Mode::Repair),
        Err(MrzError::AmbiguousRepair { .. })
    ));

    let mut group = c.benchmark_group("mrz");
    group.throughput(Throughput::Elements(1));
    group.bench_function("td3_strict", |b| {
        b.iter(|| parse(black_box(TD3), Mode::Strict));
    });
    group.bench_function("td1_strict", |b| {
        b.iter(|| parse(black_box(TD1), Mode::Strict));
    });
    group.bench_function("td1_repair", |b| {
        b.iter(|| parse(black_box(TD1_REPAIR), Mode::Repair));
    });
    group.bench_function("td3_repair_511_candidates", |b| {
        b.iter(|| parse(black_box(TD3_REPAIR_WORST), Mode::Repair));
    });
    group.finish();
}

// What `criterion_group!`/`criterion_main!` expand to, without the undocumented `pub fn`.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    parsing(&mut c);
    c.final_summary();
}
