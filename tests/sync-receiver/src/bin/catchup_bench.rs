//! Catch-up bench: a backlog of N passage records (default 1,000,000) is
//! synced from a kiosk store to the reference receiver over HTTPS with
//! mutual TLS on loopback, the worker and the receiver each in its own
//! process. Prints records per second and the peak RSS (VmHWM) of both.
//!
//! ```text
//! cargo run --release -p sync-receiver --bin catchup-bench -- [N] [--dir DIR] [--batch N]
//! ```
//!
//! The backlog is bulk-loaded (`Store::append_many`, 10,000 signed records
//! per transaction) instead of one durable append at a time. Needs about
//! 1.5 GB of disk per million records under DIR (default: the temp dir).
//! With `BENCH_REPORT` set, the figures are also appended there (`scripts/bench.sh`).

#[path = "../../../../scripts/bench_figure.rs"]
mod bench_figure;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use kiosk_app::store::sample::{passage, signing_key};
use kiosk_app::store::{Store, StoreConfig};
use sync_receiver::{ReceiverDb, TestCa, vm_hwm_kib};

const UNIT: &str = "bench-unit";

fn run() -> anyhow::Result<()> {
    let mut n: u64 = 1_000_000;
    let mut dir = std::env::temp_dir();
    let mut batch = "500".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => dir = args.next().context("--dir DIR")?.into(),
            "--batch" => batch = args.next().context("--batch N")?,
            // cargo bench passes --bench; ignore it.
            "--bench" => {}
            other => n = other.parse().context("N: number of records")?,
        }
    }
    let dir = dir.join(format!("catchup-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = bench(n, &dir, &batch);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn bench(n: u64, dir: &std::path::Path, batch: &str) -> anyhow::Result<()> {
    let exe_dir: PathBuf = std::env::current_exe()?
        .parent()
        .context("exe dir")?
        .to_path_buf();
    let key = signing_key();
    let store_path = dir.join("passages.sqlite");

    let t = Instant::now();
    {
        let store = Store::open(&store_path, &StoreConfig::new(key.clone()))?;
        let mut i = 0;
        while i < n {
            let end = (i + 10_000).min(n);
            store.append_many((i..end).map(passage))?;
            i = end;
        }
    }
    let load_s = t.elapsed().as_secs_f64();
    println!(
        "bulk load: {n} records in {load_s:.1} s ({:.0} records/s), store {} MB",
        n as f64 / load_s,
        std::fs::metadata(&store_path)?.len() / 1_000_000
    );

    let ca = TestCa::new("bench CA")?;
    let server = ca.server()?;
    let (ca_pem, cert, unit_key) = ca.write_unit_files(dir, UNIT)?;
    std::fs::write(dir.join("server.pem"), &server.cert_pem)?;
    std::fs::write(dir.join("server.key"), &server.key_pem)?;
    let receiver_db = dir.join("receiver.sqlite");
    let mut receiver = Command::new(exe_dir.join("sync-receiver"))
        .args(["--db", receiver_db.to_str().context("path")?])
        .args(["--listen", "127.0.0.1:0"])
        .args(["--cert", dir.join("server.pem").to_str().context("path")?])
        .args(["--key", dir.join("server.key").to_str().context("path")?])
        .args(["--client-ca", ca_pem.to_str().context("path")?])
        .arg("--unit")
        .arg(format!(
            "{UNIT}={}",
            hex::encode(key.verifying_key().as_bytes())
        ))
        .stdout(Stdio::piped())
        .spawn()
        .context("starting sync-receiver (build it: cargo build --release -p sync-receiver)")?;
    let mut line = String::new();
    BufReader::new(receiver.stdout.take().context("stdout")?).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .context("receiver did not start")?
        .to_owned();
    let port = addr.rsplit(':').next().context("port")?;

    let out = Command::new(exe_dir.join("recorder"))
        .args(["--store", store_path.to_str().context("path")?])
        .args(["--seed", &hex::encode(key.to_bytes())])
        .args(["--endpoint", &format!("https://127.0.0.1:{port}")])
        .args(["--unit", UNIT])
        .args(["--ca", ca_pem.to_str().context("path")?])
        .args(["--cert", cert.to_str().context("path")?])
        .args(["--key", unit_key.to_str().context("path")?])
        .args(["--batch", batch, "--drain"])
        .stderr(Stdio::inherit())
        .output()?;
    let receiver_hwm = vm_hwm_kib(Some(receiver.id())).context("receiver VmHWM")?;
    receiver.kill()?;
    receiver.wait()?;
    if !out.status.success() {
        bail!("recorder failed: {:?}", out.status);
    }
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let stored = ReceiverDb::open(&receiver_db)?.count(UNIT)?;
    println!(
        "catch-up: {} records in {:.1} s = {:.0} records/s (batches of {batch})",
        summary["synced"],
        summary["seconds"].as_f64().unwrap_or(0.0),
        summary["records_per_second"].as_f64().unwrap_or(0.0)
    );
    println!(
        "peak RSS (VmHWM): worker process {} KiB, receiver process {} KiB, bench (bulk load) {} KiB",
        summary["vm_hwm_kib"],
        receiver_hwm,
        vm_hwm_kib(None).context("own VmHWM")?
    );
    println!("receiver holds {stored} records");
    if stored != n {
        bail!("receiver holds {stored} records, expected {n}");
    }
    let row = format!("Sync catch-up of {n} records (mutual TLS, loopback)");
    let mib = |kib: f64| kib / 1024.0;
    for (figure, value, unit) in [
        (
            "rate",
            summary["records_per_second"]
                .as_f64()
                .context("records_per_second")?,
            "records/s",
        ),
        (
            "peak RSS worker",
            mib(summary["vm_hwm_kib"].as_f64().context("vm_hwm_kib")?),
            "MiB",
        ),
        ("peak RSS receiver", mib(receiver_hwm as f64), "MiB"),
    ] {
        bench_figure::emit("catchup", &row, figure, value, unit).context("BENCH_REPORT")?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("catchup-bench: {e:#}");
            ExitCode::from(1)
        }
    }
}
