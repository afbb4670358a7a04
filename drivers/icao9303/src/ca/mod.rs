//! Chip Authentication (9303 part 11, section 6.2): the chip proves it holds
//! the private key whose public half DG14 carries, and the session gets
//! fresh secure-messaging keys.
//!
//! The terminal reads DG14 ([`choose`] picks a ChipAuthenticationInfo and
//! its ChipAuthenticationPublicKeyInfo), makes an ephemeral key pair on the
//! chip key's domain parameters and sends its public key under the current
//! secure messaging: with 3DES in MSE:Set KAT ([`mse_set_kat`], 9303-11
//! section 6.2.4.1), with AES in MSE:Set AT ([`mse_set_at`]) then GENERAL
//! AUTHENTICATE ([`general_authenticate`], 9303-11 section 6.2.4.2). Both
//! sides compute K (the ECDH x-coordinate or the DH value), derive KS_enc
//! and KS_mac with the KDF of the CA cipher (9303-11 section 9.7.1) and
//! restart secure messaging with SSC 0 (9303-11 section 6.2.3, 9.8). The
//! chip proves itself implicitly: only a chip holding the private key can
//! answer the next command under the new keys.
//!
//! The chip's side ([`ChipKeyPair`], [`chip_agree`] and the command
//! readers) shares every computation, for simulators and tests.

mod info;

use zeroize::Zeroizing;

use crate::apdu::Command;
use crate::crypto::{self, KdfCounter, SessionKey, SmCipher};
use crate::error::{Error, ParseError, ParseErrorKind};
use crate::lds::{Dg14, encode_oid};
use crate::pace::KeyAgreement;
use crate::pace::group::Group;
use crate::sm::SecureChannel;
use crate::tlv;

pub use info::{
    ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, ChipPublicKey, ID_PK_DH, ID_PK_ECDH,
    chip_authentication_infos, chip_authentication_public_keys,
};

/// id-CA (BSI TR-03110-3 section A.1.1.2), with the trailing dot: every CA protocol OID starts so.
pub(crate) const ID_CA_PREFIX: &str = "0.4.0.127.0.7.2.2.3.";

/// A Chip Authentication protocol: id-CA-{DH,ECDH}-{3DES-CBC-CBC, AES-CBC-CMAC-128/192/256}.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaProtocol {
    /// DH or ECDH.
    pub key_agreement: KeyAgreement,
    /// The cipher of secure messaging after CA.
    pub cipher: SmCipher,
}

/// What the terminal runs Chip Authentication with: a protocol and the chip's key from DG14.
#[derive(Debug, Clone)]
pub struct CaChoice {
    /// The protocol.
    pub protocol: CaProtocol,
    /// The key reference to send in DO'84', when DG14 names one.
    pub key_id: Option<u32>,
    /// The chip's static public key.
    pub key: ChipPublicKey,
}

/// The terminal's half of Chip Authentication: the commands to send and the channel that follows them.
#[derive(Debug)]
pub struct CaTerminal {
    /// MSE:Set KAT (3DES), or MSE:Set AT and GENERAL AUTHENTICATE (AES), to send in order under the current secure messaging.
    pub commands: Vec<Command>,
    /// The secure channel with KS_enc, KS_mac and SSC 0, to use once every command is answered.
    pub channel: SecureChannel,
    /// The terminal's ephemeral public key, as sent.
    pub ephemeral_public_key: Vec<u8>,
}

/// The chip's static Chip Authentication key pair (for simulators and tests).
#[derive(Clone)]
pub struct ChipKeyPair {
    group: Group,
    parameter_id: u32,
    private: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
}

impl std::fmt::Debug for ChipKeyPair {
    /// Everything but the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChipKeyPair")
            .field("parameter_id", &self.parameter_id)
            .finish_non_exhaustive()
    }
}

