//! The Document Signer certificate's path to a CSCA (9303-11 §5.1 steps 2-3; 9303-12 §7.1).
//!
//! One level: DS issued by a CSCA in the trust store. The checks are
//! [`DS_CHECKS`], always all reported, in that order.

use std::time::SystemTime;

use der::Encode;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, KeyUsage, SubjectKeyIdentifier};

use super::algorithm::{self, Verification};
use super::country::icao_to_iso3166;
use super::trust::{Csca, TrustStore};
use super::{CertInfo, Check, CheckName};

/// The checks [`check_ds`] reports, in order.
pub(crate) const DS_CHECKS: [CheckName; 6] = [
    CheckName::DsChain,
    CheckName::DsValidity,
    CheckName::CscaValidity,
    CheckName::KeyUsage,
    CheckName::CountryMatch,
    CheckName::CrlStatus,
];

/// The DS checks and the CSCA found.
pub(crate) struct PathResult {
    /// [`DS_CHECKS`], with outcomes.
    pub(crate) checks: Vec<Check>,
    /// The CSCA whose signature verified.
    pub(crate) csca: Option<CertInfo>,
}

/// Runs [`DS_CHECKS`] on `ds` at time `at`.
pub(crate) fn check_ds(
    ds: &Certificate,
    store: &TrustStore,
    issuing_state: &str,
    at: SystemTime,
) -> PathResult {
    let (chain, csca) = find_issuer(ds, store);
    let ds_validity = validity(ds, at, CheckName::DsValidity, "DS");
    let csca_validity = match csca {
        Some(c) => validity(&c.cert, at, CheckName::CscaValidity, "CSCA"),
        None => Check::not_possible(CheckName::CscaValidity, "no issuing CSCA found"),
    };
    let checks = vec![
        chain,
        ds_validity,
        csca_validity,
        key_usage(ds, csca),
        country(ds, issuing_state),
        crl_status(ds, csca, store, at),
    ];
    PathResult {
        checks,
        csca: csca.map(|c| c.info.clone()),
    }
}

/// Finds the CSCA that issued `ds` and whose signature on it verifies.
fn find_issuer<'s>(ds: &'s Certificate, store: &'s TrustStore) -> (Check, Option<&'s Csca>) {
    let name = CheckName::DsChain;
    let tbs = ds.tbs_certificate();
    let aki = match tbs.get_extension::<AuthorityKeyIdentifier>() {
        Ok(found) => found.and_then(|(_, aki)| aki.key_identifier),
        Err(e) => {
            return (
                Check::failed(name, format!("malformed authority key identifier: {e}")),
                None,
            );
        }
    };
    let tbs_der = match tbs.to_der() {
        Ok(d) => d,
        Err(e) => {
            return (
                Check::failed(name, format!("DS certificate does not encode: {e}")),
                None,
            );
        }
    };
    // A signature BIT STRING has no unused bits (RFC 5280 section 4.1.1.3).
    if ds.signature().unused_bits() != 0 {
        return (
            Check::failed(name, "DS certificate signature has unused bits"),
            None,
        );
    }
    let mut problems = Vec::new();
    let mut unsupported = false;
    let candidates = store
        .cscas_named(tbs.issuer())
        .filter(|c| match (&aki, c.subject_key_id()) {
            (Some(aki), Some(ski)) => aki.as_bytes() == ski,
            _ => true,
        });
    for csca in candidates {
        let spki = csca.cert.tbs_certificate().subject_public_key_info();
        match algorithm::verify(
            spki,
            ds.signature_algorithm(),
            None,
            &tbs_der,
            ds.signature().raw_bytes(),
        ) {
            Verification::Valid => return (Check::passed(name), Some(csca)),
            Verification::Invalid(why) => {
                problems.push(format!("CSCA {}: {why}", csca.info.subject))
            }
            Verification::Unsupported(why) => {
                unsupported = true;
                problems.push(format!("CSCA {}: {why}", csca.info.subject));
            }
        }
    }
    let check = if problems.is_empty() {
        Check::failed(
            name,
            format!(
                "no CSCA in the trust store issued this DS (issuer {})",
                tbs.issuer()
            ),
        )
    } else if unsupported {
        Check::not_possible(name, problems.join("; "))
    } else {
        Check::failed(name, problems.join("; "))
    };
    (check, None)
}

