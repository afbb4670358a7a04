//! The LDS1 files the virtual chip holds (9303-10), built with `icao9303::tlv`.

use icao9303::tlv;

use crate::face::FaceImage;

/// File identifier of EF.COM (9303-10 §4.6.1).
pub const FID_COM: u16 = 0x011E;
/// File identifier of EF.SOD (9303-10 §4.6.2).
pub const FID_SOD: u16 = 0x011D;
/// File identifier of DG1 (9303-10 §4.7.1).
pub const FID_DG1: u16 = 0x0101;
/// File identifier of DG2 (9303-10 §4.7.2).
pub const FID_DG2: u16 = 0x0102;
/// File identifier of DG14 (9303-10 §4.7.14): SecurityInfos for Chip Authentication and Active Authentication.
pub const FID_DG14: u16 = 0x010E;
/// File identifier of DG15 (9303-10 §4.7.15): the Active Authentication public key.
pub const FID_DG15: u16 = 0x010F;

/// LDS version 1.7, as EF.COM's `5F01` carries it (9303-10 §4.6.1).
const LDS_VERSION: &[u8] = b"0107";
/// Unicode version 4.0.0, as EF.COM's `5F36` carries it (9303-10 §4.6.1).
const UNICODE_VERSION: &[u8] = b"040000";
/// DER of OID 1.2.840.113549.1.7.2 (id-signedData, RFC 5652 §5.1), with tag and length.
const OID_SIGNED_DATA: [u8; 11] = [
    0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02,
];

/// How DG2's outer header should lie about the file's length (a misbehaviour), if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dg2Header {
    /// The true length.
    #[default]
    Honest,
    /// The true length plus this many bytes that are not there.
    Truncated(usize),
    /// 0x7FFFFFFF in four length bytes.
    Oversized,
}

/// EF.COM: LDS and Unicode versions and the tags of the data groups present (9303-10 §4.6.1).
pub fn ef_com(dg_tags: &[u8]) -> Vec<u8> {
    tlv::encode_constructed(
        0x60,
        &[
            tlv::encode(0x5F01, LDS_VERSION),
            tlv::encode(0x5F36, UNICODE_VERSION),
            tlv::encode(0x5C, dg_tags),
        ],
    )
}

/// DG14: `6E { 31 { SecurityInfo... } }` (9303-10 §4.7.14), each info already DER.
pub fn dg14(infos: &[Vec<u8>]) -> Vec<u8> {
    tlv::encode(0x6E, &tlv::encode_constructed(0x31, infos))
}

/// DG1: the MRZ as one string without line breaks in `5F1F` (9303-10 §4.7.1).
pub fn dg1(mrz_text: &str) -> Vec<u8> {
    tlv::encode_constructed(0x61, &[tlv::encode(0x5F1F, mrz_text.as_bytes())])
}

/// The MRZ text as DG1 holds it: each line trimmed, line breaks removed.
pub fn mrz_text(mrz: &str) -> String {
    mrz.lines().map(str::trim).collect()
}

/// DG2: one biometric information template holding `face` (9303-10 §4.7.2).
///
/// `75 { 7F61 { 02 01 01, 7F60 { A1 {header}, 5F2E {19794-5 record} } } }`;
/// the biometric header template follows 9303-10 §4.7.2.1 (ISO/IEC 7816-11):
/// ICAO header version 0101, biometric type 02 (face), format owner 0101
/// (ISO/IEC JTC 1/SC 37) and format type 0008 (face image).
pub fn dg2(face: &FaceImage, header: Dg2Header) -> Vec<u8> {
    let bht = tlv::encode_constructed(
        0xA1,
        &[
            tlv::encode(0x80, &[0x01, 0x01]),
            tlv::encode(0x81, &[0x02]),
            tlv::encode(0x87, &[0x01, 0x01]),
            tlv::encode(0x88, &[0x00, 0x08]),
        ],
    );
    let bit = tlv::encode_constructed(0x7F60, &[bht, tlv::encode(0x5F2E, &facial_record(face))]);
    let group = tlv::encode_constructed(0x7F61, &[tlv::encode(0x02, &[0x01]), bit]);
    let mut out = Vec::with_capacity(group.len() + 6);
    tlv::encode_tag(0x75, &mut out);
    match header {
        Dg2Header::Honest => tlv::encode_length(group.len(), &mut out),
        Dg2Header::Truncated(missing) => {
            tlv::encode_length(group.len().saturating_add(missing), &mut out)
        }
        Dg2Header::Oversized => out.extend_from_slice(&[0x84, 0x7F, 0xFF, 0xFF, 0xFF]),
    }
    out.extend_from_slice(&group);
    out
}

/// DG2 with `face` padded (see [`FaceImage::padded`]) until the file is at least `min_size` bytes.
pub fn dg2_at_least(face: &FaceImage, header: Dg2Header, min_size: usize) -> Vec<u8> {
    let plain = dg2(face, header);
    match min_size.checked_sub(plain.len()) {
        None | Some(0) => plain,
        // The length fields only grow with the image, so one step suffices.
        Some(short) => dg2(&face.padded(short), header),
    }
}

