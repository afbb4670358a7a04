//! A recording and syncing kiosk process for fault tests and the catch-up
//! bench: appends passage records through `kiosk_app::store::Store` (one
//! durable append at a time, printing `committed <record id>` after each)
//! while the sync worker uploads them; or, with `--drain`, only syncs until
//! the outbox is empty and prints a summary line of JSON.
//!
//! ```text
//! recorder --store FILE --seed HEX --endpoint URL --unit ID --ca PEM --cert PEM --key PEM
//!          [--append N [--interval-ms MS] | --drain] [--batch N]
//! ```
//!
//! Exit status 0 when done, 2 for bad arguments, 1 for any other failure.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kiosk_app::store::sample::approved;
use kiosk_app::store::{SigningKey, Store, StoreConfig};
use kiosk_app::sync::{self, Backoff, SyncConfig, TlsFiles};
use sync_receiver::vm_hwm_kib;

struct Args {
    store: PathBuf,
    seed: [u8; 32],
    endpoint: String,
    unit: String,
    tls: TlsFiles,
    append: Option<u64>,
    interval: Duration,
    batch: usize,
}

fn parse() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let mut get = std::collections::HashMap::new();
    let mut drain = false;
    while let Some(flag) = it.next() {
        if flag == "--drain" {
            drain = true;
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        get.insert(flag, value);
    }
    let mut take = |name: &str| get.remove(name).with_context(|| format!("missing {name}"));
    let seed: [u8; 32] = hex::decode(take("--seed")?)
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("--seed must be 64 hex digits")?;
    let append = if drain {
        None
    } else {
        Some(take("--append")?.parse().context("--append N")?)
    };
    let interval = match take("--interval-ms") {
        Ok(ms) => Duration::from_millis(ms.parse().context("--interval-ms MS")?),
        Err(_) => Duration::ZERO,
    };
    let batch = match take("--batch") {
        Ok(n) => n.parse().context("--batch N")?,
        Err(_) => 500,
    };
    Ok(Args {
        store: take("--store")?.into(),
        seed,
        endpoint: take("--endpoint")?,
        unit: take("--unit")?,
        tls: TlsFiles {
            ca: take("--ca")?.into(),
            cert: take("--cert")?.into(),
            key: take("--key")?.into(),
        },
        append,
        interval,
        batch,
    })
}

fn run(args: Args) -> anyhow::Result<()> {
    let store = Store::open(
        &args.store,
        &StoreConfig::new(SigningKey::from_bytes(&args.seed)),
    )?;
    let mut config = SyncConfig::new(&args.endpoint, &args.unit, args.tls);
    config.batch_max_records = args.batch;
    config.backoff = Backoff {
        base: Duration::from_millis(20),
        cap: Duration::from_millis(500),
    };
    config.idle_poll = Duration::from_millis(20);
    let start = Instant::now();
    let backlog_before = store.outbox_count()?;
    let worker = sync::start(&args.store, config)?;
    if let Some(n) = args.append {
        let mut out = std::io::stdout().lock();
        for i in 0..n {
            let stored = store.append(approved(i))?;
            writeln!(out, "committed {}", stored.record.id)?;
            out.flush()?;
            worker.wake();
            // A lane appends at traveller pace; back-to-back appends would
            // starve the worker of the write lock.
            std::thread::sleep(args.interval);
        }
    }
    loop {
        let status = worker.status();
        if status.backlog == 0 && store.outbox_count()? == 0 {
            break;
        }
        if start.elapsed() > Duration::from_secs(3600) {
            bail!("not drained after an hour: {status:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = start.elapsed().as_secs_f64();
    worker.stop();
    println!(
        "{}",
        serde_json::json!({
            "synced": backlog_before,
            "seconds": elapsed,
            "records_per_second": backlog_before as f64 / elapsed.max(1e-9),
            "vm_hwm_kib": vm_hwm_kib(None).unwrap_or(0),
        })
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("recorder: {e:#}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("recorder: {e:#}");
            ExitCode::from(1)
        }
    }
}
