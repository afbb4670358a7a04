//! Every way an image can be refused, and hostile bytes.

extern crate std;

use std::vec::Vec;

use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::*;

/// An image of `payload` for hardware 0x4147, version 7, with a dummy signature.
fn image(payload: &[u8]) -> Vec<u8> {
    let header = ImageHeader {
        hardware_id: 0x4147,
        version: 7,
        length: u32::try_from(payload.len()).expect("small"),
        sha256: Sha256::digest(payload).into(),
    };
    let mut out = header.to_bytes().to_vec();
    out.extend_from_slice(payload);
    out.extend_from_slice(&[0xA5; SIGNATURE_LEN]);
    out
}

fn target(hardware_id: u16, installed: u32, allow_downgrade: bool) -> Target {
    Target {
        hardware_id,
        installed,
        allow_downgrade,
    }
}

#[test]
fn a_good_image_parses_into_its_parts() {
    let bytes = image(b"firmware payload");
    let img = Image::parse(&bytes).expect("valid");
    assert_eq!(img.header().hardware_id, 0x4147);
    assert_eq!(img.header().version, 7);
    assert_eq!(img.header().length, 16);
    assert_eq!(img.payload(), b"firmware payload");
    assert_eq!(img.signed_bytes(), &bytes[..IMAGE_HEADER_LEN + 16]);
    assert_eq!(img.signature(), &[0xA5; SIGNATURE_LEN]);
    assert_eq!(&bytes[..4], b"AGFW");
    assert_eq!(IMAGE_HEADER_LEN, 47);
}

#[test]
fn truncated_in_every_header_field() {
    let bytes = image(b"x");
    let cases = [
        (0, "magic"),
        (3, "magic"),
        (4, "format version"),
        (5, "hardware id"),
        (6, "hardware id"),
        (7, "firmware version"),
        (11, "payload length"),
        (15, "SHA-256"),
        (46, "SHA-256"),
    ];
    for (len, field) in cases {
        assert_eq!(
            Image::parse(&bytes[..len]),
            Err(ImageError::Truncated { field }),
            "cut at {len}"
        );
    }
}

#[test]
fn bad_magic() {
    let mut bytes = image(b"x");
    bytes[0] = b'Z';
    assert_eq!(Image::parse(&bytes), Err(ImageError::BadMagic(*b"ZGFW")));
}

#[test]
fn wrong_format_version() {
    let mut bytes = image(b"x");
    bytes[4] = 2;
    assert_eq!(Image::parse(&bytes), Err(ImageError::UnsupportedFormat(2)));
}

#[test]
fn empty_payload() {
    let bytes = image(b"");
    assert_eq!(Image::parse(&bytes), Err(ImageError::EmptyPayload));
}

#[test]
fn length_mismatch_short_long_and_huge() {
    let bytes = image(b"0123456789");
    // Payload cut short (signature bytes missing).
    assert_eq!(
        Image::parse(&bytes[..bytes.len() - 1]),
        Err(ImageError::LengthMismatch {
            declared: 10,
            actual: 9
        })
    );
    // Only the header.
    assert_eq!(
        Image::parse(&bytes[..IMAGE_HEADER_LEN]),
        Err(ImageError::LengthMismatch {
            declared: 10,
            actual: 0
        })
    );
    // Trailing bytes after the signature.
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(
        Image::parse(&long),
        Err(ImageError::LengthMismatch {
            declared: 10,
            actual: 11
        })
    );
    // A length near u32::MAX must not overflow anything.
    let mut huge = bytes;
    huge[11..15].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        Image::parse(&huge),
        Err(ImageError::LengthMismatch {
            declared: u32::MAX,
            actual: 10
        })
    );
}

#[test]
fn wrong_hash() {
    let mut bytes = image(b"0123456789");
    bytes[IMAGE_HEADER_LEN + 3] ^= 1;
    assert_eq!(Image::parse(&bytes), Err(ImageError::HashMismatch));
    let mut bytes = image(b"0123456789");
    bytes[20] ^= 1; // inside the stored SHA-256
    assert_eq!(Image::parse(&bytes), Err(ImageError::HashMismatch));
}

#[test]
fn wrong_hardware_id() {
    let bytes = image(b"x");
    let img = Image::parse(&bytes).expect("valid");
    assert_eq!(
        img.check_target(&target(0x1234, 1, false)),
        Err(ImageError::WrongHardware {
            expected: 0x1234,
            actual: 0x4147
        })
    );
    // Allowing downgrades does not allow other hardware.
    assert!(matches!(
        img.check_target(&target(0x1234, 1, true)),
        Err(ImageError::WrongHardware { .. })
    ));
}

#[test]
fn downgrade_refused_unless_allowed() {
    let bytes = image(b"x");
    let img = Image::parse(&bytes).expect("valid");
    assert_eq!(
        img.check_target(&target(0x4147, 8, false)),
        Err(ImageError::Downgrade {
            installed: 8,
            offered: 7
        })
    );
    assert_eq!(img.check_target(&target(0x4147, 8, true)), Ok(()));
    // Same version (re-install) and newer are fine.
    assert_eq!(img.check_target(&target(0x4147, 7, false)), Ok(()));
    assert_eq!(img.check_target(&target(0x4147, 1, false)), Ok(()));
}

#[test]
fn every_error_has_a_message() {
    use core::fmt::Write as _;
    // No wildcard: a new variant must be added here.
    for e in [
        ImageError::Truncated { field: "magic" },
        ImageError::BadMagic(*b"ZZZZ"),
        ImageError::UnsupportedFormat(9),
        ImageError::EmptyPayload,
        ImageError::LengthMismatch {
            declared: 1,
            actual: 2,
        },
        ImageError::HashMismatch,
        ImageError::BadSignature,
        ImageError::WrongHardware {
            expected: 1,
            actual: 2,
        },
        ImageError::Downgrade {
            installed: 2,
            offered: 1,
        },
    ] {
        match e {
            ImageError::Truncated { .. }
            | ImageError::BadMagic(_)
            | ImageError::UnsupportedFormat(_)
            | ImageError::EmptyPayload
            | ImageError::LengthMismatch { .. }
            | ImageError::HashMismatch
            | ImageError::BadSignature
            | ImageError::WrongHardware { .. }
            | ImageError::Downgrade { .. } => {}
        }
        let mut s = std::string::String::new();
        write!(s, "{e}").expect("formats");
        assert!(!s.is_empty());
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Image::parse(&bytes);
    }

    #[test]
    fn a_valid_prefix_with_random_tail_never_panics(
        payload in proptest::collection::vec(any::<u8>(), 1..100),
        cut in any::<usize>(),
        flip in any::<usize>(),
    ) {
        let mut bytes = image(&payload);
        let at = flip % bytes.len();
        bytes[at] ^= 0x40;
        let cut = cut % (bytes.len() + 1);
        let _ = Image::parse(&bytes[..cut]);
    }

    #[test]
    fn any_payload_round_trips(payload in proptest::collection::vec(any::<u8>(), 1..300)) {
        let bytes = image(&payload);
        let img = Image::parse(&bytes).expect("valid");
        prop_assert_eq!(img.payload(), &payload[..]);
    }
}
