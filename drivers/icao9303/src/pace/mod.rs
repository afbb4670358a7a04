//! Password Authenticated Connection Establishment (9303 part 11, section 4.4).
//!
//! The terminal reads the PACEInfos of EF.CardAccess, picks a protocol
//! ([`choose`]), sends MSE:Set AT ([`mse_set_at`]) and four GENERAL
//! AUTHENTICATE commands, each a consuming state named for what it waits for:
//! [`AwaitNonce`] → [`AwaitMapping`] → [`AwaitKeyAgreement`] → [`AwaitToken`]
//! → [`PaceOutcome`] with its [`SecureChannel`]. The terminal's randoms are
//! parameters so the 9303 worked examples replay byte for byte; [`establish`]
//! draws them from the system RNG and runs the whole exchange over a
//! [`CardChannel`].
//!
//! Mappings: Generic (9303-11 section 4.4.3.3.1), Integrated (4.4.3.3.2,
//! AES-128 only: the PRF of the other ciphers has no worked example to test
//! against) and Chip Authentication Mapping (4.4.3.3.3, ECDH). The chip side
//! ([`chip_start`] and its states) shares every computation, for simulators
//! and tests.

pub(crate) mod group;

use sha1::{Digest, Sha1};
use zeroize::{Zeroize, Zeroizing};

use crate::apdu::{Command, Response, SW_OK};
use crate::bac::{self, BacKeys};
use crate::channel::CardChannel;
use crate::crypto::{self, KdfCounter, SessionKey, SmCipher};
use crate::error::{CardFault, Error, ParseErrorKind};
use crate::lds::CardAccess;
use crate::mrz::Mrz;
use crate::sm::SecureChannel;
use crate::tlv;

pub use group::Curve;
use group::Group;

/// The key agreement of a PACE protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAgreement {
    /// Diffie-Hellman in a MODP group.
    Dh,
    /// Elliptic-curve Diffie-Hellman.
    Ecdh,
}

/// The mapping of a PACE protocol (9303-11 section 4.4.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// Generic Mapping: G' = s·G + H.
    Generic,
    /// Integrated Mapping: G' = f_G(R(s, t)).
    Integrated,
    /// Chip Authentication Mapping: Generic Mapping plus the chip's CA data.
    ChipAuthentication,
}

/// A PACE protocol: id-PACE-{DH,ECDH}-{GM,IM,CAM}-{3DES-CBC-CBC, AES-CBC-CMAC-128/192/256}.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaceProtocol {
    /// DH or ECDH.
    pub key_agreement: KeyAgreement,
    /// The mapping.
    pub mapping: Mapping,
    /// The cipher of the nonce, the tokens and secure messaging.
    pub cipher: SmCipher,
}

/// The PACE password (9303-11 section 4.4.1): MRZ_information or the card access number.
#[derive(Clone, PartialEq, Eq)]
pub enum Password {
    /// MRZ_information: document number, birth date, expiry date, each with its check digit.
    Mrz(String),
    /// The card access number printed on the document.
    Can(String),
}

/// What a finished PACE gives: the secure channel and what Chip Authentication needs later.
#[derive(Debug)]
pub struct PaceOutcome {
    /// The secure-messaging channel with KS_enc, KS_mac and SSC 0.
    pub channel: SecureChannel,
    /// The chip's ephemeral public key PK_IC (its compressed form is the ID_PICC for terminal authentication).
    pub chip_ephemeral_public_key: Vec<u8>,
    /// With Chip Authentication Mapping: the decrypted CA data to check against DG14 or EF.CardSecurity.
    pub chip_authentication: Option<ChipAuthenticationData>,
}

/// The Chip Authentication Mapping values the CA/PA layer checks (9303-11 section 4.4.3.3.3).
#[derive(Debug)]
pub struct ChipAuthenticationData {
    /// CA_IC, decrypted from A_IC.
    pub ca_ic: Vec<u8>,
    /// The chip's mapping public key PK_Map,IC.
    pub chip_mapping_public_key: Vec<u8>,
    group: Group,
}

/// Waiting for the encrypted nonce (answer to the first GENERAL AUTHENTICATE).
#[derive(Debug)]
pub struct AwaitNonce {
    ctx: Context,
}

/// Waiting for the chip's mapping data (answer to the second GENERAL AUTHENTICATE).
#[derive(Debug)]
pub struct AwaitMapping {
    ctx: Context,
    s: Zeroizing<Vec<u8>>,
    /// GM/CAM: the terminal's mapping private key; IM: the nonce t.
    mapping_secret: Zeroizing<Vec<u8>>,
    mapping_public: Vec<u8>,
}

/// Waiting for the chip's ephemeral public key (answer to the third GENERAL AUTHENTICATE).
#[derive(Debug)]
pub struct AwaitKeyAgreement {
    ctx: Context,
    mapped: Group,
    ephemeral_private: Zeroizing<Vec<u8>>,
    ephemeral_public: Vec<u8>,
    chip_mapping_public: Vec<u8>,
}

