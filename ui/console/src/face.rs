//! The chip's face image, decoded for the referral view: JPEG (through the
//! `image` crate's decoder) and JPEG 2000 (through `hayro-jpeg2000`, pure
//! Rust). The bytes come from a passport chip that may be forged, so the
//! size is bounded before decoding and a decoder that panics is caught: the
//! officer then sees a placeholder, never a crash.
#![forbid(unsafe_code)]

use std::fmt;
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use kiosk_app::supervision::protocol::{FaceView, ReferralView};

/// The largest width or height decoded (a chip's face is about 480x640).
pub const MAX_DIMENSION: u32 = 4096;

/// A decoded image: 8-bit RGBA, row by row.
#[derive(Clone, PartialEq, Eq)]
pub struct RgbaImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes.
    pub pixels: Vec<u8>,
    /// The file was damaged (a JPEG without its end marker, as when a chip's
    /// face was altered): what could be read is shown.
    pub repaired: bool,
}

impl fmt::Debug for RgbaImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RgbaImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("repaired", &self.repaired)
            .finish_non_exhaustive()
    }
}

/// What the referral view shows in place of the face. Personal data:
/// `Debug` shows sizes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FacePicture {
    /// The decoded image.
    Image(RgbaImage),
    /// The image could not be decoded (damaged, too large, an unknown kind).
    Undecodable {
        /// `jpeg` or `jpeg2000`, as the kiosk said.
        format: String,
        /// Its size in bytes.
        bytes: usize,
    },
    /// The kiosk left out a face over its size limit.
    Omitted,
}

/// The picture for a referral: `None` when the chip gave no face at all.
#[must_use]
pub fn picture_for(referral: &ReferralView) -> Option<FacePicture> {
    match &referral.face {
        Some(face) => Some(decode(face)),
        None if referral.face_omitted => Some(FacePicture::Omitted),
        None => None,
    }
}

/// Decodes a face (the format is sniffed from the bytes, not taken on trust).
#[must_use]
pub fn decode(face: &FaceView) -> FacePicture {
    let data = face.data.as_slice();
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        if data.starts_with(&[0xFF, 0xD8]) {
            decode_jpeg(data).or_else(|| {
                // A JPEG whose end marker is missing or altered: read what is there.
                if data.ends_with(&[0xFF, 0xD9]) {
                    return None;
                }
                let mut ended = data.to_vec();
                ended.extend_from_slice(&[0xFF, 0xD9]);
                decode_jpeg(&ended).map(|image| RgbaImage {
                    repaired: true,
                    ..image
                })
            })
        } else if data.starts_with(b"\x00\x00\x00\x0CjP  ")
            || data.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
        {
            decode_jpeg2000(data)
        } else {
            None
        }
    }));
    match decoded {
        Ok(Some(image)) => FacePicture::Image(image),
        Ok(None) | Err(_) => FacePicture::Undecodable {
            format: face.format.clone(),
            bytes: data.len(),
        },
    }
}

/// A baseline or progressive JPEG.
fn decode_jpeg(data: &[u8]) -> Option<RgbaImage> {
    let mut reader = image::ImageReader::with_format(Cursor::new(data), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(u64::from(MAX_DIMENSION) * u64::from(MAX_DIMENSION) * 4);
    reader.limits(limits);
    let rgba = reader.decode().ok()?.to_rgba8();
    Some(RgbaImage {
        width: rgba.width(),
        height: rgba.height(),
        pixels: rgba.into_raw(),
        repaired: false,
    })
}

/// A JP2 file or a raw JPEG 2000 codestream, grey or RGB, with or without alpha.
fn decode_jpeg2000(data: &[u8]) -> Option<RgbaImage> {
    use hayro_jpeg2000::{DecodeSettings, DecoderContext, Image};
    let image = Image::new(data, &DecodeSettings::default()).ok()?;
    let (width, height) = (image.width(), image.height());
    if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
        return None;
    }
    let has_alpha = image.has_alpha();
    let mut context = DecoderContext::default();
    let samples = image.decode(&mut context).ok()?.data_u8();
    let count = usize::try_from(width).ok()? * usize::try_from(height).ok()?;
    if count == 0 || samples.len() % count != 0 {
        return None;
    }
    let channels = samples.len() / count;
    let mut pixels = Vec::with_capacity(count * 4);
    match (channels, has_alpha) {
        (1, _) => samples.iter().for_each(|&g| pixels.extend([g, g, g, 255])),
        (2, true) => samples
            .chunks_exact(2)
            .for_each(|p| pixels.extend([p[0], p[0], p[0], p[1]])),
        (3, false) => samples
            .chunks_exact(3)
            .for_each(|p| pixels.extend([p[0], p[1], p[2], 255])),
        (4, true) => pixels.extend_from_slice(&samples),
        _ => return None,
    }
    Some(RgbaImage {
        width,
        height,
        pixels,
        repaired: false,
    })
}
