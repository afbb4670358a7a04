//! Durable appends per second (WAL, `synchronous = FULL`, one fsync per
//! record) on a temp file, and verification throughput of a 10,000-record
//! store.
//!
//! Run with `cargo bench -p kiosk-app --bench store -- --quick`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use kiosk_app::store::sample::approved;
use kiosk_app::store::{SigningKey, Store, StoreConfig, VerifyReport, verify_store};

/// A fresh directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiosk-app-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn store_bench(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let config = StoreConfig::new(key.clone());

    let dir = temp_dir("append");
    let store = Store::open(dir.join("passages.sqlite"), &config).expect("open");
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(10));
    let mut i = 0u64;
    group.bench_function("durable_append", |b| {
        b.iter(|| {
            i += 1;
            black_box(store.append(approved(i)).expect("append"));
        });
    });
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);

    let dir = temp_dir("verify");
    let path = dir.join("passages.sqlite");
    {
        let store = Store::open(&path, &config).expect("open");
        // Built through the public API, one durable transaction per record.
        for i in 0..10_000 {
            store.append(approved(i)).expect("append");
        }
    }
    let verifying = key.verifying_key();
    assert!(matches!(
        verify_store(&path, &verifying),
        Ok(VerifyReport::Intact {
            records: 10_000,
            ..
        })
    ));
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(10);
    group.bench_function("verify_10000_records", |b| {
        b.iter(|| black_box(verify_store(&path, &verifying).expect("verify")));
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

// What `criterion_group!`/`criterion_main!` expand to, without the undocumented `pub fn`.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    store_bench(&mut c);
    c.final_summary();
}
