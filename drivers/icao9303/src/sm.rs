//! Secure messaging with 3DES or AES (9303 part 11, section 9.8).
//!
//! One [`SecureChannel`] holds the cipher suite, the session keys and the
//! send sequence counter. 3DES (after BAC, or PACE with 3DES): CBC with a
//! zero IV, the retail MAC, an 8-byte SSC and 8-byte padding blocks. AES
//! (after PACE, 9303-11 section 9.8.7): CBC with IV = E(KSenc, SSC), CMAC
//! truncated to 8 bytes, a 16-byte SSC and 16-byte padding blocks. The terminal protects commands and unprotects responses; the
//! chip side (for simulators and tests) does the reverse with the same keys
//! and the same counter rules, so both sides share one implementation.
//!
//! The SSC is incremented before every protected command and before every
//! protected response (9303-11 section 9.8.2). A response MAC is verified
//! before its data is decrypted or its status word believed.

use crate::apdu::{Command, Response};
use crate::crypto::{self, SessionKey, SmCipher, TdesKey};
use crate::error::{CardFault, Error, ParseErrorKind};
use crate::reader::Reader;

/// Tag of the encrypted data object for even INS (with padding-content indicator).
const DO_ENC_EVEN: u8 = 0x87;
/// Tag of the encrypted data object for odd INS (no indicator byte).
const DO_ENC_ODD: u8 = 0x85;
/// Tag of the protected Le.
const DO_LE: u8 = 0x97;
/// Tag of the protected status word.
const DO_SW: u8 = 0x99;
/// Tag of the cryptographic checksum.
const DO_MAC: u8 = 0x8E;

/// Session keys and send sequence counter of an authenticated chip session.
#[derive(Debug)]
pub struct SecureChannel {
    suite: Suite,
    ssc: u128,
}

/// The cipher suite and its keys.
#[derive(Debug)]
enum Suite {
    Tdes { enc: TdesKey, mac: TdesKey },
    Aes { enc: SessionKey, mac: SessionKey },
}

impl SecureChannel {
    /// A 3DES channel from session keys and the initial SSC.
    pub fn tdes(enc: TdesKey, mac: TdesKey, ssc: u64) -> Self {
        Self {
            suite: Suite::Tdes { enc, mac },
            ssc: u128::from(ssc),
        }
    }

