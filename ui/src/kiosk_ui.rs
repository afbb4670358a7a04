//! The Slint side: the kiosk window, driven by the [`ViewModel`] through the
//! exported globals `Lane` and `Theme` only.
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::generated::{self, KioskWindow, PageId};
use crate::language::Language;
use crate::view_model::{Input, OfficerCommand, Page, PinStatus, Screen, UiEvent, View, ViewModel};

/// Where the UI's clock comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The system clock, ticked by a Slint timer every 250 ms: the kiosk.
    System,
    /// No timer: time moves only through [`KioskUi::tick`]. Tests, screenshots.
    Manual,
}

/// Why the UI could not start or take a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UiError {
    /// Slint could not create the window (no display, no renderer).
    #[error("cannot create the kiosk window: {0}")]
    Platform(#[from] slint::PlatformError),
    /// The language's bundled translation could not be selected.
    #[error("cannot select the translation {code:?}: {detail}")]
    Translation {
        /// The gettext code.
        code: &'static str,
        /// What Slint said.
        detail: String,
    },
    /// The UI's event loop has ended: the request was dropped.
    #[error("the UI event loop is not running")]
    EventLoopGone,
    /// A screenshot could not be taken.
    #[error("cannot take a screenshot: {0}")]
    Snapshot(String),
}

/// Receives what the UI tells the lane.
///
/// # Contract
/// The sink runs on the UI thread, inside a touch handler: it must return at
/// once (send on a channel), and must not call back into [`KioskUi`].
pub type EventSink = Box<dyn FnMut(UiEvent)>;

struct State {
    vm: ViewModel,
    clock: Clock,
    now: Instant,
    applied_language: Option<Language>,
    failed: bool,
}

struct Shared {
    window: KioskWindow,
    state: RefCell<State>,
    sink: RefCell<EventSink>,
}

thread_local! {
    static CURRENT: RefCell<Weak<Shared>> = const { RefCell::new(Weak::new()) };
}

/// The traveller's screen: a Slint window driven by a [`ViewModel`].
///
/// Lives on the UI thread (the main thread under winit). The lane talks to it
/// from any thread through a [`UiHandle`], which never blocks.
pub struct KioskUi {
    shared: Rc<Shared>,
    _timer: Option<slint::Timer>,
}

impl KioskUi {
    /// Creates the window on the current Slint platform, on the attract page
    /// in English. With [`Clock::System`] a timer drives inactivity.
    ///
    /// # Errors
    /// [`UiError::Platform`] when Slint cannot create a window. A failure
    /// after that shows the Out of service page and is reported to `sink` as
    /// [`UiEvent::Fault`].
    pub fn new(sink: impl FnMut(UiEvent) + 'static, clock: Clock) -> Result<KioskUi, UiError> {
        let window = KioskWindow::new()?;
        let now = Instant::now();
        let languages: Vec<generated::LanguageItem> = Language::ALL
            .iter()
            .map(|l| generated::LanguageItem {
                code: l.code().into(),
                autonym: l.autonym().into(),
                font_family: l.font_family().into(),
            })
            .collect();
        window
            .global::<generated::Lane>()
            .set_languages(ModelRc::new(VecModel::from(languages)));
        let shared = Rc::new(Shared {
            window,
            state: RefCell::new(State {
                vm: ViewModel::new(now),
                clock,
                now,
                applied_language: None,
                failed: false,
            }),
            sink: RefCell::new(Box::new(sink)),
        });
        wire_callbacks(&shared);
        CURRENT.with(|c| *c.borrow_mut() = Rc::downgrade(&shared));
        let timer = (clock == Clock::System).then(|| {
            let timer = slint::Timer::default();
            let weak = Rc::downgrade(&shared);
            timer.start(
                slint::TimerMode::Repeated,
                Duration::from_millis(250),
                move || {
                    if let Some(shared) = weak.upgrade() {
                        shared.tick(Instant::now());
                    }
                },
            );
            timer
        });
        shared.refresh();
        Ok(KioskUi {
            shared,
            _timer: timer,
        })
    }

