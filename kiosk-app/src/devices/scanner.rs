//! The MRZ scanner on its own thread: scans become lane events.

use std::thread;
use std::time::Duration;

use doc_scanner::{ReadError, ReadErrorKind, Scanner};
use embedded_io::Read;
use icao9303::mrz::{Mode, Mrz};

/// What the scanner thread reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ScannerReport {
    /// A scan that is a valid MRZ.
    Mrz(Box<Mrz>),
    /// A scan that is torn, garbled or fails an MRZ check.
    Unreadable,
    /// The serial line failed or closed; the message is for the technician.
    Fault(String),
}

/// Runs `scanner` on a new thread, handing each report to `report`, until
/// `report` returns `false` (the lane is gone) or the line closes.
///
/// OCR confusions are repaired only where a check digit confirms the repair
/// (9303-3 section 4.9; [`Mode::Repair`]).
pub fn spawn_scanner<T>(
    mut scanner: Scanner<T>,
    mut report: impl FnMut(ScannerReport) -> bool + Send + 'static,
) -> thread::JoinHandle<()>
where
    T: Read + Send + 'static,
    T::Error: std::fmt::Debug,
{
    thread::spawn(move || {
        loop {
            let sent = match scanner.next_mrz(Mode::Repair) {
                Ok(mrz) => report(ScannerReport::Mrz(Box::new(mrz))),
                Err(e) => match e.kind() {
                    ReadErrorKind::Timeout => true,
                    ReadErrorKind::BadScan => report(ScannerReport::Unreadable),
                    _ => {
                        let closed = matches!(e, ReadError::Closed);
                        let sent = report(ScannerReport::Fault(e.to_string()));
                        if closed || !sent {
                            return;
                        }
                        // A failing line: do not spin.
                        thread::sleep(Duration::from_millis(500));
                        true
                    }
                },
            };
            if !sent {
                return;
            }
        }
    })
}
