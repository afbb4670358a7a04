//! Gate-controller firmware updates: verify a signed image, then flash it.
//!
//! [`verify`] checks an image's structure, hash and Ed25519 signature
//! against the vendor's public key, without touching the gate; only a
//! [`VerifiedImage`] can be flashed. [`GateLink::flash`] asks the gate what
//! it runs, refuses an image for other hardware or a downgrade before any
//! update frame is sent, writes the image chunk by chunk (each
//! acknowledged, each retransmitted a bounded number of times), has the gate
//! hash it, waits for the restart into the new slot and confirms the new
//! firmware with a heartbeat. Whatever fails, the error says which version
//! the controller runs afterwards.

use std::time::{Duration, Instant};

use ed25519_dalek::Signature;
/// The vendor's Ed25519 firmware-signing public key, as [`verify`] takes it.
pub use ed25519_dalek::VerifyingKey;
use embedded_io::{Read, Write};
use gate_protocol::{
    BootState, CHUNK_MAX, Chunk, Command, FirmwareInfo, Image, ImageError, ImageHeader, NakReason,
    SlotId, Target,
};

use crate::{GateError, GateLink};

/// An image whose structure, hash and vendor signature were checked.
#[derive(Debug, Clone, Copy)]
pub struct VerifiedImage<'a> {
    /// The parsed image.
    image: Image<'a>,
}

impl<'a> VerifiedImage<'a> {
    /// The header fields.
    pub fn header(&self) -> &ImageHeader {
        self.image.header()
    }

    /// The payload written into the controller's slot.
    pub fn payload(&self) -> &'a [u8] {
        self.image.payload()
    }

    /// Checks hardware id and version against what the controller reports.
    ///
    /// # Errors
    ///
    /// [`ImageError::WrongHardware`] or [`ImageError::Downgrade`].
    pub fn check_target(
        &self,
        info: &FirmwareInfo,
        allow_downgrade: bool,
    ) -> Result<(), ImageError> {
        self.image.check_target(&Target {
            hardware_id: info.hardware_id,
            installed: info.running,
            allow_downgrade,
        })
    }
}

/// Parses `bytes` as a firmware image and verifies its signature with the vendor's `key`.
///
/// Strict Ed25519 verification over header and payload. Nothing is sent anywhere.
///
/// # Errors
///
/// Any [`ImageError`] of [`Image::parse`], or [`ImageError::BadSignature`].
pub fn verify<'a>(bytes: &'a [u8], key: &VerifyingKey) -> Result<VerifiedImage<'a>, ImageError> {
    let image = Image::parse(bytes)?;
    let signature = Signature::from_bytes(image.signature());
    key.verify_strict(image.signed_bytes(), &signature)
        .map_err(|_| ImageError::BadSignature)?;
    Ok(VerifiedImage { image })
}

/// Timing and policy of [`GateLink::flash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashConfig {
    /// How long to wait for the acknowledgement of one transmission.
    pub ack_timeout: Duration,
    /// Transmissions of one chunk (or begin) before the flash fails (at least 1).
    pub attempts: u8,
    /// How long the gate may take to hash the slot and acknowledge `FinishUpdate`.
    pub finish_timeout: Duration,
    /// How long the gate may take to restart and report the new firmware confirmed.
    pub boot_timeout: Duration,
    /// Accept an image older than the running firmware.
    pub allow_downgrade: bool,
}

impl Default for FlashConfig {
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_millis(300),
            attempts: 5,
            finish_timeout: Duration::from_secs(5),
            boot_timeout: Duration::from_secs(20),
            allow_downgrade: false,
        }
    }
}

/// How far a flash has come, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashProgress {
    /// The gate accepted the update; it is in its safe state.
    Started {
        /// Version running before the update.
        running: u32,
    },
    /// Payload bytes acknowledged so far.
    Writing {
        /// Bytes written.
        written: u32,
        /// Bytes in all.
        total: u32,
    },
    /// Every byte written; the gate hashes the slot.
    Verifying,
    /// The gate accepted the image and restarts into it.
    Restarting,
    /// The new firmware runs and is confirmed.
    Confirmed {
        /// Its version.
        version: u32,
    },
}

/// A successful flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlashReport {
    /// Version now running, confirmed.
    pub version: u32,
    /// Slot it runs from.
    pub slot: SlotId,
    /// Version that ran before.
    pub previous: u32,
}