/// Waiting for the chip's authentication token (answer to the last GENERAL AUTHENTICATE).
#[derive(Debug)]
pub struct AwaitToken {
    ctx: Context,
    keys: SessionKeys,
    ephemeral_public: Vec<u8>,
    chip_ephemeral_public: Vec<u8>,
    chip_mapping_public: Vec<u8>,
}

/// The chip's side, after the nonce: waiting for the terminal's mapping data.
#[derive(Debug)]
pub struct ChipAwaitMapping {
    ctx: Context,
    s: Zeroizing<Vec<u8>>,
}

/// The chip's side: waiting for the terminal's ephemeral public key.
#[derive(Debug)]
pub struct ChipAwaitKeyAgreement {
    ctx: Context,
    mapped: Group,
    mapping_private: Zeroizing<Vec<u8>>,
}

/// The chip's side: waiting for the terminal's token.
#[derive(Debug)]
pub struct ChipAwaitToken {
    ctx: Context,
    keys: SessionKeys,
    ephemeral_public: Vec<u8>,
    terminal_ephemeral_public: Vec<u8>,
    mapping_private: Zeroizing<Vec<u8>>,
}

/// Protocol, standard group and password key: what every step needs.
#[derive(Debug)]
struct Context {
    protocol: PaceProtocol,
    group: Group,
    k_pi: SessionKey,
}

/// KS_enc and KS_mac.
#[derive(Debug)]
struct SessionKeys {
    enc: SessionKey,
    mac: SessionKey,
}

/// id-PACE, 0.4.0.127.0.7.2.2.4, as DER content bytes (BSI TR-03110-3 section A.1.1.1).
const ID_PACE: [u8; 8] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04];
/// Integrated Mapping PRF constants for AES-128 (9303-11 section 4.4.3.3.2).
const IM_C0_128: [u8; 16] = [
    0xa6, 0x68, 0x89, 0x2a, 0x7c, 0x41, 0xe3, 0xca, 0x73, 0x9f, 0x40, 0xb0, 0x57, 0xd8, 0x59, 0x04,
];
/// Second PRF constant for AES-128.
const IM_C1_128: [u8; 16] = [
    0xa4, 0xe1, 0x36, 0xac, 0x72, 0x5f, 0x73, 0x8b, 0x01, 0xc1, 0xf6, 0x02, 0x17, 0xc1, 0x88, 0xad,
];

impl PaceProtocol {
    /// Parses a dotted id-PACE protocol OID.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an OID that is not a PACE protocol 9303 defines.
    pub fn from_oid(oid: &str) -> Result<Self, Error> {
        let rest = oid
            .strip_prefix("0.4.0.127.0.7.2.2.4.")
            .ok_or(Error::Unsupported("not a PACE protocol OID"))?;
        let (m, c) = rest
            .split_once('.')
            .ok_or(Error::Unsupported("PACE OID without a cipher"))?;
        let (key_agreement, mapping) = match m {
            "1" => (KeyAgreement::Dh, Mapping::Generic),
            "2" => (KeyAgreement::Ecdh, Mapping::Generic),
            "3" => (KeyAgreement::Dh, Mapping::Integrated),
            "4" => (KeyAgreement::Ecdh, Mapping::Integrated),
            "6" => (KeyAgreement::Ecdh, Mapping::ChipAuthentication),
            _ => return Err(Error::Unsupported("PACE mapping")),
        };
        let cipher = match c {
            "1" => SmCipher::Tdes,
            "2" => SmCipher::Aes128,
            "3" => SmCipher::Aes192,
            "4" => SmCipher::Aes256,
            _ => return Err(Error::Unsupported("PACE cipher")),
        };
        if mapping == Mapping::ChipAuthentication && cipher == SmCipher::Tdes {
            return Err(Error::Unsupported("PACE-CAM is defined with AES only"));
        }
        Ok(Self {
            key_agreement,
            mapping,
            cipher,
        })
    }

    /// The dotted OID.
    pub fn oid(&self) -> String {
        let [.., m, c] = self.oid_bytes();
        format!("0.4.0.127.0.7.2.2.4.{m}.{c}")
    }

    /// The name, e.g. `id-PACE-ECDH-GM-AES-CBC-CMAC-128`.
    pub fn name(&self) -> String {
        let ka = match self.key_agreement {
            KeyAgreement::Dh => "DH",
            KeyAgreement::Ecdh => "ECDH",
        };
        let mapping = match self.mapping {
            Mapping::Generic => "GM",
            Mapping::Integrated => "IM",
            Mapping::ChipAuthentication => "CAM",
        };
        let cipher = match self.cipher {
            SmCipher::Tdes => "3DES-CBC-CBC",
            SmCipher::Aes128 => "AES-CBC-CMAC-128",
            SmCipher::Aes192 => "AES-CBC-CMAC-192",
            SmCipher::Aes256 => "AES-CBC-CMAC-256",
        };
        format!("id-PACE-{ka}-{mapping}-{cipher}")
    }

