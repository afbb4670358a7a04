//! Retransmission, NAK, duplicate acks and events against a scripted gate.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use gate_protocol::{Frame, GateEvent, MAX_FRAME_LEN, Message, NakReason, decode, encode};

use super::*;

/// A transport whose peer answers each written frame with scripted bytes.
#[derive(Default)]
struct Scripted {
    /// Bytes to answer the n-th write with.
    answers: VecDeque<Vec<u8>>,
    /// Bytes waiting to be read.
    rx: VecDeque<u8>,
    /// Frames written.
    written: Vec<Vec<u8>>,
    /// Report end of stream when nothing is left to read.
    eof: bool,
}

impl embedded_io::ErrorType for Scripted {
    type Error = io::Error;
}

impl embedded_io::Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        match (self.rx.pop_front(), buf.first_mut()) {
            (Some(b), Some(slot)) => {
                *slot = b;
                Ok(1)
            }
            _ if self.eof => Ok(0),
            _ => Err(io::Error::from(io::ErrorKind::TimedOut)),
        }
    }
}

impl embedded_io::Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        self.written.push(buf.to_vec());
        if let Some(answer) = self.answers.pop_front() {
            self.rx.extend(answer);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), io::Error> {
        Ok(())
    }
}

/// Encoded gate frame.
fn wire(seq: u16, message: Message) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME_LEN];
    let n = encode(&Frame { seq, message }, &mut out).expect("fits");
    out[..n].to_vec()
}

fn link(answers: Vec<Vec<u8>>) -> GateLink<Scripted> {
    let io = Scripted {
        answers: answers.into(),
        ..Scripted::default()
    };
    let config = LinkConfig {
        ack_timeout: Duration::from_millis(20),
        attempts: 3,
    };
    GateLink::new(io, config)
}

#[test]
fn acked_on_the_first_try() {
    let mut l = link(vec![wire(0, Message::Ack { seq: 0 })]);
    assert_eq!(l.command(Command::OpenEntry), Ok(Ack { seq: 0 }));
    let io = l.into_inner();
    assert_eq!(io.written.len(), 1);
    let sent = decode(&io.written[0]).expect("valid");
    assert_eq!(sent.message, Message::Command(Command::OpenEntry));
}

#[test]
fn retransmits_the_same_frame_then_gives_up() {
    let mut l = link(vec![]);
    assert_eq!(
        l.command(Command::Heartbeat),
        Err(GateError::NoAck {
            seq: 0,
            attempts: 3
        })
    );
    let io = l.into_inner();
    assert_eq!(io.written.len(), 3);
    assert!(io.written.iter().all(|w| *w == io.written[0]));
}

#[test]
fn a_lost_ack_is_recovered_by_retransmission() {
    let mut l = link(vec![vec![], wire(0, Message::Ack { seq: 0 })]);
    assert_eq!(l.command(Command::CloseExit), Ok(Ack { seq: 0 }));
    assert_eq!(l.into_inner().written.len(), 2);
}

#[test]
fn stale_acks_are_ignored_and_events_are_queued() {
    let mut answer = wire(0, Message::Ack { seq: 41 });
    answer.extend(wire(
        1,
        Message::Nak {
            seq: 40,
            reason: NakReason::Faulted,
        },
    ));
    answer.extend(wire(2, Message::Event(GateEvent::Tailgating)));
    answer.extend([0x12, 0x34, 0x00]); // line noise
    answer.extend(wire(3, Message::Ack { seq: 0 }));
    let mut l = link(vec![answer]);
    assert_eq!(l.command(Command::QueryStatus), Ok(Ack { seq: 0 }));
    assert_eq!(l.bad_frames(), 1);
    assert_eq!(
        l.next_event(Duration::ZERO),
        Ok(Some(GateEvent::Tailgating))
    );
    assert_eq!(l.next_event(Duration::from_millis(5)), Ok(None));
}

#[test]
fn a_nak_names_the_reason() {
    let mut l = link(vec![
        wire(0, Message::Ack { seq: 0 }),
        wire(
            1,
            Message::Nak {
                seq: 1,
                reason: NakReason::EmergencyActive,
            },
        ),
    ]);
    assert!(l.command(Command::Heartbeat).is_ok());
    let err = l.command(Command::OpenEntry).expect_err("refused");
    assert_eq!(
        err,
        GateError::Nak {
            seq: 1,
            reason: NakReason::EmergencyActive
        }
    );
    assert!(err.to_string().contains("EmergencyActive"));
}

#[test]
fn end_of_stream_is_closed() {
    let mut l = link(vec![]);
    let mut io = l.into_inner();
    io.eof = true;
    l = GateLink::new(io, LinkConfig::default());
    assert_eq!(l.command(Command::Heartbeat), Err(GateError::Closed));
}