impl CaProtocol {
    /// Parses a dotted id-CA protocol OID (`0.4.0.127.0.7.2.2.3.{1 DH, 2 ECDH}.{1 3DES, 2-4 AES-128/192/256}`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an OID that is not such a protocol.
    pub fn from_oid(oid: &str) -> Result<Self, Error> {
        let rest = oid
            .strip_prefix(ID_CA_PREFIX)
            .ok_or(Error::Unsupported("not a Chip Authentication protocol OID"))?;
        let (ka, c) = rest.split_once('.').ok_or(Error::Unsupported(
            "Chip Authentication OID without a cipher",
        ))?;
        let key_agreement = match ka {
            "1" => KeyAgreement::Dh,
            "2" => KeyAgreement::Ecdh,
            _ => return Err(Error::Unsupported("Chip Authentication key agreement")),
        };
        let cipher = match c {
            "1" => SmCipher::Tdes,
            "2" => SmCipher::Aes128,
            "3" => SmCipher::Aes192,
            "4" => SmCipher::Aes256,
            _ => return Err(Error::Unsupported("Chip Authentication cipher")),
        };
        Ok(Self {
            key_agreement,
            cipher,
        })
    }

    /// The dotted OID.
    pub fn oid(&self) -> String {
        let (ka, c) = self.arcs();
        format!("{ID_CA_PREFIX}{ka}.{c}")
    }

    /// The name, e.g. `id-CA-ECDH-AES-CBC-CMAC-128`.
    pub fn name(&self) -> String {
        let ka = match self.key_agreement {
            KeyAgreement::Dh => "DH",
            KeyAgreement::Ecdh => "ECDH",
        };
        let cipher = match self.cipher {
            SmCipher::Tdes => "3DES-CBC-CBC",
            SmCipher::Aes128 => "AES-CBC-CMAC-128",
            SmCipher::Aes192 => "AES-CBC-CMAC-192",
            SmCipher::Aes256 => "AES-CBC-CMAC-256",
        };
        format!("id-CA-{ka}-{cipher}")
    }

    fn arcs(&self) -> (u8, u8) {
        let ka = match self.key_agreement {
            KeyAgreement::Dh => 1,
            KeyAgreement::Ecdh => 2,
        };
        let c = match self.cipher {
            SmCipher::Tdes => 1,
            SmCipher::Aes128 => 2,
            SmCipher::Aes192 => 3,
            SmCipher::Aes256 => 4,
        };
        (ka, c)
    }

    /// Preference when DG14 offers several: ECDH before DH, stronger AES first, 3DES last.
    fn rank(&self) -> (u8, u8) {
        let ka = match self.key_agreement {
            KeyAgreement::Ecdh => 0,
            KeyAgreement::Dh => 1,
        };
        let c = match self.cipher {
            SmCipher::Aes256 => 0,
            SmCipher::Aes192 => 1,
            SmCipher::Aes128 => 2,
            SmCipher::Tdes => 3,
        };
        (ka, c)
    }
}

/// Picks the Chip Authentication protocol and key from DG14 (9303-11 section 6.2, 9.2.5, 9.2.6).
///
/// Each supported ChipAuthenticationInfo is paired with a
/// ChipAuthenticationPublicKeyInfo of the same key agreement and, when
/// either names one, the same keyId. A DG14 with a public key but no
/// ChipAuthenticationInfo is read as CA with 3DES (the default of BSI
/// TR-03110 version 1). `Ok(None)` when DG14 offers no Chip Authentication.
///
/// # Errors
/// A parse error for a malformed info; when CA is offered but no offer is
/// usable, the error of the last one tried ([`Error::Unsupported`] for a
/// protocol or curve this crate cannot run, [`crate::CardFault::BadPublicKey`]
/// for an invalid key).
pub fn choose(dg14: &Dg14) -> Result<Option<CaChoice>, Error> {
    let keys = chip_authentication_public_keys(dg14)?;
    let mut infos = chip_authentication_infos(dg14)?;
    if infos.is_empty() {
        // BSI TR-03110 v1: no ChipAuthenticationInfo means 3DES.
        infos = keys
            .iter()
            .map(|k| ChipAuthenticationInfo {
                protocol_oid: CaProtocol {
                    key_agreement: k.key_agreement(),
                    cipher: SmCipher::Tdes,
                }
                .oid(),
                version: 1,
                key_id: k.key_id,
            })
            .collect();
    }
    if infos.is_empty() {
        return Ok(None);
    }
    let mut offers: Vec<(CaProtocol, &ChipAuthenticationInfo)> = Vec::new();
    let mut last_error = Error::Unsupported("DG14 offers no Chip Authentication this crate runs");
    for info in &infos {
        match info.protocol() {
            Ok(p) => offers.push((p, info)),
            Err(e) => last_error = e,
        }
    }
    offers.sort_by_key(|(p, _)| p.rank());
    for (protocol, info) in offers {
        let candidates = keys.iter().filter(|k| {
            k.key_agreement() == protocol.key_agreement
                && (info.key_id.is_none() || k.key_id.is_none() || k.key_id == info.key_id)
        });
        for candidate in candidates {
            match candidate.public_key() {
                Ok(key) => {
                    return Ok(Some(CaChoice {
                        protocol,
                        key_id: info.key_id.or(candidate.key_id),
                        key,
                    }));
                }
                Err(e) => last_error = e,
            }
        }
    }
    Err(last_error)
}

