//! Reading a whole document: EF.COM, every data group it lists, and EF.SOD.

use std::time::{Duration, Instant};

use crate::channel::CardChannel;
use crate::error::Error;
use crate::lds::{Com, DataGroup, FileId};
use crate::session::Session;

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
