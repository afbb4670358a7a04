//! The messages: kiosk commands, gate events, acknowledgements.

use crate::{CHUNK_MAX, Error, MAX_PAYLOAD};

/// One frame: the sender's sequence number and the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Sender's sequence number for this frame (each side counts its own, wrapping).
    pub seq: u16,
    /// What the frame says.
    pub message: Message,
}

/// Everything a frame can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// Kiosk → gate: a command, answered by [`Message::Ack`] or [`Message::Nak`].
    Command(Command),
    /// Gate → kiosk: something happened; not acknowledged.
    Event(GateEvent),
    /// The command with this sequence number was accepted and carried out.
    Ack {
        /// Sequence number of the acknowledged frame.
        seq: u16,
    },
    /// The command with this sequence number was refused.
    Nak {
        /// Sequence number of the refused frame.
        seq: u16,
        /// Why it was refused.
        reason: NakReason,
    },
}

/// Kiosk → gate commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Open the entry leaf for one traveller.
    OpenEntry,
    /// Close the entry leaf.
    CloseEntry,
    /// Open the exit leaf for the traveller of this passage.
    OpenExit {
        /// Kiosk's id of the passage, echoed in [`GateEvent::PassageCompleted`].
        passage_id: u32,
    },
    /// Close the exit leaf.
    CloseExit,
    /// Set the lane light.
    SetLights(Light),
    /// The kiosk is alive (feeds the gate's watchdog).
    Heartbeat,
    /// Ask for a [`GateEvent::Status`].
    QueryStatus,
    /// Go to the safe state (exit closed and locked, entry open for egress).
    EnterSafeState,
    /// Start a firmware update into the inactive slot; the gate goes to its safe state.
    ///
    /// Refused while anyone is in the lane (`ZoneOccupied`), during a passage
    /// (`InvalidInMode`), or when the image does not fit a slot (`TooLarge`).
    BeginUpdate {
        /// Firmware version of the image.
        version: u32,
        /// Payload length in bytes.
        length: u32,
        /// SHA-256 of the payload.
        hash: [u8; 32],
    },
    /// The next bytes of the image payload, at `offset` (strictly in order).
    WriteChunk(Chunk),
    /// All bytes sent: the gate hashes the slot, marks it pending and reboots into it.
    FinishUpdate {
        /// SHA-256 of the payload, as announced in [`Command::BeginUpdate`].
        hash: [u8; 32],
    },
    /// Forget the update in progress (the inactive slot is left unbootable).
    AbortUpdate,
    /// Ask for a [`GateEvent::Firmware`].
    QueryFirmware,
}

/// Up to [`CHUNK_MAX`] payload bytes of a firmware image and where they go.
///
/// The unused tail of the buffer is always zero, so two chunks compare equal
/// exactly when offset and data do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Offset of the first byte in the payload.
    offset: u32,
    /// How many bytes of `data` are used (1..=[`CHUNK_MAX`]).
    len: u8,
    /// The bytes, zero past `len`.
    data: [u8; CHUNK_MAX],
}

impl Chunk {
    /// A chunk of `data` at `offset`; `None` when `data` is empty or longer than [`CHUNK_MAX`].
    pub fn new(offset: u32, data: &[u8]) -> Option<Self> {
        if data.is_empty() || data.len() > CHUNK_MAX {
            return None;
        }
        let mut buf = [0u8; CHUNK_MAX];
        buf.get_mut(..data.len())?.copy_from_slice(data);
        Some(Self {
            offset,
            len: u8::try_from(data.len()).ok()?,
            data: buf,
        })
    }

