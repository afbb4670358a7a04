//! The console's state in plain Rust, no Slint and no network: what each
//! lane's connection reports ([`LaneUpdate`]) and what the officer does go
//! in; the lanes' looks, the alert queue, the open referral and
//! [`Effect`]s (a chime, stop connecting) come out. Time is passed in, so
//! tests never wait.
//!
//! # Rules
//! - A lane looks [`Look::Unknown`] unless the console is connected to it,
//!   logged in, and has its state from a snapshot or a later event: never
//!   in service by default. A state this version does not know is unknown too.
//! - The alert queue is ordered by [`Urgency`] (high-priority referral,
//!   fault, normal referral, anything else), then oldest first.
//! - A new alert chimes: [`Chime::Urgent`] for high-priority referrals and
//!   faults, [`Chime::Notice`] for normal referrals, nothing for the rest.
//!   The same referral or condition seen again after a reconnection does
//!   not chime twice.
//! - A lane that cannot be reached loses its referral and alerts (nothing
//!   can be done about them) and raises "lane unreachable".
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use kiosk_app::supervision::protocol::{
    AlertView, Command, LoginRefusal, ReferralView, Refusal, ServerMessage, Snapshot, WireEvent,
};

use crate::face::FacePicture;

/// Lane states in which the lane is in service (a traveller may be at it).
pub const IN_SERVICE_STATES: [&str; 7] = [
    "await_document",
    "await_chip",
    "await_document_return",
    "await_decision",
    "await_face",
    "await_record",
    "await_passage",
];

/// Alert kinds that stay in force until the kiosk says they ended.
pub const CONDITION_KINDS: [&str; 6] = [
    "device_fault",
    "store_fault",
    "gate_fault",
    "gate_emergency",
    "disk_low",
    "sync_behind",
];

/// Alert kinds that are faults (urgent).
pub const FAULT_KINDS: [&str; 4] = [
    "device_fault",
    "store_fault",
    "gate_fault",
    "gate_emergency",
];

/// Momentary alerts kept per lane until dismissed; older ones drop out.
pub const MAX_MOMENTARY: usize = 20;

/// Keys remembered per lane so a reconnection does not chime again.
const SEEN_KEYS: usize = 64;

/// Dismissed momentary alerts remembered, so a snapshot does not bring them back.
const DISMISSED: usize = 64;

/// What one lane's connection reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LaneUpdate {
    /// Trying to reach the kiosk.
    Connecting,
    /// Connected, the officer logged in and the stream started (a snapshot follows).
    LoggedIn,
    /// A message of the kiosk's stream.
    Message(Box<ServerMessage>),
    /// The decoded face of the referral `record_id` (sent after its message).
    Face {
        /// The referral's record.
        record_id: String,
        /// The picture.
        picture: FacePicture,
    },
    /// The kiosk could not be reached, or the connection ended.
    Lost,
    /// The kiosk refused the officer's login; the connection stops trying.
    LoginRefused {
        /// Why.
        code: LoginRefusal,
        /// When the officer may try again, if locked out.
        retry_after: Option<Duration>,
    },
    /// A command's outcome.
    CommandDone {
        /// The command's name (`accept`, `refuse`, ...).
        command: &'static str,
        /// What came of it.
        result: CommandResult,
    },
}

/// What came of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandResult {
    /// The kiosk acknowledged it.
    Done,
    /// The kiosk refused it; nothing was done.
    Refused(Refusal),
    /// The lane was not connected: the command was not sent.
    NotSent,
    /// The connection failed before an answer: the effect is not known.
    NoAnswer,
}

/// What the console should do after an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Play a sound.
    Chime(Chime),
    /// The login was refused: stop every connection and forget the PIN.
    StopConnections,
}

/// Which sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chime {
    /// A high-priority referral or a fault.
    Urgent,
    /// A normal referral.
    Notice,
}

/// Where the officer's login is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginState {
    /// Typing the PIN.
    Entering,
    /// Connecting to the lanes with the PIN.
    Checking,
    /// A kiosk refused the PIN.
    Rejected {
        /// The officer (or this console) is locked out, not just wrong.
        locked_out: bool,
        /// When to try again, if the kiosk said.
        retry_after: Option<Duration>,
    },
    /// At least one lane took the PIN (or none could be reached to say).
    LoggedIn,
}

