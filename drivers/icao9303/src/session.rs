//! Reading files from an eMRTD: access control, then chunked READ BINARY under secure messaging.
//!
//! [`Session::open`] reads EF.CardAccess from the master file in plain and
//! runs PACE with the best PACEInfo it supports (9303-11 section 4.2: PACE
//! before BAC); only a chip without PACE falls back to BAC, and only with
//! an MRZ password. [`Session::open_bac`] runs BAC alone.
//!
//! Real chips differ: some refuse 224- or 256-byte reads, some do not take
//! extended length, some drop the secure-messaging session on an error. The
//! [`Session`] sizes each read to the secure-messaging overhead, reads files
//! above 32,767 bytes with the odd-INS READ BINARY, and on 6700, 6B00 or
//! 6282 falls back to smaller reads, authenticating again when the chip has
//! dropped the session.
//!
//! Few APDUs per file: a file's first READ BINARY names it by its short EF
//! identifier (ISO/IEC 7816-4 section 11.2.3, 9303-10 section 3.6.2: every
//! LDS1 EF has one), so no SELECT is sent, and asks for as much as one
//! response holds, so a small file comes whole in one APDU (a chip holding
//! fewer bytes than Le answers with what it has and 6282 or 9000, ISO/IEC
//! 7816-4 section 11.2.3). A chip that refuses short EF identifiers is read
//! with SELECT for the rest of the session; one that refuses the large first
//! read (6700, 6Cxx) is read with an 8-byte header read first.
//!
//! After the read, the chip proves it is not a copy (9303-11 section 6):
//! [`Session::chip_authenticate`] runs Chip Authentication with DG14's key
//! and switches secure messaging to its keys;
//! [`Session::verify_chip_authentication_mapping`] checks PACE-CAM's proof
//! against DG14 instead; [`Session::active_authenticate`] runs Active
//! Authentication with DG15's key.

use crate::aa::{self, AaFailure, AaHash, AaPublicKey};
use crate::apdu::{Command, Response, SW_OK};
use crate::bac::{self, BacKeys};
use crate::ca::{self, CaChoice, CaProtocol};
use crate::channel::CardChannel;
use crate::error::{CardFault, Error};
use crate::lds::{CardAccess, Dg14};
use crate::pace::{self, ChipAuthenticationData, KeyAgreement, PaceProtocol, Password};
use crate::sm::SecureChannel;
use crate::tlv;

/// AID of the eMRTD LDS1 application (9303-10 section 3.9.2).
pub const LDS1_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
/// Largest file this session reads, by default (DG2 faces are 15–100 KB).
pub const DEFAULT_MAX_FILE: usize = 1 << 20;
/// Smallest read size tried before giving up on a chip.
const MIN_READ: usize = 8;
/// Bytes read first to learn a file's length (tag and a length of up to 4 bytes).
const HEADER_READ: usize = 8;
/// Status words after which a smaller read may succeed.
const SHRINK_ON: [u16; 3] = [0x6700, 0x6B00, 0x6282];
/// Status words with which a chip refuses a READ BINARY by short EF identifier (ISO/IEC 7816-4 section 5.6):
/// function not supported, file not found, wrong P1-P2, INS or CLA not supported.
const SFI_REFUSED: [u16; 6] = [0x6A81, 0x6A82, 0x6A86, 0x6B00, 0x6D00, 0x6E00];
/// Largest plain READ BINARY of EF.CardAccess (some readers mishandle 256-byte answers).
const PLAIN_CHUNK: usize = 0xDF;
/// Short EF identifier of EF.CardAccess in the master file (9303-10 section 3.11.1).
const SFI_CARD_ACCESS: u8 = 0x1C;

/// How to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Largest plaintext per READ BINARY; `None` sizes it to the secure-messaging overhead.
    pub max_read: Option<usize>,
    /// Use extended-length reads when the channel says both ends take them.
    pub extended_length: bool,
    /// Files announcing more than this many bytes are refused.
    pub max_file_size: usize,
}

/// Largest EF.CardAccess accepted (real ones are under 1 KB).
const MAX_CARD_ACCESS: usize = 4096;

/// The access-control protocol that opened the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessProtocol {
    /// Basic Access Control (9303-11 section 4.3).
    Bac,
    /// PACE (9303-11 section 4.4) with this protocol (its OID, name and mapping) and standardized domain parameters.
    Pace {
        /// The PACE protocol; `protocol.oid()`, `protocol.name()`, `protocol.mapping`.
        protocol: PaceProtocol,
        /// The standardized domain parameter ID (9303-11 section 9.5.1).
        parameter_id: u32,
    },
}

