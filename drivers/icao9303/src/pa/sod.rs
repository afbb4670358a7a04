//! EF.SOD decoded: the `LDSSecurityObject` and its signature (9303-10 §4.6.2; 9303-12 appendix "LDS Security Object").
//!
//! ```text
//! LDSSecurityObject ::= SEQUENCE {
//!   version                LDSSecurityObjectVersion,   -- v0(0), v1(1)
//!   hashAlgorithm          DigestAlgorithmIdentifier,
//!   dataGroupHashValues    SEQUENCE SIZE (2..ub-DataGroups) OF DataGroupHash,
//!   ldsVersionInfo         LDSVersionInfo OPTIONAL }   -- v1 only
//! DataGroupHash ::= SEQUENCE { dataGroupNumber INTEGER, dataGroupHashValue OCTET STRING }
//! LDSVersionInfo ::= SEQUENCE { ldsVersion PrintableString, unicodeVersion PrintableString }
//! ```

use der::asn1::{ObjectIdentifier, OctetString, PrintableString};
use der::{Decode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use super::algorithm::HashAlgorithm;
use super::signed::SignedContent;
use super::{Check, CheckName, PaError};
use crate::lds::{DataGroup, Sod};

/// id-icao-mrtd-security-ldsSecurityObject (9303-10 §4.6.2).
pub(crate) const ID_LDS_SECURITY_OBJECT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.23.136.1.1.1");

/// A parsed EF.SOD: the CMS structure and its `LDSSecurityObject`.
#[derive(Debug, Clone)]
pub struct SecurityObject {
    /// The CMS `SignedData`.
    signed: SignedContent,
    /// The decoded eContent.
    lds: LdsSecurityObject,
}

/// The `LDSSecurityObject`: the hash of every data group (9303-10 §4.6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdsSecurityObject {
    /// 0 (LDS 1.7) or 1 (LDS 1.8, with `lds_version`).
    pub version: u8,
    /// The hash algorithm of the data group hashes, as encoded.
    pub hash_algorithm_id: AlgorithmIdentifierOwned,
    /// Each data group's hash, in SOD order; no data group twice.
    pub data_group_hashes: Vec<DataGroupHash>,
    /// The LDS and Unicode versions (version 1 only).
    pub lds_version: Option<LdsVersion>,
}

/// One data group's hash in the SOD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataGroupHash {
    /// The data group.
    pub data_group: DataGroup,
    /// Its hash.
    pub hash: Vec<u8>,
}

/// `LDSVersionInfo`: e.g. LDS `"0108"`, Unicode `"040000"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdsVersion {
    /// The LDS version, `aabb`.
    pub lds: String,
    /// The Unicode version, `aabbcc`.
    pub unicode: String,
}

/// The DER shape of `LDSSecurityObject`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct LdsSecurityObjectDer {
    version: u8,
    hash_algorithm: AlgorithmIdentifierOwned,
    data_group_hash_values: Vec<DataGroupHashDer>,
    lds_version_info: Option<LdsVersionInfoDer>,
}

/// The DER shape of `DataGroupHash`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct DataGroupHashDer {
    data_group_number: u8,
    data_group_hash_value: OctetString,
}

/// The DER shape of `LDSVersionInfo`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct LdsVersionInfoDer {
    lds_version: PrintableString,
    unicode_version: PrintableString,
}

impl SecurityObject {
    /// Parses EF.SOD (the whole file, tag `77`).
    ///
    /// # Errors
    /// [`PaError::Malformed`]: a bad `77` wrapper, CMS that does not decode,
    /// an eContent type other than id-icao-mrtd-security-ldsSecurityObject,
    /// or an `LDSSecurityObject` with a data group number outside 1..16, a
    /// data group twice, or a version other than 0 or 1.
    pub fn parse(ef_sod: &[u8]) -> Result<Self, PaError> {
        let sod = Sod::parse(ef_sod).map_err(|e| PaError::malformed("EF.SOD", e))?;
        let signed = SignedContent::parse(&sod.content_info, ID_LDS_SECURITY_OBJECT, "EF.SOD")?;
        let lds = LdsSecurityObject::parse(signed.econtent())?;
        Ok(SecurityObject { signed, lds })
    }

