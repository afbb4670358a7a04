//! A test PKI for Passive Authentication (ICAO 9303-11 §5.1, 9303-12): CSCA → DS → EF.SOD, CRLs, master lists.
//!
//! Everything is made fresh at run time: a self-signed Country Signing CA
//! (basicConstraints CA, keyCertSign and cRLSign, 9303-12 §7.1.1), a
//! Document Signer certificate it issues (digitalSignature), and EF.SOD
//! (`77` around a CMS `ContentInfo` with `SignedData`, RFC 5652, holding an
//! `LDSSecurityObject` over the data groups given, signed attributes
//! content-type and message-digest, the DS certificate included). Options
//! make the hostile cases: [`PkiOptions`] for keys, countries and validity,
//! [`SodOptions`] for hashes and tampering, [`TestPki::crl`] and
//! [`TestPki::master_list`] for revocation and trust distribution.
//!
//! RSA keys are 2048 bits, generated once per process and cached (RSA key
//! generation is slow in debug builds); EC keys are fresh for each PKI.
//! Test support: functions panic on internal failures, never on input.
#![forbid(unsafe_code)]

mod key;
mod persist;
mod sod;

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use der::asn1::{OctetString, Uint};
use der::{Decode, EncodePem};
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CertificateBuilder, CrlBuilder};
use x509_cert::crl::RevokedCert;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlNumber, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

pub use key::{Hash, Key, KeyKind, RSA_BITS, RawSignature, Signer};
pub use sod::SodOptions;

/// A point in time `days` days after 1970-01-01.
pub fn days(days: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(days * 86_400)
}

/// 2020-01-01.
pub const Y2020: u64 = 18_262;
/// 2024-01-01.
pub const Y2024: u64 = 19_723;
/// 2026-06-01: the default time to verify at.
pub const CHECK_DAY: u64 = 20_605;
/// 2034-01-01.
pub const Y2034: u64 = 23_376;
/// 2040-01-01.
pub const Y2040: u64 = 25_567;

/// The default time to verify at: 2026-06-01, inside every default validity.
pub fn check_time() -> SystemTime {
    days(CHECK_DAY)
}

/// How to build a [`TestPki`].
#[derive(Debug, Clone)]
pub struct PkiOptions {
    /// Key type of the CSCA and of the DS.
    pub key: KeyKind,
    /// Hash of the certificate signatures.
    pub hash: Hash,
    /// ISO 3166 country in C= of the CSCA (and so of the DS issuer).
    pub country: String,
    /// CSCA validity (default 2020-01-01 to 2040-01-01).
    pub csca_validity: (SystemTime, SystemTime),
    /// DS validity (default 2024-01-01 to 2034-01-01).
    pub ds_validity: (SystemTime, SystemTime),
    /// DS key usage digitalSignature (default true); false for a bad-key-usage DS.
    pub ds_digital_signature: bool,
    /// Which set of cached RSA keys to use (0 or 1): two PKIs with different sets have different keys.
    pub key_set: usize,
    /// Write EC keys in every certificate with explicit domain parameters
    /// (RFC 3279 §2.3.5) instead of a namedCurve OID (default false).
    pub explicit_ec_params: bool,
}

impl Default for PkiOptions {
    fn default() -> Self {
        PkiOptions {
            key: KeyKind::P256,
            hash: Hash::Sha256,
            country: "UT".into(),
            csca_validity: (days(Y2020), days(Y2040)),
            ds_validity: (days(Y2024), days(Y2034)),
            ds_digital_signature: true,
            key_set: 0,
            explicit_ec_params: false,
        }
    }
}

impl PkiOptions {
    /// The defaults with this key type.
    pub fn with_key(key: KeyKind) -> Self {
        PkiOptions {
            key,
            ..Self::default()
        }
    }
}

/// A CSCA, a DS it issued, and a master list signer it issued.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The options it was built with.
    pub options: PkiOptions,
    /// The CSCA's key.
    pub csca_key: Key,
    /// The CSCA certificate (self-signed).
    pub csca: Certificate,
    /// The DS key.
    pub ds_key: Key,
    /// The DS certificate.
    pub ds: Certificate,
    /// The master list signer's key.
    pub ml_key: Key,
    /// The master list signer certificate (issued by the CSCA).
    pub ml_signer: Certificate,
}