    /// Offset of the first byte in the payload.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The bytes.
    pub fn data(&self) -> &[u8] {
        self.data.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// Gate → kiosk events and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateEvent {
    /// The gate's state; sent on every mode change and on [`Command::QueryStatus`].
    Status {
        /// Current mode.
        mode: GateMode,
        /// Entry leaf position.
        entry: LeafState,
        /// Exit leaf position.
        exit: LeafState,
        /// What the zone's beams see.
        occupancy: Occupancy,
    },
    /// The traveller left through the exit.
    PassageCompleted {
        /// The id given in [`Command::OpenExit`].
        passage_id: u32,
    },
    /// A second person followed through the entry; entry closed, exit kept closed.
    Tailgating,
    /// One person is in the zone between the leaves; entry closed behind them.
    PersonInZone,
    /// The emergency (fire alarm) input changed; while active both leaves are open.
    EmergencyRelease {
        /// Whether the alarm is active now.
        active: bool,
    },
    /// The controller went to [`GateMode::Fault`].
    Fault(FaultCode),
    /// The gate is alive.
    Heartbeat,
    /// What firmware runs; sent on [`Command::QueryFirmware`].
    Firmware(FirmwareInfo),
}

/// The gate controller's firmware slots, as reported by [`GateEvent::Firmware`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareInfo {
    /// Hardware id of the controller board (images must name it).
    pub hardware_id: u16,
    /// Version of the running firmware.
    pub running: u32,
    /// Slot the running firmware was booted from.
    pub slot: SlotId,
    /// Where the slots stand.
    pub state: BootState,
    /// Version held by the other slot (pending, or the one rolled back from); 0 if none.
    pub other: u32,
}

/// One of the two firmware slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotId {
    /// Slot A.
    A,
    /// Slot B.
    B,
}

impl SlotId {
    /// The other slot.
    pub fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }
}

/// The boot state of the slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootState {
    /// The running firmware is confirmed; nothing pending.
    Confirmed,
    /// The other slot holds a verified image that boots at the next restart.
    Pending,
    /// The running firmware is on trial: the kiosk's next heartbeat confirms
    /// it, else the gate rolls back to the other slot.
    Trial,
    /// The image in the other slot was tried and not confirmed; the gate
    /// rolled back to the running (confirmed) firmware.
    RolledBack,
}

/// The gate controller's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateMode {
    /// Both leaves closed and locked; lane idle.
    Closed,
    /// Entry open, waiting for one traveller to step in.
    EntryOpen,
    /// One traveller between the closed leaves.
    Occupied,
    /// Exit open for the traveller of a passage.
    ExitOpen,
    /// An actuator or sensor failed; only a restart leaves this mode.
    Fault,
    /// Fire alarm: both leaves open and unlocked.
    Emergency,
    /// Exit closed and locked, entry open for egress.
    SafeState,
}

/// Position of a leaf, from its two position switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafState {
    /// Closed switch made.
    Closed,
    /// Open switch made.
    Open,
    /// Neither switch made: moving or stuck.
    Moving,
    /// Both switches made: a sensor is wrong.
    Invalid,
}

/// What the zone's beam sensors see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occupancy {
    /// No beam interrupted.
    Empty,
    /// One body seen.
    One,
    /// The beam pattern of more than one body.
    Several,
}

/// The lane light.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Light {
    /// All off.
    Off,
    /// Stop.
    Red,
    /// Walk.
    Green,
    /// Wait / attention.
    Amber,
}

/// Why the gate refused a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NakReason {
    /// The sequence number is not the next one expected.
    BadSequence,
    /// The fire alarm is active; only status and heartbeat are served.
    EmergencyActive,
    /// The command does not apply in the current mode.
    InvalidInMode,
    /// The zone is not empty.
    ZoneOccupied,
    /// The controller is in [`GateMode::Fault`].
    Faulted,
    /// A gate→kiosk message was sent to the gate, or the gate cannot do this (no firmware slots).
    Unsupported,
    /// A firmware update is in progress; leaf commands wait until it ends.
    Updating,
    /// The image does not fit a firmware slot (or is empty).
    TooLarge,
    /// The chunk is not at the next offset, or runs past the announced length.
    BadOffset,
    /// The slot's contents (or the finish hash) do not match the announced SHA-256.
    HashMismatch,
    /// No firmware update is in progress.
    NoUpdate,
    /// The firmware storage (flash) failed.
    Storage,
}

