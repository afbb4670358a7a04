//! The ATR the virtual chip presents, in the style PC/SC part 3 (§3.1.3.2.3) gives contactless ISO/IEC 14443-4 cards.
//!
//! ```text
//! 3B            TS: direct convention
//! 85            T0: TD1 follows, 5 historical bytes
//! 80            TD1: TD2 follows, protocol T=0 (a placeholder, as PC/SC writes it)
//! 01            TD2: nothing follows, protocol T=1
//! 80            historical bytes, ISO/IEC 7816-4 §8.1.1: category indicator 80 (compact-TLV objects follow)
//! 73 94 01 xx   compact-TLV "card capabilities" (tag 7, length 3, ISO/IEC 7816-4 §8.1.1.2.7):
//!                 94 selection by full DF name, by file identifier, short EF identifiers
//!                 01 data coding: data unit of one byte
//!                 xx 40 when extended Lc and Le are supported (bit 7), else 00
//! TCK           XOR of T0 .. the last historical byte
//! ```
//!
//! So `3B 85 80 01 80 73 94 01 40 22` with extended length and
//! `3B 85 80 01 80 73 94 01 00 62` without. Telling the two apart is the
//! card-reader driver's job; this crate only presents them.

/// Historical bytes before the third card-capabilities byte.
const HISTORICAL_PREFIX: [u8; 4] = [0x80, 0x73, 0x94, 0x01];
/// Third card-capabilities byte bit 7: extended Lc and Le fields (ISO/IEC 7816-4 §8.1.1.2.7, table 87).
pub const EXTENDED_LENGTH_BIT: u8 = 0x40;

/// The ATR, with the extended-length bit set when `extended_length`.
pub fn atr(extended_length: bool) -> Vec<u8> {
    let mut historical = HISTORICAL_PREFIX.to_vec();
    historical.push(if extended_length {
        EXTENDED_LENGTH_BIT
    } else {
        0
    });
    let mut out = vec![0x3B, 0x80 | historical.len() as u8, 0x80, 0x01];
    out.extend_from_slice(&historical);
    let tck = out[1..].iter().fold(0u8, |acc, b| acc ^ b);
    out.push(tck);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atr_bytes_are_the_documented_ones() {
        assert_eq!(
            atr(true),
            [0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x94, 0x01, 0x40, 0x22]
        );
        assert_eq!(
            atr(false),
            [0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x94, 0x01, 0x00, 0x62]
        );
        for a in [atr(true), atr(false)] {
            // TCK makes the XOR of T0..TCK zero (ISO/IEC 7816-3 §8.2.5).
            assert_eq!(a[1..].iter().fold(0u8, |acc, b| acc ^ b), 0);
        }
    }
}
