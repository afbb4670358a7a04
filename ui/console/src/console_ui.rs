//! The Slint side: the console window, drawn from the [`ConsoleModel`]
//! through the exported global `Console` only.
//!
//! The window lives on the UI thread; the connections reach it from theirs
//! through a [`ConsoleHandle`], which never blocks. What the officer does
//! comes out as [`UiRequest`]s to a sink the binary implements (start or
//! stop the connections, send a command, play a chime).
#![forbid(unsafe_code)]

use std::cell::{Ref, RefCell};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kiosk_app::supervision::protocol::{Command, LoginRefusal, ReferralView, Refusal};
use slint::{ComponentHandle, Model, ModelRc, SharedPixelBuffer, SharedString, VecModel};
use zeroize::{Zeroize, Zeroizing};

use crate::face::FacePicture;
use crate::generated::{self, ConsoleWindow};
use crate::model::{
    Alert, AlertKind, Chime, CommandStatus, Connection, ConsoleModel, Effect, Lane, LaneUpdate,
    LoginState, Look, Urgency,
};
use crate::pin::{MAX_PIN_DIGITS, OfficerPin};

/// Where the console's clock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The system clock, ticked every second by a Slint timer (ages on screen).
    System,
    /// No timer: time moves only through [`ConsoleUi::tick`]. Tests, screenshots.
    Manual,
}

/// What the console asks of the program around it.
#[derive(Debug)]
#[non_exhaustive]
pub enum UiRequest {
    /// Connect to every lane with this PIN; tag their updates with `generation`.
    LogIn {
        /// The officer's PIN.
        pin: OfficerPin,
        /// Pass it back with every update of these connections
        /// ([`ConsoleHandle::apply`]): updates of older ones are dropped.
        generation: u64,
    },
    /// Stop every connection and forget the PIN.
    LogOut,
    /// Send `command` to lane `lane`; answer with [`LaneUpdate::CommandDone`].
    Command {
        /// The lane's index.
        lane: usize,
        /// The command.
        command: Command,
    },
    /// Play a sound: a new alert.
    Chime(Chime),
}

/// Why the console could not start or take a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UiError {
    /// Slint could not create the window (no display, no renderer).
    #[error("cannot create the console window: {0}")]
    Platform(#[from] slint::PlatformError),
    /// The UI's event loop has ended: the update was dropped.
    #[error("the console's event loop is not running")]
    EventLoopGone,
    /// A screenshot could not be taken.
    #[error("cannot take a screenshot: {0}")]
    Snapshot(String),
}

/// Receives what the console asks.
///
/// # Contract
/// Runs on the UI thread inside a click handler: it must return at once,
/// and must not call back into [`ConsoleUi`] (use a [`ConsoleHandle`]).
pub type RequestSink = Box<dyn FnMut(UiRequest)>;

struct State {
    model: ConsoleModel,
    /// The PIN being typed (zeroed when dropped or cleared).
    pin: Zeroizing<String>,
    clock: Clock,
    now: Instant,
    generation: u64,
    /// The face shown: (lane, record, image), so it is converted once.
    face: Option<(usize, String, slint::Image)>,
    this_year: i32,
}

struct Shared {
    window: ConsoleWindow,
    state: RefCell<State>,
    sink: RefCell<RequestSink>,
    lanes: Rc<VecModel<generated::LaneTile>>,
    alerts: Rc<VecModel<generated::AlertItem>>,
    reasons: Rc<VecModel<SharedString>>,
    failed_checks: Rc<VecModel<SharedString>>,
}

thread_local! {
    static CURRENT: RefCell<Weak<Shared>> = const { RefCell::new(Weak::new()) };
}

/// The officer console's window, driven by a [`ConsoleModel`].
pub struct ConsoleUi {
    shared: Rc<Shared>,
    _timer: Option<slint::Timer>,
}

