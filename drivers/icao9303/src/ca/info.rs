//! DG14's Chip Authentication SecurityInfos and the chip's static public key (9303-11 section 9.2.5, 9.2.6).
//!
//! ```text
//! ChipAuthenticationInfo ::= SEQUENCE {
//!     protocol OBJECT IDENTIFIER,        -- id-CA-{DH,ECDH}-{3DES-CBC-CBC, AES-CBC-CMAC-128/192/256}
//!     version  INTEGER,                  -- 1 (or 2)
//!     keyId    INTEGER OPTIONAL }
//! ChipAuthenticationPublicKeyInfo ::= SEQUENCE {
//!     protocol OBJECT IDENTIFIER,        -- id-PK-DH or id-PK-ECDH
//!     chipAuthenticationPublicKey SubjectPublicKeyInfo,
//!     keyId    INTEGER OPTIONAL }
//! ```
//!
//! The SubjectPublicKeyInfo names its domain parameters with a named curve
//! (id-ecPublicKey and a curve OID) or with BSI's standardizedDomainParameters
//! (0.4.0.127.0.7.1.2 and the 9303-11 section 9.5.1 parameter ID), or gives
//! explicit EC domain parameters (RFC 3279 §2.3.5, 9303-11 section 9.2),
//! recognised by [`crate::ecparams`] as one of the standardized curves.
//! Explicit DH domain parameters are not supported.

use crate::ecparams::{self, EcParamsError};
use crate::error::{CardFault, Error, ParseError, ParseErrorKind};
use crate::lds::{Dg14, decode_oid, encode_oid};
use crate::pace::KeyAgreement;
use crate::pace::group::{Curve, Group};
use crate::reader::Reader;
use crate::tlv;

use super::CaProtocol;

/// id-PK-DH (BSI TR-03110-3 section A.1.1.2): a DH Chip Authentication public key.
pub const ID_PK_DH: &str = "0.4.0.127.0.7.2.2.1.1";
/// id-PK-ECDH: an ECDH Chip Authentication public key.
pub const ID_PK_ECDH: &str = "0.4.0.127.0.7.2.2.1.2";
/// id-ecPublicKey (RFC 5480).
const ID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
/// standardizedDomainParameters (BSI TR-03110-3 section A.2.1.1): the parameter is a 9303-11 parameter ID.
const ID_STANDARDIZED_DOMAIN_PARAMETERS: &str = "0.4.0.127.0.7.1.2";
/// dhpublicnumber (ANSI X9.42): DH with explicit domain parameters.
const ID_DH_PUBLIC_NUMBER: &str = "1.2.840.10046.2.1";

const TAG_INTEGER: u32 = 0x02;
const TAG_BIT_STRING: u32 = 0x03;
const TAG_OID: u32 = 0x06;
const TAG_SEQUENCE: u32 = 0x30;

/// A ChipAuthenticationInfo: which CA protocol the chip runs with which key (9303-11 section 9.2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationInfo {
    /// The protocol OID, dotted (`0.4.0.127.0.7.2.2.3.x.y`).
    pub protocol_oid: String,
    /// The CA version (1 in 9303; 2 in BSI TR-03110).
    pub version: u32,
    /// Which key, when the chip has several.
    pub key_id: Option<u32>,
}

/// A ChipAuthenticationPublicKeyInfo: the chip's static CA public key (9303-11 section 9.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthenticationPublicKeyInfo {
    /// id-PK-DH or id-PK-ECDH, dotted.
    pub protocol_oid: String,
    /// The DER `SubjectPublicKeyInfo`, as stored.
    pub subject_public_key_info: Vec<u8>,
    /// Which key, when the chip has several.
    pub key_id: Option<u32>,
}

/// The chip's static Chip Authentication public key, checked to be a valid group element.
#[derive(Debug, Clone)]
pub struct ChipPublicKey {
    pub(super) group: Group,
    pub(super) parameter_id: u32,
    pub(super) public: Vec<u8>,
}