/// Why the controller went to [`GateMode::Fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultCode {
    /// Writing an output pin failed.
    Actuator,
    /// Reading an input pin failed.
    Sensor,
    /// A leaf did not reach its commanded position in time.
    LeafTimeout,
    /// Both position switches of a leaf are made.
    LeafSwitches,
}

/// Wire type codes.
mod code {
    pub(super) const OPEN_ENTRY: u8 = 0x01;
    pub(super) const CLOSE_ENTRY: u8 = 0x02;
    pub(super) const OPEN_EXIT: u8 = 0x03;
    pub(super) const CLOSE_EXIT: u8 = 0x04;
    pub(super) const SET_LIGHTS: u8 = 0x05;
    pub(super) const HEARTBEAT: u8 = 0x06;
    pub(super) const QUERY_STATUS: u8 = 0x07;
    pub(super) const ENTER_SAFE_STATE: u8 = 0x08;
    pub(super) const BEGIN_UPDATE: u8 = 0x10;
    pub(super) const WRITE_CHUNK: u8 = 0x11;
    pub(super) const FINISH_UPDATE: u8 = 0x12;
    pub(super) const ABORT_UPDATE: u8 = 0x13;
    pub(super) const QUERY_FIRMWARE: u8 = 0x14;
    pub(super) const STATUS: u8 = 0x40;
    pub(super) const PASSAGE_COMPLETED: u8 = 0x41;
    pub(super) const TAILGATING: u8 = 0x42;
    pub(super) const PERSON_IN_ZONE: u8 = 0x43;
    pub(super) const EMERGENCY_RELEASE: u8 = 0x44;
    pub(super) const FAULT: u8 = 0x45;
    pub(super) const GATE_HEARTBEAT: u8 = 0x46;
    pub(super) const FIRMWARE: u8 = 0x47;
    pub(super) const ACK: u8 = 0x80;
    pub(super) const NAK: u8 = 0x81;
}

/// Maps a closed enum to and from its wire byte.
macro_rules! wire_enum {
    ($ty:ident, $field:literal, { $($variant:ident = $value:literal),+ $(,)? }) => {
        impl $ty {
            /// The wire byte of this value.
            fn to_byte(self) -> u8 {
                match self { $(Self::$variant => $value),+ }
            }
            /// The value of a wire byte.
            fn from_byte(b: u8) -> Result<Self, Error> {
                match b {
                    $($value => Ok(Self::$variant),)+
                    value => Err(Error::InvalidField { field: $field, value }),
                }
            }
        }
    };
}

wire_enum!(GateMode, "mode", { Closed = 0, EntryOpen = 1, Occupied = 2, ExitOpen = 3, Fault = 4, Emergency = 5, SafeState = 6 });
wire_enum!(LeafState, "leaf state", { Closed = 0, Open = 1, Moving = 2, Invalid = 3 });
wire_enum!(Occupancy, "occupancy", { Empty = 0, One = 1, Several = 2 });
wire_enum!(Light, "light", { Off = 0, Red = 1, Green = 2, Amber = 3 });
wire_enum!(NakReason, "nak reason", { BadSequence = 1, EmergencyActive = 2, InvalidInMode = 3, ZoneOccupied = 4, Faulted = 5, Unsupported = 6, Updating = 7, TooLarge = 8, BadOffset = 9, HashMismatch = 10, NoUpdate = 11, Storage = 12 });
wire_enum!(SlotId, "slot", { A = 0, B = 1 });
wire_enum!(BootState, "boot state", { Confirmed = 0, Pending = 1, Trial = 2, RolledBack = 3 });
wire_enum!(FaultCode, "fault code", { Actuator = 1, Sensor = 2, LeafTimeout = 3, LeafSwitches = 4 });

