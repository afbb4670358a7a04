//! Linux serial ports (crate `serialport`) as embedded-io streams.
//!
//! linux-embedded-hal's serial implements the embedded-hal-nb traits, not
//! embedded-io, so the kiosk adapts `serialport` directly.

use std::io;
use std::time::Duration;

use serialport::SerialPort;

/// A serial port as an embedded-io `Read + Write`.
///
/// `read` returns an error of kind `TimedOut` when no byte arrived within
/// the port's timeout, which is what [`crate::GateLink`] expects.
pub struct SerialIo {
    /// The port.
    port: Box<dyn SerialPort>,
}

impl std::fmt::Debug for SerialIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialIo")
            .field("name", &self.port.name())
            .finish()
    }
}

impl SerialIo {
    /// Opens `path` at `baud` (8N1, no flow control) with a 20 ms read timeout.
    ///
    /// # Errors
    ///
    /// The `serialport` error when the device cannot be opened or configured.
    pub fn open(path: &str, baud: u32) -> Result<Self, serialport::Error> {
        let port = serialport::new(path, baud)
            .timeout(Duration::from_millis(20))
            .open()?;
        Ok(Self { port })
    }

    /// Wraps an already opened port (for example one end of `TTYPort::pair()`).
    pub fn new(port: Box<dyn SerialPort>) -> Self {
        Self { port }
    }
}

impl embedded_io::ErrorType for SerialIo {
    type Error = io::Error;
}

impl embedded_io::Read for SerialIo {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        io::Read::read(&mut self.port, buf)
    }
}

impl embedded_io::Write for SerialIo {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        io::Write::write(&mut self.port, buf)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        io::Write::flush(&mut self.port)
    }
}
