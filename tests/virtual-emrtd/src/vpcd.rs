//! The virtual chip as a card in a pcscd reader, through vsmartcard's vpcd driver.
//!
//! vpcd (the `libifdvpcd` pcscd driver) listens on TCP, port 35963 for reader
//! "Virtual PCD 00 00" and 35964 for "Virtual PCD 00 01"; the virtual card
//! connects, and the card is in the reader while the connection is up. Every
//! message, either way, is a 2-byte big-endian length and that many bytes.
//! From vpcd, a 1-byte message is a control byte: `00` power off, `01` power
//! on, `02` reset (none answered), `04` "send the ATR" (answered with the
//! ATR). Any longer message is a command APDU, answered with the response
//! APDU. vpcd asks for the ATR every few hundred milliseconds to check that
//! the card is still there, and waits without a timeout for each response.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::chip::VirtualChip;

/// vpcd's port for reader "Virtual PCD 00 00" (the next reader is one port up).
pub const DEFAULT_PORT: u16 = 35963;
/// How long [`connect`] keeps trying while vpcd is not listening yet.
pub const CONNECT_RETRY: Duration = Duration::from_secs(5);

/// Control byte: power off.
const CTRL_OFF: u8 = 0x00;
/// Control byte: power on.
const CTRL_ON: u8 = 0x01;
/// Control byte: warm reset.
const CTRL_RESET: u8 = 0x02;
/// Control byte: send the ATR.
const CTRL_ATR: u8 = 0x04;
/// Pause between connection attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// Granularity of an interruptible [`crate::Misbehaviour::Slow`] delay.
const SLEEP_STEP: Duration = Duration::from_millis(10);

/// A virtual chip inserted into a vpcd reader, served on a background thread.
///
/// The card leaves the reader on [`VpcdCard::remove`] or when dropped.
#[derive(Debug)]
pub struct VpcdCard {
    /// A handle on the connection, to shut it down from this side.
    stream: TcpStream,
    thread: Option<JoinHandle<io::Result<()>>>,
    stop: Arc<AtomicBool>,
    apdus: Arc<AtomicUsize>,
    peer: SocketAddr,
}

/// Connects `chip` to vpcd at `addr` (retrying for [`CONNECT_RETRY`]) and serves it on a background thread.
///
/// # Errors
/// The last connection error when vpcd did not listen in time.
pub fn connect(chip: VirtualChip, addr: SocketAddr) -> io::Result<VpcdCard> {
    connect_with_retry(chip, addr, CONNECT_RETRY)
}

/// As [`connect`], retrying for `retry_for` while the connection is refused or times out.
///
/// # Errors
/// The last connection error when vpcd did not listen in time.
pub fn connect_with_retry(
    chip: VirtualChip,
    addr: SocketAddr,
    retry_for: Duration,
) -> io::Result<VpcdCard> {
    let deadline = Instant::now() + retry_for;
    let stream = loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(s) => break s,
            Err(e) if Instant::now() + RETRY_PAUSE < deadline && retryable(&e) => {
                thread::sleep(RETRY_PAUSE)
            }
            Err(e) => return Err(e),
        }
    };
    stream.set_nodelay(true)?;
    let peer = stream.peer_addr()?;
    let handle = stream.try_clone()?;
    let stop = Arc::new(AtomicBool::new(false));
    let apdus = Arc::new(AtomicUsize::new(0));
    let thread = {
        let (stop, apdus) = (Arc::clone(&stop), Arc::clone(&apdus));
        let mut chip = chip;
        let mut stream = stream;
        thread::Builder::new()
            .name("virtual-emrtd-vpcd".into())
            .spawn(move || {
                let result = serve(&mut chip, &mut QuickAck(&mut stream), &apdus, &stop);
                // Errors caused by our own shutdown are not errors.
                if stop.load(Ordering::SeqCst) {
                    Ok(())
                } else {
                    result
                }
            })?
    };
    Ok(VpcdCard {
        stream: handle,
        thread: Some(thread),
        stop,
        apdus,
        peer,
    })
}

