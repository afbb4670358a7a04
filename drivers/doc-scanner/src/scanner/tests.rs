//! The scanner over a scripted `embedded_io` transport: timeouts, idle gaps, errors, identification.

use std::collections::VecDeque;

use embedded_io::{ErrorKind, ErrorType, Read, Write};

use super::*;
use crate::sim::{Style, TD1_SPECIMEN, TD3_SPECIMEN, encode};
use crate::{Cut, Framing};

/// A transport that replays a script of reads and records what is written.
#[derive(Default)]
struct Script {
    reads: VecDeque<Result<Vec<u8>, ErrorKind>>,
    written: Vec<u8>,
}

impl Script {
    fn new(reads: impl IntoIterator<Item = Result<Vec<u8>, ErrorKind>>) -> Self {
        Self {
            reads: reads.into_iter().collect(),
            written: Vec::new(),
        }
    }
}

impl ErrorType for Script {
    type Error = ErrorKind;
}

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        match self.reads.pop_front() {
            None => Ok(0),
            Some(Err(kind)) => Err(kind),
            Some(Ok(mut bytes)) => {
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                if n < bytes.len() {
                    self.reads.push_front(Ok(bytes.split_off(n)));
                }
                Ok(n)
            }
        }
    }
}

impl Write for Script {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

fn config(idle: Duration) -> ScannerConfig {
    ScannerConfig {
        framing: Framing::Lines,
        idle_timeout: idle,
    }
}

fn td3() -> Vec<u8> {
    encode(&TD3_SPECIMEN, &Style::default())
}

#[test]
fn scans_come_out_in_order_then_the_line_closes() {
    let mut bytes = td3();
    bytes.extend(encode(&TD1_SPECIMEN, &Style::default()));
    // Reads of 7 bytes, as a slow UART delivers them.
    let reads: Vec<_> = bytes.chunks(7).map(|c| Ok(c.to_vec())).collect();
    let mut scanner = Scanner::new(Script::new(reads), ScannerConfig::default());
    assert_eq!(scanner.next_scan().unwrap().lines, TD3_SPECIMEN);
    assert_eq!(scanner.next_scan().unwrap().lines, TD1_SPECIMEN);
    let err = scanner.next_scan().unwrap_err();
    assert!(matches!(err, ReadError::Closed));
    assert_eq!(err.kind(), ReadErrorKind::Device);
}

#[test]
fn silence_is_a_timeout_not_a_failure() {
    let mut reads = vec![Err(ErrorKind::TimedOut), Err(ErrorKind::TimedOut)];
    reads.push(Ok(td3()));
    let mut scanner = Scanner::new(Script::new(reads), config(Duration::ZERO));
    for _ in 0..2 {
        let err = scanner.next_scan().unwrap_err();
        assert!(matches!(err, ReadError::Timeout));
        assert_eq!(err.kind(), ReadErrorKind::Timeout);
    }
    assert_eq!(scanner.next_scan().unwrap().lines, TD3_SPECIMEN);
}

#[test]
fn an_idle_gap_mid_scan_drops_it_and_resynchronises() {
    let bytes = td3();
    let reads = vec![
        Ok(bytes[..50].to_vec()),
        Err(ErrorKind::TimedOut),
        Ok(bytes.clone()),
    ];
    let mut scanner = Scanner::new(Script::new(reads), config(Duration::ZERO));
    let err = scanner.next_scan().unwrap_err();
    assert!(matches!(
        err,
        ReadError::Scan(ScanError::Incomplete {
            lines: 1,
            mid_line: true,
            cause: Cut::Idle
        })
    ));
    assert_eq!(err.kind(), ReadErrorKind::BadScan);
    assert_eq!(scanner.next_scan().unwrap().lines, TD3_SPECIMEN);
}

#[test]
fn a_pause_shorter_than_the_idle_timeout_keeps_the_scan() {
    let bytes = td3();
    let reads = vec![
        Ok(bytes[..50].to_vec()),
        Err(ErrorKind::TimedOut),
        Ok(bytes[50..].to_vec()),
    ];
    let mut scanner = Scanner::new(Script::new(reads), config(Duration::from_secs(3600)));
    assert!(matches!(scanner.next_scan(), Err(ReadError::Timeout)));
    assert_eq!(scanner.next_scan().unwrap().lines, TD3_SPECIMEN);
}

#[test]
fn bytes_after_a_long_gap_end_the_partial_scan_first() {
    let bytes = td3();
    let mut scanner = Scanner::new(
        Script::new([
            Ok(bytes[..50].to_vec()),
            Err(ErrorKind::TimedOut),
            Ok(bytes.clone()),
        ]),
        config(Duration::from_millis(20)),
    );
    // A read timeout shorter than the idle timeout: the scan is kept ...
    assert!(matches!(scanner.next_scan(), Err(ReadError::Timeout)));
    // ... until bytes arrive after a gap longer than the idle timeout.
    std::thread::sleep(Duration::from_millis(30));
    assert!(matches!(
        scanner.next_scan(),
        Err(ReadError::Scan(ScanError::Incomplete { .. }))
    ));
    assert_eq!(scanner.next_scan().unwrap().lines, TD3_SPECIMEN);
}

#[test]
fn interrupted_is_retried_and_io_errors_leave_the_scanner_usable() {
    let bytes = td3();
    let reads = vec![
        Ok(bytes[..10].to_vec()),
        Err(ErrorKind::Interrupted),
        Err(ErrorKind::BrokenPipe),
        Ok(bytes[10..].to_vec()),
    ];
    let mut scanner = Scanner::new(Script::new(reads), config(Duration::from_secs(3600)));
    let err = scanner.next_scan().unwrap_err();
    assert!(matches!(err, ReadError::Io(ErrorKind::BrokenPipe)));
    assert_eq!(err.kind(), ReadErrorKind::Device);
    assert_eq!(scanner.next_scan().unwrap().lines, TD3_SPECIMEN);
}

#[test]
fn line_closing_mid_scan_reports_the_torn_scan_then_closed() {
    let bytes = td3();
    let mut scanner = Scanner::new(
        Script::new([Ok(bytes[..60].to_vec())]),
        ScannerConfig::default(),
    );
    assert!(matches!(
        scanner.next_scan(),
        Err(ReadError::Scan(ScanError::Incomplete { lines: 1, .. }))
    ));
    assert!(matches!(scanner.next_scan(), Err(ReadError::Closed)));
}

#[test]
fn next_mrz_checks_the_scan() {
    let mut bad = td3();
    // Corrupt the document number check digit (column 10 of line 2).
    let at = TD3_SPECIMEN[0].len() + 2 + 9;
    bad[at] = if bad[at] == b'0' { b'1' } else { b'0' };
    let mut scanner = Scanner::new(Script::new([Ok(td3()), Ok(bad)]), ScannerConfig::default());
    let mrz = scanner.next_mrz(Mode::Strict).unwrap();
    assert_eq!(mrz.format, icao9303::mrz::Format::Td3);
    let err = scanner.next_mrz(Mode::Strict).unwrap_err();
    assert!(matches!(err, ReadError::Mrz(_)), "{err:?}");
    assert_eq!(err.kind(), ReadErrorKind::BadScan);
    assert!(!format!("{err} {err:?}").contains("L898"));
}

#[test]
fn reset_drops_a_partial_scan() {
    let bytes = td3();
    let reads = vec![
        Ok(bytes[..50].to_vec()),
        Err(ErrorKind::TimedOut),
        Ok(bytes.clone()),
    ];
    let mut scanner = Scanner::new(Script::new(reads), config(Duration::from_secs(3600)));
    assert!(matches!(scanner.next_scan(), Err(ReadError::Timeout)));
    scanner.reset();
    assert_eq!(scanner.next_scan().unwrap().lines, TD3_SPECIMEN);
}

// ---------------------------------------------------------------------------
// Identification
// ---------------------------------------------------------------------------

fn identification() -> Identification {
    Identification {
        command: b"\x1bV\r".to_vec(),
        expected: "MRZ-READER".to_owned(),
        attempts: 3,
    }
}

#[test]
fn identification_accepts_the_right_reader_and_keeps_the_bytes_after_it() {
    let mut answer = b"\x11\r\nMRZ-READER v2.1\r\n".to_vec();
    answer.extend(td3());
    let script = Script::new([Err(ErrorKind::TimedOut), Ok(answer)]);
    let mut scanner =
        Scanner::new_identified(script, ScannerConfig::default(), &identification()).unwrap();
    assert_eq!(scanner.next_scan().unwrap().lines, TD3_SPECIMEN);
    assert_eq!(scanner.into_inner().written, b"\x1bV\r");
}

#[test]
fn identification_names_the_wrong_device() {
    let script = Script::new([Ok(b"GPS NMEA 0183\r\n".to_vec())]);
    let err =
        Scanner::new_identified(script, ScannerConfig::default(), &identification()).unwrap_err();
    match err {
        InitError::WrongDevice { expected, actual } => {
            assert_eq!(expected, "MRZ-READER");
            assert_eq!(actual, "GPS NMEA 0183");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn identification_withholds_an_mrz_answer() {
    let script = Script::new([Ok(td3())]);
    let err =
        Scanner::new_identified(script, ScannerConfig::default(), &identification()).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("withheld") && !text.contains("ERIKSSON"),
        "{text}"
    );
}

#[test]
fn identification_gives_up_after_its_attempts() {
    let script = Script::new(vec![Err(ErrorKind::TimedOut); 3]);
    assert!(matches!(
        Scanner::new_identified(script, ScannerConfig::default(), &identification()),
        Err(InitError::NoResponse)
    ));
    let script = Script::new([Err(ErrorKind::PermissionDenied)]);
    assert!(matches!(
        Scanner::new_identified(script, ScannerConfig::default(), &identification()),
        Err(InitError::Io(ErrorKind::PermissionDenied))
    ));
}
