//! The trust store: CSCA certificates and CRLs, in memory (9303-12 §5 and §7.1; master lists §9).
//!
//! Filled by the technician's provisioning from DER or PEM files, ICAO
//! master lists (CMS `SignedData` with a `CscaMasterList`, 9303-12 §9) and
//! CRLs. CRL signatures are verified when a CRL or a CSCA is added, so that
//! [`super::verify`] stays cheap.

use std::time::SystemTime;

use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, Encode, Reader, Sequence, SliceReader, Tagged};
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use super::PaError;
use super::algorithm::{self, Verification};
use super::chain::{country_of, subject_key_id};
use super::signed::SignedContent;

/// id-icao-cscaMasterList (9303-12 §9).
const ID_CSCA_MASTER_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.2");
/// Most certificates accepted from one master list (the ICAO list holds a few hundred).
const MAX_MASTER_LIST_CERTS: usize = 10_000;

/// CSCA certificates and CRLs that Passive Authentication trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    /// The CSCA certificates, without duplicates (by fingerprint).
    cscas: Vec<Csca>,
    /// The CRLs.
    crls: Vec<Crl>,
}

/// A summary of a certificate, for listings and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject, RFC 4514.
    pub subject: String,
    /// The issuer, RFC 4514.
    pub issuer: String,
    /// The serial number, hex.
    pub serial: String,
    /// The subject's country (C=), if present.
    pub country: Option<String>,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
    /// SHA-256 of the DER certificate.
    pub sha256: [u8; 32],
}

/// A summary of a CRL in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlInfo {
    /// The issuer, RFC 4514.
    pub issuer: String,
    /// The issuer's country (C=), if present.
    pub country: Option<String>,
    /// thisUpdate.
    pub this_update: SystemTime,
    /// nextUpdate, if given.
    pub next_update: Option<SystemTime>,
    /// How many certificates it revokes.
    pub revoked: usize,
    /// Fingerprints of the CSCAs in the store whose key verifies its signature.
    pub verified_by: Vec<[u8; 32]>,
    /// SHA-256 of the DER CRL.
    pub sha256: [u8; 32],
}

/// What importing a master list did (9303-12 §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterListImport {
    /// The master list signer certificate, if found in the list's `SignedData`.
    pub signer: Option<CertInfo>,
    /// Whether the signed attributes and the signature verified with the signer's key.
    pub signature_verified: bool,
    /// Why the signature did not verify, if it did not.
    pub signature_problem: Option<String>,
    /// Whether the signer certificate was issued (signature verified) by a CSCA already in the store.
    pub signer_trusted: bool,
    /// The certificates added.
    pub added: Vec<CertInfo>,
    /// How many were already in the store.
    pub already_present: usize,
}

/// A CSCA certificate in the store.
#[derive(Debug, Clone)]
pub(crate) struct Csca {
    /// The certificate.
    pub(crate) cert: Certificate,
    /// Its summary.
    pub(crate) info: CertInfo,
    /// Its subject key identifier, if any.
    ski: Option<Vec<u8>>,
}

/// A CRL in the store.
#[derive(Debug, Clone)]
pub(crate) struct Crl {
    /// The CRL.
    list: CertificateList,
    /// Its summary.
    pub(crate) info: CrlInfo,
}

/// `CscaMasterList ::= SEQUENCE { version CscaMasterListVersion, certList SET OF Certificate }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct CscaMasterList {
    version: u8,
    cert_list: Any,
}