    /// The Slint window, for tests and tools (screenshots, element queries).
    pub fn window(&self) -> &KioskWindow {
        &self.shared.window
    }

    /// A handle for the lane's threads.
    pub fn handle(&self) -> UiHandle {
        UiHandle { _private: () }
    }

    /// Shows the window and runs the Slint event loop until it quits.
    ///
    /// # Errors
    /// [`UiError::Platform`] when the window or the event loop fails.
    pub fn run(&self) -> Result<(), UiError> {
        self.shared.window.run()?;
        Ok(())
    }

    /// The lane asks for `screen` (on the UI thread; see [`UiHandle::show`]).
    pub fn show(&self, screen: Screen) {
        self.shared.with_vm(|vm, now| vm.show(screen, now));
    }

    /// The chip-reading progress, in percent.
    pub fn set_chip_progress(&self, percent: u8) {
        self.shared.with_vm(|vm, _| vm.set_chip_progress(percent));
    }

    /// Pre-selects the language of this ICAO nationality, unless the
    /// traveller chose one.
    pub fn suggest_nationality(&self, icao_code: &str) {
        self.shared.with_vm(|vm, _| {
            vm.suggest_nationality(icao_code);
        });
    }

    /// The lane's answer to [`UiEvent::OfficerPinEntered`].
    pub fn officer_login_result(&self, accepted: bool) {
        self.shared
            .with_vm(|vm, now| vm.officer_login_result(accepted, now));
    }

    /// Whether the lane is open, for the officer menu.
    pub fn set_lane_open(&self, open: bool) {
        self.shared.with_vm(|vm, _| vm.set_lane_open(open));
    }

    /// Moves the clock to `now` and applies inactivity (any [`Clock`]).
    pub fn tick(&self, now: Instant) {
        self.shared.tick(now);
    }

    /// What the view model shows now.
    pub fn view(&self) -> View {
        self.shared.state.borrow().vm.view()
    }

    /// Draws `view` as it is, bypassing the view model: screenshots and
    /// benchmarks. The next request to the view model draws its own view
    /// again.
    ///
    /// # Errors
    /// [`UiError::Translation`] when the language cannot be selected (the
    /// Out of service page is then shown).
    pub fn apply_view(&self, view: &View) -> Result<(), UiError> {
        let mut state = self.shared.state.borrow_mut();
        let result = apply(&self.shared.window, view, &mut state.applied_language);
        if result.is_err() {
            show_out_of_service(&self.shared.window);
        }
        result
    }