impl ChipAuthenticationInfo {
    /// Parses one ChipAuthenticationInfo `SEQUENCE` (a DG14 SecurityInfo's raw bytes).
    ///
    /// # Errors
    /// A [`ParseError`] for malformed DER or an OID outside id-CA.
    pub fn parse(raw: &[u8]) -> Result<Self, ParseError> {
        let what = "ChipAuthenticationInfo";
        let seq = tlv::parse_single_named(raw, TAG_SEQUENCE, what)?;
        let mut r = seq.reader();
        let protocol_oid = read_oid(&mut r, what)?;
        if !protocol_oid.starts_with(super::ID_CA_PREFIX) {
            return Err(r.error(what, ParseErrorKind::Invalid("not an id-CA protocol")));
        }
        let version = read_u32(&mut r, "ChipAuthenticationInfo version")?;
        let key_id = read_optional_u32(&mut r, "ChipAuthenticationInfo keyId")?;
        r.expect_end(what)?;
        Ok(Self {
            protocol_oid,
            version,
            key_id,
        })
    }

    /// Encodes the info as DER, or `None` if the OID does not encode.
    pub fn encode(&self) -> Option<Vec<u8>> {
        let mut fields = vec![
            tlv::encode(TAG_OID, &encode_oid(&self.protocol_oid)?),
            tlv::encode(TAG_INTEGER, &encode_u32(self.version)),
        ];
        if let Some(id) = self.key_id {
            fields.push(tlv::encode(TAG_INTEGER, &encode_u32(id)));
        }
        Some(tlv::encode_constructed(TAG_SEQUENCE, &fields))
    }

    /// The protocol, if this crate runs it.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an unknown id-CA protocol.
    pub fn protocol(&self) -> Result<CaProtocol, Error> {
        CaProtocol::from_oid(&self.protocol_oid)
    }
}

impl ChipAuthenticationPublicKeyInfo {
    /// Parses one ChipAuthenticationPublicKeyInfo `SEQUENCE` (a DG14 SecurityInfo's raw bytes).
    ///
    /// # Errors
    /// A [`ParseError`] for malformed DER or an OID other than id-PK-DH or id-PK-ECDH.
    pub fn parse(raw: &[u8]) -> Result<Self, ParseError> {
        let what = "ChipAuthenticationPublicKeyInfo";
        let seq = tlv::parse_single_named(raw, TAG_SEQUENCE, what)?;
        let mut r = seq.reader();
        let protocol_oid = read_oid(&mut r, what)?;
        if protocol_oid != ID_PK_DH && protocol_oid != ID_PK_ECDH {
            return Err(r.error(what, ParseErrorKind::Invalid("not id-PK-DH or id-PK-ECDH")));
        }
        let spki = tlv::read_expected(&mut r, TAG_SEQUENCE, "chipAuthenticationPublicKey")?;
        let key_id = read_optional_u32(&mut r, "ChipAuthenticationPublicKeyInfo keyId")?;
        r.expect_end(what)?;
        Ok(Self {
            protocol_oid,
            subject_public_key_info: spki.raw.to_vec(),
            key_id,
        })
    }

    /// Encodes the info as DER, or `None` if the OID does not encode.
    pub fn encode(&self) -> Option<Vec<u8>> {
        let mut fields = vec![
            tlv::encode(TAG_OID, &encode_oid(&self.protocol_oid)?),
            self.subject_public_key_info.clone(),
        ];
        if let Some(id) = self.key_id {
            fields.push(tlv::encode(TAG_INTEGER, &encode_u32(id)));
        }
        Some(tlv::encode_constructed(TAG_SEQUENCE, &fields))
    }

    /// The key agreement the key is for: DH (id-PK-DH) or ECDH (id-PK-ECDH).
    pub fn key_agreement(&self) -> KeyAgreement {
        if self.protocol_oid == ID_PK_DH {
            KeyAgreement::Dh
        } else {
            KeyAgreement::Ecdh
        }
    }

