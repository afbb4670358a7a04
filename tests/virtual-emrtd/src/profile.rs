//! What a virtual chip holds and how it misbehaves: plain data, no behaviour.

use std::time::Duration;

use crate::face::FaceImage;

/// Largest `dg2_min_size` accepted: 16 MiB (terminals refuse files far smaller).
pub const MAX_DG2_MIN_SIZE: usize = 16 << 20;

/// Everything a [`crate::VirtualChip`] is built from.
#[derive(Clone, PartialEq, Eq)]
pub struct ChipProfile {
    /// The MRZ, 2 or 3 lines separated by line breaks (personal data: never logged).
    pub mrz: String,
    /// The face stored in DG2.
    pub face: FaceImage,
    /// Ways to misbehave, all off by default.
    pub misbehaviour: Vec<Misbehaviour>,
    /// Whether the chip takes extended-length APDUs and says so in its ATR.
    pub extended_length: bool,
    /// Pad the face so that DG2 is at least this many bytes (0: no padding).
    ///
    /// Above 32,767 bytes the terminal must use the odd-INS READ BINARY.
    pub dg2_min_size: usize,
    /// PACE (9303-11 §4.4) and EF.CardAccess, if the chip offers it.
    pub pace: Option<PaceConfig>,
    /// Chip Authentication (9303-11 §6.2) and its keys in DG14, if the chip offers it.
    pub chip_authentication: Option<CaConfig>,
    /// Active Authentication (9303-11 §6.1) and its key in DG15, if the chip offers it.
    pub active_authentication: Option<AaKey>,
    /// EF.SOD to serve instead of the unsigned placeholder (e.g. one signed by the test PKI).
    pub sod: Option<Vec<u8>>,
}

/// A chip's Chip Authentication offer: one ChipAuthenticationInfo and its public key in DG14.
#[derive(Clone, PartialEq, Eq)]
pub struct CaConfig {
    /// The CA protocol OID, dotted (e.g. `0.4.0.127.0.7.2.2.3.2.2`, id-CA-ECDH-AES-CBC-CMAC-128).
    pub oid: String,
    /// The standardized domain parameter ID of the chip's key (9303-11 §9.5.1; 12 is P-256).
    pub parameter_id: u32,
    /// The keyId in DG14 (and expected in MSE), if any.
    pub key_id: Option<u32>,
    /// The static private key, big-endian; `None`: generated when the chip is built.
    pub private_key: Option<Vec<u8>>,
    /// Write the EC key's domain parameters out in full (`ECParameters`, RFC 3279 §2.3.5) instead of a namedCurve OID, as many chips do.
    pub explicit_parameters: bool,
}

impl std::fmt::Debug for CaConfig {
    /// Everything but the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaConfig")
            .field("oid", &self.oid)
            .field("parameter_id", &self.parameter_id)
            .field("key_id", &self.key_id)
            .field("explicit_parameters", &self.explicit_parameters)
            .finish_non_exhaustive()
    }
}

impl CaConfig {
    /// CA with `oid` on standardized domain parameters `parameter_id`, a generated key and no keyId.
    pub fn new(oid: impl Into<String>, parameter_id: u32) -> Self {
        Self {
            oid: oid.into(),
            parameter_id,
            key_id: None,
            private_key: None,
            explicit_parameters: false,
        }
    }

    /// Writes the key with explicit EC domain parameters in DG14.
    pub fn with_explicit_parameters(mut self) -> Self {
        self.explicit_parameters = true;
        self
    }
}

impl Default for CaConfig {
    /// id-CA-ECDH-AES-CBC-CMAC-128 on P-256.
    fn default() -> Self {
        Self::new("0.4.0.127.0.7.2.2.3.2.2", 12)
    }
}

/// The kind of Active Authentication key the chip generates when it is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AaKey {
    /// RSA-1024, ISO/IEC 9796-2 scheme 1 with SHA-1.
    Rsa1024,
    /// RSA-2048, ISO/IEC 9796-2 scheme 1 with SHA-1.
    Rsa2048,
    /// ECDSA on P-256 with SHA-256 (DG14 carries the ActiveAuthenticationInfo).
    P256,
    /// As [`AaKey::P256`], with DG15's key giving explicit domain parameters (`ECParameters`, RFC 3279 §2.3.5) instead of the curve's OID.
    P256ExplicitParameters,
}

