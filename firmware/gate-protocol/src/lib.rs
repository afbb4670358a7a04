//! Framed wire protocol shared by the gate firmware and the kiosk driver.
//!
//! One frame on the wire is
//!
//! ```text
//! COBS( version u8 | seq u16 BE | type u8 | payload 0..=68 | CRC-16/CCITT-FALSE BE ) 0x00
//! ```
//!
//! The CRC covers everything before it. The 0x00 delimiter never occurs inside
//! a COBS-encoded frame, so a receiver that lost sync simply waits for the
//! next 0x00 ([`Decoder`] does this). Each side numbers the frames it sends
//! (`seq`, wrapping); [`Message::Ack`] and [`Message::Nak`] name the sequence
//! number they answer.
//!
//! `no_std`, no alloc: [`encode`] writes into a caller-provided buffer and
//! [`Decoder`] keeps a fixed [`MAX_FRAME_LEN`]-byte buffer. Nothing here
//! panics or reads past a buffer on hostile bytes.
//!
//! [`Image`] parses a signed gate-controller firmware image (header, payload,
//! Ed25519 signature) and checks its SHA-256; verifying the signature is the
//! kiosk's part (`drivers/gate`).
#![no_std]
#![forbid(unsafe_code)]

mod cobs;
mod crc;
mod decoder;
mod error;
mod image;
mod message;

pub use crc::crc16;
pub use decoder::{Decoder, Feed};
pub use error::{Error, ErrorKind};
pub use image::{
    IMAGE_FORMAT_VERSION, IMAGE_HEADER_LEN, IMAGE_MAGIC, Image, ImageError, ImageHeader,
    SIGNATURE_LEN, Target,
};
pub use message::{
    BootState, Chunk, Command, FaultCode, FirmwareInfo, Frame, GateEvent, GateMode, LeafState,
    Light, Message, NakReason, Occupancy, SlotId,
};

/// Protocol version carried in every frame; a frame with another version is rejected.
///
/// Version 1 includes the firmware-update messages: they were added before any
/// unit shipped, so no controller speaks a version 1 without them. A message a
/// released peer does not know must raise this number, so that a kiosk learns
/// at the first frame that its controller is too old, not at the first
/// refused command.
pub const VERSION: u8 = 1;

/// Most image bytes one [`Command::WriteChunk`] carries.
pub const CHUNK_MAX: usize = 64;

/// Largest payload of any message type, in bytes (a full [`Command::WriteChunk`]).
pub const MAX_PAYLOAD: usize = 4 + CHUNK_MAX;

/// Largest frame before COBS: version, seq, type, payload and CRC.
pub const MAX_RAW_LEN: usize = 1 + 2 + 1 + MAX_PAYLOAD + 2;

/// Largest frame on the wire: COBS overhead and the 0x00 delimiter included.
pub const MAX_FRAME_LEN: usize = MAX_RAW_LEN + MAX_RAW_LEN / 254 + 1 + 1;

/// Encodes `frame` into `out` as one delimited wire frame; returns the bytes written.
///
/// # Errors
///
/// [`Error::BufferTooSmall`] when `out` is shorter than the encoded frame
/// ([`MAX_FRAME_LEN`] is always enough). Nothing else can fail.
pub fn encode(frame: &Frame, out: &mut [u8]) -> Result<usize, Error> {
    let mut raw = [0u8; MAX_RAW_LEN];
    let mut payload = [0u8; MAX_PAYLOAD];
    let (kind, payload_len) = frame.message.write_payload(&mut payload);
    let [seq_hi, seq_lo] = frame.seq.to_be_bytes();
    let header = [VERSION, seq_hi, seq_lo, kind];
    let body_len = header.len() + payload_len;
    raw[..header.len()].copy_from_slice(&header);
    raw[header.len()..body_len].copy_from_slice(&payload[..payload_len]);
    let crc = crc16(&raw[..body_len]);
    raw[body_len..body_len + 2].copy_from_slice(&crc.to_be_bytes());
    let raw = &raw[..body_len + 2];

    let needed = cobs::max_encoded_len(raw.len()) + 1;
    if out.len() < needed {
        return Err(Error::BufferTooSmall { needed });
    }
    let n = cobs::encode(raw, out).ok_or(Error::BufferTooSmall { needed })?;
    let delim = out.get_mut(n).ok_or(Error::BufferTooSmall { needed })?;
    *delim = 0;
    Ok(n + 1)
}

/// Decodes one wire frame; a trailing 0x00 delimiter is allowed and ignored.
///
/// # Errors
///
/// Every [`Error`] but [`Error::BufferTooSmall`]: the bytes are not one valid
/// frame. Never panics.
pub fn decode(wire: &[u8]) -> Result<Frame, Error> {
    let wire = match wire.split_last() {
        Some((0, rest)) => rest,
        _ => wire,
    };
    if wire.len() > MAX_FRAME_LEN - 1 {
        return Err(Error::Oversized);
    }
    let mut raw = [0u8; MAX_FRAME_LEN];
    let n = cobs::decode(wire, &mut raw)?;
    decode_raw(&raw[..n])
}

/// Checks version and CRC of an un-COBSed frame and parses its message.
fn decode_raw(raw: &[u8]) -> Result<Frame, Error> {
    let Some((body, crc)) = raw.split_last_chunk::<2>() else {
        return Err(Error::Truncated);
    };
    let Some(([version, seq_hi, seq_lo, kind], payload)) = body.split_first_chunk::<4>() else {
        return Err(Error::Truncated);
    };
    let expected = crc16(body);
    let actual = u16::from_be_bytes(*crc);
    if expected != actual {
        return Err(Error::BadCrc { expected, actual });
    }
    if *version != VERSION {
        return Err(Error::BadVersion {
            expected: VERSION,
            actual: *version,
        });
    }
    let message = Message::read_payload(*kind, payload)?;
    Ok(Frame {
        seq: u16::from_be_bytes([*seq_hi, *seq_lo]),
        message,
    })
}

#[cfg(test)]
mod tests;