impl TestPki {
    /// Builds a CSCA, DS and master list signer with `options`.
    ///
    /// # Panics
    /// If a certificate does not build (a bug here, not in the caller).
    pub fn new(options: PkiOptions) -> TestPki {
        let slot = options.key_set * 3;
        let csca_key = Key::new(options.key, slot);
        let ds_key = Key::new(options.key, slot + 1);
        let ml_key = Key::new(options.key, slot + 2);
        let c = &options.country;
        let explicit = options.explicit_ec_params;
        let csca_name = name(&format!("CN=CSCA {c},O=Test PKI,C={c}"));
        let csca_ski = key_id(&csca_key);

        let csca = issue(
            &csca_key,
            options.hash,
            &csca_name,
            &csca_name,
            1,
            options.csca_validity,
            (&csca_key, explicit),
            &[
                ext(
                    true,
                    &BasicConstraints {
                        ca: true,
                        path_len_constraint: Some(0),
                    },
                ),
                ext(true, &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)),
                ext(false, &SubjectKeyIdentifier(csca_ski.clone())),
            ],
        );
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(csca_ski),
            ..Default::default()
        };
        let ds_usage = if options.ds_digital_signature {
            KeyUsage(KeyUsages::DigitalSignature.into())
        } else {
            KeyUsage(KeyUsages::KeyEncipherment.into())
        };
        let ds = issue(
            &csca_key,
            options.hash,
            &csca_name,
            &name(&format!("CN=Document Signer {c},O=Test PKI,C={c}")),
            2,
            options.ds_validity,
            (&ds_key, explicit),
            &[
                ext(true, &ds_usage),
                ext(false, &aki),
                ext(false, &SubjectKeyIdentifier(key_id(&ds_key))),
            ],
        );
        let ml_signer = issue(
            &csca_key,
            options.hash,
            &csca_name,
            &name(&format!("CN=Master List Signer {c},O=Test PKI,C={c}")),
            3,
            options.csca_validity,
            (&ml_key, explicit),
            &[
                ext(true, &KeyUsage(KeyUsages::DigitalSignature.into())),
                ext(false, &aki),
            ],
        );
        TestPki {
            options,
            csca_key,
            csca,
            ds_key,
            ds,
            ml_key,
            ml_signer,
        }
    }

    /// The CSCA certificate, DER.
    pub fn csca_der(&self) -> Vec<u8> {
        key::der_of(&self.csca)
    }

    /// The CSCA certificate, PEM.
    ///
    /// # Panics
    /// Never for certificates built here.
    pub fn csca_pem(&self) -> String {
        self.csca
            .to_pem(der::pem::LineEnding::LF)
            .expect("PEM encodes")
    }

    /// The DS certificate, DER.
    pub fn ds_der(&self) -> Vec<u8> {
        key::der_of(&self.ds)
    }

    /// EF.SOD over `data_groups` (`(number, whole file)`), signed by the DS.
    pub fn sod(&self, data_groups: &[(u8, Vec<u8>)], options: &SodOptions) -> Vec<u8> {
        sod::ef_sod(&self.ds_key, &self.ds, data_groups, options)
    }

    /// A CRL from the CSCA (thisUpdate 2026-01-01, nextUpdate `next_update`),
    /// revoking the DS if `revoke_ds`.
    ///
    /// # Panics
    /// If the CRL does not build.
    pub fn crl(&self, revoke_ds: bool, next_update: Option<SystemTime>) -> Vec<u8> {
        let this_update = Time::try_from(days(20_454)).expect("time");
        let number = CrlNumber(Uint::new(&[1]).expect("CRL number"));
        let revoked = revoke_ds.then(|| RevokedCert {
            serial_number: self.ds.tbs_certificate().serial_number().clone(),
            revocation_date: this_update,
            crl_entry_extensions: None,
        });
        let builder = CrlBuilder::new_with_this_update(&self.csca, number, this_update)
            .expect("CRL builder")
            .with_next_update(next_update.map(|t| Time::try_from(t).expect("time")))
            .with_certificates(revoked.into_iter());
        let crl = builder
            .build::<_, RawSignature>(&self.csca_key.signer(self.options.hash))
            .expect("CRL builds");
        key::der_of(&crl)
    }

    /// An ICAO CSCA master list (9303-12 §9) holding this CSCA and `others`'
    /// CSCAs, signed by this PKI's master list signer.
    pub fn master_list(&self, others: &[&TestPki]) -> Vec<u8> {
        let mut certs = vec![self.csca.clone()];
        certs.extend(others.iter().map(|p| p.csca.clone()));
        sod::master_list(&self.ml_key, &self.ml_signer, self.options.hash, &certs)
    }
}

/// A name from an RFC 4514 string.
///
/// # Panics
/// If the string is not a valid name.
fn name(s: &str) -> Name {
    Name::from_str(s).expect("valid name")
}

/// A key identifier: SHA-1 of the public key bits (RFC 5280 §4.2.1.2, method 1).
fn key_id(key: &Key) -> OctetString {
    let spki = key.spki();
    let bits = spki.subject_public_key.raw_bytes();
    OctetString::new(Hash::Sha1.digest(bits)).expect("key id")
}

/// An extension with this criticality.
///
/// # Panics
/// If the value does not encode.
fn ext<T: der::Encode + der::oid::AssociatedOid>(critical: bool, value: &T) -> Extension {
    Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(key::der_of(value)).expect("extension value"),
    }
}

/// Issues a certificate for `subject_key` (with explicit EC parameters if the flag is set), signed by `issuer_key` with `hash`.
///
/// # Panics
/// If it does not build.
#[allow(clippy::too_many_arguments)]
fn issue(
    issuer_key: &Key,
    hash: Hash,
    issuer: &Name,
    subject: &Name,
    serial: u32,
    validity: (SystemTime, SystemTime),
    (subject_key, explicit): (&Key, bool),
    extensions: &[Extension],
) -> Certificate {
    let profile = Profile {
        issuer: issuer.clone(),
        subject: subject.clone(),
        extensions: extensions.to_vec(),
    };
    let validity = Validity::new(
        Time::try_from(validity.0).expect("time"),
        Time::try_from(validity.1).expect("time"),
    );
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::from(serial),
        validity,
        if explicit {
            subject_key.spki_explicit()
        } else {
            subject_key.spki()
        },
    )
    .expect("certificate builder");
    let cert = builder
        .build::<_, RawSignature>(&issuer_key.signer(hash))
        .expect("certificate builds");
    // Round trip, so that the certificate is exactly what a decoder sees.
    Certificate::from_der(&key::der_of(&cert)).expect("certificate decodes")
}

/// A certificate profile with fixed names and extensions.
struct Profile {
    /// Issuer name.
    issuer: Name,
    /// Subject name.
    subject: Name,
    /// Extensions.
    extensions: Vec<Extension>,
}

impl x509_cert::builder::Profile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

#[cfg(test)]
mod tests;
