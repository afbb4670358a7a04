//! The MRZ scanner on its own thread: scans become lane events.

use std::thread;
use std::time::Duration;

use doc_scanner::{ReadError, ReadErrorKind, Scanner};
use embedded_io::Read;
use icao9303::mrz::{Mode, Mrz};

#[cfg(test)]
mod tests;

/// What the scanner thread reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ScannerReport {
    /// A scan that is a valid MRZ.
    Mrz(Box<Mrz>),
    /// A scan that is torn, garbled or fails an MRZ check.
    Unreadable,
    /// The serial line failed or closed (unplugged); the message is for the technician.
    Fault(String),
    /// The line was opened again after a fault.
    Restored,
}

/// Opens the scanner's line again after a fault (`None` while it cannot).
pub type Reopen<T> = Box<dyn FnMut() -> Option<Scanner<T>> + Send>;

/// How long the thread waits between attempts to reopen a failed line.
pub const REOPEN_INTERVAL: Duration = Duration::from_secs(1);

/// Runs `scanner` on a new thread, handing each report to `report`, until
/// `report` returns `false` (the lane is gone).
///
/// When the line fails or closes (the scanner was unplugged), the thread
/// reports [`ScannerReport::Fault`] once, then calls `reopen` every
/// [`REOPEN_INTERVAL`] and reports [`ScannerReport::Restored`] when it
/// succeeds; without `reopen` the thread ends after the fault.
///
/// OCR confusions are repaired only where a check digit confirms the repair
/// (9303-3 section 4.9; [`Mode::Repair`]).
pub fn spawn_scanner<T>(
    scanner: Scanner<T>,
    reopen: Option<Reopen<T>>,
    mut report: impl FnMut(ScannerReport) -> bool + Send + 'static,
) -> thread::JoinHandle<()>
where
    T: Read + Send + 'static,
    T::Error: std::fmt::Debug,
{
    thread::spawn(move || {
        let mut scanner = scanner;
        let mut reopen = reopen;
        loop {
            let sent = match scanner.next_mrz(Mode::Repair) {
                Ok(mrz) => report(ScannerReport::Mrz(Box::new(mrz))),
                Err(e) => match e.kind() {
                    ReadErrorKind::Timeout => true,
                    ReadErrorKind::BadScan => report(ScannerReport::Unreadable),
                    _ => {
                        let closed = matches!(e, ReadError::Closed);
                        if !report(ScannerReport::Fault(e.to_string())) {
                            return;
                        }
                        match reopen.as_mut() {
                            Some(open) => {
                                scanner = reopened(open);
                                report(ScannerReport::Restored)
                            }
                            None if closed => return,
                            None => {
                                // A failing line that may recover by itself: do not spin.
                                thread::sleep(REOPEN_INTERVAL);
                                true
                            }
                        }
                    }
                },
            };
            if !sent {
                return;
            }
        }
    })
}

/// Tries `open` every [`REOPEN_INTERVAL`] until it gives a scanner.
fn reopened<T>(open: &mut Reopen<T>) -> Scanner<T> {
    loop {
        thread::sleep(REOPEN_INTERVAL);
        if let Some(scanner) = open() {
            return scanner;
        }
    }
}
