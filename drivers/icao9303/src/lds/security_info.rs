//! SecurityInfos (EF.CardAccess, DG14) and DG15's public key: the DER parts of the LDS.
//!
//! 9303-11 §9.2: EF.CardAccess (in the master file) and DG14 hold
//!
//! ```text
//! SecurityInfos ::= SET OF SecurityInfo
//! SecurityInfo  ::= SEQUENCE { protocol OBJECT IDENTIFIER,
//!                              requiredData ANY DEFINED BY protocol,
//!                              optionalData ANY DEFINED BY protocol OPTIONAL }
//! PACEInfo      ::= SEQUENCE { protocol OBJECT IDENTIFIER,   -- id-PACE.x.y
//!                              version INTEGER,              -- 2
//!                              parameterId INTEGER OPTIONAL }
//! ```
//!
//! DG15 (9303-10 §4.7.15) holds the Active Authentication key as an X.509
//! `SubjectPublicKeyInfo`. BER-TLV reads DER; this module adds the OID and
//! INTEGER decoding. It does not insist on minimal DER lengths (chips are
//! read with BER rules, as 9303-10 §4.4 says).

use crate::error::{ParseError, ParseErrorKind};
use crate::reader::Reader;
use crate::tlv::{self, Tlv};

/// The parsed EF.CardAccess: the SecurityInfos that tell which PACE variants the chip offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardAccess {
    /// Every SecurityInfo, in file order.
    pub infos: Vec<SecurityInfo>,
}

/// The parsed DG14: SecurityInfos for Chip Authentication, PACE and others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dg14 {
    /// Every SecurityInfo, in file order.
    pub infos: Vec<SecurityInfo>,
}

/// The parsed DG15: the Active Authentication public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dg15 {
    /// The DER `SubjectPublicKeyInfo`, as stored.
    pub subject_public_key_info: Vec<u8>,
    /// The key's algorithm OID, dotted (`1.2.840.113549.1.1.1` for RSA,
    /// `1.2.840.10045.2.1` for EC).
    pub algorithm_oid: String,
}

/// One SecurityInfo: a PACEInfo, or any other kind kept by OID and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityInfo {
    /// A PACEInfo (OID `0.4.0.127.0.7.2.2.4.x.y`).
    Pace {
        /// The decoded PACEInfo.
        info: PaceInfo,
        /// The DER `SEQUENCE`, as stored.
        raw: Vec<u8>,
    },
    /// Any other SecurityInfo (Chip Authentication, Active Authentication, PACE
    /// domain parameters, Terminal Authentication, ...), not decoded yet.
    Other {
        /// The protocol OID, dotted.
        oid: String,
        /// The DER `SEQUENCE`, as stored.
        raw: Vec<u8>,
    },
}

/// A PACEInfo (9303-11 §9.2.1; BSI TR-03110-3 §A.1.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaceInfo {
    /// The protocol OID, dotted: `0.4.0.127.0.7.2.2.4` then mapping
    /// (1 DH-GM, 2 ECDH-GM, 3 DH-IM, 4 ECDH-IM, 6 ECDH-CAM) and cipher
    /// (1 3DES, 2 AES-128, 3 AES-192, 4 AES-256).
    pub protocol_oid: String,
    /// The PACE version; 9303-11 requires 2.
    pub version: u32,
    /// The standardized domain parameters (9303-11 §9.5.1), if named.
    pub parameter_id: Option<u32>,
}

/// id-PACE (BSI TR-03110-3 §A.1.1.1): bsi-de protocols smartcard 4.
const ID_PACE: [u64; 9] = [0, 4, 0, 127, 0, 7, 2, 2, 4];
/// Longest OID content accepted, in bytes (real ones are under 20).
const MAX_OID_LEN: usize = 64;