/// How the session authenticates, first and after a dropped session.
#[derive(Debug)]
enum Auth {
    Bac(BacKeys),
    Pace {
        password: Password,
        protocol: PaceProtocol,
        parameter_id: u32,
    },
}

/// What a finished Chip Authentication ran with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaOutcome {
    /// The CA protocol; secure messaging now uses its cipher.
    pub protocol: CaProtocol,
    /// The key reference sent, if DG14 named one.
    pub key_id: Option<u32>,
    /// The standardized domain parameter ID of the chip's key (9303-11 section 9.5.1).
    pub parameter_id: u32,
}

/// An authenticated session with an eMRTD chip.
#[derive(Debug)]
pub struct Session<C> {
    channel: C,
    auth: Auth,
    sm: SecureChannel,
    /// PACE-CAM's proof from the last access control, to check against DG14.
    cam: Option<ChipAuthenticationData>,
    /// The Chip Authentication that ran, to run again after re-authentication.
    ca: Option<CaChoice>,
    read_size: usize,
    extended: bool,
    max_file_size: usize,
    apdus: usize,
    reauthentications: usize,
    /// The file selected now, to select again after re-authentication.
    current_file: Option<(u16, &'static str)>,
    /// First reads name the file by short EF identifier; off once the chip refused one.
    sfi_reads: bool,
    /// First reads fetch only the 8-byte header; on once the chip refused a large first read.
    header_first: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_read: None,
            extended_length: true,
            max_file_size: DEFAULT_MAX_FILE,
        }
    }
}

impl<C: CardChannel> Session<C> {
    /// Selects the eMRTD application and performs BAC with `keys`.
    ///
    /// # Errors
    /// [`Error::AccessDenied`] when the keys do not fit the chip, a status or
    /// channel error when the chip refuses or goes away.
    pub fn open_bac(channel: C, keys: BacKeys, options: &ReadOptions) -> Result<Self, Error> {
        Self::with_auth(channel, Auth::Bac(keys), options, 0)
    }

    /// Opens the chip with PACE when EF.CardAccess offers a supported protocol, else with BAC (MRZ password only).
    ///
    /// EF.CardAccess is read in plain from the master file; a chip without it
    /// (6A82) has no PACE. After PACE the eMRTD application is selected under
    /// secure messaging.
    ///
    /// # Errors
    /// [`Error::AccessDenied`] when the password does not fit the chip or its
    /// PACE token is wrong; [`Error::Unsupported`] when the chip offers no
    /// PACE this crate supports and the password is a CAN (BAC needs the MRZ);
    /// a status, parse or channel error otherwise.
    pub fn open(channel: C, password: Password, options: &ReadOptions) -> Result<Self, Error> {
        let mut channel = channel;
        let mut apdus = 0;
        let card_access = read_card_access(&mut channel, &mut apdus)?;
        let offer = match &card_access {
            Some(bytes) => Some(CardAccess::parse(bytes)?),
            None => None,
        };
        let chosen = offer.as_ref().and_then(pace::choose);
        let auth = match (chosen, &offer) {
            (Some((protocol, parameter_id)), _) => Auth::Pace {
                password,
                protocol,
                parameter_id,
            },
            (None, Some(offer)) if offer.pace_infos().next().is_some() => {
                return Err(Error::Unsupported(
                    "the chip offers only PACE variants this crate does not support",
                ));
            }
            (None, _) => Auth::Bac(password.bac_keys().ok_or(Error::Unsupported(
                "the chip offers no PACE, and a CAN cannot open BAC",
            ))?),
        };
        Self::with_auth(channel, auth, options, apdus)
    }

    fn with_auth(
        channel: C,
        auth: Auth,
        options: &ReadOptions,
        apdus: usize,
    ) -> Result<Self, Error> {
        let extended = options.extended_length && channel.supports_extended_length();
        let mut apdus = apdus;
        let mut channel = channel;
        let (sm, cam) = authenticate(&mut channel, &auth, &mut apdus)?;
        let read_size = options
            .max_read
            .unwrap_or_else(|| {
                max_plain_per_response(if extended { 65_536 } else { 256 }, sm.block_len())
            })
            .max(MIN_READ);
        Ok(Self {
            channel,
            auth,
            sm,
            cam,
            ca: None,
            read_size,
            extended,
            max_file_size: options.max_file_size,
            apdus,
            reauthentications: 0,
            current_file: None,
            sfi_reads: true,
            header_first: false,
        })
    }

    /// The protocol that opened this session.
    pub fn protocol(&self) -> AccessProtocol {
        match &self.auth {
            Auth::Bac(_) => AccessProtocol::Bac,
            Auth::Pace {
                protocol,
                parameter_id,
                ..
            } => AccessProtocol::Pace {
                protocol: *protocol,
                parameter_id: *parameter_id,
            },
        }
    }