/// The console's connection to one lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Not trying (logged out).
    Idle,
    /// Trying to reach the kiosk.
    Connecting,
    /// Logged in and streaming.
    Connected,
    /// Unreachable since then (retrying).
    Unreachable {
        /// When the console lost it (or first failed to reach it).
        since: Instant,
    },
    /// The kiosk refused the officer's PIN; not retrying.
    Refused(LoginRefusal),
}

/// How a lane's tile looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// The console does not know: grey, striped, "UNKNOWN". Never green.
    Unknown,
    /// In service: green.
    InService,
    /// A traveller waits for the officer.
    Referral {
        /// The lane raised a high-priority alert.
        high: bool,
    },
    /// Closed by an officer.
    Closed,
    /// Out of service (a device failed).
    OutOfService,
}

/// The look a lane has: the colour rule.
#[must_use]
pub fn look(connection: Connection, state: Option<&str>, referral_high: bool) -> Look {
    if connection != Connection::Connected {
        return Look::Unknown;
    }
    match state {
        Some("await_officer") => Look::Referral {
            high: referral_high,
        },
        Some("closed") => Look::Closed,
        Some("out_of_service") => Look::OutOfService,
        Some(s) if IN_SERVICE_STATES.contains(&s) => Look::InService,
        _ => Look::Unknown,
    }
}

/// The status of a lane's last command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandStatus {
    /// Sent, waiting for the kiosk.
    Sending(&'static str),
    /// Acknowledged.
    Done(&'static str),
    /// Refused by the kiosk.
    Refused(Refusal),
    /// Not sent: the lane was not connected.
    NotSent,
    /// No answer: the connection failed.
    NoAnswer,
}

/// How urgent an alert is; greater is more urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Urgency {
    /// Anything else (momentary gate reports, disk, sync).
    Other,
    /// A normal-priority referral.
    ReferralNormal,
    /// A fault: a failed device, the store, the gate, an emergency, a lane unreachable.
    Fault,
    /// A high-priority referral (watch list, a chip not genuine).
    ReferralHigh,
}

/// What an alert is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertKind {
    /// A traveller referred to the officer.
    Referral {
        /// The referral's record.
        record_id: String,
        /// High priority.
        high: bool,
    },
    /// An alert the kiosk raised.
    Kiosk(AlertView),
    /// The console cannot reach the lane.
    Unreachable,
    /// The kiosk refused the officer's PIN.
    PinRefused,
}

impl AlertKind {
    /// Its urgency.
    #[must_use]
    pub fn urgency(&self) -> Urgency {
        match self {
            Self::Referral { high: true, .. } => Urgency::ReferralHigh,
            Self::Referral { high: false, .. } => Urgency::ReferralNormal,
            Self::Unreachable | Self::PinRefused => Urgency::Fault,
            Self::Kiosk(a) if FAULT_KINDS.contains(&a.kind.as_str()) => Urgency::Fault,
            Self::Kiosk(_) => Urgency::Other,
        }
    }

    /// Whether the officer may dismiss it (momentary kiosk alerts only:
    /// the others end when their cause does).
    #[must_use]
    pub fn dismissable(&self) -> bool {
        matches!(self, Self::Kiosk(a) if !is_condition(a))
    }
}

/// One entry of the alert queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Its id (unique in this console's run).
    pub id: u64,
    /// The lane's index.
    pub lane: usize,
    /// What it is about.
    pub kind: AlertKind,
    /// When the console raised it.
    pub raised: Instant,
}

impl Alert {
    /// Its urgency.
    #[must_use]
    pub fn urgency(&self) -> Urgency {
        self.kind.urgency()
    }
}

/// One lane as the console knows it.
#[derive(Debug, Clone)]
pub struct Lane {
    name: String,
    connection: Connection,
    state: Option<String>,
    referral: Option<ReferralView>,
    face: Option<FacePicture>,
    conditions: Vec<AlertView>,
    lagged: bool,
    command: Option<CommandStatus>,
    /// Alert keys already chimed for (kept across reconnections).
    seen: VecDeque<String>,
}

impl Lane {
    fn new(name: String) -> Self {
        Self {
            name,
            connection: Connection::Idle,
            state: None,
            referral: None,
            face: None,
            conditions: Vec::new(),
            lagged: false,
            command: None,
            seen: VecDeque::new(),
        }
    }

    /// Its name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The console's connection to it.
    #[must_use]
    pub fn connection(&self) -> Connection {
        self.connection
    }

