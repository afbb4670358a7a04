//! Passive Authentication of one realistic document (9303-11 §5.1): EF.SOD
//! parsed, signed attributes and DS signature checked, DG1 (93 bytes), DG2
//! (a 15 KB face image), DG11 and DG14 hashed and compared, the DS
//! certificate chained to its CSCA and checked against a CRL, in a store
//! prepared beforehand. One PKI per signature scheme: ECDSA P-256, RSA-2048
//! PKCS#1 v1.5 and RSA-2048 PSS, all with SHA-256.
//!
//! Run with `cargo bench -p icao9303 --bench pa -- --quick`.

use std::hint::black_box;

use criterion::Criterion;
use icao9303::lds::DataGroup;
use icao9303::pa::{TrustStore, verify};
use test_pki::{KeyKind, PkiOptions, SodOptions, TestPki, check_time, days};

/// A BER-TLV with a one-byte tag and a definite length (9303-10 §4.4).
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(value);
    out
}

/// DG1 (TD3 MRZ, 93 bytes), DG2 (~15 KB), DG11 and DG14 stand-ins, as whole files.
fn data_groups() -> Vec<(u8, Vec<u8>)> {
    let mrz: &[u8] =
        b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let mut dg1_value = vec![0x5F, 0x1F, 0x58];
    dg1_value.extend_from_slice(mrz);
    let dg1 = tlv(0x61, &dg1_value);
    assert_eq!(dg1.len(), 93);
    // A face image's worth of bytes that do not compress to nothing.
    let image: Vec<u8> = (0..15_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let dg2 = tlv(0x75, &image);
    let dg11 = tlv(
        0x6B,
        &tlv(0x5F, b"\x0EERIKSSON<<ANNA<MARIA\x5F\x11\x0AZENITH UTO"),
    );
    let dg14 = tlv(0x6E, &[0x31; 300]);
    vec![(1, dg1), (2, dg2), (11, dg11), (14, dg14)]
}

/// Benchmarks PA of one document signed by a fresh PKI with `key`.
fn bench_scheme(c: &mut Criterion, name: &str, key: KeyKind) {
    let pki = TestPki::new(PkiOptions::with_key(key));
    let mut store = TrustStore::new();
    store.add_csca_der(&pki.csca_der()).expect("CSCA");
    store
        .add_crl_der(&pki.crl(false, Some(days(test_pki::Y2034))))
        .expect("CRL");
    let dgs = data_groups();
    let sod = pki.sod(&dgs, &SodOptions::default());
    let read: Vec<(DataGroup, &[u8])> = dgs
        .iter()
        .map(|(n, b)| (DataGroup::from_number(*n).expect("DG"), b.as_slice()))
        .collect();
    let report = verify(&sod, &read, &store, "UTO", check_time());
    assert!(
        report.genuine(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );

    c.bench_function(&format!("pa/{name}"), |b| {
        b.iter(|| {
            verify(
                black_box(&sod),
                black_box(&read),
                &store,
                "UTO",
                check_time(),
            )
        });
    });
}

// What `criterion_group!`/`criterion_main!` expand to, without the undocumented `pub fn`.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_scheme(&mut c, "ecdsa_p256_sha256", KeyKind::P256);
    bench_scheme(&mut c, "rsa2048_pkcs1_sha256", KeyKind::Rsa);
    bench_scheme(&mut c, "rsa2048_pss_sha256", KeyKind::RsaPss);
    c.final_summary();
}
