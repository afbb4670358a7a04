//! Cryptographic primitives of 9303 part 11 for BAC, PACE and secure messaging.
//!
//! Key derivation (9303-11 section 9.7.1), ISO/IEC 9797-1 padding method 2
//! and MAC algorithm 3 (9303-11 section 9.8.6.1 and 9.8.3), 2-key 3DES in
//! CBC mode with a zero IV (9303-11 section 9.8.6.1), and AES in CBC mode
//! with AES-CMAC (9303-11 section 9.8.7, NIST SP 800-38B).

use aes::{Aes128, Aes192, Aes256};
use cmac::{Cmac, Mac};
use des::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::{Des, TdesEde2};
use sha1::{Digest, Sha1};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::CardFault;

/// DES and 3DES block size in bytes.
pub const BLOCK: usize = 8;
/// AES block size in bytes.
pub const AES_BLOCK: usize = 16;

/// The block cipher of a secure-messaging session or a PACE protocol (9303-11 section 9.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmCipher {
    /// 2-key 3DES CBC with the retail MAC (9303-11 section 9.8.6).
    Tdes,
    /// AES-128 CBC with AES-CMAC (9303-11 section 9.8.7).
    Aes128,
    /// AES-192 CBC with AES-CMAC.
    Aes192,
    /// AES-256 CBC with AES-CMAC.
    Aes256,
}

/// A session or password key of any [`SmCipher`], wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SessionKey(Vec<u8>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionKey({} bytes)", self.0.len())
    }
}

impl SessionKey {
    /// A key from raw bytes (16 for 3DES and AES-128, 24 for AES-192, 32 for AES-256).
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl SmCipher {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            SmCipher::Tdes | SmCipher::Aes128 => 16,
            SmCipher::Aes192 => 24,
            SmCipher::Aes256 => 32,
        }
    }

    /// Block length in bytes (also the padding block and the SSC length).
    pub fn block_len(self) -> usize {
        match self {
            SmCipher::Tdes => BLOCK,
            _ => AES_BLOCK,
        }
    }
}

/// KDF(K, c) for any cipher (9303-11 section 9.7.1): SHA-1 for 3DES and AES-128, SHA-256 for AES-192 and AES-256.
pub fn kdf(seed: &[u8], counter: KdfCounter, cipher: SmCipher) -> SessionKey {
    match cipher {
        SmCipher::Tdes => SessionKey(kdf_3des(seed, counter).0.to_vec()),
        SmCipher::Aes128 => {
            let mut hasher = Sha1::new();
            hasher.update(seed);
            hasher.update((counter as u32).to_be_bytes());
            let digest = Zeroizing::new(hasher.finalize());
            SessionKey(digest[..16].to_vec())
        }
        SmCipher::Aes192 | SmCipher::Aes256 => {
            let mut hasher = Sha256::new();
            hasher.update(seed);
            hasher.update((counter as u32).to_be_bytes());
            let digest = Zeroizing::new(hasher.finalize());
            SessionKey(digest[..cipher.key_len()].to_vec())
        }
    }
}

/// Encrypts one 16-byte block with AES under a 16-, 24- or 32-byte key.
///
/// # Errors
/// [`crate::Error::ApiMisuse`] for any other key length.
pub fn aes_encrypt_block(
    key: &[u8],
    block: &[u8; AES_BLOCK],
) -> Result<[u8; AES_BLOCK], crate::Error> {
    let cipher = AesAny::new(key)?;
    let mut b = Array::from(*block);
    cipher.encrypt(&mut b);
    Ok(b.into())
}

/// AES CBC encryption with `iv`; `data` must be block aligned (9303-11 section 9.8.7.1).
///
/// # Errors
/// [`crate::Error::ApiMisuse`] for a bad key length or unaligned data (our bug).
pub fn aes_cbc_encrypt(
    key: &[u8],
    iv: &[u8; AES_BLOCK],
    data: &[u8],
) -> Result<Vec<u8>, crate::Error> {
    if !data.len().is_multiple_of(AES_BLOCK) {
        return Err(crate::Error::ApiMisuse("AES input not block aligned"));
    }
    let cipher = AesAny::new(key)?;
    let mut prev = *iv;
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks_exact(AES_BLOCK) {
        let mut block = Array::from(prev);
        for (b, d) in block.iter_mut().zip(chunk) {
            *b ^= d;
        }
        cipher.encrypt(&mut block);
        prev = block.into();
        out.extend_from_slice(&prev);
    }
    Ok(out)
}