    /// Its state name, when known.
    #[must_use]
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The referral it waits on, if any.
    #[must_use]
    pub fn referral(&self) -> Option<&ReferralView> {
        self.referral.as_ref()
    }

    /// The referral's decoded face, once decoded.
    #[must_use]
    pub fn face(&self) -> Option<&FacePicture> {
        self.face.as_ref()
    }

    /// The conditions in force (faults, disk, sync).
    #[must_use]
    pub fn conditions(&self) -> &[AlertView] {
        &self.conditions
    }

    /// The kiosk missed events: its state may be stale until the next change.
    #[must_use]
    pub fn lagged(&self) -> bool {
        self.lagged
    }

    /// The last command's status.
    #[must_use]
    pub fn command(&self) -> Option<CommandStatus> {
        self.command
    }

    /// Its look (see [`look`]).
    #[must_use]
    pub fn look(&self) -> Look {
        let high = self
            .referral
            .as_ref()
            .is_some_and(|r| r.priority.as_deref() == Some("high"));
        look(self.connection, self.state.as_deref(), high)
    }

    /// Forgets what it knew of the kiosk (not the chimed keys).
    fn forget(&mut self) {
        self.state = None;
        self.referral = None;
        self.face = None;
        self.conditions.clear();
        self.lagged = false;
    }

    /// Remembers `key`; `true` when it is new.
    fn first_sight(&mut self, key: String) -> bool {
        if self.seen.contains(&key) {
            return false;
        }
        if self.seen.len() >= SEEN_KEYS {
            self.seen.pop_front();
        }
        self.seen.push_back(key);
        true
    }
}

/// The console's state.
#[derive(Debug, Clone)]
pub struct ConsoleModel {
    officer_id: String,
    lanes: Vec<Lane>,
    /// Sorted: most urgent first, then oldest.
    alerts: Vec<Alert>,
    next_alert: u64,
    open: Option<usize>,
    login: LoginState,
    dismissed: VecDeque<(usize, AlertView)>,
}

impl ConsoleModel {
    /// A console for `officer_id` over these lanes (by name), logged out.
    #[must_use]
    pub fn new(officer_id: &str, lane_names: &[String]) -> Self {
        Self {
            officer_id: officer_id.to_owned(),
            lanes: lane_names.iter().cloned().map(Lane::new).collect(),
            alerts: Vec::new(),
            next_alert: 1,
            open: None,
            login: LoginState::Entering,
            dismissed: VecDeque::new(),
        }
    }

    /// The officer.
    #[must_use]
    pub fn officer_id(&self) -> &str {
        &self.officer_id
    }

    /// The lanes, in the configuration's order.
    #[must_use]
    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// The alert queue, most urgent first, then oldest first.
    #[must_use]
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// The login's state.
    #[must_use]
    pub fn login(&self) -> LoginState {
        self.login
    }

    /// The lane whose referral is open in the referral view.
    #[must_use]
    pub fn open_referral(&self) -> Option<usize> {
        self.open
    }

    /// The officer submitted a PIN: connecting to every lane.
    pub fn begin_login(&mut self) {
        self.reset(LoginState::Checking, Connection::Connecting);
    }

    /// The officer logged out: everything is forgotten but the lanes' names.
    pub fn log_out(&mut self) {
        self.reset(LoginState::Entering, Connection::Idle);
    }

    fn reset(&mut self, login: LoginState, connection: Connection) {
        self.login = login;
        self.alerts.clear();
        self.open = None;
        self.dismissed.clear();
        for lane in &mut self.lanes {
            lane.forget();
            lane.connection = connection;
            lane.command = None;
            lane.seen.clear();
        }
    }

