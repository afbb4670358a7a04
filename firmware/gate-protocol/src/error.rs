//! Why a frame could not be encoded or decoded.

use core::fmt;

/// A frame that could not be encoded or decoded.
///
/// Every variant but [`Error::BufferTooSmall`] means the peer (or the line)
/// sent bytes that are not a valid frame; the receiver drops the frame and
/// the sender's retransmission recovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Caller's fault: the output buffer is shorter than the frame.
    BufferTooSmall {
        /// Bytes the frame needs.
        needed: usize,
    },
    /// The frame ends before its header, CRC or payload is complete.
    Truncated,
    /// The frame is longer than [`crate::MAX_FRAME_LEN`].
    Oversized,
    /// The COBS encoding is broken (a 0x00 inside a frame).
    BadCobs,
    /// The CRC does not match the bytes.
    BadCrc {
        /// CRC computed over the received bytes.
        expected: u16,
        /// CRC carried by the frame.
        actual: u16,
    },
    /// The frame speaks another protocol version.
    BadVersion {
        /// [`crate::VERSION`].
        expected: u8,
        /// Version byte in the frame.
        actual: u8,
    },
    /// The message type byte is not one this version knows.
    UnknownType(u8),
    /// A payload field holds a value its type does not allow.
    InvalidField {
        /// Which field.
        field: &'static str,
        /// The value received.
        value: u8,
    },
    /// The payload is longer than its message type allows.
    TrailingData,
}

/// The broad class of an [`Error`], for callers that only count or log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller passed a buffer that is too small.
    Caller,
    /// The bytes are damaged or not framed (line noise, lost sync).
    Corrupt,
    /// The frame is intact but its content is not understood (version, type, field).
    Unsupported,
}

impl Error {
    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::BufferTooSmall { .. } => ErrorKind::Caller,
            Self::Truncated | Self::Oversized | Self::BadCobs | Self::BadCrc { .. } => {
                ErrorKind::Corrupt
            }
            Self::BadVersion { .. }
            | Self::UnknownType(_)
            | Self::InvalidField { .. }
            | Self::TrailingData => ErrorKind::Unsupported,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::Truncated => f.write_str("frame truncated"),
            Self::Oversized => f.write_str("frame longer than the maximum"),
            Self::BadCobs => f.write_str("broken COBS encoding"),
            Self::BadCrc { expected, actual } => {
                write!(
                    f,
                    "bad CRC: computed {expected:#06x}, frame carries {actual:#06x}"
                )
            }
            Self::BadVersion { expected, actual } => {
                write!(f, "protocol version {actual}, expected {expected}")
            }
            Self::UnknownType(t) => write!(f, "unknown message type {t:#04x}"),
            Self::InvalidField { field, value } => write!(f, "invalid {field}: {value:#04x}"),
            Self::TrailingData => f.write_str("payload longer than its message type"),
        }
    }
}

impl core::error::Error for Error {}
