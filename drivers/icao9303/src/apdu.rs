//! ISO/IEC 7816-4 command and response APDUs.

use crate::error::{CardFault, ParseError, ParseErrorKind};
use crate::reader::Reader;

/// Status word for success.
pub const SW_OK: u16 = 0x9000;

/// A command APDU before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (Lc is its length).
    pub data: Vec<u8>,
    /// Expected response length: `None` for no data, `Some(0)` for "as much
    /// as possible" (256, or 65,536 in extended form).
    pub le: Option<usize>,
}

/// A response APDU split into data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data.
    pub data: Vec<u8>,
    /// SW1-SW2.
    pub sw: u16,
}

impl Command {
    /// A command with no data and no Le.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    /// Sets the command data.
    pub fn with_data(mut self, data: Vec<u8>) -> Self {
        self.data = data;
        self
    }

    /// Sets Le.
    pub fn with_le(mut self, le: usize) -> Self {
        self.le = Some(le);
        self
    }

    /// Parses a raw command APDU, returning it and whether it used extended length (ISO/IEC 7816-4 section 5.1).
    ///
    /// # Errors
    /// A [`ParseError`] when the bytes fit none of the four cases.
    pub fn parse(raw: &[u8]) -> Result<(Self, bool), ParseError> {
        let mut r = Reader::new(raw);
        let [cla, ins, p1, p2] = r.array::<4>("command header")?;
        let mut cmd = Self::new(cla, ins, p1, p2);
        let body = r.rest();
        let bad = || ParseError::new("command APDU", 4, ParseErrorKind::BadLength);
        let extended = match body {
            [] => false,
            [le] => {
                cmd.le = Some(short_le(*le));
                false
            }
            [0, a, b] => {
                cmd.le = Some(extended_le(*a, *b));
                true
            }
            [0, a, b, rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([*a, *b]));
                match (lc, rest.len().checked_sub(lc)) {
                    (0, _) | (_, None) => return Err(bad()),
                    (_, Some(0)) => cmd.data = rest.to_vec(),
                    (_, Some(2)) => {
                        let (data, le) = rest.split_at(lc);
                        cmd.data = data.to_vec();
                        cmd.le = Some(extended_le(le[0], le[1]));
                    }
                    _ => return Err(bad()),
                }
                true
            }
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc).filter(|_| lc > 0) {
                    Some(0) => cmd.data = rest.to_vec(),
                    Some(1) => {
                        let (data, le) = rest.split_at(lc);
                        cmd.data = data.to_vec();
                        cmd.le = Some(short_le(le[0]));
                    }
                    _ => return Err(bad()),
                }
                false
            }
        };
        Ok((cmd, extended))
    }

    /// Whether this command needs the extended-length form (ISO 7816-4 5.1).
    pub fn needs_extended(&self) -> bool {
        self.data.len() > 255 || self.le.is_some_and(|le| le > 256)
    }

    /// Encodes the APDU, in extended form when `extended` or when it must be.
    pub fn encode(&self, extended: bool) -> Vec<u8> {
        let extended = extended || self.needs_extended();
        let mut out = Vec::with_capacity(self.data.len() + 9);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if !self.data.is_empty() {
            if extended {
                out.push(0);
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
            } else {
                out.push(self.data.len() as u8);
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            if extended {
                if self.data.is_empty() {
                    out.push(0);
                }
                // Le = 65,536 is encoded as 0000.
                out.extend_from_slice(&((le % 65_536) as u16).to_be_bytes());
            } else {
                // Le = 256 is encoded as 00.
                out.push((le % 256) as u8);
            }
        }
        out
    }
}

impl Response {
    /// Splits a raw response into data and SW1-SW2.
    ///
    /// # Errors
    /// [`CardFault::NoStatusWord`] when fewer than two bytes arrived.
    pub fn parse(mut raw: Vec<u8>) -> Result<Self, CardFault> {
        let n = raw.len();
        if n < 2 {
            return Err(CardFault::NoStatusWord);
        }
        let sw = u16::from_be_bytes([raw[n - 2], raw[n - 1]]);
        raw.truncate(n - 2);
        Ok(Self { data: raw, sw })
    }

    /// Whether the status word is 9000.
    pub fn is_ok(&self) -> bool {
        self.sw == SW_OK
    }

    /// Encodes data followed by SW1-SW2.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&self.sw.to_be_bytes());
        out
    }
}

fn short_le(b: u8) -> usize {
    if b == 0 { 256 } else { usize::from(b) }
}

fn extended_le(a: u8, b: u8) -> usize {
    match u16::from_be_bytes([a, b]) {
        0 => 65_536,
        n => usize::from(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_extended_forms() {
        let c = Command::new(0, 0xB0, 0, 0).with_le(4);
        assert_eq!(c.encode(false), [0, 0xB0, 0, 0, 4]);
        assert_eq!(c.encode(true), [0, 0xB0, 0, 0, 0, 0, 4]);
        let c = Command::new(0, 0xB0, 0, 0).with_le(256);
        assert_eq!(c.encode(false), [0, 0xB0, 0, 0, 0]);
        let c = Command::new(0, 0xB1, 0, 0)
            .with_data(vec![0x54, 1, 0])
            .with_le(1000);
        assert!(c.needs_extended());
        assert_eq!(
            c.encode(false),
            [0, 0xB1, 0, 0, 0, 0, 3, 0x54, 1, 0, 0x03, 0xE8]
        );
        let c = Command::new(0, 0xA4, 2, 0x0C).with_data(vec![1, 0x1E]);
        assert_eq!(c.encode(false), [0, 0xA4, 2, 0x0C, 2, 1, 0x1E]);
    }

    #[test]
    fn parse_inverts_encode_for_every_case() {
        let cases = [
            Command::new(0, 0x84, 0, 0),
            Command::new(0, 0x84, 0, 0).with_le(8),
            Command::new(0, 0x84, 0, 0).with_le(256),
            Command::new(0, 0xA4, 2, 0x0C).with_data(vec![1, 0x1E]),
            Command::new(0, 0x82, 0, 0)
                .with_data(vec![7; 40])
                .with_le(40),
            Command::new(0, 0xB0, 0, 0).with_le(65_536),
            Command::new(0, 0xB1, 0, 0)
                .with_data(vec![0x54, 2, 0x80, 0])
                .with_le(4000),
        ];
        for c in cases {
            for ext in [false, true] {
                let (parsed, was_ext) = Command::parse(&c.encode(ext)).unwrap();
                assert_eq!(parsed, c);
                // Case 1 (no data, no Le) has no extended form.
                let has_body = !c.data.is_empty() || c.le.is_some();
                assert_eq!(was_ext, (ext && has_body) || c.needs_extended());
            }
        }
    }

    #[test]
    fn parse_rejects_inconsistent_lengths() {
        for raw in [
            &[0u8, 0xA4][..],
            &[0, 0xA4, 2, 0x0C, 3, 1, 2],
            &[0, 0xA4, 2, 0x0C, 1, 1, 2, 3],
            &[0, 0xB0, 0, 0, 0, 0, 0, 5],
            &[0, 0xB0, 0, 0, 0, 5],
        ] {
            assert!(Command::parse(raw).is_err(), "{raw:02X?}");
        }
    }

    #[test]
    fn response_needs_status_word() {
        assert_eq!(Response::parse(vec![0x90]), Err(CardFault::NoStatusWord));
        let r = Response::parse(vec![1, 2, 0x90, 0]).unwrap();
        assert_eq!((r.data.as_slice(), r.sw), (&[1u8, 2][..], SW_OK));
    }
}
