//! Hash and signature algorithms of Passive Authentication (9303-12 §4.4 and appendix; RFC 5652 §10).
//!
//! Verification only: a public key from a `SubjectPublicKeyInfo`, an
//! `AlgorithmIdentifier` naming the scheme, a message. Every unknown OID or
//! key type is [`Verification::Unsupported`], never a pass.

use der::Sequence;
use der::asn1::ObjectIdentifier;
use ecdsa::signature::hazmat::PrehashVerifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::ecparams::{self, EcParamsError, NamedCurve};

/// A hash algorithm 9303-12 §4.4 allows: SHA-1 (legacy), SHA-224, SHA-256, SHA-384, SHA-512.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-1 (1.3.14.3.2.26).
    Sha1,
    /// SHA-224 (2.16.840.1.101.3.4.2.4).
    Sha224,
    /// SHA-256 (2.16.840.1.101.3.4.2.1).
    Sha256,
    /// SHA-384 (2.16.840.1.101.3.4.2.2).
    Sha384,
    /// SHA-512 (2.16.840.1.101.3.4.2.3).
    Sha512,
}

/// What verifying one signature gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verification {
    /// The signature verifies.
    Valid,
    /// The signature does not verify (or the key or signature is malformed).
    Invalid(String),
    /// The algorithm, curve or key type is not supported here.
    Unsupported(String),
}

/// A signature scheme with its hash (RFC 5652 §10.1.2, RFC 4055, RFC 5758, BSI TR-03111).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1(HashAlgorithm),
    /// RSASSA-PSS with MGF1 over the same hash and this salt length.
    RsaPss(HashAlgorithm, usize),
    /// ECDSA, signature as DER `Ecdsa-Sig-Value`.
    Ecdsa(HashAlgorithm),
    /// ECDSA, signature as plain `r || s` (BSI TR-03111 §5.2.1, ecdsa-plain-signatures).
    EcdsaPlain(HashAlgorithm),
}

// OIDs (RFC 3279, RFC 4055, RFC 5480, RFC 5639, RFC 5758, BSI TR-03111).
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA1_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const SHA224_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.14");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
const ECDSA_SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
/// BSI TR-03111 ecdsa-plain-signatures: 0.4.0.127.0.7.1.1.4.1, then 1 SHA-1 .. 5 SHA-512.
const ECDSA_PLAIN: [u32; 10] = [0, 4, 0, 127, 0, 7, 1, 1, 4, 1];

/// RSASSA-PSS-params (RFC 4055 §3.1); absent fields take their defaults
/// (SHA-1, MGF1 with SHA-1, salt 20, trailer 1).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

impl HashAlgorithm {
    /// The hash an OID names, if 9303 allows it.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Some(match *oid {
            SHA1 => Self::Sha1,
            SHA224 => Self::Sha224,
            SHA256 => Self::Sha256,
            SHA384 => Self::Sha384,
            SHA512 => Self::Sha512,
            _ => return None,
        })
    }

    /// The hash's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => SHA1,
            Self::Sha224 => SHA224,
            Self::Sha256 => SHA256,
            Self::Sha384 => SHA384,
            Self::Sha512 => SHA512,
        }
    }

    /// The name, e.g. `"SHA-256"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha224 => "SHA-224",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

impl std::fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The hash an `AlgorithmIdentifier` names, or why it is not supported.
pub(crate) fn hash_of(alg: &AlgorithmIdentifierOwned) -> Result<HashAlgorithm, String> {
    HashAlgorithm::from_oid(&alg.oid)
        .ok_or_else(|| format!("hash algorithm {} not supported", alg.oid))
}