impl ConsoleUi {
    /// Creates the window on the current Slint platform, on the PIN page,
    /// for `officer_id` and these lanes (by name, in tile order).
    ///
    /// # Errors
    /// [`UiError::Platform`] when Slint cannot create a window.
    pub fn new(
        officer_id: &str,
        lane_names: &[String],
        sink: impl FnMut(UiRequest) + 'static,
        clock: Clock,
    ) -> Result<ConsoleUi, UiError> {
        let window = ConsoleWindow::new()?;
        let console = window.global::<generated::Console>();
        console.set_officer_id(officer_id.into());
        let lanes = Rc::new(VecModel::default());
        let alerts = Rc::new(VecModel::default());
        let reasons = Rc::new(VecModel::default());
        let failed_checks = Rc::new(VecModel::default());
        console.set_lanes(ModelRc::from(lanes.clone()));
        console.set_alerts(ModelRc::from(alerts.clone()));
        let shared = Rc::new(Shared {
            window,
            state: RefCell::new(State {
                model: ConsoleModel::new(officer_id, lane_names),
                pin: empty_pin(),
                clock,
                now: Instant::now(),
                generation: 0,
                face: None,
                this_year: this_year(),
            }),
            sink: RefCell::new(Box::new(sink)),
            lanes,
            alerts,
            reasons,
            failed_checks,
        });
        wire_callbacks(&shared);
        CURRENT.with(|c| *c.borrow_mut() = Rc::downgrade(&shared));
        let timer = (clock == Clock::System).then(|| {
            let timer = slint::Timer::default();
            let weak = Rc::downgrade(&shared);
            timer.start(
                slint::TimerMode::Repeated,
                Duration::from_secs(1),
                move || {
                    if let Some(shared) = weak.upgrade() {
                        shared.tick(Instant::now());
                    }
                },
            );
            timer
        });
        shared.refresh();
        Ok(ConsoleUi {
            shared,
            _timer: timer,
        })
    }

    /// The Slint window, for tests and tools (screenshots, element queries).
    pub fn window(&self) -> &ConsoleWindow {
        &self.shared.window
    }

    /// Shows the window and runs the Slint event loop until it is closed.
    ///
    /// # Errors
    /// [`UiError::Platform`] when the window or the event loop fails.
    pub fn run(&self) -> Result<(), UiError> {
        self.shared.window.run()?;
        Ok(())
    }

    /// Takes lane `lane`'s update of the connections of `generation` (on the
    /// UI thread; see [`ConsoleHandle::apply`]).
    pub fn apply(&self, generation: u64, lane: usize, update: LaneUpdate) {
        self.shared.apply(generation, lane, update);
    }

    /// The generation the next updates must carry (the last login's).
    pub fn generation(&self) -> u64 {
        self.shared.state.borrow().generation
    }

    /// Moves the clock to `now` (any [`Clock`]).
    pub fn tick(&self, now: Instant) {
        self.shared.tick(now);
    }

    /// The year used to tell 19xx from 20xx in MRZ birth dates (this year
    /// by default; fixed for screenshots).
    pub fn set_this_year(&self, year: i32) {
        self.shared.state.borrow_mut().this_year = year;
        self.shared.refresh();
    }

    /// The model, to read.
    pub fn model(&self) -> Ref<'_, ConsoleModel> {
        Ref::map(self.shared.state.borrow(), |s| &s.model)
    }

    /// Renders the window as it is now, RGBA, at its current size.
    ///
    /// # Errors
    /// [`UiError::Snapshot`] when the renderer cannot (a zero-sized window).
    pub fn snapshot(&self) -> Result<slint::SharedPixelBuffer<slint::Rgba8Pixel>, UiError> {
        self.shared
            .window
            .window()
            .take_snapshot()
            .map_err(|e| UiError::Snapshot(e.to_string()))
    }
}

impl Drop for ConsoleUi {
    fn drop(&mut self) {
        CURRENT.with(|c| {
            let mut current = c.borrow_mut();
            if current.ptr_eq(&Rc::downgrade(&self.shared)) {
                *current = Weak::new();
            }
        });
    }
}

/// Hands updates to the [`ConsoleUi`] of the UI thread from any thread:
/// each is queued on the UI's event loop and the call returns at once.
#[derive(Debug, Clone, Default)]
pub struct ConsoleHandle {
    _private: (),
}

impl ConsoleHandle {
    /// A handle to the console of the thread that runs the Slint event loop.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues lane `lane`'s update of the connections of `generation`.
    ///
    /// # Errors
    /// [`UiError::EventLoopGone`] when the console's event loop has ended.
    pub fn apply(&self, generation: u64, lane: usize, update: LaneUpdate) -> Result<(), UiError> {
        slint::invoke_from_event_loop(move || {
            if let Some(shared) = CURRENT.with(|c| c.borrow().upgrade()) {
                shared.apply(generation, lane, update);
            }
        })
        .map_err(|_| UiError::EventLoopGone)
    }
}

