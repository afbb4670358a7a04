//! Signing keys and the signer the x509-cert builder wants.

use std::sync::OnceLock;

use der::asn1::{BitString, ObjectIdentifier, OctetString, Uint};
use der::{Any, Decode, Document, Encode, Sequence};
use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use p256::elliptic_curve::Generate;
use rsa::pkcs8::EncodePublicKey;
use rsa::signature::hazmat::PrehashSigner;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// Size of the RSA keys: 2048 bits, as a real CSCA or DS would use at least.
pub const RSA_BITS: usize = 2048;
/// How many RSA keys the process keeps (three per [`crate::PkiOptions::key_set`], two sets).
const RSA_POOL: usize = 6;

/// Which key and signature scheme a certificate authority or signer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA 2048, RSASSA-PKCS1-v1_5.
    Rsa,
    /// RSA 2048, RSASSA-PSS (MGF1 over the same hash, salt the hash's length).
    RsaPss,
    /// ECDSA on NIST P-256.
    P256,
    /// ECDSA on brainpoolP256r1.
    BrainpoolP256,
}

/// A hash algorithm, with its OID and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
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

/// A private key and the scheme it signs with.
#[derive(Clone)]
pub struct Key {
    /// The key.
    inner: Inner,
}

/// The private key material.
#[derive(Clone)]
enum Inner {
    /// RSA, PKCS#1 v1.5 or PSS.
    Rsa(rsa::PrivateKey, bool),
    /// P-256.
    P256(p256::ecdsa::SigningKey),
    /// brainpoolP256r1.
    Bp256(ecdsa::SigningKey<bp256::r1::BrainpoolP256r1>),
}

/// RSASSA-PSS-params (RFC 4055 §3.1), as encoded here.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    hash: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    mask_gen: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    salt_length: u32,
}

impl Hash {
    /// The OID (NIST and OIW arcs).
    pub fn oid(self) -> ObjectIdentifier {
        ObjectIdentifier::new_unwrap(match self {
            Hash::Sha1 => "1.3.14.3.2.26",
            Hash::Sha224 => "2.16.840.1.101.3.4.2.4",
            Hash::Sha256 => "2.16.840.1.101.3.4.2.1",
            Hash::Sha384 => "2.16.840.1.101.3.4.2.2",
            Hash::Sha512 => "2.16.840.1.101.3.4.2.3",
        })
    }

    /// The hash as an `AlgorithmIdentifier` without parameters.
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// Output length in bytes.
    fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha224 => 28,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

/// The process's RSA key number `slot` (generated on first use).
///
/// # Panics
/// If the operating system RNG fails.
fn rsa_key(slot: usize) -> rsa::PrivateKey {
    static POOL: [OnceLock<rsa::PrivateKey>; RSA_POOL] = [const { OnceLock::new() }; RSA_POOL];
    POOL[slot % RSA_POOL]
        .get_or_init(|| rsa::PrivateKey::new(&mut SysRng, RSA_BITS).expect("RSA key generation"))
        .clone()
}

impl Key {
    /// A key of `kind`: a fresh EC key, or the process's RSA key number `rsa_slot`.
    pub fn new(kind: KeyKind, rsa_slot: usize) -> Key {
        let mut rng = UnwrapErr(SysRng);
        let inner = match kind {
            KeyKind::Rsa => Inner::Rsa(rsa_key(rsa_slot), false),
            KeyKind::RsaPss => Inner::Rsa(rsa_key(rsa_slot), true),
            KeyKind::P256 => Inner::P256(p256::ecdsa::SigningKey::generate_from_rng(&mut rng)),
            KeyKind::BrainpoolP256 => Inner::Bp256(ecdsa::SigningKey::generate_from_rng(&mut rng)),
        };
        Key { inner }
    }

    /// The public key as a `SubjectPublicKeyInfo`.
    ///
    /// # Panics
    /// Never for the keys this crate makes.
    pub fn spki(&self) -> SubjectPublicKeyInfoOwned {
        let doc = match &self.inner {
            Inner::Rsa(k, _) => k.to_public_key().to_public_key_der(),
            Inner::P256(k) => k.verifying_key().to_public_key_der(),
            Inner::Bp256(k) => k.verifying_key().to_public_key_der(),
        }
        .expect("public key encodes");
        SubjectPublicKeyInfoOwned::from_der(doc.as_bytes()).expect("public key decodes")
    }

    /// The public key as a `SubjectPublicKeyInfo` whose EC domain parameters
    /// are explicit `ECParameters` (RFC 3279 §2.3.5, BSI TR-03111 §4.1.1)
    /// instead of a namedCurve OID, as many real DS and CSCA certificates
    /// carry them; an RSA key is as [`Key::spki`].
    ///
    /// # Panics
    /// Never for the keys this crate makes.
    pub fn spki_explicit(&self) -> SubjectPublicKeyInfoOwned {
        let mut spki = self.spki();
        let params = match &self.inner {
            Inner::Rsa(..) => return spki,
            Inner::P256(_) => explicit_p256(),
            Inner::Bp256(_) => explicit_brainpool_p256r1(),
        };
        spki.algorithm.parameters = Some(Any::from_der(&params).expect("ECParameters decode"));
        spki
    }

