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
        }
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