    /// Freezes every animation (`false`) for pixel-exact screenshots.
    pub fn set_motion(&self, motion: bool) {
        self.shared
            .window
            .global::<generated::Theme>()
            .set_motion(motion);
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

impl Drop for KioskUi {
    fn drop(&mut self) {
        CURRENT.with(|c| {
            let mut current = c.borrow_mut();
            if current.ptr_eq(&Rc::downgrade(&self.shared)) {
                *current = Weak::new();
            }
        });
    }
}

/// Talks to the [`KioskUi`] of the UI thread from any thread. Every call
/// queues the request on the UI's event loop and returns at once.
#[derive(Debug, Clone)]
pub struct UiHandle {
    _private: (),
}

impl UiHandle {
    /// Asks the UI to show `screen`.
    ///
    /// # Errors
    /// [`UiError::EventLoopGone`] when the UI's event loop has ended (the
    /// lane carries on without a screen).
    pub fn show(&self, screen: Screen) -> Result<(), UiError> {
        post(move |shared| shared.with_vm(|vm, now| vm.show(screen, now)))
    }

    /// The chip-reading progress, in percent.
    ///
    /// # Errors
    /// As [`show`](Self::show).
    pub fn set_chip_progress(&self, percent: u8) -> Result<(), UiError> {
        post(move |shared| shared.with_vm(|vm, _| vm.set_chip_progress(percent)))
    }

    /// Pre-selects the language of this ICAO nationality.
    ///
    /// # Errors
    /// As [`show`](Self::show).
    pub fn suggest_nationality(&self, icao_code: &str) -> Result<(), UiError> {
        let code = icao_code.to_owned();
        post(move |shared| {
            shared.with_vm(|vm, _| {
                vm.suggest_nationality(&code);
            });
        })
    }

    /// The lane's answer to [`UiEvent::OfficerPinEntered`].
    ///
    /// # Errors
    /// As [`show`](Self::show).
    pub fn officer_login_result(&self, accepted: bool) -> Result<(), UiError> {
        post(move |shared| shared.with_vm(|vm, now| vm.officer_login_result(accepted, now)))
    }

    /// Whether the lane is open, for the officer menu.
    ///
    /// # Errors
    /// As [`show`](Self::show).
    pub fn set_lane_open(&self, open: bool) -> Result<(), UiError> {
        post(move |shared| shared.with_vm(|vm, _| vm.set_lane_open(open)))
    }

    /// Ends the UI's event loop (shutdown).
    ///
    /// # Errors
    /// As [`show`](Self::show).
    pub fn quit(&self) -> Result<(), UiError> {
        slint::quit_event_loop().map_err(|_| UiError::EventLoopGone)
    }
}

fn post(f: impl FnOnce(&Shared) + Send + 'static) -> Result<(), UiError> {
    slint::invoke_from_event_loop(move || {
        if let Some(shared) = CURRENT.with(|c| c.borrow().upgrade()) {
            f(&shared);
        }
    })
    .map_err(|_| UiError::EventLoopGone)
}

impl Shared {
    fn now(&self) -> Instant {
        let mut state = self.state.borrow_mut();
        if state.clock == Clock::System {
            state.now = Instant::now();
        }
        state.now
    }

    fn with_vm(&self, f: impl FnOnce(&mut ViewModel, Instant)) {
        let now = self.now();
        f(&mut self.state.borrow_mut().vm, now);
        self.refresh();
    }

    fn input(&self, input: Input) {
        let now = self.now();
        let events = self.state.borrow_mut().vm.handle(input, now);
        self.refresh();
        self.emit(events);
    }

    fn tick(&self, now: Instant) {
        let events = {
            let mut state = self.state.borrow_mut();
            state.now = now;
            state.vm.tick(now)
        };
        self.refresh();
        self.emit(events);
    }

    fn emit(&self, events: Vec<UiEvent>) {
        if events.is_empty() {
            return;
        }
        if let Ok(mut sink) = self.sink.try_borrow_mut() {
            for event in events {
                sink(event);
            }
        }
    }

    /// Draws the view model's view; a failure shows Out of service.
    fn refresh(&self) {
        let fault = {
            let mut state = self.state.borrow_mut();
            let view = state.vm.view();
            let result = apply(&self.window, &view, &mut state.applied_language);
            match result {
                Ok(()) if !state.failed => None,
                Ok(()) => {
                    show_out_of_service(&self.window);
                    None
                }
                Err(e) => {
                    state.failed = true;
                    show_out_of_service(&self.window);
                    Some(e.to_string())
                }
            }
        };
        if let Some(fault) = fault {
            self.emit(vec![UiEvent::Fault(fault)]);
        }
    }
}

fn show_out_of_service(window: &KioskWindow) {
    let lane = window.global::<generated::Lane>();
    lane.set_page(PageId::OutOfService);
    lane.set_language_picker_open(false);
    lane.set_inactivity_seconds_left(0);
}

fn page_id(page: Page) -> PageId {
    match page {
        Page::Attract => PageId::Attract,
        Page::PlacePassport => PageId::PlacePassport,
        Page::ReadingChip => PageId::ReadingChip,
        Page::PleaseWait => PageId::PleaseWait,
        Page::PutDocumentBack => PageId::PutDocumentBack,
        Page::RescanDocument => PageId::RescanDocument,
        Page::LookAtCamera => PageId::LookAtCamera,
        Page::ProceedToGate => PageId::ProceedToGate,
        Page::SeeOfficer => PageId::SeeOfficer,
        Page::GoToManualCounter => PageId::GoToManualCounter,
        Page::LaneClosed => PageId::LaneClosed,
        Page::OutOfService => PageId::OutOfService,
        Page::OfficerPin => PageId::OfficerPin,
        Page::OfficerMenu => PageId::OfficerMenu,
    }
}

fn apply(
    window: &KioskWindow,
    view: &View,
    applied_language: &mut Option<Language>,
) -> Result<(), UiError> {
    let theme = window.global::<generated::Theme>();
    let lane = window.global::<generated::Lane>();
    if *applied_language != Some(view.language) {
        let code = view.language.code();
        slint::select_bundled_translation(code).map_err(|e| UiError::Translation {
            code,
            detail: e.to_string(),
        })?;
        theme.set_font_family(view.language.font_family().into());
        lane.set_language_code(code.into());
        *applied_language = Some(view.language);
    }
    theme.set_high_contrast(view.high_contrast);
    lane.set_page(page_id(view.page));
    lane.set_language_picker_open(view.language_picker_open);
    lane.set_chip_progress(view.chip_progress.map_or(-1.0, |p| f32::from(p) / 100.0));
    lane.set_permitted_stay_days(view.permitted_stay_days.map_or(0, i32::from));
    lane.set_pin_length(i32::try_from(view.pin_length).unwrap_or(i32::MAX));
    lane.set_pin_status(match view.pin_status {
        PinStatus::Entering => generated::PinStatus::Entering,
        PinStatus::Checking => generated::PinStatus::Checking,
        PinStatus::Rejected => generated::PinStatus::Rejected,
    });
    lane.set_lane_open(view.lane_open);
    lane.set_inactivity_seconds_left(
        view.inactivity_seconds_left
            .map_or(0, |s| i32::try_from(s).unwrap_or(i32::MAX)),
    );
    Ok(())
}

fn wire_callbacks(shared: &Rc<Shared>) {
    let lane = shared.window.global::<generated::Lane>();
    let on = |input: Input| {
        let weak = Rc::downgrade(shared);
        move || {
            if let Some(shared) = weak.upgrade() {
                shared.input(input);
            }
        }
    };
    lane.on_open_language_picker(on(Input::OpenLanguagePicker));
    lane.on_close_language_picker(on(Input::CloseLanguagePicker));
    lane.on_toggle_high_contrast(on(Input::ToggleHighContrast));
    lane.on_cancel(on(Input::Cancel));
    lane.on_touched(on(Input::Touch));
    lane.on_still_here(on(Input::StillHere));
    lane.on_officer_login(on(Input::OfficerLogin));
    lane.on_pin_delete(on(Input::PinDelete));
    lane.on_pin_submit(on(Input::PinSubmit));
    lane.on_pin_cancel(on(Input::PinCancel));

    let weak = Rc::downgrade(shared);
    lane.on_choose_language(move |code: SharedString| {
        if let (Some(shared), Some(language)) = (weak.upgrade(), Language::from_code(&code)) {
            shared.input(Input::ChooseLanguage(language));
        }
    });
    let weak = Rc::downgrade(shared);
    lane.on_pin_digit(move |digit: i32| {
        if let (Some(shared), Ok(digit)) = (weak.upgrade(), u8::try_from(digit)) {
            shared.input(Input::PinDigit(digit));
        }
    });
    let weak = Rc::downgrade(shared);
    lane.on_officer_action(move |action: generated::OfficerAction| {
        if let Some(shared) = weak.upgrade() {
            shared.input(match action {
                generated::OfficerAction::OpenLane => Input::Officer(OfficerCommand::OpenLane),
                generated::OfficerAction::CloseLane => Input::Officer(OfficerCommand::CloseLane),
                generated::OfficerAction::LogOut => Input::OfficerLogOut,
            });
        }
    });
}