    /// The `AlgorithmIdentifier` of this key's signatures with `hash`.
    pub fn signature_algorithm(&self, hash: Hash) -> AlgorithmIdentifierOwned {
        let oid = |s| ObjectIdentifier::new_unwrap(s);
        match &self.inner {
            Inner::Rsa(_, false) => AlgorithmIdentifierOwned {
                oid: oid(match hash {
                    Hash::Sha1 => "1.2.840.113549.1.1.5",
                    Hash::Sha224 => "1.2.840.113549.1.1.14",
                    Hash::Sha256 => "1.2.840.113549.1.1.11",
                    Hash::Sha384 => "1.2.840.113549.1.1.12",
                    Hash::Sha512 => "1.2.840.113549.1.1.13",
                }),
                parameters: Some(Any::null()),
            },
            Inner::Rsa(_, true) => {
                let params = PssParams {
                    hash: hash.algorithm_identifier(),
                    mask_gen: AlgorithmIdentifierOwned {
                        oid: oid("1.2.840.113549.1.1.8"),
                        parameters: Some(
                            Any::encode_from(&hash.algorithm_identifier()).expect("encodes"),
                        ),
                    },
                    salt_length: u32::try_from(hash.len()).unwrap_or(32),
                };
                AlgorithmIdentifierOwned {
                    oid: oid("1.2.840.113549.1.1.10"),
                    parameters: Some(Any::encode_from(&params).expect("encodes")),
                }
            }
            Inner::P256(_) | Inner::Bp256(_) => AlgorithmIdentifierOwned {
                oid: oid(match hash {
                    Hash::Sha1 => "1.2.840.10045.4.1",
                    Hash::Sha224 => "1.2.840.10045.4.3.1",
                    Hash::Sha256 => "1.2.840.10045.4.3.2",
                    Hash::Sha384 => "1.2.840.10045.4.3.3",
                    Hash::Sha512 => "1.2.840.10045.4.3.4",
                }),
                parameters: None,
            },
        }
    }

    /// Signs `message` with `hash` (DER `Ecdsa-Sig-Value` for ECDSA).
    ///
    /// # Panics
    /// If the signing primitive fails (it does not for these keys).
    pub fn sign(&self, hash: Hash, message: &[u8]) -> Vec<u8> {
        let hashed = hash.digest(message);
        match &self.inner {
            Inner::Rsa(k, false) => {
                use rsa::Pkcs1v15Sign;
                let padding = match hash {
                    Hash::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
                    Hash::Sha224 => Pkcs1v15Sign::new::<sha2::Sha224>(),
                    Hash::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
                    Hash::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
                    Hash::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
                };
                k.sign(padding, &hashed).expect("RSA signs")
            }
            Inner::Rsa(k, true) => {
                use rsa::Pss;
                let salt = hash.len();
                let mut rng = SysRng;
                match hash {
                    Hash::Sha1 => {
                        k.sign_with_rng(&mut rng, Pss::<sha1::Sha1>::new_with_salt(salt), &hashed)
                    }
                    Hash::Sha224 => {
                        k.sign_with_rng(&mut rng, Pss::<sha2::Sha224>::new_with_salt(salt), &hashed)
                    }
                    Hash::Sha256 => {
                        k.sign_with_rng(&mut rng, Pss::<sha2::Sha256>::new_with_salt(salt), &hashed)
                    }
                    Hash::Sha384 => {
                        k.sign_with_rng(&mut rng, Pss::<sha2::Sha384>::new_with_salt(salt), &hashed)
                    }
                    Hash::Sha512 => {
                        k.sign_with_rng(&mut rng, Pss::<sha2::Sha512>::new_with_salt(salt), &hashed)
                    }
                }
                .expect("RSA-PSS signs")
            }
            Inner::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign_prehash(&hashed).expect("ECDSA signs");
                sig.to_der().as_bytes().to_vec()
            }
            Inner::Bp256(k) => {
                let sig: ecdsa::Signature<bp256::r1::BrainpoolP256r1> =
                    k.sign_prehash(&hashed).expect("ECDSA signs");
                sig.to_der().as_bytes().to_vec()
            }
        }
    }