    /// The OID's DER content bytes.
    fn oid_bytes(&self) -> [u8; 10] {
        let m = match (self.key_agreement, self.mapping) {
            (KeyAgreement::Dh, Mapping::Generic) => 1,
            (KeyAgreement::Ecdh, Mapping::Generic) => 2,
            (KeyAgreement::Dh, Mapping::Integrated) => 3,
            (KeyAgreement::Ecdh, Mapping::Integrated) => 4,
            (_, Mapping::ChipAuthentication) => 6,
        };
        let c = match self.cipher {
            SmCipher::Tdes => 1,
            SmCipher::Aes128 => 2,
            SmCipher::Aes192 => 3,
            SmCipher::Aes256 => 4,
        };
        let mut out = [0u8; 10];
        out[..8].copy_from_slice(&ID_PACE);
        out[8] = m;
        out[9] = c;
        out
    }
}

impl Password {
    /// The MRZ password of a parsed MRZ.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if a key field holds characters an MRZ cannot.
    pub fn from_mrz(mrz: &Mrz) -> Result<Self, Error> {
        Ok(Password::Mrz(bac::mrz_information(
            &mrz.document_number,
            &mrz.birth_date,
            &mrz.expiry_date,
        )?))
    }

    /// The password reference of MSE:Set AT: 01 MRZ, 02 CAN (9303-11 section 4.4.4.1).
    pub fn reference(&self) -> u8 {
        match self {
            Password::Mrz(_) => 0x01,
            Password::Can(_) => 0x02,
        }
    }

    /// K_pi = KDF(K, 3) with K = SHA-1(MRZ_information) (all 20 bytes) or the CAN (9303-11 section 4.4.3.1, 9.7.3).
    pub fn k_pi(&self, cipher: SmCipher) -> SessionKey {
        let seed = match self {
            Password::Mrz(info) => Zeroizing::new(Sha1::digest(info.as_bytes()).to_vec()),
            Password::Can(can) => Zeroizing::new(can.as_bytes().to_vec()),
        };
        crypto::kdf(&seed, KdfCounter::Pace, cipher)
    }

    /// The BAC keys, for an MRZ password (a CAN cannot open BAC).
    pub fn bac_keys(&self) -> Option<BacKeys> {
        match self {
            Password::Mrz(info) => Some(BacKeys::from_mrz_information(info)),
            Password::Can(_) => None,
        }
    }
}

impl std::fmt::Debug for Password {
    /// The kind only: the password is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Password::Mrz(_) => f.write_str("Password::Mrz(..)"),
            Password::Can(_) => f.write_str("Password::Can(..)"),
        }
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        match self {
            Password::Mrz(s) | Password::Can(s) => s.zeroize(),
        }
    }
}

/// Whether this crate can run `protocol` with standardized domain parameters `parameter_id`.
pub fn is_supported(protocol: &PaceProtocol, parameter_id: u32) -> bool {
    let Ok(group) = Group::standard(parameter_id) else {
        return false;
    };
    let ka_fits = group.is_ec() == (protocol.key_agreement == KeyAgreement::Ecdh);
    // Integrated Mapping: AES-128 only, and not on P-224 (ID 10), whose p = 1 mod 4
    // the point encoding's square root does not cover (9303-11 Appendix B).
    let mapping_ok = protocol.mapping != Mapping::Integrated
        || (protocol.cipher == SmCipher::Aes128 && parameter_id != 10);
    ka_fits && mapping_ok
}

/// The best PACEInfo of EF.CardAccess this crate supports: ECDH before DH, CAM before GM before IM, stronger AES first.
pub fn choose(card_access: &CardAccess) -> Option<(PaceProtocol, u32)> {
    let rank = |p: &PaceProtocol| {
        let ka = match p.key_agreement {
            KeyAgreement::Ecdh => 1,
            KeyAgreement::Dh => 0,
        };
        let mapping = match p.mapping {
            Mapping::ChipAuthentication => 2,
            Mapping::Generic => 1,
            Mapping::Integrated => 0,
        };
        (ka, mapping, p.cipher.key_len())
    };
    card_access
        .pace_infos()
        .filter(|info| info.version == 2)
        .filter_map(|info| {
            let protocol = PaceProtocol::from_oid(&info.protocol_oid).ok()?;
            let id = info.parameter_id?;
            is_supported(&protocol, id).then_some((protocol, id))
        })
        .max_by_key(|(p, _)| rank(p))
}

/// MSE:Set AT for PACE: `00 22 C1 A4` with 80 the protocol OID and 83 the password reference (9303-11 section 4.4.4.1).
pub fn mse_set_at(protocol: &PaceProtocol, password: &Password) -> Command {
    let mut data = tlv::encode(0x80, &protocol.oid_bytes());
    data.extend_from_slice(&tlv::encode(0x83, &[password.reference()]));
    Command::new(0x00, 0x22, 0xC1, 0xA4).with_data(data)
}

