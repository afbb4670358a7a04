//! The chip: an LDS1 application behind BAC and secure messaging, APDU in, APDU out.
//!
//! Before BAC the chip answers in plain: SELECT of the eMRTD application,
//! GET CHALLENGE and EXTERNAL AUTHENTICATE (9303-11 §4.3); files are refused
//! with 6982. After BAC every command must be protected (9303-11 §9.8): a
//! secure-messaging error or an unprotected command gets a plain 6988 and
//! ends the session, as on real chips. A plain SELECT of the eMRTD
//! application is the exception: it is processed and resets the security
//! state (ISO/IEC 7816-4 §7.1.1), so a terminal can start over without a
//! reset. Rule of thumb: whenever the chip answers in plain, the session is gone.

use std::time::Duration;

use icao9303::aa::{AaHash, AaPrivateKey, ActiveAuthenticationInfo};
use icao9303::apdu::{Command, Response, SW_OK};
use icao9303::bac::{self, BacKeys};
use icao9303::ca::{self, CaProtocol, ChipAuthenticationInfo, ChipKeyPair};
use icao9303::crypto::SmCipher;
use icao9303::ecparams;
use icao9303::mrz::{self, Mode};
use icao9303::pace::{self, PaceProtocol, Password};
use icao9303::reader::Reader;
use icao9303::session::LDS1_AID;
use icao9303::sm::SecureChannel;
use icao9303::tlv;

use crate::atr;
use crate::lds::{self, Dg2Header, FID_COM, FID_DG1, FID_DG2, FID_DG14, FID_DG15, FID_SOD};
use crate::profile::{
    AaKey, CaConfig, ChipProfile, CommandKind, MAX_DG2_MIN_SIZE, Misbehaviour, PaceConfig,
    ProfileError,
};

/// Largest response data field of a short APDU (Ne = 256).
const SHORT_RESPONSE: usize = 256;
/// Largest response data field of an extended APDU, so that data and SW fit
/// vpcd's 2-byte message length (ISO/IEC 7816-4 allows 65,536).
const EXTENDED_RESPONSE: usize = 0xFFFF - 2;
/// DO'99' (4 bytes) and DO'8E' (10 bytes) in every protected response (9303-11 §9.8.5).
const SW_AND_MAC_DOS: usize = 4 + 10;

/// A virtual eMRTD chip with BAC (9303-11 §4.3) and 3DES secure messaging (9303-11 §9.8).
#[derive(Debug)]
pub struct VirtualChip {
    keys: BacKeys,
    pace: Option<ChipPace>,
    ca: Option<ChipCa>,
    aa: Option<ChipAa>,
    files: Vec<ElementaryFile>,
    misbehaviour: Vec<Misbehaviour>,
    extended_length: bool,
    state: CardState,
    /// READ BINARY commands received under secure messaging, over the chip's life.
    reads: usize,
}

/// One elementary file of the LDS1 application.
struct ElementaryFile {
    fid: u16,
    /// Short EF identifier (9303-10 §4.1, table 29).
    sfi: u8,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for ElementaryFile {
    /// File id and size only: DG1 and DG2 are personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EF {:04X} ({} bytes)", self.fid, self.bytes.len())
    }
}

/// The chip's PACE configuration, checked.
#[derive(Debug)]
struct ChipPace {
    protocol: PaceProtocol,
    parameter_id: u32,
    mrz: Password,
    can: Option<Password>,
    bac_enabled: bool,
    /// EF.CardAccess: `31 { PACEInfo }`.
    card_access: Vec<u8>,
    /// The Chip Authentication private key for PACE-CAM.
    static_private: Vec<u8>,
}

/// The chip's Chip Authentication (9303-11 §6.2).
#[derive(Debug)]
struct ChipCa {
    protocol: CaProtocol,
    key_id: Option<u32>,
    /// The key pair whose public half DG14 announces.
    announced: ChipKeyPair,
    /// The key pair the chip agrees with: `announced`, or another one for [`Misbehaviour::CloneWithoutCaKey`].
    held: ChipKeyPair,
    /// DG14 gives the key's EC domain parameters in full.
    explicit_parameters: bool,
}

/// The chip's Active Authentication (9303-11 §6.1).
#[derive(Debug)]
struct ChipAa {
    /// The key INTERNAL AUTHENTICATE signs with (not DG15's for [`Misbehaviour::CloneWithoutAaKey`]).
    signing: AaPrivateKey,
    /// The ECDSA hash (DG14's ActiveAuthenticationInfo).
    hash: AaHash,
}

/// What Active Authentication puts in the LDS.
struct AaFiles {
    /// DG15.
    dg15: Vec<u8>,
    /// DG14's ActiveAuthenticationInfo (ECDSA only).
    info: Option<Vec<u8>>,
}

/// Where the chip is in a PACE run.
#[derive(Debug, Default)]
enum PaceStep {
    #[default]
    Idle,
    /// MSE:Set AT accepted with this password.
    Set(Password),
    Mapping(pace::ChipAwaitMapping),
    KeyAgreement(pace::ChipAwaitKeyAgreement),
    Token(pace::ChipAwaitToken),
}

/// What a power cycle forgets.
#[derive(Debug, Default)]
struct CardState {
    /// EF.CardAccess is the current file of the master file (plain reads).
    card_access_selected: bool,
    pace: PaceStep,
    app_selected: bool,
    challenge: Option<[u8; 8]>,
    session: Option<SecureChannel>,
    /// Index of the current EF in `files`.
    current: Option<usize>,
    /// [`Misbehaviour::NeverAnswer`] has struck.
    silent: bool,
    /// Chip Authentication with AES: MSE:Set AT accepted, GENERAL AUTHENTICATE expected.
    ca_set: bool,
    /// The channel Chip Authentication made, taking over after the current response.
    next_session: Option<SecureChannel>,
}