/// An ISO/IEC 19794-5:2005 facial record with one image and no feature points.
///
/// Record header (14 bytes): "FAC\0", version "010\0", record length (4),
/// number of images (2). Facial information (20 bytes): data block length
/// (4), feature points (2), gender, eye colour, hair colour (1 each),
/// property mask (3), expression (2), pose angles (3), pose angle
/// uncertainty (3), all unspecified. Image information (12 bytes): face
/// image type 1 (full frontal), image data type, width, height, colour space
/// 1 (24-bit RGB), source type 0, device type 0, quality 0. Then the image.
pub fn facial_record(face: &FaceImage) -> Vec<u8> {
    const FORMAT_ID: &[u8; 4] = b"FAC\x00";
    const VERSION: &[u8; 4] = b"010\x00";
    const HEADER: usize = 14;
    const FACIAL_INFO: usize = 20;
    const IMAGE_INFO: usize = 12;
    let block_len = FACIAL_INFO + IMAGE_INFO + face.bytes.len();
    let record_len = HEADER + block_len;
    let mut out = Vec::with_capacity(record_len);
    out.extend_from_slice(FORMAT_ID);
    out.extend_from_slice(VERSION);
    out.extend_from_slice(&u32::try_from(record_len).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    // Facial information block.
    out.extend_from_slice(&u32::try_from(block_len).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes()); // feature points
    out.extend_from_slice(&[0, 0, 0]); // gender, eye colour, hair colour
    out.extend_from_slice(&[0, 0, 0]); // property mask
    out.extend_from_slice(&[0, 0]); // expression
    out.extend_from_slice(&[0, 0, 0]); // pose angles
    out.extend_from_slice(&[0, 0, 0]); // pose angle uncertainty
    // Image information.
    out.push(0x01); // full frontal
    out.push(face.format.image_data_type());
    out.extend_from_slice(&face.width.to_be_bytes());
    out.extend_from_slice(&face.height.to_be_bytes());
    out.push(0x01); // 24-bit RGB
    out.push(0x00); // source type unspecified (synthetic)
    out.extend_from_slice(&[0, 0]); // device type
    out.extend_from_slice(&[0, 0]); // quality
    out.extend_from_slice(&face.bytes);
    out
}

/// A placeholder EF.SOD: `77 { 30 { 06 id-signedData } }` (9303-10 §4.6.2 shape only).
///
/// UNSIGNED: it holds no SignedData, no data group hashes and no Document
/// Signer certificate, so Passive Authentication (9303-11 §5.1) must fail
/// on it. Terminals that only read EF.SOD as bytes accept it.
pub fn ef_sod_placeholder() -> Vec<u8> {
    tlv::encode_constructed(0x77, &[tlv::encode(0x30, &OID_SIGNED_DATA)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use icao9303::reader::Reader;

    #[test]
    fn ef_com_and_dg1_have_the_9303_layout() {
        assert_eq!(
            ef_com(&[0x61, 0x75]),
            [
                0x60, 0x14, 0x5F, 0x01, 0x04, b'0', b'1', b'0', b'7', 0x5F, 0x36, 0x06, b'0', b'4',
                b'0', b'0', b'0', b'0', 0x5C, 0x02, 0x61, 0x75
            ]
        );
        let dg1 = dg1("AB");
        assert_eq!(dg1, [0x61, 0x05, 0x5F, 0x1F, 0x02, b'A', b'B']);
        assert_eq!(mrz_text(" P<UTO\r\nL898 \n"), "P<UTOL898");
    }

    #[test]
    fn dg2_nests_a_19794_record_whose_lengths_add_up() {
        let face = FaceImage::synthetic_jpeg();
        let file = dg2(&face, Dg2Header::Honest);
        let outer = tlv::parse_single(&file, 0x75).unwrap();
        let bit = tlv::find_first(outer.value, 0x7F60).unwrap().unwrap();
        let header = bit.require(0xA1, "BHT").unwrap();
        assert_eq!(header.require(0x81, "type").unwrap().value, [0x02]);
        assert_eq!(
            header.require(0x88, "format type").unwrap().value,
            [0x00, 0x08]
        );
        let record = bit.require(0x5F2E, "record").unwrap().value;
        assert_eq!(&record[..8], b"FAC\x00010\x00");
        assert_eq!(
            u32::from_be_bytes(record[8..12].try_into().unwrap()) as usize,
            record.len()
        );
        assert_eq!(
            u32::from_be_bytes(record[14..18].try_into().unwrap()) as usize,
            record.len() - 14
        );
        assert_eq!(&record[36..38], &240u16.to_be_bytes());
        assert_eq!(&record[38..40], &320u16.to_be_bytes());
        assert_eq!(&record[46..], face.bytes.as_slice());
    }

    #[test]
    fn dg2_headers_lie_as_asked() {
        let face = FaceImage::synthetic_jpeg2000();
        let honest = dg2(&face, Dg2Header::Honest);
        let short = dg2(&face, Dg2Header::Truncated(100));
        // Both lengths take the long form 82 xx xx at this size.
        assert_eq!((honest[1], short[1]), (0x82, 0x82));
        let announced = |f: &[u8]| usize::from(u16::from_be_bytes([f[2], f[3]]));
        assert_eq!(short.len(), honest.len());
        assert_eq!(announced(&short), announced(&honest) + 100);
        let huge = dg2(&face, Dg2Header::Oversized);
        assert_eq!(&huge[..6], &[0x75, 0x84, 0x7F, 0xFF, 0xFF, 0xFF]);
        let big = dg2_at_least(&face, Dg2Header::Honest, 40_000);
        assert!(big.len() >= 40_000 && big.len() < 40_100, "{}", big.len());
        assert!(tlv::parse_single(&big, 0x75).is_ok());
    }

    #[test]
    fn sod_placeholder_is_one_well_formed_object() {
        let sod = ef_sod_placeholder();
        let tlv = tlv::parse_single(&sod, 0x77).unwrap();
        let mut r = Reader::new(tlv.value);
        let seq = tlv::read_expected(&mut r, 0x30, "ContentInfo").unwrap();
        assert_eq!(seq.value, OID_SIGNED_DATA);
    }
}
