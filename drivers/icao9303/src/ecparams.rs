//! Elliptic curve domain parameters: a namedCurve OID or the explicit `ECParameters`, mapped to a known curve.
//!
//! Many Document Signer and CSCA certificates, and many chips' DG14/DG15
//! keys, carry their curve as explicit domain parameters (RFC 3279 §2.3.5,
//! SEC 1 §C.2, BSI TR-03111 §4.1.1, which 9303-11 §9.2 and 9303-12 §4
//! follow) instead of a namedCurve OID (RFC 5480 §2.1.1.1):
//!
//! ```text
//! EcpkParameters ::= CHOICE { ecParameters ECParameters, namedCurve OBJECT IDENTIFIER, implicitlyCA NULL }
//! ECParameters ::= SEQUENCE {
//!   version  INTEGER { ecpVer1(1) },
//!   fieldID  SEQUENCE { fieldType OBJECT IDENTIFIER, parameters ANY },  -- prime-field: INTEGER p
//!   curve    SEQUENCE { a OCTET STRING, b OCTET STRING, seed BIT STRING OPTIONAL },
//!   base     OCTET STRING,  -- G, SEC 1 §2.3.3: uncompressed 04||x||y or compressed 02/03||x
//!   order    INTEGER,       -- n
//!   cofactor INTEGER OPTIONAL }
//! ```
//!
//! What it is: recognising the curves this crate verifies on (P-256, P-384,
//! P-521, brainpoolP256r1, brainpoolP384r1 with their crates; P-192, P-224,
//! brainpoolP192r1, brainpoolP224r1, brainpoolP320r1, brainpoolP512r1 with
//! [`crate::weierstrass`]) by comparing p, a, b, G and n exactly with each
//! curve's constants (SEC 2 §2.2–2.5, FIPS 186-4 §D.1.2, RFC 5639 §3), written
//! once (below, or in [`crate::weierstrass`] for the generic curves). What it
//! is not: arithmetic; any other curve, however valid, is reported as unknown
//! (`None`).
//!
//! Pure and panic-free on untrusted bytes.

use std::borrow::Cow;

use der::asn1::{Any, AnyRef, BitString, ObjectIdentifier, OctetString, Uint};
use der::{Decode, Encode, Sequence, Tag, Tagged};
use spki::SubjectPublicKeyInfoOwned;

use crate::weierstrass;

#[cfg(test)]
mod tests;

/// id-ecPublicKey (RFC 5480 §2.1.1).
pub const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// prime-field (RFC 3279 §2.3.5, X9.62).
const PRIME_FIELD: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.1.1");
/// characteristic-two-field (RFC 3279 §2.3.5): a binary curve, never one of ours.
const CHARACTERISTIC_TWO_FIELD: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.1.2");

/// A curve this crate verifies signatures on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NamedCurve {
    /// NIST P-256, secp256r1 (1.2.840.10045.3.1.7).
    P256,
    /// NIST P-384, secp384r1 (1.3.132.0.34).
    P384,
    /// NIST P-521, secp521r1 (1.3.132.0.35).
    P521,
    /// brainpoolP256r1 (1.3.36.3.3.2.8.1.1.7, RFC 5639).
    BrainpoolP256r1,
    /// brainpoolP384r1 (1.3.36.3.3.2.8.1.1.11, RFC 5639).
    BrainpoolP384r1,
    /// NIST P-192, secp192r1 (1.2.840.10045.3.1.1); generic arithmetic ([`crate::weierstrass`]).
    P192,
    /// NIST P-224, secp224r1 (1.3.132.0.33); generic arithmetic.
    P224,
    /// brainpoolP192r1 (1.3.36.3.3.2.8.1.1.3, RFC 5639); generic arithmetic.
    BrainpoolP192r1,
    /// brainpoolP224r1 (1.3.36.3.3.2.8.1.1.5, RFC 5639); generic arithmetic.
    BrainpoolP224r1,
    /// brainpoolP320r1 (1.3.36.3.3.2.8.1.1.9, RFC 5639); generic arithmetic.
    BrainpoolP320r1,
    /// brainpoolP512r1 (1.3.36.3.3.2.8.1.1.13, RFC 5639); generic arithmetic.
    BrainpoolP512r1,
}

