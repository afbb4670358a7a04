//! CMS `SignedData` with one signer, as EF.SOD and CSCA master lists use it (RFC 5652 §5; 9303-12 §4 and §9).
//!
//! Decoding is cms/x509-cert/der's; this module adds what 9303 requires on
//! top: the expected eContent type, exactly one `SignerInfo`, the signer's
//! certificate found in `certificates` by `sid`, and the checks of RFC 5652
//! §5.4 and §11 on the signed attributes.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use super::algorithm::{self, HashAlgorithm, Verification};
use super::{Check, CheckName, Outcome, PaError};
use crate::tlv;

/// id-signedData (RFC 5652 §5.1).
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-contentType attribute (RFC 5652 §11.1).
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest attribute (RFC 5652 §11.2).
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// A decoded CMS `SignedData` whose eContent has the expected type.
#[derive(Debug, Clone)]
pub(crate) struct SignedContent {
    /// The decoded `SignedData`.
    signed_data: SignedData,
    /// The eContent type.
    content_type: ObjectIdentifier,
    /// The eContent octets (the value of the `OCTET STRING`).
    econtent: Vec<u8>,
    /// The signed attributes exactly as encoded, with the `SET OF` tag `31`
    /// in place of `[0]` (RFC 5652 §5.4), if they could be located.
    raw_signed_attrs: Option<Vec<u8>>,
}

/// The fields a signature does not cover must still be exactly what RFC
/// 5652 and 9303-12 section 4 prescribe, so that no byte of an EF.SOD can
/// change without the verdict changing: SignedData version 3, SignerInfo
/// version 1 with issuerAndSerialNumber or 3 with subjectKeyIdentifier, and
/// digestAlgorithms holding exactly the signers' digest algorithms.
fn check_versions_and_digests(sd: &SignedData) -> Result<(), String> {
    use cms::content_info::CmsVersion;
    use cms::signed_data::SignerIdentifier;
    if sd.version != CmsVersion::V3 {
        return Err(format!("SignedData version {:?}, expected 3", sd.version));
    }
    for info in sd.signer_infos.0.iter() {
        let consistent = matches!(
            (&info.version, &info.sid),
            (CmsVersion::V1, SignerIdentifier::IssuerAndSerialNumber(_))
                | (CmsVersion::V3, SignerIdentifier::SubjectKeyIdentifier(_))
        );
        if !consistent {
            return Err(format!(
                "SignerInfo version {:?} does not fit its signer identifier",
                info.version
            ));
        }
    }
    let listed: Vec<_> = sd.digest_algorithms.iter().map(|a| a.oid).collect();
    let mut used: Vec<_> = sd.signer_infos.0.iter().map(|i| i.digest_alg.oid).collect();
    used.dedup();
    if listed.len() != used.len() || used.iter().any(|oid| !listed.contains(oid)) {
        return Err("digestAlgorithms differ from the signers' digest algorithms".into());
    }
    Ok(())
}

impl SignedContent {
    /// Decodes a DER `ContentInfo` holding `SignedData` whose eContent type is `content_type`.
    ///
    /// # Errors
    /// [`PaError::Malformed`] for anything else.
    pub(crate) fn parse(
        content_info: &[u8],
        content_type: ObjectIdentifier,
        what: &'static str,
    ) -> Result<Self, PaError> {
        let ci = ContentInfo::from_der(content_info).map_err(|e| PaError::malformed(what, e))?;
        if ci.content_type != ID_SIGNED_DATA {
            return Err(PaError::malformed(
                what,
                format!("content type {} is not id-signedData", ci.content_type),
            ));
        }
        let signed_data = ci
            .content
            .decode_as::<SignedData>()
            .map_err(|e| PaError::malformed(what, e))?;
        let encap = &signed_data.encap_content_info;
        if encap.econtent_type != content_type {
            return Err(PaError::malformed(
                what,
                format!(
                    "eContent type {} is not {content_type}",
                    encap.econtent_type
                ),
            ));
        }
        check_versions_and_digests(&signed_data).map_err(|e| PaError::malformed(what, e))?;
        let econtent = match &encap.econtent {
            Some(any) if any.tag() == Tag::OctetString => any.value().to_vec(),
            Some(_) => return Err(PaError::malformed(what, "eContent is not an OCTET STRING")),
            None => return Err(PaError::malformed(what, "no eContent (detached content)")),
        };
        Ok(SignedContent {
            signed_data,
            content_type,
            econtent,
            raw_signed_attrs: raw_signed_attributes(content_info),
        })
    }

    /// The eContent octets.
    pub(crate) fn econtent(&self) -> &[u8] {
        &self.econtent
    }

    /// The only `SignerInfo` (9303-12 §4: one signer).
    fn signer_info(&self) -> Result<&SignerInfo, String> {
        let infos = self.signed_data.signer_infos.0.as_slice();
        match infos {
            [one] => Ok(one),
            [] => Err("no SignerInfo".into()),
            many => Err(format!("{} SignerInfos; exactly one expected", many.len())),
        }
    }