/// GENERAL AUTHENTICATE with dynamic authentication data `7C { inner }`; CLA 10 (chaining) for all but the last (9303-11 section 4.4.4.2).
pub fn general_authenticate(inner: &[u8], last: bool) -> Command {
    let cla = if last { 0x00 } else { 0x10 };
    Command::new(cla, 0x86, 0x00, 0x00)
        .with_data(tlv::encode(0x7C, inner))
        .with_le(256)
}

/// Starts PACE on the terminal side: checks the parameters and builds the first GENERAL AUTHENTICATE.
///
/// Send [`mse_set_at`] before it.
///
/// # Errors
/// [`Error::Unsupported`] when the protocol or domain parameters are not supported.
pub fn start(
    protocol: PaceProtocol,
    parameter_id: u32,
    password: &Password,
) -> Result<(Command, AwaitNonce), Error> {
    let ctx = Context::new(protocol, parameter_id, password)?;
    Ok((general_authenticate(&[], false), AwaitNonce { ctx }))
}

impl AwaitNonce {
    /// Decrypts the nonce and sends the mapping data (9303-11 section 4.4.3.1 to 4.4.3.3).
    ///
    /// `mapping_secret` is the terminal's mapping private key (GM, CAM) or
    /// the nonce t (IM: one cipher block); it must come from a cryptographic
    /// RNG ([`AwaitNonce::random_mapping_secret`]).
    ///
    /// # Errors
    /// A [`CardFault`] or parse error when the response is malformed.
    pub fn map(
        self,
        response: &[u8],
        mapping_secret: &[u8],
    ) -> Result<(Command, AwaitMapping), Error> {
        let z = single_object(response, 0x80, "encrypted nonce")?;
        let s = self.ctx.decrypt_nonce(&z)?;
        let mapping_public = match self.ctx.protocol.mapping {
            Mapping::Integrated => {
                if mapping_secret.len() != self.ctx.protocol.cipher.block_len() {
                    return Err(Error::ApiMisuse(
                        "Integrated Mapping nonce t must be one block",
                    ));
                }
                mapping_secret.to_vec()
            }
            _ => self.ctx.group.public_key(mapping_secret)?,
        };
        let cmd = general_authenticate(&tlv::encode(0x81, &mapping_public), false);
        Ok((
            cmd,
            AwaitMapping {
                ctx: self.ctx,
                s,
                mapping_secret: Zeroizing::new(mapping_secret.to_vec()),
                mapping_public,
            },
        ))
    }

    /// A fresh mapping secret from the system RNG: a private key, or the nonce t for IM.
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a system random source.
    pub fn random_mapping_secret(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        match self.ctx.protocol.mapping {
            Mapping::Integrated => random_bytes(self.ctx.protocol.cipher.block_len()),
            _ => self.ctx.group.random_private(),
        }
    }
}

impl AwaitMapping {
    /// Computes the mapped generator from the chip's mapping data and sends the terminal's ephemeral public key.
    ///
    /// # Errors
    /// [`CardFault::BadPublicKey`] for an invalid chip key or point; a parse error for a malformed response.
    pub fn agree(
        self,
        response: &[u8],
        ephemeral_private: &[u8],
    ) -> Result<(Command, AwaitKeyAgreement), Error> {
        let (mapped, chip_mapping_public) = match self.ctx.protocol.mapping {
            Mapping::Integrated => {
                expect_empty(response)?;
                (
                    self.ctx.map_integrated(&self.s, &self.mapping_secret)?,
                    Vec::new(),
                )
            }
            _ => {
                let chip = single_object(response, 0x82, "chip mapping data")?;
                if chip == self.mapping_public {
                    return Err(
                        CardFault::BadPublicKey("chip echoed the terminal's mapping key").into(),
                    );
                }
                let h = self.ctx.group.shared(&self.mapping_secret, &chip)?;
                (self.ctx.group.map_generic(&self.s, &h)?, chip)
            }
        };
        let ephemeral_public = mapped.public_key(ephemeral_private)?;
        let cmd = general_authenticate(&tlv::encode(0x83, &ephemeral_public), false);
        Ok((
            cmd,
            AwaitKeyAgreement {
                ctx: self.ctx,
                mapped,
                ephemeral_private: Zeroizing::new(ephemeral_private.to_vec()),
                ephemeral_public,
                chip_mapping_public,
            },
        ))
    }

    /// A fresh ephemeral private key from the system RNG.
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a system random source.
    pub fn random_ephemeral_private(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.ctx.group.random_private()
    }
}