/// DER universal tags.
const TAG_INTEGER: u32 = 0x02;
/// BIT STRING.
const TAG_BIT_STRING: u32 = 0x03;
/// OBJECT IDENTIFIER.
const TAG_OID: u32 = 0x06;
/// SEQUENCE.
const TAG_SEQUENCE: u32 = 0x30;
/// SET.
const TAG_SET: u32 = 0x31;
/// DG14's application tag.
const TAG_DG14: u32 = 0x6E;
/// DG15's application tag.
const TAG_DG15: u32 = 0x6F;

impl CardAccess {
    /// Parses EF.CardAccess (the whole file, a DER `SET`, tag `31`).
    ///
    /// # Errors
    /// A [`ParseError`]: malformed DER, a member that is not a `SEQUENCE`
    /// starting with an OID, a PACEInfo without a version, trailing bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let set = tlv::parse_single_named(bytes, TAG_SET, "EF.CardAccess")?;
        Ok(CardAccess {
            infos: read_security_infos(&set)?,
        })
    }

    /// The PACEInfos, in file order.
    pub fn pace_infos(&self) -> impl Iterator<Item = &PaceInfo> {
        self.infos.iter().filter_map(SecurityInfo::pace)
    }
}

impl Dg14 {
    /// Parses DG14 (the whole file, tag `6E` around a DER `SET OF SecurityInfo`).
    ///
    /// # Errors
    /// As [`CardAccess::parse`], plus a wrong outer tag or bytes after the `SET`.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let dg14 = tlv::parse_single_named(bytes, TAG_DG14, "DG14")?;
        let mut r = dg14.reader();
        let set = tlv::read_expected(&mut r, TAG_SET, "DG14 SecurityInfos")?;
        r.expect_end("DG14")?;
        Ok(Dg14 {
            infos: read_security_infos(&set)?,
        })
    }
}

impl Dg15 {
    /// Parses DG15 (the whole file, tag `6F` around a DER `SubjectPublicKeyInfo`).
    ///
    /// # Errors
    /// A [`ParseError`]: malformed DER, no algorithm OID, no `BIT STRING`
    /// key, trailing bytes at any level.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let dg15 = tlv::parse_single_named(bytes, TAG_DG15, "DG15")?;
        let mut r = dg15.reader();
        let spki = tlv::read_expected(&mut r, TAG_SEQUENCE, "DG15 SubjectPublicKeyInfo")?;
        r.expect_end("DG15")?;

        // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
        //                                     subjectPublicKey BIT STRING } (RFC 5280 §4.1)
        let mut s = spki.reader();
        let algorithm = tlv::read_expected(&mut s, TAG_SEQUENCE, "DG15 algorithm")?;
        let key = tlv::read_expected(&mut s, TAG_BIT_STRING, "DG15 public key")?;
        s.expect_end("DG15 SubjectPublicKeyInfo")?;
        match key.value.first() {
            Some(&unused) if unused <= 7 => {}
            _ => {
                return Err(key.error(
                    "DG15 public key",
                    ParseErrorKind::Invalid("BIT STRING without a valid unused-bits count"),
                ));
            }
        }

        // AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER,
        //                                    parameters ANY OPTIONAL }
        let mut a = algorithm.reader();
        let oid = tlv::read_expected(&mut a, TAG_OID, "DG15 algorithm OID")?;
        if !a.is_empty() {
            tlv::read_tlv(&mut a)?;
        }
        a.expect_end("DG15 algorithm")?;

        Ok(Dg15 {
            subject_public_key_info: spki.raw.to_vec(),
            algorithm_oid: oid_string(&oid)?,
        })
    }
}

impl SecurityInfo {
    /// The protocol OID, dotted.
    pub fn oid(&self) -> &str {
        match self {
            SecurityInfo::Pace { info, .. } => &info.protocol_oid,
            SecurityInfo::Other { oid, .. } => oid,
        }
    }

