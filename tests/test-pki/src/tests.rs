//! Self-checks: what this crate builds decodes with cms/x509-cert.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Decode, Tagged};

use super::*;

/// DG1 and DG2 stand-ins.
fn dgs() -> Vec<(u8, Vec<u8>)> {
    vec![(1, vec![0x61, 0x01, 0x00]), (2, vec![0x75, 0x01, 0x00])]
}

#[test]
fn ecdsa_pki_builds_and_decodes() {
    let pki = TestPki::new(PkiOptions::default());
    let sod = pki.sod(&dgs(), &SodOptions::default());
    assert_eq!(sod.first(), Some(&0x77));
    let header = if sod[1] & 0x80 == 0 {
        2
    } else {
        2 + usize::from(sod[1] & 0x7F)
    };
    let ci = ContentInfo::from_der(&sod[header..]).expect("ContentInfo");
    let sd = ci.content.decode_as::<SignedData>().expect("SignedData");
    assert_eq!(sd.signer_infos.0.len(), 1);
    assert!(Certificate::from_der(&pki.csca_der()).is_ok());
    assert!(pki.csca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn brainpool_pki_builds() {
    let pki = TestPki::new(PkiOptions::with_key(KeyKind::BrainpoolP256));
    assert!(!pki.sod(&dgs(), &SodOptions::default()).is_empty());
}

#[test]
fn crl_and_master_list_build() {
    let pki = TestPki::new(PkiOptions::default());
    let crl = pki.crl(true, Some(days(Y2034)));
    let decoded: Result<x509_cert::crl::CertificateList, _> =
        x509_cert::crl::CertificateList::from_der(&crl);
    assert!(decoded.is_ok());
    let other = TestPki::new(PkiOptions::default());
    let ml = pki.master_list(&[&other]);
    assert!(ContentInfo::from_der(&ml).is_ok());
}

#[test]
fn rsa_pki_builds() {
    let pki = TestPki::new(PkiOptions::with_key(KeyKind::Rsa));
    assert!(!pki.sod(&dgs(), &SodOptions::default()).is_empty());
}

#[test]
fn explicit_ec_params_option_puts_ecparameters_in_every_certificate() {
    for key in [KeyKind::P256, KeyKind::BrainpoolP256] {
        let pki = TestPki::new(PkiOptions {
            explicit_ec_params: true,
            ..PkiOptions::with_key(key)
        });
        for cert in [&pki.csca, &pki.ds, &pki.ml_signer] {
            let params = cert
                .tbs_certificate()
                .subject_public_key_info()
                .algorithm
                .parameters
                .as_ref()
                .expect("EC parameters");
            assert_eq!(params.tag(), der::Tag::Sequence, "{key:?}");
        }
        // The key point and so the key identifiers are unchanged.
        assert_eq!(
            pki.ds_key.spki_explicit().subject_public_key,
            pki.ds_key.spki().subject_public_key
        );
        assert!(!pki.sod(&dgs(), &SodOptions::default()).is_empty());
    }
    // RSA keys have no curve: the option changes nothing.
    let rsa = Key::new(KeyKind::Rsa, 0);
    assert_eq!(rsa.spki_explicit(), rsa.spki());
}
