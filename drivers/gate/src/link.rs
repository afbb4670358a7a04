//! The link: commands with acknowledgement, events queued.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use embedded_io::{Error as _, ErrorKind, Read, Write};
use gate_protocol::{Command, Decoder, FirmwareInfo, Frame, GateEvent, MAX_FRAME_LEN, Message};

use crate::GateError;

/// Retransmission policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// How long to wait for the acknowledgement of one transmission.
    pub ack_timeout: Duration,
    /// How many times a command is sent before [`GateError::NoAck`] (at least 1).
    pub attempts: u8,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_millis(200),
            attempts: 3,
        }
    }
}

/// The gate acknowledged a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// Sequence number the gate acknowledged.
    pub seq: u16,
}

/// The kiosk end of the gate link over a blocking byte stream.
///
/// # Contract for the transport
///
/// - `read` must return within a short bounded time (tens of ms): with
///   bytes, or with an error whose kind is [`ErrorKind::TimedOut`] when none
///   arrived. `Ok(0)` means the stream ended ([`GateError::Closed`]).
/// - `write` may block until the bytes are queued.
#[derive(Debug)]
pub struct GateLink<T> {
    /// The byte stream.
    io: T,
    /// Frame reassembly.
    decoder: Decoder,
    /// Sequence number of the next command.
    next_seq: u16,
    /// Events received and not taken yet.
    events: VecDeque<GateEvent>,
    /// Retransmission policy.
    config: LinkConfig,
    /// Frames dropped as damaged since the link was made.
    bad_frames: u64,
}

impl<T: Read + Write> GateLink<T> {
    /// A link over `io`; the first command carries sequence number 0.
    pub fn new(io: T, config: LinkConfig) -> Self {
        Self {
            io,
            decoder: Decoder::new(),
            next_seq: 0,
            events: VecDeque::new(),
            config,
            bad_frames: 0,
        }
    }

    /// Sends `command` and waits until the gate acknowledges its sequence number.
    ///
    /// Retransmits the same frame (same sequence number, so the gate acts
    /// once) after each [`LinkConfig::ack_timeout`]. Acks and naks for other
    /// sequence numbers (late duplicates) are ignored; events that arrive
    /// meanwhile are queued for [`GateLink::next_event`].
    ///
    /// # Errors
    ///
    /// [`GateError::Nak`] when the gate refused it, [`GateError::NoAck`]
    /// after [`LinkConfig::attempts`] transmissions without an answer,
    /// [`GateError::Io`] / [`GateError::Closed`] when the stream failed.
    pub fn command(&mut self, command: Command) -> Result<Ack, GateError> {
        self.command_with(command, self.config.ack_timeout, self.config.attempts)
    }

    /// As [`GateLink::command`] with another timeout and number of transmissions.
    pub(crate) fn command_with(
        &mut self,
        command: Command,
        ack_timeout: Duration,
        attempts: u8,
    ) -> Result<Ack, GateError> {
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        let frame = Frame {
            seq,
            message: Message::Command(command),
        };
        let mut wire = [0u8; MAX_FRAME_LEN];
        let n = gate_protocol::encode(&frame, &mut wire).map_err(GateError::Encode)?;
        let wire = wire.get(..n).unwrap_or_default();
        let attempts = attempts.max(1);
        for _ in 0..attempts {
            self.io.write_all(wire).map_err(io_error)?;
            self.io.flush().map_err(io_error)?;
            let deadline = Instant::now() + ack_timeout;
            while let Some(frame) = self.receive(deadline)? {
                match frame.message {
                    Message::Ack { seq: s } if s == seq => return Ok(Ack { seq }),
                    Message::Nak { seq: s, reason } if s == seq => {
                        return Err(GateError::Nak { seq, reason });
                    }
                    Message::Event(event) => self.events.push_back(event),
                    Message::Ack { .. } | Message::Nak { .. } | Message::Command(_) => {}
                }
            }
        }
        Err(GateError::NoAck { seq, attempts })
    }

    /// The next gate event, waiting up to `timeout` for one; `None` on timeout.
    ///
    /// # Errors
    ///
    /// [`GateError::Io`] / [`GateError::Closed`] when the stream failed.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<GateEvent>, GateError> {
        if let Some(event) = self.events.pop_front() {
            return Ok(Some(event));
        }
        let deadline = Instant::now() + timeout;
        while let Some(frame) = self.receive(deadline)? {
            if let Message::Event(event) = frame.message {
                return Ok(Some(event));
            }
        }
        Ok(None)
    }

    /// Asks the gate what firmware it runs (`QueryFirmware`, then its `Firmware` event).
    ///
    /// Other events that arrive meanwhile stay queued for [`GateLink::next_event`].
    ///
    /// # Errors
    ///
    /// As [`GateLink::command`] (`Nak(Unsupported)` from a gate without
    /// firmware slots; `NoAck` from firmware older than the update
    /// messages), or [`GateError::NoReport`] when the event does not follow.
    pub fn query_firmware(&mut self) -> Result<FirmwareInfo, GateError> {
        self.query_firmware_with(self.config.ack_timeout, self.config.attempts)
    }

    /// As [`GateLink::query_firmware`] with another timeout and number of transmissions.
    pub(crate) fn query_firmware_with(
        &mut self,
        ack_timeout: Duration,
        attempts: u8,
    ) -> Result<FirmwareInfo, GateError> {
        self.events.retain(|e| !matches!(e, GateEvent::Firmware(_)));
        self.command_with(Command::QueryFirmware, ack_timeout, attempts)?;
        let deadline = Instant::now() + ack_timeout;
        loop {
            let found = self
                .events
                .iter()
                .position(|e| matches!(e, GateEvent::Firmware(_)));
            if let Some(GateEvent::Firmware(info)) = found.and_then(|i| self.events.remove(i)) {
                return Ok(info);
            }
            match self.receive(deadline)? {
                Some(Frame {
                    message: Message::Event(event),
                    ..
                }) => self.events.push_back(event),
                Some(_) => {}
                None => return Err(GateError::NoReport),
            }
        }
    }

    /// Frames dropped as damaged (bad CRC, framing, version) so far.
    pub fn bad_frames(&self) -> u64 {
        self.bad_frames
    }

    /// Gives the byte stream back.
    pub fn into_inner(self) -> T {
        self.io
    }

    /// Reads until one frame is complete or `deadline` passes (`None`).
    fn receive(&mut self, deadline: Instant) -> Result<Option<Frame>, GateError> {
        let mut byte = [0u8; 1];
        while Instant::now() < deadline {
            match self.io.read(&mut byte) {
                Ok(0) => return Err(GateError::Closed),
                Ok(_) => match self.decoder.feed(byte[0]) {
                    Some(Ok(frame)) => return Ok(Some(frame)),
                    Some(Err(_)) => self.bad_frames += 1,
                    None => {}
                },
                Err(e) if e.kind() == ErrorKind::TimedOut => {}
                Err(e) => return Err(io_error(e)),
            }
        }
        Ok(None)
    }
}

/// Keeps the kind of a transport error.
fn io_error(e: impl embedded_io::Error) -> GateError {
    GateError::Io(e.kind())
}

#[cfg(test)]
mod tests;