    /// APDUs exchanged so far, access control included.
    pub fn apdu_count(&self) -> usize {
        self.apdus
    }

    /// Times the session had to authenticate again after the chip dropped it.
    pub fn reauthentications(&self) -> usize {
        self.reauthentications
    }

    /// The current largest plaintext per read (it shrinks when a chip refuses a size).
    pub fn read_size(&self) -> usize {
        self.read_size
    }

    /// Gives the channel back.
    pub fn into_channel(self) -> C {
        self.channel
    }

    /// Reads the elementary file `fid` whole.
    ///
    /// The first read names an LDS1 file by its short EF identifier (no
    /// SELECT) and fetches as much as one response holds; other files, and
    /// every file of a chip that refused a short EF identifier, are selected
    /// first. The length comes from the file's own BER-TLV header; a file
    /// announcing more than the configured maximum is refused before the rest
    /// is read.
    ///
    /// # Errors
    /// [`Error::Status`] with 6A82 when the file does not exist; a
    /// [`CardFault`] or parse error when the chip's answers are inconsistent.
    pub fn read_file(&mut self, fid: u16, what: &'static str) -> Result<Vec<u8>, Error> {
        let mut data = self.read_first(fid, what)?;
        let Some((_, total)) = tlv::header_len_and_total_with_limit(&data, self.max_file_size)?
        else {
            return Err(short_file(what, HEADER_READ, data.len()));
        };
        data.truncate(total);
        data.reserve_exact(total - data.len());
        while data.len() < total {
            let chunk = match self.read_at(what, data.len(), total - data.len(), Start::Current) {
                Ok(chunk) if !chunk.is_empty() => chunk,
                // The chip says the file ends before its header said it would.
                Ok(_)
                | Err(Error::Status {
                    sw: 0x6282 | 0x6B00,
                    ..
                }) => {
                    return Err(short_file(what, total, data.len()));
                }
                Err(e) => return Err(e),
            };
            data.extend_from_slice(&chunk);
        }
        Ok(data)
    }

    /// The first bytes of file `fid` (its header at least): by short EF identifier while the chip takes them, else after a SELECT.
    fn read_first(&mut self, fid: u16, what: &'static str) -> Result<Vec<u8>, Error> {
        let Some(sfi) = short_file_id(fid).filter(|_| self.sfi_reads) else {
            self.select_file(fid, what)?;
            return self.read_head(what, None);
        };
        self.current_file = None;
        let refused = match self.read_head(what, Some(sfi)) {
            Ok(data) => {
                // ISO/IEC 7816-4 section 7.2.2: a READ BINARY by short EF identifier makes the file current.
                self.current_file = Some((fid, what));
                return Ok(data);
            }
            Err(Error::Status { sw, .. }) if SFI_REFUSED.contains(&sw) => sw,
            Err(e) => return Err(e),
        };
        // 6A82 may mean the file is absent rather than short EF identifiers
        // unknown: the SELECT tells, and only a file it finds turns them off.
        if refused != 0x6A82 {
            self.sfi_reads = false;
        }
        self.select_file(fid, what)?;
        self.sfi_reads = false;
        self.read_head(what, None)
    }

    /// The first read of the current file (or of short EF identifier `sfi`): as much as one response holds, or the 8-byte header on a chip that refused that.
    fn read_head(&mut self, what: &'static str, sfi: Option<u8>) -> Result<Vec<u8>, Error> {
        let start = sfi.map_or(Start::Current, Start::Sfi);
        if !self.header_first {
            match self.read_at(what, 0, self.read_size, Start::Probe(sfi)) {
                Err(Error::Status { sw, .. }) if sw == 0x6700 || sw & 0xFF00 == 0x6C00 => {}
                other => return other,
            }
            // ISO/IEC 7816-4 section 5.6: 6700 or 6Cxx, Le does not fit what is left of the file.
            self.header_first = true;
            let was_extended = self.extended;
            let head = self.read_at(what, 0, HEADER_READ, start);
            if was_extended && !self.extended {
                // The chip refused extended length, not the size: large first reads may work in short form.
                self.header_first = false;
            }
            return head;
        }
        self.read_at(what, 0, HEADER_READ, start)
    }