impl Shared {
    fn now(&self) -> Instant {
        let mut state = self.state.borrow_mut();
        if state.clock == Clock::System {
            state.now = Instant::now();
        }
        state.now
    }

    fn apply(&self, generation: u64, lane: usize, update: LaneUpdate) {
        let now = self.now();
        let effects = {
            let mut state = self.state.borrow_mut();
            if generation != state.generation {
                return;
            }
            state.model.apply(lane, update, now)
        };
        let mut requests = Vec::new();
        for effect in effects {
            match effect {
                Effect::Chime(chime) => requests.push(UiRequest::Chime(chime)),
                Effect::StopConnections => {
                    let mut state = self.state.borrow_mut();
                    state.pin.zeroize();
                    state.generation += 1;
                    requests.push(UiRequest::LogOut);
                }
            }
        }
        self.refresh();
        self.emit(requests);
    }

    fn tick(&self, now: Instant) {
        self.state.borrow_mut().now = now;
        self.refresh();
    }

    /// Runs `f` on the state, redraws, then hands its requests to the sink.
    fn act(&self, f: impl FnOnce(&mut State) -> Vec<UiRequest>) {
        let requests = f(&mut self.state.borrow_mut());
        self.refresh();
        self.emit(requests);
    }

    fn emit(&self, requests: Vec<UiRequest>) {
        if requests.is_empty() {
            return;
        }
        if let Ok(mut sink) = self.sink.try_borrow_mut() {
            for request in requests {
                sink(request);
            }
        }
    }

    /// Draws the model.
    fn refresh(&self) {
        let mut guard = self.state.borrow_mut();
        let state: &mut State = &mut guard;
        let console = self.window.global::<generated::Console>();
        let model = &state.model;
        let login = model.login();
        console.set_page(if login == LoginState::LoggedIn {
            generated::PageId::Console
        } else {
            generated::PageId::Login
        });
        console.set_pin_status(match login {
            LoginState::Checking => generated::PinStatus::Checking,
            LoginState::Rejected {
                locked_out: true, ..
            } => generated::PinStatus::LockedOut,
            LoginState::Rejected { .. } => generated::PinStatus::Rejected,
            _ => generated::PinStatus::Entering,
        });
        console.set_retry_after_seconds(match login {
            LoginState::Rejected {
                retry_after: Some(d),
                ..
            } => secs(d),
            _ => 0,
        });
        console.set_pin_length(i32::try_from(state.pin.len()).unwrap_or(i32::MAX));

        let now = state.now;
        let tiles: Vec<generated::LaneTile> = model
            .lanes()
            .iter()
            .enumerate()
            .map(|(i, lane)| tile(i, lane, now))
            .collect();
        sync(&self.lanes, tiles);
        let open = model.open_referral();
        let items: Vec<generated::AlertItem> = model
            .alerts()
            .iter()
            .map(|a| alert_item(a, model, open, now))
            .collect();
        sync(&self.alerts, items);

        let shown = open
            .and_then(|i| Some((i, model.lanes().get(i)?)))
            .filter(|(_, lane)| lane.referral().is_some());
        match shown {
            Some((index, lane)) => {
                let face = face_image(&mut state.face, index, lane);
                let data = referral_data(
                    index,
                    lane,
                    face,
                    state.this_year,
                    &self.reasons,
                    &self.failed_checks,
                );
                console.set_referral(data);
                console.set_referral_open(true);
            }
            None => {
                state.face = None;
                console.set_referral_open(false);
            }
        }
    }
}

/// Updates a model row by row, so the rows that did not change keep their
/// elements (a button being pressed is not rebuilt under the finger).
fn sync<T: Clone + PartialEq + 'static>(model: &VecModel<T>, rows: Vec<T>) {
    let old = model.row_count();
    for (i, row) in rows.iter().enumerate() {
        if i < old {
            if model.row_data(i).as_ref() != Some(row) {
                model.set_row_data(i, row.clone());
            }
        } else {
            model.push(row.clone());
        }
    }
    for i in (rows.len()..old).rev() {
        model.remove(i);
    }
}

fn secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

