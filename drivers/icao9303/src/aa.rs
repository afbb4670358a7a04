//! Active Authentication (9303 part 11, section 6.1): the chip proves it
//! holds the private key whose public half is in DG15, so a copied chip
//! (the signed data without the key) is caught.
//!
//! The terminal sends a random challenge in INTERNAL AUTHENTICATE; the chip
//! signs it. RSA chips sign with ISO/IEC 9796-2 digital signature scheme 1
//! (message recovery); ECDSA chips return a plain `r || s` signature (BSI
//! TR-03111) over the hash named by DG14's ActiveAuthenticationInfo.
//!
//! The chip's side ([`AaPrivateKey`]) signs the same way, for simulators and tests.

use crypto_bigint::BoxedUint;
use crypto_bigint::modular::BoxedMontyForm;
use der::Decode;
use ecdsa::signature::hazmat::PrehashVerifier;
use rsa::PublicKey as RsaKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use crate::apdu::Command;
use crate::ecparams::{self, EcParamsError, NamedCurve};
use crate::error::{Error, ParseError, ParseErrorKind};
use crate::lds::{Dg14, decode_oid, encode_oid};
use crate::tlv;
use crate::weierstrass;

/// Length of the terminal's challenge (9303-11 section 6.1).
pub const CHALLENGE_LEN: usize = 8;
/// id-icao-mrtd-security-aaProtocolObject (9303-11 section 9.2.3): the OID of an ActiveAuthenticationInfo.
pub const ID_AA: &str = "2.23.136.1.1.5";

/// DG14's ActiveAuthenticationInfo: the signature algorithm of an ECDSA Active Authentication key (9303-11 section 9.2.3).
///
/// `SEQUENCE { protocol id-AA, version INTEGER (1), signatureAlgorithm OBJECT IDENTIFIER }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAuthenticationInfo {
    /// The version; 9303 defines 1.
    pub version: u32,
    /// The signature algorithm OID, dotted (e.g. `1.2.840.10045.4.3.2`, ecdsa-with-SHA256).
    pub signature_algorithm: String,
}

/// The chip's side: an Active Authentication private key that signs challenges (for simulators and tests).
#[derive(Clone)]
pub enum AaPrivateKey {
    /// RSA, signing with ISO/IEC 9796-2 scheme 1 and SHA-1.
    Rsa(Box<rsa::PrivateKey>),
    /// ECDSA on P-256, plain `r || s` signatures.
    P256(p256::ecdsa::SigningKey),
}

/// The chip's Active Authentication public key, from DG15.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AaPublicKey {
    /// An RSA key (ISO/IEC 9796-2 scheme 1 signatures).
    Rsa(RsaKey),
    /// An ECDSA key on a curve this crate verifies.
    Ec(EcKey),
}

/// An ECDSA public key on a curve this crate verifies on (named by OID or by explicit domain parameters in DG15).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EcKey {
    /// NIST P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// NIST P-384.
    P384(p384::ecdsa::VerifyingKey),
    /// brainpoolP256r1.
    Bp256(ecdsa::VerifyingKey<bp256::BrainpoolP256r1>),
    /// brainpoolP384r1.
    Bp384(ecdsa::VerifyingKey<bp384::BrainpoolP384r1>),
    /// NIST P-521.
    P521(p521::ecdsa::VerifyingKey),
    /// A curve without a crate (P-192, P-224, brainpoolP192r1/224r1/320r1/512r1), verified with [`crate::weierstrass`].
    Generic {
        /// The curve.
        curve: NamedCurve,
        /// The public point, uncompressed (SEC 1 §2.3.3), checked to be on the curve.
        point: Vec<u8>,
    },
}

/// Hash functions a chip may use for its Active Authentication signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AaHash {
    /// SHA-1.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// Why a chip's Active Authentication answer was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AaFailure {
    /// The signature does not verify: the chip does not hold the DG15 key.
    #[error("signature does not verify")]
    BadSignature,
    /// The recovered message is not an ISO/IEC 9796-2 scheme 1 representative.
    #[error("recovered message is malformed: {0}")]
    Malformed(&'static str),
    /// The signature does not cover this challenge.
    #[error("signature is over another challenge")]
    WrongChallenge,
    /// The chip uses a hash or key this crate does not verify.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The chip refused INTERNAL AUTHENTICATE with this status word (under secure messaging).
    #[error("chip refused INTERNAL AUTHENTICATE with {sw:04X}")]
    Refused {
        /// ISO 7816-4 status word.
        sw: u16,
    },
    /// The exchange failed (secure messaging broke, the chip went away): no valid answer to judge.
    #[error("no valid answer to INTERNAL AUTHENTICATE: {0}")]
    NoAnswer(String),
}

