//! Passive Authentication (9303-11 §5.1; 9303-12 §4, §5 and §7): is the data on the chip what the issuing state signed?
//!
//! What it is: parsing EF.SOD (a CMS `SignedData`, RFC 5652, holding the
//! `LDSSecurityObject` of 9303-10 §4.6.2), checking its signature and signed
//! attributes, comparing each data group's hash, and checking the Document
//! Signer (DS) certificate against an in-memory [`TrustStore`] of Country
//! Signing CA (CSCA) certificates and CRLs: issuer and signature, validity,
//! key usage, issuing country, revocation. What it is not: a policy. Each
//! check is reported as passed, failed or not possible, with a reason, in a
//! [`PaReport`]; [`PaReport::genuine`] says whether the mandatory ones passed,
//! and the lane policy decides what a "not possible" means.
//!
//! Pure: no I/O, no clock. The time of the check is a parameter. Every byte
//! is untrusted: a malformed EF.SOD is a failed check, never a panic.

mod algorithm;
mod chain;
mod country;
mod signed;
mod sod;
mod trust;

#[cfg(test)]
mod tests;

use std::time::SystemTime;

use crate::lds::DataGroup;

pub use algorithm::HashAlgorithm;
pub use country::icao_to_iso3166;
pub use sod::{DataGroupHash, LdsSecurityObject, LdsVersion, SecurityObject, verify_data_groups};
pub use trust::{CertInfo, CrlInfo, MasterListImport, TrustStore};

/// Runs Passive Authentication on EF.SOD and the data groups read, at time `at`.
///
/// `ef_sod` is the whole file as read (tag `77`); `data_groups` the whole
/// files read from the chip; `issuing_state` the MRZ's three-letter issuing
/// state (9303-3 §5), compared with the DS issuer's country. Data groups the
/// SOD lists but that were not read are named in [`PaReport::not_read`].
///
/// Cheap to call repeatedly with one prepared [`TrustStore`]: it parses the
/// SOD and verifies two signatures (SOD, DS certificate); CRL signatures
/// were verified when the CRLs were added.
pub fn verify(
    ef_sod: &[u8],
    data_groups: &[(DataGroup, &[u8])],
    store: &TrustStore,
    issuing_state: &str,
    at: SystemTime,
) -> PaReport {
    let sod = match SecurityObject::parse(ef_sod) {
        Ok(sod) => sod,
        Err(e) => return PaReport::malformed(e.to_string()),
    };
    verify_parsed(&sod, data_groups, store, issuing_state, at)
}

/// As [`verify`], with EF.SOD already parsed.
pub fn verify_parsed(
    sod: &SecurityObject,
    data_groups: &[(DataGroup, &[u8])],
    store: &TrustStore,
    issuing_state: &str,
    at: SystemTime,
) -> PaReport {
    let mut checks = vec![Check::passed(CheckName::SodFormat)];
    checks.extend(sod.verify_signature());
    checks.extend(verify_data_groups(sod, data_groups));
    let not_read = sod
        .lds()
        .data_group_hashes
        .iter()
        .map(|h| h.data_group)
        .filter(|dg| !data_groups.iter().any(|(read, _)| read == dg))
        .collect();
    let (ds, csca) = match sod.ds_certificate() {
        Ok(ds) => {
            let path = chain::check_ds(ds, store, issuing_state, at);
            checks.extend(path.checks);
            (Some(CertInfo::of(ds)), path.csca)
        }
        Err(why) => {
            let why = format!("no DS certificate: {why}");
            checks.extend(chain::DS_CHECKS.map(|name| Check::not_possible(name, why.clone())));
            (None, None)
        }
    };
    PaReport {
        checks,
        hash_algorithm: sod.lds().hash_algorithm(),
        not_read,
        ds,
        csca,
    }
}

/// The result of Passive Authentication: every check, in the order run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaReport {
    /// Every check with its outcome.
    pub checks: Vec<Check>,
    /// The SOD's data group hash algorithm, if supported.
    pub hash_algorithm: Option<HashAlgorithm>,
    /// Data groups the SOD lists that were not given (not read, or refused).
    pub not_read: Vec<DataGroup>,
    /// The Document Signer certificate, if the SOD holds one.
    pub ds: Option<CertInfo>,
    /// The CSCA whose signature on the DS certificate verified, if any.
    pub csca: Option<CertInfo>,
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked.
    pub name: CheckName,
    /// What came of it.
    pub outcome: Outcome,
}

