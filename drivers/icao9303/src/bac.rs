//! Basic Access Control (9303 part 11, section 4.3).
//!
//! The terminal derives Kenc and Kmac from the MRZ, asks the chip for a
//! challenge, and proves knowledge of the keys; both sides then derive the
//! session keys and the send sequence counter. Each step is a consuming state:
//! a [`SecureChannel`] only comes out of a finished authentication.

use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::apdu::Command;
use crate::crypto::{self, KdfCounter, TdesKey};
use crate::error::{CardFault, Error};
use crate::mrz::{self, Mrz};
use crate::sm::SecureChannel;

/// The document basic access keys Kenc and Kmac, derived from the MRZ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacKeys {
    /// Encryption key Kenc.
    pub kenc: TdesKey,
    /// MAC key Kmac.
    pub kmac: TdesKey,
}

/// Waiting for the chip's answer to EXTERNAL AUTHENTICATE.
#[derive(Debug)]
pub struct AwaitAuthResponse {
    keys: BacKeys,
    rnd_ic: [u8; 8],
    rnd_ifd: [u8; 8],
    k_ifd: Zeroizing<[u8; 16]>,
}

impl BacKeys {
    /// Derives Kenc and Kmac from a parsed MRZ (9303-11 section 4.3.2 and 9.7.1).
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if a key field holds characters an MRZ cannot.
    pub fn from_mrz(mrz: &Mrz) -> Result<Self, Error> {
        let info = mrz_information(&mrz.document_number, &mrz.birth_date, &mrz.expiry_date)?;
        Ok(Self::from_mrz_information(&info))
    }

    /// Derives the keys from MRZ_information: document number, birth and expiry dates with check digits.
    pub fn from_mrz_information(info: &str) -> Self {
        let digest = Sha1::digest(info.as_bytes());
        let seed = Zeroizing::new(digest[..16].to_vec());
        Self {
            kenc: crypto::kdf_3des(&seed, KdfCounter::Enc),
            kmac: crypto::kdf_3des(&seed, KdfCounter::Mac),
        }
    }
}

/// MRZ_information: document number (at least 9 characters, filler-padded), birth and expiry dates, each with its check digit.
///
/// A document number longer than 9 characters is used whole, with the check
/// digit over the whole number (9303-11 section 4.3.2, 9303-5 section 4.2.4).
///
/// # Errors
/// [`Error::ApiMisuse`] if a field holds characters an MRZ cannot.
pub fn mrz_information(document_number: &str, birth: &str, expiry: &str) -> Result<String, Error> {
    let mut doc = document_number.to_owned();
    while doc.len() < 9 {
        doc.push('<');
    }
    let mut out = String::with_capacity(doc.len() + 16);
    for field in [doc.as_str(), birth, expiry] {
        let cd = mrz::check_digit(field.as_bytes())
            .ok_or(Error::ApiMisuse("MRZ key field holds a non-MRZ character"))?;
        out.push_str(field);
        out.push(char::from(cd));
    }
    Ok(out)
}

/// GET CHALLENGE for 8 bytes (9303-11 section 4.3.4.1).
pub fn get_challenge() -> Command {
    Command::new(0x00, 0x84, 0x00, 0x00).with_le(8)
}

/// Builds EXTERNAL AUTHENTICATE from the chip's challenge and the terminal's randoms.
///
/// `rnd_ifd` and `k_ifd` must come from a cryptographic RNG; they are
/// parameters so that the 9303 worked examples can be replayed.
///
/// # Errors
/// Only on internal misuse (never on chip data).
pub fn external_authenticate(
    keys: BacKeys,
    rnd_ic: [u8; 8],
    rnd_ifd: [u8; 8],
    k_ifd: [u8; 16],
) -> Result<(Command, AwaitAuthResponse), Error> {
    let mut s = Zeroizing::new(Vec::with_capacity(32));
    s.extend_from_slice(&rnd_ifd);
    s.extend_from_slice(&rnd_ic);
    s.extend_from_slice(&k_ifd);
    let mut data = crypto::tdes_cbc_encrypt(&keys.kenc, &s)?;
    let mac = crypto::retail_mac(&keys.kmac, &crypto::pad(&data, crypto::BLOCK));
    data.extend_from_slice(&mac);
    let cmd = Command::new(0x00, 0x82, 0x00, 0x00)
        .with_data(data)
        .with_le(40);
    Ok((
        cmd,
        AwaitAuthResponse {
            keys,
            rnd_ic,
            rnd_ifd,
            k_ifd: Zeroizing::new(k_ifd),
        },
    ))
}