    /// Takes what lane `lane`'s connection reports at `now`.
    pub fn apply(&mut self, lane: usize, update: LaneUpdate, now: Instant) -> Vec<Effect> {
        let mut effects = Vec::new();
        if lane >= self.lanes.len()
            || matches!(
                self.login,
                LoginState::Entering | LoginState::Rejected { .. }
            )
        {
            // Late news from connections that were stopped.
            return effects;
        }
        match update {
            LaneUpdate::Connecting => {
                let l = &mut self.lanes[lane];
                if !matches!(l.connection, Connection::Unreachable { .. }) {
                    l.connection = Connection::Connecting;
                }
            }
            LaneUpdate::LoggedIn => {
                let l = &mut self.lanes[lane];
                l.connection = Connection::Connected;
                l.forget();
                self.remove_alerts(lane, |k| {
                    matches!(k, AlertKind::Unreachable | AlertKind::PinRefused)
                });
                if self.login == LoginState::Checking {
                    self.login = LoginState::LoggedIn;
                }
            }
            LaneUpdate::Lost => self.lost(lane, now, &mut effects),
            LaneUpdate::LoginRefused { code, retry_after } => {
                if self.login == LoginState::Checking {
                    self.reset(
                        LoginState::Rejected {
                            locked_out: code == LoginRefusal::LockedOut,
                            retry_after,
                        },
                        Connection::Idle,
                    );
                    effects.push(Effect::StopConnections);
                } else {
                    self.lanes[lane].connection = Connection::Refused(code);
                    self.lanes[lane].forget();
                    self.close_referral_of(lane);
                    self.remove_alerts(lane, |_| true);
                    self.add_alert(lane, AlertKind::PinRefused, None, now, &mut effects);
                }
            }
            LaneUpdate::Message(message) => {
                if self.lanes[lane].connection == Connection::Connected {
                    self.message(lane, *message, now, &mut effects);
                }
            }
            LaneUpdate::Face { record_id, picture } => {
                let l = &mut self.lanes[lane];
                if l.referral
                    .as_ref()
                    .is_some_and(|r| r.record_id == record_id)
                {
                    l.face = Some(picture);
                }
            }
            LaneUpdate::CommandDone { command, result } => {
                self.lanes[lane].command = Some(match result {
                    CommandResult::Done => CommandStatus::Done(command),
                    CommandResult::Refused(code) => CommandStatus::Refused(code),
                    CommandResult::NotSent => CommandStatus::NotSent,
                    CommandResult::NoAnswer => CommandStatus::NoAnswer,
                });
            }
        }
        effects
    }

    /// The lane cannot be reached.
    fn lost(&mut self, lane: usize, now: Instant, effects: &mut Vec<Effect>) {
        let l = &mut self.lanes[lane];
        if matches!(l.connection, Connection::Refused(_)) {
            return;
        }
        let since = match l.connection {
            Connection::Unreachable { since } => since,
            _ => now,
        };
        l.connection = Connection::Unreachable { since };
        l.forget();
        if matches!(l.command, Some(CommandStatus::Sending(_))) {
            l.command = Some(CommandStatus::NoAnswer);
        }
        self.close_referral_of(lane);
        self.remove_alerts(lane, |k| !matches!(k, AlertKind::Unreachable));
        if !self
            .alerts
            .iter()
            .any(|a| a.lane == lane && a.kind == AlertKind::Unreachable)
        {
            self.add_alert(lane, AlertKind::Unreachable, None, now, effects);
        }
        if self.login == LoginState::Checking
            && self.lanes.iter().all(|l| {
                matches!(
                    l.connection,
                    Connection::Unreachable { .. } | Connection::Refused(_)
                )
            })
        {
            // Nobody can say whether the PIN is right: show the lanes as
            // unknown and keep trying.
            self.login = LoginState::LoggedIn;
        }
    }

    /// A stream message.
    fn message(
        &mut self,
        lane: usize,
        message: ServerMessage,
        now: Instant,
        effects: &mut Vec<Effect>,
    ) {
        match message {
            ServerMessage::Snapshot(snapshot) => self.snapshot(lane, snapshot, now, effects),
            ServerMessage::Event { event, .. } => self.event(lane, event, now, effects),
            ServerMessage::Referral { referral, .. } => self.referral(lane, referral, now, effects),
            ServerMessage::Lagged { .. } => self.lanes[lane].lagged = true,
            _ => {}
        }
    }

    fn snapshot(&mut self, lane: usize, s: Snapshot, now: Instant, effects: &mut Vec<Effect>) {
        let l = &mut self.lanes[lane];
        l.state = Some(s.state);
        l.lagged = false;
        // The referral.
        match s.referral {
            Some(r) => self.referral(lane, r, now, effects),
            None => self.close_referral_of(lane),
        }
        // Conditions: the snapshot's replace the console's.
        let conditions: Vec<AlertView> = s
            .alerts
            .iter()
            .filter(|a| is_condition(a) && a.active)
            .cloned()
            .collect();
        let ended: Vec<AlertView> = self.lanes[lane]
            .conditions
            .iter()
            .filter(|c| !conditions.iter().any(|n| same_condition(n, c)))
            .cloned()
            .collect();
        for c in ended {
            self.condition(lane, AlertView { active: false, ..c }, now, effects);
        }
        for c in conditions {
            self.condition(lane, c, now, effects);
        }
        // Momentary alerts the console has not shown (or the officer dismissed).
        for a in s.alerts.into_iter().filter(|a| !is_condition(a)) {
            let known = self
                .alerts
                .iter()
                .any(|x| x.lane == lane && x.kind == AlertKind::Kiosk(a.clone()));
            let dismissed = self.dismissed.iter().any(|(i, d)| *i == lane && *d == a);
            if !known && !dismissed {
                self.momentary(lane, a, now, effects);
            }
        }
    }

