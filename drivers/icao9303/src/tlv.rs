//! BER-TLV as used by the LDS (ISO/IEC 7816-4 and 8825-1; 9303 part 10, section 4).
//!
//! Every LDS file is one BER-TLV data object (9303-10 §4.4): a tag of one or
//! more bytes, a length in short or definite long form, then the value. A
//! constructed object's value is itself a sequence of data objects.
//!
//! Reading is zero-copy: a [`Tlv`] borrows its value from the input, so no
//! length read from a chip ever causes an allocation; a length larger than
//! the bytes that remain is [`ParseErrorKind::Truncated`]. Tags are kept as a
//! `u32` holding the tag bytes big-endian (`5F1F` is `0x5F1F`), so a tag
//! reads the same as in 9303's tables. Encoding ([`encode`],
//! [`encode_constructed`]) is for trusted data: test files and virtual chips.

use std::iter::FusedIterator;
use std::ops::ControlFlow;

use crate::error::{ParseError, ParseErrorKind};
use crate::reader::Reader;

/// Deepest nesting of constructed data objects that [`walk`] and [`find_first`] follow.
///
/// The deepest LDS structure (DG2: `75` / `7F61` / `7F60` / `A1` / `80`) has 5
/// levels and the DER in EF.CardAccess and DG14 about 6; 32 leaves room.
pub const MAX_DEPTH: usize = 32;

/// Largest LDS file [`header_len_and_total`] accepts: 1 MiB.
///
/// A DG2 face is 15–100 KB. READ BINARY with the offset in P1-P2 reaches
/// 32 767 bytes; larger files need the odd-INS READ BINARY, and all of them
/// stay well below this.
pub const MAX_FILE_SIZE: usize = 1 << 20;

/// Longest tag this module reads, in bytes (tags are held in a `u32`).
pub const MAX_TAG_LEN: usize = 4;

/// Most length bytes after `81`..`84` (ISO/IEC 7816-4 allows up to 4 in practice).
const MAX_LENGTH_BYTES: usize = 4;

/// One BER-TLV data object, borrowed from the input.
#[derive(Clone)]
pub struct Tlv<'a> {
    /// The tag bytes, big-endian (`0x5F1F` for tag `5F 1F`).
    pub tag: u32,
    /// The value field.
    pub value: &'a [u8],
    /// The whole encoding as read: tag, length and value.
    pub raw: &'a [u8],
    /// Offset of the tag's first byte in the outermost input.
    pub offset: usize,
    /// A reader over `value` that reports offsets in the outermost input.
    value_reader: Reader<'a>,
}

/// The data objects inside a constructed value, in order (see [`Tlv::children`]).
///
/// Yields `Err` once for a malformed child and then stops.
#[derive(Debug, Clone)]
pub struct Children<'a> {
    reader: Reader<'a>,
    failed: bool,
}

// ---------------------------------------------------------------------------
// Reading (ISO/IEC 8825-1 §8.1; 9303-10 §4.4)
// ---------------------------------------------------------------------------

/// Reads one data object from `r`, consuming it only on success.
///
/// # Errors
/// - [`ParseErrorKind::BadTag`] for a tag byte `00` or `FF`, or a tag longer than 4 bytes;
/// - [`ParseErrorKind::BadLength`] for the indefinite form `80` or more than 4 length bytes;
/// - [`ParseErrorKind::Truncated`] when the input ends inside the tag, the
///   length, or before the announced end of the value.
pub fn read_tlv<'a>(r: &mut Reader<'a>) -> Result<Tlv<'a>, ParseError> {
    let offset = r.offset();
    let start = r.rest();
    let mut cursor = r.clone();
    let tag = read_tag(&mut cursor)?;
    let len = read_length(&mut cursor)?;
    // Bounds check before anything else: the value must be in the input.
    let value_reader = cursor.sub(len, "TLV value")?;
    let value = value_reader.rest();
    let consumed = cursor.offset() - offset;
    let raw = start.get(..consumed).unwrap_or(start);
    *r = cursor;
    Ok(Tlv {
        tag,
        value,
        raw,
        offset,
        value_reader,
    })
}

/// Reads one data object that must carry `tag`; `what` names it in errors.
///
/// # Errors
/// As [`read_tlv`], plus [`ParseErrorKind::UnexpectedTag`] (reported at the
/// tag's offset, nothing consumed) when the tag differs.
pub fn read_expected<'a>(
    r: &mut Reader<'a>,
    tag: u32,
    what: &'static str,
) -> Result<Tlv<'a>, ParseError> {
    let mut cursor = r.clone();
    let tlv = read_tlv(&mut cursor)?;
    if tlv.tag != tag {
        return Err(ParseError::new(
            what,
            tlv.offset,
            ParseErrorKind::UnexpectedTag {
                expected: tag,
                found: tlv.tag,
            },
        ));
    }
    *r = cursor;
    Ok(tlv)
}