    /// An AES channel (AES-128, -192 or -256 by key length) with SSC 0, as after PACE (9303-11 section 9.8.7).
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] when the keys are not both 16, 24 or 32 bytes long.
    pub fn aes(enc: SessionKey, mac: SessionKey) -> Result<Self, Error> {
        let len = enc.as_bytes().len();
        if !matches!(len, 16 | 24 | 32) || mac.as_bytes().len() != len {
            return Err(Error::ApiMisuse(
                "AES session keys must be 16, 24 or 32 bytes",
            ));
        }
        Ok(Self {
            suite: Suite::Aes { enc, mac },
            ssc: 0,
        })
    }

    /// A channel of `cipher` from session keys, SSC 0 (PACE, 9303-11 section 4.4.3.5).
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] when a key has the wrong length for `cipher`.
    pub fn from_keys(cipher: SmCipher, enc: SessionKey, mac: SessionKey) -> Result<Self, Error> {
        match cipher {
            SmCipher::Tdes => {
                let to_tdes = |k: &SessionKey| {
                    <[u8; 16]>::try_from(k.as_bytes())
                        .map(TdesKey)
                        .map_err(|_| Error::ApiMisuse("3DES session keys must be 16 bytes"))
                };
                Ok(Self::tdes(to_tdes(&enc)?, to_tdes(&mac)?, 0))
            }
            _ if enc.as_bytes().len() == cipher.key_len() => Self::aes(enc, mac),
            _ => Err(Error::ApiMisuse(
                "session key length does not fit the cipher",
            )),
        }
    }

    /// The cipher of this channel.
    pub fn cipher(&self) -> SmCipher {
        match &self.suite {
            Suite::Tdes { .. } => SmCipher::Tdes,
            Suite::Aes { enc, .. } => match enc.as_bytes().len() {
                24 => SmCipher::Aes192,
                32 => SmCipher::Aes256,
                _ => SmCipher::Aes128,
            },
        }
    }

    /// Block length of the cipher: 8 for 3DES, 16 for AES (padding and SSC length).
    pub fn block_len(&self) -> usize {
        self.cipher().block_len()
    }

    /// The current send sequence counter (its low 64 bits; all of it for 3DES).
    pub fn ssc(&self) -> u64 {
        self.ssc as u64
    }

    /// The current send sequence counter as sent to the MAC: 8 bytes for 3DES, 16 for AES.
    pub fn ssc_bytes(&self) -> Vec<u8> {
        let all = self.ssc.to_be_bytes();
        all[all.len() - self.block_len()..].to_vec()
    }

    /// Wraps a plain command into a protected APDU (9303-11 section 9.8.4).
    ///
    /// # Errors
    /// Only on internal misuse.
    pub fn protect_command(&mut self, cmd: &Command, extended: bool) -> Result<Vec<u8>, Error> {
        let cla = cmd.cla | 0x0C;
        let header = [cla, cmd.ins, cmd.p1, cmd.p2];
        let block = self.block_len();
        // The SSC counts this command before anything uses it (AES: the IV).
        self.ssc = self.ssc.wrapping_add(1);
        let mut dos = Vec::new();
        if !cmd.data.is_empty() {
            let encrypted = self.encrypt(&crypto::pad(&cmd.data, block))?;
            push_encrypted_do(&mut dos, cmd.ins % 2 == 1, &encrypted);
        }
        let extended = extended || cmd.needs_extended();
        if let Some(le) = cmd.le {
            dos.push(DO_LE);
            if extended {
                dos.push(2);
                dos.extend_from_slice(&((le % 65_536) as u16).to_be_bytes());
            } else {
                dos.extend_from_slice(&[1, (le % 256) as u8]);
            }
        }
        let mut n = self.ssc_bytes();
        n.extend_from_slice(&crypto::pad(&header, block));
        n.extend_from_slice(&dos);
        let cc = self.mac(&n)?;
        dos.extend_from_slice(&[DO_MAC, 8]);
        dos.extend_from_slice(&cc);
        let protected = Command {
            cla,
            ins: cmd.ins,
            p1: cmd.p1,
            p2: cmd.p2,
            data: dos,
            le: Some(if extended { 65_536 } else { 256 }),
        };
        Ok(protected.encode(extended))
    }

    /// Checks and unwraps a protected response (9303-11 section 9.8.5).
    ///
    /// # Errors
    /// [`CardFault::BadMac`] and friends when the chip's answer does not
    /// verify; [`Error::SecureMessagingAborted`] when the chip answered an
    /// error status in plain (its session keys are then gone).
    pub fn unprotect_response(&mut self, raw: Vec<u8>) -> Result<Response, Error> {
        let plain = Response::parse(raw)?;
        self.ssc = self.ssc.wrapping_add(1);
        if plain.data.is_empty() && plain.sw != crate::apdu::SW_OK {
            return Err(Error::SecureMessagingAborted { sw: plain.sw });
        }
        let dos = split_response_dos(&plain.data)?;
        let mac = dos.mac.ok_or(CardFault::MissingDataObject("DO'8E'"))?;
        let mut k = self.ssc_bytes();
        k.extend_from_slice(dos.covered);
        let expected = self.mac(&k)?;
        if !crypto::ct_eq(&expected, mac) {
            return Err(CardFault::BadMac.into());
        }
        let sw_bytes = dos.sw.ok_or(CardFault::MissingDataObject("DO'99'"))?;
        let sw = match sw_bytes {
            [a, b] => u16::from_be_bytes([*a, *b]),
            _ => return Err(CardFault::MissingDataObject("two-byte DO'99'").into()),
        };
        if sw != plain.sw {
            return Err(CardFault::StatusMismatch {
                protected: sw,
                plain: plain.sw,
            }
            .into());
        }
        let data = match dos.encrypted {
            None => Vec::new(),
            Some((odd, value)) => self.decrypt_do(odd, value)?,
        };
        Ok(Response { data, sw })
    }

    /// The chip's side: checks and unwraps a protected command APDU.
    ///
    /// # Errors
    /// [`CardFault::BadMac`] when the terminal's MAC is wrong, or a parse
    /// error for a malformed APDU.
    pub fn unprotect_command(&mut self, raw: &[u8]) -> Result<Command, Error> {
        let (cmd, extended) = Command::parse(raw)?;
        self.ssc = self.ssc.wrapping_add(1);
        if cmd.cla & 0x0C != 0x0C {
            return Err(CardFault::MissingDataObject("SM class byte").into());
        }
        let mut r = Reader::new(&cmd.data);
        let mut encrypted = None;
        let mut le = None;
        let mut mac = None;
        let mut covered_end = 0;
        while !r.is_empty() {
            let start = r.offset();
            let (tag, value) = read_do(&mut r)?;
            match tag {
                DO_ENC_EVEN | DO_ENC_ODD if encrypted.is_none() && mac.is_none() => {
                    encrypted = Some((tag == DO_ENC_ODD, value))
                }
                DO_LE if le.is_none() && mac.is_none() => le = Some(value),
                DO_MAC if mac.is_none() => {
                    covered_end = start;
                    mac = Some(value);
                }
                _ => return Err(CardFault::MissingDataObject("known SM data object").into()),
            }
        }
        let mac = mac.ok_or(CardFault::MissingDataObject("DO'8E'"))?;
        let header = [cmd.cla, cmd.ins, cmd.p1, cmd.p2];
        let mut n = self.ssc_bytes();
        n.extend_from_slice(&crypto::pad(&header, self.block_len()));
        n.extend_from_slice(cmd.data.get(..covered_end).unwrap_or_default());
        let expected = self.mac(&n)?;
        if !crypto::ct_eq(&expected, mac) {
            return Err(CardFault::BadMac.into());
        }
        let data = match encrypted {
            None => Vec::new(),
            Some((odd, value)) => self.decrypt_do(odd, value)?,
        };
        let le = match le {
            None => None,
            Some([0]) if !extended => Some(256),
            Some([0, 0]) => Some(65_536),
            Some([b]) => Some(usize::from(*b)),
            Some([a, b]) => Some(usize::from(u16::from_be_bytes([*a, *b]))),
            Some(_) => return Err(CardFault::MissingDataObject("valid DO'97'").into()),
        };
        Ok(Command {
            cla: cmd.cla & !0x0C,
            ins: cmd.ins,
            p1: cmd.p1,
            p2: cmd.p2,
            data,
            le,
        })
    }

    /// The chip's side: wraps a plain response for a command with instruction `ins`.
    ///
    /// # Errors
    /// Only on internal misuse.
    pub fn protect_response(&mut self, resp: &Response, ins: u8) -> Result<Vec<u8>, Error> {
        self.ssc = self.ssc.wrapping_add(1);
        let mut dos = Vec::new();
        if !resp.data.is_empty() {
            let encrypted = self.encrypt(&crypto::pad(&resp.data, self.block_len()))?;
            push_encrypted_do(&mut dos, ins % 2 == 1, &encrypted);
        }
        dos.extend_from_slice(&[DO_SW, 2]);
        dos.extend_from_slice(&resp.sw.to_be_bytes());
        let mut k = self.ssc_bytes();
        k.extend_from_slice(&dos);
        let cc = self.mac(&k)?;
        dos.extend_from_slice(&[DO_MAC, 8]);
        dos.extend_from_slice(&cc);
        dos.extend_from_slice(&resp.sw.to_be_bytes());
        Ok(dos)
    }

    fn decrypt_do(&self, odd: bool, value: &[u8]) -> Result<Vec<u8>, Error> {
        let ciphertext = if odd {
            value
        } else {
            match value.split_first() {
                Some((0x01, rest)) => rest,
                _ => {
                    return Err(
                        CardFault::MissingDataObject("padding indicator 01 in DO'87'").into(),
                    );
                }
            }
        };
        let padded = zeroize::Zeroizing::new(match &self.suite {
            Suite::Tdes { enc, .. } => crypto::tdes_cbc_decrypt(enc, ciphertext)?,
            Suite::Aes { enc, .. } => {
                crypto::aes_cbc_decrypt(enc.as_bytes(), &self.aes_iv(enc)?, ciphertext)?
            }
        });
        Ok(crypto::unpad(&padded)?.to_vec())
    }

    /// Encrypts padded data with the session key at the current SSC.
    fn encrypt(&self, padded: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.suite {
            Suite::Tdes { enc, .. } => crypto::tdes_cbc_encrypt(enc, padded),
            Suite::Aes { enc, .. } => {
                crypto::aes_cbc_encrypt(enc.as_bytes(), &self.aes_iv(enc)?, padded)
            }
        }
    }

    /// IV for AES: E(KSenc, SSC) with the 16-byte SSC (9303-11 section 9.8.7.1).
    fn aes_iv(&self, enc: &SessionKey) -> Result<[u8; crypto::AES_BLOCK], Error> {
        crypto::aes_encrypt_block(enc.as_bytes(), &self.ssc.to_be_bytes())
    }

    /// The 8-byte MAC over `data`, padded here: retail MAC or AES-CMAC truncated (9303-11 section 9.8.6.2, 9.8.7.2).
    fn mac(&self, data: &[u8]) -> Result<[u8; 8], Error> {
        let padded = crypto::pad(data, self.block_len());
        match &self.suite {
            Suite::Tdes { mac, .. } => Ok(crypto::retail_mac(mac, &padded)),
            Suite::Aes { mac, .. } => {
                let full = crypto::aes_cmac(mac.as_bytes(), &padded)?;
                let mut out = [0u8; 8];
                out.copy_from_slice(&full[..8]);
                Ok(out)
            }
        }
    }
}