/// A random ephemeral private key on the chip key's domain parameters, from the system RNG.
///
/// # Errors
/// [`Error::Unsupported`] without a system random source.
pub fn random_ephemeral_private(key: &ChipPublicKey) -> Result<Zeroizing<Vec<u8>>, Error> {
    key.group.random_private()
}

/// The terminal's side: the commands carrying its ephemeral public key, and the channel after them (9303-11 section 6.2.3).
///
/// # Errors
/// [`Error::Unsupported`] when the protocol's key agreement does not fit
/// the key; [`Error::ApiMisuse`] for an invalid `ephemeral_private`.
pub fn terminal(choice: &CaChoice, ephemeral_private: &[u8]) -> Result<CaTerminal, Error> {
    if choice.protocol.key_agreement != choice.key.key_agreement() {
        return Err(Error::Unsupported(
            "Chip Authentication protocol does not fit the chip's key",
        ));
    }
    let ephemeral_public_key = choice.key.group.public_key(ephemeral_private)?;
    let k = shared_secret(&choice.key, ephemeral_private)?;
    let (enc, mac) = session_keys(&k, None, choice.protocol.cipher);
    let channel = SecureChannel::from_keys(choice.protocol.cipher, enc, mac)?;
    let commands = match choice.protocol.cipher {
        SmCipher::Tdes => vec![mse_set_kat(&ephemeral_public_key, choice.key_id)],
        _ => vec![
            mse_set_at(&choice.protocol, choice.key_id)?,
            general_authenticate(&ephemeral_public_key),
        ],
    };
    Ok(CaTerminal {
        commands,
        channel,
        ephemeral_public_key,
    })
}

/// K: the x-coordinate of `private · PK` or the DH value `PK^private`, after checking the chip's key (9303-11 section 6.2.3, 9.6).
///
/// # Errors
/// [`crate::CardFault::BadPublicKey`] for an invalid key or a degenerate result;
/// [`Error::ApiMisuse`] for an invalid `private`.
pub fn shared_secret(key: &ChipPublicKey, private: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let shared = key.group.shared(private, &key.public)?;
    Ok(key.group.secret_of(&shared))
}

/// KS_enc and KS_mac = KDF(K [|| nonce], 1 and 2) for `cipher` (9303-11 section 9.7.1).
///
/// 9303 Chip Authentication has no nonce; BSI TR-03110 CA version 2 appends the chip's nonce r.
pub fn session_keys(k: &[u8], nonce: Option<&[u8]>, cipher: SmCipher) -> (SessionKey, SessionKey) {
    let mut seed = Zeroizing::new(k.to_vec());
    if let Some(r) = nonce {
        seed.extend_from_slice(r);
    }
    (
        crypto::kdf(&seed, KdfCounter::Enc, cipher),
        crypto::kdf(&seed, KdfCounter::Mac, cipher),
    )
}