impl AaPublicKey {
    /// Reads the key from DG15's SubjectPublicKeyInfo (9303-11 section 6.1, 9303-10 section 4.7.15).
    ///
    /// The EC curve may be a namedCurve OID or explicit domain parameters
    /// (RFC 3279 §2.3.5, 9303-11 §9.2), recognised by [`ecparams`].
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a curve this crate does not verify on
    /// (explicit parameters of an unknown curve included) or implicitlyCA; a
    /// parse error for malformed DER or a point not on the curve.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self, Error> {
        let info = spki::SubjectPublicKeyInfoRef::from_der(spki)
            .map_err(|_| Error::Parse(bad_spki("SubjectPublicKeyInfo")))?;
        match info.algorithm.oid.to_string().as_str() {
            OID_RSA => RsaKey::from_public_key_der(spki)
                .map(Self::Rsa)
                .map_err(|_| Error::Parse(bad_spki("RSA public key"))),
            OID_EC => {
                let params = info
                    .algorithm
                    .parameters
                    .ok_or(Error::Parse(bad_spki("EC key without domain parameters")))?;
                let curve = match ecparams::named_curve(params) {
                    Ok(Some(curve)) => curve,
                    Ok(None) => return Err(Error::Unsupported("Active Authentication curve")),
                    Err(EcParamsError::Malformed(_)) => {
                        return Err(Error::Parse(bad_spki("EC domain parameters")));
                    }
                    Err(_) => {
                        return Err(Error::Unsupported(
                            "Active Authentication EC domain parameters (implicitlyCA or another version)",
                        ));
                    }
                };
                let point = info.subject_public_key.raw_bytes();
                EcKey::from_sec1(curve, point).map(Self::Ec)
            }
            _ => Err(Error::Unsupported("Active Authentication key algorithm")),
        }
    }
}

impl EcKey {
    /// The key of `point` (SEC 1 §2.3.3) on `curve`, checked to be on the curve.
    ///
    /// # Errors
    /// A parse error when the point is not one of the curve's.
    pub fn from_sec1(curve: NamedCurve, point: &[u8]) -> Result<Self, Error> {
        let bad = || Error::Parse(bad_spki("EC public point"));
        if let Some(params) = curve.weierstrass() {
            weierstrass::Curve::cached(params)?
                .check_point(point)
                .map_err(|_| bad())?;
            return Ok(Self::Generic {
                curve,
                point: point.to_vec(),
            });
        }
        Ok(match curve {
            NamedCurve::P256 => {
                Self::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad())?)
            }
            NamedCurve::P384 => {
                Self::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad())?)
            }
            NamedCurve::P521 => {
                Self::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad())?)
            }
            NamedCurve::BrainpoolP256r1 => {
                Self::Bp256(ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad())?)
            }
            NamedCurve::BrainpoolP384r1 => {
                Self::Bp384(ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| bad())?)
            }
            _ => return Err(Error::Unsupported("Active Authentication curve")),
        })
    }

    /// The curve of the key.
    pub fn curve(&self) -> NamedCurve {
        match self {
            Self::P256(_) => NamedCurve::P256,
            Self::P384(_) => NamedCurve::P384,
            Self::P521(_) => NamedCurve::P521,
            Self::Bp256(_) => NamedCurve::BrainpoolP256r1,
            Self::Bp384(_) => NamedCurve::BrainpoolP384r1,
            Self::Generic { curve, .. } => *curve,
        }
    }
}