/// Parses `bytes` as exactly one data object with tag `expected_tag`.
///
/// # Errors
/// As [`read_expected`], plus [`ParseErrorKind::TrailingData`] when bytes
/// follow the object.
pub fn parse_single(bytes: &[u8], expected_tag: u32) -> Result<Tlv<'_>, ParseError> {
    parse_single_named(bytes, expected_tag, "TLV")
}

/// Parses `bytes` as exactly one data object with tag `expected_tag`; `what` names it in errors.
///
/// # Errors
/// As [`parse_single`].
pub fn parse_single_named<'a>(
    bytes: &'a [u8],
    expected_tag: u32,
    what: &'static str,
) -> Result<Tlv<'a>, ParseError> {
    let mut r = Reader::new(bytes);
    let tlv = read_expected(&mut r, expected_tag, what)?;
    r.expect_end(what)?;
    Ok(tlv)
}

/// Reads a sequence of data objects until `r` is empty.
///
/// # Errors
/// The first error of [`read_tlv`].
pub fn read_all<'a>(r: &mut Reader<'a>) -> Result<Vec<Tlv<'a>>, ParseError> {
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(read_tlv(r)?);
    }
    Ok(out)
}

/// Given the first bytes of an LDS file, its header length and total size.
///
/// Returns `Ok(None)` when `first_bytes` end inside the tag or the length
/// (read more and ask again); 6 bytes always suffice for a one-byte tag
/// (every LDS file), 9 for any tag. The total is tag + length + value and at most
/// [`MAX_FILE_SIZE`]. Used to size READ BINARY of the rest of a file after
/// reading its first bytes (9303-10 §4.4; 9303-11 App. D.4 reads 4 bytes).
///
/// ```
/// use icao9303::tlv::header_len_and_total;
/// // The first 4 bytes of EF.COM in 9303-11 App. D.4: a 22-byte file.
/// assert_eq!(header_len_and_total(&[0x60, 0x14, 0x5F, 0x01]), Ok(Some((2, 22))));
/// // 82 needs two more length bytes.
/// assert_eq!(header_len_and_total(&[0x75, 0x82]), Ok(None));
/// ```
///
/// # Errors
/// [`ParseErrorKind::BadTag`] and [`ParseErrorKind::BadLength`] as in
/// [`read_tlv`]; [`ParseErrorKind::TooLong`] for a file larger than
/// [`MAX_FILE_SIZE`].
pub fn header_len_and_total(first_bytes: &[u8]) -> Result<Option<(usize, usize)>, ParseError> {
    header_len_and_total_with_limit(first_bytes, MAX_FILE_SIZE)
}

/// As [`header_len_and_total`], with the largest accepted file size given.
///
/// # Errors
/// As [`header_len_and_total`], with `max_total` in place of [`MAX_FILE_SIZE`].
pub fn header_len_and_total_with_limit(
    first_bytes: &[u8],
    max_total: usize,
) -> Result<Option<(usize, usize)>, ParseError> {
    let mut r = Reader::new(first_bytes);
    let header = read_tag(&mut r).and_then(|_| read_length(&mut r));
    let len = match header {
        Ok(len) => len,
        Err(ParseError {
            kind: ParseErrorKind::Truncated { .. },
            ..
        }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let header_len = r.offset();
    let too_long = |total| ParseError::new("LDS file", 0, ParseErrorKind::TooLong(total));
    let total = header_len
        .checked_add(len)
        .ok_or_else(|| too_long(usize::MAX))?;
    if total > max_total {
        return Err(too_long(total));
    }
    Ok(Some((header_len, total)))
}

impl<'a> Tlv<'a> {
    /// Whether the tag marks a constructed object (bit 6 of its first byte).
    pub fn is_constructed(&self) -> bool {
        tag_is_constructed(self.tag)
    }

    /// A reader over the value that reports offsets in the outermost input.
    pub fn reader(&self) -> Reader<'a> {
        self.value_reader.clone()
    }

    /// Offset of the value's first byte in the outermost input.
    pub fn value_offset(&self) -> usize {
        self.value_reader.offset()
    }

    /// The data objects inside the value, in order.
    pub fn children(&self) -> Children<'a> {
        Children {
            reader: self.reader(),
            failed: false,
        }
    }

    /// Every child, or the first error.
    ///
    /// # Errors
    /// The first error of [`read_tlv`] inside the value.
    pub fn children_vec(&self) -> Result<Vec<Tlv<'a>>, ParseError> {
        self.children().collect()
    }

    /// The first direct child with `tag`, if any.
    ///
    /// # Errors
    /// A malformed child before the match.
    pub fn find(&self, tag: u32) -> Result<Option<Tlv<'a>>, ParseError> {
        for child in self.children() {
            let child = child?;
            if child.tag == tag {
                return Ok(Some(child));
            }
        }
        Ok(None)
    }

    /// The first direct child with `tag`; `what` names it when missing.
    ///
    /// # Errors
    /// [`ParseErrorKind::Missing`] when absent; a malformed child before the match.
    pub fn require(&self, tag: u32, what: &'static str) -> Result<Tlv<'a>, ParseError> {
        self.find(tag)?.ok_or_else(|| {
            ParseError::new(what, self.value_offset(), ParseErrorKind::Missing(what))
        })
    }

    /// An error about `what` at this object's tag.
    pub fn error(&self, what: &'static str, kind: ParseErrorKind) -> ParseError {
        ParseError::new(what, self.offset, kind)
    }
}

