//! PC/SC contactless readers, as an [`icao9303::CardChannel`].
//!
//! What it is: reader discovery, waiting for a card to arrive or leave
//! (blocking in `SCardGetStatusChange`, never polling), connecting, and
//! transmitting APDUs with a time limit, with every PC/SC error mapped to a
//! [`ChannelErrorKind`]. What it is not: anything that knows what an
//! ePassport is; that is `icao9303`.
//!
//! A transmit runs on a worker thread that owns the card handle, so a chip
//! that never answers costs the caller a [`ChannelErrorKind::Timeout`], not
//! a hung lane.
#![forbid(unsafe_code)]

use std::ffi::CString;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use icao9303::{CardChannel, ChannelError, ChannelErrorKind};
use pcsc::{Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

/// Default time a single APDU may take before the channel gives up.
pub const DEFAULT_TRANSMIT_TIMEOUT: Duration = Duration::from_secs(5);

/// The PC/SC service: lists readers and watches them.
pub struct Readers {
    ctx: Context,
}

/// A connected card, usable as an [`icao9303::CardChannel`].
pub struct PcscChannel {
    reader: String,
    atr: Vec<u8>,
    extended: bool,
    timeout: Duration,
    worker: Option<Worker>,
}

/// Options for [`Readers::connect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Longest time one APDU may take.
    pub transmit_timeout: Duration,
    /// Allow extended-length APDUs when the card's ATR announces them.
    pub allow_extended_length: bool,
}

/// A thread that owns the card handle and runs transmits for the channel.
struct Worker {
    requests: mpsc::Sender<Request>,
    responses: mpsc::Receiver<Result<Vec<u8>, ChannelError>>,
}

enum Request {
    Transmit(Vec<u8>),
    Reconnect,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            transmit_timeout: DEFAULT_TRANSMIT_TIMEOUT,
            allow_extended_length: true,
        }
    }
}

impl Readers {
    /// Connects to the PC/SC service (pcscd).
    ///
    /// # Errors
    /// [`ChannelErrorKind::ReaderUnavailable`] when pcscd is not running.
    pub fn establish() -> Result<Self, ChannelError> {
        let ctx = Context::establish(Scope::User).map_err(map_err)?;
        Ok(Self { ctx })
    }

    /// Names of the readers pcscd knows now (an empty list when there are none).
    ///
    /// # Errors
    /// A channel error when pcscd fails.
    pub fn list(&self) -> Result<Vec<String>, ChannelError> {
        match self.ctx.list_readers_owned() {
            Ok(names) => Ok(names
                .iter()
                .map(|n| n.to_string_lossy().into_owned())
                .collect()),
            Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
            Err(e) => Err(map_err(e)),
        }
    }

    /// Blocks until a card is present in `reader`, or `timeout` passes.
    ///
    /// # Errors
    /// [`ChannelErrorKind::Timeout`] when no card came in time;
    /// [`ChannelErrorKind::ReaderUnavailable`] for an unknown reader.
    pub fn wait_for_card(&self, reader: &str, timeout: Duration) -> Result<(), ChannelError> {
        self.wait_for(reader, timeout, |s| {
            s.contains(State::PRESENT) && !s.contains(State::MUTE)
        })
    }

    /// Blocks until `reader` is empty, or `timeout` passes.
    ///
    /// # Errors
    /// [`ChannelErrorKind::Timeout`] when the card is still there.
    pub fn wait_for_removal(&self, reader: &str, timeout: Duration) -> Result<(), ChannelError> {
        self.wait_for(reader, timeout, |s| s.contains(State::EMPTY))
    }

    /// Connects to the card in `reader`.
    ///
    /// # Errors
    /// [`ChannelErrorKind::CardRemoved`] when there is no card, others as mapped.
    pub fn connect(
        &self,
        reader: &str,
        options: &ConnectOptions,
    ) -> Result<PcscChannel, ChannelError> {
        let name = reader_name(reader)?;
        let card = self
            .ctx
            .connect(&name, ShareMode::Shared, Protocols::ANY)
            .map_err(map_err)?;
        let atr = card.status2_owned().map_err(map_err)?.atr().to_vec();
        let extended = options.allow_extended_length && atr_announces_extended_length(&atr);
        Ok(PcscChannel {
            reader: reader.to_owned(),
            atr,
            extended,
            timeout: options.transmit_timeout,
            worker: Some(Worker::spawn(card)),
        })
    }