    /// The DER `SEQUENCE`, as stored.
    pub fn raw(&self) -> &[u8] {
        match self {
            SecurityInfo::Pace { raw, .. } | SecurityInfo::Other { raw, .. } => raw,
        }
    }

    /// The PACEInfo, if this is one.
    pub fn pace(&self) -> Option<&PaceInfo> {
        match self {
            SecurityInfo::Pace { info, .. } => Some(info),
            SecurityInfo::Other { .. } => None,
        }
    }
}

impl PaceInfo {
    /// Encodes the PACEInfo as DER, or `None` if `protocol_oid` is not a valid dotted OID.
    pub fn encode(&self) -> Option<Vec<u8>> {
        let mut fields = vec![
            tlv::encode(TAG_OID, &encode_oid(&self.protocol_oid)?),
            tlv::encode(TAG_INTEGER, &encode_u32(self.version)),
        ];
        if let Some(id) = self.parameter_id {
            fields.push(tlv::encode(TAG_INTEGER, &encode_u32(id)));
        }
        Some(tlv::encode_constructed(TAG_SEQUENCE, &fields))
    }
}

/// Decodes the content bytes of a DER OBJECT IDENTIFIER to dotted form (ISO/IEC 8825-1 §8.19).
///
/// # Errors
/// [`ParseErrorKind::Invalid`] for an empty OID, a subidentifier with a
/// leading `80` or larger than 64 bits; [`ParseErrorKind::Truncated`] when
/// the last subidentifier is unfinished; [`ParseErrorKind::TooLong`] beyond
/// 64 bytes.
pub fn decode_oid(content: &[u8]) -> Result<String, ParseError> {
    oid_from(Reader::new(content))
}