impl AaHash {
    /// The hash named by an ECDSA signature algorithm OID (ActiveAuthenticationInfo in DG14).
    pub fn from_ecdsa_oid(oid: &str) -> Option<Self> {
        Some(match oid {
            "1.2.840.10045.4.1" => Self::Sha1,
            "1.2.840.10045.4.3.1" => Self::Sha224,
            "1.2.840.10045.4.3.2" => Self::Sha256,
            "1.2.840.10045.4.3.3" => Self::Sha384,
            "1.2.840.10045.4.3.4" => Self::Sha512,
            _ => return None,
        })
    }

    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().to_vec()
        }
        match self {
            Self::Sha1 => run::<Sha1>(parts),
            Self::Sha224 => run::<Sha224>(parts),
            Self::Sha256 => run::<Sha256>(parts),
            Self::Sha384 => run::<Sha384>(parts),
            Self::Sha512 => run::<Sha512>(parts),
        }
    }

    fn len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The hash named by an ISO/IEC 9796-2 two-byte trailer `xx CC` (ISO/IEC 10118-3 identifiers).
    fn from_trailer(id: u8) -> Option<Self> {
        Some(match id {
            0x33 => Self::Sha1,
            0x34 => Self::Sha256,
            0x35 => Self::Sha512,
            0x36 => Self::Sha384,
            0x38 => Self::Sha224,
            _ => return None,
        })
    }
}

impl ActiveAuthenticationInfo {
    /// Parses one ActiveAuthenticationInfo `SEQUENCE` (a DG14 SecurityInfo's raw bytes).
    ///
    /// # Errors
    /// A [`ParseError`] for malformed DER or another protocol OID.
    pub fn parse(raw: &[u8]) -> Result<Self, ParseError> {
        let what = "ActiveAuthenticationInfo";
        let seq = tlv::parse_single_named(raw, 0x30, what)?;
        let mut r = seq.reader();
        let oid = tlv::read_expected(&mut r, 0x06, what)?;
        if decode_oid(oid.value)? != ID_AA {
            return Err(oid.error(what, ParseErrorKind::Invalid("not id-AA")));
        }
        let version = tlv::read_expected(&mut r, 0x02, "ActiveAuthenticationInfo version")?;
        let version = match version.value {
            [v] if *v < 0x80 => u32::from(*v),
            _ => {
                return Err(version.error(
                    what,
                    ParseErrorKind::Invalid("version is not a small INTEGER"),
                ));
            }
        };
        let alg = tlv::read_expected(&mut r, 0x06, "ActiveAuthenticationInfo signatureAlgorithm")?;
        r.expect_end(what)?;
        Ok(Self {
            version,
            signature_algorithm: decode_oid(alg.value)?,
        })
    }

    /// The first ActiveAuthenticationInfo of DG14, if any.
    ///
    /// # Errors
    /// A [`ParseError`] when it is malformed.
    pub fn from_dg14(dg14: &Dg14) -> Result<Option<Self>, ParseError> {
        dg14.infos
            .iter()
            .find(|i| i.oid() == ID_AA)
            .map(|i| Self::parse(i.raw()))
            .transpose()
    }

    /// Encodes the info as DER, or `None` if the algorithm OID does not encode.
    pub fn encode(&self) -> Option<Vec<u8>> {
        let version = u8::try_from(self.version).ok().filter(|v| *v < 0x80)?;
        Some(tlv::encode_constructed(
            0x30,
            &[
                tlv::encode(0x06, &encode_oid(ID_AA)?),
                tlv::encode(0x02, &[version]),
                tlv::encode(0x06, &encode_oid(&self.signature_algorithm)?),
            ],
        ))
    }

    /// The hash of the signature algorithm, if this crate knows it.
    pub fn hash(&self) -> Option<AaHash> {
        AaHash::from_ecdsa_oid(&self.signature_algorithm)
    }
}

/// INTERNAL AUTHENTICATE with the terminal's challenge (9303-11 section 6.1).
pub fn internal_authenticate(challenge: &[u8; CHALLENGE_LEN]) -> Command {
    Command::new(0x00, 0x88, 0x00, 0x00)
        .with_data(challenge.to_vec())
        .with_le(256)
}

