//! Round trips, every decode error path, the streaming decoder, and proptests.

extern crate std;

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use crate::*;

/// Encodes to a Vec.
fn enc(frame: &Frame) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME_LEN];
    let n = encode(frame, &mut out).expect("MAX_FRAME_LEN is enough");
    out[..n].to_vec()
}

/// Builds a wire frame from raw (pre-COBS, pre-CRC) bytes, adding CRC and COBS.
fn wire_from_body(body: &[u8]) -> Vec<u8> {
    let mut raw = body.to_vec();
    raw.extend_from_slice(&crc16(body).to_be_bytes());
    wire_from_raw(&raw)
}

/// COBS-encodes raw bytes (CRC included) and appends the delimiter.
fn wire_from_raw(raw: &[u8]) -> Vec<u8> {
    let mut out = std::vec![0u8; raw.len() + raw.len() / 254 + 2];
    let n = crate::cobs::encode(raw, &mut out).expect("sized");
    out.truncate(n);
    out.push(0);
    out
}

#[test]
fn crc_check_value() {
    assert_eq!(crc16(b"123456789"), 0x29B1);
}

#[test]
fn known_frame_bytes() {
    let frame = Frame {
        seq: 0x0102,
        message: Message::Command(Command::OpenEntry),
    };
    let crc = crc16(&[VERSION, 0x01, 0x02, 0x01]).to_be_bytes();
    assert!(!crc.contains(&0));
    assert_eq!(
        enc(&frame),
        [7, VERSION, 0x01, 0x02, 0x01, crc[0], crc[1], 0]
    );
}

#[test]
fn encoded_frame_has_one_delimiter_at_the_end() {
    let frame = Frame {
        seq: 0,
        message: Message::Ack { seq: 0 },
    };
    let wire = enc(&frame);
    assert_eq!(wire.iter().filter(|&&b| b == 0).count(), 1);
    assert_eq!(wire.last(), Some(&0));
    assert_eq!(decode(&wire), Ok(frame));
    assert_eq!(decode(&wire[..wire.len() - 1]), Ok(frame));
}

/// One input per [`Error`] variant, and the match below has no wildcard: a new
/// variant does not compile until it gets a case here.
#[test]
fn every_decode_error_path() {
    let frame = Frame {
        seq: 7,
        message: Message::Command(Command::SetLights(Light::Green)),
    };
    let body = [VERSION, 0, 7, 0x05, 2];
    let crc = crc16(&body) ^ 0x0100;
    let bad_crc = wire_from_raw(&[VERSION, 0, 7, 0x05, 2, (crc >> 8) as u8, crc as u8]);
    let cases: Vec<(&str, Result<Frame, Error>)> = std::vec![
        (
            "buffer too small",
            encode(&frame, &mut [0u8; 4]).map(|_| frame)
        ),
        ("empty", decode(&[])),
        ("only a delimiter", decode(&[0])),
        ("truncated header", decode(&wire_from_raw(&[VERSION, 0, 1]))),
        (
            "truncated payload",
            decode(&wire_from_body(&[VERSION, 0, 1, 0x03, 0, 0]))
        ),
        ("cobs code runs past the end", decode(&[9, 1, 2, 3])),
        ("zero inside a frame", decode(&[3, 1, 0, 4, 0])),
        ("oversized", decode(&[1u8; MAX_FRAME_LEN + 4])),
        ("bad crc", decode(&bad_crc)),
        (
            "bad version",
            decode(&wire_from_body(&[VERSION + 1, 0, 1, 0x01]))
        ),
        (
            "unknown type",
            decode(&wire_from_body(&[VERSION, 0, 1, 0x7F]))
        ),
        (
            "invalid light",
            decode(&wire_from_body(&[VERSION, 0, 1, 0x05, 9]))
        ),
        (
            "invalid emergency flag",
            decode(&wire_from_body(&[VERSION, 0, 1, 0x44, 2]))
        ),
        (
            "invalid nak reason",
            decode(&wire_from_body(&[VERSION, 0, 1, 0x81, 0, 1, 0]))
        ),
        (
            "trailing data",
            decode(&wire_from_body(&[VERSION, 0, 1, 0x01, 0xAA]))
        ),
    ];
    let mut seen = [false; 9];
    for (name, result) in cases {
        let err = result.expect_err(name);
        let (i, kind) = match err {
            Error::BufferTooSmall { needed } => {
                assert!(needed > 4, "{name}");
                (0, ErrorKind::Caller)
            }
            Error::Truncated => (1, ErrorKind::Corrupt),
            Error::Oversized => (2, ErrorKind::Corrupt),
            Error::BadCobs => (3, ErrorKind::Corrupt),
            Error::BadCrc { expected, actual } => {
                assert_ne!(expected, actual, "{name}");
                (4, ErrorKind::Corrupt)
            }
            Error::BadVersion { expected, actual } => {
                assert_eq!((expected, actual), (VERSION, VERSION + 1), "{name}");
                (5, ErrorKind::Unsupported)
            }
            Error::UnknownType(t) => {
                assert_eq!(t, 0x7F, "{name}");
                (6, ErrorKind::Unsupported)
            }
            Error::InvalidField { field, .. } => {
                assert!(!field.is_empty(), "{name}");
                (7, ErrorKind::Unsupported)
            }
            Error::TrailingData => (8, ErrorKind::Unsupported),
        };
        assert_eq!(err.kind(), kind, "{name}: {err}");
        seen[i] = true;
    }
    assert_eq!(seen, [true; 9], "every variant exercised");
}