    /// Selects an elementary file; a refusal that dropped secure messaging
    /// is answered by authenticating again, so the next file can still be read.
    fn select_file(&mut self, fid: u16, what: &'static str) -> Result<(), Error> {
        self.current_file = None;
        let cmd = Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(fid.to_be_bytes().to_vec());
        loop {
            let result = self.exchange(&cmd);
            if self.fell_back_to_short(&result)? {
                continue;
            }
            return match result {
                Ok(resp) if resp.sw == SW_OK => {
                    self.current_file = Some((fid, what));
                    Ok(())
                }
                Ok(resp) => Err(Error::Status {
                    command: what,
                    sw: resp.sw,
                }),
                Err(Error::SecureMessagingAborted { sw }) => {
                    self.recover()?;
                    Err(Error::Status { command: what, sw })
                }
                Err(e) => Err(e),
            };
        }
    }

    /// Reads up to `want` bytes at `offset` of the file `start` names, shrinking
    /// the read size while the chip refuses it (9303-11 leaves the size to
    /// the terminal; chips in the field refuse 224- or 256-byte reads).
    ///
    /// A read by short EF identifier that the chip refuses ([`SFI_REFUSED`]),
    /// and a probe it answers with 6700 or 6Cxx, end at once in
    /// [`Error::Status`] (after re-authenticating if the chip dropped the
    /// session), for the caller to fall back.
    fn read_at(
        &mut self,
        what: &'static str,
        offset: usize,
        want: usize,
        start: Start,
    ) -> Result<Vec<u8>, Error> {
        loop {
            // The odd-INS response wraps the data in DO'53' (up to 4 bytes).
            let limit = if offset > 0x7FFF {
                self.read_size - 4
            } else {
                self.read_size
            };
            let want = want.min(limit);
            let result = self.read_binary(offset, want, start.sfi());
            let (sw, dropped) = match &result {
                Ok(resp) => (resp.sw, false),
                Err(Error::SecureMessagingAborted { sw }) => (*sw, true),
                Err(_) => (SW_OK, false),
            };
            let refused_sfi = start.sfi().is_some() && SFI_REFUSED.contains(&sw);
            let refused_probe =
                matches!(start, Start::Probe(_)) && (sw == 0x6700 || sw & 0xFF00 == 0x6C00);
            if refused_sfi || refused_probe {
                if dropped {
                    self.recover()?;
                }
                return Err(Error::Status { command: what, sw });
            }
            if self.fell_back_to_short(&result)? {
                continue;
            }
            let (sw, dropped) = match result {
                Ok(resp) if resp.sw == SW_OK || (resp.sw == 0x6282 && !resp.data.is_empty()) => {
                    if resp.data.len() > want {
                        return Err(CardFault::TooMuchData {
                            what,
                            asked: want,
                            got: resp.data.len(),
                        }
                        .into());
                    }
                    return Ok(resp.data);
                }
                Ok(resp) if SHRINK_ON.contains(&resp.sw) => (resp.sw, false),
                Ok(resp) => {
                    return Err(Error::Status {
                        command: what,
                        sw: resp.sw,
                    });
                }
                Err(Error::SecureMessagingAborted { sw }) if SHRINK_ON.contains(&sw) => (sw, true),
                Err(e) => return Err(e),
            };
            if want <= MIN_READ {
                if dropped {
                    self.recover()?;
                }
                return Err(Error::Status { command: what, sw });
            }
            self.read_size = (want / 2).max(MIN_READ);
            if dropped {
                self.recover()?;
            }
        }
    }

    /// When an extended-length command was refused with 6700, switches to
    /// short APDUs (authenticating again if the chip dropped the session)
    /// and says the command should be sent again.
    fn fell_back_to_short(&mut self, result: &Result<Response, Error>) -> Result<bool, Error> {
        if !self.extended {
            return Ok(false);
        }
        let dropped = match result {
            Ok(resp) if resp.sw == 0x6700 => false,
            Err(Error::SecureMessagingAborted { sw: 0x6700 }) => true,
            _ => return Ok(false),
        };
        self.extended = false;
        self.read_size = self
            .read_size
            .min(max_plain_per_response(256, self.sm.block_len()));
        if dropped {
            self.recover()?;
        }
        Ok(true)
    }

    /// Authenticates again after the chip dropped secure messaging (with
    /// Chip Authentication again if it had run), and selects the file that
    /// was current.
    fn recover(&mut self) -> Result<(), Error> {
        let (sm, cam) = authenticate(&mut self.channel, &self.auth, &mut self.apdus)?;
        self.sm = sm;
        self.cam = cam;
        self.reauthentications += 1;
        if let Some(choice) = &self.ca {
            run_chip_authentication(
                &mut self.channel,
                &mut self.sm,
                self.extended,
                choice,
                &mut self.apdus,
            )?;
        }
        match self.current_file.take() {
            Some((fid, what)) => self.select_file(fid, what),
            None => Ok(()),
        }
    }

