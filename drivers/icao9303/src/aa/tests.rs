use super::*;
use crate::vectors::hex;
use ecdsa::signature::hazmat::PrehashSigner;
use rsa::PrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PrivateKeyParts;
use std::sync::OnceLock;

const CHALLENGE: [u8; 8] = [0xF1, 0x73, 0x58, 0x99, 0x74, 0xBF, 0x40, 0xC6];

/// One RSA-1024 key per test run (key generation is slow in debug builds).
fn rsa_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::new(&mut getrandom::SysRng, 1024).unwrap())
}

/// The chip's side: s = F^d mod n.
fn rsa_sign(key: &PrivateKey, challenge: &[u8]) -> Vec<u8> {
    let k = key.size();
    let mut m1 = vec![0u8; k - 22];
    getrandom::fill(&mut m1).unwrap();
    let f = rsa_message_representative(&m1, challenge);
    let f = BoxedUint::from_be_slice(&f, key.n_bits_precision()).unwrap();
    let s = BoxedMontyForm::new(f, key.n_params())
        .pow(key.d())
        .retrieve();
    let s = s.to_be_bytes();
    s[s.len() - k..].to_vec()
}

#[test]
fn message_representative_matches_the_9303_worked_example() {
    let f = rsa_message_representative(&hex("/active_authentication_rsa_sha1/m1"), &CHALLENGE);
    assert_eq!(f, hex("/active_authentication_rsa_sha1/f"));
    assert_eq!(hex("/active_authentication_rsa_sha1/rnd_ifd_m2"), CHALLENGE);
}

#[test]
fn internal_authenticate_carries_the_challenge() {
    assert_eq!(
        internal_authenticate(&CHALLENGE).encode(false),
        [&[0x00, 0x88, 0x00, 0x00, 0x08][..], &CHALLENGE, &[0x00]].concat()
    );
}

#[test]
fn rsa_chip_holding_the_key_passes() {
    let key = rsa_key();
    let spki = key.to_public_key().to_public_key_der().unwrap();
    let public = AaPublicKey::from_spki_der(spki.as_bytes()).unwrap();
    let sig = rsa_sign(key, &CHALLENGE);
    assert_eq!(verify(&public, &CHALLENGE, &sig, None), Ok(()));
}

#[test]
fn rsa_signature_over_another_challenge_fails() {
    let key = rsa_key();
    let public = AaPublicKey::Rsa(key.to_public_key());
    let sig = rsa_sign(key, &[0; 8]);
    assert_eq!(
        verify(&public, &CHALLENGE, &sig, None),
        Err(AaFailure::WrongChallenge)
    );
}

#[test]
fn rsa_signature_from_another_key_fails() {
    // A cloned chip: the DG15 of one document, the key of none.
    let other = PrivateKey::new(&mut getrandom::SysRng, 1024).unwrap();
    let public = AaPublicKey::Rsa(rsa_key().to_public_key());
    let sig = rsa_sign(&other, &CHALLENGE);
    assert!(verify(&public, &CHALLENGE, &sig, None).is_err());
}

#[test]
fn rsa_garbage_is_refused_without_panic() {
    let public = AaPublicKey::Rsa(rsa_key().to_public_key());
    for sig in [
        vec![],
        vec![0xFF; 128],
        vec![0; 128],
        vec![1; 127],
        vec![7; 129],
    ] {
        assert!(verify(&public, &CHALLENGE, &sig, None).is_err());
    }
}

#[test]
fn ecdsa_chip_holding_the_key_passes_and_others_fail() {
    let signing = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let spki = signing.verifying_key().to_public_key_der().unwrap();
    let public = AaPublicKey::from_spki_der(spki.as_bytes()).unwrap();
    let digest = Sha256::digest(CHALLENGE);
    let sig: p256::ecdsa::Signature = signing.sign_prehash(&digest).unwrap();
    let sig = sig.to_bytes();
    assert_eq!(
        verify(&public, &CHALLENGE, &sig, Some(AaHash::Sha256)),
        Ok(())
    );
    assert_eq!(
        verify(&public, &[0; 8], &sig, Some(AaHash::Sha256)),
        Err(AaFailure::BadSignature)
    );
    assert_eq!(
        verify(&public, &CHALLENGE, &sig, Some(AaHash::Sha384)),
        Err(AaFailure::BadSignature)
    );
    assert!(matches!(
        verify(&public, &CHALLENGE, &sig, None),
        Err(AaFailure::Unsupported(_))
    ));
    assert_eq!(
        verify(&public, &CHALLENGE, &sig[..63], Some(AaHash::Sha256)),
        Err(AaFailure::BadSignature)
    );
}