impl AwaitKeyAgreement {
    /// Derives the session keys from the chip's ephemeral key and sends the terminal's token (9303-11 section 4.4.3.4, 4.4.3.5).
    ///
    /// # Errors
    /// [`CardFault::BadPublicKey`] for an invalid key or one equal to the terminal's.
    pub fn authenticate(self, response: &[u8]) -> Result<(Command, AwaitToken), Error> {
        let chip = single_object(response, 0x84, "chip ephemeral public key")?;
        if chip == self.ephemeral_public {
            return Err(CardFault::BadPublicKey("chip echoed the terminal's ephemeral key").into());
        }
        let keys = self
            .ctx
            .session_keys(&self.mapped, &self.ephemeral_private, &chip)?;
        let t_ifd = self.ctx.token(&keys, &chip)?;
        let cmd = general_authenticate(&tlv::encode(0x85, &t_ifd), true);
        Ok((
            cmd,
            AwaitToken {
                ctx: self.ctx,
                keys,
                ephemeral_public: self.ephemeral_public,
                chip_ephemeral_public: chip,
                chip_mapping_public: self.chip_mapping_public,
            },
        ))
    }
}

impl AwaitToken {
    /// Verifies the chip's token (in constant time) and opens secure messaging with SSC 0.
    ///
    /// # Errors
    /// [`CardFault::BadPaceToken`] when T_IC is wrong: the chip does not know the
    /// password or lies; [`CardFault::MissingDataObject`] when a CAM chip sends no A_IC.
    pub fn finish(self, response: &[u8]) -> Result<PaceOutcome, Error> {
        let objects = dynamic_objects(response)?;
        let t_ic =
            find_object(&objects, 0x86).ok_or(CardFault::MissingDataObject("PACE token 86"))?;
        let expected = self.ctx.token(&self.keys, &self.ephemeral_public)?;
        if !crypto::ct_eq(&expected, t_ic) {
            return Err(CardFault::BadPaceToken.into());
        }
        let chip_authentication = if self.ctx.protocol.mapping == Mapping::ChipAuthentication {
            let a_ic = find_object(&objects, 0x8A).ok_or(CardFault::MissingDataObject(
                "encrypted chip authentication data 8A",
            ))?;
            Some(ChipAuthenticationData {
                ca_ic: decrypt_ca_data(&self.keys.enc, a_ic)?,
                chip_mapping_public_key: self.chip_mapping_public,
                group: self.ctx.group.clone(),
            })
        } else {
            None
        };
        Ok(PaceOutcome {
            channel: SecureChannel::from_keys(
                self.ctx.protocol.cipher,
                self.keys.enc.clone(),
                self.keys.mac.clone(),
            )?,
            chip_ephemeral_public_key: self.chip_ephemeral_public,
            chip_authentication,
        })
    }
}

impl ChipAuthenticationData {
    /// Checks PK_Map,IC = CA_IC · PK_IC against the chip's static public key from DG14 or EF.CardSecurity (9303-11 section 4.4.3.3.3).
    ///
    /// # Errors
    /// [`Error::AccessDenied`] when the check fails: the chip is not genuine;
    /// [`CardFault::BadPublicKey`] when `chip_static_public_key` is not a point of the curve.
    pub fn verify(&self, chip_static_public_key: &[u8]) -> Result<(), Error> {
        let product = self
            .group
            .ec_multiply(chip_static_public_key, &self.ca_ic)?;
        if crypto::ct_eq(&product, &self.chip_mapping_public_key) {
            Ok(())
        } else {
            Err(Error::AccessDenied(
                "Chip Authentication Mapping does not verify",
            ))
        }
    }
}

/// Runs MSE:Set AT and the four GENERAL AUTHENTICATE commands in plain over `channel`, with randoms from the system RNG.
///
/// `apdus` counts the commands sent.
///
/// # Errors
/// [`Error::AccessDenied`] when the chip refuses the password (6300, 6982)
/// or its token does not verify; [`Error::Status`] for other refusals.
pub fn establish<C: CardChannel>(
    channel: &mut C,
    protocol: PaceProtocol,
    parameter_id: u32,
    password: &Password,
    apdus: &mut usize,
) -> Result<PaceOutcome, Error> {
    let (ga1, wait) = start(protocol, parameter_id, password)?;
    send(
        channel,
        &mse_set_at(&protocol, password),
        "MSE:Set AT",
        apdus,
    )?;
    let nonce = send(channel, &ga1, "GENERAL AUTHENTICATE (nonce)", apdus)?;
    let secret = wait.random_mapping_secret()?;
    let (ga2, wait) = wait.map(&nonce, &secret)?;
    let mapping = send(channel, &ga2, "GENERAL AUTHENTICATE (mapping)", apdus)?;
    let ephemeral = wait.random_ephemeral_private()?;
    let (ga3, wait) = wait.agree(&mapping, &ephemeral)?;
    let key = send(channel, &ga3, "GENERAL AUTHENTICATE (key agreement)", apdus)?;
    let (ga4, wait) = wait.authenticate(&key)?;
    let token = send(channel, &ga4, "GENERAL AUTHENTICATE (token)", apdus)?;
    wait.finish(&token).map_err(|e| match e {
        Error::CardMisbehaved(CardFault::BadPaceToken) => {
            Error::AccessDenied("chip's PACE token does not verify")
        }
        e => e,
    })
}

