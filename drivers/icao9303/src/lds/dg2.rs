//! DG2, the encoded face (9303-10 §4.7.2; ISO/IEC 19794-5:2005).
//!
//! ```text
//! 75 L                                  DG2
//!    7F61 L                             Biometric Information Group Template
//!       02 01 n                         number of instances
//!       7F60 L                          Biometric Information Template (n times)
//!          A1 L ...                     Biometric Header Template (ISO/IEC 7816-11)
//!          5F2E L <facial record>       biometric data block (7F2E: enciphered)
//! ```
//!
//! The facial record (ISO/IEC 19794-5:2005 §5.4 to §5.7), all numbers big-endian:
//!
//! ```text
//! header (14)      "FAC\0", "010\0", record length (4, whole record), image count (2)
//! per image:
//!   facial information (20)  block length (4, this image's whole block), feature
//!                            point count (2), gender, eye colour, hair colour (1 each),
//!                            property mask (3), expression (2), pose angles (3),
//!                            pose angle uncertainty (3)
//!   feature points           8 bytes each
//!   image information (12)   face image type (1), image data type (1: 0 JPEG,
//!                            1 JPEG 2000), width (2), height (2), colour space (1),
//!                            source type (1), device type (2), quality (2)
//!   image data               the rest of the block
//! ```

use crate::error::{ParseError, ParseErrorKind};
use crate::reader::Reader;
use crate::tlv::{self, Tlv};

use super::small_number;

/// The parsed DG2: every face image, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dg2 {
    /// The face images of every Biometric Information Template; never empty.
    pub faces: Vec<FaceImage>,
}

/// One face image from an ISO/IEC 19794-5 facial record.
#[derive(Clone, PartialEq, Eq)]
pub struct FaceImage {
    /// Image encoding, checked against the image's first bytes.
    pub format: ImageFormat,
    /// Width in pixels, as the record states it.
    pub width: u16,
    /// Height in pixels, as the record states it.
    pub height: u16,
    /// The encoded image (a complete JPEG or JPEG 2000 file).
    pub data: Vec<u8>,
}

/// How a face image is encoded (ISO/IEC 19794-5:2005 §5.7.2, image data type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (ISO/IEC 10918), image data type 0.
    Jpeg,
    /// JPEG 2000 (ISO/IEC 15444), image data type 1.
    Jpeg2000,
}

/// DG2's tag.
const TAG: u32 = 0x75;
/// Biometric Information Group Template.
const TAG_GROUP: u32 = 0x7F61;
/// Number of instances.
const TAG_COUNT: u32 = 0x02;
/// Biometric Information Template.
const TAG_BIT: u32 = 0x7F60;
/// Biometric Header Template.
const TAG_BHT: u32 = 0xA1;
/// Biometric data block.
const TAG_DATA: u32 = 0x5F2E;
/// Biometric data block, enciphered.
const TAG_DATA_ENCIPHERED: u32 = 0x7F2E;

/// Facial record format identifier.
const FORMAT_ID: [u8; 4] = *b"FAC\0";
/// Facial record version: ISO/IEC 19794-5:2005, the version 9303 requires.
const VERSION: [u8; 4] = *b"010\0";
/// Facial record header: format, version, record length, image count.
const RECORD_HEADER_LEN: usize = 14;
/// Facial information block.
const FACIAL_INFO_LEN: usize = 20;
/// One feature point.
const FEATURE_POINT_LEN: usize = 8;
/// Image information block.
const IMAGE_INFO_LEN: usize = 12;

impl Dg2 {
    /// Parses DG2 (the whole file, tag `75`).
    ///
    /// # Errors
    /// A [`ParseError`]: malformed TLV or facial record, wrong tags, trailing
    /// bytes, an instance count that differs from the templates present, an
    /// enciphered data block (`7F2E`), a record that is not ISO/IEC
    /// 19794-5:2005, an unknown image data type, or an image whose first
    /// bytes do not match its stated type.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let dg2 = tlv::parse_single_named(bytes, TAG, "DG2")?;
        let mut r = dg2.reader();
        let group = tlv::read_expected(&mut r, TAG_GROUP, "DG2 biometric information group")?;
        r.expect_end("DG2")?;

