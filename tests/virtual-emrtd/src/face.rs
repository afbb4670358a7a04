//! The face image stored in DG2: format sniffing, dimensions, and padding.
//!
//! Padding makes DG2 large without changing the picture: JPEG comment
//! segments (`FFFE`, ITU-T T.81 §B.2.4.5) after SOI, a JPEG 2000 comment
//! segment (`FF64`, ITU-T T.800 §A.9.2) after SIZ, or a `uuid` box appended
//! to a JP2 file (ITU-T T.800 §I.7.2). Decoders skip all three.

/// The bundled synthetic face (a cartoon, no real person), baseline JPEG, 240×320.
const FACE_JPEG: &[u8] = include_bytes!("../assets/face.jpg");
/// The same face as a JPEG 2000 (JP2) file, 240×320.
const FACE_JP2: &[u8] = include_bytes!("../assets/face.jp2");
/// Width of the bundled faces.
const FACE_WIDTH: u16 = 240;
/// Height of the bundled faces.
const FACE_HEIGHT: u16 = 320;

/// Signature box that opens every JP2 file (ITU-T T.800 §I.5.1).
const JP2_SIGNATURE: [u8; 12] = [
    0, 0, 0, 0x0C, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A,
];
/// SOC and SIZ markers that open a raw JPEG 2000 codestream (ITU-T T.800 §A.4.1, A.5.1).
const J2K_START: [u8; 4] = [0xFF, 0x4F, 0xFF, 0x51];
/// UUID of the padding box: random, owned by this crate, meaningless to any reader.
const PADDING_UUID: [u8; 16] = [
    0x5B, 0x0E, 0x1F, 0x6C, 0x9D, 0x43, 0x4E, 0x4A, 0x8F, 0x2B, 0x71, 0x3A, 0xE0, 0x55, 0x66, 0x0D,
];

/// A face image as stored in DG2's ISO/IEC 19794-5 record.
#[derive(Clone, PartialEq, Eq)]
pub struct FaceImage {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// Its encoding.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
}

/// Image encodings a 19794-5 record names (its "image data type").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG (image data type 0).
    Jpeg,
    /// JPEG 2000, JP2 file or raw codestream (image data type 1).
    Jpeg2000,
}

/// An image that cannot be used as a DG2 face.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaceError {
    /// Neither JPEG nor JPEG 2000.
    #[error("not a JPEG or JPEG 2000 image")]
    UnknownFormat,
    /// The dimensions could not be found in the image headers.
    #[error("image headers are malformed or lack the dimensions")]
    NoDimensions,
    /// Zero or wider/taller than 65,535 pixels (19794-5 holds them in 2 bytes).
    #[error("image size {width}x{height} does not fit a 19794-5 record")]
    BadDimensions {
        /// Width read from the image.
        width: u32,
        /// Height read from the image.
        height: u32,
    },
}

impl std::fmt::Debug for FaceImage {
    /// Format, size and length, not the picture.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FaceImage({:?}, {}x{}, {} bytes)",
            self.format,
            self.width,
            self.height,
            self.bytes.len()
        )
    }
}

impl ImageFormat {
    /// The 19794-5 image data type byte: 0 for JPEG, 1 for JPEG 2000.
    pub fn image_data_type(self) -> u8 {
        match self {
            Self::Jpeg => 0,
            Self::Jpeg2000 => 1,
        }
    }
}

impl FaceImage {
    /// The bundled synthetic face as JPEG.
    pub fn synthetic_jpeg() -> Self {
        Self {
            bytes: FACE_JPEG.to_vec(),
            format: ImageFormat::Jpeg,
            width: FACE_WIDTH,
            height: FACE_HEIGHT,
        }
    }

    /// The bundled synthetic face as JPEG 2000 (JP2 file).
    pub fn synthetic_jpeg2000() -> Self {
        Self {
            bytes: FACE_JP2.to_vec(),
            format: ImageFormat::Jpeg2000,
            width: FACE_WIDTH,
            height: FACE_HEIGHT,
        }
    }