/// Domain parameters that cannot be read (who is at fault: the certificate or chip that sent them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EcParamsError {
    /// The bytes are not `EcpkParameters` (or the key is not an EC key).
    #[error("malformed EC domain parameters: {0}")]
    Malformed(String),
    /// Well formed, but a form this module does not take (implicitlyCA, an ECParameters version other than 1).
    #[error("unsupported EC domain parameters: {0}")]
    Unsupported(String),
    /// Well-formed explicit parameters of a curve that is none of [`NamedCurve`].
    #[error("EC domain parameters of an unknown curve")]
    UnknownCurve,
}

impl NamedCurve {
    /// Every curve, in a fixed order.
    pub const ALL: [NamedCurve; 11] = [
        NamedCurve::P256,
        NamedCurve::P384,
        NamedCurve::P521,
        NamedCurve::BrainpoolP256r1,
        NamedCurve::BrainpoolP384r1,
        NamedCurve::P192,
        NamedCurve::P224,
        NamedCurve::BrainpoolP192r1,
        NamedCurve::BrainpoolP224r1,
        NamedCurve::BrainpoolP320r1,
        NamedCurve::BrainpoolP512r1,
    ];

    /// The namedCurve OID (RFC 5480 §2.1.1.1, RFC 5639 §4.1).
    pub fn oid(self) -> ObjectIdentifier {
        ObjectIdentifier::new_unwrap(match self {
            NamedCurve::P256 => "1.2.840.10045.3.1.7",
            NamedCurve::P384 => "1.3.132.0.34",
            NamedCurve::P521 => "1.3.132.0.35",
            NamedCurve::BrainpoolP256r1 => "1.3.36.3.3.2.8.1.1.7",
            NamedCurve::BrainpoolP384r1 => "1.3.36.3.3.2.8.1.1.11",
            NamedCurve::P192 => "1.2.840.10045.3.1.1",
            NamedCurve::P224 => "1.3.132.0.33",
            NamedCurve::BrainpoolP192r1 => "1.3.36.3.3.2.8.1.1.3",
            NamedCurve::BrainpoolP224r1 => "1.3.36.3.3.2.8.1.1.5",
            NamedCurve::BrainpoolP320r1 => "1.3.36.3.3.2.8.1.1.9",
            NamedCurve::BrainpoolP512r1 => "1.3.36.3.3.2.8.1.1.13",
        })
    }

    /// The curve an OID names, if it is one of these.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.oid() == *oid)
    }

    /// The usual name, e.g. `"P-256"`, `"brainpoolP256r1"`.
    pub fn name(self) -> &'static str {
        match self {
            NamedCurve::P256 => "P-256",
            NamedCurve::P384 => "P-384",
            NamedCurve::P521 => "P-521",
            NamedCurve::BrainpoolP256r1 => "brainpoolP256r1",
            NamedCurve::BrainpoolP384r1 => "brainpoolP384r1",
            other => other.weierstrass().map_or("", |w| w.name),
        }
    }

    /// The constants for the generic arithmetic ([`crate::weierstrass`]) of a curve no crate implements; `None` otherwise.
    pub fn weierstrass(self) -> Option<&'static weierstrass::CurveParams> {
        match self {
            NamedCurve::P192 => Some(&weierstrass::P192),
            NamedCurve::P224 => Some(&weierstrass::P224),
            NamedCurve::BrainpoolP192r1 => Some(&weierstrass::BRAINPOOL_P192R1),
            NamedCurve::BrainpoolP224r1 => Some(&weierstrass::BRAINPOOL_P224R1),
            NamedCurve::BrainpoolP320r1 => Some(&weierstrass::BRAINPOOL_P320R1),
            NamedCurve::BrainpoolP512r1 => Some(&weierstrass::BRAINPOOL_P512R1),
            NamedCurve::P256
            | NamedCurve::P384
            | NamedCurve::P521
            | NamedCurve::BrainpoolP256r1
            | NamedCurve::BrainpoolP384r1 => None,
        }
    }

    /// The size of a field element in bytes (SEC 1 §2.3.5: ⌈log2 p / 8⌉).
    pub fn field_len(self) -> usize {
        self.domain().p.len()
    }

    /// The curve's constants.
    fn domain(self) -> &'static Domain {
        match self {
            NamedCurve::P256 => &P256,
            NamedCurve::P384 => &P384,
            NamedCurve::P521 => &P521,
            NamedCurve::BrainpoolP256r1 => &BRAINPOOL_P256R1,
            NamedCurve::BrainpoolP384r1 => &BRAINPOOL_P384R1,
            NamedCurve::P192 => &P192,
            NamedCurve::P224 => &P224,
            NamedCurve::BrainpoolP192r1 => &BRAINPOOL_P192R1,
            NamedCurve::BrainpoolP224r1 => &BRAINPOOL_P224R1,
            NamedCurve::BrainpoolP320r1 => &BRAINPOOL_P320R1,
            NamedCurve::BrainpoolP512r1 => &BRAINPOOL_P512R1,
        }
    }
}

