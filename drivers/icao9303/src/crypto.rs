//! Cryptographic primitives of 9303 part 11 for BAC and 3DES secure messaging.
//!
//! Key derivation (9303-11 section 9.7.1), ISO/IEC 9797-1 padding method 2
//! and MAC algorithm 3 (9303-11 section 9.8.6.1 and 9.8.3), and 2-key 3DES in
//! CBC mode with a zero IV (9303-11 section 9.8.6.1).

use des::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::{Des, TdesEde2};
use sha1::{Digest, Sha1};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::CardFault;

/// DES and 3DES block size in bytes.
pub const BLOCK: usize = 8;

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