/// A chip's PACE offer: one PACEInfo in EF.CardAccess.
#[derive(Clone, PartialEq, Eq)]
pub struct PaceConfig {
    /// The PACE protocol OID, dotted (e.g. `0.4.0.127.0.7.2.2.4.2.2`, id-PACE-ECDH-GM-AES-CBC-CMAC-128).
    pub oid: String,
    /// The standardized domain parameter ID (9303-11 §9.5.1; 12 is P-256, 13 brainpoolP256r1, 0 the 1024-bit MODP group).
    pub parameter_id: u32,
    /// The card access number, if the chip accepts one (personal data: never logged).
    pub can: Option<String>,
    /// Whether the chip still answers BAC (GET CHALLENGE, EXTERNAL AUTHENTICATE); off: 6D00.
    pub bac_enabled: bool,
}

impl std::fmt::Debug for PaceConfig {
    /// Everything but the CAN.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaceConfig")
            .field("oid", &self.oid)
            .field("parameter_id", &self.parameter_id)
            .field("can", &self.can.as_ref().map(|_| "<redacted>"))
            .field("bac_enabled", &self.bac_enabled)
            .finish()
    }
}

impl PaceConfig {
    /// PACE with `oid` and `parameter_id`, MRZ password only, BAC still answered.
    pub fn new(oid: impl Into<String>, parameter_id: u32) -> Self {
        Self {
            oid: oid.into(),
            parameter_id,
            can: None,
            bac_enabled: true,
        }
    }
}

/// One way for the chip to act like the awkward chips found in the field.
///
/// Each is observable by the terminal; several may be combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Corrupt the response MAC of the `read`-th READ BINARY (1-based, counted
    /// over the chip's life, across resets); the chip keeps its session.
    BadMac {
        /// Which READ BINARY, counting from 1.
        read: usize,
    },
    /// Answer `sw` to every command of this kind (protected under secure messaging, plain before it).
    WrongSw {
        /// Which commands.
        on: CommandKind,
        /// The status word to answer.
        sw: u16,
    },
    /// DG2's header announces `missing` more bytes than the file holds, so
    /// reads end in 6282 and then 6B00.
    TruncatedFile {
        /// Bytes announced but absent.
        missing: usize,
    },
    /// DG2's header announces 0x7FFFFFFF bytes (`75 84 7F FF FF FF`).
    OversizedLength,
    /// Delay every response APDU by this long (applied by the vpcd loop, not by `process`).
    Slow(Duration),
    /// Answer 6700 to READ BINARY with Le above `max`, protected (session
    /// kept) or, with `drop_session`, plain (session dropped).
    RefuseReadsAbove {
        /// Largest Le accepted.
        max: usize,
        /// Answer in plain and drop the secure-messaging session.
        drop_session: bool,
    },
    /// Answer plain 6700 to every extended-length APDU (and drop the session),
    /// even when the ATR says extended length is supported.
    NoExtendedLength,
    /// Once BAC has succeeded, never answer again until reset or power-off.
    NeverAnswer,
    /// PACE: send a wrong authentication token T_IC (a chip that does not know the password, or lies).
    LyingToken,
    /// PACE: send a mapping public key that is not on the curve (or outside the DH group).
    BadMappingPoint,
    /// A cloned chip: DG14 announces the Chip Authentication key, but the chip agrees with another private key.
    CloneWithoutCaKey,
    /// A cloned chip: DG15 holds the Active Authentication key, but the chip signs with another one.
    CloneWithoutAaKey,
    /// Answer 6A86 (incorrect P1-P2) to every READ BINARY naming a file by short EF identifier (ISO/IEC 7816-4 §11.2.3), so the terminal must SELECT.
    NoShortFileIds,
    /// Answer 6700 to a READ BINARY whose Le exceeds what is left of the file, instead of the remainder with 6282 (ISO/IEC 7816-4 §11.2.3 allows both).
    StrictLe,
}