/// The answer to a command received under secure messaging.
enum SmReply {
    /// Wrap it in secure messaging; the session goes on.
    Protected(Response),
    /// Answer this status word in plain; the session ends.
    Plain(u16),
}

impl VirtualChip {
    /// Builds the chip's files and BAC keys from `profile`.
    ///
    /// # Errors
    /// [`ProfileError`] when the MRZ fails `icao9303::mrz::parse` (strict) or
    /// `dg2_min_size` is out of range.
    pub fn new(profile: ChipProfile) -> Result<Self, ProfileError> {
        let ChipProfile {
            mrz,
            face,
            misbehaviour,
            extended_length,
            dg2_min_size,
            pace: pace_config,
            chip_authentication,
            active_authentication,
            sod,
        } = profile;
        if dg2_min_size > MAX_DG2_MIN_SIZE {
            return Err(ProfileError::Dg2TooLarge(dg2_min_size));
        }
        let lines: Vec<&str> = mrz
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let parsed = mrz::parse(&lines.join("\n"), Mode::Strict)?;
        let keys = BacKeys::from_mrz(&parsed).map_err(ProfileError::Keys)?;
        let clone_ca = misbehaviour.contains(&Misbehaviour::CloneWithoutCaKey);
        let ca = match chip_authentication {
            Some(config) => Some(ChipCa::new(config, clone_ca)?),
            None => None,
        };
        let clone_aa = misbehaviour.contains(&Misbehaviour::CloneWithoutAaKey);
        let (aa, dg15, aa_info) = match active_authentication {
            Some(kind) => {
                let (aa, files) = ChipAa::new(kind, clone_aa)?;
                (Some(aa), Some(files.dg15), files.info)
            }
            None => (None, None, None),
        };
        let mut pace = match pace_config {
            Some(config) => Some(ChipPace::new(
                config,
                Password::from_mrz(&parsed).map_err(ProfileError::Keys)?,
            )?),
            None => None,
        };
        // PACE-CAM proves the Chip Authentication key when it is on the same domain parameters.
        if let (Some(pace), Some(ca)) = (pace.as_mut(), ca.as_ref())
            && ca.held.parameter_id() == pace.parameter_id
        {
            pace.static_private = ca.held.private_key().to_vec();
        }
        let mut dg14_infos = Vec::new();
        if let Some(ca) = &ca {
            dg14_infos.extend(ca.dg14_infos()?);
        }
        dg14_infos.extend(aa_info);
        let header = misbehaviour
            .iter()
            .find_map(|m| match m {
                Misbehaviour::OversizedLength => Some(Dg2Header::Oversized),
                Misbehaviour::TruncatedFile { missing } => Some(Dg2Header::Truncated(*missing)),
                _ => None,
            })
            .unwrap_or_default();
        let mut tags = vec![0x61, 0x75];
        if !dg14_infos.is_empty() {
            tags.push(0x6E);
        }
        if dg15.is_some() {
            tags.push(0x6F);
        }
        // SFIs: DG1 1, DG2 2, DG14 0E, DG15 0F, EF.SOD 1D, EF.COM 1E (9303-10 §4.1).
        let mut files = vec![
            ElementaryFile {
                fid: FID_COM,
                sfi: 0x1E,
                bytes: lds::ef_com(&tags),
            },
            ElementaryFile {
                fid: FID_SOD,
                sfi: 0x1D,
                bytes: sod.unwrap_or_else(lds::ef_sod_placeholder),
            },
            ElementaryFile {
                fid: FID_DG1,
                sfi: 0x01,
                bytes: lds::dg1(&lines.concat()),
            },
            ElementaryFile {
                fid: FID_DG2,
                sfi: 0x02,
                bytes: lds::dg2_at_least(&face, header, dg2_min_size),
            },
        ];
        if !dg14_infos.is_empty() {
            files.push(ElementaryFile {
                fid: FID_DG14,
                sfi: 0x0E,
                bytes: lds::dg14(&dg14_infos),
            });
        }
        if let Some(bytes) = dg15 {
            files.push(ElementaryFile {
                fid: FID_DG15,
                sfi: 0x0F,
                bytes,
            });
        }
        Ok(Self {
            keys,
            pace,
            ca,
            aa,
            files,
            misbehaviour,
            extended_length,
            state: CardState::default(),
            reads: 0,
        })
    }