    /// The certificates in `SignedData.certificates`.
    pub(crate) fn certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.signed_data
            .certificates
            .iter()
            .flat_map(|set| set.0.iter())
            .filter_map(|choice| match choice {
                CertificateChoices::Certificate(cert) => Some(cert),
                _ => None,
            })
    }

    /// The signer's certificate: the one in `certificates` that the `SignerInfo`'s `sid` names.
    pub(crate) fn signer_certificate(&self) -> Result<&Certificate, String> {
        let info = self.signer_info()?;
        let mut any = false;
        for cert in self.certificates() {
            any = true;
            if identifies(&info.sid, cert) {
                return Ok(cert);
            }
        }
        Err(if any {
            "no certificate in SignedData matches the SignerInfo's sid".into()
        } else {
            "SignedData holds no certificate (9303-12 §4: the DS certificate shall be included)"
                .into()
        })
    }

    /// Checks the signed attributes and the signature, in that order (RFC 5652 §5.4, §5.6).
    pub(crate) fn verify(&self) -> [Check; 2] {
        let attrs = Check {
            name: CheckName::SodSignedAttributes,
            outcome: self.check_signed_attributes(),
        };
        let signature = Check {
            name: CheckName::SodSignature,
            outcome: self.check_signature(),
        };
        [attrs, signature]
    }

    /// content-type and message-digest, each once with one value (RFC 5652 §11.1, §11.2).
    fn check_signed_attributes(&self) -> Outcome {
        let info = match self.signer_info() {
            Ok(i) => i,
            Err(why) => return Outcome::Failed(why),
        };
        let Some(attrs) = &info.signed_attrs else {
            return Outcome::Failed("no signed attributes (RFC 5652 §5.3: required)".into());
        };
        let single = |oid: ObjectIdentifier, name: &str| {
            let mut found = attrs.iter().filter(|a| a.oid == oid);
            match (found.next(), found.next()) {
                (Some(a), None) => match a.values.as_slice() {
                    [v] => Ok(v.clone()),
                    _ => Err(format!("{name} attribute must have exactly one value")),
                },
                (None, _) => Err(format!("no {name} signed attribute")),
                (Some(_), Some(_)) => Err(format!("{name} signed attribute occurs twice")),
            }
        };
        let content_type = match single(ID_CONTENT_TYPE, "content-type")
            .and_then(|v| v.decode_as::<ObjectIdentifier>().map_err(|e| e.to_string()))
        {
            Ok(oid) => oid,
            Err(why) => return Outcome::Failed(why),
        };
        if content_type != self.content_type {
            return Outcome::Failed(format!(
                "content-type attribute {content_type} differs from eContent type {}",
                self.content_type
            ));
        }
        let digest = match single(ID_MESSAGE_DIGEST, "message-digest")
            .and_then(|v| v.decode_as::<OctetString>().map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(why) => return Outcome::Failed(why),
        };
        let hash = match algorithm::hash_of(&info.digest_alg) {
            Ok(h) => h,
            Err(why) => return Outcome::NotPossible(why),
        };
        if digest.as_bytes() == hash.digest(&self.econtent).as_slice() {
            Outcome::Passed
        } else {
            Outcome::Failed(format!(
                "message-digest attribute is not the {hash} of the eContent"
            ))
        }
    }

    /// The signature over DER(SET OF signed attributes) with the signer certificate's key.
    fn check_signature(&self) -> Outcome {
        let info = match self.signer_info() {
            Ok(i) => i,
            Err(why) => return Outcome::Failed(why),
        };
        let cert = match self.signer_certificate() {
            Ok(c) => c,
            Err(why) => return Outcome::NotPossible(why),
        };
        let Some(attrs) = &info.signed_attrs else {
            return Outcome::Failed("no signed attributes to verify".into());
        };
        // RFC 5652 §5.4: the signature covers the DER of the attributes with
        // an explicit SET OF tag: the bytes as encoded, not a re-encoding
        // (a decoder sorts SET OF, and a signer may not have).
        let message = match (&self.raw_signed_attrs, attrs.to_der()) {
            (Some(raw), _) => raw.clone(),
            (None, Ok(m)) => m,
            (None, Err(e)) => {
                return Outcome::Failed(format!("signed attributes do not encode: {e}"));
            }
        };
        let digest = HashAlgorithm::from_oid(&info.digest_alg.oid);
        let spki = cert.tbs_certificate().subject_public_key_info();
        match algorithm::verify(
            spki,
            &info.signature_algorithm,
            digest,
            &message,
            info.signature.as_bytes(),
        ) {
            Verification::Valid => Outcome::Passed,
            Verification::Invalid(why) => Outcome::Failed(why),
            Verification::Unsupported(why) => Outcome::NotPossible(why),
        }
    }
}

/// The one SignerInfo's signed attributes as encoded, tag `A0` replaced by `31`.
///
/// Walks `ContentInfo` → `[0]` → `SignedData` → `signerInfos` (the last
/// `SET`) → `SignerInfo` → the first `[0]` constructed field (RFC 5652 §5.1, §5.3).
pub(super) fn raw_signed_attributes(content_info: &[u8]) -> Option<Vec<u8>> {
    let ci = tlv::parse_single(content_info, 0x30).ok()?;
    let explicit = ci.find(0xA0).ok()??;
    let sd = explicit.find(0x30).ok()??;
    let signer_infos = sd
        .children_vec()
        .ok()?
        .into_iter()
        .rev()
        .find(|c| c.tag == 0x31)?;
    let info = signer_infos.find(0x30).ok()??;
    let attrs = info.find(0xA0).ok()??;
    let mut raw = attrs.raw.to_vec();
    *raw.first_mut()? = 0x31;
    Some(raw)
}

/// Whether `sid` names `cert` (RFC 5652 §5.3).
fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            &isn.issuer == tbs.issuer() && &isn.serial_number == tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => matches!(
            tbs.get_extension::<SubjectKeyIdentifier>(),
            Ok(Some((_, own))) if own == *ski
        ),
    }
}