    /// One READ BINARY: even INS with the offset in P1-P2 up to 32,767, odd
    /// INS with DO'54' beyond (ISO/IEC 7816-4 section 11.2.3, 9303-10 section 3.6.3);
    /// with `sfi`, P1 = 100xxxxx names the file by short EF identifier and P2 is the offset (up to 255).
    fn read_binary(
        &mut self,
        offset: usize,
        want: usize,
        sfi: Option<u8>,
    ) -> Result<Response, Error> {
        if let Some(sfi) = sfi {
            let p2 = u8::try_from(offset)
                .map_err(|_| Error::ApiMisuse("short EF identifier read beyond offset 255"))?;
            return self.exchange(&Command::new(0x00, 0xB0, 0x80 | sfi, p2).with_le(want));
        }
        if let Some(short) = u16::try_from(offset).ok().filter(|&o| o <= 0x7FFF) {
            let [p1, p2] = short.to_be_bytes();
            return self.exchange(&Command::new(0x00, 0xB0, p1, p2).with_le(want));
        }
        let offset_bytes = u32::try_from(offset)
            .map_err(|_| Error::ApiMisuse("offset beyond 4 GiB"))?
            .to_be_bytes();
        let skip = offset_bytes.iter().take_while(|&&b| b == 0).count().min(3);
        let mut data = vec![0x54, (4 - skip) as u8];
        data.extend_from_slice(&offset_bytes[skip..]);
        // Le counts the whole DO'53', so a chip that fills Le sends `want` bytes.
        let mut do53_header = vec![0x53];
        tlv::encode_length(want, &mut do53_header);
        let cmd = Command::new(0x00, 0xB1, 0x00, 0x00)
            .with_data(data)
            .with_le(want + do53_header.len());
        let mut resp = self.exchange(&cmd)?;
        if !resp.data.is_empty() {
            let tlv = tlv::parse_single_named(&resp.data, 0x53, "odd READ BINARY response")?;
            resp.data = tlv.value.to_vec();
        }
        Ok(resp)
    }

    /// One protected command and its checked response.
    fn exchange(&mut self, cmd: &Command) -> Result<Response, Error> {
        exchange_with(
            &mut self.channel,
            &mut self.sm,
            cmd,
            self.extended,
            &mut self.apdus,
        )
    }

    /// Sends one command under secure messaging and returns the checked response, whatever its status word.
    ///
    /// For commands this session has no method for (INTERNAL AUTHENTICATE).
    /// A command that changes the chip's file selection leaves the session
    /// unaware of it; the next [`Self::read_file`] selects again anyway.
    ///
    /// # Errors
    /// [`Error::SecureMessagingAborted`] when the chip answered in plain (its
    /// session is gone); a [`CardFault`] when the answer does not verify; a
    /// channel error.
    pub fn transmit(&mut self, cmd: &Command) -> Result<Response, Error> {
        self.exchange(cmd)
    }

    /// Runs Chip Authentication with DG14's best offer (9303-11 section 6.2) and switches secure messaging to its keys.
    ///
    /// The chip proves it holds the private key of DG14's public key by
    /// answering a SELECT of the eMRTD application under the new keys.
    /// Re-authentication after a dropped session runs CA again.
    ///
    /// # Errors
    /// [`Error::ChipAuthenticationFailed`] when the chip's first answer under
    /// the new keys does not verify (a cloned chip: DG14 and EF.SOD copied,
    /// the private key not); [`Error::Unsupported`] when DG14 offers no Chip
    /// Authentication this crate runs; [`Error::Status`] when the chip
    /// refuses MSE or GENERAL AUTHENTICATE; a parse error for a malformed DG14.
    pub fn chip_authenticate(&mut self, dg14: &Dg14) -> Result<CaOutcome, Error> {
        let choice =
            ca::choose(dg14)?.ok_or(Error::Unsupported("DG14 offers no Chip Authentication"))?;
        self.chip_authenticate_with(choice)
    }

    /// Runs Chip Authentication with a protocol and key already chosen (see [`ca::choose`]).
    ///
    /// # Errors
    /// As [`Self::chip_authenticate`].
    pub fn chip_authenticate_with(&mut self, choice: CaChoice) -> Result<CaOutcome, Error> {
        let result = run_chip_authentication(
            &mut self.channel,
            &mut self.sm,
            self.extended,
            &choice,
            &mut self.apdus,
        );
        self.current_file = None;
        result?;
        let outcome = CaOutcome {
            protocol: choice.protocol,
            key_id: choice.key_id,
            parameter_id: choice.key.parameter_id(),
        };
        self.read_size = self.read_size.min(max_plain_per_response(
            if self.extended { 65_536 } else { 256 },
            self.sm.block_len(),
        ));
        self.ca = Some(choice);
        Ok(outcome)
    }

