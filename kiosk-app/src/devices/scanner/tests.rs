use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use doc_scanner::sim::{SimulatedReader, Style};
use doc_scanner::{ScannerConfig, SerialLine};
use serialport::TTYPort;

use super::*;

const TD3: [&str; 2] = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
];

fn scanner_on(slave: TTYPort) -> Scanner<SerialLine> {
    Scanner::new(
        SerialLine::from_port(slave, Duration::from_millis(20)).unwrap(),
        ScannerConfig::default(),
    )
}

fn next(rx: &mpsc::Receiver<ScannerReport>) -> ScannerReport {
    rx.recv_timeout(Duration::from_secs(5)).unwrap()
}

#[test]
fn scans_become_reports_and_an_unplugged_scanner_comes_back() {
    let (master, slave) = TTYPort::pair().unwrap();
    let (tx, rx) = mpsc::channel();
    // The replacement line, handed over once the first one is unplugged.
    let spare: Arc<Mutex<Option<TTYPort>>> = Arc::default();
    let spare_in = spare.clone();
    let reopen: Reopen<SerialLine> =
        Box::new(move || spare_in.lock().unwrap().take().map(scanner_on));
    spawn_scanner(scanner_on(slave), Some(reopen), move |r| tx.send(r).is_ok());

    let mut reader = SimulatedReader::new(master, Style::default());
    reader.send_scan(&TD3).unwrap();
    let ScannerReport::Mrz(mrz) = next(&rx) else {
        panic!("a scan")
    };
    assert_eq!(mrz.document_number, "L898902C3");
    reader
        .send_scan(&["P<UTOERIKSSON<<ANNA", "L898902C3"])
        .unwrap();
    assert_eq!(next(&rx), ScannerReport::Unreadable);

    // Unplugged: the far end of the line goes away. (The torn scan's second
    // line may still come out as one more unreadable scan first.)
    drop(reader);
    let r = match next(&rx) {
        ScannerReport::Unreadable => next(&rx),
        r => r,
    };
    assert!(matches!(r, ScannerReport::Fault(_)), "{r:?}");
    let (master, slave) = TTYPort::pair().unwrap();
    *spare.lock().unwrap() = Some(slave);
    assert_eq!(next(&rx), ScannerReport::Restored);
    let mut reader = SimulatedReader::new(master, Style::default());
    reader.send_scan(&TD3).unwrap();
    let r = next(&rx);
    assert!(matches!(r, ScannerReport::Mrz(_)), "{r:?}");
}

#[test]
fn the_thread_ends_when_the_lane_is_gone() {
    let (master, slave) = TTYPort::pair().unwrap();
    let (tx, rx) = mpsc::channel::<ScannerReport>();
    drop(rx);
    let thread = spawn_scanner(scanner_on(slave), None, move |r| tx.send(r).is_ok());
    SimulatedReader::new(master, Style::default())
        .send_scan(&TD3)
        .unwrap();
    thread.join().unwrap();
}
