use super::*;
use ecdsa::signature::hazmat::PrehashSigner;
use elliptic_curve::group::{Curve as _, Group as _};
use elliptic_curve::sec1::ToSec1Point;
use proptest::prelude::*;
use sha2::Digest;

/// P-256 (SEC 2 §2.4.2), for cross-checks against the p256 crate only.
const P256_REF: CurveParams = CurveParams {
    name: "P-256",
    p: "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
    a: "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc",
    b: "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
    gx: "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    gy: "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    n: "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    h: 1,
};

/// brainpoolP256r1 (RFC 5639 §3.4), for cross-checks against the bp256 crate only.
const BP256_REF: CurveParams = CurveParams {
    name: "brainpoolP256r1",
    p: "a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377",
    a: "7d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9",
    b: "26dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b6",
    gx: "8bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262",
    gy: "547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997",
    n: "a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7",
    h: 1,
};

const ADDED: [&CurveParams; 6] = [
    &P192,
    &P224,
    &BRAINPOOL_P192R1,
    &BRAINPOOL_P224R1,
    &BRAINPOOL_P320R1,
    &BRAINPOOL_P512R1,
];

fn random(len: usize) -> Vec<u8> {
    let mut k = vec![0u8; len];
    getrandom::fill(&mut k).unwrap();
    k
}

/// A random scalar in [1, n-1].
fn random_scalar(curve: &Curve) -> Vec<u8> {
    loop {
        let k = random(curve.field_len());
        if curve.scalar_ok(&k) {
            return k;
        }
    }
}

#[test]
fn every_curve_constant_set_has_g_on_the_curve_and_order_n() {
    for params in ADDED.into_iter().chain([&P256_REF, &BP256_REF]) {
        let curve = Curve::new(params).unwrap_or_else(|e| panic!("{}: {e}", params.name));
        assert!(
            curve.check_point(&curve.generator()).is_ok(),
            "{}",
            params.name
        );
        assert!(
            curve.generator_times_is_identity(params.n),
            "{}: n·G",
            params.name
        );
        assert!(!curve.generator_times_is_identity("01"), "{}", params.name);
        // (n-1)·G = -G: same x, y = p - gy.
        let n = hex_bytes(params.n).unwrap();
        let mut n_minus_1 = n.clone();
        *n_minus_1.last_mut().unwrap() -= 1;
        let minus_g = curve.mul_generator(&n_minus_1).unwrap();
        let g = curve.generator();
        let len = curve.field_len();
        assert_eq!(minus_g[1..1 + len], g[1..1 + len], "{}", params.name);
        assert_ne!(minus_g[1 + len..], g[1 + len..], "{}", params.name);
        // G + (-G) is the identity: no encoding.
        assert!(curve.add_points(&g, &minus_g).is_err());
    }
}

#[test]
fn constants_refused_when_inconsistent() {
    static BAD_G: CurveParams = CurveParams {
        gy: "07192b95ffc8da78631011ed6b24cdd573f977a11e794812",
        ..P192
    };
    static BAD_H: CurveParams = CurveParams { h: 4, ..P192 };
    assert!(Curve::new(&BAD_G).is_err());
    assert!(Curve::new(&BAD_H).is_err());
}

