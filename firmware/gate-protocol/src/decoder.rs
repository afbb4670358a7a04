//! Streaming decoder: bytes in as they arrive, frames out.

use crate::{Error, Frame, MAX_FRAME_LEN};

/// Collects bytes up to each 0x00 delimiter and decodes the frame before it.
///
/// After garbage, an oversized run or a bad frame it reports one error and
/// starts afresh at the next delimiter, so one damaged frame never costs the
/// next one. Empty frames (consecutive delimiters, idle line) are skipped
/// silently.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Bytes of the frame being received.
    buf: [u8; MAX_FRAME_LEN],
    /// How many bytes of `buf` are filled.
    len: usize,
    /// The current frame overflowed `buf`; discard until the next delimiter.
    overflow: bool,
}

/// Iterator over the frames completed by one slice of input; see [`Decoder::feed_slice`].
#[derive(Debug)]
pub struct Feed<'d, 'b> {
    /// The decoder being fed.
    decoder: &'d mut Decoder,
    /// Input not fed yet.
    rest: &'b [u8],
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder waiting for the first frame.
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_FRAME_LEN],
            len: 0,
            overflow: false,
        }
    }

    /// Feeds one byte; returns a frame or an error when the byte ends a frame.
    pub fn feed(&mut self, byte: u8) -> Option<Result<Frame, Error>> {
        if byte != 0 {
            match self.buf.get_mut(self.len) {
                Some(slot) if !self.overflow => {
                    *slot = byte;
                    self.len += 1;
                }
                _ => self.overflow = true,
            }
            return None;
        }
        let overflow = core::mem::replace(&mut self.overflow, false);
        let len = core::mem::replace(&mut self.len, 0);
        if overflow {
            return Some(Err(Error::Oversized));
        }
        if len == 0 {
            return None;
        }
        Some(crate::decode(self.buf.get(..len).unwrap_or_default()))
    }

    /// Feeds a slice; the iterator yields each frame (or error) it completes.
    ///
    /// Bytes after the last delimiter stay buffered for the next call. Drop
    /// the iterator early and the unread bytes are not fed.
    pub fn feed_slice<'d, 'b>(&'d mut self, bytes: &'b [u8]) -> Feed<'d, 'b> {
        Feed {
            decoder: self,
            rest: bytes,
        }
    }

    /// Forgets a partly received frame.
    pub fn reset(&mut self) {
        self.len = 0;
        self.overflow = false;
    }
}

impl Iterator for Feed<'_, '_> {
    type Item = Result<Frame, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while let Some((&b, rest)) = self.rest.split_first() {
            self.rest = rest;
            if let Some(item) = self.decoder.feed(b) {
                return Some(item);
            }
        }
        None
    }
}
