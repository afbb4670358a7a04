//! Reading a whole document: EF.COM, every data group it lists, and EF.SOD;
//! then checking that the chip is not a copy ([`verify_chip`]).

use std::time::{Duration, Instant, SystemTime};

use crate::aa::{AaFailure, AaPublicKey, ActiveAuthenticationInfo};
use crate::ca;
use crate::channel::CardChannel;
use crate::error::Error;
use crate::lds::{Com, DataGroup, Dg14, Dg15, FileId};
use crate::pa::{self, PaReport, TrustStore};
use crate::session::Session;
use crate::verdict::CloneCheck;

/// Status words with which a chip refuses one file but stays usable:
/// 6982 (security status not satisfied: DG3/DG4 need Extended Access
/// Control) and 6A82 (file not found: listed in EF.COM but absent).
const FILE_REFUSED: [u16; 2] = [0x6982, 0x6A82];

/// What reading one file produced.
#[derive(Debug)]
pub struct FileRead {
    /// Which file.
    pub file: FileId,
    /// The file's bytes, or the status word with which the chip refused it.
    pub outcome: Result<Vec<u8>, u16>,
    /// APDUs this file took.
    pub apdus: usize,
    /// Time this file took.
    pub elapsed: Duration,
}

/// Every file read from a document, in the order read.
#[derive(Debug)]
pub struct DocumentRead {
    /// The parsed EF.COM.
    pub com: Com,
    /// EF.COM, then each data group EF.COM lists, then EF.SOD.
    pub files: Vec<FileRead>,
}

impl DocumentRead {
    /// The bytes of `file`, if it was read.
    pub fn bytes(&self, file: FileId) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|f| f.file == file)
            .and_then(|f| f.outcome.as_deref().ok())
    }

    /// Every data group read, with its bytes, in the order read.
    pub fn data_groups(&self) -> Vec<(DataGroup, &[u8])> {
        self.files
            .iter()
            .filter_map(|f| match (f.file, &f.outcome) {
                (FileId::Dg(dg), Ok(bytes)) => Some((dg, bytes.as_slice())),
                _ => None,
            })
            .collect()
    }

    /// Passive Authentication of what was read (9303-11 section 5.1):
    /// EF.SOD's signature and DS chain against `trust`, and every data group's hash.
    ///
    /// `issuing_state` is the state the DS certificate must name (from DG1,
    /// else the scanned MRZ). A missing EF.SOD fails the check.
    pub fn passive_authentication(
        &self,
        trust: &TrustStore,
        issuing_state: &str,
        at: SystemTime,
    ) -> PaReport {
        pa::verify(
            self.bytes(FileId::Sod).unwrap_or_default(),
            &self.data_groups(),
            trust,
            issuing_state,
            at,
        )
    }
}

/// Reads EF.COM, each data group it lists, and EF.SOD (9303-10 section 3.6).
///
/// A data group the chip refuses with 6982 or 6A82 is recorded and skipped;
/// any other failure ends the read, because the session can no longer be
/// trusted.
///
/// # Errors
/// The first error that is not a refusal of a single file.
pub fn read_document<C: CardChannel>(session: &mut Session<C>) -> Result<DocumentRead, Error> {
    let com_read = read_one(session, FileId::Com)?;
    let com_bytes = com_read.outcome.as_deref().map_err(|&sw| Error::Status {
        command: "read EF.COM",
        sw,
    })?;
    let com = Com::parse(com_bytes)?;
    let mut files = vec![com_read];
    for &dg in &com.data_groups {
        files.push(read_one(session, FileId::Dg(dg))?);
    }
    files.push(read_one(session, FileId::Sod)?);
    Ok(DocumentRead { com, files })
}