/// The signature scheme of `alg`; `digest` is the SignerInfo's digestAlgorithm,
/// used when `alg` names only the key type (rsaEncryption, id-ecPublicKey),
/// as RFC 5652 §5.3 and 9303-12 allow.
pub(crate) fn scheme_of(
    alg: &AlgorithmIdentifierOwned,
    digest: Option<HashAlgorithm>,
) -> Result<Scheme, String> {
    let need_digest = || digest.ok_or_else(|| format!("{} without a digest algorithm", alg.oid));
    Ok(match alg.oid {
        SHA1_WITH_RSA => Scheme::RsaPkcs1(HashAlgorithm::Sha1),
        SHA224_WITH_RSA => Scheme::RsaPkcs1(HashAlgorithm::Sha224),
        SHA256_WITH_RSA => Scheme::RsaPkcs1(HashAlgorithm::Sha256),
        SHA384_WITH_RSA => Scheme::RsaPkcs1(HashAlgorithm::Sha384),
        SHA512_WITH_RSA => Scheme::RsaPkcs1(HashAlgorithm::Sha512),
        RSA_ENCRYPTION => Scheme::RsaPkcs1(need_digest()?),
        RSASSA_PSS => pss_scheme(alg)?,
        ECDSA_SHA1 => Scheme::Ecdsa(HashAlgorithm::Sha1),
        ECDSA_SHA224 => Scheme::Ecdsa(HashAlgorithm::Sha224),
        ECDSA_SHA256 => Scheme::Ecdsa(HashAlgorithm::Sha256),
        ECDSA_SHA384 => Scheme::Ecdsa(HashAlgorithm::Sha384),
        ECDSA_SHA512 => Scheme::Ecdsa(HashAlgorithm::Sha512),
        EC_PUBLIC_KEY => Scheme::Ecdsa(need_digest()?),
        oid => {
            let arcs: Vec<u32> = oid.arcs().collect();
            let plain_hash = match arcs.strip_prefix(ECDSA_PLAIN.as_slice()) {
                Some([1]) => HashAlgorithm::Sha1,
                Some([2]) => HashAlgorithm::Sha224,
                Some([3]) => HashAlgorithm::Sha256,
                Some([4]) => HashAlgorithm::Sha384,
                Some([5]) => HashAlgorithm::Sha512,
                _ => return Err(format!("signature algorithm {oid} not supported")),
            };
            Scheme::EcdsaPlain(plain_hash)
        }
    })
}

/// The PSS scheme from RSASSA-PSS-params (RFC 4055 §3.1).
fn pss_scheme(alg: &AlgorithmIdentifierOwned) -> Result<Scheme, String> {
    let params = match &alg.parameters {
        None => PssParams {
            hash: None,
            mask_gen: None,
            salt_length: None,
            trailer_field: None,
        },
        Some(any) => any
            .decode_as::<PssParams>()
            .map_err(|e| format!("malformed RSASSA-PSS-params: {e}"))?,
    };
    let hash = match &params.hash {
        None => HashAlgorithm::Sha1,
        Some(h) => hash_of(h)?,
    };
    let mgf_hash = match &params.mask_gen {
        None => HashAlgorithm::Sha1,
        Some(mgf) if mgf.oid == MGF1 => {
            let inner = mgf
                .parameters
                .as_ref()
                .ok_or("MGF1 without a hash algorithm")?
                .decode_as::<AlgorithmIdentifierOwned>()
                .map_err(|e| format!("malformed MGF1 parameters: {e}"))?;
            hash_of(&inner)?
        }
        Some(mgf) => {
            return Err(format!(
                "mask generation function {} not supported",
                mgf.oid
            ));
        }
    };
    if mgf_hash != hash {
        return Err(format!(
            "RSASSA-PSS with {hash} and MGF1 over {mgf_hash} not supported"
        ));
    }
    if params.trailer_field.unwrap_or(1) != 1 {
        return Err("RSASSA-PSS trailer field other than 1".into());
    }
    let salt = usize::try_from(params.salt_length.unwrap_or(20))
        .map_err(|_| "RSASSA-PSS salt length too large".to_string())?;
    Ok(Scheme::RsaPss(hash, salt))
}

impl Scheme {
    /// The hash the scheme signs with.
    pub(crate) fn hash(self) -> HashAlgorithm {
        match self {
            Scheme::RsaPkcs1(h)
            | Scheme::RsaPss(h, _)
            | Scheme::Ecdsa(h)
            | Scheme::EcdsaPlain(h) => h,
        }
    }
}

