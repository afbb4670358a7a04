//! `kill -9` soak (issue 5): the loop of `tests/kill9.rs` for many more
//! cycles. A kiosk process (`recorder`, found next to this executable)
//! records and syncs to an in-process receiver and is killed with SIGKILL
//! at a random moment, over and over; then it drains, and the kiosk store
//! and the receiver are compared.
//!
//! ```text
//! cargo build --release -p sync-receiver --bins
//! target/release/kill9-soak [--cycles N] [--seed S] [--dir DIR]
//! ```
//!
//! - `--cycles N`: kill cycles (default 500; each runs the recorder for
//!   100 to 700 ms, so about 4 to 5 minutes).
//! - `--seed S`: seed of the kill schedule, a u64 (default: random; printed
//!   so a run can be repeated).
//! - `--dir DIR`: where the working directory goes (default: the temp
//!   dir); it is kept there when the run is not clean.
//!
//! Prints cycles done, records committed, records at the receiver,
//! duplicates, lost and elapsed time. Exit status 0 when clean, 1 on any
//! loss, duplicate or broken chain (or when the soak cannot run), 2 for bad
//! arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use sync_receiver::soak::{self, Progress, SoakOptions, SoakReport};

const USAGE: &str = "usage: kill9-soak [--cycles N (default 500)] [--seed S] [--dir DIR]";

fn parse() -> anyhow::Result<SoakOptions> {
    let recorder = std::env::current_exe()
        .context("own path")?
        .parent()
        .context("own directory")?
        .join(format!("recorder{}", std::env::consts::EXE_SUFFIX));
    let mut cycles = 500;
    let mut seed = None;
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cycles" => {
                cycles = args
                    .next()
                    .context("--cycles N")?
                    .parse()
                    .context("--cycles N")?;
            }
            "--seed" => {
                seed = Some(
                    args.next()
                        .context("--seed S")?
                        .parse()
                        .context("--seed S: a u64")?,
                );
            }
            "--dir" => dir = Some(PathBuf::from(args.next().context("--dir DIR")?)),
            // cargo bench passes --bench; ignore it.
            "--bench" => {}
            other => anyhow::bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let seed = match seed {
        Some(seed) => seed,
        None => {
            let mut b = [0u8; 8];
            getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("OS RNG: {e}"))?;
            u64::from_le_bytes(b)
        }
    };
    let mut options = SoakOptions::new(recorder, cycles, seed);
    if let Some(dir) = dir {
        options.parent_dir = dir;
    }
    Ok(options)
}

fn print(report: &SoakReport) {
    println!("cycles done:            {}", report.cycles);
    println!(
        "kills with backlog:     {} (outbox not empty after the kill)",
        report.killed_with_backlog
    );
    println!("records committed:      {}", report.committed);
    println!("records in kiosk store: {}", report.kiosk_rows.len());
    println!("records at receiver:    {}", report.receiver_rows.len());
    println!("duplicates:             {}", report.duplicates.len());
    println!("lost:                   {}", report.lost());
    println!(
        "chains:                 kiosk {}, receiver {}",
        if report.kiosk_chain_intact() {
            "intact"
        } else {
            "BROKEN"
        },
        if report.receiver_chain_intact() {
            "intact"
        } else {
            "BROKEN"
        }
    );
    println!(
        "elapsed:                {:.1} s",
        report.elapsed.as_secs_f64()
    );
}

fn explain(report: &SoakReport) {
    let show = |what: &str, ids: &[String]| {
        if !ids.is_empty() {
            eprintln!(
                "kill9-soak: {what} ({}): {}",
                ids.len(),
                ids.iter().take(20).cloned().collect::<Vec<_>>().join(" ")
            );
        }
    };
    show("committed, not in the kiosk store", &report.lost_from_store);
    show("committed, not at the receiver", &report.lost_at_receiver);
    show("stored twice at the receiver", &report.duplicates);
    for failure in &report.recorder_failures {
        eprintln!(
            "kill9-soak: cycle {}: recorder exited before the kill ({}): {}",
            failure.cycle,
            failure.status,
            failure.stderr.trim()
        );
    }
    if report.outbox_after_drain > 0 {
        eprintln!(
            "kill9-soak: {} records left in the outbox after the drain",
            report.outbox_after_drain
        );
    }
    if !report.receiver_matches_kiosk() {
        eprintln!("kill9-soak: the receiver's records differ from the kiosk store's");
    }
    if !report.kiosk_chain_intact() {
        eprintln!("kill9-soak: kiosk chain: {}", report.kiosk_chain);
    }
    if let Err(seq) = report.receiver_chain {
        eprintln!("kill9-soak: receiver chain breaks at seq {seq}");
    }
    eprintln!(
        "kill9-soak: NOT CLEAN (seed {}); work files kept in {}",
        report.seed,
        report.dir.display()
    );
}

fn main() -> ExitCode {
    let options = match parse() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("kill9-soak: {e:#}");
            return ExitCode::from(2);
        }
    };
    println!(
        "kill -9 soak: {} cycles, seed {}, recorder {}",
        options.cycles,
        options.seed,
        options.recorder.display()
    );
    let every = (options.cycles / 10).max(1);
    let progress = |p: Progress| {
        if p.cycles_done.is_multiple_of(every) {
            println!(
                "  cycle {}/{}: {} committed, {} kills with backlog",
                p.cycles_done, options.cycles, p.committed, p.killed_with_backlog
            );
        }
    };
    match soak::run_with_progress(&options, progress) {
        Ok(report) => {
            print(&report);
            if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                explain(&report);
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("kill9-soak: {e}");
            ExitCode::from(1)
        }
    }
}
