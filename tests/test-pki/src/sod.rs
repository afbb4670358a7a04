//! EF.SOD and master lists: CMS `SignedData` with one signer (RFC 5652 §5; 9303-10 §4.6.2; 9303-12 §9).

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Sequence, Tag};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use crate::key::{Hash, Key, der_of};

/// id-icao-mrtd-security-ldsSecurityObject (9303-10 §4.6.2).
const ID_LDS_SECURITY_OBJECT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.1");
/// id-icao-cscaMasterList (9303-12 §9).
const ID_CSCA_MASTER_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.2");
/// id-signedData (RFC 5652 §5.1).
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// content-type attribute (RFC 5652 §11.1).
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// message-digest attribute (RFC 5652 §11.2).
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// How to build EF.SOD; the default is a genuine SHA-256 SOD.
#[derive(Debug, Clone)]
pub struct SodOptions {
    /// Hash of the data groups, of the message digest and of the signature.
    pub hash: Hash,
    /// Put this OID in `LDSSecurityObject.hashAlgorithm` instead of the hash's (an unsupported hash).
    pub hash_oid_override: Option<ObjectIdentifier>,
    /// Put this OID in `SignerInfo.signatureAlgorithm` instead of the key's (an unsupported algorithm).
    pub signature_oid_override: Option<ObjectIdentifier>,
    /// Sign a message-digest attribute that is not the eContent's hash.
    pub wrong_message_digest: bool,
    /// Leave the DS certificate out of `SignedData.certificates`.
    pub omit_ds_certificate: bool,
    /// Replace these data groups' hashes in the SOD by the hash of other bytes (a tampered DG).
    pub tamper: Vec<u8>,
}

impl Default for SodOptions {
    fn default() -> Self {
        SodOptions {
            hash: Hash::Sha256,
            hash_oid_override: None,
            signature_oid_override: None,
            wrong_message_digest: false,
            omit_ds_certificate: false,
            tamper: Vec::new(),
        }
    }
}

/// `LDSSecurityObject` (9303-10 §4.6.2), version 0.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct LdsSecurityObject {
    version: u8,
    hash_algorithm: AlgorithmIdentifierOwned,
    data_group_hash_values: Vec<DataGroupHash>,
}

/// `DataGroupHash`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct DataGroupHash {
    data_group_number: u8,
    data_group_hash_value: OctetString,
}

/// `CscaMasterList` (9303-12 §9).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct CscaMasterList {
    version: u8,
    cert_list: SetOfVec<Any>,
}

/// EF.SOD: `77 L ContentInfo`.
pub(crate) fn ef_sod(
    key: &Key,
    ds: &Certificate,
    data_groups: &[(u8, Vec<u8>)],
    options: &SodOptions,
) -> Vec<u8> {
    let hashes = data_groups
        .iter()
        .map(|(n, bytes)| {
            let hash = if options.tamper.contains(n) {
                options.hash.digest(b"tampered")
            } else {
                options.hash.digest(bytes)
            };
            DataGroupHash {
                data_group_number: *n,
                data_group_hash_value: OctetString::new(hash).expect("hash"),
            }
        })
        .collect();
    let mut hash_algorithm = options.hash.algorithm_identifier();
    if let Some(oid) = options.hash_oid_override {
        hash_algorithm.oid = oid;
    }
    let lds = LdsSecurityObject {
        version: 0,
        hash_algorithm,
        data_group_hash_values: hashes,
    };
    let certs = if options.omit_ds_certificate {
        Vec::new()
    } else {
        vec![ds.clone()]
    };
    let content_info = signed_data(
        key,
        ds,
        options,
        ID_LDS_SECURITY_OBJECT,
        &der_of(&lds),
        certs,
    );
    tlv(0x77, &content_info)
}

/// A master list: `ContentInfo` with `SignedData` over `CscaMasterList`.
pub(crate) fn master_list(
    key: &Key,
    signer: &Certificate,
    hash: Hash,
    certs: &[Certificate],
) -> Vec<u8> {
    let list = CscaMasterList {
        version: 0,
        cert_list: SetOfVec::try_from(
            certs
                .iter()
                .map(|c| Any::encode_from(c).expect("certificate encodes"))
                .collect::<Vec<_>>(),
        )
        .expect("SET OF"),
    };
    let options = SodOptions {
        hash,
        ..SodOptions::default()
    };
    signed_data(
        key,
        signer,
        &options,
        ID_CSCA_MASTER_LIST,
        &der_of(&list),
        vec![signer.clone()],
    )
}

/// A DER `ContentInfo` with `SignedData`, one `SignerInfo` with content-type and message-digest (RFC 5652 §5.3, §11).
fn signed_data(
    key: &Key,
    signer: &Certificate,
    options: &SodOptions,
    content_type: ObjectIdentifier,
    econtent: &[u8],
    certs: Vec<Certificate>,
) -> Vec<u8> {
    let hash = options.hash;
    let mut digest = hash.digest(econtent);
    if options.wrong_message_digest {
        digest = hash.digest(b"not the eContent");
    }
    let attrs: SetOfVec<Attribute> = SetOfVec::try_from(vec![
        Attribute {
            oid: ID_CONTENT_TYPE,
            values: SetOfVec::try_from(vec![Any::encode_from(&content_type).expect("oid")])
                .expect("SET OF"),
        },
        Attribute {
            oid: ID_MESSAGE_DIGEST,
            values: SetOfVec::try_from(vec![Any::new(Tag::OctetString, digest).expect("digest")])
                .expect("SET OF"),
        },
    ])
    .expect("SET OF");
    // RFC 5652 §5.4: the signature covers DER(SET OF attributes).
    let signature = key.sign(hash, &der_of(&attrs));
    let mut signature_algorithm = key.signature_algorithm(hash);
    if let Some(oid) = options.signature_oid_override {
        signature_algorithm.oid = oid;
    }
    let tbs = signer.tbs_certificate();
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: hash.algorithm_identifier(),
        signed_attrs: Some(attrs),
        signature_algorithm,
        signature: OctetString::new(signature).expect("signature"),
        unsigned_attrs: None,
    };
    let certificates = (!certs.is_empty()).then(|| {
        CertificateSet::try_from(
            certs
                .into_iter()
                .map(CertificateChoices::Certificate)
                .collect::<Vec<_>>(),
        )
        .expect("SET OF certificates")
    });
    let sd = SignedData {
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![hash.algorithm_identifier()]).expect("SET OF"),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content_type,
            econtent: Some(Any::new(Tag::OctetString, econtent.to_vec()).expect("eContent")),
        },
        certificates,
        crls: None,
        signer_infos: SignerInfos::try_from(vec![info]).expect("SET OF"),
    };
    der_of(&ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&sd).expect("SignedData encodes"),
    })
}

/// A BER-TLV with a one-byte tag and a definite length (9303-10 §4.4).
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let len = value.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}
