//! Signed gate-controller firmware images: the format and its parser.
//!
//! ```text
//! offset  size  field
//!      0     4  magic "AGFW"
//!      4     1  format version (1)
//!      5     2  hardware id, u16 BE (the controller board the image is built for)
//!      7     4  firmware version, u32 BE (monotonic; higher is newer)
//!     11     4  payload length, u32 BE (1 or more)
//!     15    32  SHA-256 of the payload
//!     47     n  payload
//!   47+n    64  Ed25519 signature over bytes 0..47+n (header and payload)
//! ```
//!
//! [`Image::parse`] checks the structure and the payload's hash; it never
//! panics and never reads past the input. The signature is checked by the
//! kiosk (`drivers/gate`), which holds the vendor's public key;
//! [`Image::check_target`] applies the hardware id and downgrade rules.

use core::fmt;

use sha2::{Digest, Sha256};

/// The first four bytes of every image.
pub const IMAGE_MAGIC: [u8; 4] = *b"AGFW";

/// The image format this parser reads.
pub const IMAGE_FORMAT_VERSION: u8 = 1;

/// Bytes of the header before the payload.
pub const IMAGE_HEADER_LEN: usize = 4 + 1 + 2 + 4 + 4 + 32;

/// Bytes of the Ed25519 signature after the payload.
pub const SIGNATURE_LEN: usize = 64;

/// The fields of an image header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    /// The controller board the image is built for.
    pub hardware_id: u16,
    /// Firmware version (higher is newer).
    pub version: u32,
    /// Payload length in bytes.
    pub length: u32,
    /// SHA-256 of the payload.
    pub sha256: [u8; 32],
}

impl ImageHeader {
    /// The header's bytes, as they start an image (magic and format version included).
    pub fn to_bytes(&self) -> [u8; IMAGE_HEADER_LEN] {
        let mut out = [0u8; IMAGE_HEADER_LEN];
        let parts: [&[u8]; 6] = [
            &IMAGE_MAGIC,
            &[IMAGE_FORMAT_VERSION],
            &self.hardware_id.to_be_bytes(),
            &self.version.to_be_bytes(),
            &self.length.to_be_bytes(),
            &self.sha256,
        ];
        let mut at = 0;
        for part in parts {
            if let Some(slot) = out.get_mut(at..at + part.len()) {
                slot.copy_from_slice(part);
            }
            at += part.len();
        }
        out
    }
}

/// What an image must fit: the controller it is for and what runs there now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Hardware id the controller reports.
    pub hardware_id: u16,
    /// Version the controller runs now.
    pub installed: u32,
    /// Accept an image older than `installed`.
    pub allow_downgrade: bool,
}

/// Why an image was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageError {
    /// The input ends inside this header field.
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// The image does not start with [`IMAGE_MAGIC`]: not a firmware image.
    BadMagic([u8; 4]),
    /// The image uses a format version this parser does not read.
    UnsupportedFormat(u8),
    /// The header announces an empty payload.
    EmptyPayload,
    /// The input is not header + announced length + signature long.
    LengthMismatch {
        /// Payload length the header announces.
        declared: u32,
        /// Payload bytes present (input length less header and signature).
        actual: usize,
    },
    /// The payload does not hash to the header's SHA-256 (damaged or altered).
    HashMismatch,
    /// The Ed25519 signature does not verify with the vendor's key (reported by the verifier).
    BadSignature,
    /// The image is for another controller board.
    WrongHardware {
        /// Hardware id of the controller.
        expected: u16,
        /// Hardware id in the image.
        actual: u16,
    },
    /// The image is older than the firmware installed (and downgrades were not allowed).
    Downgrade {
        /// Version installed.
        installed: u32,
        /// Version of the image.
        offered: u32,
    },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { field } => write!(f, "image truncated in its {field}"),
            Self::BadMagic(m) => write!(
                f,
                "not a gate firmware image (starts {:02x}{:02x}{:02x}{:02x}, expected \"AGFW\")",
                m[0], m[1], m[2], m[3]
            ),
            Self::UnsupportedFormat(v) => write!(
                f,
                "image format version {v}, this tool reads {IMAGE_FORMAT_VERSION}"
            ),
            Self::EmptyPayload => f.write_str("the image announces an empty payload"),
            Self::LengthMismatch { declared, actual } => write!(
                f,
                "the header announces {declared} payload bytes, the file holds {actual}"
            ),
            Self::HashMismatch => f.write_str("the payload does not match the header's SHA-256"),
            Self::BadSignature => {
                f.write_str("bad signature: not signed by the vendor's firmware-signing key")
            }
            Self::WrongHardware { expected, actual } => write!(
                f,
                "the image is for hardware {actual:#06x}, this gate controller is {expected:#06x}"
            ),
            Self::Downgrade { installed, offered } => write!(
                f,
                "version {offered} is older than the installed version {installed} (downgrade not allowed)"
            ),
        }
    }
}