/// Our ladder against the crate's arithmetic: k·G and k·P on `C` agree byte for byte.
fn cross_check<C>(params: &'static CurveParams)
where
    C: elliptic_curve::CurveArithmetic,
    elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
    elliptic_curve::AffinePoint<C>: ToSec1Point<C>,
{
    let curve = Curve::new(params).unwrap();
    let reference = |point: C::ProjectivePoint| -> Vec<u8> {
        point.to_affine().to_sec1_point(false).as_bytes().to_vec()
    };
    let scalar = |bytes: &[u8]| -> C::Scalar {
        let mut repr = elliptic_curve::FieldBytes::<C>::default();
        repr.copy_from_slice(bytes);
        Option::from(<C::Scalar as elliptic_curve::PrimeField>::from_repr(repr)).unwrap()
    };
    assert_eq!(
        curve.generator(),
        reference(C::ProjectivePoint::generator())
    );
    let mut n_minus_1 = hex_bytes(params.n).unwrap();
    *n_minus_1.last_mut().unwrap() -= 1;
    let mut small = vec![0u8; curve.field_len()];
    *small.last_mut().unwrap() = 2;
    let mut scalars = vec![n_minus_1, small];
    scalars.extend((0..8).map(|_| random_scalar(&curve)));
    let base = random_scalar(&curve);
    let point = reference(C::ProjectivePoint::generator() * scalar(&base));
    for k in scalars {
        let expected = reference(C::ProjectivePoint::generator() * scalar(&k));
        assert_eq!(curve.mul_generator(&k).unwrap(), expected);
        let expected = reference(C::ProjectivePoint::generator() * (scalar(&base) * scalar(&k)));
        assert_eq!(curve.mul(&point, &k).unwrap(), expected);
    }
}

#[test]
fn scalar_multiplication_matches_p256_crate() {
    cross_check::<p256::NistP256>(&P256_REF);
}

#[test]
fn scalar_multiplication_matches_bp256_crate() {
    cross_check::<bp256::BrainpoolP256r1>(&BP256_REF);
}

#[test]
fn addition_and_doubling_match_scalar_multiplication() {
    for params in ADDED {
        let curve = Curve::new(params).unwrap();
        let g = curve.generator();
        let two_g = curve.add_points(&g, &g).unwrap();
        let mut two = vec![0u8; curve.field_len()];
        *two.last_mut().unwrap() = 2;
        assert_eq!(two_g, curve.mul_generator(&two).unwrap(), "{}", params.name);
        let mut three = two.clone();
        *three.last_mut().unwrap() = 3;
        assert_eq!(
            curve.add_points(&two_g, &g).unwrap(),
            curve.mul_generator(&three).unwrap()
        );
    }
}

#[test]
fn ecdh_agrees_on_every_added_curve() {
    for params in ADDED {
        let curve = Curve::new(params).unwrap();
        let a = random_scalar(&curve);
        let b = random_scalar(&curve);
        let pa = curve.mul_generator(&a).unwrap();
        let pb = curve.mul_generator(&b).unwrap();
        let k1 = curve.ecdh(&a, &pb).unwrap();
        let k2 = curve.ecdh(&b, &pa).unwrap();
        assert_eq!(*k1, *k2, "{}", params.name);
        assert_eq!(k1.len(), curve.field_len());
    }
}

#[test]
fn p256_crate_signature_verifies_through_the_generic_verifier() {
    let curve = Curve::new(&P256_REF).unwrap();
    let key = p256::ecdsa::SigningKey::from_slice(&random_scalar(&curve)).unwrap();
    let public = key
        .verifying_key()
        .as_affine()
        .to_sec1_point(false)
        .as_bytes()
        .to_vec();
    for hash in [
        sha2::Sha256::digest(b"EF.SOD").to_vec(),
        // Longer than n: truncated to n's 256 bits (SEC 1 §4.1.3 step 5).
        sha2::Sha512::digest(b"EF.SOD").to_vec(),
        // Shorter than n.
        sha1::Sha1::digest(b"EF.SOD").to_vec(),
    ] {
        let sig: p256::ecdsa::Signature = key.sign_prehash(&hash).unwrap();
        let bytes = sig.to_bytes();
        let (r, s) = bytes.split_at(32);
        assert_eq!(curve.verify_prehash(&public, &hash, r, s), Ok(()));
        let mut flipped = hash.clone();
        flipped[0] ^= 0x01;
        assert!(curve.verify_prehash(&public, &flipped, r, s).is_err());
        let mut bad_s = s.to_vec();
        bad_s[31] ^= 0x80;
        assert!(curve.verify_prehash(&public, &hash, r, &bad_s).is_err());
        assert!(curve.verify_prehash(&public, &hash, s, r).is_err());
        assert!(curve.verify_prehash(&public, &hash, &[0], s).is_err());
    }
}

#[test]
fn off_curve_and_malformed_points_are_refused() {
    let curve = Curve::new(&BRAINPOOL_P512R1).unwrap();
    let g = curve.generator();
    let len = curve.field_len();
    let mut off = g.clone();
    off[2 * len] ^= 1;
    let mut compressed = vec![0x02 | (g[2 * len] & 1)];
    compressed.extend_from_slice(&g[1..1 + len]);
    let mut hybrid = g.clone();
    hybrid[0] = 0x06;
    let zeros = vec![0x04; 1]
        .into_iter()
        .chain(vec![0u8; 2 * len])
        .collect::<Vec<_>>();
    let mut x_too_big = g.clone();
    x_too_big[1..1 + len].fill(0xff);
    for bad in [
        &off[..],
        &compressed,
        &hybrid,
        &zeros,
        &x_too_big,
        &g[..g.len() - 1],
        &[g.as_slice(), &[0]].concat(),
        &[],
        &[0x00],
    ] {
        assert!(curve.check_point(bad).is_err());
        assert!(curve.mul(bad, &random_scalar(&curve)).is_err());
        assert!(curve.ecdh(&random_scalar(&curve), bad).is_err());
    }
    let n = hex_bytes(BRAINPOOL_P512R1.n).unwrap();
    for bad in [&[][..], &[0u8; 64], &n, &[0xff; 65]] {
        assert!(!curve.scalar_ok(bad));
        assert!(curve.mul(&g, bad).is_err());
    }
    // Leading zeros are fine.
    assert!(curve.scalar_ok(&[
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 1
    ]));
}

#[test]
fn inverse_times_undoes_multiplication() {
    let curve = Curve::new(&BRAINPOOL_P512R1).unwrap();
    let a = random_scalar(&curve);
    let b = random_scalar(&curve);
    let c = curve.inverse_times(&a, &b).unwrap();
    // a · (a⁻¹ · b) · G = b · G.
    let c_g = curve.mul_generator(&c).unwrap();
    assert_eq!(
        curve.mul(&c_g, &a).unwrap(),
        curve.mul_generator(&b).unwrap()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), prefix in 0u8..8) {
        let curve = Curve::new(&BRAINPOOL_P512R1).unwrap();
        let mut point = bytes.clone();
        if let Some(first) = point.first_mut() {
            *first = prefix;
        }
        let _ = curve.check_point(&bytes);
        let _ = curve.check_point(&point);
        let _ = curve.verify_prehash(&point, &bytes, &bytes, &bytes);
        let _ = curve.scalar_ok(&bytes);
        let _ = curve.inverse_times(&bytes, &bytes);
    }
}