impl Message {
    /// Writes the payload into `out`; returns the type code and payload length.
    pub(crate) fn write_payload(&self, out: &mut [u8; MAX_PAYLOAD]) -> (u8, usize) {
        let mut w = Writer { buf: out, len: 0 };
        let kind = match *self {
            Self::Command(c) => match c {
                Command::OpenEntry => code::OPEN_ENTRY,
                Command::CloseEntry => code::CLOSE_ENTRY,
                Command::OpenExit { passage_id } => {
                    w.put(&passage_id.to_be_bytes());
                    code::OPEN_EXIT
                }
                Command::CloseExit => code::CLOSE_EXIT,
                Command::SetLights(light) => {
                    w.put(&[light.to_byte()]);
                    code::SET_LIGHTS
                }
                Command::Heartbeat => code::HEARTBEAT,
                Command::QueryStatus => code::QUERY_STATUS,
                Command::EnterSafeState => code::ENTER_SAFE_STATE,
                Command::BeginUpdate {
                    version,
                    length,
                    hash,
                } => {
                    w.put(&version.to_be_bytes());
                    w.put(&length.to_be_bytes());
                    w.put(&hash);
                    code::BEGIN_UPDATE
                }
                Command::WriteChunk(chunk) => {
                    w.put(&chunk.offset.to_be_bytes());
                    w.put(chunk.data());
                    code::WRITE_CHUNK
                }
                Command::FinishUpdate { hash } => {
                    w.put(&hash);
                    code::FINISH_UPDATE
                }
                Command::AbortUpdate => code::ABORT_UPDATE,
                Command::QueryFirmware => code::QUERY_FIRMWARE,
            },
            Self::Event(e) => match e {
                GateEvent::Status {
                    mode,
                    entry,
                    exit,
                    occupancy,
                } => {
                    w.put(&[
                        mode.to_byte(),
                        entry.to_byte(),
                        exit.to_byte(),
                        occupancy.to_byte(),
                    ]);
                    code::STATUS
                }
                GateEvent::PassageCompleted { passage_id } => {
                    w.put(&passage_id.to_be_bytes());
                    code::PASSAGE_COMPLETED
                }
                GateEvent::Tailgating => code::TAILGATING,
                GateEvent::PersonInZone => code::PERSON_IN_ZONE,
                GateEvent::EmergencyRelease { active } => {
                    w.put(&[u8::from(active)]);
                    code::EMERGENCY_RELEASE
                }
                GateEvent::Fault(fault) => {
                    w.put(&[fault.to_byte()]);
                    code::FAULT
                }
                GateEvent::Heartbeat => code::GATE_HEARTBEAT,
                GateEvent::Firmware(info) => {
                    w.put(&info.hardware_id.to_be_bytes());
                    w.put(&info.running.to_be_bytes());
                    w.put(&[info.slot.to_byte(), info.state.to_byte()]);
                    w.put(&info.other.to_be_bytes());
                    code::FIRMWARE
                }
            },
            Self::Ack { seq } => {
                w.put(&seq.to_be_bytes());
                code::ACK
            }
            Self::Nak { seq, reason } => {
                w.put(&seq.to_be_bytes());
                w.put(&[reason.to_byte()]);
                code::NAK
            }
        };
        (kind, w.len)
    }