fn tile(index: usize, lane: &Lane, now: Instant) -> generated::LaneTile {
    let look = lane.look();
    let (connection, unreachable_seconds) = match lane.connection() {
        Connection::Idle => ("idle", 0),
        Connection::Connecting => ("connecting", 0),
        Connection::Connected if lane.state().is_none() => ("waiting", 0),
        Connection::Connected => ("connected", 0),
        Connection::Unreachable { since } => {
            ("unreachable", secs(now.saturating_duration_since(since)))
        }
        Connection::Refused(LoginRefusal::LockedOut) => ("locked-out", 0),
        Connection::Refused(_) => ("pin-refused", 0),
    };
    let condition = if look == Look::Unknown {
        None
    } else {
        lane.conditions()
            .iter()
            .max_by_key(|c| crate::model::FAULT_KINDS.contains(&c.kind.as_str()))
    };
    generated::LaneTile {
        index: i32::try_from(index).unwrap_or(i32::MAX),
        name: lane.name().into(),
        look: match look {
            Look::Unknown => generated::Look::Unknown,
            Look::InService => generated::Look::InService,
            Look::Referral { .. } => generated::Look::Referral,
            Look::Closed => generated::Look::Closed,
            Look::OutOfService => generated::Look::OutOfService,
        },
        state: lane.state().unwrap_or("").into(),
        connection: connection.into(),
        unreachable_seconds,
        referral_high: matches!(look, Look::Referral { high: true }),
        condition: condition.map_or(SharedString::new(), |c| c.kind.as_str().into()),
        condition_device: condition
            .and_then(|c| c.device.as_deref())
            .unwrap_or("")
            .into(),
        lagged: lane.lagged() && look != Look::Unknown,
        command: command_code(lane.command()).into(),
    }
}

fn command_code(status: Option<CommandStatus>) -> &'static str {
    match status {
        None => "",
        Some(CommandStatus::Sending("accept")) => "sending-accept",
        Some(CommandStatus::Sending("refuse")) => "sending-refuse",
        Some(CommandStatus::Sending(_)) => "",
        Some(CommandStatus::Done("accept")) => "done-accept",
        Some(CommandStatus::Done("refuse")) => "done-refuse",
        Some(CommandStatus::Done(_)) => "",
        Some(CommandStatus::Refused(Refusal::NotPending)) => "not-pending",
        Some(CommandStatus::Refused(_)) => "refused",
        Some(CommandStatus::NotSent) => "failed",
        Some(CommandStatus::NoAnswer) => "no-answer",
    }
}

fn alert_item(
    alert: &Alert,
    model: &ConsoleModel,
    open: Option<usize>,
    now: Instant,
) -> generated::AlertItem {
    let lane = model.lanes().get(alert.lane).map_or("", |l| l.name());
    let (kind, device, detail, active) = match &alert.kind {
        AlertKind::Referral { .. } => ("referral", "", "", true),
        AlertKind::Unreachable => ("unreachable", "", "", true),
        AlertKind::PinRefused => ("pin_refused", "", "", true),
        AlertKind::Kiosk(a) => (
            a.kind.as_str(),
            a.device.as_deref().unwrap_or(""),
            a.detail.as_deref().unwrap_or(""),
            a.active,
        ),
    };
    let is_referral = matches!(alert.kind, AlertKind::Referral { .. });
    generated::AlertItem {
        id: i32::try_from(alert.id).unwrap_or(i32::MAX),
        lane: lane.into(),
        urgency: match alert.urgency() {
            Urgency::ReferralHigh => generated::Urgency::ReferralHigh,
            Urgency::Fault => generated::Urgency::Fault,
            Urgency::ReferralNormal => generated::Urgency::ReferralNormal,
            Urgency::Other => generated::Urgency::Other,
        },
        kind: kind.into(),
        device: device.into(),
        detail: detail.chars().take(120).collect::<String>().into(),
        age_seconds: secs(now.saturating_duration_since(alert.raised)),
        active,
        openable: is_referral,
        dismissable: alert.kind.dismissable(),
        open: is_referral && open == Some(alert.lane),
    }
}

/// The shown face as a Slint image, converted once per referral.
fn face_image(
    cache: &mut Option<(usize, String, slint::Image)>,
    index: usize,
    lane: &Lane,
) -> Option<slint::Image> {
    let record = lane.referral()?.record_id.as_str();
    let Some(FacePicture::Image(rgba)) = lane.face() else {
        *cache = None;
        return None;
    };
    if let Some((i, r, image)) = cache.as_ref()
        && *i == index
        && r == record
    {
        return Some(image.clone());
    }
    let buffer = SharedPixelBuffer::<slint::Rgba8Pixel>::clone_from_slice(
        &rgba.pixels,
        rgba.width,
        rgba.height,
    );
    let image = slint::Image::from_rgba8(buffer);
    *cache = Some((index, record.to_owned(), image.clone()));
    Some(image)
}