#[test]
fn dg15_garbage_is_a_parse_error() {
    for der in [
        &[][..],
        &[0x30, 0x03, 0x02, 0x01],
        &[0x30, 0x82, 0xFF, 0xFF, 0],
    ] {
        assert!(AaPublicKey::from_spki_der(der).is_err());
    }
}

#[test]
fn hash_names_from_dg14_oids() {
    assert_eq!(
        AaHash::from_ecdsa_oid("1.2.840.10045.4.3.2"),
        Some(AaHash::Sha256)
    );
    assert_eq!(AaHash::from_ecdsa_oid("1.2.3"), None);
}

#[test]
fn active_authentication_info_round_trips_through_dg14() {
    let info = ActiveAuthenticationInfo {
        version: 1,
        signature_algorithm: "1.2.840.10045.4.3.2".into(),
    };
    let raw = info.encode().unwrap();
    assert_eq!(ActiveAuthenticationInfo::parse(&raw).unwrap(), info);
    assert_eq!(info.hash(), Some(AaHash::Sha256));
    let dg14 = crate::tlv::encode(0x6E, &crate::tlv::encode(0x31, &raw));
    let dg14 = crate::lds::Dg14::parse(&dg14).unwrap();
    assert_eq!(
        ActiveAuthenticationInfo::from_dg14(&dg14).unwrap(),
        Some(info)
    );
    assert!(ActiveAuthenticationInfo::parse(&raw[..raw.len() - 1]).is_err());
    let mut trailing = raw.clone();
    trailing.push(0);
    assert!(ActiveAuthenticationInfo::parse(&trailing).is_err());
}

#[test]
fn chip_side_keys_sign_what_verify_accepts() {
    for key in [
        AaPrivateKey::Rsa(Box::new(rsa_key().clone())),
        AaPrivateKey::generate_p256().unwrap(),
    ] {
        let public = AaPublicKey::from_spki_der(&key.spki_der().unwrap()).unwrap();
        let sig = key.sign(&CHALLENGE, AaHash::Sha256).unwrap();
        assert_eq!(
            verify(&public, &CHALLENGE, &sig, Some(AaHash::Sha256)),
            Ok(())
        );
        assert!(verify(&public, &[0; 8], &sig, Some(AaHash::Sha256)).is_err());
        assert!(!format!("{key:?}").is_empty());
    }
}

/// A DER SubjectPublicKeyInfo for `point` on `curve`, named by OID.
fn named_ec_spki(curve: NamedCurve, point: &[u8]) -> Vec<u8> {
    let ec = crate::lds::encode_oid(OID_EC).unwrap();
    let oid = crate::lds::encode_oid(&curve.oid().to_string()).unwrap();
    let mut bits = vec![0];
    bits.extend_from_slice(point);
    tlv::encode_constructed(
        0x30,
        &[
            tlv::encode_constructed(0x30, &[tlv::encode(0x06, &ec), tlv::encode(0x06, &oid)]),
            tlv::encode(0x03, &bits),
        ],
    )
}

/// A test-only brainpoolP512r1 signer: a fixed private key and a nonce derived from the digest.
fn bp512_sign(private: &[u8], digest: &[u8]) -> Vec<u8> {
    let curve = weierstrass::Curve::cached(&weierstrass::BRAINPOOL_P512R1).unwrap();
    // Fixed derivation (tests only): k = SHA-512(d || digest) with its top bit cleared, below n.
    let mut k = AaHash::Sha512.digest(&[private, digest]);
    k[0] &= 0x7F;
    curve.sign_prehash_for_tests(private, &k, digest).unwrap()
}

