//! The crate's error types, each variant saying who is at fault.

use crate::channel::ChannelError;
use crate::mrz::MrzError;

/// Everything that can go wrong while reading a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Data from the chip or the document is malformed (the chip is at fault).
    #[error("malformed data: {0}")]
    Parse(#[from] ParseError),
    /// The machine readable zone failed a check (the document or the scan is at fault).
    #[error("MRZ: {0}")]
    Mrz(#[from] MrzError),
    /// The chip broke the protocol: bad MAC, wrong length, unexpected answer.
    #[error("chip misbehaved: {0}")]
    CardMisbehaved(#[from] CardFault),
    /// The chip refused a command with this status word.
    #[error("chip answered {sw:04X} to {command}")]
    Status {
        /// The command that was refused.
        command: &'static str,
        /// ISO 7816-4 status word.
        sw: u16,
    },
    /// The chip answered without secure messaging: the session keys are gone
    /// and the read must start again with access control.
    #[error("chip answered {sw:04X} without secure messaging; session ended")]
    SecureMessagingAborted {
        /// The unprotected status word.
        sw: u16,
    },
    /// Access control failed: most often the MRZ does not belong to this chip.
    #[error("access control failed: {0}")]
    AccessDenied(&'static str),
    /// The reader or the link to the card failed.
    #[error("card channel: {0}")]
    Channel(#[from] ChannelError),
    /// The chip asks for something this crate does not implement.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The caller used the API wrongly (our bug, not the chip's).
    #[error("API misuse: {0}")]
    ApiMisuse(&'static str),
    /// Chip Authentication failed (9303-11 section 6.2): the chip's first answer under the new keys did not verify, or PACE-CAM's proof does not fit DG14.
    /// The chip is at fault: most likely a clone holding copied data but not the private key.
    #[error("Chip Authentication failed: {0}")]
    ChipAuthenticationFailed(&'static str),
}

/// A chip that broke the protocol (9303 part 11, section 9.8: secure messaging).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CardFault {
    /// A response was shorter than the two status bytes.
    #[error("response shorter than a status word")]
    NoStatusWord,
    /// The response MAC (DO'8E') did not verify.
    #[error("response MAC does not verify")]
    BadMac,
    /// A secure-messaging response lacked a mandatory data object.
    #[error("secure-messaging response lacks {0}")]
    MissingDataObject(&'static str),
    /// The protected status word (DO'99') differs from the plain one.
    #[error("protected status word {protected:04X} differs from {plain:04X}")]
    StatusMismatch {
        /// Status word inside DO'99'.
        protected: u16,
        /// Status word outside the secure-messaging envelope.
        plain: u16,
    },
    /// Decrypted data has no valid ISO/IEC 9797-1 padding method 2.
    #[error("bad padding in decrypted data")]
    BadPadding,
    /// The chip sent more data than it was asked for.
    #[error("{what}: asked for {asked} bytes, got {got}")]
    TooMuchData {
        /// What was being read.
        what: &'static str,
        /// Bytes requested.
        asked: usize,
        /// Bytes received.
        got: usize,
    },
    /// The chip's authentication cryptogram was wrong (BAC: RND.IFD not echoed).
    #[error("chip authentication cryptogram is wrong")]
    BadCryptogram,
    /// A file claimed a size the chip then did not deliver.
    #[error("{what}: file ends at {got} bytes, header announced {announced}")]
    ShortFile {
        /// Which file.
        what: &'static str,
        /// Announced total size.
        announced: usize,
        /// Bytes actually delivered.
        got: usize,
    },
    /// A PACE public key, point or DH value from the chip is invalid (off the curve, infinity, out of range).
    #[error("invalid PACE public key: {0}")]
    BadPublicKey(&'static str),
    /// The chip's PACE authentication token T_IC does not verify (9303-11 section 4.4.3.5).
    #[error("chip's PACE authentication token does not verify")]
    BadPaceToken,
}

/// Malformed bytes, with what was being parsed and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at offset {offset}: {kind}")]
pub struct ParseError {
    /// What was being parsed (a TLV tag, a file, a field).
    pub what: &'static str,
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

/// What is wrong with malformed bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input ends before the announced end.
    #[error("truncated: need {needed} bytes, {available} available")]
    Truncated {
        /// Bytes required.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// Bytes remain after a complete structure.
    #[error("{0} bytes of trailing data")]
    TrailingData(usize),
    /// A length is larger than this parser accepts.
    #[error("length {0} exceeds the limit")]
    TooLong(usize),
    /// A length field is malformed (indefinite, or more than 4 length bytes).
    #[error("malformed length")]
    BadLength,
    /// A tag is not the one expected here.
    #[error("unexpected tag {found:X}, expected {expected:X}")]
    UnexpectedTag {
        /// The tag that was expected.
        expected: u32,
        /// The tag that was found.
        found: u32,
    },
    /// A tag is malformed (too many bytes).
    #[error("malformed tag")]
    BadTag,
    /// Nesting deeper than this parser accepts.
    #[error("nested too deep")]
    TooDeep,
    /// A value is present but not valid for its field.
    #[error("invalid value: {0}")]
    Invalid(&'static str),
    /// A mandatory element is absent.
    #[error("missing {0}")]
    Missing(&'static str),
}

impl ParseError {
    /// A parse error about `what` at `offset`.
    pub fn new(what: &'static str, offset: usize, kind: ParseErrorKind) -> Self {
        Self { what, offset, kind }
    }
}