fn referral_data(
    index: usize,
    lane: &Lane,
    face: Option<slint::Image>,
    this_year: i32,
    reasons: &Rc<VecModel<SharedString>>,
    failed_checks: &Rc<VecModel<SharedString>>,
) -> generated::ReferralData {
    let empty = ReferralView {
        passage: 0,
        record_id: String::new(),
        priority: None,
        reasons: Vec::new(),
        document: None,
        verdict: None,
        face: None,
        face_omitted: false,
    };
    let r = lane.referral().unwrap_or(&empty);
    sync(
        reasons,
        r.reasons.iter().map(|s| s.as_str().into()).collect(),
    );
    sync(
        failed_checks,
        r.verdict
            .as_ref()
            .map(|v| v.failed_checks.iter().map(|c| c.as_str().into()).collect())
            .unwrap_or_default(),
    );
    let d = r.document.as_ref();
    let field = |f: fn(&kiosk_app::supervision::protocol::DocumentView) -> &str| {
        d.map_or(SharedString::new(), |d| f(d).trim().into())
    };
    let (face_kind, face_format, face_bytes) = match lane.face() {
        Some(FacePicture::Image(_)) if face.is_some() => (generated::FaceKind::Image, "", 0),
        Some(FacePicture::Undecodable { format, bytes }) => (
            generated::FaceKind::Undecodable,
            format.as_str(),
            i32::try_from(*bytes).unwrap_or(i32::MAX),
        ),
        Some(FacePicture::Omitted) => (generated::FaceKind::Omitted, "", 0),
        // Not decoded yet, or no face on the chip.
        _ if r.face_omitted => (generated::FaceKind::Omitted, "", 0),
        _ => (generated::FaceKind::None, "", 0),
    };
    let checks = r.verdict.as_ref().map_or(&[][..], |v| v.checks.as_slice());
    generated::ReferralData {
        lane: lane.name().into(),
        lane_index: i32::try_from(index).unwrap_or(i32::MAX),
        high: r.priority.as_deref() == Some("high"),
        has_document: d.is_some(),
        surname: field(|d| &d.primary_identifier),
        given_names: field(|d| &d.secondary_identifier),
        document_number: field(|d| &d.document_number),
        document_type: field(|d| &d.document_type),
        issuing_state: field(|d| &d.issuing_state),
        nationality: field(|d| &d.nationality),
        birth_date: d.map_or(SharedString::new(), |d| {
            mrz_date(&d.birth_date, DateKind::Birth, this_year).into()
        }),
        sex: field(|d| &d.sex),
        expiry_date: d.map_or(SharedString::new(), |d| {
            mrz_date(&d.expiry_date, DateKind::Expiry, this_year).into()
        }),
        reasons: ModelRc::from(reasons.clone()),
        has_verdict: r.verdict.is_some(),
        genuine: r.verdict.as_ref().is_some_and(|v| v.genuine),
        failed_checks: ModelRc::from(failed_checks.clone()),
        checks_passed: i32::try_from(checks.iter().filter(|c| c.outcome == "passed").count())
            .unwrap_or(i32::MAX),
        checks_total: i32::try_from(checks.len()).unwrap_or(i32::MAX),
        face: face.unwrap_or_default(),
        face_kind,
        face_repaired: matches!(lane.face(), Some(FacePicture::Image(i)) if i.repaired),
        face_format: face_format.into(),
        face_bytes,
        busy: matches!(lane.command(), Some(CommandStatus::Sending(_))),
        connected: lane.connection() == Connection::Connected,
    }
}

/// Which MRZ date: a birth date is never in the future, an expiry is 20xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    /// Date of birth.
    Birth,
    /// Date of expiry.
    Expiry,
}

/// An MRZ date `YYMMDD` as `YYYY-MM-DD`; anything else as it is.
#[must_use]
pub fn mrz_date(yymmdd: &str, kind: DateKind, this_year: i32) -> String {
    let digits = |r: std::ops::Range<usize>| yymmdd.get(r).and_then(|s| s.parse::<i32>().ok());
    match (yymmdd.len(), digits(0..2), digits(2..4), digits(4..6)) {
        (6, Some(yy), Some(mm), Some(dd)) if (1..=12).contains(&mm) && (1..=31).contains(&dd) => {
            let year = match kind {
                DateKind::Expiry => 2000 + yy,
                DateKind::Birth if 2000 + yy > this_year => 1900 + yy,
                DateKind::Birth => 2000 + yy,
            };
            format!("{year:04}-{mm:02}-{dd:02}")
        }
        _ => yymmdd.to_owned(),
    }
}

