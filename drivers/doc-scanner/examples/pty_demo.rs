//! Demo: a simulated MRZ reader on one end of a pseudo-terminal, the driver on the other.
//!
//! `cargo run -p doc-scanner --example pty_demo` sends the three ICAO
//! specimens (with noise, in 7-byte chunks) and a torn scan, and prints
//! what the driver makes of each: the layout and document kind, or the
//! error. Nothing personal is printed.

use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use doc_scanner::sim::{SimulatedReader, Style, TD1_SPECIMEN, TD2_SPECIMEN, TD3_SPECIMEN};
use doc_scanner::{ReadErrorKind, Scanner, ScannerConfig, SerialLine};
use icao9303::mrz::Mode;
use serialport::TTYPort;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pty_demo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (master, slave) = TTYPort::pair()?;
    let sim = thread::spawn(move || -> std::io::Result<()> {
        let style = Style {
            noise: b"\x00\x11\x13".to_vec(),
            ..Style::default()
        };
        let mut reader = SimulatedReader::new(master, style).chunked(7, Duration::from_millis(2));
        reader.send_scan(&TD3_SPECIMEN)?;
        reader.send_scan(&TD1_SPECIMEN)?;
        reader.send_raw(b"I<UTOERIKS")?;
        thread::sleep(Duration::from_millis(800));
        reader.send_scan(&TD2_SPECIMEN)?;
        thread::sleep(Duration::from_millis(800));
        Ok(())
    });

    let line = SerialLine::from_port(slave, Duration::from_millis(100))?;
    let mut scanner = Scanner::new(line, ScannerConfig::default());
    let start = Instant::now();
    let mut results = 0;
    while results < 4 && start.elapsed() < Duration::from_secs(10) {
        let t = start.elapsed().as_millis();
        match scanner.next_mrz(Mode::Strict) {
            Ok(mrz) => {
                results += 1;
                println!(
                    "{t:>5} ms  {} {}, check digits hold",
                    mrz.format, mrz.document_type
                );
            }
            Err(e) if e.kind() == ReadErrorKind::Timeout => {}
            Err(e) => {
                results += 1;
                println!("{t:>5} ms  {e}");
            }
        }
    }
    sim.join().map_err(|_| "simulator thread panicked")??;
    Ok(())
}