    /// The checked public key.
    ///
    /// # Errors
    /// As [`ChipPublicKey::from_spki_der`], plus a parse error when the key's
    /// kind differs from the info's protocol.
    pub fn public_key(&self) -> Result<ChipPublicKey, Error> {
        let key = ChipPublicKey::from_spki_der(&self.subject_public_key_info)?;
        if key.key_agreement() != self.key_agreement() {
            return Err(bad("public key kind differs from its id-PK protocol").into());
        }
        Ok(key)
    }
}

impl ChipPublicKey {
    /// Reads and checks a SubjectPublicKeyInfo: the point is on the curve and not infinity, or the DH value is in the prime-order subgroup.
    ///
    /// # Errors
    /// A parse error for malformed DER; [`Error::Unsupported`] for explicit
    /// DH domain parameters, implicitlyCA, or a curve or group this crate
    /// does not compute in (explicit parameters of an unknown curve included);
    /// [`CardFault::BadPublicKey`] when the key is not a valid element.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self, Error> {
        let what = "chipAuthenticationPublicKey";
        let seq = tlv::parse_single_named(spki, TAG_SEQUENCE, what)?;
        let mut s = seq.reader();
        let algorithm = tlv::read_expected(&mut s, TAG_SEQUENCE, "AlgorithmIdentifier")?;
        let bits = tlv::read_expected(&mut s, TAG_BIT_STRING, "subjectPublicKey")?;
        s.expect_end(what)?;
        let key = match bits.value.split_first() {
            Some((0, key)) => key,
            _ => return Err(bad("public key BIT STRING with unused bits").into()),
        };
        let mut a = algorithm.reader();
        let oid = read_oid(&mut a, "AlgorithmIdentifier")?;
        let params = if a.is_empty() {
            None
        } else {
            Some(tlv::read_tlv(&mut a)?)
        };
        a.expect_end("AlgorithmIdentifier")?;
        let parameter_id = match (oid.as_str(), params) {
            (ID_EC_PUBLIC_KEY, Some(p)) if p.tag == TAG_OID => {
                curve_parameter_id(&decode_oid(p.value)?)
                    .ok_or(Error::Unsupported("Chip Authentication curve"))?
            }
            (ID_EC_PUBLIC_KEY, Some(p)) => explicit_curve_parameter_id(p.raw)?,
            (ID_EC_PUBLIC_KEY, None) => {
                return Err(bad("EC key without domain parameters").into());
            }
            (ID_STANDARDIZED_DOMAIN_PARAMETERS, Some(p)) if p.tag == TAG_INTEGER => {
                u32_of(p.value).ok_or(bad("standardized domain parameter ID"))?
            }
            (ID_DH_PUBLIC_NUMBER, _) => {
                return Err(Error::Unsupported(
                    "Chip Authentication DH key with explicit domain parameters",
                ));
            }
            _ => return Err(Error::Unsupported("Chip Authentication key algorithm")),
        };
        let group = Group::standard(parameter_id)?;
        let public = if group.is_ec() {
            key.to_vec()
        } else {
            // DH: the BIT STRING holds `INTEGER y`, padded here to p's length.
            let int = tlv::parse_single_named(key, TAG_INTEGER, "DH public key")?;
            let len = group.public_key(&[1])?.len();
            let value = int.value.strip_prefix(&[0]).unwrap_or(int.value);
            if value.len() > len {
                return Err(CardFault::BadPublicKey("DH value longer than p").into());
            }
            let mut padded = vec![0u8; len - value.len()];
            padded.extend_from_slice(value);
            padded
        };
        // `1 · Y` (or Y^1) runs every check of a received element.
        group.shared(&[1], &public)?;
        Ok(Self {
            group,
            parameter_id,
            public,
        })
    }

    /// The standardized domain parameter ID of the key's group (9303-11 section 9.5.1).
    pub fn parameter_id(&self) -> u32 {
        self.parameter_id
    }

    /// The public key: an uncompressed point `04 || x || y`, or the DH value as long as p.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// DH or ECDH.
    pub fn key_agreement(&self) -> KeyAgreement {
        if self.group.is_ec() {
            KeyAgreement::Ecdh
        } else {
            KeyAgreement::Dh
        }
    }
}