// ---------------------------------------------------------------------------
// The chip's side
// ---------------------------------------------------------------------------

/// The chip's answer to the first GENERAL AUTHENTICATE: the nonce `s` encrypted with K_pi.
///
/// `s` must be one cipher block from a cryptographic RNG.
///
/// # Errors
/// [`Error::Unsupported`] for unsupported parameters; [`Error::ApiMisuse`] for a bad `s`.
pub fn chip_start(
    protocol: PaceProtocol,
    parameter_id: u32,
    password: &Password,
    s: &[u8],
    command_data: &[u8],
) -> Result<(Vec<u8>, ChipAwaitMapping), Error> {
    expect_empty(command_data)?;
    let ctx = Context::new(protocol, parameter_id, password)?;
    if s.len() != protocol.cipher.block_len() {
        return Err(Error::ApiMisuse("PACE nonce must be one cipher block"));
    }
    let z = ctx.encrypt_nonce(s)?;
    Ok((
        tlv::encode(0x7C, &tlv::encode(0x80, &z)),
        ChipAwaitMapping {
            ctx,
            s: Zeroizing::new(s.to_vec()),
        },
    ))
}

/// A random nonce s of one block for [`chip_start`].
///
/// # Errors
/// [`Error::Unsupported`] without a system random source.
pub fn random_nonce(protocol: &PaceProtocol) -> Result<Zeroizing<Vec<u8>>, Error> {
    random_bytes(protocol.cipher.block_len())
}

impl ChipAwaitMapping {
    /// Maps the nonce with the terminal's mapping data; answers the chip's mapping public key (GM, CAM) or nothing (IM).
    ///
    /// # Errors
    /// [`Error::AccessDenied`] for invalid terminal data.
    pub fn respond(
        self,
        command_data: &[u8],
        mapping_private: &[u8],
    ) -> Result<(Vec<u8>, ChipAwaitKeyAgreement), Error> {
        let terminal = single_object(command_data, 0x81, "terminal mapping data")?;
        let (mapped, answer) = match self.ctx.protocol.mapping {
            Mapping::Integrated => {
                if terminal.len() != self.ctx.protocol.cipher.block_len() {
                    return Err(Error::AccessDenied("nonce t is not one block"));
                }
                (
                    self.ctx.map_integrated(&self.s, &terminal)?,
                    tlv::encode(0x7C, &[]),
                )
            }
            _ => {
                let own = self.ctx.group.public_key(mapping_private)?;
                if own == terminal {
                    return Err(Error::AccessDenied(
                        "terminal echoed the chip's mapping key",
                    ));
                }
                let h = self.ctx.group.shared(mapping_private, &terminal)?;
                (
                    self.ctx.group.map_generic(&self.s, &h)?,
                    tlv::encode(0x7C, &tlv::encode(0x82, &own)),
                )
            }
        };
        Ok((
            answer,
            ChipAwaitKeyAgreement {
                ctx: self.ctx,
                mapped,
                mapping_private: Zeroizing::new(mapping_private.to_vec()),
            },
        ))
    }

    /// A random mapping private key for [`ChipAwaitMapping::respond`] (unused with IM).
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a system random source.
    pub fn random_private(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.ctx.group.random_private()
    }
}

impl ChipAwaitKeyAgreement {
    /// Answers the chip's ephemeral public key and derives the session keys.
    ///
    /// # Errors
    /// [`Error::AccessDenied`] for an invalid terminal key.
    pub fn respond(
        self,
        command_data: &[u8],
        ephemeral_private: &[u8],
    ) -> Result<(Vec<u8>, ChipAwaitToken), Error> {
        let terminal = single_object(command_data, 0x83, "terminal ephemeral public key")?;
        let own = self.mapped.public_key(ephemeral_private)?;
        if own == terminal {
            return Err(Error::AccessDenied(
                "terminal echoed the chip's ephemeral key",
            ));
        }
        let keys = self
            .ctx
            .session_keys(&self.mapped, ephemeral_private, &terminal)?;
        Ok((
            tlv::encode(0x7C, &tlv::encode(0x84, &own)),
            ChipAwaitToken {
                ctx: self.ctx,
                keys,
                ephemeral_public: own,
                terminal_ephemeral_public: terminal,
                mapping_private: self.mapping_private,
            },
        ))
    }

    /// A random ephemeral private key for [`ChipAwaitKeyAgreement::respond`].
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a system random source.
    pub fn random_private(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.ctx.group.random_private()
    }
}