    /// The `LDSSecurityObject`.
    pub fn lds(&self) -> &LdsSecurityObject {
        &self.lds
    }

    /// The Document Signer certificate, or why there is none.
    ///
    /// # Errors
    /// A reason: no certificate in the SOD, or none matches the SignerInfo.
    pub fn ds_certificate(&self) -> Result<&Certificate, String> {
        self.signed.signer_certificate()
    }

    /// Checks the signed attributes ([`CheckName::SodSignedAttributes`]) and
    /// the DS signature over them ([`CheckName::SodSignature`]).
    pub fn verify_signature(&self) -> [Check; 2] {
        self.signed.verify()
    }
}

impl LdsSecurityObject {
    /// Decodes a DER `LDSSecurityObject` (the SOD's eContent).
    ///
    /// # Errors
    /// [`PaError::Malformed`] as for [`SecurityObject::parse`].
    pub fn parse(der: &[u8]) -> Result<Self, PaError> {
        const WHAT: &str = "LDSSecurityObject";
        let raw = LdsSecurityObjectDer::from_der(der).map_err(|e| PaError::malformed(WHAT, e))?;
        if raw.version > 1 {
            return Err(PaError::malformed(WHAT, format!("version {}", raw.version)));
        }
        let mut data_group_hashes: Vec<DataGroupHash> = Vec::new();
        for h in raw.data_group_hash_values {
            let n = h.data_group_number;
            let data_group = DataGroup::from_number(n)
                .ok_or_else(|| PaError::malformed(WHAT, format!("data group number {n}")))?;
            if data_group_hashes.iter().any(|d| d.data_group == data_group) {
                return Err(PaError::malformed(
                    WHAT,
                    format!("{data_group} listed twice"),
                ));
            }
            data_group_hashes.push(DataGroupHash {
                data_group,
                hash: h.data_group_hash_value.as_bytes().to_vec(),
            });
        }
        Ok(LdsSecurityObject {
            version: raw.version,
            hash_algorithm_id: raw.hash_algorithm,
            data_group_hashes,
            lds_version: raw.lds_version_info.map(|v| LdsVersion {
                lds: v.lds_version.to_string(),
                unicode: v.unicode_version.to_string(),
            }),
        })
    }

    /// The data group hash algorithm, if 9303 allows it and this crate supports it.
    pub fn hash_algorithm(&self) -> Option<HashAlgorithm> {
        HashAlgorithm::from_oid(&self.hash_algorithm_id.oid)
    }

    /// The hash the SOD holds for `dg`.
    pub fn hash_of(&self, dg: DataGroup) -> Option<&[u8]> {
        self.data_group_hashes
            .iter()
            .find(|h| h.data_group == dg)
            .map(|h| h.hash.as_slice())
    }
}

/// Hashes every data group given and compares it with the SOD (9303-11 §5.1 step 4).
///
/// One [`CheckName::DgHash`] check per data group given, in the order
/// given, each reporting on its own: a data group the SOD does not list
/// fails, as does one whose hash differs; with an unsupported hash
/// algorithm every check is "not possible".
pub fn verify_data_groups(sod: &SecurityObject, data_groups: &[(DataGroup, &[u8])]) -> Vec<Check> {
    let lds = sod.lds();
    let hash = lds.hash_algorithm();
    data_groups
        .iter()
        .map(|&(dg, bytes)| {
            let name = CheckName::DgHash(dg);
            let Some(hash) = hash else {
                return Check::not_possible(
                    name,
                    format!("hash algorithm {} not supported", lds.hash_algorithm_id.oid),
                );
            };
            match lds.hash_of(dg) {
                None => Check::failed(name, format!("{dg} was read but the SOD does not list it")),
                Some(expected) if expected == hash.digest(bytes).as_slice() => Check::passed(name),
                Some(_) => Check::failed(name, format!("{dg} {hash} differs from the SOD")),
            }
        })
        .collect()
}