/// Encodes a dotted OID to DER content bytes, or `None` if it is not a valid OID.
pub fn encode_oid(dotted: &str) -> Option<Vec<u8>> {
    let arcs = dotted
        .split('.')
        .map(|a| a.parse::<u64>().ok())
        .collect::<Option<Vec<u64>>>()?;
    let (&first, rest) = arcs.split_first()?;
    let (&second, rest) = rest.split_first()?;
    if first > 2 || (first < 2 && second >= 40) {
        return None;
    }
    let mut out = Vec::new();
    push_base128(first.checked_mul(40)?.checked_add(second)?, &mut out);
    for &arc in rest {
        push_base128(arc, &mut out);
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Reads the members of a `SET OF SecurityInfo`.
fn read_security_infos(set: &Tlv<'_>) -> Result<Vec<SecurityInfo>, ParseError> {
    let mut infos = Vec::new();
    for member in set.children() {
        let member = member?;
        if member.tag != TAG_SEQUENCE {
            return Err(member.error(
                "SecurityInfo",
                ParseErrorKind::UnexpectedTag {
                    expected: TAG_SEQUENCE,
                    found: member.tag,
                },
            ));
        }
        infos.push(read_security_info(&member)?);
    }
    Ok(infos)
}

/// Reads one SecurityInfo `SEQUENCE`, decoding it further if it is a PACEInfo.
fn read_security_info(seq: &Tlv<'_>) -> Result<SecurityInfo, ParseError> {
    let mut r = seq.reader();
    let oid_tlv = tlv::read_expected(&mut r, TAG_OID, "SecurityInfo protocol")?;
    let arcs = oid_arcs(oid_tlv.reader())?;
    let oid = dotted(&arcs);
    let raw = seq.raw.to_vec();

    let is_pace_info = arcs
        .strip_prefix(ID_PACE.as_slice())
        .is_some_and(|rest| rest.len() == 2);
    if is_pace_info {
        let version = read_u32(&mut r, "PACEInfo version")?;
        let parameter_id = if r.is_empty() {
            None
        } else {
            Some(read_u32(&mut r, "PACEInfo parameterId")?)
        };
        r.expect_end("PACEInfo")?;
        let info = PaceInfo {
            protocol_oid: oid,
            version,
            parameter_id,
        };
        return Ok(SecurityInfo::Pace { info, raw });
    }

    // requiredData, then optionalData: any well-formed data objects.
    if r.is_empty() {
        return Err(r.error(
            "SecurityInfo",
            ParseErrorKind::Missing("SecurityInfo requiredData"),
        ));
    }
    tlv::read_tlv(&mut r)?;
    if !r.is_empty() {
        tlv::read_tlv(&mut r)?;
    }
    r.expect_end("SecurityInfo")?;
    Ok(SecurityInfo::Other { oid, raw })
}

/// The dotted OID in an `06` data object.
fn oid_string(oid: &Tlv<'_>) -> Result<String, ParseError> {
    oid_from(oid.reader())
}

/// Decodes OID content bytes read from `r` to dotted form.
fn oid_from(r: Reader<'_>) -> Result<String, ParseError> {
    Ok(dotted(&oid_arcs(r)?))
}

/// Decodes OID content bytes into arcs (ISO/IEC 8825-1 §8.19): base-128
/// subidentifiers, the first one holding the first two arcs as 40·a + b.
fn oid_arcs(mut r: Reader<'_>) -> Result<Vec<u64>, ParseError> {
    let what = "OID";
    if r.is_empty() {
        return Err(r.error(what, ParseErrorKind::Invalid("empty OID")));
    }
    if r.remaining() > MAX_OID_LEN {
        return Err(r.error(what, ParseErrorKind::TooLong(r.remaining())));
    }
    let mut arcs = Vec::new();
    while !r.is_empty() {
        let start = r.offset();
        let invalid = |why| ParseError::new(what, start, ParseErrorKind::Invalid(why));
        let mut value: u64 = 0;
        let mut first_byte = true;
        loop {
            let b = r.u8(what)?;
            if first_byte && b == 0x80 {
                return Err(invalid("OID subidentifier has a leading 80"));
            }
            first_byte = false;
            if value > u64::MAX >> 7 {
                return Err(invalid("OID subidentifier larger than 64 bits"));
            }
            value = (value << 7) | u64::from(b & 0x7F);
            if b & 0x80 == 0 {
                break;
            }
        }
        if arcs.is_empty() {
            let first = (value / 40).min(2);
            arcs.push(first);
            arcs.push(value - first * 40);
        } else {
            arcs.push(value);
        }
    }
    Ok(arcs)
}

/// Arcs joined with dots.
fn dotted(arcs: &[u64]) -> String {
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Reads a DER INTEGER that must be a non-negative number of at most 32 bits.
fn read_u32(r: &mut Reader<'_>, what: &'static str) -> Result<u32, ParseError> {
    let int = tlv::read_expected(r, TAG_INTEGER, what)?;
    let invalid = |why| int.error(what, ParseErrorKind::Invalid(why));
    match int.value.first() {
        None => return Err(invalid("empty INTEGER")),
        Some(b) if b & 0x80 != 0 => return Err(invalid("negative INTEGER")),
        Some(_) => {}
    }
    let significant = int.value.iter().skip_while(|&&b| b == 0);
    if significant.clone().count() > 4 {
        return Err(invalid("INTEGER larger than 32 bits"));
    }
    Ok(significant.fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}

/// A non-negative DER INTEGER's content bytes (two's complement, minimal).
fn encode_u32(n: u32) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    let mut out: Vec<u8> = bytes.get(skip..).unwrap_or(&bytes).to_vec();
    if out.first().is_some_and(|b| b & 0x80 != 0) {
        out.insert(0, 0);
    }
    out
}

/// Appends `n` as a base-128 subidentifier.
fn push_base128(n: u64, out: &mut Vec<u8>) {
    let mut groups = vec![(n & 0x7F) as u8];
    let mut n = n >> 7;
    while n > 0 {
        groups.push(0x80 | (n & 0x7F) as u8);
        n >>= 7;
    }
    out.extend(groups.iter().rev());
}