    /// Processes one command APDU and returns the response APDU (empty when the chip stays silent).
    ///
    /// Never panics, whatever the bytes. See [`Self::answer`] to tell silence apart.
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.answer(apdu).unwrap_or_default()
    }

    /// Processes one command APDU; `None` when the chip does not answer ([`Misbehaviour::NeverAnswer`]).
    pub fn answer(&mut self, apdu: &[u8]) -> Option<Vec<u8>> {
        if self.state.silent {
            return None;
        }
        if self.state.session.is_some()
            && self.misbehaves(|m| matches!(m, Misbehaviour::NeverAnswer))
        {
            self.state.silent = true;
            return None;
        }
        Some(self.respond(apdu))
    }

    /// Power cycle or warm reset: forgets the selection, the challenge and the session.
    pub fn reset(&mut self) {
        self.state = CardState::default();
    }

    /// The ATR (see [`crate::atr`]).
    pub fn atr(&self) -> Vec<u8> {
        atr::atr(self.extended_length)
    }

    /// Whether the chip takes extended-length APDUs (and says so in its ATR).
    pub fn extended_length(&self) -> bool {
        self.extended_length
    }

    /// The contents of elementary file `fid` as the chip holds them.
    pub fn file(&self, fid: u16) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|f| f.fid == fid)
            .map(|f| f.bytes.as_slice())
    }

    /// Replaces the contents of elementary file `fid` (e.g. EF.SOD signed over this chip's data groups); `false` if the chip has no such file.
    ///
    /// The data groups never change after [`Self::new`], so an EF.SOD made
    /// from [`Self::file`]'s bytes matches what the chip serves.
    pub fn replace_file(&mut self, fid: u16, bytes: Vec<u8>) -> bool {
        match self.files.iter_mut().find(|f| f.fid == fid) {
            Some(file) => {
                file.bytes = bytes;
                true
            }
            None => false,
        }
    }

    /// Whether a secure-messaging session is open.
    pub fn has_session(&self) -> bool {
        self.state.session.is_some()
    }

    /// How long to hold back each response ([`Misbehaviour::Slow`]), if at all.
    pub fn response_delay(&self) -> Option<Duration> {
        self.misbehaviour.iter().find_map(|m| match m {
            Misbehaviour::Slow(d) => Some(*d),
            _ => None,
        })
    }

    // -----------------------------------------------------------------------
    // Dispatch
    // -----------------------------------------------------------------------

    fn respond(&mut self, raw: &[u8]) -> Vec<u8> {
        let had_session = self.state.session.is_some();
        let out = match Command::parse(raw) {
            Err(_) => plain(0x6700),
            Ok((_, true)) if self.misbehaves(|m| matches!(m, Misbehaviour::NoExtendedLength)) => {
                plain(0x6700)
            }
            Ok((cmd, extended)) if cmd.cla & 0x0C == 0x0C => {
                return self.respond_protected(raw, &cmd, extended);
            }
            Ok((cmd, _)) => {
                // SELECT of the application or the master file resets the security state.
                let select_app = cmd.ins == 0xA4 && matches!(cmd.p1, 0x00 | 0x04);
                if had_session && !select_app {
                    plain(0x6988)
                } else {
                    self.state.session = None;
                    self.respond_plain(&cmd).encode()
                }
            }
        };
        // A plain answer ends the secure messaging that was open (EXTERNAL AUTHENTICATE opens a new one).
        if had_session {
            self.state.session = None;
        }
        out
    }

    /// Commands before BAC (9303-11 §4.3.4), answered in plain.
    fn respond_plain(&mut self, cmd: &Command) -> Response {
        // GENERAL AUTHENTICATE may be chained (CLA 10, ISO/IEC 7816-4 §5.4.1).
        let chained_ga = cmd.ins == 0x86 && cmd.cla == 0x10;
        if let Some(sw) = class_error(cmd.cla).filter(|_| !chained_ga) {
            return status(sw);
        }
        let bac_enabled = self.pace.as_ref().is_none_or(|p| p.bac_enabled);
        let kind = match cmd.ins {
            0xA4 if cmd.p1 == 0x04 => Some(CommandKind::SelectApplication),
            0x84 => Some(CommandKind::GetChallenge),
            0x82 => Some(CommandKind::ExternalAuthenticate),
            _ => None,
        };
        if let Some(sw) = kind.and_then(|k| self.wrong_sw(k)) {
            return status(sw);
        }
        match cmd.ins {
            0xA4 if cmd.p1 == 0x04 => self.select_application(cmd),
            0xA4 if cmd.p1 == 0x00 => self.select_master_file(cmd),
            0xA4 if cmd.p1 == 0x02 && cmd.data == [0x01, 0x1C] => self.select_card_access(),
            0xB0 if cmd.p1 & 0x80 != 0 => self.read_card_access_by_sfi(cmd),
            0xB0 if self.state.card_access_selected => self.read_card_access(cmd),
            // Files need access control first: security status not satisfied.
            0xA4 | 0xB0 | 0xB1 => status(0x6982),
            0x84 | 0x82 if !bac_enabled => status(0x6D00),
            0x84 => self.get_challenge(cmd),
            0x82 => self.external_authenticate(cmd),
            0x22 if self.pace.is_some() => self.mse_set_at(cmd),
            0x86 if self.pace.is_some() => self.general_authenticate(cmd),
            _ => status(0x6D00),
        }
    }

    /// SELECT of the master file (`00 A4 00 0C` with `3F00` or no data): leaves the application.
    fn select_master_file(&mut self, cmd: &Command) -> Response {
        if !(cmd.data.is_empty() || cmd.data == [0x3F, 0x00]) {
            return status(0x6A82);
        }
        self.state = CardState::default();
        status(SW_OK)
    }

    /// SELECT of EF.CardAccess (FID 011C) in the master file: only a PACE chip has it.
    fn select_card_access(&mut self) -> Response {
        if self.pace.is_none() || self.state.app_selected {
            return status(0x6A82);
        }
        self.state.card_access_selected = true;
        status(SW_OK)
    }

    /// Plain READ BINARY by short EF identifier in the master file: only EF.CardAccess (1C, 9303-10 §3.11.1), only on a PACE chip.
    fn read_card_access_by_sfi(&mut self, cmd: &Command) -> Response {
        if self.misbehaves(|m| matches!(m, Misbehaviour::NoShortFileIds)) || cmd.p1 & 0x60 != 0 {
            return status(0x6A86);
        }
        if cmd.p1 & 0x1F != 0x1C || self.pace.is_none() || self.state.app_selected {
            return status(0x6A82);
        }
        // ISO/IEC 7816-4 §7.2.2: the file named by a short EF identifier becomes current.
        self.state.card_access_selected = true;
        self.card_access_at(usize::from(cmd.p2), cmd.le)
    }

    /// Plain READ BINARY of EF.CardAccess (offset in P1-P2).
    fn read_card_access(&mut self, cmd: &Command) -> Response {
        let offset = usize::from(u16::from_be_bytes([cmd.p1 & 0x7F, cmd.p2]));
        self.card_access_at(offset, cmd.le)
    }

    /// EF.CardAccess from `offset`, at most Ne bytes: 6282 when the file ends first (or 6700 for [`Misbehaviour::StrictLe`]).
    fn card_access_at(&self, offset: usize, le: Option<usize>) -> Response {
        let Some(pace) = &self.pace else {
            return status(0x6986);
        };
        let Some(rest) = pace.card_access.get(offset..).filter(|r| !r.is_empty()) else {
            return status(0x6B00);
        };
        let ne = le.unwrap_or(256);
        if ne > rest.len() && self.misbehaves(|m| matches!(m, Misbehaviour::StrictLe)) {
            return status(0x6700);
        }
        let n = rest.len().min(ne);
        Response {
            data: rest.get(..n).unwrap_or(rest).to_vec(),
            sw: if n < ne { 0x6282 } else { SW_OK },
        }
    }

    /// MSE:Set AT for PACE: `00 22 C1 A4`, 80 the protocol OID, 83 the password reference (9303-11 §4.4.4.1).
    fn mse_set_at(&mut self, cmd: &Command) -> Response {
        self.state.pace = PaceStep::Idle;
        let Some(pace) = &self.pace else {
            return status(0x6D00);
        };
        if (cmd.p1, cmd.p2) != (0xC1, 0xA4) {
            return status(0x6A86);
        }
        let mut oid = None;
        let mut reference = None;
        let mut r = Reader::new(&cmd.data);
        while !r.is_empty() {
            match tlv::read_tlv(&mut r) {
                Ok(t) if t.tag == 0x80 => oid = Some(t.value.to_vec()),
                Ok(t) if t.tag == 0x83 => reference = Some(t.value.to_vec()),
                Ok(_) => {}
                Err(_) => return status(0x6A80),
            }
        }
        let expected_oid = icao9303::lds::encode_oid(&pace.protocol.oid());
        if oid.is_none() || oid != expected_oid {
            return status(0x6A80);
        }
        let password = match reference.as_deref() {
            Some([0x01]) => pace.mrz.clone(),
            Some([0x02]) => match &pace.can {
                Some(can) => can.clone(),
                None => return status(0x6A88),
            },
            _ => return status(0x6A80),
        };
        self.state.pace = PaceStep::Set(password);
        status(SW_OK)
    }

    /// GENERAL AUTHENTICATE for PACE, step by step (9303-11 §4.4.4.2); any failure ends the run.
    fn general_authenticate(&mut self, cmd: &Command) -> Response {
        let Some(pace) = &self.pace else {
            return status(0x6D00);
        };
        let last = cmd.cla == 0x00;
        let step = std::mem::take(&mut self.state.pace);
        let (protocol, id) = (pace.protocol, pace.parameter_id);
        let result = match (step, last) {
            (PaceStep::Set(password), false) => pace::random_nonce(&protocol)
                .and_then(|s| pace::chip_start(protocol, id, &password, &s, &cmd.data))
                .map(|(data, next)| (data, PaceStep::Mapping(next))),
            (PaceStep::Mapping(wait), false) => wait
                .random_private()
                .and_then(|k| wait.respond(&cmd.data, &k))
                .map(|(mut data, next)| {
                    if self.misbehaviour.contains(&Misbehaviour::BadMappingPoint)
                        && let Some(b) = data.last_mut()
                    {
                        *b ^= 0x01;
                    }
                    (data, PaceStep::KeyAgreement(next))
                }),
            (PaceStep::KeyAgreement(wait), false) => wait
                .random_private()
                .and_then(|k| wait.respond(&cmd.data, &k))
                .map(|(data, next)| (data, PaceStep::Token(next))),
            (PaceStep::Token(wait), true) => {
                return match wait.respond(&cmd.data, Some(&pace.static_private)) {
                    Ok((mut data, channel)) => {
                        // 7C L 86 08 T: the token starts at byte 4.
                        if self.misbehaviour.contains(&Misbehaviour::LyingToken)
                            && let Some(b) = data.get_mut(4)
                        {
                            *b ^= 0x01;
                        }
                        self.state.session = Some(channel);
                        self.state.app_selected = false;
                        self.state.current = None;
                        Response { data, sw: SW_OK }
                    }
                    Err(_) => status(0x6300),
                };
            }
            (PaceStep::Idle, _) => return status(0x6985),
            _ => return status(0x6985),
        };
        match result {
            Ok((data, next)) => {
                self.state.pace = next;
                Response { data, sw: SW_OK }
            }
            Err(_) => status(0x6A80),
        }
    }

    /// A command with the secure-messaging class bits (9303-11 §9.8.4–9.8.5).
    fn respond_protected(&mut self, raw: &[u8], outer: &Command, extended: bool) -> Vec<u8> {
        let Some(sm) = self.state.session.as_mut() else {
            return plain(0x6988);
        };
        let cmd = match sm.unprotect_command(raw) {
            Ok(cmd) => cmd,
            Err(_) => {
                self.state.session = None;
                return plain(0x6988);
            }
        };
        let is_read = matches!(cmd.ins, 0xB0 | 0xB1);
        if is_read {
            self.reads += 1;
        }
        // The protected response must fit the outer Ne (and the APDU form).
        let form_limit = if extended && self.extended_length {
            EXTENDED_RESPONSE
        } else {
            SHORT_RESPONSE
        };
        let limit = outer.le.map_or(form_limit, |ne| ne.clamp(1, form_limit));
        let reply = match class_error(cmd.cla) {
            Some(sw) => SmReply::Protected(status(sw)),
            None => self.execute(&cmd, limit),
        };
        let resp = match reply {
            SmReply::Plain(sw) => {
                self.state.session = None;
                return plain(sw);
            }
            SmReply::Protected(resp) => resp,
        };
        let Some(sm) = self.state.session.as_mut() else {
            return plain(0x6988);
        };
        let protected = sm.protect_response(&resp, cmd.ins);
        // Chip Authentication: the answer goes out under the old keys, the next command comes under the new ones (9303-11 §6.2.3).
        if let Some(next) = self.state.next_session.take() {
            self.state.session = Some(next);
            self.state.current = None;
        }
        match protected {
            Ok(mut bytes) => {
                if is_read
                    && self.misbehaves(
                        |m| matches!(m, Misbehaviour::BadMac { read } if *read == self.reads),
                    )
                {
                    // The last MAC byte sits just before SW1-SW2.
                    if let Some(i) = bytes.len().checked_sub(3) {
                        bytes[i] ^= 0x01;
                    }
                }
                bytes
            }
            Err(_) => {
                self.state.session = None;
                plain(0x6F00)
            }
        }
    }

    /// An unwrapped command under secure messaging.
    fn execute(&mut self, cmd: &Command, limit: usize) -> SmReply {
        match cmd.ins {
            0xA4 => SmReply::Protected(self.select(cmd)),
            0xB0 | 0xB1 => self.read_binary(cmd, limit),
            0x22 if (cmd.p1, cmd.p2) == (0x41, 0xA6) => SmReply::Protected(self.ca_set_kat(cmd)),
            0x22 if (cmd.p1, cmd.p2) == (0x41, 0xA4) => SmReply::Protected(self.ca_set_at(cmd)),
            0x86 => SmReply::Protected(self.ca_general_authenticate(cmd)),
            0x88 => SmReply::Protected(self.internal_authenticate(cmd)),
            _ => SmReply::Protected(status(0x6D00)),
        }
    }

    // -----------------------------------------------------------------------
    // Commands
    // -----------------------------------------------------------------------

    /// SELECT of the LDS1 application by AID (9303-10 §3.9.2, ISO/IEC 7816-4 §11.1.1).
    fn select_application(&mut self, cmd: &Command) -> Response {
        if cmd.data != LDS1_AID {
            return status(0x6A82);
        }
        if !matches!(cmd.p2, 0x00 | 0x0C) {
            return status(0x6A86);
        }
        self.state = CardState {
            app_selected: true,
            ..CardState::default()
        };
        status(SW_OK)
    }

    /// GET CHALLENGE: 8 random bytes RND.IC (9303-11 §4.3.4.1).
    fn get_challenge(&mut self, cmd: &Command) -> Response {
        if !self.state.app_selected {
            return status(0x6985);
        }
        if (cmd.p1, cmd.p2) != (0, 0) {
            return status(0x6A86);
        }
        if cmd.le != Some(8) || !cmd.data.is_empty() {
            return status(0x6700);
        }
        let mut rnd_ic = [0u8; 8];
        if getrandom::fill(&mut rnd_ic).is_err() {
            return status(0x6F00);
        }
        self.state.challenge = Some(rnd_ic);
        Response {
            data: rnd_ic.to_vec(),
            sw: SW_OK,
        }
    }

    /// EXTERNAL AUTHENTICATE: check the terminal's cryptogram, answer the chip's (9303-11 §4.3.4.2).
    ///
    /// A wrong cryptogram (most often: keys from another MRZ) is 6300 and
    /// spends the challenge.
    fn external_authenticate(&mut self, cmd: &Command) -> Response {
        let Some(rnd_ic) = self.state.challenge.take() else {
            return status(0x6985);
        };
        if (cmd.p1, cmd.p2) != (0, 0) {
            return status(0x6A86);
        }
        let mut k_ic = [0u8; 16];
        if getrandom::fill(&mut k_ic).is_err() {
            return status(0x6F00);
        }
        match bac::chip_authenticate(&self.keys, rnd_ic, k_ic, &cmd.data) {
            Ok((data, channel)) => {
                self.state.session = Some(channel);
                self.state.current = None;
                Response { data, sw: SW_OK }
            }
            Err(_) => status(0x6300),
        }
    }

    /// MSE:Set KAT (9303-11 §6.2.4.1): Chip Authentication with 3DES, key agreement at once.
    fn ca_set_kat(&mut self, cmd: &Command) -> Response {
        self.state.ca_set = false;
        let Some(chip_ca) = &self.ca else {
            return status(0x6A80);
        };
        if chip_ca.protocol.cipher != SmCipher::Tdes {
            return status(0x6985);
        }
        let Ok((public, key_id)) = ca::chip_read_set_kat(&cmd.data) else {
            return status(0x6A80);
        };
        if key_id.is_some() && key_id != chip_ca.key_id {
            return status(0x6A88);
        }
        match ca::chip_agree(&chip_ca.held, SmCipher::Tdes, &public) {
            Ok(channel) => {
                self.state.next_session = Some(channel);
                status(SW_OK)
            }
            Err(_) => status(0x6A80),
        }
    }

    /// MSE:Set AT for Chip Authentication with AES (9303-11 §6.2.4.2): the protocol and key.
    fn ca_set_at(&mut self, cmd: &Command) -> Response {
        self.state.ca_set = false;
        let Some(chip_ca) = &self.ca else {
            return status(0x6A80);
        };
        match ca::chip_read_set_at(&cmd.data) {
            Ok((protocol, key_id)) if protocol == chip_ca.protocol => {
                if key_id.is_some() && key_id != chip_ca.key_id {
                    return status(0x6A88);
                }
                self.state.ca_set = true;
                status(SW_OK)
            }
            _ => status(0x6A80),
        }
    }

    /// GENERAL AUTHENTICATE for Chip Authentication with AES: the terminal's key; the answer is an empty `7C`.
    fn ca_general_authenticate(&mut self, cmd: &Command) -> Response {
        let set = std::mem::take(&mut self.state.ca_set);
        let Some(chip_ca) = self.ca.as_ref().filter(|_| set) else {
            return status(0x6985);
        };
        let Ok(public) = ca::chip_read_general_authenticate(&cmd.data) else {
            return status(0x6A80);
        };
        match ca::chip_agree(&chip_ca.held, chip_ca.protocol.cipher, &public) {
            Ok(channel) => {
                self.state.next_session = Some(channel);
                Response {
                    data: vec![0x7C, 0x00],
                    sw: SW_OK,
                }
            }
            Err(_) => status(0x6A80),
        }
    }

    /// INTERNAL AUTHENTICATE (9303-11 §6.1): sign the terminal's 8-byte challenge.
    fn internal_authenticate(&mut self, cmd: &Command) -> Response {
        let Some(chip_aa) = &self.aa else {
            return status(0x6D00);
        };
        if (cmd.p1, cmd.p2) != (0, 0) {
            return status(0x6A86);
        }
        if cmd.data.len() != icao9303::aa::CHALLENGE_LEN {
            return status(0x6700);
        }
        match chip_aa.signing.sign(&cmd.data, chip_aa.hash) {
            Ok(data) => Response { data, sw: SW_OK },
            Err(_) => status(0x6F00),
        }
    }

    /// SELECT under secure messaging: an EF by file identifier, or the application again.
    fn select(&mut self, cmd: &Command) -> Response {
        if cmd.p1 == 0x04 {
            self.state.app_selected = cmd.data == LDS1_AID;
            if let Some(sw) = self.wrong_sw(CommandKind::SelectApplication) {
                return status(sw);
            }
            if cmd.data != LDS1_AID {
                return status(0x6A82);
            }
            self.state.current = None;
            return status(SW_OK);
        }
        let fid = match <[u8; 2]>::try_from(cmd.data.as_slice()) {
            Ok(b) => u16::from_be_bytes(b),
            Err(_) => return status(0x6700),
        };
        if let Some(sw) = self.wrong_sw(CommandKind::SelectFile { fid: Some(fid) }) {
            return status(sw);
        }
        if !matches!(cmd.p1, 0x00 | 0x02) || cmd.p2 != 0x0C {
            return status(0x6A86);
        }
        match self.files.iter().position(|f| f.fid == fid) {
            Some(i) => {
                self.state.current = Some(i);
                status(SW_OK)
            }
            None => status(0x6A82),
        }
    }

    /// READ BINARY, even INS (offset in P1-P2, or SFI in P1 and offset in P2)
    /// or odd INS (offset in DO'54', data in DO'53'): ISO/IEC 7816-4 §11.2.3,
    /// 9303-10 §3.6.3 and 9303-11 §9.8.4.
    ///
    /// `limit` bounds the protected response data field. Fewer bytes than
    /// asked: 6282 when the end of the file came first, 9000 when the
    /// secure-messaging envelope did. An offset at or beyond the end is 6B00.
    fn read_binary(&mut self, cmd: &Command, limit: usize) -> SmReply {
        let odd = cmd.ins == 0xB1;
        let target = if odd {
            self.odd_read_target(cmd)
        } else {
            self.even_read_target(cmd)
        };
        let (index, offset) = match target {
            Ok(t) => t,
            Err(sw) => return SmReply::Protected(status(sw)),
        };
        self.state.current = Some(index);
        let Some(file) = self.files.get(index) else {
            return SmReply::Protected(status(0x6F00));
        };
        if let Some(sw) = self.wrong_sw(CommandKind::ReadBinary {
            fid: Some(file.fid),
        }) {
            return SmReply::Protected(status(sw));
        }
        let ne = match cmd.le {
            Some(ne) if ne > 0 => ne,
            _ => return SmReply::Protected(status(0x6700)),
        };
        if let Some(drop_session) = self.refuses(ne) {
            return if drop_session {
                SmReply::Plain(0x6700)
            } else {
                SmReply::Protected(status(0x6700))
            };
        }
        let Some(rest) = file.bytes.get(offset..).filter(|r| !r.is_empty()) else {
            return SmReply::Protected(status(0x6B00));
        };
        let left = if odd {
            do53_len(rest.len())
        } else {
            rest.len()
        };
        if ne > left && self.misbehaves(|m| matches!(m, Misbehaviour::StrictLe)) {
            return SmReply::Protected(status(0x6700));
        }
        let cap = max_plain(limit, odd);
        let (data, n, wanted_more) = if odd {
            // Ne counts DO'53' with its tag and length.
            let budget = ne.min(cap);
            let mut n = budget.saturating_sub(2).min(rest.len());
            while n > 0 && do53_len(n) > budget {
                n -= 1;
            }
            if n == 0 {
                return SmReply::Protected(status(0x6700));
            }
            let chunk = rest.get(..n).unwrap_or(rest);
            (tlv::encode(0x53, chunk), n, do53_len(n) < ne)
        } else {
            let n = rest.len().min(ne).min(cap);
            (rest.get(..n).unwrap_or(rest).to_vec(), n, n < ne)
        };
        let sw = if n == rest.len() && wanted_more {
            0x6282
        } else {
            SW_OK
        };
        SmReply::Protected(Response { data, sw })
    }

    /// File and offset of an even-INS READ BINARY.
    fn even_read_target(&self, cmd: &Command) -> Result<(usize, usize), u16> {
        if cmd.p1 & 0x80 != 0 {
            // P1 = 100xxxxx: short EF identifier, offset in P2.
            if cmd.p1 & 0x60 != 0 || self.misbehaves(|m| matches!(m, Misbehaviour::NoShortFileIds))
            {
                return Err(0x6A86);
            }
            let index = self.by_sfi(cmd.p1 & 0x1F).ok_or(0x6A82_u16)?;
            Ok((index, usize::from(cmd.p2)))
        } else {
            let index = self.state.current.ok_or(0x6986_u16)?;
            Ok((index, usize::from(u16::from_be_bytes([cmd.p1, cmd.p2]))))
        }
    }

    /// File and offset of an odd-INS READ BINARY: P1-P2 names the file (0000: current), DO'54' holds the offset.
    fn odd_read_target(&self, cmd: &Command) -> Result<(usize, usize), u16> {
        let index = match u16::from_be_bytes([cmd.p1, cmd.p2]) {
            0 => self.state.current.ok_or(0x6986_u16)?,
            1..=0x1E if self.misbehaves(|m| matches!(m, Misbehaviour::NoShortFileIds)) => {
                return Err(0x6A86);
            }
            sfi @ 1..=0x1E => self.by_sfi(sfi as u8).ok_or(0x6A82_u16)?,
            fid => self
                .files
                .iter()
                .position(|f| f.fid == fid)
                .ok_or(0x6A82_u16)?,
        };
        let mut r = Reader::new(&cmd.data);
        let offset = match tlv::read_tlv(&mut r) {
            Ok(t) if t.tag == 0x54 && (1..=4).contains(&t.value.len()) && r.is_empty() => t
                .value
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
            _ => return Err(0x6A80),
        };
        Ok((index, offset))
    }

    // -----------------------------------------------------------------------
    // Helpers
    // -----------------------------------------------------------------------

    fn by_sfi(&self, sfi: u8) -> Option<usize> {
        self.files.iter().position(|f| f.sfi == sfi)
    }

    fn misbehaves(&self, pred: impl Fn(&Misbehaviour) -> bool) -> bool {
        self.misbehaviour.iter().any(pred)
    }

    /// The status word a [`Misbehaviour::WrongSw`] imposes on a command of `kind`.
    fn wrong_sw(&self, kind: CommandKind) -> Option<u16> {
        self.misbehaviour.iter().find_map(|m| match m {
            Misbehaviour::WrongSw { on, sw } if kind_matches(*on, kind) => Some(*sw),
            _ => None,
        })
    }

    /// `Some(drop_session)` when a [`Misbehaviour::RefuseReadsAbove`] refuses Le `ne`.
    fn refuses(&self, ne: usize) -> Option<bool> {
        self.misbehaviour.iter().find_map(|m| match m {
            Misbehaviour::RefuseReadsAbove { max, drop_session } if ne > *max => {
                Some(*drop_session)
            }
            _ => None,
        })
    }
}