    /// Recognises a JPEG, JP2 or JPEG 2000 codestream and reads its dimensions from its headers.
    ///
    /// # Errors
    /// A [`FaceError`] for an unknown format, malformed headers or unusable dimensions.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, FaceError> {
        let (format, size) = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            (ImageFormat::Jpeg, jpeg_size(&bytes))
        } else if bytes.starts_with(&JP2_SIGNATURE) {
            (ImageFormat::Jpeg2000, jp2_size(&bytes))
        } else if bytes.starts_with(&J2K_START) {
            (ImageFormat::Jpeg2000, j2k_size(&bytes))
        } else {
            return Err(FaceError::UnknownFormat);
        };
        let (width, height) = size.ok_or(FaceError::NoDimensions)?;
        let fit = |v: u32| u16::try_from(v).ok().filter(|&v| v > 0);
        match (fit(width), fit(height)) {
            (Some(w), Some(h)) => Ok(Self {
                bytes,
                format,
                width: w,
                height: h,
            }),
            _ => Err(FaceError::BadDimensions { width, height }),
        }
    }

    /// The same picture, at least `extra` bytes longer (exactly, unless `extra` is below one segment's overhead).
    pub fn padded(&self, extra: usize) -> Self {
        let mut out = self.clone();
        if extra == 0 {
            return out;
        }
        if self.bytes.starts_with(&JP2_SIGNATURE) {
            // A uuid box at the end: LBox, 'uuid', the UUID, then zeros.
            let len = extra.max(24);
            let Ok(lbox) = u32::try_from(len) else {
                return out;
            };
            out.bytes.extend_from_slice(&lbox.to_be_bytes());
            out.bytes.extend_from_slice(b"uuid");
            out.bytes.extend_from_slice(&PADDING_UUID);
            out.bytes.resize(out.bytes.len() + (len - 24), 0);
        } else if self.bytes.starts_with(&J2K_START) {
            // COM segments right after SIZ (its length counts from Lsiz itself).
            let Some(siz_end) = be16(&self.bytes, 4).map(|lsiz| 4 + usize::from(lsiz)) else {
                return out;
            };
            let Some((head, tail)) = self.bytes.split_at_checked(siz_end) else {
                return out;
            };
            out.bytes = splice_segments(head, tail, extra, &[0xFF, 0x64], &[0, 0]);
        } else if let Some((head, tail)) =
            self.bytes.split_at_checked(after_app_segments(&self.bytes))
        {
            // JPEG: COM segments after SOI and the APPn segments (JFIF wants APP0 first).
            out.bytes = splice_segments(head, tail, extra, &[0xFF, 0xFE], &[]);
        }
        out
    }
}

/// `head`, then marker segments (`marker`, 2-byte length, `prefix`, zeros) adding up to at least `extra` bytes, then `tail`.
fn splice_segments(
    head: &[u8],
    tail: &[u8],
    extra: usize,
    marker: &[u8; 2],
    prefix: &[u8],
) -> Vec<u8> {
    let overhead = 4 + prefix.len();
    let max_data = 0xFFFF - 2 - prefix.len();
    let mut out = Vec::with_capacity(head.len() + tail.len() + extra + overhead);
    out.extend_from_slice(head);
    let mut left = extra.max(overhead);
    while left > 0 {
        // Each segment needs at least its overhead; never leave less than that for the next.
        let mut data = (left - overhead.min(left)).min(max_data);
        let rest = left - (data + overhead).min(left);
        if rest > 0 && rest < overhead {
            data -= overhead - rest;
        }
        let seg_len = (2 + prefix.len() + data) as u16;
        out.extend_from_slice(marker);
        out.extend_from_slice(&seg_len.to_be_bytes());
        out.extend_from_slice(prefix);
        out.resize(out.len() + data, 0);
        left = left.saturating_sub(data + overhead);
    }
    out.extend_from_slice(tail);
    out
}

/// Offset just past a JPEG's SOI and the APPn segments that follow it.
fn after_app_segments(b: &[u8]) -> usize {
    let mut i = 2;
    while let (Some(0xFF), Some(0xE0..=0xEF), Some(len)) = (b.get(i), b.get(i + 1), be16(b, i + 2))
    {
        match i.checked_add(2 + usize::from(len)) {
            Some(next) if next <= b.len() && len >= 2 => i = next,
            _ => break,
        }
    }
    i
}