    fn event(&mut self, lane: usize, event: WireEvent, now: Instant, effects: &mut Vec<Effect>) {
        match event {
            WireEvent::State { state } => {
                let l = &mut self.lanes[lane];
                l.lagged = false;
                let back_in_service = state == "await_document";
                let waits = state == "await_officer";
                l.state = Some(state);
                if !waits {
                    self.close_referral_of(lane);
                }
                if back_in_service {
                    let faults: Vec<AlertView> = self.lanes[lane]
                        .conditions
                        .iter()
                        .filter(|c| matches!(c.kind.as_str(), "device_fault" | "store_fault"))
                        .cloned()
                        .collect();
                    for c in faults {
                        self.condition(lane, AlertView { active: false, ..c }, now, effects);
                    }
                }
            }
            WireEvent::ExitOpened { record_id, .. }
                if self.lanes[lane]
                    .referral
                    .as_ref()
                    .is_some_and(|r| r.record_id == record_id) =>
            {
                self.close_referral_of(lane);
            }
            WireEvent::Alert { alert } if is_condition(&alert) => {
                self.condition(lane, alert, now, effects);
            }
            WireEvent::Alert { alert } => self.momentary(lane, alert, now, effects),
            _ => {}
        }
    }

    fn referral(&mut self, lane: usize, r: ReferralView, now: Instant, effects: &mut Vec<Effect>) {
        let high = r.priority.as_deref() == Some("high");
        let record_id = r.record_id.clone();
        let l = &mut self.lanes[lane];
        let same = l
            .referral
            .as_ref()
            .is_some_and(|o| o.record_id == record_id);
        if !same {
            l.face = None;
            l.command = None;
        }
        l.referral = Some(r);
        self.remove_alerts(
            lane,
            |k| matches!(k, AlertKind::Referral { record_id: id, .. } if *id != record_id),
        );
        let present = self.alerts.iter().any(|a| {
            a.lane == lane
                && matches!(&a.kind, AlertKind::Referral { record_id: id, .. } if *id == record_id)
        });
        if !present {
            let key = format!("referral:{record_id}");
            self.add_alert(
                lane,
                AlertKind::Referral { record_id, high },
                Some(key),
                now,
                effects,
            );
        }
    }

    /// A condition starts (active) or ends.
    fn condition(&mut self, lane: usize, c: AlertView, now: Instant, effects: &mut Vec<Effect>) {
        let key = format!("condition:{}:{}", c.kind, c.device.as_deref().unwrap_or(""));
        self.lanes[lane]
            .conditions
            .retain(|x| !same_condition(x, &c));
        self.remove_alerts(
            lane,
            |k| matches!(k, AlertKind::Kiosk(x) if same_condition(x, &c)),
        );
        if c.active {
            self.lanes[lane].conditions.push(c.clone());
            self.add_alert(lane, AlertKind::Kiosk(c), Some(key), now, effects);
        } else {
            self.lanes[lane].seen.retain(|k| *k != key);
        }
    }

    /// A momentary alert (kept until dismissed; the oldest drop out).
    fn momentary(&mut self, lane: usize, a: AlertView, now: Instant, effects: &mut Vec<Effect>) {
        let mine: Vec<u64> = self
            .alerts
            .iter()
            .filter(|x| x.lane == lane && x.kind.dismissable())
            .map(|x| (x.raised, x.id))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        if mine.len() >= MAX_MOMENTARY {
            let drop: Vec<u64> = mine[..=mine.len() - MAX_MOMENTARY].to_vec();
            self.alerts.retain(|x| !drop.contains(&x.id));
        }
        self.add_alert(lane, AlertKind::Kiosk(a), None, now, effects);
    }