impl ChipCa {
    fn new(config: CaConfig, clone: bool) -> Result<Self, ProfileError> {
        let protocol = CaProtocol::from_oid(&config.oid).map_err(ProfileError::Authentication)?;
        let announced = match &config.private_key {
            Some(k) => ChipKeyPair::from_private(config.parameter_id, k),
            None => ChipKeyPair::generate(config.parameter_id),
        }
        .map_err(ProfileError::Authentication)?;
        if announced.key_agreement() != protocol.key_agreement {
            return Err(ProfileError::Authentication(icao9303::Error::Unsupported(
                "CA protocol does not fit the key's domain parameters",
            )));
        }
        let held = if clone {
            ChipKeyPair::generate(config.parameter_id).map_err(ProfileError::Authentication)?
        } else {
            announced.clone()
        };
        Ok(Self {
            protocol,
            key_id: config.key_id,
            announced,
            held,
            explicit_parameters: config.explicit_parameters,
        })
    }

    /// DG14's ChipAuthenticationInfo and ChipAuthenticationPublicKeyInfo.
    fn dg14_infos(&self) -> Result<Vec<Vec<u8>>, ProfileError> {
        let bad =
            || ProfileError::Authentication(icao9303::Error::ApiMisuse("CA info does not encode"));
        let info = ChipAuthenticationInfo {
            protocol_oid: self.protocol.oid(),
            version: 1,
            key_id: self.key_id,
        }
        .encode()
        .ok_or_else(bad)?;
        let mut key = self
            .announced
            .public_key_info(self.key_id)
            .map_err(ProfileError::Authentication)?;
        if self.explicit_parameters {
            key.subject_public_key_info = explicit(&key.subject_public_key_info)?;
        }
        Ok(vec![info, key.encode().ok_or_else(bad)?])
    }
}