impl std::fmt::Display for NamedCurve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The curve that `params` (an `EcpkParameters`: namedCurve OID or explicit `ECParameters`) denotes.
///
/// `Ok(None)`: an OID of another curve, or explicit parameters that match
/// none of [`NamedCurve`] in p, a, b, G, n and cofactor (a binary-field
/// curve included).
///
/// # Errors
/// [`EcParamsError::Malformed`] if the value does not decode;
/// [`EcParamsError::Unsupported`] for implicitlyCA (NULL) or an
/// `ECParameters` version other than 1.
pub fn named_curve(params: AnyRef<'_>) -> Result<Option<NamedCurve>, EcParamsError> {
    match params.tag() {
        Tag::ObjectIdentifier => {
            let oid: ObjectIdentifier = params
                .decode_as()
                .map_err(|e| EcParamsError::Malformed(format!("namedCurve: {e}")))?;
            Ok(NamedCurve::from_oid(&oid))
        }
        Tag::Null => {
            params
                .decode_as::<der::asn1::Null>()
                .map_err(|e| EcParamsError::Malformed(format!("implicitlyCA: {e}")))?;
            Err(EcParamsError::Unsupported(
                "implicitlyCA (the curve is not in the key)".into(),
            ))
        }
        Tag::Sequence => {
            let explicit: EcParametersDer = params
                .decode_as()
                .map_err(|e| EcParamsError::Malformed(format!("ECParameters: {e}")))?;
            explicit.curve()
        }
        other => Err(EcParamsError::Malformed(format!(
            "EcpkParameters is a {other}, not an OID, NULL or SEQUENCE"
        ))),
    }
}

/// As [`named_curve`], from the DER encoding of `EcpkParameters`.
///
/// # Errors
/// As [`named_curve`], and [`EcParamsError::Malformed`] if the bytes are not one DER value.
pub fn named_curve_der(params: &[u8]) -> Result<Option<NamedCurve>, EcParamsError> {
    let any = AnyRef::from_der(params)
        .map_err(|e| EcParamsError::Malformed(format!("EcpkParameters: {e}")))?;
    named_curve(any)
}

/// The curve of an id-ecPublicKey `SubjectPublicKeyInfo` (namedCurve or explicit parameters).
///
/// # Errors
/// [`EcParamsError::Malformed`] if the key is not id-ecPublicKey or has no
/// parameters; [`EcParamsError::UnknownCurve`] for a curve not in
/// [`NamedCurve`]; otherwise as [`named_curve`].
pub fn curve_of_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<NamedCurve, EcParamsError> {
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(EcParamsError::Malformed(format!(
            "key of type {}, not id-ecPublicKey",
            spki.algorithm.oid
        )));
    }
    let params = spki
        .algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| EcParamsError::Malformed("EC key without domain parameters".into()))?;
    named_curve(AnyRef::from(params))?.ok_or(EcParamsError::UnknownCurve)
}

/// `spki` with explicit EC domain parameters replaced by the equivalent namedCurve OID (RFC 5480 §2.1.1.1).
///
/// A key that is not id-ecPublicKey, or already names its curve by OID, is
/// returned as it is (borrowed); the public key point is never touched.
///
/// # Errors
/// For an id-ecPublicKey key with explicit parameters: as [`curve_of_spki`].
pub fn with_named_curve(
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<Cow<'_, SubjectPublicKeyInfoOwned>, EcParamsError> {
    let explicit = spki.algorithm.oid == ID_EC_PUBLIC_KEY
        && spki
            .algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| p.tag() == Tag::Sequence);
    if !explicit {
        return Ok(Cow::Borrowed(spki));
    }
    let curve = curve_of_spki(spki)?;
    let mut named = spki.clone();
    named.algorithm.parameters = Some(
        Any::encode_from(&curve.oid())
            .map_err(|e| EcParamsError::Malformed(format!("OID does not encode: {e}")))?,
    );
    Ok(Cow::Owned(named))
}

