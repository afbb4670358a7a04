//! Explicit domain parameters built here from each curve's published constants and the curve crates.

use der::asn1::{Any, BitString, Null, ObjectIdentifier, OctetString, Uint};
use der::{Decode, Encode};
use elliptic_curve::Curve as _;
use elliptic_curve::group::Curve as _;
use elliptic_curve::group::Group as _;
use elliptic_curve::sec1::ToSec1Point;
use proptest::prelude::*;

use super::*;
use crate::vectors;

/// Bytes of a hex string written in a test.
fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex in a test")
}

/// `ECParameters` DER from p, a, b, G (SEC 1 encoding), n and an optional cofactor.
fn explicit(p: &[u8], a: &[u8], b: &[u8], g: &[u8], n: &[u8], h: Option<u8>) -> Vec<u8> {
    let params = EcParametersDer {
        version: Uint::new(&[1]).expect("version"),
        field_id: FieldIdDer {
            field_type: PRIME_FIELD,
            parameters: Any::encode_from(&Uint::new(p).expect("p")).expect("p"),
        },
        curve: CurveDer {
            a: OctetString::new(a).expect("a"),
            b: OctetString::new(b).expect("b"),
            seed: None,
        },
        base: OctetString::new(g).expect("G"),
        order: Uint::new(n).expect("n"),
        cofactor: h.map(|h| Uint::new(&[h]).expect("h")),
    };
    params.to_der().expect("ECParameters encodes")
}

/// P-256 as its certificates write it: p, a, b from SEC 2 §2.4.2, G and n from the p256 crate.
fn p256_parts() -> [Vec<u8>; 5] {
    let g = p256::ProjectivePoint::generator()
        .to_affine()
        .to_sec1_point(false);
    [
        h("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"),
        h("ffffffff00000001000000000000000000000000fffffffffffffffffffffffc"),
        h("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b"),
        g.as_bytes().to_vec(),
        p256::NistP256::ORDER.to_be_bytes().to_vec(),
    ]
}

/// brainpoolP256r1 from the shared vectors (RFC 5639 §3.4), G uncompressed.
fn bp256_parts() -> [Vec<u8>; 5] {
    let d = "/domain_parameters/brainpoolP256r1";
    let mut g = vec![0x04];
    g.extend(vectors::hex(&format!("{d}/gx")));
    g.extend(vectors::hex(&format!("{d}/gy")));
    assert_eq!(vectors::hex(&format!("{d}/h")), [1]);
    [
        vectors::hex(&format!("{d}/p")),
        vectors::hex(&format!("{d}/a")),
        vectors::hex(&format!("{d}/b")),
        g,
        vectors::hex(&format!("{d}/n")),
    ]
}

/// The explicit encoding of `parts` with cofactor 1.
fn encode(parts: &[Vec<u8>; 5]) -> Vec<u8> {
    let [p, a, b, g, n] = parts;
    explicit(p, a, b, g, n, Some(1))
}

#[test]
fn explicit_p256_is_p256() {
    assert_eq!(
        named_curve_der(&encode(&p256_parts())),
        Ok(Some(NamedCurve::P256))
    );
    // Cofactor left out, as RFC 3279 allows.
    let [p, a, b, g, n] = p256_parts();
    assert_eq!(
        named_curve_der(&explicit(&p, &a, &b, &g, &n, None)),
        Ok(Some(NamedCurve::P256))
    );
}

#[test]
fn explicit_brainpool_p256r1_from_the_vectors_is_brainpool() {
    assert_eq!(
        named_curve_der(&encode(&bp256_parts())),
        Ok(Some(NamedCurve::BrainpoolP256r1))
    );
}

#[test]
fn compressed_base_point_is_accepted() {
    let [p, a, b, g, n] = bp256_parts();
    let y_odd = g.last().is_some_and(|b| b & 1 == 1);
    let mut compressed = vec![if y_odd { 0x03 } else { 0x02 }];
    compressed.extend_from_slice(&g[1..33]);
    assert_eq!(
        named_curve_der(&explicit(&p, &a, &b, &compressed, &n, Some(1))),
        Ok(Some(NamedCurve::BrainpoolP256r1))
    );
    // The other parity is the other point, -G.
    compressed[0] ^= 1;
    assert_eq!(
        named_curve_der(&explicit(&p, &a, &b, &compressed, &n, Some(1))),
        Ok(None)
    );
}

#[test]
fn field_elements_without_leading_zeros_are_accepted() {
    // P-521's b starts with 00: some encoders write it without.
    let d = NamedCurve::P521.domain();
    let mut g = vec![0x04];
    g.extend_from_slice(d.gx);
    g.extend_from_slice(d.gy);
    assert_eq!(
        named_curve_der(&explicit(d.p, d.a, &d.b[1..], &g, d.n, Some(1))),
        Ok(Some(NamedCurve::P521))
    );
}