impl ChipAwaitToken {
    /// Checks the terminal's token and answers the chip's, with A_IC for CAM; returns the chip's secure channel.
    ///
    /// `chip_static_private` is the chip's Chip Authentication private key (CAM only).
    ///
    /// # Errors
    /// [`Error::AccessDenied`] when the terminal's token is wrong (another password).
    pub fn respond(
        self,
        command_data: &[u8],
        chip_static_private: Option<&[u8]>,
    ) -> Result<(Vec<u8>, SecureChannel), Error> {
        let t_ifd = single_object(command_data, 0x85, "terminal token")?;
        let expected = self.ctx.token(&self.keys, &self.ephemeral_public)?;
        if !crypto::ct_eq(&expected, &t_ifd) {
            return Err(Error::AccessDenied("terminal's PACE token does not verify"));
        }
        let t_ic = self
            .ctx
            .token(&self.keys, &self.terminal_ephemeral_public)?;
        let mut inner = tlv::encode(0x86, &t_ic);
        if self.ctx.protocol.mapping == Mapping::ChipAuthentication {
            let sk =
                chip_static_private.ok_or(Error::ApiMisuse("CAM needs the chip's static key"))?;
            let ca = Zeroizing::new(self.ctx.group.ec_inverse_times(sk, &self.mapping_private)?);
            let iv = crypto::aes_encrypt_block(self.keys.enc.as_bytes(), &[0xFF; 16])?;
            let a_ic =
                crypto::aes_cbc_encrypt(self.keys.enc.as_bytes(), &iv, &crypto::pad(&ca, 16))?;
            inner.extend_from_slice(&tlv::encode(0x8A, &a_ic));
        }
        let channel = SecureChannel::from_keys(
            self.ctx.protocol.cipher,
            self.keys.enc.clone(),
            self.keys.mac.clone(),
        )?;
        Ok((tlv::encode(0x7C, &inner), channel))
    }
}

/// The chip's static public key for `private` in the standard group (for a simulator's DG14).
///
/// # Errors
/// [`Error::Unsupported`] for unsupported parameters.
pub fn static_public_key(parameter_id: u32, private: &[u8]) -> Result<Vec<u8>, Error> {
    Group::standard(parameter_id)?.public_key(private)
}

// ---------------------------------------------------------------------------
// Helpers shared by both sides
// ---------------------------------------------------------------------------

impl Context {
    fn new(protocol: PaceProtocol, parameter_id: u32, password: &Password) -> Result<Self, Error> {
        if !is_supported(&protocol, parameter_id) {
            return Err(Error::Unsupported(
                "PACE protocol with these domain parameters",
            ));
        }
        Ok(Self {
            protocol,
            group: Group::standard(parameter_id)?,
            k_pi: password.k_pi(protocol.cipher),
        })
    }

    /// s = D(K_pi, z), CBC with a zero IV (9303-11 section 4.4.3.1).
    fn decrypt_nonce(&self, z: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if z.len() != self.protocol.cipher.block_len() {
            return Err(CardFault::MissingDataObject("encrypted nonce of one block").into());
        }
        Ok(Zeroizing::new(match self.protocol.cipher {
            SmCipher::Tdes => crypto::tdes_cbc_decrypt(&self.tdes_k_pi()?, z)?,
            _ => crypto::aes_cbc_decrypt(self.k_pi.as_bytes(), &[0; 16], z)?,
        }))
    }

    /// z = E(K_pi, s), CBC with a zero IV.
    fn encrypt_nonce(&self, s: &[u8]) -> Result<Vec<u8>, Error> {
        match self.protocol.cipher {
            SmCipher::Tdes => crypto::tdes_cbc_encrypt(&self.tdes_k_pi()?, s),
            _ => crypto::aes_cbc_encrypt(self.k_pi.as_bytes(), &[0; 16], s),
        }
    }

    fn tdes_k_pi(&self) -> Result<crypto::TdesKey, Error> {
        <[u8; 16]>::try_from(self.k_pi.as_bytes())
            .map(crypto::TdesKey)
            .map_err(|_| Error::ApiMisuse("3DES K_pi"))
    }

    /// Integrated Mapping: G~ = f_G(R_p(s, t)) (9303-11 section 4.4.3.3.2).
    fn map_integrated(&self, s: &[u8], t: &[u8]) -> Result<Group, Error> {
        let r = im_prf(s, t, self.group.p_bits()?)?;
        self.group.map_integrated(&r)
    }

    /// K from the ephemeral keys, then KS_enc and KS_mac (9303-11 section 4.4.3.4, 9.7.1).
    fn session_keys(
        &self,
        mapped: &Group,
        private: &[u8],
        peer: &[u8],
    ) -> Result<SessionKeys, Error> {
        let shared = mapped.shared(private, peer)?;
        let k = mapped.secret_of(&shared);
        Ok(SessionKeys {
            enc: crypto::kdf(&k, KdfCounter::Enc, self.protocol.cipher),
            mac: crypto::kdf(&k, KdfCounter::Mac, self.protocol.cipher),
        })
    }