/// AES CBC decryption with `iv`.
///
/// # Errors
/// [`CardFault::BadPadding`] when the ciphertext (from the chip) is not block
/// aligned; [`crate::Error::ApiMisuse`] for a bad key length.
pub fn aes_cbc_decrypt(
    key: &[u8],
    iv: &[u8; AES_BLOCK],
    data: &[u8],
) -> Result<Vec<u8>, crate::Error> {
    if !data.len().is_multiple_of(AES_BLOCK) {
        return Err(CardFault::BadPadding.into());
    }
    let cipher = AesAny::new(key)?;
    let mut prev = *iv;
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks_exact(AES_BLOCK) {
        let mut cur = [0u8; AES_BLOCK];
        cur.copy_from_slice(chunk);
        let mut block = Array::from(cur);
        cipher.decrypt(&mut block);
        for (b, p) in block.iter().zip(prev) {
            out.push(b ^ p);
        }
        prev = cur;
    }
    Ok(out)
}

/// AES-CMAC (NIST SP 800-38B) over `data`, full 16 bytes; 9303 uses the first 8 (9303-11 section 9.8.7.2).
///
/// # Errors
/// [`crate::Error::ApiMisuse`] for a bad key length.
pub fn aes_cmac(key: &[u8], data: &[u8]) -> Result<[u8; AES_BLOCK], crate::Error> {
    fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Result<[u8; AES_BLOCK], crate::Error> {
        let mut mac = <M as KeyInit>::new_from_slice(key)
            .map_err(|_| crate::Error::ApiMisuse("AES key length"))?;
        mac.update(data);
        let tag = mac.finalize().into_bytes();
        let mut out = [0u8; AES_BLOCK];
        if tag.len() != AES_BLOCK {
            return Err(crate::Error::ApiMisuse("CMAC length"));
        }
        out.copy_from_slice(&tag);
        Ok(out)
    }
    match key.len() {
        16 => run::<Cmac<Aes128>>(key, data),
        24 => run::<Cmac<Aes192>>(key, data),
        32 => run::<Cmac<Aes256>>(key, data),
        _ => Err(crate::Error::ApiMisuse("AES key length")),
    }
}

/// A 2-key 3DES key (Ka || Kb), wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct TdesKey(pub [u8; 16]);

impl std::fmt::Debug for TdesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TdesKey(..)")
    }
}

/// Key usage counters of the key derivation function (9303-11 section 9.7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdfCounter {
    /// Encryption key (c = 1).
    Enc = 1,
    /// MAC key (c = 2).
    Mac = 2,
    /// PACE password key (c = 3).
    Pace = 3,
}

/// KDF for 3DES: SHA-1(seed || c), first 16 bytes, DES parity adjusted (9303-11 9.7.1.1).
pub fn kdf_3des(seed: &[u8], counter: KdfCounter) -> TdesKey {
    let mut hasher = Sha1::new();
    hasher.update(seed);
    hasher.update((counter as u32).to_be_bytes());
    let digest = hasher.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    adjust_parity(&mut key);
    TdesKey(key)
}

/// Sets each byte's low bit so that the byte has odd parity (DES key parity).
pub fn adjust_parity(key: &mut [u8]) {
    for b in key.iter_mut() {
        let high = *b & 0xFE;
        *b = high | u8::from(high.count_ones() % 2 == 0);
    }
}

/// ISO/IEC 9797-1 padding method 2: append 0x80, then zeros to a multiple of `block`.
pub fn pad(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + block);
    out.extend_from_slice(data);
    out.push(0x80);
    while !out.len().is_multiple_of(block) {
        out.push(0);
    }
    out
}

/// Removes ISO/IEC 9797-1 padding method 2.
///
/// # Errors
/// [`CardFault::BadPadding`] if the data does not end in 0x80 followed by zeros.
pub fn unpad(data: &[u8]) -> Result<&[u8], CardFault> {
    let end = data
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(CardFault::BadPadding)?;
    if data[end] != 0x80 {
        return Err(CardFault::BadPadding);
    }
    Ok(&data[..end])
}