/// MSE:Set KAT `00 22 41 A6`: 91 the ephemeral public key, 84 the key reference (9303-11 section 6.2.4.1).
pub fn mse_set_kat(ephemeral_public_key: &[u8], key_id: Option<u32>) -> Command {
    let mut data = tlv::encode(0x91, ephemeral_public_key);
    if let Some(id) = key_id {
        data.extend_from_slice(&tlv::encode(0x84, &info::encode_u32(id)));
    }
    Command::new(0x00, 0x22, 0x41, 0xA6).with_data(data)
}

/// MSE:Set AT `00 22 41 A4`: 80 the CA protocol OID, 84 the key reference (9303-11 section 6.2.4.2).
///
/// # Errors
/// Only on internal misuse (the OID always encodes).
pub fn mse_set_at(protocol: &CaProtocol, key_id: Option<u32>) -> Result<Command, Error> {
    let oid = encode_oid(&protocol.oid()).ok_or(Error::ApiMisuse("CA OID"))?;
    let mut data = tlv::encode(0x80, &oid);
    if let Some(id) = key_id {
        data.extend_from_slice(&tlv::encode(0x84, &info::encode_u32(id)));
    }
    Ok(Command::new(0x00, 0x22, 0x41, 0xA4).with_data(data))
}

/// GENERAL AUTHENTICATE `00 86 00 00`: `7C { 80 ephemeral public key }` (9303-11 section 6.2.4.2).
pub fn general_authenticate(ephemeral_public_key: &[u8]) -> Command {
    Command::new(0x00, 0x86, 0x00, 0x00)
        .with_data(tlv::encode(0x7C, &tlv::encode(0x80, ephemeral_public_key)))
        .with_le(256)
}