#[test]
fn decoder_resynchronises_after_garbage() {
    let a = Frame {
        seq: 1,
        message: Message::Command(Command::Heartbeat),
    };
    let b = Frame {
        seq: 2,
        message: Message::Event(GateEvent::PassageCompleted {
            passage_id: 0xDEAD_BEEF,
        }),
    };
    let mut stream = std::vec![0x13, 0x37, 0xFF];
    stream.extend(enc(&a));
    stream.extend([0, 0, 0]);
    stream.extend([0x55; 3 * MAX_FRAME_LEN]);
    stream.push(0);
    stream.extend(enc(&b));
    let mut d = Decoder::new();
    let got: Vec<_> = d.feed_slice(&stream).collect();
    assert_eq!(got.len(), 3);
    // The garbage before `a` has no delimiter, so it joins a's bytes: that
    // frame is reported bad (and `a` is lost); the oversized run is one
    // error; `b` after it decodes.
    assert!(got[0].is_err());
    assert_eq!(got[1], Err(Error::Oversized));
    assert_eq!(got[2], Ok(b));

    let mut stream = std::vec![0x13, 0x37, 0];
    stream.extend(enc(&a));
    let got: Vec<_> = d.feed_slice(&stream).collect();
    assert_eq!(got, [Err(Error::Truncated), Ok(a)]);
}

#[test]
fn decoder_takes_frames_split_across_calls() {
    let frame = Frame {
        seq: 0xFFFF,
        message: Message::Nak {
            seq: 0x00FF,
            reason: NakReason::EmergencyActive,
        },
    };
    let wire = enc(&frame);
    let mut d = Decoder::new();
    for (i, &b) in wire.iter().enumerate() {
        let out = d.feed(b);
        if i + 1 < wire.len() {
            assert!(out.is_none());
        } else {
            assert_eq!(out, Some(Ok(frame)));
        }
    }
}