/// As [`with_named_curve`] on a DER `SubjectPublicKeyInfo` (e.g. DG15's, 9303-11 §6.1), giving DER.
///
/// # Errors
/// [`EcParamsError::Malformed`] if the bytes are not one `SubjectPublicKeyInfo`; otherwise as [`with_named_curve`].
pub fn spki_der_with_named_curve(spki_der: &[u8]) -> Result<Vec<u8>, EcParamsError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)
        .map_err(|e| EcParamsError::Malformed(format!("SubjectPublicKeyInfo: {e}")))?;
    match with_named_curve(&spki)? {
        Cow::Borrowed(_) => Ok(spki_der.to_vec()),
        Cow::Owned(named) => named
            .to_der()
            .map_err(|e| EcParamsError::Malformed(format!("SubjectPublicKeyInfo: {e}"))),
    }
}

/// The explicit `ECParameters` of `curve` (RFC 3279 §2.3.5; version 1, prime field, uncompressed G, cofactor 1), DER.
///
/// For simulators and tests of chips and certificates that spell their curve out.
///
/// # Errors
/// [`EcParamsError::Malformed`] only on internal failure of the encoder.
pub fn explicit_parameters_der(curve: NamedCurve) -> Result<Vec<u8>, EcParamsError> {
    let d = curve.domain();
    let enc = |e: der::Error| EcParamsError::Malformed(format!("ECParameters do not encode: {e}"));
    let mut base = vec![0x04];
    base.extend_from_slice(d.gx);
    base.extend_from_slice(d.gy);
    let params = EcParametersDer {
        version: Uint::new(&[1]).map_err(enc)?,
        field_id: FieldIdDer {
            field_type: PRIME_FIELD,
            parameters: Any::encode_from(&Uint::new(d.p).map_err(enc)?).map_err(enc)?,
        },
        curve: CurveDer {
            a: OctetString::new(d.a).map_err(enc)?,
            b: OctetString::new(d.b).map_err(enc)?,
            seed: None,
        },
        base: OctetString::new(base).map_err(enc)?,
        order: Uint::new(d.n).map_err(enc)?,
        cofactor: Some(Uint::new(&[1]).map_err(enc)?),
    };
    params.to_der().map_err(enc)
}

/// `spki` (DER) with its namedCurve OID replaced by the curve's explicit `ECParameters`: the inverse of [`spki_der_with_named_curve`].
///
/// For simulators and tests (a DG14 or DG15 key as many chips write it).
///
/// # Errors
/// [`EcParamsError::Malformed`] if the bytes are not an id-ecPublicKey
/// `SubjectPublicKeyInfo`; [`EcParamsError::UnknownCurve`] for a curve not
/// in [`NamedCurve`].
pub fn spki_der_with_explicit_parameters(spki_der: &[u8]) -> Result<Vec<u8>, EcParamsError> {
    let mut spki = SubjectPublicKeyInfoOwned::from_der(spki_der)
        .map_err(|e| EcParamsError::Malformed(format!("SubjectPublicKeyInfo: {e}")))?;
    let curve = curve_of_spki(&spki)?;
    let explicit = explicit_parameters_der(curve)?;
    spki.algorithm.parameters = Some(
        Any::from_der(&explicit)
            .map_err(|e| EcParamsError::Malformed(format!("ECParameters: {e}")))?,
    );
    spki.to_der()
        .map_err(|e| EcParamsError::Malformed(format!("SubjectPublicKeyInfo: {e}")))
}

/// `ECParameters` as decoded (RFC 3279 §2.3.5; SEC 1 §C.2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EcParametersDer {
    /// ecpVer1 (1).
    version: Uint,
    /// The field.
    field_id: FieldIdDer,
    /// a, b and the seed.
    curve: CurveDer,
    /// G, SEC 1 §2.3.3 encoding.
    base: OctetString,
    /// n.
    order: Uint,
    /// h.
    cofactor: Option<Uint>,
}

/// `FieldID ::= SEQUENCE { fieldType OBJECT IDENTIFIER, parameters ANY DEFINED BY fieldType }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct FieldIdDer {
    /// prime-field or characteristic-two-field.
    field_type: ObjectIdentifier,
    /// For prime-field, `Prime-p ::= INTEGER`.
    parameters: Any,
}

/// `Curve ::= SEQUENCE { a FieldElement, b FieldElement, seed BIT STRING OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct CurveDer {
    /// Coefficient a.
    a: OctetString,
    /// Coefficient b.
    b: OctetString,
    /// The seed the curve was generated from (not checked: it does not change the curve).
    seed: Option<BitString>,
}