impl std::fmt::Debug for Tlv<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tlv")
            .field("tag", &format_args!("{:X}", self.tag))
            .field("offset", &self.offset)
            .field("value", &self.value)
            .finish()
    }
}

impl PartialEq for Tlv<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.tag == other.tag && self.raw == other.raw && self.offset == other.offset
    }
}

impl Eq for Tlv<'_> {}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Tlv<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.reader.is_empty() {
            return None;
        }
        let item = read_tlv(&mut self.reader);
        self.failed = item.is_err();
        Some(item)
    }
}

impl FusedIterator for Children<'_> {}

/// Visits every data object in `bytes` depth-first, descending into constructed ones.
///
/// `visit` gets the depth (0 for the objects of `bytes` itself) and the
/// object, and returns [`ControlFlow::Break`] to stop early. Iterative, so
/// hostile nesting cannot overflow the stack. Do not use it on values that
/// are constructed by tag but not TLV inside (DG2's `7F2E`).
///
/// # Errors
/// The first error of [`read_tlv`]; [`ParseErrorKind::TooDeep`] below
/// [`MAX_DEPTH`] levels.
pub fn walk<'a>(
    bytes: &'a [u8],
    mut visit: impl FnMut(usize, &Tlv<'a>) -> ControlFlow<()>,
) -> Result<(), ParseError> {
    let mut stack = vec![Reader::new(bytes)];
    while let Some(top) = stack.last_mut() {
        if top.is_empty() {
            stack.pop();
            continue;
        }
        let tlv = read_tlv(top)?;
        let depth = stack.len() - 1;
        if visit(depth, &tlv).is_break() {
            return Ok(());
        }
        if tlv.is_constructed() && !tlv.value.is_empty() {
            if depth + 1 >= MAX_DEPTH {
                return Err(tlv.error("TLV nesting", ParseErrorKind::TooDeep));
            }
            stack.push(tlv.reader());
        }
    }
    Ok(())
}

/// The first data object with `tag` anywhere in `bytes`, depth-first (see [`walk`]).
///
/// # Errors
/// As [`walk`], for the part walked before the match.
pub fn find_first(bytes: &[u8], tag: u32) -> Result<Option<Tlv<'_>>, ParseError> {
    let mut found = None;
    walk(bytes, |_, tlv| {
        if tlv.tag == tag {
            found = Some(tlv.clone());
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    Ok(found)
}

/// Reads tags with no lengths or values until `r` is empty (a tag list, `5C`; 9303-10 §4.6.1).
///
/// # Errors
/// [`ParseErrorKind::BadTag`] or [`ParseErrorKind::Truncated`] for a malformed tag.
pub fn read_tag_list(r: &mut Reader<'_>) -> Result<Vec<u32>, ParseError> {
    let mut tags = Vec::new();
    while !r.is_empty() {
        tags.push(read_tag(r)?);
    }
    Ok(tags)
}

/// Whether `tag` is constructed: bit 6 (`0x20`) of its first byte (ISO/IEC 8825-1 §8.1.2.5).
pub fn tag_is_constructed(tag: u32) -> bool {
    let bytes = tag.to_be_bytes();
    let first = bytes.iter().copied().find(|&b| b != 0).unwrap_or(0);
    first & 0x20 != 0
}

// ---------------------------------------------------------------------------
// Encoding (trusted input only)
// ---------------------------------------------------------------------------

/// Encodes one data object: tag, length, value.
///
/// # Panics
/// If `value` is longer than `u32::MAX` bytes (see [`encode_length`]).
pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 10);
    encode_into(tag, value, &mut out);
    out
}