/// Verifies `signature` over `message` with the key in `spki` under `alg`
/// (`digest` as for [`scheme_of`]).
pub(crate) fn verify(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest: Option<HashAlgorithm>,
    message: &[u8],
    signature: &[u8],
) -> Verification {
    let scheme = match scheme_of(alg, digest) {
        Ok(s) => s,
        Err(why) => return Verification::Unsupported(why),
    };
    let hashed = scheme.hash().digest(message);
    match scheme {
        Scheme::RsaPkcs1(_) | Scheme::RsaPss(..) => verify_rsa(spki, scheme, &hashed, signature),
        Scheme::Ecdsa(_) | Scheme::EcdsaPlain(_) => {
            let plain = matches!(scheme, Scheme::EcdsaPlain(_));
            verify_ecdsa(spki, &hashed, signature, plain)
        }
    }
}

/// RSA verification over a precomputed hash (RFC 8017 §8.1.2 and §8.2.2).
fn verify_rsa(
    spki: &SubjectPublicKeyInfoOwned,
    scheme: Scheme,
    hashed: &[u8],
    signature: &[u8],
) -> Verification {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::{Pkcs1v15Sign, PublicKey, pss::Pss};
    if spki.algorithm.oid != RSA_ENCRYPTION && spki.algorithm.oid != RSASSA_PSS {
        return Verification::Invalid(format!(
            "an RSA signature but a key of type {}",
            spki.algorithm.oid
        ));
    }
    let Some(key_bytes) = spki.subject_public_key.as_bytes() else {
        return Verification::Invalid("RSA public key BIT STRING has unused bits".into());
    };
    let key = match PublicKey::from_pkcs1_der(key_bytes) {
        Ok(k) => k,
        Err(e) => return Verification::Invalid(format!("malformed RSA public key: {e}")),
    };
    let result = match scheme {
        Scheme::RsaPkcs1(h) => {
            let padding = match h {
                HashAlgorithm::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
                HashAlgorithm::Sha224 => Pkcs1v15Sign::new::<sha2::Sha224>(),
                HashAlgorithm::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
                HashAlgorithm::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
                HashAlgorithm::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
            };
            key.verify(padding, hashed, signature)
        }
        Scheme::RsaPss(h, salt) => match h {
            HashAlgorithm::Sha1 => {
                key.verify(Pss::<sha1::Sha1>::new_with_salt(salt), hashed, signature)
            }
            HashAlgorithm::Sha224 => {
                key.verify(Pss::<sha2::Sha224>::new_with_salt(salt), hashed, signature)
            }
            HashAlgorithm::Sha256 => {
                key.verify(Pss::<sha2::Sha256>::new_with_salt(salt), hashed, signature)
            }
            HashAlgorithm::Sha384 => {
                key.verify(Pss::<sha2::Sha384>::new_with_salt(salt), hashed, signature)
            }
            HashAlgorithm::Sha512 => {
                key.verify(Pss::<sha2::Sha512>::new_with_salt(salt), hashed, signature)
            }
        },
        Scheme::Ecdsa(_) | Scheme::EcdsaPlain(_) => {
            return Verification::Invalid("not an RSA scheme".into());
        }
    };
    match result {
        Ok(()) => Verification::Valid,
        Err(e) => Verification::Invalid(format!("RSA signature does not verify: {e}")),
    }
}

/// The curve of an id-ecPublicKey key: a namedCurve OID (RFC 5480 §2.1.1.1)
/// or explicit domain parameters equal to a known curve (RFC 3279 §2.3.5,
/// BSI TR-03111 §4.1.1), as many DS and CSCA certificates carry.
fn curve_of(spki: &SubjectPublicKeyInfoOwned) -> Result<NamedCurve, Verification> {
    if spki.algorithm.oid != EC_PUBLIC_KEY {
        return Err(Verification::Invalid(format!(
            "an ECDSA signature but a key of type {}",
            spki.algorithm.oid
        )));
    }
    let Some(params) = &spki.algorithm.parameters else {
        return Err(Verification::Invalid(
            "EC key without domain parameters".into(),
        ));
    };
    match ecparams::named_curve(params.into()) {
        Ok(Some(curve)) => Ok(curve),
        Ok(None) => Err(Verification::Unsupported(
            match params.decode_as::<ObjectIdentifier>() {
                Ok(other) => format!("curve {other} not supported"),
                Err(_) => "EC key with explicit domain parameters of an unknown curve".into(),
            },
        )),
        Err(e @ EcParamsError::Unsupported(_)) => Err(Verification::Unsupported(e.to_string())),
        Err(e) => Err(Verification::Invalid(e.to_string())),
    }
}

