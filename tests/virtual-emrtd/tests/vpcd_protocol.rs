//! The vpcd client against a local listener playing vpcd's part (no pcscd needed).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use icao9303::session::{ReadOptions, Session};
use icao9303::{CardChannel, ChannelError, ChannelErrorKind, Error};
use virtual_emrtd::lds::{FID_COM, FID_DG2};
use virtual_emrtd::vpcd::{self, connect};
use virtual_emrtd::{ChipProfile, Misbehaviour};

use common::{MRZ, chip, keys};

/// The reader side of the vpcd protocol over one accepted connection.
struct FakeVpcd {
    stream: TcpStream,
}

impl FakeVpcd {
    fn accept(listener: &TcpListener) -> Self {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Self { stream }
    }

    fn send(&mut self, message: &[u8]) -> io::Result<()> {
        let mut out = u16::try_from(message.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(message);
        self.stream.write_all(&out)
    }

    fn receive(&mut self) -> io::Result<Vec<u8>> {
        let mut len = [0u8; 2];
        self.stream.read_exact(&mut len)?;
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        self.stream.read_exact(&mut body)?;
        Ok(body)
    }

    fn power_on_and_get_atr(&mut self) -> Vec<u8> {
        self.send(&[0x01]).unwrap();
        self.send(&[0x04]).unwrap();
        self.receive().unwrap()
    }
}

impl CardChannel for FakeVpcd {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, ChannelError> {
        let fail = |e: io::Error| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                ChannelError::new(ChannelErrorKind::Timeout, e.to_string())
            }
            _ => ChannelError::new(ChannelErrorKind::CardRemoved, e.to_string()),
        };
        self.send(command).map_err(fail)?;
        self.receive().map_err(fail)
    }

    fn supports_extended_length(&self) -> bool {
        true
    }
}

fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

#[test]
fn power_on_atr_and_one_apdu() {
    let (listener, addr) = listener();
    let chip = chip(ChipProfile::new(MRZ));
    let atr = chip.atr();
    let card = connect(chip, addr).unwrap();
    let mut vpcd = FakeVpcd::accept(&listener);
    assert_eq!(vpcd.power_on_and_get_atr(), atr);
    assert_eq!(
        atr,
        [0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x94, 0x01, 0x40, 0x22]
    );
    let select = [
        0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01,
    ];
    vpcd.send(&select).unwrap();
    assert_eq!(vpcd.receive().unwrap(), [0x90, 0x00]);
    assert_eq!(card.apdu_count(), 1, "control messages are not APDUs");
    // Presence polls: the ATR again, any time.
    vpcd.send(&[0x04]).unwrap();
    assert_eq!(vpcd.receive().unwrap(), atr);
    assert_eq!(
        card.apdu_counter()
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    // Removing the card closes the connection: vpcd sees the end of the stream.
    card.remove().unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(vpcd.stream.read(&mut buf).unwrap(), 0);
}

#[test]
fn a_whole_bac_read_over_the_socket_and_reset_ends_the_session() {
    let (listener, addr) = listener();
    let chip = chip(ChipProfile::new(MRZ).with_dg2_min_size(40_000));
    let dg2 = chip.file(FID_DG2).unwrap().to_vec();
    let card = connect(chip, addr).unwrap();
    let mut vpcd = FakeVpcd::accept(&listener);
    vpcd.power_on_and_get_atr();
    let mut session = Session::open_bac(&mut vpcd, keys(), &ReadOptions::default()).unwrap();
    assert_eq!(session.read_file(FID_DG2, "DG2").unwrap(), dg2);
    let apdus = session.apdu_count();
    drop(session);
    assert_eq!(card.apdu_count(), apdus);
    // After a reset the old session keys are gone: a protected command gets plain 6988.
    vpcd.send(&[0x02]).unwrap();
    vpcd.send(&[0x0C, 0xB0, 0x00, 0x00, 0x00]).unwrap();
    assert_eq!(vpcd.receive().unwrap(), [0x69, 0x88]);
    drop(card);
    let mut buf = [0u8; 1];
    assert_eq!(
        vpcd.stream.read(&mut buf).unwrap(),
        0,
        "dropping the card removes it too"
    );
}

#[test]
fn slow_delays_responses_but_not_the_atr() {
    let (listener, addr) = listener();
    let chip = chip(ChipProfile::new(MRZ).with(Misbehaviour::Slow(Duration::from_millis(150))));
    let card = connect(chip, addr).unwrap();
    let mut vpcd = FakeVpcd::accept(&listener);
    let started = Instant::now();
    vpcd.power_on_and_get_atr();
    assert!(started.elapsed() < Duration::from_millis(150));
    let started = Instant::now();
    vpcd.send(&[0x00, 0x84, 0x00, 0x00, 0x08]).unwrap();
    assert_eq!(
        vpcd.receive().unwrap().len(),
        2,
        "6985: no application selected"
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    card.remove().unwrap();
}

#[test]
fn never_answer_leaves_vpcd_waiting_until_the_card_is_removed() {
    let (listener, addr) = listener();
    let card = connect(
        chip(ChipProfile::new(MRZ).with(Misbehaviour::NeverAnswer)),
        addr,
    )
    .unwrap();
    let mut vpcd = FakeVpcd::accept(&listener);
    vpcd.power_on_and_get_atr();
    vpcd.stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut session = Session::open_bac(&mut vpcd, keys(), &ReadOptions::default()).unwrap();
    let err = session.read_file(FID_COM, "EF.COM").unwrap_err();
    assert!(
        matches!(&err, Error::Channel(c) if c.kind == ChannelErrorKind::Timeout),
        "{err:?}"
    );
    drop(session);
    card.remove().unwrap();
}

#[test]
fn connect_waits_for_vpcd_to_listen() {
    // Find a free port, then start listening on it only after the card began trying.
    let addr = listener().1;
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(400));
        let l = TcpListener::bind(addr).unwrap();
        let mut vpcd = FakeVpcd::accept(&l);
        vpcd.power_on_and_get_atr()
    });
    let card = vpcd::connect_with_retry(
        chip(ChipProfile::new(MRZ).with_extended_length(false)),
        addr,
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(
        late.join().unwrap(),
        [0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x94, 0x01, 0x00, 0x62]
    );
    card.remove().unwrap();
    // Nobody listening at all: a bounded wait, then the error.
    let addr = listener().1;
    let started = Instant::now();
    let chip = chip(ChipProfile::new(MRZ));
    assert!(vpcd::connect_with_retry(chip, addr, Duration::from_millis(300)).is_err());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn vpcd_closing_the_connection_ends_the_card_cleanly() {
    let (listener, addr) = listener();
    let card = connect(chip(ChipProfile::new(MRZ)), addr).unwrap();
    let mut vpcd = FakeVpcd::accept(&listener);
    vpcd.power_on_and_get_atr();
    vpcd.send(&[
        0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01,
    ])
    .unwrap();
    vpcd.receive().unwrap();
    drop(vpcd);
    card.wait().unwrap();
}