/// Which step of a flash failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashStage {
    /// `BeginUpdate`.
    Begin,
    /// `WriteChunk` at this payload offset.
    Write {
        /// Offset of the chunk.
        offset: u32,
    },
    /// `FinishUpdate` (the gate's hash check).
    Finish,
}

impl std::fmt::Display for FlashStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Begin => f.write_str("start of the update"),
            Self::Write { offset } => write!(f, "chunk at offset {offset}"),
            Self::Finish => f.write_str("final hash check"),
        }
    }
}

/// A flash that did not end with the new firmware confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlashError {
    /// The gate did not say what it runs; nothing was sent to it but the query.
    #[error("the gate did not report its firmware: {0}")]
    Query(GateError),
    /// The image does not fit this gate (hardware id, downgrade); no update frame was sent.
    #[error("image refused: {error}")]
    Refused {
        /// Why.
        error: ImageError,
        /// What the gate runs (unchanged).
        running: FirmwareInfo,
    },
    /// A step failed (NAK, no acknowledgement, hash mismatch); the new image was discarded.
    #[error("the {stage} failed: {error}")]
    Failed {
        /// The step.
        stage: FlashStage,
        /// The gate's answer, or its silence.
        error: GateError,
        /// What the gate reported afterwards, if it answered.
        running: Option<FirmwareInfo>,
    },
    /// The new firmware booted but was not confirmed (or crashed); the gate rolled back.
    #[error("version {offered} was not confirmed; the gate rolled back")]
    RolledBack {
        /// Version of the image.
        offered: u32,
        /// What the gate runs now.
        running: FirmwareInfo,
    },
    /// No confirmed report from the gate within the boot timeout.
    #[error("version {offered} did not report confirmed within the boot timeout")]
    NoConfirmation {
        /// Version of the image.
        offered: u32,
        /// The last report, if any came after the restart.
        last: Option<FirmwareInfo>,
    },
}

impl FlashError {
    /// The version the controller runs after the failure, when it said so.
    ///
    /// For a failure before the restart this is the old firmware, still
    /// running; after the restart, the one the gate rolled back to.
    pub fn running(&self) -> Option<u32> {
        match self {
            Self::Query(_) => None,
            Self::Refused { running, .. } | Self::RolledBack { running, .. } => {
                Some(running.running)
            }
            Self::Failed { running, .. } => running.map(|i| i.running),
            Self::NoConfirmation { last, .. } => last
                .filter(|i| i.state != BootState::Trial)
                .map(|i| i.running),
        }
    }
}

/// Pause between two looks at a restarting gate.
const BOOT_POLL: Duration = Duration::from_millis(50);

/// How long the first query waits out another session (the gate's watchdog is 2 s by default).
const RESYNC: Duration = Duration::from_secs(4);

/// Pause between two queries while waiting out another session.
const RESYNC_POLL: Duration = Duration::from_millis(200);