    /// Parses the payload of a message of type `kind`.
    pub(crate) fn read_payload(kind: u8, payload: &[u8]) -> Result<Self, Error> {
        let mut r = Reader { rest: payload };
        let message = match kind {
            code::OPEN_ENTRY => Self::Command(Command::OpenEntry),
            code::CLOSE_ENTRY => Self::Command(Command::CloseEntry),
            code::OPEN_EXIT => Self::Command(Command::OpenExit {
                passage_id: u32::from_be_bytes(r.take()?),
            }),
            code::CLOSE_EXIT => Self::Command(Command::CloseExit),
            code::SET_LIGHTS => Self::Command(Command::SetLights(Light::from_byte(r.byte()?)?)),
            code::HEARTBEAT => Self::Command(Command::Heartbeat),
            code::QUERY_STATUS => Self::Command(Command::QueryStatus),
            code::ENTER_SAFE_STATE => Self::Command(Command::EnterSafeState),
            code::BEGIN_UPDATE => Self::Command(Command::BeginUpdate {
                version: u32::from_be_bytes(r.take()?),
                length: u32::from_be_bytes(r.take()?),
                hash: r.take()?,
            }),
            code::WRITE_CHUNK => {
                let offset = u32::from_be_bytes(r.take()?);
                let data = core::mem::take(&mut r.rest);
                let chunk = Chunk::new(offset, data).ok_or(if data.is_empty() {
                    Error::Truncated
                } else {
                    Error::TrailingData
                })?;
                Self::Command(Command::WriteChunk(chunk))
            }
            code::FINISH_UPDATE => Self::Command(Command::FinishUpdate { hash: r.take()? }),
            code::ABORT_UPDATE => Self::Command(Command::AbortUpdate),
            code::QUERY_FIRMWARE => Self::Command(Command::QueryFirmware),
            code::STATUS => Self::Event(GateEvent::Status {
                mode: GateMode::from_byte(r.byte()?)?,
                entry: LeafState::from_byte(r.byte()?)?,
                exit: LeafState::from_byte(r.byte()?)?,
                occupancy: Occupancy::from_byte(r.byte()?)?,
            }),
            code::PASSAGE_COMPLETED => Self::Event(GateEvent::PassageCompleted {
                passage_id: u32::from_be_bytes(r.take()?),
            }),
            code::TAILGATING => Self::Event(GateEvent::Tailgating),
            code::PERSON_IN_ZONE => Self::Event(GateEvent::PersonInZone),
            code::EMERGENCY_RELEASE => Self::Event(GateEvent::EmergencyRelease {
                active: match r.byte()? {
                    0 => false,
                    1 => true,
                    value => {
                        return Err(Error::InvalidField {
                            field: "emergency flag",
                            value,
                        });
                    }
                },
            }),
            code::FAULT => Self::Event(GateEvent::Fault(FaultCode::from_byte(r.byte()?)?)),
            code::GATE_HEARTBEAT => Self::Event(GateEvent::Heartbeat),
            code::FIRMWARE => Self::Event(GateEvent::Firmware(FirmwareInfo {
                hardware_id: u16::from_be_bytes(r.take()?),
                running: u32::from_be_bytes(r.take()?),
                slot: SlotId::from_byte(r.byte()?)?,
                state: BootState::from_byte(r.byte()?)?,
                other: u32::from_be_bytes(r.take()?),
            })),
            code::ACK => Self::Ack {
                seq: u16::from_be_bytes(r.take()?),
            },
            code::NAK => Self::Nak {
                seq: u16::from_be_bytes(r.take()?),
                reason: NakReason::from_byte(r.byte()?)?,
            },
            other => return Err(Error::UnknownType(other)),
        };
        if r.rest.is_empty() {
            Ok(message)
        } else {
            Err(Error::TrailingData)
        }
    }
}

/// Appends to a fixed payload buffer (every message fits by construction).
struct Writer<'a> {
    /// The payload buffer.
    buf: &'a mut [u8; MAX_PAYLOAD],
    /// Bytes written so far.
    len: usize,
}

impl Writer<'_> {
    /// Appends `bytes`; bytes past [`MAX_PAYLOAD`] are dropped (cannot happen).
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
    }
}

/// A cursor over untrusted payload bytes.
struct Reader<'a> {
    /// Bytes not read yet.
    rest: &'a [u8],
}

impl Reader<'_> {
    /// Takes the next `N` bytes.
    fn take<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let (head, tail) = self.rest.split_first_chunk::<N>().ok_or(Error::Truncated)?;
        self.rest = tail;
        Ok(*head)
    }

    /// Takes the next byte.
    fn byte(&mut self) -> Result<u8, Error> {
        let [b] = self.take::<1>()?;
        Ok(b)
    }
}
