//! The real byte protocol over a pseudo-terminal: the simulated reader writes on one end, the driver reads the other through `SerialLine`.

use std::io::{Read as _, Write as _};
use std::thread;
use std::time::{Duration, Instant};

use doc_scanner::sim::{
    LineEnd, SimulatedReader, Style, TD1_SPECIMEN, TD2_SPECIMEN, TD3_SPECIMEN, Trailer,
};
use doc_scanner::{
    Cut, Framing, Identification, InitError, ReadError, ReadErrorKind, ScanError, Scanner,
    ScannerConfig, SerialLine,
};
use icao9303::mrz::{Format, Mode};
use serialport::TTYPort;

const READ_TIMEOUT: Duration = Duration::from_millis(50);

/// Calls `next` until it gives something other than a timeout, for at most 10 s.
fn wait<T, E>(mut next: impl FnMut() -> Result<T, ReadError<E>>) -> Result<T, ReadError<E>> {
    let start = Instant::now();
    loop {
        match next() {
            Err(e)
                if e.kind() == ReadErrorKind::Timeout
                    && start.elapsed() < Duration::from_secs(10) => {}
            other => return other,
        }
    }
}

#[test]
fn unframed_reader_with_noise_chunks_and_a_torn_scan() {
    let (master, slave) = TTYPort::pair().expect("a pty pair");
    let writer = thread::spawn(move || {
        let style = Style {
            line_end: LineEnd::Cr,
            trailer: Trailer::BlankLine,
            noise: b"\x00\x11\x13".to_vec(),
            ..Style::default()
        };
        let mut reader = SimulatedReader::new(master, style).chunked(5, Duration::from_millis(1));
        reader.send_scan(&TD3_SPECIMEN)?;
        reader.send_scan(&TD1_SPECIMEN)?;
        // The reader stops mid-line; the traveller lifts the document and lays another.
        reader.send_raw(b"I<UTOERIKSSON<<AN")?;
        thread::sleep(Duration::from_millis(600));
        reader.send_scan(&TD2_SPECIMEN)?;
        // Keep the master open until the driver has read everything.
        thread::sleep(Duration::from_millis(500));
        std::io::Result::Ok(())
    });

    let line = SerialLine::from_port(slave, READ_TIMEOUT).expect("timeout set");
    let config = ScannerConfig {
        framing: Framing::Lines,
        idle_timeout: Duration::from_millis(300),
    };
    let mut scanner = Scanner::new(line, config);
    let td3 = wait(|| scanner.next_mrz(Mode::Strict)).expect("TD3");
    assert_eq!(td3.format, Format::Td3);
    let td1 = wait(|| scanner.next_mrz(Mode::Strict)).expect("TD1");
    assert_eq!(td1.format, Format::Td1);
    let torn = wait(|| scanner.next_scan()).expect_err("the torn scan");
    assert!(
        matches!(
            torn,
            ReadError::Scan(ScanError::Incomplete {
                lines: 0,
                mid_line: true,
                cause: Cut::Idle
            })
        ),
        "{torn:?}"
    );
    let td2 = wait(|| scanner.next_mrz(Mode::Strict)).expect("TD2");
    assert_eq!(td2.format, Format::Td2);
    writer.join().expect("writer thread").expect("writes");
}

#[test]
fn framed_reader_with_identification() {
    let (mut master, slave) = TTYPort::pair().expect("a pty pair");
    let device = thread::spawn(move || {
        // Wait for the command, answer it, then send two framed scans.
        let mut command = Vec::new();
        let mut byte = [0u8; 1];
        while !command.ends_with(b"\r") {
            match master.read(&mut byte) {
                Ok(1) => command.push(byte[0]),
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => return Err(e),
            }
        }
        master.write_all(b"MRZ-SIM 1.0\r\n")?;
        let style = Style {
            framed: true,
            end_last_line: false,
            noise: b"\r\nREADY\r\n".to_vec(),
            ..Style::default()
        };
        let mut reader = SimulatedReader::new(master, style);
        reader.send_scan(&TD1_SPECIMEN)?;
        reader.send_scan(&TD3_SPECIMEN)?;
        thread::sleep(Duration::from_millis(500));
        Ok(command)
    });

    let line = SerialLine::from_port(slave, READ_TIMEOUT).expect("timeout set");
    let config = ScannerConfig {
        framing: Framing::StxEtx,
        ..ScannerConfig::default()
    };
    let id = Identification {
        command: b"?V\r".to_vec(),
        expected: "MRZ-SIM".to_owned(),
        attempts: 100,
    };
    let mut scanner = Scanner::new_identified(line, config, &id).expect("the simulated reader");
    assert_eq!(
        wait(|| scanner.next_scan()).expect("TD1").lines,
        TD1_SPECIMEN
    );
    assert_eq!(
        wait(|| scanner.next_scan()).expect("TD3").lines,
        TD3_SPECIMEN
    );
    assert_eq!(device.join().expect("device thread").expect("io"), b"?V\r");
}

#[test]
fn a_silent_line_fails_identification_and_times_out_reads() {
    let (_master, slave) = TTYPort::pair().expect("a pty pair");
    let line = SerialLine::from_port(slave, Duration::from_millis(20)).expect("timeout set");
    let id = Identification {
        command: b"?V\r".to_vec(),
        expected: "MRZ-SIM".to_owned(),
        attempts: 3,
    };
    // The master never answers (and nobody reads the command).
    assert!(matches!(
        Scanner::new_identified(line, ScannerConfig::default(), &id),
        Err(InitError::NoResponse)
    ));
    let (_master, slave) = TTYPort::pair().expect("a pty pair");
    let line = SerialLine::from_port(slave, Duration::from_millis(20)).expect("timeout set");
    let mut scanner = Scanner::new(line, ScannerConfig::default());
    let err = scanner.next_scan().expect_err("silence");
    assert_eq!(err.kind(), ReadErrorKind::Timeout, "{err:?}");
}