impl TrustStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a CSCA certificate (DER). Adding one already present changes nothing.
    ///
    /// # Errors
    /// [`PaError::Malformed`] if the bytes are not one X.509 certificate.
    pub fn add_csca_der(&mut self, der: &[u8]) -> Result<CertInfo, PaError> {
        let cert = Certificate::from_der(der).map_err(|e| PaError::malformed("certificate", e))?;
        Ok(self.insert_csca(cert, der))
    }

    /// Adds every CSCA certificate in a PEM text (`-----BEGIN CERTIFICATE-----` blocks).
    ///
    /// # Errors
    /// [`PaError::Malformed`] if a block does not decode; nothing is added then.
    pub fn add_csca_pem(&mut self, pem: &str) -> Result<Vec<CertInfo>, PaError> {
        let certs = Certificate::load_pem_chain(pem.as_bytes())
            .map_err(|e| PaError::malformed("PEM certificates", e))?;
        let mut infos = Vec::with_capacity(certs.len());
        for cert in certs {
            let der = cert
                .to_der()
                .map_err(|e| PaError::malformed("certificate", e))?;
            infos.push(self.insert_csca(cert, &der));
        }
        Ok(infos)
    }

    /// Imports an ICAO CSCA master list (DER CMS `ContentInfo`, 9303-12 §9).
    ///
    /// The list's signature is verified against its own signer certificate,
    /// and that signer is checked against the CSCAs already in the store
    /// (before the import); both results are reported, and the certificates
    /// are added in either case: for now the policy of accepting a list is
    /// the caller's.
    ///
    /// # Errors
    /// [`PaError::Malformed`] if the CMS, the `CscaMasterList` or a certificate in it does not decode.
    pub fn import_master_list(&mut self, bytes: &[u8]) -> Result<MasterListImport, PaError> {
        const WHAT: &str = "CSCA master list";
        let signed = SignedContent::parse(bytes, ID_CSCA_MASTER_LIST, WHAT)?;
        let list =
            CscaMasterList::from_der(signed.econtent()).map_err(|e| PaError::malformed(WHAT, e))?;
        if list.cert_list.tag() != der::Tag::Set {
            return Err(PaError::malformed(WHAT, "certList is not a SET"));
        }
        let mut certs = Vec::new();
        let mut reader =
            SliceReader::new(list.cert_list.value()).map_err(|e| PaError::malformed(WHAT, e))?;
        while !reader.is_finished() {
            if certs.len() >= MAX_MASTER_LIST_CERTS {
                return Err(PaError::malformed(WHAT, "too many certificates"));
            }
            let cert = Certificate::decode(&mut reader).map_err(|e| PaError::malformed(WHAT, e))?;
            certs.push(cert);
        }

        let [attrs, sig] = signed.verify();
        let problems: Vec<String> = [attrs, sig]
            .into_iter()
            .filter(|c| c.outcome != super::Outcome::Passed)
            .map(|c| format!("{}: {}", c.name, c.outcome))
            .collect();
        let signer = signed.signer_certificate().ok();
        let signer_trusted = signer.is_some_and(|s| self.issuer_of(s).is_some());
        let mut import = MasterListImport {
            signer: signer.map(CertInfo::of),
            signature_verified: problems.is_empty(),
            signature_problem: (!problems.is_empty()).then(|| problems.join("; ")),
            signer_trusted,
            added: Vec::new(),
            already_present: 0,
        };
        for cert in certs {
            let der = cert.to_der().map_err(|e| PaError::malformed(WHAT, e))?;
            let fingerprint = sha256(&der);
            if self.cscas.iter().any(|c| c.info.sha256 == fingerprint) {
                import.already_present += 1;
            } else {
                import.added.push(self.insert_csca(cert, &der));
            }
        }
        Ok(import)
    }

    /// Adds a CRL (DER), verifying its signature with each CSCA of the same name in the store.
    ///
    /// # Errors
    /// [`PaError::Malformed`] if the bytes are not one X.509 CRL.
    pub fn add_crl_der(&mut self, der: &[u8]) -> Result<CrlInfo, PaError> {
        let list = CertificateList::from_der(der).map_err(|e| PaError::malformed("CRL", e))?;
        let tbs = &list.tbs_cert_list;
        let info = CrlInfo {
            issuer: tbs.issuer.to_string(),
            country: country_of(&tbs.issuer),
            this_update: tbs.this_update.to_system_time(),
            next_update: tbs.next_update.map(|t| t.to_system_time()),
            revoked: tbs.revoked_certificates.as_ref().map_or(0, Vec::len),
            verified_by: Vec::new(),
            sha256: sha256(der),
        };
        if let Some(existing) = self.crls.iter().find(|c| c.info.sha256 == info.sha256) {
            return Ok(existing.info.clone());
        }
        let mut crl = Crl { list, info };
        for csca in &self.cscas {
            crl.verify_with(csca);
        }
        let info = crl.info.clone();
        self.crls.push(crl);
        Ok(info)
    }

    /// Removes the CSCA with this SHA-256 fingerprint; whether one was removed.
    pub fn remove_csca(&mut self, sha256: &[u8; 32]) -> bool {
        let before = self.cscas.len();
        self.cscas.retain(|c| &c.info.sha256 != sha256);
        before != self.cscas.len()
    }

    /// Removes every CSCA whose subject (RFC 4514, as in [`CertInfo::subject`]) is `subject`; how many.
    pub fn remove_csca_by_subject(&mut self, subject: &str) -> usize {
        let before = self.cscas.len();
        self.cscas.retain(|c| c.info.subject != subject);
        before - self.cscas.len()
    }

    /// Removes the CRL with this SHA-256 fingerprint; whether one was removed.
    pub fn remove_crl(&mut self, sha256: &[u8; 32]) -> bool {
        let before = self.crls.len();
        self.crls.retain(|c| &c.info.sha256 != sha256);
        before != self.crls.len()
    }

    /// The CSCAs, in the order added.
    pub fn cscas(&self) -> impl Iterator<Item = &CertInfo> {
        self.cscas.iter().map(|c| &c.info)
    }

    /// The CRLs, in the order added.
    pub fn crls(&self) -> impl Iterator<Item = &CrlInfo> {
        self.crls.iter().map(|c| &c.info)
    }

    /// The CSCAs whose subject is `name`.
    pub(crate) fn cscas_named<'s, 'n>(
        &'s self,
        name: &'n Name,
    ) -> impl Iterator<Item = &'s Csca> + use<'s, 'n> {
        self.cscas
            .iter()
            .filter(move |c| c.cert.tbs_certificate().subject() == name)
    }

    /// The CRLs whose signature `csca`'s key verified.
    pub(crate) fn crls_verified_by<'s>(&'s self, csca: &Csca) -> impl Iterator<Item = &'s Crl> {
        let fingerprint = csca.info.sha256;
        self.crls
            .iter()
            .filter(move |c| c.info.verified_by.contains(&fingerprint))
    }

    /// A CSCA in the store whose signature on `cert` verifies.
    fn issuer_of(&self, cert: &Certificate) -> Option<&Csca> {
        let tbs_der = cert.tbs_certificate().to_der().ok()?;
        self.cscas_named(cert.tbs_certificate().issuer())
            .find(|csca| {
                algorithm::verify(
                    csca.cert.tbs_certificate().subject_public_key_info(),
                    cert.signature_algorithm(),
                    None,
                    &tbs_der,
                    cert.signature().raw_bytes(),
                ) == Verification::Valid
            })
    }

    /// Inserts a decoded certificate unless its fingerprint is present; its summary.
    fn insert_csca(&mut self, cert: Certificate, der: &[u8]) -> CertInfo {
        let info = CertInfo::with_der(&cert, der);
        if let Some(existing) = self.cscas.iter().find(|c| c.info.sha256 == info.sha256) {
            return existing.info.clone();
        }
        let csca = Csca {
            ski: subject_key_id(&cert),
            cert,
            info: info.clone(),
        };
        for crl in &mut self.crls {
            crl.verify_with(&csca);
        }
        self.cscas.push(csca);
        info
    }
}