impl ChipAa {
    /// The key, DG15 and (for ECDSA) DG14's ActiveAuthenticationInfo.
    fn new(kind: AaKey, clone: bool) -> Result<(Self, AaFiles), ProfileError> {
        let generate = || match kind {
            AaKey::Rsa1024 => AaPrivateKey::generate_rsa(1024),
            AaKey::Rsa2048 => AaPrivateKey::generate_rsa(2048),
            AaKey::P256 | AaKey::P256ExplicitParameters => AaPrivateKey::generate_p256(),
        };
        let key = generate().map_err(ProfileError::Authentication)?;
        let dg15 = if kind == AaKey::P256ExplicitParameters {
            let spki = key.spki_der().map_err(ProfileError::Authentication)?;
            tlv::encode(0x6F, &explicit(&spki)?)
        } else {
            key.dg15().map_err(ProfileError::Authentication)?
        };
        let info = match kind {
            AaKey::P256 | AaKey::P256ExplicitParameters => Some(
                ActiveAuthenticationInfo {
                    version: 1,
                    signature_algorithm: "1.2.840.10045.4.3.2".into(),
                }
                .encode()
                .ok_or(ProfileError::Authentication(
                    icao9303::Error::ApiMisuse("AA info does not encode"),
                ))?,
            ),
            AaKey::Rsa1024 | AaKey::Rsa2048 => None,
        };
        let signing = if clone {
            generate().map_err(ProfileError::Authentication)?
        } else {
            key
        };
        Ok((
            Self {
                signing,
                hash: AaHash::Sha256,
            },
            AaFiles { dg15, info },
        ))
    }
}