/// ECDSA verification of a DER or plain signature over a precomputed hash.
fn verify_ecdsa(
    spki: &SubjectPublicKeyInfoOwned,
    hashed: &[u8],
    signature: &[u8],
    plain: bool,
) -> Verification {
    let curve = match curve_of(spki) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let Some(point) = spki.subject_public_key.as_bytes() else {
        return Verification::Invalid("EC public key BIT STRING has unused bits".into());
    };
    /// Verifies on one curve type.
    macro_rules! on_curve {
        ($c:ty) => {{
            match ecdsa::VerifyingKey::<$c>::from_sec1_bytes(point) {
                Err(_) => Err("malformed EC public key point".to_string()),
                Ok(key) => {
                    let sig = if plain {
                        ecdsa::Signature::<$c>::from_slice(signature)
                    } else {
                        ecdsa::der::Signature::<$c>::from_bytes(signature)
                            .and_then(ecdsa::Signature::<$c>::try_from)
                    };
                    match sig {
                        Err(_) => Err("malformed ECDSA signature".to_string()),
                        Ok(sig) => key
                            .verify_prehash(hashed, &sig)
                            .map_err(|_| "ECDSA signature does not verify".to_string()),
                    }
                }
            }
        }};
    }
    if let Some(params) = curve.weierstrass() {
        return verify_ecdsa_generic(params, point, hashed, signature, plain);
    }
    let result = match curve {
        NamedCurve::P256 => on_curve!(p256::NistP256),
        NamedCurve::P384 => on_curve!(p384::NistP384),
        NamedCurve::P521 => on_curve!(p521::NistP521),
        NamedCurve::BrainpoolP256r1 => on_curve!(bp256::r1::BrainpoolP256r1),
        NamedCurve::BrainpoolP384r1 => on_curve!(bp384::r1::BrainpoolP384r1),
        other => Err(format!("no ECDSA verifier for {other}")),
    };
    match result {
        Ok(()) => Verification::Valid,
        Err(why) => Verification::Invalid(why),
    }
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EcdsaSigValue {
    /// r.
    r: der::asn1::Uint,
    /// s.
    s: der::asn1::Uint,
}

/// ECDSA verification on a curve without a crate ([`crate::weierstrass`]; SEC 1 §4.1.4).
fn verify_ecdsa_generic(
    params: &'static crate::weierstrass::CurveParams,
    point: &[u8],
    hashed: &[u8],
    signature: &[u8],
    plain: bool,
) -> Verification {
    use der::Decode;
    let curve = match crate::weierstrass::Curve::cached(params) {
        Ok(c) => c,
        Err(e) => return Verification::Unsupported(format!("{}: {e}", params.name)),
    };
    let (r, s) = if plain {
        // BSI TR-03111 §5.2.1: r || s, each as long as n.
        if signature.len() != 2 * curve.field_len() {
            return Verification::Invalid("malformed ECDSA signature".into());
        }
        let (r, s) = signature.split_at(curve.field_len());
        (r.to_vec(), s.to_vec())
    } else {
        match EcdsaSigValue::from_der(signature) {
            Ok(v) => (v.r.as_bytes().to_vec(), v.s.as_bytes().to_vec()),
            Err(_) => return Verification::Invalid("malformed ECDSA signature".into()),
        }
    };
    match curve.verify_prehash(point, hashed, &r, &s) {
        Ok(()) => Verification::Valid,
        Err(why) => Verification::Invalid(why.into()),
    }
}