/// Appends one data object (tag, length, value) to `out`.
///
/// # Panics
/// If `value` is longer than `u32::MAX` bytes (see [`encode_length`]).
pub fn encode_into(tag: u32, value: &[u8], out: &mut Vec<u8>) {
    encode_tag(tag, out);
    encode_length(value.len(), out);
    out.extend_from_slice(value);
}

/// Encodes a constructed data object whose value is the concatenation of `children`.
///
/// Each child is an already encoded data object (from [`encode`] or this function).
///
/// ```
/// use icao9303::tlv::{encode, encode_constructed, parse_single};
/// let dg1 = encode_constructed(0x61, &[encode(0x5F1F, b"P<UTO")]);
/// assert_eq!(dg1, [0x61, 0x08, 0x5F, 0x1F, 0x05, b'P', b'<', b'U', b'T', b'O']);
/// let mrz = parse_single(&dg1, 0x61)?.find(0x5F1F)?.map(|t| t.value);
/// assert_eq!(mrz, Some(&b"P<UTO"[..]));
/// # Ok::<(), icao9303::ParseError>(())
/// ```
///
/// # Panics
/// If the children together are longer than `u32::MAX` bytes.
pub fn encode_constructed<T: AsRef<[u8]>>(tag: u32, children: &[T]) -> Vec<u8> {
    let value: Vec<u8> = children
        .iter()
        .flat_map(|c| c.as_ref().iter().copied())
        .collect();
    encode(tag, &value)
}

/// Appends `tag`'s bytes: big-endian, leading zero bytes dropped (`0` encodes as `00`).
pub fn encode_tag(tag: u32, out: &mut Vec<u8>) {
    let bytes = tag.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    out.extend_from_slice(bytes.get(skip..).unwrap_or(&bytes));
}

/// Appends a length in the shortest form: `00`..`7F`, else `81`..`84` and 1–4 bytes.
///
/// # Panics
/// If `len` exceeds `u32::MAX` (not representable in 4 length bytes); the
/// encoder is for trusted data, never for bytes from a chip.
pub fn encode_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let Ok(len) = u32::try_from(len) else {
        panic!("BER-TLV length {len} does not fit in 4 length bytes");
    };
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let significant = bytes.get(skip..).unwrap_or(&bytes);
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Reads a tag (ISO/IEC 8825-1 §8.1.2; ISO/IEC 7816-4 §5.2.2.1).
///
/// Low 5 bits of the first byte all set means more bytes follow, each with
/// bit 8 set while yet more follow. 9303 uses 7816-4 interindustry tags such
/// as `5F01`, which a strict DER decoder would reject as non-minimal, so tag
/// numbers are not checked for minimality. `00` and `FF` as first byte are
/// invalid in 7816-4 (padding).
pub(crate) fn read_tag(r: &mut Reader<'_>) -> Result<u32, ParseError> {
    let start = r.offset();
    let bad_tag = || ParseError::new("TLV tag", start, ParseErrorKind::BadTag);
    let first = r.u8("TLV tag")?;
    if first == 0x00 || first == 0xFF {
        return Err(bad_tag());
    }
    let mut tag = u32::from(first);
    if first & 0x1F != 0x1F {
        return Ok(tag);
    }
    for _ in 1..MAX_TAG_LEN {
        let b = r.u8("TLV tag")?;
        tag = (tag << 8) | u32::from(b);
        if b & 0x80 == 0 {
            return Ok(tag);
        }
    }
    Err(bad_tag())
}

/// Reads a length (ISO/IEC 8825-1 §8.1.3): short form, or `81`..`84` then 1–4 bytes.
///
/// `80` (indefinite form, §8.1.3.6) and `85`..`FF` are [`ParseErrorKind::BadLength`].
/// Non-minimal long forms (`81 05`) are accepted, as BER allows.
fn read_length(r: &mut Reader<'_>) -> Result<usize, ParseError> {
    let start = r.offset();
    let first = r.u8("TLV length")?;
    if first < 0x80 {
        return Ok(usize::from(first));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > MAX_LENGTH_BYTES {
        return Err(ParseError::new(
            "TLV length",
            start,
            ParseErrorKind::BadLength,
        ));
    }
    let bytes = r.take(n, "TLV length")?;
    let len = bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    usize::try_from(len)
        .map_err(|_| ParseError::new("TLV length", start, ParseErrorKind::TooLong(usize::MAX)))
}

#[cfg(test)]
mod tests;