impl ChipPace {
    fn new(config: PaceConfig, mrz: Password) -> Result<Self, ProfileError> {
        let protocol = PaceProtocol::from_oid(&config.oid).map_err(ProfileError::Pace)?;
        if !pace::is_supported(&protocol, config.parameter_id) {
            return Err(ProfileError::Pace(icao9303::Error::Unsupported(
                "PACE protocol with these domain parameters",
            )));
        }
        let info = icao9303::lds::PaceInfo {
            protocol_oid: config.oid.clone(),
            version: 2,
            parameter_id: Some(config.parameter_id),
        };
        let info = info
            .encode()
            .ok_or(ProfileError::Pace(icao9303::Error::ApiMisuse(
                "PACE OID does not encode",
            )))?;
        // A fixed, test-only Chip Authentication key (2 is below every supported order).
        let static_private = vec![0x02];
        Ok(Self {
            protocol,
            parameter_id: config.parameter_id,
            mrz,
            can: config.can.map(Password::Can),
            bac_enabled: config.bac_enabled,
            card_access: tlv::encode(0x31, &info),
            static_private,
        })
    }
}

/// An EC SubjectPublicKeyInfo with its namedCurve OID spelled out as explicit `ECParameters` (RFC 3279 §2.3.5).
fn explicit(spki: &[u8]) -> Result<Vec<u8>, ProfileError> {
    ecparams::spki_der_with_explicit_parameters(spki).map_err(|_| {
        ProfileError::Authentication(icao9303::Error::Unsupported(
            "explicit domain parameters need an EC key on a known curve",
        ))
    })
}