/// Any message.
fn any_message() -> impl Strategy<Value = Message> {
    let light = prop_oneof![
        Just(Light::Off),
        Just(Light::Red),
        Just(Light::Green),
        Just(Light::Amber)
    ];
    let command = prop_oneof![
        Just(Command::OpenEntry),
        Just(Command::CloseEntry),
        any::<u32>().prop_map(|passage_id| Command::OpenExit { passage_id }),
        Just(Command::CloseExit),
        light.prop_map(Command::SetLights),
        Just(Command::Heartbeat),
        Just(Command::QueryStatus),
        Just(Command::EnterSafeState),
        (any::<u32>(), any::<u32>(), any::<[u8; 32]>()).prop_map(|(version, length, hash)| {
            Command::BeginUpdate {
                version,
                length,
                hash,
            }
        }),
        (
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 1..=CHUNK_MAX)
        )
            .prop_map(|(offset, data)| Command::WriteChunk(
                Chunk::new(offset, &data).expect("1..=CHUNK_MAX bytes")
            )),
        any::<[u8; 32]>().prop_map(|hash| Command::FinishUpdate { hash }),
        Just(Command::AbortUpdate),
        Just(Command::QueryFirmware),
    ];
    let slot = prop_oneof![Just(SlotId::A), Just(SlotId::B)];
    let boot = prop_oneof![
        Just(BootState::Confirmed),
        Just(BootState::Pending),
        Just(BootState::Trial),
        Just(BootState::RolledBack),
    ];
    let firmware = (any::<u16>(), any::<u32>(), slot, boot, any::<u32>()).prop_map(
        |(hardware_id, running, slot, state, other)| FirmwareInfo {
            hardware_id,
            running,
            slot,
            state,
            other,
        },
    );
    let mode = prop_oneof![
        Just(GateMode::Closed),
        Just(GateMode::EntryOpen),
        Just(GateMode::Occupied),
        Just(GateMode::ExitOpen),
        Just(GateMode::Fault),
        Just(GateMode::Emergency),
        Just(GateMode::SafeState),
    ];
    let leaf = || {
        prop_oneof![
            Just(LeafState::Closed),
            Just(LeafState::Open),
            Just(LeafState::Moving),
            Just(LeafState::Invalid),
        ]
    };
    let occupancy = prop_oneof![
        Just(Occupancy::Empty),
        Just(Occupancy::One),
        Just(Occupancy::Several)
    ];
    let fault = prop_oneof![
        Just(FaultCode::Actuator),
        Just(FaultCode::Sensor),
        Just(FaultCode::LeafTimeout),
        Just(FaultCode::LeafSwitches),
    ];
    let event = prop_oneof![
        (mode, leaf(), leaf(), occupancy).prop_map(|(mode, entry, exit, occupancy)| {
            GateEvent::Status {
                mode,
                entry,
                exit,
                occupancy,
            }
        }),
        any::<u32>().prop_map(|passage_id| GateEvent::PassageCompleted { passage_id }),
        Just(GateEvent::Tailgating),
        Just(GateEvent::PersonInZone),
        any::<bool>().prop_map(|active| GateEvent::EmergencyRelease { active }),
        fault.prop_map(GateEvent::Fault),
        Just(GateEvent::Heartbeat),
        firmware.prop_map(GateEvent::Firmware),
    ];
    let reason = prop_oneof![
        Just(NakReason::BadSequence),
        Just(NakReason::EmergencyActive),
        Just(NakReason::InvalidInMode),
        Just(NakReason::ZoneOccupied),
        Just(NakReason::Faulted),
        Just(NakReason::Unsupported),
        Just(NakReason::Updating),
        Just(NakReason::TooLarge),
        Just(NakReason::BadOffset),
        Just(NakReason::HashMismatch),
        Just(NakReason::NoUpdate),
        Just(NakReason::Storage),
    ];
    prop_oneof![
        command.prop_map(Message::Command),
        event.prop_map(Message::Event),
        any::<u16>().prop_map(|seq| Message::Ack { seq }),
        (any::<u16>(), reason).prop_map(|(seq, reason)| Message::Nak { seq, reason }),
    ]
}