#[test]
fn every_curve_constant_agrees_with_its_crate() {
    /// G and n from the crate.
    fn from_crate<C>() -> (Vec<u8>, Vec<u8>)
    where
        C: elliptic_curve::CurveArithmetic,
        C::AffinePoint: ToSec1Point<C>,
        elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
    {
        let g = C::ProjectivePoint::generator().to_affine();
        let n = elliptic_curve::bigint::ArrayEncoding::to_be_byte_array(C::ORDER.as_ref());
        (g.to_sec1_point(false).as_bytes().to_vec(), n.to_vec())
    }
    for curve in NamedCurve::ALL {
        let (g, n) = match curve {
            NamedCurve::P256 => from_crate::<p256::NistP256>(),
            NamedCurve::P384 => from_crate::<p384::NistP384>(),
            NamedCurve::P521 => from_crate::<p521::NistP521>(),
            NamedCurve::BrainpoolP256r1 => from_crate::<bp256::r1::BrainpoolP256r1>(),
            NamedCurve::BrainpoolP384r1 => from_crate::<bp384::r1::BrainpoolP384r1>(),
            // No crate: G from crate::weierstrass, whose tests check G on the curve and n·G = ∞.
            other => {
                let params = other.weierstrass().unwrap();
                let arith = crate::weierstrass::Curve::new(params).unwrap();
                (arith.generator(), hex::decode(params.n).unwrap())
            }
        };
        let d = curve.domain();
        assert!(d.is_generator(&g), "{curve}: G differs from the crate's");
        assert!(same_int(&n, d.n), "{curve}: n differs from the crate's");
        for field in [d.p, d.a, d.b, d.gx, d.gy] {
            assert_eq!(field.len(), curve.field_len(), "{curve}");
        }
        // And the whole explicit encoding round-trips to the curve.
        let mut g_bytes = vec![0x04];
        g_bytes.extend_from_slice(d.gx);
        g_bytes.extend_from_slice(d.gy);
        assert_eq!(
            named_curve_der(&explicit(d.p, d.a, d.b, &g_bytes, d.n, Some(1))),
            Ok(Some(curve))
        );
        assert_eq!(NamedCurve::from_oid(&curve.oid()), Some(curve));
    }
    assert_eq!(BRAINPOOL_P256R1.p, bp256_parts()[0].as_slice());
}

#[test]
fn tampered_b_or_g_or_n_or_cofactor_is_unknown() {
    let parts = p256_parts();
    for (i, what) in [(0, "p"), (1, "a"), (2, "b"), (3, "G"), (4, "n")] {
        let mut tampered = parts.clone();
        if let Some(last) = tampered[i].last_mut() {
            *last ^= 0x01;
        }
        assert_eq!(named_curve_der(&encode(&tampered)), Ok(None), "{what}");
    }
    let [p, a, b, g, n] = parts;
    assert_eq!(
        named_curve_der(&explicit(&p, &a, &b, &g, &n, Some(2))),
        Ok(None),
        "cofactor 2"
    );
    // brainpoolP256r1's b with P-256's other parameters.
    let bp_b = &bp256_parts()[2];
    assert_eq!(
        named_curve_der(&explicit(&p, &a, bp_b, &g, &n, Some(1))),
        Ok(None)
    );
    // A base point in hybrid form (06/07) is not taken.
    let mut hybrid = g.clone();
    hybrid[0] = 0x06;
    assert_eq!(
        named_curve_der(&explicit(&p, &a, &b, &hybrid, &n, Some(1))),
        Ok(None)
    );
}

#[test]
fn named_curve_oids() {
    let der = |oid: &str| {
        ObjectIdentifier::new_unwrap(oid)
            .to_der()
            .expect("OID encodes")
    };
    assert_eq!(
        named_curve_der(&der("1.2.840.10045.3.1.7")),
        Ok(Some(NamedCurve::P256))
    );
    assert_eq!(
        named_curve_der(&der("1.3.36.3.3.2.8.1.1.11")),
        Ok(Some(NamedCurve::BrainpoolP384r1))
    );
    // brainpoolP512r1: computed with crate::weierstrass.
    assert_eq!(
        named_curve_der(&der("1.3.36.3.3.2.8.1.1.13")),
        Ok(Some(NamedCurve::BrainpoolP512r1))
    );
    // secp256k1: a real curve, not one of ours.
    assert_eq!(named_curve_der(&der("1.3.132.0.10")), Ok(None));
}