impl core::error::Error for ImageError {}

/// A structurally valid image whose payload matches its hash (signature not yet checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Image<'a> {
    /// The header fields.
    header: ImageHeader,
    /// The payload.
    payload: &'a [u8],
    /// Header and payload: what the signature covers.
    signed: &'a [u8],
    /// The signature.
    signature: &'a [u8; SIGNATURE_LEN],
}

impl<'a> Image<'a> {
    /// Parses `bytes` as one image and checks the payload's SHA-256.
    ///
    /// # Errors
    ///
    /// [`ImageError::Truncated`], [`ImageError::BadMagic`],
    /// [`ImageError::UnsupportedFormat`], [`ImageError::EmptyPayload`],
    /// [`ImageError::LengthMismatch`] or [`ImageError::HashMismatch`].
    /// Never panics, whatever the bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ImageError> {
        let mut r = Reader { rest: bytes };
        let magic = r.take::<4>("magic")?;
        if magic != IMAGE_MAGIC {
            return Err(ImageError::BadMagic(magic));
        }
        let [format] = r.take::<1>("format version")?;
        if format != IMAGE_FORMAT_VERSION {
            return Err(ImageError::UnsupportedFormat(format));
        }
        let header = ImageHeader {
            hardware_id: u16::from_be_bytes(r.take("hardware id")?),
            version: u32::from_be_bytes(r.take("firmware version")?),
            length: u32::from_be_bytes(r.take("payload length")?),
            sha256: r.take("SHA-256")?,
        };
        if header.length == 0 {
            return Err(ImageError::EmptyPayload);
        }
        let actual = r.rest.len().saturating_sub(SIGNATURE_LEN);
        let mismatch = ImageError::LengthMismatch {
            declared: header.length,
            actual,
        };
        let declared = usize::try_from(header.length).map_err(|_| mismatch)?;
        if r.rest.len() != declared.checked_add(SIGNATURE_LEN).ok_or(mismatch)? {
            return Err(mismatch);
        }
        let (payload, sig) = r.rest.split_at_checked(declared).ok_or(mismatch)?;
        let signature: &[u8; SIGNATURE_LEN] = sig.try_into().map_err(|_| mismatch)?;
        let signed = bytes.get(..IMAGE_HEADER_LEN + declared).ok_or(mismatch)?;
        let hash: [u8; 32] = Sha256::digest(payload).into();
        if hash != header.sha256 {
            return Err(ImageError::HashMismatch);
        }
        Ok(Self {
            header,
            payload,
            signed,
            signature,
        })
    }

    /// The header fields.
    pub fn header(&self) -> &ImageHeader {
        &self.header
    }

    /// The payload: what is written into the controller's slot.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Header and payload: the bytes the signature covers.
    pub fn signed_bytes(&self) -> &'a [u8] {
        self.signed
    }

    /// The Ed25519 signature.
    pub fn signature(&self) -> &'a [u8; SIGNATURE_LEN] {
        self.signature
    }

    /// Checks that the image is for `target`'s hardware and not a downgrade.
    ///
    /// The same version as installed is accepted (a re-install).
    ///
    /// # Errors
    ///
    /// [`ImageError::WrongHardware`], or [`ImageError::Downgrade`] unless
    /// [`Target::allow_downgrade`].
    pub fn check_target(&self, target: &Target) -> Result<(), ImageError> {
        if self.header.hardware_id != target.hardware_id {
            return Err(ImageError::WrongHardware {
                expected: target.hardware_id,
                actual: self.header.hardware_id,
            });
        }
        if self.header.version < target.installed && !target.allow_downgrade {
            return Err(ImageError::Downgrade {
                installed: target.installed,
                offered: self.header.version,
            });
        }
        Ok(())
    }
}

/// A cursor over untrusted image bytes.
struct Reader<'a> {
    /// Bytes not read yet.
    rest: &'a [u8],
}

impl Reader<'_> {
    /// Takes the next `N` bytes of the field `field`.
    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ImageError> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(ImageError::Truncated { field })?;
        self.rest = tail;
        Ok(*head)
    }
}

#[cfg(test)]
mod tests;