/// Whether a misbehaviour aimed at `on` hits a command of kind `actual` (`None` file ids match any file).
fn kind_matches(on: CommandKind, actual: CommandKind) -> bool {
    let fid_matches = |want: Option<u16>, got: Option<u16>| want.is_none() || want == got;
    match (on, actual) {
        (CommandKind::SelectFile { fid: want }, CommandKind::SelectFile { fid: got })
        | (CommandKind::ReadBinary { fid: want }, CommandKind::ReadBinary { fid: got }) => {
            fid_matches(want, got)
        }
        (a, b) => a == b,
    }
}

/// The status word for a class byte the chip does not take (ISO/IEC 7816-4 §5.4.1), if any.
fn class_error(cla: u8) -> Option<u16> {
    if cla & 0x10 != 0 {
        return Some(0x6884); // command chaining
    }
    match cla {
        0x00 | 0x0C => None,
        0x01..=0x03 | 0x0D..=0x0F => Some(0x6881), // logical channels
        0x04 | 0x08 => Some(0x6882),               // other secure-messaging formats
        _ => Some(0x6E00),
    }
}

fn status(sw: u16) -> Response {
    Response {
        data: Vec::new(),
        sw,
    }
}

fn plain(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}

/// Bytes of a BER length field for a value of `len` bytes.
fn length_len(len: usize) -> usize {
    match len {
        0..=0x7F => 1,
        0x80..=0xFF => 2,
        0x100..=0xFFFF => 3,
        0x1_0000..=0xFF_FFFF => 4,
        _ => 5,
    }
}

