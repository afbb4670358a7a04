//! The link to a chip: one APDU in, one response out.

/// A channel that carries APDUs to a chip and its responses back.
///
/// # Contract
/// - `transmit` **must** send `command` as one APDU (an implementation that
///   needs chaining or T=0 GET RESPONSE handling does it inside) and return
///   the whole response including the two status bytes.
/// - It **must not** retry a command on its own: a retried command under
///   secure messaging would desynchronise the send sequence counter.
/// - After an error the channel is in an unknown state; the caller **must**
///   start a new session (select the application, authenticate again).
/// - A card that was pulled out **must** be reported as
///   [`ChannelErrorKind::CardRemoved`], not as a generic failure.
pub trait CardChannel {
    /// Sends one command APDU and returns the response APDU (data and SW1-SW2).
    ///
    /// # Errors
    /// A [`ChannelError`] whose kind says what failed.
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, ChannelError>;

    /// Whether both the reader and the chip take extended-length APDUs.
    fn supports_extended_length(&self) -> bool {
        false
    }
}

impl<T: CardChannel + ?Sized> CardChannel for &mut T {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, ChannelError> {
        (**self).transmit(command)
    }

    fn supports_extended_length(&self) -> bool {
        (**self).supports_extended_length()
    }
}

/// A failure of the channel itself, not of the chip's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ChannelError {
    /// What kind of failure.
    pub kind: ChannelErrorKind,
    /// Detail for the technician (never personal data).
    pub message: String,
}

/// Kinds of channel failure a caller reacts to differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelErrorKind {
    /// The card left the field: ask the traveller to put it back.
    CardRemoved,
    /// Another application reset the card: its session state is gone, start again.
    CardReset,
    /// The card did not answer in time.
    Timeout,
    /// The reader is gone or the PC/SC service is not running.
    ReaderUnavailable,
    /// Anything else.
    Other,
}

impl ChannelError {
    /// A channel error of `kind` with a message.
    pub fn new(kind: ChannelErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}