    /// A signer for the x509-cert builder: this key with `hash`.
    pub fn signer(&self, hash: Hash) -> Signer<'_> {
        Signer { key: self, hash }
    }

    /// An EC key's kind and private scalar (big-endian); `None` for RSA
    /// (its keys are the process's cache, see [`crate::persist`]).
    pub(crate) fn ec_secret(&self) -> Option<(KeyKind, Vec<u8>)> {
        match &self.inner {
            Inner::Rsa(..) => None,
            Inner::P256(k) => Some((KeyKind::P256, k.to_bytes().to_vec())),
            Inner::Bp256(k) => Some((KeyKind::BrainpoolP256, k.to_bytes().to_vec())),
        }
    }

    /// An EC key of `kind` from its private scalar; `None` for RSA or a scalar that is no key.
    pub(crate) fn from_ec_secret(kind: KeyKind, secret: &[u8]) -> Option<Key> {
        let inner = match kind {
            KeyKind::Rsa | KeyKind::RsaPss => return None,
            KeyKind::P256 => Inner::P256(p256::ecdsa::SigningKey::from_slice(secret).ok()?),
            KeyKind::BrainpoolP256 => Inner::Bp256(ecdsa::SigningKey::from_slice(secret).ok()?),
        };
        Some(Key { inner })
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.inner {
            Inner::Rsa(_, false) => "RSA",
            Inner::Rsa(_, true) => "RSA-PSS",
            Inner::P256(_) => "P-256",
            Inner::Bp256(_) => "brainpoolP256r1",
        };
        f.debug_struct("Key")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

/// A [`Key`] with a hash, as the signer the x509-cert builder takes.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'k> {
    /// The key.
    key: &'k Key,
    /// The hash.
    hash: Hash,
}

/// A public key as the builder wants it (`EncodePublicKey`).
#[derive(Debug, Clone)]
pub struct PublicKey(SubjectPublicKeyInfoOwned);

/// A signature as the builder wants it (`SignatureBitStringEncoding`).
#[derive(Debug, Clone)]
pub struct RawSignature(Vec<u8>);

impl rsa::signature::Keypair for Signer<'_> {
    type VerifyingKey = PublicKey;

    fn verifying_key(&self) -> PublicKey {
        PublicKey(self.key.spki())
    }
}

impl spki::DynSignatureAlgorithmIdentifier for Signer<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(self.key.signature_algorithm(self.hash))
    }
}

impl rsa::signature::Signer<RawSignature> for Signer<'_> {
    fn try_sign(&self, msg: &[u8]) -> Result<RawSignature, rsa::signature::Error> {
        Ok(RawSignature(self.key.sign(self.hash, msg)))
    }
}

impl EncodePublicKey for PublicKey {
    fn to_public_key_der(&self) -> spki::Result<Document> {
        Ok(Document::encode_msg(&self.0)?)
    }
}

impl spki::SignatureBitStringEncoding for RawSignature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

/// DER-encodes a value that always encodes.
///
/// # Panics
/// If it does not.
pub(crate) fn der_of<T: Encode>(value: &T) -> Vec<u8> {
    value.to_der().expect("DER encodes")
}

/// `ECParameters` (RFC 3279 §2.3.5; SEC 1 §C.2), prime field, G uncompressed, cofactor 1.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EcParameters {
    version: u8,
    field_id: FieldId,
    curve: CurveCoefficients,
    base: OctetString,
    order: Uint,
    cofactor: u8,
}

/// `FieldID` for prime-field: `SEQUENCE { 1.2.840.10045.1.1, INTEGER p }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct FieldId {
    field_type: ObjectIdentifier,
    prime: Uint,
}

/// `Curve ::= SEQUENCE { a OCTET STRING, b OCTET STRING }` (no seed).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct CurveCoefficients {
    a: OctetString,
    b: OctetString,
}

/// DER `ECParameters` from p, a, b (hex, from the standard), G and n (from the curve crate).
fn explicit_params(p: &str, a: &str, b: &str, g: &[u8], n: &[u8]) -> Vec<u8> {
    let unhex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex constant"))
            .collect()
    };
    der_of(&EcParameters {
        version: 1,
        field_id: FieldId {
            field_type: ObjectIdentifier::new_unwrap("1.2.840.10045.1.1"),
            prime: Uint::new(&unhex(p)).expect("p"),
        },
        curve: CurveCoefficients {
            a: OctetString::new(unhex(a)).expect("a"),
            b: OctetString::new(unhex(b)).expect("b"),
        },
        base: OctetString::new(g).expect("G"),
        order: Uint::new(n).expect("n"),
        cofactor: 1,
    })
}

/// P-256 explicitly: p, a, b from SEC 2 §2.4.2.
fn explicit_p256() -> Vec<u8> {
    use p256::elliptic_curve::group::Group as _;
    use p256::elliptic_curve::sec1::ToSec1Point;
    let g = p256::ProjectivePoint::generator()
        .to_affine()
        .to_sec1_point(false);
    let n = <p256::NistP256 as p256::elliptic_curve::Curve>::ORDER.to_be_bytes();
    explicit_params(
        "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
        "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc",
        "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
        g.as_bytes(),
        &n,
    )
}

/// brainpoolP256r1 explicitly: p, a, b from RFC 5639 §3.4.
fn explicit_brainpool_p256r1() -> Vec<u8> {
    use bp256::elliptic_curve::group::Group as _;
    use bp256::elliptic_curve::sec1::ToSec1Point;
    let g = bp256::r1::ProjectivePoint::generator()
        .to_affine()
        .to_sec1_point(false);
    let n = <bp256::r1::BrainpoolP256r1 as bp256::elliptic_curve::Curve>::ORDER.to_be_bytes();
    explicit_params(
        "a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377",
        "7d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9",
        "26dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b6",
        g.as_bytes(),
        &n,
    )
}
