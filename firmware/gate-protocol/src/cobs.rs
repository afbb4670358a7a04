//! Consistent Overhead Byte Stuffing: removes every 0x00 from a frame.

use crate::Error;

/// Most bytes COBS can turn `len` bytes into (without the delimiter).
pub(crate) const fn max_encoded_len(len: usize) -> usize {
    len + len / 254 + 1
}

/// COBS-encodes `src` into `dst`; `None` when `dst` is too short.
pub(crate) fn encode(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    let mut code_at = 0usize;
    let mut out = 1usize;
    let mut code = 1u8;
    *dst.get_mut(code_at)? = 0;
    for &b in src {
        if b == 0 {
            *dst.get_mut(code_at)? = code;
            code_at = out;
            *dst.get_mut(code_at)? = 0;
            out += 1;
            code = 1;
        } else {
            *dst.get_mut(out)? = b;
            out += 1;
            code += 1;
            if code == 0xFF {
                *dst.get_mut(code_at)? = code;
                code_at = out;
                *dst.get_mut(code_at)? = 0;
                out += 1;
                code = 1;
            }
        }
    }
    *dst.get_mut(code_at)? = code;
    Some(out)
}

/// Decodes one COBS block (no delimiter) into `dst`; returns the decoded length.
pub(crate) fn decode(src: &[u8], dst: &mut [u8]) -> Result<usize, Error> {
    let mut out = 0usize;
    let mut rest = src;
    while let Some((&code, tail)) = rest.split_first() {
        if code == 0 {
            return Err(Error::BadCobs);
        }
        let run = usize::from(code - 1);
        let Some((data, tail)) = tail.split_at_checked(run) else {
            return Err(Error::Truncated);
        };
        if data.contains(&0) {
            return Err(Error::BadCobs);
        }
        let slot = dst.get_mut(out..out + run).ok_or(Error::Oversized)?;
        slot.copy_from_slice(data);
        out += run;
        rest = tail;
        if code != 0xFF && !rest.is_empty() {
            *dst.get_mut(out).ok_or(Error::Oversized)? = 0;
            out += 1;
        }
    }
    Ok(out)
}
