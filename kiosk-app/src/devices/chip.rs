//! The contactless chip: the I/O half ([`read_chip`]: access control, every
//! file, clone detection, through PC/SC) and the software half ([`assess`]:
//! Passive Authentication and the verdict), kept apart so the lane's
//! software time can be measured without the chip's.

use std::time::{Duration, SystemTime};

use card_reader::{ConnectOptions, Readers};
use icao9303::CardChannel;
use icao9303::Error;
use icao9303::channel::ChannelErrorKind;
use icao9303::document::{self, DocumentRead};
use icao9303::lds::{DataGroup, Dg1, Dg2, FileId};
use icao9303::mrz::Mrz;
use icao9303::pa::TrustStore;
use icao9303::pace::Password;
use icao9303::session::{AccessProtocol, ReadOptions, Session};
use icao9303::verdict::{CloneCheck, Verdict};

use crate::session::{ChipFailure, ChipRead};

/// Where and how the lane reads chips.
#[derive(Debug, Clone)]
pub struct ChipConfig {
    /// PC/SC reader name.
    pub reader: String,
    /// How long to wait for a card on the reader once the MRZ is scanned.
    pub card_wait: Duration,
    /// Transmit time limit and extended-length use.
    pub connect: ConnectOptions,
}

/// What the chip I/O produced: the files and the clone check, not yet judged.
#[derive(Debug)]
pub struct ChipData {
    /// The access-control protocol that opened the chip.
    pub protocol: &'static str,
    /// Every file read.
    pub document: DocumentRead,
    /// Chip or Active Authentication's result.
    pub clone: CloneCheck,
}

/// Why a chip read gave no data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChipError {
    /// The document left the reader during the read.
    #[error("the document left the reader")]
    Removed,
    /// The read failed; the message is for the technician (no personal data).
    #[error("{failure:?}: {message}")]
    Failed {
        /// How the lane treats it.
        failure: ChipFailure,
        /// What failed.
        message: String,
    },
}

/// Reads the chip of the document whose MRZ was scanned: waits for the card,
/// opens it (PACE, else BAC: 9303-11 section 4), reads EF.COM, its data
/// groups and EF.SOD (9303-10 section 3.6), then runs Chip or Active
/// Authentication (9303-11 sections 6.1, 6.2).
///
/// # Errors
/// [`ChipError::Removed`] when the card left; [`ChipError::Failed`] otherwise.
pub fn read_chip(readers: &Readers, config: &ChipConfig, mrz: &Mrz) -> Result<ChipData, ChipError> {
    readers
        .wait_for_card(&config.reader, config.card_wait)
        .map_err(|e| chip_error(&Error::Channel(e)))?;
    let channel = readers
        .connect(&config.reader, &config.connect)
        .map_err(|e| chip_error(&Error::Channel(e)))?;
    read_over(channel, mrz)
}

/// [`read_chip`] over an open channel (a PC/SC card or a test chip).
///
/// # Errors
/// As [`read_chip`].
pub fn read_over<C: CardChannel>(channel: C, mrz: &Mrz) -> Result<ChipData, ChipError> {
    let password = Password::from_mrz(mrz).map_err(|e| chip_error(&e))?;
    let mut session =
        Session::open(channel, password, &ReadOptions::default()).map_err(|e| chip_error(&e))?;
    let document = document::read_document(&mut session).map_err(|e| chip_error(&e))?;
    let clone = document::verify_chip(&mut session, &document);
    let protocol = match session.protocol() {
        AccessProtocol::Bac => "bac",
        AccessProtocol::Pace { .. } => "pace",
    };
    Ok(ChipData {
        protocol,
        document,
        clone,
    })
}

/// Judges what was read: DG1 against the scanned MRZ, Passive
/// Authentication against `trust` at `now` (9303-11 section 5.1), the
/// clone check; and takes DG2's first face image for the face unit.
#[must_use]
pub fn assess(data: &ChipData, scanned: &Mrz, trust: &TrustStore, now: SystemTime) -> ChipRead {
    let doc = &data.document;
    // A DG1 that does not parse counts as absent: the verdict then fails
    // the DG1 comparison, and Passive Authentication the DG1 hash if altered.
    let dg1_mrz = doc
        .bytes(FileId::Dg(DataGroup::Dg1))
        .and_then(|b| Dg1::parse(b).ok())
        .and_then(|dg1| dg1.parse_mrz().ok());
    let issuing_state = dg1_mrz.as_ref().unwrap_or(scanned).issuing_state.clone();
    let pa = doc.passive_authentication(trust, &issuing_state, now);
    let verdict = Verdict::new(data.protocol, &pa, &data.clone, scanned, dg1_mrz.as_ref());
    let face = doc
        .bytes(FileId::Dg(DataGroup::Dg2))
        .and_then(|b| Dg2::parse(b).ok())
        .and_then(|dg2| dg2.face().cloned());
    ChipRead { verdict, face }
}

/// How the lane treats a failed read.
fn chip_error(err: &Error) -> ChipError {
    let failure = match err {
        Error::Channel(c) if c.kind == ChannelErrorKind::CardRemoved => return ChipError::Removed,
        Error::AccessDenied(_) | Error::Mrz(_) => ChipFailure::AccessDenied,
        Error::Channel(_) | Error::SecureMessagingAborted { .. } | Error::Status { .. } => {
            ChipFailure::Communication
        }
        _ => ChipFailure::Malformed,
    };
    ChipError::Failed {
        failure,
        message: err.to_string(),
    }
}