impl AwaitAuthResponse {
    /// Checks the chip's EXTERNAL AUTHENTICATE response and opens secure messaging.
    ///
    /// The MAC is verified before anything is decrypted (9303-11 section 4.3.4.2).
    ///
    /// # Errors
    /// [`Error::AccessDenied`] when the MAC or the echoed challenge is wrong
    /// (most often: the MRZ does not belong to this chip), or a
    /// [`CardFault`] when the answer has the wrong shape.
    pub fn finish(self, response: &[u8]) -> Result<SecureChannel, Error> {
        if response.len() != 40 {
            return Err(CardFault::TooMuchData {
                what: "EXTERNAL AUTHENTICATE response",
                asked: 40,
                got: response.len(),
            }
            .into());
        }
        let (e_ic, m_ic) = response.split_at(32);
        let expected = crypto::retail_mac(&self.keys.kmac, &crypto::pad(e_ic, crypto::BLOCK));
        if !crypto::ct_eq(&expected, m_ic) {
            return Err(Error::AccessDenied("chip cryptogram MAC does not verify"));
        }
        let r = Zeroizing::new(crypto::tdes_cbc_decrypt(&self.keys.kenc, e_ic)?);
        let (rnd_ic, rest) = r.split_at(8);
        let (rnd_ifd, k_ic) = rest.split_at(8);
        if !crypto::ct_eq(rnd_ifd, &self.rnd_ifd) || !crypto::ct_eq(rnd_ic, &self.rnd_ic) {
            return Err(CardFault::BadCryptogram.into());
        }
        Ok(session_channel(
            self.k_ifd.as_slice(),
            k_ic,
            &self.rnd_ic,
            &self.rnd_ifd,
        ))
    }
}

/// The chip's side of EXTERNAL AUTHENTICATE, for simulators and tests.
///
/// Verifies the terminal's cryptogram against the challenge `rnd_ic` the chip
/// sent, and returns the response data and the chip's secure channel.
///
/// # Errors
/// [`Error::AccessDenied`] when the terminal's MAC or challenge echo is wrong.
pub fn chip_authenticate(
    keys: &BacKeys,
    rnd_ic: [u8; 8],
    k_ic: [u8; 16],
    command_data: &[u8],
) -> Result<(Vec<u8>, SecureChannel), Error> {
    if command_data.len() != 40 {
        return Err(Error::AccessDenied(
            "EXTERNAL AUTHENTICATE data is not 40 bytes",
        ));
    }
    let (e_ifd, m_ifd) = command_data.split_at(32);
    let expected = crypto::retail_mac(&keys.kmac, &crypto::pad(e_ifd, crypto::BLOCK));
    if !crypto::ct_eq(&expected, m_ifd) {
        return Err(Error::AccessDenied(
            "terminal cryptogram MAC does not verify",
        ));
    }
    let s = Zeroizing::new(crypto::tdes_cbc_decrypt(&keys.kenc, e_ifd)?);
    let (rnd_ifd, rest) = s.split_at(8);
    let (echo, k_ifd) = rest.split_at(8);
    if !crypto::ct_eq(echo, &rnd_ic) {
        return Err(Error::AccessDenied("terminal did not echo the challenge"));
    }
    let mut r = Zeroizing::new(Vec::with_capacity(32));
    r.extend_from_slice(&rnd_ic);
    r.extend_from_slice(rnd_ifd);
    r.extend_from_slice(&k_ic);
    let mut data = crypto::tdes_cbc_encrypt(&keys.kenc, &r)?;
    let mac = crypto::retail_mac(&keys.kmac, &crypto::pad(&data, crypto::BLOCK));
    data.extend_from_slice(&mac);
    let mut rnd_ifd_arr = [0u8; 8];
    rnd_ifd_arr.copy_from_slice(rnd_ifd);
    Ok((data, session_channel(k_ifd, &k_ic, &rnd_ic, &rnd_ifd_arr)))
}

/// Session keys from K.IFD xor K.IC, SSC from the challenges' low halves (9303-11 section 9.7.4, 9.8.2).
fn session_channel(
    k_ifd: &[u8],
    k_ic: &[u8],
    rnd_ic: &[u8; 8],
    rnd_ifd: &[u8; 8],
) -> SecureChannel {
    let seed: Zeroizing<Vec<u8>> =
        Zeroizing::new(k_ifd.iter().zip(k_ic).map(|(a, b)| a ^ b).collect());
    let mut ssc = [0u8; 8];
    ssc[..4].copy_from_slice(&rnd_ic[4..]);
    ssc[4..].copy_from_slice(&rnd_ifd[4..]);
    SecureChannel::tdes(
        crypto::kdf_3des(&seed, KdfCounter::Enc),
        crypto::kdf_3des(&seed, KdfCounter::Mac),
        u64::from_be_bytes(ssc),
    )
}

#[cfg(test)]
mod tests;