/// Width and height from a JPEG's SOFn segment (ITU-T T.81 §B.2.2).
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    loop {
        if *b.get(i)? != 0xFF {
            return None;
        }
        while *b.get(i)? == 0xFF {
            i += 1;
        }
        let marker = *b.get(i)?;
        i += 1;
        match marker {
            // Markers without a length: TEM, RSTn, SOI.
            0x01 | 0xD0..=0xD8 => continue,
            // End of image or start of scan before any frame header.
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let len = usize::from(be16(b, i)?);
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let height = be16(b, i + 3)?;
            let width = be16(b, i + 5)?;
            return Some((u32::from(width), u32::from(height)));
        }
        if len < 2 {
            return None;
        }
        i = i.checked_add(len)?;
    }
}

/// Width and height from a JP2 file's `jp2h`/`ihdr` box (ITU-T T.800 §I.5.3.1).
fn jp2_size(b: &[u8]) -> Option<(u32, u32)> {
    let jp2h = find_box(b, b"jp2h")?;
    let ihdr = find_box(jp2h, b"ihdr")?;
    let height = be32(ihdr, 0)?;
    let width = be32(ihdr, 4)?;
    Some((width, height))
}

/// The contents of the first box of type `kind` in a sequence of boxes (ITU-T T.800 §I.4).
fn find_box<'a>(mut b: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    while !b.is_empty() {
        let lbox = be32(b, 0)?;
        let tbox = b.get(4..8)?;
        let (header, len) = match lbox {
            0 => (8, b.len()),
            1 => (
                16,
                usize::try_from(u64::from_be_bytes(b.get(8..16)?.try_into().ok()?)).ok()?,
            ),
            n => (8, usize::try_from(n).ok()?),
        };
        if len < header {
            return None;
        }
        let body = b.get(header..len)?;
        if tbox == kind {
            return Some(body);
        }
        b = b.get(len..)?;
    }
    None
}

/// Width and height from a codestream's SIZ segment (ITU-T T.800 §A.5.1).
fn j2k_size(b: &[u8]) -> Option<(u32, u32)> {
    let xsiz = be32(b, 8)?;
    let ysiz = be32(b, 12)?;
    let x_offset = be32(b, 16)?;
    let y_offset = be32(b, 20)?;
    Some((xsiz.checked_sub(x_offset)?, ysiz.checked_sub(y_offset)?))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_faces_are_what_they_claim() {
        for face in [FaceImage::synthetic_jpeg(), FaceImage::synthetic_jpeg2000()] {
            let parsed = FaceImage::from_bytes(face.bytes.clone()).unwrap();
            assert_eq!(parsed, face);
            assert!(
                face.bytes.len() < 16_000,
                "a few KB, not {}",
                face.bytes.len()
            );
        }
    }

    #[test]
    fn padding_adds_exactly_and_keeps_the_headers_readable() {
        let codestream = {
            // A minimal SOC + SIZ for a 100x50 image with one component.
            let mut c = vec![0xFF, 0x4F, 0xFF, 0x51, 0, 41, 0, 0];
            for v in [100u32, 50, 0, 0, 100, 50, 0, 0] {
                c.extend_from_slice(&v.to_be_bytes());
            }
            c.extend_from_slice(&[0, 1, 7, 1, 1, 0xFF, 0xD9]);
            c
        };
        let j2k = FaceImage::from_bytes(codestream).unwrap();
        assert_eq!((j2k.width, j2k.height), (100, 50));
        for face in [
            FaceImage::synthetic_jpeg(),
            FaceImage::synthetic_jpeg2000(),
            j2k,
        ] {
            for extra in [
                1usize, 5, 6, 7, 100, 65_537, 65_538, 65_540, 65_541, 200_000,
            ] {
                let padded = face.padded(extra);
                let added = padded.bytes.len() - face.bytes.len();
                assert!(
                    added >= extra && added <= extra.max(24),
                    "{extra} -> {added}"
                );
                let again = FaceImage::from_bytes(padded.bytes).unwrap();
                assert_eq!(
                    (again.width, again.height, again.format),
                    (face.width, face.height, face.format)
                );
            }
        }
    }

    #[test]
    fn garbage_is_rejected_not_panicked_on() {
        assert_eq!(
            FaceImage::from_bytes(b"GIF89a".to_vec()),
            Err(FaceError::UnknownFormat)
        );
        for n in 0..40 {
            let _ = FaceImage::from_bytes(FACE_JPEG[..n].to_vec());
            let _ = FaceImage::from_bytes(FACE_JP2[..n].to_vec());
        }
    }
}