        let mut g = group.reader();
        let count = tlv::read_expected(&mut g, TAG_COUNT, "DG2 instance count")?;
        let expected = small_number(&count, "DG2 instance count")?;
        let mut templates = 0u32;
        let mut faces = Vec::new();
        while !g.is_empty() {
            let bit = tlv::read_expected(&mut g, TAG_BIT, "DG2 biometric information template")?;
            templates = templates.saturating_add(1);
            read_bit(&bit, &mut faces)?;
        }
        if templates != expected {
            return Err(count.error(
                "DG2 instance count",
                ParseErrorKind::Invalid("instance count does not match the templates"),
            ));
        }
        if faces.is_empty() {
            return Err(group.error("DG2", ParseErrorKind::Missing("face image")));
        }
        Ok(Dg2 { faces })
    }

    /// The first face image (the one 9303 inspection systems display).
    pub fn face(&self) -> Option<&FaceImage> {
        self.faces.first()
    }

    /// Encodes DG2 with one template per face and one image per record.
    ///
    /// The facial information is zero (unspecified) apart from the image
    /// information; the header template names ISO/IEC 19794-5 faces.
    ///
    /// # Panics
    /// With more than 255 faces, or a face image larger than 4 GiB.
    pub fn encode(&self) -> Vec<u8> {
        let Ok(count) = u8::try_from(self.faces.len()) else {
            panic!(
                "DG2 with {} faces: the instance count is one byte",
                self.faces.len()
            );
        };
        let mut group = vec![tlv::encode(TAG_COUNT, &[count])];
        for face in &self.faces {
            let bht = tlv::encode_constructed(
                TAG_BHT,
                &[
                    tlv::encode(0x80, &[0x01, 0x01]), // ICAO header version 1.1
                    tlv::encode(0x81, &[0x02]),       // biometric type: facial features
                    tlv::encode(0x87, &[0x01, 0x01]), // format owner: ISO/IEC JTC 1/SC 37
                    tlv::encode(0x88, &[0x00, 0x08]), // format type: face image
                ],
            );
            let record = encode_facial_record(std::slice::from_ref(face));
            group.push(tlv::encode_constructed(
                TAG_BIT,
                &[bht, tlv::encode(TAG_DATA, &record)],
            ));
        }
        tlv::encode_constructed(TAG, &[tlv::encode_constructed(TAG_GROUP, &group)])
    }
}

impl ImageFormat {
    /// The format the first bytes of `image` show, if any.
    ///
    /// JPEG starts `FF D8 FF`; a JPEG 2000 codestream `FF 4F FF 51`; a JP2
    /// file with its signature box `00 00 00 0C 6A 50 20 20 0D 0A 87 0A`.
    pub fn sniff(image: &[u8]) -> Option<Self> {
        const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF];
        const J2K_CODESTREAM: &[u8] = &[0xFF, 0x4F, 0xFF, 0x51];
        const JP2: &[u8] = &[
            0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
        ];
        if image.starts_with(JPEG) {
            Some(ImageFormat::Jpeg)
        } else if image.starts_with(J2K_CODESTREAM) || image.starts_with(JP2) {
            Some(ImageFormat::Jpeg2000)
        } else {
            None
        }
    }

    /// The image data type code in a facial record: 0 for JPEG, 1 for JPEG 2000.
    pub fn code(self) -> u8 {
        match self {
            ImageFormat::Jpeg => 0,
            ImageFormat::Jpeg2000 => 1,
        }
    }
}