/// Checks the chip's INTERNAL AUTHENTICATE answer against DG15's key.
///
/// `ecdsa_hash` is the hash from DG14's ActiveAuthenticationInfo; an ECDSA
/// key without one cannot be checked.
///
/// # Errors
/// An [`AaFailure`] saying why the chip is not accepted.
pub fn verify(
    key: &AaPublicKey,
    challenge: &[u8; CHALLENGE_LEN],
    signature: &[u8],
    ecdsa_hash: Option<AaHash>,
) -> Result<(), AaFailure> {
    match key {
        AaPublicKey::Rsa(rsa) => verify_rsa(rsa, challenge, signature),
        AaPublicKey::Ec(ec) => {
            let hash =
                ecdsa_hash.ok_or(AaFailure::Unsupported("ECDSA key without a hash in DG14"))?;
            let digest = hash.digest(&[challenge]);
            let ok = match ec {
                EcKey::P256(k) => verify_plain(k, &digest, signature),
                EcKey::P384(k) => verify_plain(k, &digest, signature),
                EcKey::Bp256(k) => verify_plain(k, &digest, signature),
                EcKey::Bp384(k) => verify_plain(k, &digest, signature),
                EcKey::P521(k) => verify_plain(k, &digest, signature),
                EcKey::Generic { curve, point } => {
                    verify_generic(*curve, point, &digest, signature)
                }
            };
            if ok {
                Ok(())
            } else {
                Err(AaFailure::BadSignature)
            }
        }
    }
}

/// The message representative F of ISO/IEC 9796-2 scheme 1 with partial recovery:
/// `6A || M1 || H || BC`, H = SHA-1(M1 || challenge) (9303-11 section 6.1).
///
/// `m1` must be `modulus bytes - 22` long. For simulators and tests.
pub fn rsa_message_representative(m1: &[u8], challenge: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(m1.len() + 22);
    f.push(0x6A);
    f.extend_from_slice(m1);
    f.extend_from_slice(&AaHash::Sha1.digest(&[m1, challenge]));
    f.push(0xBC);
    f
}

impl std::fmt::Debug for AaPrivateKey {
    /// The kind of key only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rsa(k) => write!(f, "AaPrivateKey::Rsa({} bits)", k.size() * 8),
            Self::P256(_) => f.write_str("AaPrivateKey::P256"),
        }
    }
}

impl AaPrivateKey {
    /// A fresh RSA key of `bits` bits (1024 or 2048 in passports) from the system RNG.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when key generation fails.
    pub fn generate_rsa(bits: usize) -> Result<Self, Error> {
        rsa::PrivateKey::new(&mut getrandom::SysRng, bits)
            .map(|k| Self::Rsa(Box::new(k)))
            .map_err(|_| Error::Unsupported("RSA key generation"))
    }

    /// A fresh P-256 key from the system RNG.
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a system random source.
    pub fn generate_p256() -> Result<Self, Error> {
        for _ in 0..100 {
            let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
            getrandom::fill(bytes.as_mut())
                .map_err(|_| Error::Unsupported("no system random source"))?;
            if let Ok(k) = p256::ecdsa::SigningKey::from_slice(bytes.as_ref()) {
                return Ok(Self::P256(k));
            }
        }
        Err(Error::Unsupported(
            "random source does not produce usable keys",
        ))
    }

    /// The public key as a DER SubjectPublicKeyInfo (DG15's content).
    ///
    /// # Errors
    /// Only on internal failure of the encoder.
    pub fn spki_der(&self) -> Result<Vec<u8>, Error> {
        use rsa::pkcs8::EncodePublicKey;
        let der = match self {
            Self::Rsa(k) => k.to_public_key().to_public_key_der(),
            Self::P256(k) => k.verifying_key().to_public_key_der(),
        };
        der.map(|d| d.as_bytes().to_vec())
            .map_err(|_| Error::ApiMisuse("public key does not encode"))
    }

    /// DG15: `6F { SubjectPublicKeyInfo }` (9303-10 section 4.7.15).
    ///
    /// # Errors
    /// As [`Self::spki_der`].
    pub fn dg15(&self) -> Result<Vec<u8>, Error> {
        Ok(tlv::encode(0x6F, &self.spki_der()?))
    }

    /// Signs a challenge as a chip answers INTERNAL AUTHENTICATE: ISO/IEC 9796-2 scheme 1 with SHA-1 (RSA), or plain ECDSA over `hash` (P-256).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a random source or when signing fails.
    pub fn sign(&self, challenge: &[u8], hash: AaHash) -> Result<Vec<u8>, Error> {
        match self {
            Self::Rsa(key) => {
                use rsa::traits::PrivateKeyParts;
                let k = key.size();
                let mut m1 = vec![0u8; k.saturating_sub(22)];
                getrandom::fill(&mut m1)
                    .map_err(|_| Error::Unsupported("no system random source"))?;
                let f = rsa_message_representative(&m1, challenge);
                let f = BoxedUint::from_be_slice(&f, key.n_bits_precision())
                    .map_err(|_| Error::ApiMisuse("message representative"))?;
                let s = BoxedMontyForm::new(f, key.n_params())
                    .pow(key.d())
                    .retrieve()
                    .to_be_bytes();
                Ok(s.get(s.len().saturating_sub(k)..).unwrap_or(&s).to_vec())
            }
            Self::P256(key) => {
                use ecdsa::signature::hazmat::PrehashSigner;
                let digest = hash.digest(&[challenge]);
                let sig: p256::ecdsa::Signature = key
                    .sign_prehash(&digest)
                    .map_err(|_| Error::Unsupported("ECDSA signing"))?;
                Ok(sig.to_bytes().to_vec())
            }
        }
    }
}