    /// Adds an alert; chimes unless `key` was already chimed for on this lane.
    fn add_alert(
        &mut self,
        lane: usize,
        kind: AlertKind,
        key: Option<String>,
        now: Instant,
        effects: &mut Vec<Effect>,
    ) {
        let new = key.is_none_or(|k| self.lanes[lane].first_sight(k));
        if new {
            match kind.urgency() {
                Urgency::ReferralHigh | Urgency::Fault => {
                    effects.push(Effect::Chime(Chime::Urgent))
                }
                Urgency::ReferralNormal => effects.push(Effect::Chime(Chime::Notice)),
                Urgency::Other => {}
            }
        }
        let id = self.next_alert;
        self.next_alert += 1;
        self.alerts.push(Alert {
            id,
            lane,
            kind,
            raised: now,
        });
        self.alerts.sort_by(|a, b| {
            b.urgency()
                .cmp(&a.urgency())
                .then(a.raised.cmp(&b.raised))
                .then(a.id.cmp(&b.id))
        });
    }

    fn remove_alerts(&mut self, lane: usize, pred: impl Fn(&AlertKind) -> bool) {
        self.alerts.retain(|a| !(a.lane == lane && pred(&a.kind)));
    }

    /// The lane's referral ended (decided, reset, or the lane moved on).
    fn close_referral_of(&mut self, lane: usize) {
        self.lanes[lane].referral = None;
        self.lanes[lane].face = None;
        self.remove_alerts(lane, |k| matches!(k, AlertKind::Referral { .. }));
        if self.open == Some(lane) {
            self.open = None;
        }
    }

    /// The officer selected alert `id`: a referral opens in the referral
    /// view. Returns whether one opened.
    pub fn open_alert(&mut self, id: u64) -> bool {
        match self.alerts.iter().find(|a| a.id == id) {
            Some(Alert {
                lane,
                kind: AlertKind::Referral { .. },
                ..
            }) => {
                self.open = Some(*lane);
                true
            }
            _ => false,
        }
    }

    /// The officer selected lane `lane`'s tile: its referral opens, if it has one.
    pub fn open_lane(&mut self, lane: usize) -> bool {
        let has = self.lanes.get(lane).is_some_and(|l| l.referral.is_some());
        if has {
            self.open = Some(lane);
        }
        has
    }

    /// The officer closed the referral view.
    pub fn close_referral_view(&mut self) {
        self.open = None;
    }

    /// The officer dismissed alert `id` (momentary alerts only). Returns
    /// whether it was removed.
    pub fn dismiss(&mut self, id: u64) -> bool {
        let Some(pos) = self
            .alerts
            .iter()
            .position(|a| a.id == id && a.kind.dismissable())
        else {
            return false;
        };
        let alert = self.alerts.remove(pos);
        if let AlertKind::Kiosk(view) = alert.kind {
            if self.dismissed.len() >= DISMISSED {
                self.dismissed.pop_front();
            }
            self.dismissed.push_back((alert.lane, view));
        }
        true
    }

    /// The officer accepts the open referral: the command to send to its
    /// lane, or `None` when there is nothing to accept (no open referral, the
    /// lane not connected, a command already on its way).
    pub fn accept(&mut self) -> Option<(usize, Command)> {
        self.decide("accept", |record_id| Command::Accept { record_id })
    }

    /// The officer refuses the open referral (the traveller goes to the
    /// manual counter); as [`ConsoleModel::accept`].
    pub fn refuse(&mut self) -> Option<(usize, Command)> {
        self.decide("refuse", |record_id| Command::Refuse { record_id })
    }

    fn decide(
        &mut self,
        name: &'static str,
        make: impl FnOnce(String) -> Command,
    ) -> Option<(usize, Command)> {
        let lane = self.open?;
        let l = self.lanes.get_mut(lane)?;
        if l.connection != Connection::Connected
            || matches!(l.command, Some(CommandStatus::Sending(_)))
        {
            return None;
        }
        let record_id = l.referral.as_ref()?.record_id.clone();
        l.command = Some(CommandStatus::Sending(name));
        Some((lane, make(record_id)))
    }
}

/// Whether the alert stays in force until the kiosk says it ended.
fn is_condition(a: &AlertView) -> bool {
    CONDITION_KINDS.contains(&a.kind.as_str())
}

/// Whether two alerts are the same condition (kind and device).
fn same_condition(a: &AlertView, b: &AlertView) -> bool {
    a.kind == b.kind && a.device == b.device
}