/// ISO/IEC 9797-1 MAC algorithm 3 (retail MAC) over already padded `data`.
///
/// Single-DES CBC with Ka over every block, then decrypt with Kb and encrypt
/// with Ka (9303-11 section 9.8.3.1). `data` must be a multiple of 8 bytes;
/// a ragged tail is ignored, so callers always pad first.
pub fn retail_mac(key: &TdesKey, data: &[u8]) -> [u8; 8] {
    let (ka, kb) = key.0.split_at(8);
    let ka = des_cipher(ka);
    let kb = des_cipher(kb);
    let mut state = Array::<u8, _>::from([0u8; 8]);
    for chunk in data.chunks_exact(BLOCK) {
        for (s, d) in state.iter_mut().zip(chunk) {
            *s ^= d;
        }
        ka.encrypt_block(&mut state);
    }
    kb.decrypt_block(&mut state);
    ka.encrypt_block(&mut state);
    state.into()
}

/// 2-key 3DES CBC encryption with a zero IV; `data` must be block aligned.
///
/// # Errors
/// Fails (our bug) when `data` is not a multiple of 8 bytes.
pub fn tdes_cbc_encrypt(key: &TdesKey, data: &[u8]) -> Result<Vec<u8>, crate::Error> {
    check_aligned(data)?;
    let cipher = tdes_cipher(key);
    let mut prev = [0u8; BLOCK];
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks_exact(BLOCK) {
        let mut block = Array::<u8, _>::from(prev);
        for (b, d) in block.iter_mut().zip(chunk) {
            *b ^= d;
        }
        cipher.encrypt_block(&mut block);
        prev = block.into();
        out.extend_from_slice(&prev);
    }
    Ok(out)
}

/// 2-key 3DES CBC decryption with a zero IV.
///
/// # Errors
/// [`CardFault::BadPadding`] when the ciphertext is not a multiple of 8 bytes
/// (ciphertext comes from the chip).
pub fn tdes_cbc_decrypt(key: &TdesKey, data: &[u8]) -> Result<Vec<u8>, CardFault> {
    if !data.len().is_multiple_of(BLOCK) {
        return Err(CardFault::BadPadding);
    }
    let cipher = tdes_cipher(key);
    let mut prev = [0u8; BLOCK];
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks_exact(BLOCK) {
        let mut cur = [0u8; BLOCK];
        cur.copy_from_slice(chunk);
        let mut block = Array::<u8, _>::from(cur);
        cipher.decrypt_block(&mut block);
        for (b, p) in block.iter().zip(prev) {
            out.push(b ^ p);
        }
        prev = cur;
    }
    Ok(out)
}

/// Constant-time comparison of two MACs or cryptograms.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// AES with a key length chosen at run time.
enum AesAny {
    A128(Box<Aes128>),
    A192(Box<Aes192>),
    A256(Box<Aes256>),
}

impl AesAny {
    fn new(key: &[u8]) -> Result<Self, crate::Error> {
        let bad = |_| crate::Error::ApiMisuse("AES key length");
        Ok(match key.len() {
            16 => AesAny::A128(Box::new(Aes128::new_from_slice(key).map_err(bad)?)),
            24 => AesAny::A192(Box::new(Aes192::new_from_slice(key).map_err(bad)?)),
            32 => AesAny::A256(Box::new(Aes256::new_from_slice(key).map_err(bad)?)),
            _ => return Err(crate::Error::ApiMisuse("AES key length")),
        })
    }

    fn encrypt(&self, block: &mut aes::Block) {
        match self {
            AesAny::A128(c) => c.encrypt_block(block),
            AesAny::A192(c) => c.encrypt_block(block),
            AesAny::A256(c) => c.encrypt_block(block),
        }
    }

    fn decrypt(&self, block: &mut aes::Block) {
        match self {
            AesAny::A128(c) => c.decrypt_block(block),
            AesAny::A192(c) => c.decrypt_block(block),
            AesAny::A256(c) => c.decrypt_block(block),
        }
    }
}

fn check_aligned(data: &[u8]) -> Result<(), crate::Error> {
    if data.len().is_multiple_of(BLOCK) {
        Ok(())
    } else {
        Err(crate::Error::ApiMisuse("3DES input not block aligned"))
    }
}

fn des_cipher(key: &[u8]) -> Des {
    let mut k = [0u8; 8];
    k.copy_from_slice(key);
    Des::new(&Array::from(k))
}

fn tdes_cipher(key: &TdesKey) -> TdesEde2 {
    TdesEde2::new(&Array::from(key.0))
}

#[cfg(test)]
mod tests;