impl std::fmt::Debug for FaceImage {
    /// Leaves the image bytes out: they are personal data and large.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceImage")
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// Reads one Biometric Information Template and appends its face images.
fn read_bit(bit: &Tlv<'_>, faces: &mut Vec<FaceImage>) -> Result<(), ParseError> {
    let mut r = bit.reader();
    let bht = tlv::read_expected(&mut r, TAG_BHT, "DG2 biometric header template")?;
    bht.children_vec()?;
    let block = tlv::read_tlv(&mut r)?;
    match block.tag {
        TAG_DATA => read_facial_record(&block, faces)?,
        TAG_DATA_ENCIPHERED => {
            return Err(block.error(
                "DG2 biometric data block",
                ParseErrorKind::Invalid("enciphered biometric data (7F2E) is not supported"),
            ));
        }
        found => {
            return Err(block.error(
                "DG2 biometric data block",
                ParseErrorKind::UnexpectedTag {
                    expected: TAG_DATA,
                    found,
                },
            ));
        }
    }
    r.expect_end("DG2 biometric information template")
}

/// Reads an ISO/IEC 19794-5:2005 facial record and appends its images.
fn read_facial_record(block: &Tlv<'_>, faces: &mut Vec<FaceImage>) -> Result<(), ParseError> {
    let mut r = block.reader();
    let start = r.offset();
    if r.array::<4>("facial record format")? != FORMAT_ID {
        return Err(ParseError::new(
            "facial record format",
            start,
            ParseErrorKind::Invalid("not an ISO/IEC 19794-5 facial record"),
        ));
    }
    if r.array::<4>("facial record version")? != VERSION {
        return Err(ParseError::new(
            "facial record version",
            start + 4,
            ParseErrorKind::Invalid("facial record version is not 010 (19794-5:2005)"),
        ));
    }
    let length_at = r.offset();
    let record_len = u32_be(&mut r, "facial record length")?;
    let available = block.value.len();
    if record_len != available {
        let kind = if record_len > available {
            ParseErrorKind::Truncated {
                needed: record_len,
                available,
            }
        } else {
            ParseErrorKind::TrailingData(available - record_len)
        };
        return Err(ParseError::new("facial record length", length_at, kind));
    }
    let count = u16::from_be_bytes(r.array("facial image count")?);
    if count == 0 {
        return Err(r.error("facial record", ParseErrorKind::Missing("face image")));
    }
    for _ in 0..count {
        faces.push(read_face_image(&mut r)?);
    }
    r.expect_end("facial record")
}

/// Reads one facial record data block: facial information, feature points,
/// image information, image data (ISO/IEC 19794-5:2005 §5.5 to §5.8).
fn read_face_image(r: &mut Reader<'_>) -> Result<FaceImage, ParseError> {
    let length_at = r.offset();
    let block_len = u32_be(r, "facial record data length")?;
    let rest_len = block_len
        .checked_sub(4)
        .filter(|&n| n >= FACIAL_INFO_LEN - 4 + IMAGE_INFO_LEN)
        .ok_or_else(|| {
            ParseError::new(
                "facial record data length",
                length_at,
                ParseErrorKind::Invalid("facial record data block too short"),
            )
        })?;
    let mut b = r.sub(rest_len, "facial record data block")?;
    let points = u16::from_be_bytes(b.array("feature point count")?);
    // Gender, eye colour, hair colour, property mask, expression, pose angles
    // and their uncertainty: not needed to show the face.
    b.take(FACIAL_INFO_LEN - 6, "facial information")?;
    b.take(usize::from(points) * FEATURE_POINT_LEN, "feature points")?;

    let _face_image_type = b.u8("face image type")?;
    let type_at = b.offset();
    let data_type = b.u8("image data type")?;
    let width = u16::from_be_bytes(b.array("image width")?);
    let height = u16::from_be_bytes(b.array("image height")?);
    // Colour space, source type, device type, quality.
    b.take(6, "image information")?;

    let format = match data_type {
        0 => ImageFormat::Jpeg,
        1 => ImageFormat::Jpeg2000,
        _ => {
            return Err(ParseError::new(
                "image data type",
                type_at,
                ParseErrorKind::Invalid("image data type is neither JPEG nor JPEG 2000"),
            ));
        }
    };
    let data = b.rest();
    if data.is_empty() {
        return Err(b.error("image data", ParseErrorKind::Missing("image data")));
    }
    if ImageFormat::sniff(data) != Some(format) {
        return Err(b.error(
            "image data",
            ParseErrorKind::Invalid("image bytes do not match the image data type"),
        ));
    }
    Ok(FaceImage {
        format,
        width,
        height,
        data: data.to_vec(),
    })
}

/// A 4-byte big-endian length as `usize`.
fn u32_be(r: &mut Reader<'_>, what: &'static str) -> Result<usize, ParseError> {
    let at = r.offset();
    let n = u32::from_be_bytes(r.array(what)?);
    usize::try_from(n).map_err(|_| ParseError::new(what, at, ParseErrorKind::TooLong(usize::MAX)))
}

/// Encodes an ISO/IEC 19794-5:2005 facial record holding `images`, with zero
/// facial information and no feature points.
///
/// # Panics
/// With more than 65 535 images, or a record larger than 4 GiB.
pub(super) fn encode_facial_record(images: &[FaceImage]) -> Vec<u8> {
    let blocks: Vec<Vec<u8>> = images.iter().map(encode_face_image).collect();
    let len = RECORD_HEADER_LEN + blocks.iter().map(Vec::len).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&FORMAT_ID);
    out.extend_from_slice(&VERSION);
    out.extend_from_slice(&be32(len));
    let Ok(count) = u16::try_from(images.len()) else {
        panic!(
            "facial record with {} images: the count is two bytes",
            images.len()
        );
    };
    out.extend_from_slice(&count.to_be_bytes());
    for block in blocks {
        out.extend_from_slice(&block);
    }
    out
}

/// Encodes one facial record data block.
fn encode_face_image(face: &FaceImage) -> Vec<u8> {
    let len = FACIAL_INFO_LEN + IMAGE_INFO_LEN + face.data.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&be32(len));
    out.extend_from_slice(&[0; FACIAL_INFO_LEN - 4]); // no feature points, all unspecified
    out.push(1); // face image type: full frontal
    out.push(face.format.code());
    out.extend_from_slice(&face.width.to_be_bytes());
    out.extend_from_slice(&face.height.to_be_bytes());
    out.extend_from_slice(&[1, 2, 0, 0, 0, 0]); // 24-bit RGB, digital camera, device, quality
    out.extend_from_slice(&face.data);
    out
}

/// `n` as 4 bytes big-endian, for the encoder.
fn be32(n: usize) -> [u8; 4] {
    match u32::try_from(n) {
        Ok(n) => n.to_be_bytes(),
        Err(_) => panic!("facial record of {n} bytes does not fit a 4-byte length"),
    }
}