    fn wait_for(
        &self,
        reader: &str,
        timeout: Duration,
        done: impl Fn(State) -> bool,
    ) -> Result<(), ChannelError> {
        let deadline = Instant::now() + timeout;
        let mut states = [ReaderState::new(reader_name(reader)?, State::UNAWARE)];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.ctx.get_status_change(left, &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => {
                    return Err(ChannelError::new(
                        ChannelErrorKind::Timeout,
                        "no change in time",
                    ));
                }
                Err(e) => return Err(map_err(e)),
            }
            let state = states[0].event_state();
            if state.contains(State::UNKNOWN) || state.contains(State::UNAVAILABLE) {
                return Err(ChannelError::new(
                    ChannelErrorKind::ReaderUnavailable,
                    format!("reader {reader:?} is not available"),
                ));
            }
            if done(state) {
                return Ok(());
            }
            states[0].sync_current_state();
        }
    }
}

impl PcscChannel {
    /// The reader this card sits in.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// The card's answer to reset.
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// Resets the card and reconnects (after a reset, secure messaging starts over).
    ///
    /// # Errors
    /// A channel error when the card is gone or the worker is stuck.
    pub fn reconnect(&mut self) -> Result<(), ChannelError> {
        self.call(Request::Reconnect).map(|_| ())
    }

    fn call(&mut self, request: Request) -> Result<Vec<u8>, ChannelError> {
        let worker = self.worker.as_ref().ok_or_else(|| {
            ChannelError::new(
                ChannelErrorKind::Timeout,
                "an earlier command timed out; connect again",
            )
        })?;
        if worker.requests.send(request).is_err() {
            self.worker = None;
            return Err(ChannelError::new(
                ChannelErrorKind::Other,
                "card worker stopped",
            ));
        }
        match worker.responses.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // The worker is stuck inside PC/SC; abandon it. It exits when
                // the card goes away and its request channel is closed.
                self.worker = None;
                Err(ChannelError::new(
                    ChannelErrorKind::Timeout,
                    format!("no answer within {} ms", self.timeout.as_millis()),
                ))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.worker = None;
                Err(ChannelError::new(
                    ChannelErrorKind::Other,
                    "card worker stopped",
                ))
            }
        }
    }
}

impl std::fmt::Debug for PcscChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscChannel")
            .field("reader", &self.reader)
            .field("extended", &self.extended)
            .field("timeout", &self.timeout)
            .field("usable", &self.worker.is_some())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").finish_non_exhaustive()
    }
}

impl CardChannel for PcscChannel {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, ChannelError> {
        self.call(Request::Transmit(command.to_vec()))
    }

    fn supports_extended_length(&self) -> bool {
        self.extended
    }
}

impl Worker {
    fn spawn(mut card: pcsc::Card) -> Self {
        let (req_tx, req_rx) = mpsc::channel::<Request>();
        let (resp_tx, resp_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
            // No command has succeeded since (re)connecting: the card holds
            // no state of ours, so a reset by someone else costs nothing.
            let mut fresh = true;
            for request in req_rx {
                let result = match request {
                    Request::Transmit(apdu) => {
                        let mut result = card.transmit(&apdu, &mut buf).map(<[u8]>::to_vec);
                        if fresh && matches!(result, Err(pcsc::Error::ResetCard)) {
                            result = card
                                .reconnect(
                                    ShareMode::Shared,
                                    Protocols::ANY,
                                    Disposition::LeaveCard,
                                )
                                .and_then(|()| card.transmit(&apdu, &mut buf).map(<[u8]>::to_vec));
                        }
                        fresh = fresh && result.is_err();
                        match result {
                            // vpcd (and some drivers) answer an empty buffer
                            // when the card left mid-command.
                            Ok(r) if r.is_empty() => Err(pcsc::Error::RemovedCard),
                            other => other,
                        }
                    }
                    Request::Reconnect => {
                        fresh = true;
                        card.reconnect(ShareMode::Shared, Protocols::ANY, Disposition::ResetCard)
                            .map(|()| Vec::new())
                    }
                };
                if resp_tx.send(result.map_err(map_err)).is_err() {
                    break;
                }
            }
            let _ = card.disconnect(Disposition::LeaveCard);
        });
        Self {
            requests: req_tx,
            responses: resp_rx,
        }
    }
}