impl<T: Read + Write> GateLink<T> {
    /// Flashes `image` into the gate's inactive slot and waits for it to be confirmed.
    ///
    /// Steps: `QueryFirmware` (hardware id and version checked, see
    /// [`VerifiedImage::check_target`]); `BeginUpdate` (the gate goes to its
    /// safe state; refused while anyone is in the lane); `WriteChunk` for
    /// every [`CHUNK_MAX`] bytes, each acknowledged, each retransmitted up to
    /// [`FlashConfig::attempts`] times with the same sequence number;
    /// `FinishUpdate` (the gate hashes the slot and restarts into it); then
    /// `Heartbeat` (which confirms the new firmware) and `QueryFirmware`
    /// until the gate reports the new version confirmed. `progress` hears of
    /// every step and every acknowledged chunk.
    ///
    /// After a failed step the update is aborted (best effort) and the gate
    /// asked what it runs, so the error can say which version is in service.
    ///
    /// # Errors
    ///
    /// [`FlashError`]: the query, the refusal, the failed step, the rollback,
    /// or no confirmation within [`FlashConfig::boot_timeout`].
    pub fn flash(
        &mut self,
        image: &VerifiedImage<'_>,
        config: &FlashConfig,
        mut progress: impl FnMut(FlashProgress),
    ) -> Result<FlashReport, FlashError> {
        let before = self.first_query(config).map_err(FlashError::Query)?;
        image
            .check_target(&before, config.allow_downgrade)
            .map_err(|error| FlashError::Refused {
                error,
                running: before,
            })?;
        let header = *image.header();
        let begin = Command::BeginUpdate {
            version: header.version,
            length: header.length,
            hash: header.sha256,
        };
        if let Err(e) = self.command_with(begin, config.ack_timeout, config.attempts) {
            return Err(self.failed(FlashStage::Begin, e, config));
        }
        progress(FlashProgress::Started {
            running: before.running,
        });
        let mut written = 0u32;
        for part in image.payload().chunks(CHUNK_MAX) {
            let offset = written;
            let Some(chunk) = Chunk::new(offset, part) else {
                // chunks(CHUNK_MAX) yields 1..=CHUNK_MAX bytes: cannot happen.
                let e = GateError::NoReport;
                return Err(self.failed(FlashStage::Write { offset }, e, config));
            };
            let sent = self.command_with(
                Command::WriteChunk(chunk),
                config.ack_timeout,
                config.attempts,
            );
            if let Err(e) = sent {
                return Err(self.failed(FlashStage::Write { offset }, e, config));
            }
            written = written.saturating_add(u32::try_from(part.len()).unwrap_or(u32::MAX));
            progress(FlashProgress::Writing {
                written,
                total: header.length,
            });
        }
        progress(FlashProgress::Verifying);
        let finish = Command::FinishUpdate {
            hash: header.sha256,
        };
        match self.command_with(finish, config.finish_timeout, config.attempts) {
            Ok(_) => {}
            // The gate may have restarted after its acknowledgement was lost:
            // what it reports after the restart decides.
            Err(GateError::NoAck { .. }) => {}
            Err(e) => return Err(self.failed(FlashStage::Finish, e, config)),
        }
        progress(FlashProgress::Restarting);
        let report = self.await_confirmation(header.version, before.running, config)?;
        progress(FlashProgress::Confirmed {
            version: report.version,
        });
        Ok(report)
    }

    /// The first `QueryFirmware`, waiting out a gate still in another kiosk's session.
    ///
    /// A kiosk that restarted within the gate's watchdog (2 s) numbers its
    /// commands from 0 again and gets `Nak(BadSequence)` until the gate's
    /// watchdog ends the old session; queries are retried for [`RESYNC`].
    fn first_query(&mut self, config: &FlashConfig) -> Result<FirmwareInfo, GateError> {
        let deadline = Instant::now() + RESYNC;
        loop {
            match self.query_firmware_with(config.ack_timeout, config.attempts) {
                Err(GateError::Nak {
                    reason: NakReason::BadSequence,
                    ..
                }) if Instant::now() < deadline => std::thread::sleep(RESYNC_POLL),
                other => return other,
            }
        }
    }

    /// After `FinishUpdate`: heartbeats (they confirm the new image) and queries until it is confirmed.
    fn await_confirmation(
        &mut self,
        offered: u32,
        previous: u32,
        config: &FlashConfig,
    ) -> Result<FlashReport, FlashError> {
        let deadline = Instant::now() + config.boot_timeout;
        let mut last = None;
        while Instant::now() < deadline {
            // Any outcome: a restarting gate does not answer; the query tells.
            let _heartbeat = self.command_with(Command::Heartbeat, config.ack_timeout, 1);
            if let Ok(info) = self.query_firmware_with(config.ack_timeout, 1) {
                match info.state {
                    BootState::Confirmed if info.running == offered => {
                        return Ok(FlashReport {
                            version: info.running,
                            slot: info.slot,
                            previous,
                        });
                    }
                    BootState::RolledBack | BootState::Confirmed => {
                        return Err(FlashError::RolledBack {
                            offered,
                            running: info,
                        });
                    }
                    // Not restarted yet, or on trial: the next heartbeat confirms it.
                    BootState::Pending | BootState::Trial => last = Some(info),
                }
            }
            std::thread::sleep(BOOT_POLL);
        }
        Err(FlashError::NoConfirmation { offered, last })
    }

    /// A step failed: abort the update (best effort), ask what runs, build the error.
    fn failed(&mut self, stage: FlashStage, error: GateError, config: &FlashConfig) -> FlashError {
        // Refused or lost: the gate forgets an unfinished update at its watchdog anyway.
        let _aborted = self.command_with(Command::AbortUpdate, config.ack_timeout, 1);
        let running = self.query_firmware_with(config.ack_timeout, 2).ok();
        FlashError::Failed {
            stage,
            error,
            running,
        }
    }
}

#[cfg(test)]
mod tests;