impl Csca {
    /// The subject key identifier, if the certificate has one.
    pub(crate) fn subject_key_id(&self) -> Option<&[u8]> {
        self.ski.as_deref()
    }
}

impl Crl {
    /// Records `csca` in `verified_by` if it has the CRL issuer's name and its key verifies the CRL.
    fn verify_with(&mut self, csca: &Csca) {
        let tbs = &self.list.tbs_cert_list;
        if csca.cert.tbs_certificate().subject() != &tbs.issuer
            || self.info.verified_by.contains(&csca.info.sha256)
        {
            return;
        }
        let Ok(tbs_der) = tbs.to_der() else {
            return;
        };
        let verified = algorithm::verify(
            csca.cert.tbs_certificate().subject_public_key_info(),
            &self.list.signature_algorithm,
            None,
            &tbs_der,
            self.list.signature.raw_bytes(),
        );
        if verified == Verification::Valid {
            self.info.verified_by.push(csca.info.sha256);
        }
    }

    /// The revocation date, if the CRL lists `serial`.
    pub(crate) fn revoked(&self, serial: &SerialNumber) -> Option<String> {
        self.list
            .tbs_cert_list
            .revoked_certificates
            .as_ref()?
            .iter()
            .find(|r| &r.serial_number == serial)
            .map(|r| r.revocation_date.to_string())
    }
}

impl CertInfo {
    /// The summary of `cert`, fingerprinting its DER re-encoding.
    pub fn of(cert: &Certificate) -> Self {
        let der = cert.to_der().unwrap_or_default();
        Self::with_der(cert, &der)
    }

    /// The summary of `cert`, whose DER is `der`.
    fn with_der(cert: &Certificate, der: &[u8]) -> Self {
        let tbs = cert.tbs_certificate();
        CertInfo {
            subject: tbs.subject().to_string(),
            issuer: tbs.issuer().to_string(),
            serial: hex_string(tbs.serial_number().as_bytes()),
            country: country_of(tbs.subject()),
            not_before: tbs.validity().not_before.to_system_time(),
            not_after: tbs.validity().not_after.to_system_time(),
            sha256: sha256(der),
        }
    }

    /// The SHA-256 fingerprint in lowercase hex.
    pub fn fingerprint_hex(&self) -> String {
        hex_string(&self.sha256)
    }
}

/// SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(bytes).into()
}

/// Lowercase hex.
fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