/// Whether an ATR's historical bytes announce extended Lc/Le (ISO/IEC 7816-4 section 8.1.1.2.7, card capabilities, third software function byte, bit 7).
pub fn atr_announces_extended_length(atr: &[u8]) -> bool {
    historical_bytes(atr)
        .and_then(|hist| card_capabilities(hist))
        .is_some_and(|caps| caps.get(2).is_some_and(|b| b & 0x40 != 0))
}

/// The historical bytes of an ATR (ISO/IEC 7816-3 section 8.2), if the ATR is well formed.
fn historical_bytes(atr: &[u8]) -> Option<&[u8]> {
    let t0 = *atr.get(1)?;
    let count = usize::from(t0 & 0x0F);
    let mut pos = 2;
    let mut y = t0 >> 4;
    loop {
        let present = y.count_ones() as usize;
        let td = if y & 0x8 != 0 {
            Some(*atr.get(pos + present - 1)?)
        } else {
            None
        };
        pos += present;
        match td {
            Some(td) => y = td >> 4,
            None => break,
        }
    }
    atr.get(pos..pos + count)
}

/// The card capabilities (compact-TLV tag 7) among historical bytes that start with category 0x80.
fn card_capabilities(hist: &[u8]) -> Option<&[u8]> {
    let (&category, mut rest) = hist.split_first()?;
    if category != 0x80 {
        return None;
    }
    while let Some((&tl, tail)) = rest.split_first() {
        let len = usize::from(tl & 0x0F);
        let value = tail.get(..len)?;
        if tl >> 4 == 0x7 {
            return Some(value);
        }
        rest = &tail[len..];
    }
    None
}

fn reader_name(reader: &str) -> Result<CString, ChannelError> {
    CString::new(reader)
        .map_err(|_| ChannelError::new(ChannelErrorKind::Other, "reader name contains NUL"))
}

fn map_err(e: pcsc::Error) -> ChannelError {
    use pcsc::Error as E;
    let kind = match e {
        E::RemovedCard | E::NoSmartcard | E::UnpoweredCard | E::UnresponsiveCard => {
            ChannelErrorKind::CardRemoved
        }
        E::ResetCard => ChannelErrorKind::CardReset,
        E::Timeout => ChannelErrorKind::Timeout,
        E::NoService
        | E::ServiceStopped
        | E::NoReadersAvailable
        | E::ReaderUnavailable
        | E::UnknownReader => ChannelErrorKind::ReaderUnavailable,
        _ => ChannelErrorKind::Other,
    };
    ChannelError::new(kind, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_length_bit_is_read_from_card_capabilities() {
        // 3B 8A 80 01 | 80 73 00 00 40 ... (category 80, caps 73 with bit 7 of byte 3)
        let with = [
            0x3B, 0x86, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0x40, 0x00, 0x00,
        ];
        let without = [
            0x3B, 0x86, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        assert!(atr_announces_extended_length(&with));
        assert!(!atr_announces_extended_length(&without));
    }

    #[test]
    fn malformed_atrs_announce_nothing() {
        for atr in [
            &[][..],
            &[0x3B],
            &[0x3B, 0x8F, 0x80],
            &[0x3B, 0x82, 0x80, 0x01, 0x80, 0x75],
        ] {
            assert!(!atr_announces_extended_length(atr));
        }
    }
}