/// What a check checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckName {
    /// EF.SOD is a well-formed `77` object around CMS `SignedData` with an `LDSSecurityObject` (9303-10 §4.6.2).
    SodFormat,
    /// Signed attributes: content-type matches the eContent type, message-digest the eContent's hash (RFC 5652 §5.4, §11).
    SodSignedAttributes,
    /// The DS signature over the signed attributes verifies (9303-12 §4; RFC 5652 §5.6).
    SodSignature,
    /// A data group's hash equals the one in the SOD (9303-11 §5.1 step 4).
    DgHash(DataGroup),
    /// The DS certificate was issued by a CSCA in the trust store, whose signature on it verifies (9303-11 §5.1 step 2).
    DsChain,
    /// The DS certificate is valid at the time of the check.
    DsValidity,
    /// The CSCA certificate is valid at the time of the check.
    CscaValidity,
    /// DS key usage digitalSignature, CSCA keyCertSign (9303-12 §7.1.1, certificate profile).
    KeyUsage,
    /// The DS issuer's country equals the MRZ issuing state (9303-12 §7.1.1: C= of the CSCA).
    CountryMatch,
    /// A CRL from the CSCA does not list the DS certificate (9303-12 §7.1.4).
    CrlStatus,
}

/// What came of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The check passed.
    Passed,
    /// The check failed, for this reason.
    Failed(String),
    /// The check could not be done (unsupported algorithm, missing CRL, ...), for this reason.
    NotPossible(String),
}

impl PaReport {
    /// True only if no check failed and the mandatory checks passed: SOD
    /// format, signed attributes, SOD signature, every data group given
    /// (at least one), DS chain, DS and CSCA validity.
    pub fn genuine(&self) -> bool {
        const MANDATORY: [CheckName; 6] = [
            CheckName::SodFormat,
            CheckName::SodSignedAttributes,
            CheckName::SodSignature,
            CheckName::DsChain,
            CheckName::DsValidity,
            CheckName::CscaValidity,
        ];
        let no_failure = !self
            .checks
            .iter()
            .any(|c| matches!(c.outcome, Outcome::Failed(_)));
        let mandatory = MANDATORY.iter().all(|&name| {
            self.check(name)
                .is_some_and(|c| c.outcome == Outcome::Passed)
        });
        let mut dg_checks = self
            .checks
            .iter()
            .filter(|c| matches!(c.name, CheckName::DgHash(_)))
            .peekable();
        let dgs = dg_checks.peek().is_some() && dg_checks.all(|c| c.outcome == Outcome::Passed);
        no_failure && mandatory && dgs
    }

    /// The first check named `name`.
    pub fn check(&self, name: CheckName) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The outcome of the first check named `name`.
    pub fn outcome(&self, name: CheckName) -> Option<&Outcome> {
        self.check(name).map(|c| &c.outcome)
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
    }

    /// A report for an EF.SOD that does not parse: SodFormat failed, nothing else possible.
    fn malformed(why: String) -> Self {
        PaReport {
            checks: vec![Check::failed(CheckName::SodFormat, why)],
            hash_algorithm: None,
            not_read: Vec::new(),
            ds: None,
            csca: None,
        }
    }
}

impl Check {
    /// A passed check.
    pub fn passed(name: CheckName) -> Self {
        Check {
            name,
            outcome: Outcome::Passed,
        }
    }

    /// A failed check.
    pub fn failed(name: CheckName, why: impl Into<String>) -> Self {
        Check {
            name,
            outcome: Outcome::Failed(why.into()),
        }
    }

    /// A check that could not be done.
    pub fn not_possible(name: CheckName, why: impl Into<String>) -> Self {
        Check {
            name,
            outcome: Outcome::NotPossible(why.into()),
        }
    }
}

impl CheckName {
    /// A stable snake_case identifier, e.g. `"sod_signature"`, `"dg_hash_2"`.
    pub fn id(self) -> String {
        match self {
            CheckName::SodFormat => "sod_format".into(),
            CheckName::SodSignedAttributes => "sod_signed_attributes".into(),
            CheckName::SodSignature => "sod_signature".into(),
            CheckName::DgHash(dg) => format!("dg_hash_{}", dg.number()),
            CheckName::DsChain => "ds_chain".into(),
            CheckName::DsValidity => "ds_validity".into(),
            CheckName::CscaValidity => "csca_validity".into(),
            CheckName::KeyUsage => "key_usage".into(),
            CheckName::CountryMatch => "country_match".into(),
            CheckName::CrlStatus => "crl_status".into(),
        }
    }
}

impl std::fmt::Display for CheckName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id())
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Passed => f.write_str("passed"),
            Outcome::Failed(why) => write!(f, "failed: {why}"),
            Outcome::NotPossible(why) => write!(f, "not possible: {why}"),
        }
    }
}

/// A Passive Authentication input that cannot be used (who is at fault: the document, or the file given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaError {
    /// The bytes are not the structure expected.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The structure uses something this module does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl PaError {
    /// A malformed-input error about `what`.
    pub(crate) fn malformed(what: &'static str, detail: impl std::fmt::Display) -> Self {
        PaError::Malformed {
            what,
            detail: detail.to_string(),
        }
    }
}