/// A kind of command, for [`Misbehaviour::WrongSw`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    /// SELECT of the eMRTD application by AID.
    SelectApplication,
    /// GET CHALLENGE.
    GetChallenge,
    /// EXTERNAL AUTHENTICATE (BAC).
    ExternalAuthenticate,
    /// SELECT of an elementary file: this file id, or any with `None`.
    SelectFile {
        /// File identifier, `None` for every file.
        fid: Option<u16>,
    },
    /// READ BINARY (even or odd INS) of this file, or any with `None`.
    ReadBinary {
        /// File identifier, `None` for every file.
        fid: Option<u16>,
    },
}

impl std::fmt::Debug for ChipProfile {
    /// Everything but the MRZ, which is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChipProfile")
            .field("mrz", &"<redacted>")
            .field("face", &self.face)
            .field("misbehaviour", &self.misbehaviour)
            .field("extended_length", &self.extended_length)
            .field("dg2_min_size", &self.dg2_min_size)
            .field("pace", &self.pace)
            .field("chip_authentication", &self.chip_authentication)
            .field("active_authentication", &self.active_authentication)
            .field("sod", &self.sod.as_ref().map(Vec::len))
            .finish()
    }
}

/// A profile a chip cannot be built from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The MRZ does not parse or fails a check digit.
    #[error("invalid MRZ: {0}")]
    Mrz(#[from] icao9303::mrz::MrzError),
    /// The BAC keys could not be derived from the MRZ.
    #[error("cannot derive BAC keys: {0}")]
    Keys(#[source] icao9303::Error),
    /// `dg2_min_size` is above [`MAX_DG2_MIN_SIZE`].
    #[error("dg2_min_size {0} exceeds {MAX_DG2_MIN_SIZE}")]
    Dg2TooLarge(usize),
    /// The PACE configuration names a protocol or domain parameters icao9303 cannot run.
    #[error("unsupported PACE configuration: {0}")]
    Pace(#[source] icao9303::Error),
    /// The Chip or Active Authentication configuration cannot be built (protocol, curve or key).
    #[error("unsupported Chip or Active Authentication configuration: {0}")]
    Authentication(#[source] icao9303::Error),
}

impl ChipProfile {
    /// A well-behaved chip with `mrz`, the bundled synthetic JPEG face and extended length on.
    pub fn new(mrz: impl Into<String>) -> Self {
        Self {
            mrz: mrz.into(),
            face: FaceImage::synthetic_jpeg(),
            misbehaviour: Vec::new(),
            extended_length: true,
            dg2_min_size: 0,
            pace: None,
            chip_authentication: None,
            active_authentication: None,
            sod: None,
        }
    }

    /// Offers Chip Authentication: DG14 with a ChipAuthenticationInfo and its public key.
    ///
    /// With PACE-CAM on the same domain parameters, CAM uses this key too.
    pub fn with_chip_authentication(mut self, ca: CaConfig) -> Self {
        self.chip_authentication = Some(ca);
        self
    }

    /// Offers Active Authentication: DG15 with a key of this kind (and for ECDSA an ActiveAuthenticationInfo in DG14).
    pub fn with_active_authentication(mut self, key: AaKey) -> Self {
        self.active_authentication = Some(key);
        self
    }

    /// Serves `sod` as EF.SOD instead of the unsigned placeholder.
    pub fn with_sod(mut self, sod: Vec<u8>) -> Self {
        self.sod = Some(sod);
        self
    }

    /// Offers PACE (and EF.CardAccess in the master file).
    pub fn with_pace(mut self, pace: PaceConfig) -> Self {
        self.pace = Some(pace);
        self
    }

    /// Replaces the face.
    pub fn with_face(mut self, face: FaceImage) -> Self {
        self.face = face;
        self
    }

    /// Adds a misbehaviour.
    pub fn with(mut self, misbehaviour: Misbehaviour) -> Self {
        self.misbehaviour.push(misbehaviour);
        self
    }

    /// Turns extended-length support on or off.
    pub fn with_extended_length(mut self, on: bool) -> Self {
        self.extended_length = on;
        self
    }

    /// Pads the face so that DG2 is at least `bytes` long.
    pub fn with_dg2_min_size(mut self, bytes: usize) -> Self {
        self.dg2_min_size = bytes;
        self
    }
}