/// This year (UTC) from the system clock.
fn this_year() -> i32 {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    // Civil year from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    i32::try_from(year).unwrap_or(2026)
}

/// A PIN buffer that never reallocates (so no copy of a digit is left behind).
fn empty_pin() -> Zeroizing<String> {
    Zeroizing::new(String::with_capacity(MAX_PIN_DIGITS))
}

fn wire_callbacks(shared: &Rc<Shared>) {
    let console = shared.window.global::<generated::Console>();
    let on = |f: fn(&mut State) -> Vec<UiRequest>| {
        let weak = Rc::downgrade(shared);
        move || {
            if let Some(shared) = weak.upgrade() {
                shared.act(f);
            }
        }
    };
    console.on_pin_delete(on(|s| {
        // A new buffer with one digit less; the old one is zeroed as it drops.
        let mut shorter = empty_pin();
        shorter.push_str(s.pin.get(..s.pin.len().saturating_sub(1)).unwrap_or(""));
        s.pin = shorter;
        Vec::new()
    }));
    console.on_pin_submit(on(|s| {
        if matches!(s.model.login(), LoginState::Checking | LoginState::LoggedIn) {
            return Vec::new();
        }
        let Ok(pin) = OfficerPin::new(&s.pin) else {
            return Vec::new();
        };
        s.pin.zeroize();
        s.generation += 1;
        s.face = None;
        s.model.begin_login();
        vec![UiRequest::LogIn {
            pin,
            generation: s.generation,
        }]
    }));
    console.on_log_out(on(|s| {
        s.generation += 1;
        s.pin.zeroize();
        s.face = None;
        s.model.log_out();
        vec![UiRequest::LogOut]
    }));
    console.on_close_referral(on(|s| {
        s.model.close_referral_view();
        Vec::new()
    }));
    console.on_accept(on(|s| {
        s.model
            .accept()
            .map(|(lane, command)| UiRequest::Command { lane, command })
            .into_iter()
            .collect()
    }));
    console.on_refuse(on(|s| {
        s.model
            .refuse()
            .map(|(lane, command)| UiRequest::Command { lane, command })
            .into_iter()
            .collect()
    }));

    let weak = Rc::downgrade(shared);
    console.on_pin_digit(move |digit: i32| {
        if let (Some(shared), Ok(digit)) = (weak.upgrade(), u8::try_from(digit))
            && digit <= 9
        {
            shared.act(|s| {
                if matches!(s.model.login(), LoginState::Rejected { .. }) {
                    s.model.log_out();
                }
                if s.model.login() == LoginState::Entering && s.pin.len() < MAX_PIN_DIGITS {
                    s.pin.push(char::from(b'0' + digit));
                }
                Vec::new()
            });
        }
    });
    let weak = Rc::downgrade(shared);
    console.on_open_alert(move |id: i32| {
        if let (Some(shared), Ok(id)) = (weak.upgrade(), u64::try_from(id)) {
            shared.act(|s| {
                s.model.open_alert(id);
                Vec::new()
            });
        }
    });
    let weak = Rc::downgrade(shared);
    console.on_dismiss_alert(move |id: i32| {
        if let (Some(shared), Ok(id)) = (weak.upgrade(), u64::try_from(id)) {
            shared.act(|s| {
                s.model.dismiss(id);
                Vec::new()
            });
        }
    });
    let weak = Rc::downgrade(shared);
    console.on_open_lane(move |index: i32| {
        if let (Some(shared), Ok(index)) = (weak.upgrade(), usize::try_from(index)) {
            shared.act(|s| {
                s.model.open_lane(index);
                Vec::new()
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrz_dates_read_as_iso_dates() {
        assert_eq!(mrz_date("900412", DateKind::Birth, 2026), "1990-04-12");
        assert_eq!(mrz_date("150101", DateKind::Birth, 2026), "2015-01-01");
        assert_eq!(mrz_date("350101", DateKind::Expiry, 2026), "2035-01-01");
        assert_eq!(mrz_date("90<<12", DateKind::Birth, 2026), "90<<12");
        assert_eq!(mrz_date("901312", DateKind::Birth, 2026), "901312");
    }

    #[test]
    fn this_year_is_plausible() {
        assert!((2025..2200).contains(&this_year()));
    }
}
