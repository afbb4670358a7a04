//! The in-memory duplex byte link.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use embedded_io::{ErrorType, Read, Write};

/// How long [`End::read`](Read::read) waits for a byte before `TimedOut`.
const READ_WAIT: Duration = Duration::from_millis(5);

/// One direction of the link.
#[derive(Debug, Default)]
struct Pipe {
    /// Bytes in flight and whether an end of this pipe is gone.
    state: Mutex<PipeState>,
    /// Signalled on every write and on close.
    ready: Condvar,
}

/// What a [`Pipe`] holds.
#[derive(Debug, Default)]
struct PipeState {
    /// Bytes written and not read yet.
    bytes: VecDeque<u8>,
    /// The writer or the reader was dropped.
    closed: bool,
}

impl Pipe {
    /// Locks the state; a panic elsewhere while holding it leaves plain bytes, still usable.
    fn lock(&self) -> MutexGuard<'_, PipeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the pipe closed and wakes its reader.
    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// One end of the in-memory duplex link: what one end writes the other reads.
///
/// # Contract (that of `gate::GateLink`'s transport)
///
/// - `read` returns within about 5 ms: with bytes, or with an error of kind
///   `TimedOut` when none arrived. Once the other end is dropped and every
///   byte it wrote was read, `read` returns `Ok(0)` (end of stream).
/// - `write` never blocks; it fails with `BrokenPipe` once the other end is dropped.
#[derive(Debug)]
pub struct End {
    /// What the other end writes.
    rx: Arc<Pipe>,
    /// What the other end reads.
    tx: Arc<Pipe>,
}

/// A connected pair of link ends (kiosk side, gate side; they are symmetric).
pub fn duplex() -> (End, End) {
    let a = Arc::new(Pipe::default());
    let b = Arc::new(Pipe::default());
    (
        End {
            rx: Arc::clone(&a),
            tx: Arc::clone(&b),
        },
        End { rx: b, tx: a },
    )
}

impl Drop for End {
    fn drop(&mut self) {
        self.rx.close();
        self.tx.close();
    }
}

impl ErrorType for End {
    type Error = io::Error;
}

impl Read for End {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let guard = self.rx.lock();
        let (mut state, _) = self
            .rx
            .ready
            .wait_timeout_while(guard, READ_WAIT, |s| s.bytes.is_empty() && !s.closed)
            .unwrap_or_else(PoisonError::into_inner);
        if state.bytes.is_empty() {
            return if state.closed {
                Ok(0)
            } else {
                Err(io::ErrorKind::TimedOut.into())
            };
        }
        let n = buf.len().min(state.bytes.len());
        for (slot, b) in buf.iter_mut().zip(state.bytes.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }
}

impl Write for End {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        let mut state = self.tx.lock();
        if state.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        state.bytes.extend(buf);
        drop(state);
        self.tx.ready.notify_all();
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), io::Error> {
        Ok(())
    }
}
