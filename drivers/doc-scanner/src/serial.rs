//! Linux serial backend: a tty opened with the `serialport` crate, as an `embedded_io` `Read` + `Write`.
//!
//! [`SerialLine`] is a small newtype over `serialport::TTYPort`: `read`
//! blocks until a byte arrives or the configured read timeout expires, and
//! reports the timeout as a `std::io::Error` of kind `TimedOut`, which
//! `embedded_io` maps to [`embedded_io::ErrorKind::TimedOut`] as
//! [`Scanner`](crate::Scanner) expects. It also wraps one end of a
//! pseudo-terminal pair, which is how the tests and the demo drive the real
//! byte protocol.

use std::io;
use std::time::Duration;

use serialport::{SerialPort as _, TTYPort};

pub use serialport::{DataBits, FlowControl, Parity, StopBits};

/// Default read timeout of [`SerialConfig`]: short, so the lane gets control back often.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_millis(100);

/// Line settings of the reader's serial port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialConfig {
    /// Bits per second (readers commonly use 9600 or 115200).
    pub baud_rate: u32,
    /// Data bits per character.
    pub data_bits: DataBits,
    /// Parity.
    pub parity: Parity,
    /// Stop bits.
    pub stop_bits: StopBits,
    /// Flow control (the protocol drops XON/XOFF as noise, so `None` is safe with readers that send them).
    pub flow_control: FlowControl,
    /// How long a read waits for a byte before it reports `TimedOut`.
    pub read_timeout: Duration,
}

/// A serial line to an MRZ reader, usable as an `embedded_io` transport.
pub struct SerialLine {
    port: TTYPort,
}

impl SerialLine {
    /// Opens a serial device (e.g. `/dev/ttyACM0`) with these settings, for exclusive use.
    ///
    /// # Errors
    /// The `serialport` error when the device cannot be opened or configured.
    pub fn open(path: &str, config: &SerialConfig) -> Result<Self, serialport::Error> {
        let port = serialport::new(path, config.baud_rate)
            .data_bits(config.data_bits)
            .parity(config.parity)
            .stop_bits(config.stop_bits)
            .flow_control(config.flow_control)
            .timeout(config.read_timeout)
            .open_native()?;
        Ok(Self { port })
    }

    /// Wraps an already open tty (e.g. one end of `TTYPort::pair()`), setting its read timeout.
    ///
    /// # Errors
    /// The `serialport` error when the timeout cannot be set.
    pub fn from_port(mut port: TTYPort, read_timeout: Duration) -> Result<Self, serialport::Error> {
        port.set_timeout(read_timeout)?;
        Ok(Self { port })
    }

    /// Changes the read timeout.
    ///
    /// # Errors
    /// The `serialport` error when the port refuses it.
    pub fn set_read_timeout(&mut self, timeout: Duration) -> Result<(), serialport::Error> {
        self.port.set_timeout(timeout)
    }

    /// The tty, giving up the wrapper.
    #[must_use]
    pub fn into_inner(self) -> TTYPort {
        self.port
    }
}

impl embedded_io::ErrorType for SerialLine {
    type Error = io::Error;
}

impl embedded_io::Read for SerialLine {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match io::Read::read(&mut self.port, buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return result,
            }
        }
    }
}

impl embedded_io::Write for SerialLine {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        io::Write::write(&mut self.port, buf)
    }

    fn flush(&mut self) -> Result<(), io::Error> {
        io::Write::flush(&mut self.port)
    }
}

impl Default for SerialConfig {
    /// 9600 baud, 8N1, no flow control, [`DEFAULT_READ_TIMEOUT`].
    fn default() -> Self {
        Self {
            baud_rate: 9600,
            data_bits: DataBits::Eight,
            parity: Parity::None,
            stop_bits: StopBits::One,
            flow_control: FlowControl::None,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }
}

impl std::fmt::Debug for SerialLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialLine")
            .field("port", &self.port.name())
            .finish()
    }
}