proptest! {
    #[test]
    fn decode_encode_round_trip(seq in any::<u16>(), message in any_message()) {
        let frame = Frame { seq, message };
        let wire = enc(&frame);
        prop_assert!(wire.len() <= MAX_FRAME_LEN);
        prop_assert_eq!(decode(&wire), Ok(frame));
        let mut d = Decoder::new();
        let got: Vec<_> = d.feed_slice(&wire).collect();
        prop_assert_eq!(got, std::vec![Ok(frame)]);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&bytes);
        let mut d = Decoder::new();
        for item in d.feed_slice(&bytes) {
            let _ = item;
        }
    }

    #[test]
    fn a_flipped_bit_is_never_accepted_as_another_frame(
        seq in any::<u16>(), message in any_message(), pos in any::<usize>(), bit in 0u8..8,
    ) {
        let frame = Frame { seq, message };
        let mut wire = enc(&frame);
        let i = pos % (wire.len() - 1);
        wire[i] ^= 1 << bit;
        let mut d = Decoder::new();
        for got in d.feed_slice(&wire).flatten() {
            prop_assert_eq!(got, frame);
        }
    }

    #[test]
    fn decoder_recovers_after_noise(
        noise in proptest::collection::vec(any::<u8>(), 0..100),
        seq in any::<u16>(), message in any_message(),
    ) {
        let frame = Frame { seq, message };
        let mut stream = noise;
        stream.push(0);
        stream.extend(enc(&frame));
        let mut d = Decoder::new();
        let last = d.feed_slice(&stream).last();
        prop_assert_eq!(last, Some(Ok(frame)));
    }
}

#[test]
fn chunk_constructor_bounds() {
    assert_eq!(Chunk::new(0, &[]), None);
    assert_eq!(Chunk::new(0, &[1; CHUNK_MAX + 1]), None);
    let c = Chunk::new(640, &[7; CHUNK_MAX]).expect("full chunk");
    assert_eq!(c.offset(), 640);
    assert_eq!(c.data(), &[7; CHUNK_MAX]);
}

#[test]
fn a_full_chunk_fits_the_largest_frame() {
    let frame = Frame {
        seq: 0xFFFF,
        message: Message::Command(Command::WriteChunk(
            Chunk::new(u32::MAX, &[0xFF; CHUNK_MAX]).expect("full chunk"),
        )),
    };
    let wire = enc(&frame);
    assert!(wire.len() <= MAX_FRAME_LEN);
    assert_eq!(decode(&wire), Ok(frame));
}

#[test]
fn update_payload_errors() {
    // WriteChunk with an offset and no data.
    assert_eq!(
        decode(&wire_from_body(&[VERSION, 0, 1, 0x11, 0, 0, 0, 0])),
        Err(Error::Truncated)
    );
    // WriteChunk with more than CHUNK_MAX bytes: the frame is oversized before that.
    let mut body = std::vec![VERSION, 0, 1, 0x11, 0, 0, 0, 0];
    body.extend([1u8; CHUNK_MAX + 1]);
    assert_eq!(decode(&wire_from_body(&body)), Err(Error::Oversized));
    // BeginUpdate cut short, FinishUpdate with a short hash.
    assert_eq!(
        decode(&wire_from_body(&[
            VERSION, 0, 1, 0x10, 0, 0, 0, 1, 0, 0, 0, 9
        ])),
        Err(Error::Truncated)
    );
    assert_eq!(
        decode(&wire_from_body(&[VERSION, 0, 1, 0x12, 1, 2, 3])),
        Err(Error::Truncated)
    );
    // Firmware event with a bad slot and a bad boot state.
    assert_eq!(
        decode(&wire_from_body(&[
            VERSION, 0, 1, 0x47, 0, 1, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0
        ])),
        Err(Error::InvalidField {
            field: "slot",
            value: 2
        })
    );
    assert_eq!(
        decode(&wire_from_body(&[
            VERSION, 0, 1, 0x47, 0, 1, 0, 0, 0, 1, 0, 9, 0, 0, 0, 0
        ])),
        Err(Error::InvalidField {
            field: "boot state",
            value: 9
        })
    );
    // QueryFirmware and AbortUpdate carry nothing.
    assert_eq!(
        decode(&wire_from_body(&[VERSION, 0, 1, 0x14, 0])),
        Err(Error::TrailingData)
    );
}