    /// T = MAC(KS_mac, 7F49 { 06 OID, 86 point | 84 DH value }) over the other side's key (9303-11 section 4.4.3.5, 9.4.2).
    fn token(&self, keys: &SessionKeys, public_key: &[u8]) -> Result<[u8; 8], Error> {
        let tag = match self.protocol.key_agreement {
            KeyAgreement::Ecdh => 0x86,
            KeyAgreement::Dh => 0x84,
        };
        let mut inner = tlv::encode(0x06, &self.protocol.oid_bytes());
        inner.extend_from_slice(&tlv::encode(tag, public_key));
        let data = tlv::encode(0x7F49, &inner);
        match self.protocol.cipher {
            SmCipher::Tdes => {
                let key = <[u8; 16]>::try_from(keys.mac.as_bytes())
                    .map(crypto::TdesKey)
                    .map_err(|_| Error::ApiMisuse("3DES KS_mac"))?;
                Ok(crypto::retail_mac(&key, &crypto::pad(&data, crypto::BLOCK)))
            }
            _ => {
                let full = crypto::aes_cmac(keys.mac.as_bytes(), &data)?;
                let mut out = [0u8; 8];
                out.copy_from_slice(&full[..8]);
                Ok(out)
            }
        }
    }
}

/// R(s, t) of the Integrated Mapping with AES-128: key_1 = E(t, s), x_i = E(key_i, c1), key_i+1 = E(key_i, c0) (9303-11 section 4.4.3.3.2).
fn im_prf(s: &[u8], t: &[u8], p_bits: u32) -> Result<Vec<u8>, Error> {
    let block = |key: &[u8], data: &[u8]| -> Result<[u8; 16], Error> {
        let data: [u8; 16] = data
            .try_into()
            .map_err(|_| Error::ApiMisuse("IM nonce length"))?;
        crypto::aes_encrypt_block(key, &data)
    };
    let n = (p_bits as usize + 64).div_ceil(128);
    let mut key = Zeroizing::new(block(t, s)?);
    let mut out = Vec::with_capacity(n * 16);
    for _ in 0..n {
        out.extend_from_slice(&block(key.as_slice(), &IM_C1_128)?);
        *key = block(key.as_slice(), &IM_C0_128)?;
    }
    Ok(out)
}

/// CA_IC from A_IC: AES-CBC with IV = E(KS_enc, -1) and padding (9303-11 section 4.4.3.3.3).
fn decrypt_ca_data(ks_enc: &SessionKey, a_ic: &[u8]) -> Result<Vec<u8>, Error> {
    let iv = crypto::aes_encrypt_block(ks_enc.as_bytes(), &[0xFF; 16])?;
    let padded = Zeroizing::new(crypto::aes_cbc_decrypt(ks_enc.as_bytes(), &iv, a_ic)?);
    Ok(crypto::unpad(&padded)?.to_vec())
}

/// The data objects inside `7C` dynamic authentication data.
fn dynamic_objects(data: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, Error> {
    let outer = tlv::parse_single_named(data, 0x7C, "dynamic authentication data")?;
    let mut out = Vec::new();
    for child in outer.children() {
        let child = child?;
        out.push((child.tag, child.value.to_vec()));
    }
    Ok(out)
}

fn find_object(objects: &[(u32, Vec<u8>)], tag: u32) -> Option<&[u8]> {
    objects
        .iter()
        .find(|(t, _)| *t == tag)
        .map(|(_, v)| v.as_slice())
}

/// The one data object `tag` inside `7C`.
fn single_object(data: &[u8], tag: u32, what: &'static str) -> Result<Vec<u8>, Error> {
    let objects = dynamic_objects(data)?;
    match objects.as_slice() {
        [(t, v)] if *t == tag && !v.is_empty() => Ok(v.clone()),
        _ => Err(crate::ParseError::new(what, 0, ParseErrorKind::Missing(what)).into()),
    }
}

fn expect_empty(data: &[u8]) -> Result<(), Error> {
    if dynamic_objects(data)?.is_empty() {
        Ok(())
    } else {
        Err(crate::ParseError::new(
            "dynamic authentication data",
            0,
            ParseErrorKind::Invalid("expected empty 7C"),
        )
        .into())
    }
}

fn random_bytes(n: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut out = Zeroizing::new(vec![0u8; n]);
    getrandom::fill(&mut out).map_err(|_| Error::Unsupported("no system random source"))?;
    Ok(out)
}

/// Sends one plain PACE command and returns the response data of a 9000.
fn send<C: CardChannel>(
    channel: &mut C,
    cmd: &Command,
    what: &'static str,
    apdus: &mut usize,
) -> Result<Vec<u8>, Error> {
    *apdus += 1;
    let resp = Response::parse(channel.transmit(&cmd.encode(false))?)?;
    match resp.sw {
        SW_OK => Ok(resp.data),
        0x6300..=0x63CF | 0x6982 if cmd.ins == 0x86 => {
            Err(Error::AccessDenied("chip refused the PACE password"))
        }
        sw => Err(Error::Status { command: what, sw }),
    }
}

#[cfg(test)]
mod tests;