/// Proves the chip is not a copy, with what the chip offers (9303-11 section 6):
/// Chip Authentication when DG14 has its infos (after PACE-CAM: CAM's proof
/// checked against DG14 instead), else Active Authentication when DG15 was
/// read (the ECDSA hash from DG14's ActiveAuthenticationInfo), else
/// [`CloneCheck::NotOffered`].
///
/// Run it after [`read_document`] on the same session: Chip Authentication
/// switches the session's secure messaging to its keys. A check that ran
/// and failed is a failure, whatever the cause (a clone, or a chip that
/// broke secure messaging); a check this crate cannot run (an unsupported
/// curve or protocol) is [`CloneCheck::NotRun`] with the reason.
pub fn verify_chip<C: CardChannel>(session: &mut Session<C>, doc: &DocumentRead) -> CloneCheck {
    let dg14 = match doc.bytes(FileId::Dg(DataGroup::Dg14)).map(Dg14::parse) {
        None => None,
        Some(Ok(dg14)) => Some(dg14),
        Some(Err(e)) => {
            return CloneCheck::ChipAuthentication(Err(format!("DG14 is malformed: {e}")));
        }
    };
    let mut not_run = None;
    if let Some(dg14) = &dg14 {
        match chip_authentication(session, dg14) {
            Some(Ok(check)) => return check,
            Some(Err(why)) => not_run = Some(why),
            None => {}
        }
    }
    match doc.bytes(FileId::Dg(DataGroup::Dg15)) {
        Some(dg15) => active_authentication(session, dg15, dg14.as_ref()),
        None => not_run.map_or(CloneCheck::NotOffered, CloneCheck::NotRun),
    }
}

/// Chip Authentication or the PACE-CAM check: `None` when DG14 offers neither,
/// `Some(Err(reason))` when it offers one this crate cannot run.
fn chip_authentication<C: CardChannel>(
    session: &mut Session<C>,
    dg14: &Dg14,
) -> Option<Result<CloneCheck, String>> {
    let has_key = match ca::chip_authentication_public_keys(dg14) {
        Ok(keys) => !keys.is_empty(),
        Err(e) => {
            return Some(Ok(CloneCheck::ChipAuthentication(Err(format!(
                "DG14 Chip Authentication key is malformed: {e}"
            )))));
        }
    };
    // 9303-11 section 4.4.3.3.3: after PACE-CAM, CAM's proof replaces CA.
    if session.chip_authentication_mapping().is_some() && has_key {
        let result = session
            .verify_chip_authentication_mapping(dg14)
            .map_err(|e| e.to_string());
        return Some(Ok(CloneCheck::ChipAuthentication(result)));
    }
    match ca::choose(dg14) {
        Ok(None) => None,
        Ok(Some(choice)) => Some(Ok(CloneCheck::ChipAuthentication(
            session
                .chip_authenticate_with(choice)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        ))),
        Err(Error::Unsupported(why)) => Some(Err(format!("Chip Authentication: {why}"))),
        Err(e) => Some(Ok(CloneCheck::ChipAuthentication(Err(e.to_string())))),
    }
}

/// Active Authentication with DG15's key (9303-11 section 6.1).
fn active_authentication<C: CardChannel>(
    session: &mut Session<C>,
    dg15: &[u8],
    dg14: Option<&Dg14>,
) -> CloneCheck {
    let key = match Dg15::parse(dg15)
        .map_err(Error::from)
        .and_then(|d| AaPublicKey::from_spki_der(&d.subject_public_key_info))
    {
        Ok(key) => key,
        Err(Error::Unsupported(why)) => {
            return CloneCheck::NotRun(format!("Active Authentication: {why}"));
        }
        Err(_) => {
            return CloneCheck::ActiveAuthentication(Err(AaFailure::Malformed(
                "DG15 key does not parse",
            )));
        }
    };
    let hash = match dg14.map(ActiveAuthenticationInfo::from_dg14) {
        Some(Ok(info)) => info.and_then(|i| i.hash()),
        Some(Err(_)) => {
            return CloneCheck::ActiveAuthentication(Err(AaFailure::Malformed(
                "DG14 ActiveAuthenticationInfo does not parse",
            )));
        }
        None => None,
    };
    match session.active_authenticate(&key, hash) {
        Ok(result) => CloneCheck::ActiveAuthentication(result),
        Err(e) => CloneCheck::ActiveAuthentication(Err(AaFailure::NoAnswer(e.to_string()))),
    }
}

fn read_one<C: CardChannel>(session: &mut Session<C>, file: FileId) -> Result<FileRead, Error> {
    let start = Instant::now();
    let apdus_before = session.apdu_count();
    let outcome = match session.read_file(file.file_id(), file.name()) {
        Ok(bytes) => Ok(bytes),
        Err(Error::Status { sw, .. }) if FILE_REFUSED.contains(&sw) => Err(sw),
        Err(e) => return Err(e),
    };
    Ok(FileRead {
        file,
        outcome,
        apdus: session.apdu_count() - apdus_before,
        elapsed: start.elapsed(),
    })
}

/// The data groups a BAC-only terminal may read (DG3 and DG4 need EAC).
pub fn readable_without_eac(dg: DataGroup) -> bool {
    !matches!(dg, DataGroup::Dg3 | DataGroup::Dg4)
}