#[test]
fn implicitly_ca_version_and_binary_fields() {
    let null = Null.to_der().expect("NULL");
    assert!(matches!(
        named_curve_der(&null),
        Err(EcParamsError::Unsupported(_))
    ));
    let mut v2 = encode(&p256_parts());
    // SEQUENCE header is 2 or 3 bytes, then 02 01 01: the version.
    let at = v2
        .windows(3)
        .position(|w| w == [0x02, 0x01, 0x01])
        .expect("version");
    v2[at + 2] = 2;
    assert!(matches!(
        named_curve_der(&v2),
        Err(EcParamsError::Unsupported(_))
    ));
    let binary = EcParametersDer {
        version: Uint::new(&[1]).expect("version"),
        field_id: FieldIdDer {
            field_type: CHARACTERISTIC_TWO_FIELD,
            parameters: Any::encode_from(&Null).expect("NULL"),
        },
        curve: CurveDer {
            a: OctetString::new([1u8]).expect("a"),
            b: OctetString::new([1u8]).expect("b"),
            seed: Some(BitString::from_bytes(&[0xAA]).expect("seed")),
        },
        base: OctetString::new([4u8, 1, 1]).expect("G"),
        order: Uint::new(&[7]).expect("n"),
        cofactor: None,
    };
    assert_eq!(
        named_curve_der(&binary.to_der().expect("encodes")),
        Ok(None)
    );
}

#[test]
fn garbage_is_an_error() {
    for bytes in [
        &[][..],
        &[0x30],
        &[0x30, 0x03, 0x02, 0x01],
        &[0x04, 0x02, 0x01, 0x02],
        &[0x30, 0x00],
        &[0x06, 0x00],
        &[0x05, 0x01, 0x00],
    ] {
        assert!(
            matches!(named_curve_der(bytes), Err(EcParamsError::Malformed(_))),
            "{bytes:02x?}"
        );
    }
    let mut truncated = encode(&p256_parts());
    truncated.pop();
    assert!(named_curve_der(&truncated).is_err());
    let mut trailing = encode(&p256_parts());
    trailing.push(0);
    assert!(named_curve_der(&trailing).is_err());
}

/// A P-256 public key with explicit parameters, and the same key as a named curve.
fn p256_spkis() -> (SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoOwned) {
    let point = p256::ProjectivePoint::generator().double().to_affine();
    let named = SubjectPublicKeyInfoOwned {
        algorithm: spki::AlgorithmIdentifierOwned {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&NamedCurve::P256.oid()).expect("OID")),
        },
        subject_public_key: BitString::from_bytes(point.to_sec1_point(false).as_bytes())
            .expect("point"),
    };
    let mut explicit_spki = named.clone();
    explicit_spki.algorithm.parameters =
        Some(Any::from_der(&encode(&p256_parts())).expect("ECParameters"));
    (explicit_spki, named)
}

#[test]
fn spki_with_explicit_parameters_becomes_named() {
    let (explicit_spki, named) = p256_spkis();
    assert_eq!(curve_of_spki(&explicit_spki), Ok(NamedCurve::P256));
    let converted = with_named_curve(&explicit_spki).expect("known curve");
    assert!(matches!(converted, Cow::Owned(_)));
    assert_eq!(*converted, named);
    // Already named: borrowed back unchanged.
    assert!(matches!(with_named_curve(&named), Ok(Cow::Borrowed(_))));
    let der = explicit_spki.to_der().expect("SPKI encodes");
    assert_eq!(
        spki_der_with_named_curve(&der),
        Ok(named.to_der().expect("SPKI encodes"))
    );
    // Unknown curve: an error, not a silent pass-through.
    let mut unknown = explicit_spki.clone();
    let mut parts = p256_parts();
    parts[2][0] ^= 0x80;
    unknown.algorithm.parameters = Some(Any::from_der(&encode(&parts)).expect("ECParameters"));
    assert_eq!(
        with_named_curve(&unknown).map(|_| ()),
        Err(EcParamsError::UnknownCurve)
    );
    assert!(spki_der_with_named_curve(b"not a key").is_err());
}

#[test]
fn rsa_spki_passes_through() {
    let (mut spki, _) = p256_spkis();
    spki.algorithm.oid = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    spki.algorithm.parameters = Some(Any::null());
    assert!(matches!(with_named_curve(&spki), Ok(Cow::Borrowed(_))));
    assert!(matches!(
        curve_of_spki(&spki),
        Err(EcParamsError::Malformed(_))
    ));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = named_curve_der(&bytes);
        let _ = spki_der_with_named_curve(&bytes);
    }

    #[test]
    fn mutated_explicit_parameters_never_panic_nor_name_another_curve(
        at in 0usize..300,
        xor in 1u8..=255,
    ) {
        let mut bytes = encode(&bp256_parts());
        let at = at % bytes.len();
        bytes[at] ^= xor;
        if let Ok(Some(curve)) = named_curve_der(&bytes) {
            prop_assert_eq!(curve, NamedCurve::BrainpoolP256r1);
        }
    }
}
