//! Signature verification: only an image signed by the vendor's key passes.

#![allow(clippy::unwrap_used)]

use ed25519_dalek::SigningKey;
use gate_protocol::{IMAGE_HEADER_LEN, ImageError};

use super::verify;

fn vendor() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn image() -> Vec<u8> {
    gate_sim::signed_image(&vendor(), 0x4147, 3, b"the new gate firmware")
}

#[test]
fn a_vendor_signed_image_verifies() {
    let bytes = image();
    let img = verify(&bytes, &vendor().verifying_key()).unwrap();
    assert_eq!(img.header().version, 3);
    assert_eq!(img.payload(), b"the new gate firmware");
}

#[test]
fn another_key_is_a_bad_signature() {
    let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
    assert_eq!(
        verify(&image(), &other).unwrap_err(),
        ImageError::BadSignature
    );
}

#[test]
fn a_flipped_signature_bit_is_a_bad_signature() {
    let mut bytes = image();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert_eq!(
        verify(&bytes, &vendor().verifying_key()).unwrap_err(),
        ImageError::BadSignature
    );
}

#[test]
fn a_header_changed_after_signing_is_a_bad_signature() {
    // Version bumped and the hash left intact: only the signature catches it.
    let mut bytes = image();
    bytes[10] ^= 0x01;
    assert_eq!(
        verify(&bytes, &vendor().verifying_key()).unwrap_err(),
        ImageError::BadSignature
    );
}

#[test]
fn a_payload_changed_after_signing_is_caught_by_the_hash_first() {
    let mut bytes = image();
    bytes[IMAGE_HEADER_LEN] ^= 0x01;
    assert_eq!(
        verify(&bytes, &vendor().verifying_key()).unwrap_err(),
        ImageError::HashMismatch
    );
}

#[test]
fn structural_errors_come_before_the_signature() {
    let bytes = image();
    assert!(matches!(
        verify(&bytes[..10], &vendor().verifying_key()),
        Err(ImageError::Truncated { .. })
    ));
    assert!(matches!(
        verify(&bytes[..bytes.len() - 1], &vendor().verifying_key()),
        Err(ImageError::LengthMismatch { .. })
    ));
}