/// The data objects of a protected response.
struct ResponseDos<'a> {
    encrypted: Option<(bool, &'a [u8])>,
    sw: Option<&'a [u8]>,
    mac: Option<&'a [u8]>,
    /// Every byte before DO'8E': what the MAC covers.
    covered: &'a [u8],
}

fn split_response_dos(data: &[u8]) -> Result<ResponseDos<'_>, Error> {
    let mut r = Reader::new(data);
    let mut dos = ResponseDos {
        encrypted: None,
        sw: None,
        mac: None,
        covered: &[],
    };
    while !r.is_empty() {
        let start = r.offset();
        let (tag, value) = read_do(&mut r)?;
        match tag {
            DO_ENC_EVEN | DO_ENC_ODD if dos.encrypted.is_none() && dos.sw.is_none() => {
                dos.encrypted = Some((tag == DO_ENC_ODD, value))
            }
            DO_SW if dos.sw.is_none() => dos.sw = Some(value),
            DO_MAC => {
                dos.covered = &data[..start];
                dos.mac = Some(value);
                r.expect_end("secure-messaging response")?;
            }
            _ => return Err(CardFault::MissingDataObject("known SM data object").into()),
        }
    }
    Ok(dos)
}

fn push_encrypted_do(out: &mut Vec<u8>, odd: bool, encrypted: &[u8]) {
    if odd {
        out.push(DO_ENC_ODD);
        crate::tlv::encode_length(encrypted.len(), out);
    } else {
        out.push(DO_ENC_EVEN);
        crate::tlv::encode_length(encrypted.len() + 1, out);
        out.push(0x01);
    }
    out.extend_from_slice(encrypted);
}

/// Reads one secure-messaging data object: a one-byte tag and a BER length.
fn read_do<'a>(r: &mut Reader<'a>) -> Result<(u8, &'a [u8]), Error> {
    let tlv = crate::tlv::read_tlv(r)?;
    let tag =
        u8::try_from(tlv.tag).map_err(|_| r.error("SM data object", ParseErrorKind::BadTag))?;
    Ok((tag, tlv.value))
}

#[cfg(test)]
mod tests;