impl VpcdCard {
    /// The counter of command APDUs received, shared with the serving thread.
    pub fn apdu_counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.apdus)
    }

    /// Command APDUs received so far.
    pub fn apdu_count(&self) -> usize {
        self.apdus.load(Ordering::SeqCst)
    }

    /// The vpcd address this card is connected to.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Whether the serving thread has ended (vpcd closed the connection, or an I/O error).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Blocks until vpcd closes the connection (pcscd stopped, say).
    ///
    /// # Errors
    /// The I/O error that ended the connection, if it did not end cleanly.
    pub fn wait(mut self) -> io::Result<()> {
        self.join()
    }

    /// Takes the card out of the reader: closes the connection and joins the serving thread.
    ///
    /// # Errors
    /// An I/O error that had already ended the connection.
    pub fn remove(mut self) -> io::Result<()> {
        self.shutdown();
        self.join()
    }

    fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // NotConnected when vpcd already closed it: nothing left to do.
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    fn join(&mut self) -> io::Result<()> {
        match self.thread.take() {
            None => Ok(()),
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("vpcd serving thread panicked"))),
        }
    }
}

impl Drop for VpcdCard {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown();
            let _ = self.join();
        }
    }
}

/// Runs the vpcd protocol for `chip` on `stream` until vpcd closes it or `stop` is set.
///
/// Counts command APDUs in `apdus`. A silent chip
/// ([`crate::Misbehaviour::NeverAnswer`]) gets no response written; a slow one
/// ([`crate::Misbehaviour::Slow`]) has each response APDU (not the ATR) held back.
///
/// # Errors
/// An I/O error on the stream, or a message cut short.
pub fn serve<S: Read + Write>(
    chip: &mut VirtualChip,
    stream: &mut S,
    apdus: &AtomicUsize,
    stop: &AtomicBool,
) -> io::Result<()> {
    while !stop.load(Ordering::SeqCst) {
        let Some(message) = read_message(stream)? else {
            return Ok(());
        };
        match message.as_slice() {
            [] => {}
            [CTRL_OFF | CTRL_ON | CTRL_RESET] => chip.reset(),
            [CTRL_ATR] => write_message(stream, &chip.atr())?,
            // Unknown control bytes have no answer.
            [_] => {}
            apdu => {
                apdus.fetch_add(1, Ordering::SeqCst);
                let Some(response) = chip.answer(apdu) else {
                    continue;
                };
                if let Some(delay) = chip.response_delay() {
                    sleep_unless_stopped(delay, stop);
                }
                write_message(stream, &response)?;
            }
        }
    }
    Ok(())
}

/// A TCP stream that acknowledges every segment at once.
///
/// vpcd writes a message's length and its body in two sends without
/// TCP_NODELAY, so Nagle holds the body back until the length is
/// acknowledged; with Linux's delayed ACK that costs 40 ms per APDU. A real
/// reader has no such cost, so the simulator must not add it.
struct QuickAck<'a>(&'a mut TcpStream);

impl Read for QuickAck<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Linux clears the flag after a while: set it before every read.
        socket2::SockRef::from(&*self.0).set_tcp_quickack(true)?;
        self.0.read(buf)
    }
}

impl Write for QuickAck<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Reads one length-prefixed message; `None` on a clean end of stream.
fn read_message<S: Read>(stream: &mut S) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 2];
    let first = loop {
        match stream.read(&mut len[..1]) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    if first == 0 {
        return Ok(None);
    }
    stream.read_exact(&mut len[1..])?;
    let mut message = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut message)?;
    Ok(Some(message))
}

/// Writes one length-prefixed message in a single write.
fn write_message<S: Write>(stream: &mut S, message: &[u8]) -> io::Result<()> {
    let fallback = [0x6F, 0x00];
    // The chip never answers more than 65,535 bytes; if it did, say so rather than cut it.
    let (len, body) = match u16::try_from(message.len()) {
        Ok(len) => (len, message),
        Err(_) => (2, &fallback[..]),
    };
    let mut out = Vec::with_capacity(body.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    stream.write_all(&out)?;
    stream.flush()
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let end = Instant::now() + total;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= end {
            return;
        }
        thread::sleep(SLEEP_STEP.min(end - now));
    }
}

fn retryable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::TimedOut | io::ErrorKind::ConnectionReset
    )
}