impl EcParametersDer {
    /// The known curve these parameters equal, if any.
    fn curve(&self) -> Result<Option<NamedCurve>, EcParamsError> {
        if self.version.as_bytes() != [1] {
            return Err(EcParamsError::Unsupported(format!(
                "ECParameters version {:02x?}, only 1 (ecpVer1)",
                self.version.as_bytes()
            )));
        }
        if self.field_id.field_type == CHARACTERISTIC_TWO_FIELD {
            return Ok(None);
        }
        if self.field_id.field_type != PRIME_FIELD {
            return Err(EcParamsError::Malformed(format!(
                "fieldType {} is neither prime-field nor characteristic-two-field",
                self.field_id.field_type
            )));
        }
        let p: Uint = self
            .field_id
            .parameters
            .decode_as()
            .map_err(|e| EcParamsError::Malformed(format!("prime p: {e}")))?;
        let cofactor_one = self.cofactor.as_ref().is_none_or(|h| h.as_bytes() == [1]);
        Ok(NamedCurve::ALL.into_iter().find(|c| {
            let d = c.domain();
            cofactor_one
                && same_int(p.as_bytes(), d.p)
                && same_int(self.curve.a.as_bytes(), d.a)
                && same_int(self.curve.b.as_bytes(), d.b)
                && same_int(self.order.as_bytes(), d.n)
                && d.is_generator(self.base.as_bytes())
        }))
    }
}

/// Whether two big-endian unsigned integers are equal, ignoring leading zero bytes.
fn same_int(x: &[u8], y: &[u8]) -> bool {
    /// Without leading zeros.
    fn strip(b: &[u8]) -> &[u8] {
        let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
        b.get(start..).unwrap_or_default()
    }
    strip(x) == strip(y)
}

/// One curve's domain parameters, big-endian, each field element padded to the field length.
struct Domain {
    /// The prime p.
    p: &'static [u8],
    /// Coefficient a.
    a: &'static [u8],
    /// Coefficient b.
    b: &'static [u8],
    /// x of the base point G.
    gx: &'static [u8],
    /// y of the base point G.
    gy: &'static [u8],
    /// The order n of G (cofactor 1 for every curve here).
    n: &'static [u8],
}

impl Domain {
    /// Whether `point` (SEC 1 §2.3.3: `04||x||y` or `02/03||x`, field-length coordinates) is G.
    fn is_generator(&self, point: &[u8]) -> bool {
        let len = self.p.len();
        match point.split_first() {
            Some((&0x04, xy)) if xy.len() == 2 * len => xy.split_at(len) == (self.gx, self.gy),
            Some((&prefix @ (0x02 | 0x03), x)) if x.len() == len => {
                let y_odd = self.gy.last().is_some_and(|b| b & 1 == 1);
                x == self.gx && (prefix == 0x03) == y_odd
            }
            _ => false,
        }
    }
}

/// Hex to bytes at compile time (the constants below; a bad digit fails the build).
const fn unhex<const N: usize>(hex: &str) -> [u8; N] {
    /// One hex digit.
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let hex = hex.as_bytes();
    assert!(hex.len() == 2 * N, "hex constant of the wrong length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (nibble(hex[2 * i]) << 4) | nibble(hex[2 * i + 1]);
        i += 1;
    }
    out
}