/// Checks the chip's GENERAL AUTHENTICATE answer: empty, or dynamic authentication data `7C` (empty in 9303 CA).
///
/// # Errors
/// A parse error for anything else.
pub fn check_general_authenticate_response(data: &[u8]) -> Result<(), Error> {
    if data.is_empty() {
        return Ok(());
    }
    tlv::parse_single_named(data, 0x7C, "GENERAL AUTHENTICATE (CA) response")?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The chip's side
// ---------------------------------------------------------------------------

impl ChipKeyPair {
    /// A fresh key pair in standardized group `parameter_id` (9303-11 section 9.5.1), from the system RNG.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a group this crate cannot compute in, or without a random source.
    pub fn generate(parameter_id: u32) -> Result<Self, Error> {
        let group = Group::standard(parameter_id)?;
        let private = group.random_private()?;
        Self::with_group(group, parameter_id, private)
    }

    /// The key pair of a given private key (big-endian, below the group order).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an unknown group; [`Error::ApiMisuse`] for an invalid private key.
    pub fn from_private(parameter_id: u32, private: &[u8]) -> Result<Self, Error> {
        let group = Group::standard(parameter_id)?;
        Self::with_group(group, parameter_id, Zeroizing::new(private.to_vec()))
    }

    fn with_group(
        group: Group,
        parameter_id: u32,
        private: Zeroizing<Vec<u8>>,
    ) -> Result<Self, Error> {
        let public = group.public_key(&private)?;
        Ok(Self {
            group,
            parameter_id,
            private,
            public,
        })
    }

    /// The standardized domain parameter ID.
    pub fn parameter_id(&self) -> u32 {
        self.parameter_id
    }

    /// The public key: an uncompressed point, or the DH value as long as p.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The private key, big-endian (for PACE-CAM on the same chip).
    pub fn private_key(&self) -> &[u8] {
        &self.private
    }

    /// DH or ECDH.
    pub fn key_agreement(&self) -> KeyAgreement {
        if self.group.is_ec() {
            KeyAgreement::Ecdh
        } else {
            KeyAgreement::Dh
        }
    }

    /// The public key as a DER SubjectPublicKeyInfo: a named curve, or standardizedDomainParameters for DH.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an unknown parameter ID.
    pub fn spki_der(&self) -> Result<Vec<u8>, Error> {
        info::encode_spki(self.parameter_id, &self.group, &self.public)
    }

    /// DG14's ChipAuthenticationPublicKeyInfo for this key.
    ///
    /// # Errors
    /// As [`Self::spki_der`].
    pub fn public_key_info(
        &self,
        key_id: Option<u32>,
    ) -> Result<ChipAuthenticationPublicKeyInfo, Error> {
        Ok(ChipAuthenticationPublicKeyInfo {
            protocol_oid: match self.key_agreement() {
                KeyAgreement::Dh => ID_PK_DH,
                KeyAgreement::Ecdh => ID_PK_ECDH,
            }
            .to_owned(),
            subject_public_key_info: self.spki_der()?,
            key_id,
        })
    }
}

/// The chip's side: the channel after Chip Authentication with the terminal's ephemeral public key (9303-11 section 6.2.3).
///
/// # Errors
/// [`crate::CardFault::BadPublicKey`] for an invalid terminal key.
pub fn chip_agree(
    key: &ChipKeyPair,
    cipher: SmCipher,
    terminal_public: &[u8],
) -> Result<SecureChannel, Error> {
    let shared = key.group.shared(&key.private, terminal_public)?;
    let k = key.group.secret_of(&shared);
    let (enc, mac) = session_keys(&k, None, cipher);
    SecureChannel::from_keys(cipher, enc, mac)
}

/// The chip's side: the ephemeral public key (DO'91') and key reference (DO'84') of an MSE:Set KAT's data.
///
/// # Errors
/// A parse error for malformed data or a missing DO'91'.
pub fn chip_read_set_kat(data: &[u8]) -> Result<(Vec<u8>, Option<u32>), Error> {
    let (objects, key_id) = read_mse(data)?;
    let public = objects
        .into_iter()
        .find_map(|(t, v)| (t == 0x91).then_some(v))
        .ok_or(missing("MSE:Set KAT ephemeral public key"))?;
    Ok((public, key_id))
}

/// The chip's side: the protocol (DO'80') and key reference (DO'84') of a CA MSE:Set AT's data.
///
/// # Errors
/// A parse error for malformed data; [`Error::Unsupported`] for an OID that is not a CA protocol.
pub fn chip_read_set_at(data: &[u8]) -> Result<(CaProtocol, Option<u32>), Error> {
    let (objects, key_id) = read_mse(data)?;
    let oid = objects
        .into_iter()
        .find_map(|(t, v)| (t == 0x80).then_some(v))
        .ok_or(missing("MSE:Set AT protocol"))?;
    let protocol = CaProtocol::from_oid(&crate::lds::decode_oid(&oid)?)?;
    Ok((protocol, key_id))
}

/// The chip's side: the terminal's ephemeral public key in a CA GENERAL AUTHENTICATE's `7C { 80 .. }`.
///
/// # Errors
/// A parse error for anything else.
pub fn chip_read_general_authenticate(data: &[u8]) -> Result<Vec<u8>, Error> {
    let outer = tlv::parse_single_named(data, 0x7C, "dynamic authentication data")?;
    let inner = tlv::parse_single_named(outer.value, 0x80, "ephemeral public key")?;
    Ok(inner.value.to_vec())
}

/// Tag and value of each data object of a command, in order.
type DataObjects = Vec<(u32, Vec<u8>)>;

/// The data objects of an MSE command, and the key reference if present.
fn read_mse(data: &[u8]) -> Result<(DataObjects, Option<u32>), Error> {
    let mut r = crate::reader::Reader::new(data);
    let mut objects = Vec::new();
    let mut key_id = None;
    while !r.is_empty() {
        let t = tlv::read_tlv(&mut r)?;
        if t.tag == 0x84 {
            key_id = Some(info::u32_of(t.value).ok_or(ParseError::new(
                "MSE key reference",
                t.offset,
                ParseErrorKind::Invalid("not a 32-bit key reference"),
            ))?);
        } else {
            objects.push((t.tag, t.value.to_vec()));
        }
    }
    Ok((objects, key_id))
}

fn missing(what: &'static str) -> ParseError {
    ParseError::new(what, 0, ParseErrorKind::Missing(what))
}

#[cfg(test)]
mod tests;
