//! Why a command did not complete.

use gate_protocol::NakReason;

/// A command that did not complete, or a link that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// The gate refused the command (it was received and understood).
    #[error("the gate refused command {seq}: {reason:?}")]
    Nak {
        /// Sequence number of the refused command.
        seq: u16,
        /// The gate's reason.
        reason: NakReason,
    },
    /// No acknowledgement after every attempt: the gate is off, the cable is
    /// out, or the line is too noisy.
    #[error("no acknowledgement of command {seq} after {attempts} attempts")]
    NoAck {
        /// Sequence number of the command.
        seq: u16,
        /// How many times it was sent.
        attempts: u8,
    },
    /// The byte stream ended (the other side closed it).
    #[error("the gate link was closed")]
    Closed,
    /// The byte stream failed.
    #[error("gate link I/O failed: {0:?}")]
    Io(embedded_io::ErrorKind),
    /// The gate acknowledged a query but did not send the report that answers it.
    #[error("the gate acknowledged the query but sent no report")]
    NoReport,
    /// A frame could not be encoded (a bug: the buffer is sized for every frame).
    #[error("could not encode a frame: {0}")]
    Encode(gate_protocol::Error),
}