/// P-256 (SEC 2 §2.4.2; FIPS 186-4 §D.1.2.3): a = p - 3.
const P256: Domain = Domain {
    p: &unhex::<32>("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"),
    a: &unhex::<32>("ffffffff00000001000000000000000000000000fffffffffffffffffffffffc"),
    b: &unhex::<32>("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b"),
    gx: &unhex::<32>("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"),
    gy: &unhex::<32>("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"),
    n: &unhex::<32>("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
};

/// P-384 (SEC 2 §2.5.1; FIPS 186-4 §D.1.2.4): a = p - 3.
const P384: Domain = Domain {
    p: &unhex::<48>(concat!(
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe",
        "ffffffff0000000000000000ffffffff"
    )),
    a: &unhex::<48>(concat!(
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe",
        "ffffffff0000000000000000fffffffc"
    )),
    b: &unhex::<48>(concat!(
        "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875a",
        "c656398d8a2ed19d2a85c8edd3ec2aef"
    )),
    gx: &unhex::<48>(concat!(
        "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a38",
        "5502f25dbf55296c3a545e3872760ab7"
    )),
    gy: &unhex::<48>(concat!(
        "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c0",
        "0a60b1ce1d7e819d7a431d7c90ea0e5f"
    )),
    n: &unhex::<48>(concat!(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf",
        "581a0db248b0a77aecec196accc52973"
    )),
};

/// P-521 (SEC 2 §2.6.1; FIPS 186-4 §D.1.2.5): p = 2^521 - 1, a = p - 3.
const P521: Domain = Domain {
    p: &unhex::<66>(concat!(
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffff"
    )),
    a: &unhex::<66>(concat!(
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "fffc"
    )),
    b: &unhex::<66>(concat!(
        "0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef1",
        "09e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b50",
        "3f00"
    )),
    gx: &unhex::<66>(concat!(
        "00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d",
        "3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5",
        "bd66"
    )),
    gy: &unhex::<66>(concat!(
        "011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e",
        "662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd1",
        "6650"
    )),
    n: &unhex::<66>(concat!(
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "fffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e9138",
        "6409"
    )),
};

/// brainpoolP256r1 (RFC 5639 §3.4).
const BRAINPOOL_P256R1: Domain = Domain {
    p: &unhex::<32>("a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377"),
    a: &unhex::<32>("7d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9"),
    b: &unhex::<32>("26dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b6"),
    gx: &unhex::<32>("8bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262"),
    gy: &unhex::<32>("547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997"),
    n: &unhex::<32>("a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7"),
};

/// brainpoolP384r1 (RFC 5639 §3.6).
const BRAINPOOL_P384R1: Domain = Domain {
    p: &unhex::<48>(concat!(
        "8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b412b1da197fb71123",
        "acd3a729901d1a71874700133107ec53"
    )),
    a: &unhex::<48>(concat!(
        "7bc382c63d8c150c3c72080ace05afa0c2bea28e4fb22787139165efba91f90f",
        "8aa5814a503ad4eb04a8c7dd22ce2826"
    )),
    b: &unhex::<48>(concat!(
        "04a8c7dd22ce28268b39b55416f0447c2fb77de107dcd2a62e880ea53eeb62d5",
        "7cb4390295dbc9943ab78696fa504c11"
    )),
    gx: &unhex::<48>(concat!(
        "1d1c64f068cf45ffa2a63a81b7c13f6b8847a3e77ef14fe3db7fcafe0cbd10e8",
        "e826e03436d646aaef87b2e247d4af1e"
    )),
    gy: &unhex::<48>(concat!(
        "8abe1d7520f9c2a45cb1eb8e95cfd55262b70b29feec5864e19c054ff9912928",
        "0e4646217791811142820341263c5315"
    )),
    n: &unhex::<48>(concat!(
        "8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b31f166e6cac0425a7",
        "cf3ab6af6b7fc3103b883202e9046565"
    )),
};

/// The `Domain` of a curve computed with [`crate::weierstrass`], from its hex constants.
macro_rules! generic_domain {
    ($c:expr, $len:literal) => {
        Domain {
            p: &unhex::<$len>($c.p),
            a: &unhex::<$len>($c.a),
            b: &unhex::<$len>($c.b),
            gx: &unhex::<$len>($c.gx),
            gy: &unhex::<$len>($c.gy),
            n: &unhex::<$len>($c.n),
        }
    };
}

/// P-192 (SEC 2 §2.2.2; FIPS 186-4 §D.1.2.1).
const P192: Domain = generic_domain!(weierstrass::P192, 24);
/// P-224 (SEC 2 §2.3.2; FIPS 186-4 §D.1.2.2).
const P224: Domain = generic_domain!(weierstrass::P224, 28);
/// brainpoolP192r1 (RFC 5639 §3.1).
const BRAINPOOL_P192R1: Domain = generic_domain!(weierstrass::BRAINPOOL_P192R1, 24);
/// brainpoolP224r1 (RFC 5639 §3.2).
const BRAINPOOL_P224R1: Domain = generic_domain!(weierstrass::BRAINPOOL_P224R1, 28);
/// brainpoolP320r1 (RFC 5639 §3.5).
const BRAINPOOL_P320R1: Domain = generic_domain!(weierstrass::BRAINPOOL_P320R1, 40);
/// brainpoolP512r1 (RFC 5639 §3.7).
const BRAINPOOL_P512R1: Domain = generic_domain!(weierstrass::BRAINPOOL_P512R1, 64);