#[test]
fn ecdsa_on_brainpool_p512r1_verifies_named_and_explicit() {
    let curve = weierstrass::Curve::cached(&weierstrass::BRAINPOOL_P512R1).unwrap();
    let private = [0x5Au8; 64];
    let point = curve.mul_generator(&private).unwrap();
    let named = named_ec_spki(NamedCurve::BrainpoolP512r1, &point);
    let explicit = ecparams::spki_der_with_explicit_parameters(&named).unwrap();
    assert_ne!(named, explicit);
    let signature = bp512_sign(&private, &AaHash::Sha512.digest(&[&CHALLENGE]));
    for spki in [&named, &explicit] {
        let public = AaPublicKey::from_spki_der(spki).unwrap();
        assert!(matches!(
            &public,
            AaPublicKey::Ec(EcKey::Generic {
                curve: NamedCurve::BrainpoolP512r1,
                ..
            })
        ));
        assert_eq!(
            verify(&public, &CHALLENGE, &signature, Some(AaHash::Sha512)),
            Ok(())
        );
        let mut other = CHALLENGE;
        other[0] ^= 1;
        assert_eq!(
            verify(&public, &other, &signature, Some(AaHash::Sha512)),
            Err(AaFailure::BadSignature)
        );
        assert_eq!(
            verify(&public, &CHALLENGE, &signature[1..], Some(AaHash::Sha512)),
            Err(AaFailure::BadSignature)
        );
    }
}

#[test]
fn every_generic_curve_verifies_its_own_signature() {
    for curve in NamedCurve::ALL {
        let Some(params) = curve.weierstrass() else {
            continue;
        };
        let arith = weierstrass::Curve::cached(params).unwrap();
        let private = vec![0x11; arith.field_len() - 1];
        let point = arith.mul_generator(&private).unwrap();
        let digest = AaHash::Sha256.digest(&[&CHALLENGE]);
        let signature = arith
            .sign_prehash_for_tests(&private, &[0x07; 16], &digest)
            .unwrap();
        let public = AaPublicKey::from_spki_der(&named_ec_spki(curve, &point)).unwrap();
        assert_eq!(
            verify(&public, &CHALLENGE, &signature, Some(AaHash::Sha256)),
            Ok(()),
            "{curve}"
        );
    }
}

#[test]
fn explicit_parameter_p256_key_from_dg15_verifies() {
    let key = AaPrivateKey::generate_p256().unwrap();
    let explicit = ecparams::spki_der_with_explicit_parameters(&key.spki_der().unwrap()).unwrap();
    let public = AaPublicKey::from_spki_der(&explicit).unwrap();
    assert!(matches!(public, AaPublicKey::Ec(EcKey::P256(_))));
    let signature = key.sign(&CHALLENGE, AaHash::Sha256).unwrap();
    assert_eq!(
        verify(&public, &CHALLENGE, &signature, Some(AaHash::Sha256)),
        Ok(())
    );
}

#[test]
fn p521_key_verifies() {
    use ecdsa::signature::hazmat::PrehashSigner as _;
    use rsa::pkcs8::EncodePublicKey as _;
    let mut private = [0x33; 66];
    private[0] = 0x01;
    let signing = p521::ecdsa::SigningKey::from_slice(&private).unwrap();
    let spki = signing.verifying_key().to_public_key_der().unwrap();
    let public = AaPublicKey::from_spki_der(spki.as_bytes()).unwrap();
    assert!(matches!(public, AaPublicKey::Ec(EcKey::P521(_))));
    let digest = AaHash::Sha512.digest(&[&CHALLENGE]);
    let sig: p521::ecdsa::Signature = signing.sign_prehash(&digest).unwrap();
    assert_eq!(
        verify(&public, &CHALLENGE, &sig.to_bytes(), Some(AaHash::Sha512)),
        Ok(())
    );
}

#[test]
fn explicit_parameters_of_an_unknown_curve_are_unsupported() {
    let key = AaPrivateKey::generate_p256().unwrap();
    let explicit = ecparams::spki_der_with_explicit_parameters(&key.spki_der().unwrap()).unwrap();
    // Change P-256's b (SEC 2 §2.4.2): a different curve with the same shape.
    let b = hex_of("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");
    let at = explicit
        .windows(32)
        .position(|w| w == b.as_slice())
        .unwrap();
    let mut other = explicit.clone();
    other[at + 31] ^= 0x01;
    let err = AaPublicKey::from_spki_der(&other).unwrap_err();
    assert!(
        matches!(err, Error::Unsupported(_) | Error::Parse(_)),
        "{err:?}"
    );
}

fn hex_of(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