/// The ChipAuthenticationInfos of DG14, in file order.
///
/// # Errors
/// A [`ParseError`] when one of them is malformed.
pub fn chip_authentication_infos(dg14: &Dg14) -> Result<Vec<ChipAuthenticationInfo>, ParseError> {
    dg14.infos
        .iter()
        .filter(|i| i.oid().starts_with(super::ID_CA_PREFIX))
        .map(|i| ChipAuthenticationInfo::parse(i.raw()))
        .collect()
}

/// The ChipAuthenticationPublicKeyInfos of DG14, in file order.
///
/// # Errors
/// A [`ParseError`] when one of them is malformed.
pub fn chip_authentication_public_keys(
    dg14: &Dg14,
) -> Result<Vec<ChipAuthenticationPublicKeyInfo>, ParseError> {
    dg14.infos
        .iter()
        .filter(|i| i.oid() == ID_PK_DH || i.oid() == ID_PK_ECDH)
        .map(|i| ChipAuthenticationPublicKeyInfo::parse(i.raw()))
        .collect()
}

/// A SubjectPublicKeyInfo for a key in standardized group `parameter_id`: a named curve, or standardizedDomainParameters for DH.
///
/// # Errors
/// [`Error::Unsupported`] for an unknown parameter ID.
pub(super) fn encode_spki(
    parameter_id: u32,
    group: &Group,
    public: &[u8],
) -> Result<Vec<u8>, Error> {
    let (algorithm, key) = if group.is_ec() {
        let curve = Curve::from_parameter_id(parameter_id)?;
        let oid = encode_oid(curve_oid(curve)).ok_or(Error::ApiMisuse("curve OID"))?;
        let alg = encode_oid(ID_EC_PUBLIC_KEY).ok_or(Error::ApiMisuse("EC OID"))?;
        (
            tlv::encode_constructed(
                TAG_SEQUENCE,
                &[tlv::encode(TAG_OID, &alg), tlv::encode(TAG_OID, &oid)],
            ),
            public.to_vec(),
        )
    } else {
        let alg = encode_oid(ID_STANDARDIZED_DOMAIN_PARAMETERS)
            .ok_or(Error::ApiMisuse("standardizedDomainParameters OID"))?;
        let significant: &[u8] = match public.iter().position(|&b| b != 0) {
            Some(i) => public.get(i..).unwrap_or(public),
            None => &[0],
        };
        let mut y = Vec::with_capacity(significant.len() + 1);
        if significant.first().is_some_and(|b| b & 0x80 != 0) {
            y.push(0);
        }
        y.extend_from_slice(significant);
        (
            tlv::encode_constructed(
                TAG_SEQUENCE,
                &[
                    tlv::encode(TAG_OID, &alg),
                    tlv::encode(TAG_INTEGER, &encode_u32(parameter_id)),
                ],
            ),
            tlv::encode(TAG_INTEGER, &y),
        )
    };
    let mut bits = vec![0u8];
    bits.extend_from_slice(&key);
    Ok(tlv::encode_constructed(
        TAG_SEQUENCE,
        &[algorithm, tlv::encode(TAG_BIT_STRING, &bits)],
    ))
}

/// The parameter ID of a named curve's OID (9303-11 section 9.5.1; RFC 5639 §4.1, SEC 2 §A.2).
fn curve_parameter_id(oid: &str) -> Option<u32> {
    Some(match oid {
        "1.2.840.10045.3.1.7" => 12,
        "1.3.36.3.3.2.8.1.1.7" => 13,
        "1.3.132.0.34" => 15,
        "1.3.36.3.3.2.8.1.1.11" => 16,
        "1.3.132.0.35" => 18,
        "1.2.840.10045.3.1.1" => 8,
        "1.3.36.3.3.2.8.1.1.3" => 9,
        "1.3.132.0.33" => 10,
        "1.3.36.3.3.2.8.1.1.5" => 11,
        "1.3.36.3.3.2.8.1.1.9" => 14,
        "1.3.36.3.3.2.8.1.1.13" => 17,
        _ => return None,
    })
}