/// Recovers F = s^e mod n and checks it against the challenge (ISO/IEC 9796-2 scheme 1).
fn verify_rsa(key: &RsaKey, challenge: &[u8], signature: &[u8]) -> Result<(), AaFailure> {
    let k = key.size();
    if signature.len() != k {
        return Err(AaFailure::Malformed("signature is not the modulus length"));
    }
    let s = BoxedUint::from_be_slice(signature, key.n_bits_precision())
        .map_err(|_| AaFailure::Malformed("signature does not fit the modulus"))?;
    if s >= *key.n().as_ref() {
        return Err(AaFailure::Malformed("signature is not below the modulus"));
    }
    let f = BoxedMontyForm::new(s, key.n_params())
        .pow(key.e())
        .retrieve();
    let f = f.to_be_bytes();
    let f = f.get(f.len() - k..).ok_or(AaFailure::BadSignature)?;
    let (&header, rest) = f.split_first().ok_or(AaFailure::BadSignature)?;
    // Header: bits 01 (scheme 1), then 1 = partial recovery (0x6A), 0 = total (0x4A).
    if header != 0x6A && header != 0x4A {
        return Err(AaFailure::BadSignature);
    }
    let (hash, body) = match rest.split_last() {
        Some((0xBC, body)) => (AaHash::Sha1, body),
        Some((0xCC, body)) => {
            let (&id, body) = body.split_last().ok_or(AaFailure::BadSignature)?;
            (
                AaHash::from_trailer(id).ok_or(AaFailure::Unsupported("9796-2 trailer hash"))?,
                body,
            )
        }
        _ => return Err(AaFailure::BadSignature),
    };
    let split = body
        .len()
        .checked_sub(hash.len())
        .ok_or(AaFailure::Malformed("shorter than its hash"))?;
    let (m1, h) = body.split_at(split);
    let expected = if header == 0x6A {
        hash.digest(&[m1, challenge])
    } else {
        hash.digest(&[m1])
    };
    if !crate::crypto::ct_eq(&expected, h) {
        return Err(AaFailure::WrongChallenge);
    }
    if header == 0x4A && !m1.ends_with(challenge) {
        return Err(AaFailure::WrongChallenge);
    }
    Ok(())
}

fn verify_plain<C>(key: &ecdsa::VerifyingKey<C>, digest: &[u8], signature: &[u8]) -> bool
where
    C: ecdsa::EcdsaCurve + elliptic_curve::CurveArithmetic,
    ecdsa::VerifyingKey<C>: PrehashVerifier<ecdsa::Signature<C>>,
{
    ecdsa::Signature::<C>::from_slice(signature)
        .ok()
        .is_some_and(|sig| key.verify_prehash(digest, &sig).is_ok())
}

/// Plain `r || s` ECDSA (BSI TR-03111 §5.2.1) on a curve without a crate, with [`crate::weierstrass`].
fn verify_generic(curve: NamedCurve, point: &[u8], digest: &[u8], signature: &[u8]) -> bool {
    let Some(arith) = curve
        .weierstrass()
        .and_then(|p| weierstrass::Curve::cached(p).ok())
    else {
        return false;
    };
    // r and s are each as long as n, which is as long as p on these curves.
    if signature.len() != 2 * arith.field_len() {
        return false;
    }
    let (r, s) = signature.split_at(arith.field_len());
    arith.verify_prehash(point, digest, r, s).is_ok()
}

fn bad_spki(what: &'static str) -> crate::error::ParseError {
    crate::error::ParseError::new("DG15", 0, crate::error::ParseErrorKind::Invalid(what))
}

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";

#[cfg(test)]
mod tests;