/// Bytes of DO'53' around `n` bytes of file data.
fn do53_len(n: usize) -> usize {
    1 + length_len(n) + n
}

/// Bytes of a protected response data field carrying `plain` bytes (9303-11 §9.8.5):
/// DO'87' (with its padding-content indicator) or DO'85' for odd INS, then DO'99' and DO'8E'.
fn protected_len(plain: usize, odd: bool) -> usize {
    if plain == 0 {
        return SW_AND_MAC_DOS;
    }
    let encrypted = (plain / 8 + 1) * 8;
    let value = if odd { encrypted } else { encrypted + 1 };
    1 + length_len(value) + value + SW_AND_MAC_DOS
}

/// Largest plaintext whose protected response fits `limit` bytes of response data.
fn max_plain(limit: usize, odd: bool) -> usize {
    let mut m = limit;
    while m > 0 && protected_len(m, odd) > limit {
        m -= 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_sizes_match_the_terminal_side() {
        // The terminal sizes its short reads to 231 bytes for the same envelope.
        assert_eq!(max_plain(256, false), 231);
        assert_eq!(protected_len(231, false), 250);
        assert_eq!(protected_len(232, false), 258);
        assert_eq!(max_plain(256, true), 231);
        assert!(max_plain(EXTENDED_RESPONSE, false) > 65_000);
        assert_eq!(do53_len(5), 7);
        assert_eq!(do53_len(200), 203);
        assert_eq!(do53_len(300), 304);
    }

    #[test]
    fn debug_output_holds_no_personal_data() {
        let mrz = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
        let profile = ChipProfile::new(mrz);
        let chip = VirtualChip::new(profile.clone()).unwrap();
        for text in [format!("{profile:?}"), format!("{chip:?}")] {
            assert!(
                !text.contains("ERIKSSON") && !text.contains("L898902C3"),
                "{text}"
            );
            assert!(text.len() < 2_000, "no file contents: {text}");
        }
    }

    #[test]
    fn kinds_match_by_file() {
        let any = CommandKind::ReadBinary { fid: None };
        let dg2 = CommandKind::ReadBinary { fid: Some(FID_DG2) };
        assert!(kind_matches(any, dg2));
        assert!(kind_matches(dg2, dg2));
        assert!(!kind_matches(
            dg2,
            CommandKind::ReadBinary { fid: Some(FID_DG1) }
        ));
        assert!(!kind_matches(
            dg2,
            CommandKind::SelectFile { fid: Some(FID_DG2) }
        ));
        assert!(kind_matches(
            CommandKind::GetChallenge,
            CommandKind::GetChallenge
        ));
    }
}
