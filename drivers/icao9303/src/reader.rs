//! A cursor over untrusted bytes: every read is bounds-checked.

use crate::error::{ParseError, ParseErrorKind};

/// A cursor over untrusted input that tracks its offset for error reports.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    offset: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, reporting offsets from zero.
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            offset: 0,
            base: 0,
        }
    }

    /// Offset of the next byte, counted from the start of the outermost input.
    pub fn offset(&self) -> usize {
        self.base + self.offset
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.offset
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The bytes not yet read, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.offset..]
    }

    /// Reads one byte.
    ///
    /// # Errors
    /// [`ParseErrorKind::Truncated`] at the end of input.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, ParseError> {
        Ok(self.take(1, what)?[0])
    }

    /// Reads exactly `n` bytes.
    ///
    /// # Errors
    /// [`ParseErrorKind::Truncated`] if fewer than `n` bytes remain.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ParseError> {
        let rest = self.rest();
        match rest.split_at_checked(n) {
            Some((head, _)) => {
                self.offset += n;
                Ok(head)
            }
            None => Err(self.error(
                what,
                ParseErrorKind::Truncated {
                    needed: n,
                    available: rest.len(),
                },
            )),
        }
    }

    /// Reads exactly `N` bytes into an array.
    ///
    /// # Errors
    /// [`ParseErrorKind::Truncated`] if fewer than `N` bytes remain.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ParseError> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Splits off the next `n` bytes as a sub-reader that reports true offsets.
    ///
    /// # Errors
    /// [`ParseErrorKind::Truncated`] if fewer than `n` bytes remain.
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>, ParseError> {
        let base = self.offset();
        let buf = self.take(n, what)?;
        Ok(Reader {
            buf,
            offset: 0,
            base,
        })
    }

    /// Fails if any byte is left.
    ///
    /// # Errors
    /// [`ParseErrorKind::TrailingData`] when bytes remain.
    pub fn expect_end(&self, what: &'static str) -> Result<(), ParseError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(what, ParseErrorKind::TrailingData(n))),
        }
    }

    /// An error about `what` at the current offset.
    pub fn error(&self, what: &'static str, kind: ParseErrorKind) -> ParseError {
        ParseError::new(what, self.offset(), kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_past_end_is_truncated_not_panic() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u8("a").unwrap(), 1);
        let err = r.take(5, "b").unwrap_err();
        assert_eq!(
            err,
            ParseError::new(
                "b",
                1,
                ParseErrorKind::Truncated {
                    needed: 5,
                    available: 2
                }
            )
        );
        assert_eq!(r.remaining(), 2, "a failed read consumes nothing");
    }

    #[test]
    fn sub_reader_reports_absolute_offsets() {
        let mut r = Reader::new(&[0, 0, 9, 8]);
        r.take(2, "skip").unwrap();
        let mut s = r.sub(2, "sub").unwrap();
        assert_eq!(s.offset(), 2);
        s.u8("x").unwrap();
        assert_eq!(s.expect_end("s").unwrap_err().offset, 3);
        assert!(r.is_empty());
    }
}