/// Whether `cert` is valid at `at` (RFC 5280 §4.1.2.5: both ends inclusive).
fn validity(cert: &Certificate, at: SystemTime, name: CheckName, who: &str) -> Check {
    let v = cert.tbs_certificate().validity();
    let (from, to) = (v.not_before.to_system_time(), v.not_after.to_system_time());
    if at < from {
        Check::failed(
            name,
            format!("{who} certificate not valid before {}", v.not_before),
        )
    } else if at > to {
        Check::failed(
            name,
            format!("{who} certificate expired at {}", v.not_after),
        )
    } else {
        Check::passed(name)
    }
}

/// DS digitalSignature and CSCA keyCertSign (9303-12 §7.1.1, table of extensions).
fn key_usage(ds: &Certificate, csca: Option<&Csca>) -> Check {
    let name = CheckName::KeyUsage;
    match usage(ds) {
        Err(why) => return Check::failed(name, format!("DS {why}")),
        Ok(ku) if !ku.digital_signature() => {
            return Check::failed(name, "DS key usage lacks digitalSignature");
        }
        Ok(_) => {}
    }
    let Some(csca) = csca else {
        return Check::not_possible(name, "DS key usage correct; no issuing CSCA found");
    };
    match usage(&csca.cert) {
        Err(why) => Check::failed(name, format!("CSCA {why}")),
        Ok(ku) if !ku.key_cert_sign() => Check::failed(name, "CSCA key usage lacks keyCertSign"),
        Ok(_) => Check::passed(name),
    }
}

/// The key usage extension, which 9303-12 §7.1.1 makes mandatory.
fn usage(cert: &Certificate) -> Result<KeyUsage, String> {
    match cert.tbs_certificate().get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) => Ok(ku),
        Ok(None) => Err("certificate has no key usage extension".into()),
        Err(e) => Err(format!("key usage extension malformed: {e}")),
    }
}

/// The DS issuer's C= against the MRZ issuing state.
fn country(ds: &Certificate, issuing_state: &str) -> Check {
    let name = CheckName::CountryMatch;
    let Some(expected) = icao_to_iso3166(issuing_state) else {
        return Check::not_possible(
            name,
            format!("issuing state {issuing_state:?} is not in the ICAO to ISO 3166 table"),
        );
    };
    match country_of(ds.tbs_certificate().issuer()) {
        None => Check::failed(name, "DS issuer has no country (C=)"),
        Some(c) if c.eq_ignore_ascii_case(expected) => Check::passed(name),
        Some(c) => Check::failed(
            name,
            format!(
                "DS issuer country {c} but the MRZ issuing state is {issuing_state} ({expected})"
            ),
        ),
    }
}

/// The C= of a name, if present and a PrintableString.
pub(crate) fn country_of(name: &x509_cert::name::Name) -> Option<String> {
    name.country().ok().flatten().map(|c| c.to_string())
}

/// Revocation by a CRL from the issuing CSCA (9303-12 §7.1.4).
fn crl_status(ds: &Certificate, csca: Option<&Csca>, store: &TrustStore, at: SystemTime) -> Check {
    let name = CheckName::CrlStatus;
    let Some(csca) = csca else {
        return Check::not_possible(name, "no issuing CSCA found");
    };
    let serial = ds.tbs_certificate().serial_number();
    let mut any = false;
    let mut current = false;
    for crl in store.crls_verified_by(csca) {
        any = true;
        if let Some(entry) = crl.revoked(serial) {
            return Check::failed(name, format!("DS serial {serial} revoked on {entry}"));
        }
        if crl.info.next_update.is_none_or(|next| at <= next) {
            current = true;
        }
    }
    if !any {
        Check::not_possible(
            name,
            format!("no CRL from CSCA {} in the trust store", csca.info.subject),
        )
    } else if current {
        Check::passed(name)
    } else {
        Check::not_possible(
            name,
            "not revoked, but every CRL from this CSCA is past its nextUpdate",
        )
    }
}

/// The subject key identifier of a certificate, if present.
pub(crate) fn subject_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    match cert
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
    {
        Ok(Some((_, ski))) => Some(ski.0.as_bytes().to_vec()),
        _ => None,
    }
}