/// The parameter ID of the curve that explicit `ECParameters` (or any `EcpkParameters`) denote.
fn explicit_curve_parameter_id(params: &[u8]) -> Result<u32, Error> {
    match ecparams::named_curve_der(params) {
        Ok(Some(curve)) => curve_parameter_id(&curve.oid().to_string())
            .ok_or(Error::Unsupported("Chip Authentication curve")),
        Ok(None) => Err(Error::Unsupported(
            "Chip Authentication key on explicit parameters of an unknown curve",
        )),
        Err(EcParamsError::Malformed(_)) => Err(bad("EC domain parameters").into()),
        Err(_) => Err(Error::Unsupported(
            "Chip Authentication EC domain parameters (implicitlyCA or another version)",
        )),
    }
}

/// The named-curve OID of a curve.
fn curve_oid(curve: Curve) -> &'static str {
    match curve {
        Curve::P256 => "1.2.840.10045.3.1.7",
        Curve::BrainpoolP256r1 => "1.3.36.3.3.2.8.1.1.7",
        Curve::P384 => "1.3.132.0.34",
        Curve::BrainpoolP384r1 => "1.3.36.3.3.2.8.1.1.11",
        Curve::P521 => "1.3.132.0.35",
        Curve::P192 => "1.2.840.10045.3.1.1",
        Curve::BrainpoolP192r1 => "1.3.36.3.3.2.8.1.1.3",
        Curve::P224 => "1.3.132.0.33",
        Curve::BrainpoolP224r1 => "1.3.36.3.3.2.8.1.1.5",
        Curve::BrainpoolP320r1 => "1.3.36.3.3.2.8.1.1.9",
        Curve::BrainpoolP512r1 => "1.3.36.3.3.2.8.1.1.13",
    }
}

fn read_oid(r: &mut Reader<'_>, what: &'static str) -> Result<String, ParseError> {
    let oid = tlv::read_expected(r, TAG_OID, what)?;
    decode_oid(oid.value)
}

/// A DER INTEGER that must be non-negative and fit 32 bits.
fn read_u32(r: &mut Reader<'_>, what: &'static str) -> Result<u32, ParseError> {
    let int = tlv::read_expected(r, TAG_INTEGER, what)?;
    u32_of(int.value).ok_or_else(|| {
        int.error(
            what,
            ParseErrorKind::Invalid("not a non-negative 32-bit INTEGER"),
        )
    })
}

fn read_optional_u32(r: &mut Reader<'_>, what: &'static str) -> Result<Option<u32>, ParseError> {
    if r.is_empty() {
        Ok(None)
    } else {
        read_u32(r, what).map(Some)
    }
}

/// The value of INTEGER content bytes, if non-negative and at most 32 bits.
pub(super) fn u32_of(content: &[u8]) -> Option<u32> {
    if content.first().is_none_or(|b| b & 0x80 != 0) {
        return None;
    }
    let significant: Vec<u8> = content.iter().copied().skip_while(|&b| b == 0).collect();
    if significant.len() > 4 {
        return None;
    }
    Some(
        significant
            .iter()
            .fold(0u32, |acc, &b| (acc << 8) | u32::from(b)),
    )
}

/// Minimal two's-complement content bytes of a non-negative INTEGER.
pub(super) fn encode_u32(n: u32) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    let mut out = bytes.get(skip..).unwrap_or(&bytes).to_vec();
    if out.first().is_some_and(|b| b & 0x80 != 0) {
        out.insert(0, 0);
    }
    out
}

fn bad(why: &'static str) -> ParseError {
    ParseError::new(
        "chipAuthenticationPublicKey",
        0,
        ParseErrorKind::Invalid(why),
    )
}