    /// The Chip Authentication that ran on this session, if any.
    pub fn chip_authentication(&self) -> Option<CaOutcome> {
        self.ca.as_ref().map(|c| CaOutcome {
            protocol: c.protocol,
            key_id: c.key_id,
            parameter_id: c.key.parameter_id(),
        })
    }

    /// PACE-CAM's proof from access control (9303-11 section 4.4.3.3.3), if the session was opened with it.
    pub fn chip_authentication_mapping(&self) -> Option<&ChipAuthenticationData> {
        self.cam.as_ref()
    }

    /// Checks PACE-CAM's proof against DG14's Chip Authentication public key (9303-11 section 4.4.3.3.3): after PACE-CAM, CA is not needed, this check is.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] when the session was not opened with PACE-CAM;
    /// [`Error::ChipAuthenticationFailed`] when no ECDH key of DG14 fits the
    /// proof (a chip without the key); a parse error for a malformed DG14.
    pub fn verify_chip_authentication_mapping(&self, dg14: &Dg14) -> Result<(), Error> {
        let data = self.cam.as_ref().ok_or(Error::ApiMisuse(
            "the session was not opened with PACE Chip Authentication Mapping",
        ))?;
        let mut last = Error::ChipAuthenticationFailed(
            "DG14 has no ECDH Chip Authentication public key for PACE-CAM",
        );
        for info in ca::chip_authentication_public_keys(dg14)? {
            if info.key_agreement() != KeyAgreement::Ecdh {
                continue;
            }
            let result = info
                .public_key()
                .and_then(|key| data.verify(key.public_key()));
            match result {
                Ok(()) => return Ok(()),
                Err(Error::AccessDenied(_)) => {
                    last = Error::ChipAuthenticationFailed(
                        "PACE-CAM proof does not fit DG14's public key",
                    )
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Runs Active Authentication (9303-11 section 6.1): INTERNAL AUTHENTICATE with a random challenge, checked against DG15's key.
    ///
    /// `hash` is the ECDSA hash from DG14's ActiveAuthenticationInfo (RSA needs none).
    ///
    /// # Errors
    /// `Ok(Err(_))` when the chip answered and failed (a wrong signature, or
    /// a refusal under secure messaging: [`AaFailure::Refused`]); `Err(_)`
    /// when the exchange itself failed (secure messaging, channel, no random
    /// source).
    pub fn active_authenticate(
        &mut self,
        key: &AaPublicKey,
        hash: Option<AaHash>,
    ) -> Result<Result<(), AaFailure>, Error> {
        let mut challenge = [0u8; aa::CHALLENGE_LEN];
        getrandom::fill(&mut challenge)
            .map_err(|_| Error::Unsupported("no system random source"))?;
        let resp = self.transmit(&aa::internal_authenticate(&challenge))?;
        if resp.sw != SW_OK {
            return Ok(Err(AaFailure::Refused { sw: resp.sw }));
        }
        Ok(aa::verify(key, &challenge, &resp.data, hash))
    }
}

/// One protected command and its checked response.
fn exchange_with<C: CardChannel>(
    channel: &mut C,
    sm: &mut SecureChannel,
    cmd: &Command,
    extended: bool,
    apdus: &mut usize,
) -> Result<Response, Error> {
    let wire = sm.protect_command(cmd, extended)?;
    *apdus += 1;
    let raw = channel.transmit(&wire)?;
    sm.unprotect_response(raw)
}

/// Chip Authentication under the current secure messaging, then the switch to its keys and the chip's proof (9303-11 section 6.2.3, 6.2.4).
fn run_chip_authentication<C: CardChannel>(
    channel: &mut C,
    sm: &mut SecureChannel,
    extended: bool,
    choice: &CaChoice,
    apdus: &mut usize,
) -> Result<(), Error> {
    let ephemeral = ca::random_ephemeral_private(&choice.key)?;
    let ca::CaTerminal {
        commands,
        channel: new_sm,
        ..
    } = ca::terminal(choice, &ephemeral)?;
    for cmd in &commands {
        let command = if cmd.ins == 0x86 {
            "GENERAL AUTHENTICATE (Chip Authentication)"
        } else {
            "MSE (Chip Authentication)"
        };
        let resp = exchange_with(channel, sm, cmd, extended, apdus)?;
        if resp.sw != SW_OK {
            return Err(Error::Status {
                command,
                sw: resp.sw,
            });
        }
        if cmd.ins == 0x86 {
            ca::check_general_authenticate_response(&resp.data)?;
        }
    }
    // 9303-11 section 6.2.3: secure messaging restarts with KS_enc, KS_mac and SSC 0.
    *sm = new_sm;
    // The chip proves itself implicitly: its answer must verify under the new keys.
    let select = Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(LDS1_AID.to_vec());
    match exchange_with(channel, sm, &select, extended, apdus) {
        Ok(resp) if resp.sw == SW_OK => Ok(()),
        Ok(resp) => Err(Error::Status {
            command: "SELECT eMRTD application after Chip Authentication",
            sw: resp.sw,
        }),
        Err(Error::CardMisbehaved(_) | Error::SecureMessagingAborted { .. }) => {
            Err(Error::ChipAuthenticationFailed(
                "the chip's first answer under the Chip Authentication keys does not verify",
            ))
        }
        Err(e) => Err(e),
    }
}

fn short_file(what: &'static str, announced: usize, got: usize) -> Error {
    CardFault::ShortFile {
        what,
        announced,
        got,
    }
    .into()
}

/// Authenticates with the session's protocol, returning the secure channel with the LDS1 application selected, and PACE-CAM's proof.
fn authenticate<C: CardChannel>(
    channel: &mut C,
    auth: &Auth,
    apdus: &mut usize,
) -> Result<(SecureChannel, Option<ChipAuthenticationData>), Error> {
    match auth {
        Auth::Bac(keys) => Ok((authenticate_bac(channel, keys, apdus)?, None)),
        Auth::Pace {
            password,
            protocol,
            parameter_id,
        } => {
            let outcome = pace::establish(channel, *protocol, *parameter_id, password, apdus)?;
            let mut sm = outcome.channel;
            // 9303-11 section 4.2: after PACE the application is selected under secure messaging.
            let select = Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(LDS1_AID.to_vec());
            *apdus += 1;
            let raw = channel.transmit(&sm.protect_command(&select, false)?)?;
            let resp = sm.unprotect_response(raw)?;
            expect_ok(resp, "SELECT eMRTD application")?;
            Ok((sm, outcome.chip_authentication))
        }
    }
}

/// Reads EF.CardAccess in plain from the master file; `None` when the chip has none (no PACE).
///
/// First by its short EF identifier 1C (9303-10 section 3.11.1, ISO/IEC
/// 7816-4 section 11.2.3), as much as one answer holds; a chip that refuses
/// that is asked with SELECT MF, SELECT EF.CardAccess (FID 011C) and an
/// 8-byte header read, as before.
fn read_card_access<C: CardChannel>(
    channel: &mut C,
    apdus: &mut usize,
) -> Result<Option<Vec<u8>>, Error> {
    let by_sfi = |le: usize| Command::new(0x00, 0xB0, 0x80 | SFI_CARD_ACCESS, 0x00).with_le(le);
    let mut first = transmit_plain(channel, &by_sfi(PLAIN_CHUNK), apdus)?;
    if first.sw == 0x6700 || first.sw & 0xFF00 == 0x6C00 {
        // ISO/IEC 7816-4 section 5.6: Le does not fit the file; read the header alone.
        first = transmit_plain(channel, &by_sfi(HEADER_READ), apdus)?;
    }
    let head = match first.sw {
        SW_OK | 0x6282 if !first.data.is_empty() && first.data.len() <= PLAIN_CHUNK => first.data,
        // Any refusal: the old way, which decides whether the file exists.
        _ => {
            let select_mf = Command::new(0x00, 0xA4, 0x00, 0x0C).with_data(vec![0x3F, 0x00]);
            if transmit_plain(channel, &select_mf, apdus)?.sw != SW_OK {
                return Ok(None);
            }
            let select = Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(vec![0x01, 0x1C]);
            if transmit_plain(channel, &select, apdus)?.sw != SW_OK {
                return Ok(None);
            }
            read_plain_chunk(channel, apdus, 0, HEADER_READ)?
        }
    };
    let Some((_, total)) = tlv::header_len_and_total_with_limit(&head, MAX_CARD_ACCESS)? else {
        return Err(short_file("EF.CardAccess", HEADER_READ, head.len()));
    };
    let mut data = head;
    while data.len() < total {
        let chunk = read_plain_chunk(
            channel,
            apdus,
            data.len(),
            (total - data.len()).min(PLAIN_CHUNK),
        )?;
        data.extend_from_slice(&chunk);
    }
    data.truncate(total);
    Ok(Some(data))
}

/// One plain READ BINARY of the current EF at `offset` (P1-P2), at most `want` bytes and at least one.
fn read_plain_chunk<C: CardChannel>(
    channel: &mut C,
    apdus: &mut usize,
    offset: usize,
    want: usize,
) -> Result<Vec<u8>, Error> {
    let [p1, p2] = u16::try_from(offset)
        .ok()
        .filter(|&o| o <= 0x7FFF)
        .ok_or(Error::ApiMisuse("EF.CardAccess offset"))?
        .to_be_bytes();
    let resp = transmit_plain(
        channel,
        &Command::new(0x00, 0xB0, p1, p2).with_le(want),
        apdus,
    )?;
    match resp.sw {
        SW_OK | 0x6282 if !resp.data.is_empty() && resp.data.len() <= want => Ok(resp.data),
        sw => Err(Error::Status {
            command: "read EF.CardAccess",
            sw,
        }),
    }
}

/// Selects the LDS1 application and runs BAC, returning the secure channel.
fn authenticate_bac<C: CardChannel>(
    channel: &mut C,
    keys: &BacKeys,
    apdus: &mut usize,
) -> Result<SecureChannel, Error> {
    let select = Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(LDS1_AID.to_vec());
    expect_ok(
        transmit_plain(channel, &select, apdus)?,
        "SELECT eMRTD application",
    )?;
    let challenge = expect_ok(
        transmit_plain(channel, &bac::get_challenge(), apdus)?,
        "GET CHALLENGE",
    )?;
    let rnd_ic: [u8; 8] = challenge
        .try_into()
        .map_err(|got: Vec<u8>| CardFault::TooMuchData {
            what: "GET CHALLENGE",
            asked: 8,
            got: got.len(),
        })?;
    let mut rnd_ifd = [0u8; 8];
    let mut k_ifd = zeroize::Zeroizing::new([0u8; 16]);
    getrandom::fill(&mut rnd_ifd).map_err(|_| Error::Unsupported("no system random source"))?;
    getrandom::fill(k_ifd.as_mut()).map_err(|_| Error::Unsupported("no system random source"))?;
    let (cmd, wait) = bac::external_authenticate(keys.clone(), rnd_ic, rnd_ifd, *k_ifd)?;
    let resp = transmit_plain(channel, &cmd, apdus)?;
    match resp.sw {
        SW_OK => wait.finish(&resp.data),
        // 6300 (verification failed) and 6982 (security status) both mean the keys are wrong.
        0x6300 | 0x6982 => Err(Error::AccessDenied("chip refused the MRZ-derived keys")),
        sw => Err(Error::Status {
            command: "EXTERNAL AUTHENTICATE",
            sw,
        }),
    }
}

fn transmit_plain<C: CardChannel>(
    channel: &mut C,
    cmd: &Command,
    apdus: &mut usize,
) -> Result<Response, Error> {
    *apdus += 1;
    let raw = channel.transmit(&cmd.encode(false))?;
    Ok(Response::parse(raw)?)
}

fn expect_ok(resp: Response, command: &'static str) -> Result<Vec<u8>, Error> {
    match resp.sw {
        SW_OK => Ok(resp.data),
        sw => Err(Error::Status { command, sw }),
    }
}

/// Where a READ BINARY finds its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// The current EF.
    Current,
    /// The EF with this short EF identifier.
    Sfi(u8),
    /// A file's first, large read (the current EF, or by short EF identifier): 6700 and 6Cxx end it at once.
    Probe(Option<u8>),
}

impl Start {
    /// The short EF identifier the read names, if any.
    fn sfi(self) -> Option<u8> {
        match self {
            Start::Current => None,
            Start::Sfi(sfi) => Some(sfi),
            Start::Probe(sfi) => sfi,
        }
    }
}

/// The short EF identifier of an LDS1 elementary file (9303-10 section 3.6.2): DG1–DG16 01–10, EF.SOD 1D, EF.COM 1E.
fn short_file_id(fid: u16) -> Option<u8> {
    match fid {
        0x0101..=0x0110 | 0x011D | 0x011E => u8::try_from(fid & 0xFF).ok(),
        _ => None,
    }
}

/// Largest plaintext whose protected response (DO'87', DO'99', DO'8E') fits `budget` bytes of response data.
pub fn max_plain_per_response(budget: usize, block: usize) -> usize {
    // DO'99' (4 bytes) and DO'8E' (10 bytes) are fixed; DO'87' is a tag,
    // a BER length, the padding indicator and the padded ciphertext.
    let protected_len = |n: usize| {
        let enc = (n / block + 1) * block;
        let mut len = Vec::new();
        tlv::encode_length(enc + 1, &mut len);
        1 + len.len() + 1 + enc + 4 + 10
    };
    // Padding always adds at least one byte, so the answer is below the budget.
    (0..budget)
        .rev()
        .find(|&n| protected_len(n) <= budget)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_size_fits_short_and_extended_responses() {
        assert_eq!(max_plain_per_response(256, 8), 231);
        assert_eq!(max_plain_per_response(256, 16), 223);
        let ext = max_plain_per_response(65_536, 8);
        assert!(ext > 65_000 && ext < 65_536);
    }
}
