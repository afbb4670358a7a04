//! The view model: what the screen shows, decided in plain Rust from the
//! lane's requests, the traveller's touches and the clock. No Slint here, so
//! it is tested synchronously and the lane never waits for a display.
#![forbid(unsafe_code)]

use std::fmt;
use std::time::Instant;

use crate::inactivity::{Inactivity, InactivityTimeouts, inactivity};
use crate::language::Language;

/// What the lane asks the traveller's screen to show: one variant per lane
/// message (`kiosk_app::policy::MessageKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    /// Idle: welcome, choose a language, place the passport.
    Welcome,
    /// The chip is being read: keep the passport still.
    ReadingChip,
    /// Checking the document and the rules.
    PleaseWait,
    /// The passport left the reader too soon: put it back.
    PutDocumentBack,
    /// The document could not be read: try again, and how.
    RescanDocument,
    /// Face capture.
    LookAtCamera,
    /// Approved: proceed through the gate.
    ProceedToGate {
        /// The permitted stay to show, in days (`None`: not shown).
        permitted_stay_days: Option<u16>,
    },
    /// Referred to the officer. Neutral: never says why.
    SeeOfficer,
    /// Redirected to the staffed counter.
    GoToManualCounter,
    /// The lane is closed: use the manual counter.
    LaneClosed,
    /// The lane is out of service.
    OutOfService,
}

/// A page of the UI: what is actually on the glass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Page {
    /// Welcome and the language list ([`Screen::Welcome`], nothing chosen yet).
    Attract,
    /// Place the passport, with a picture of how ([`Screen::Welcome`] after a
    /// language was chosen).
    PlacePassport,
    /// [`Screen::ReadingChip`].
    ReadingChip,
    /// [`Screen::PleaseWait`].
    PleaseWait,
    /// [`Screen::PutDocumentBack`].
    PutDocumentBack,
    /// [`Screen::RescanDocument`]: try again.
    RescanDocument,
    /// [`Screen::LookAtCamera`].
    LookAtCamera,
    /// [`Screen::ProceedToGate`]: approved.
    ProceedToGate,
    /// [`Screen::SeeOfficer`].
    SeeOfficer,
    /// [`Screen::GoToManualCounter`].
    GoToManualCounter,
    /// [`Screen::LaneClosed`].
    LaneClosed,
    /// [`Screen::OutOfService`], and any failure of the UI itself.
    OutOfService,
    /// Officer login: the PIN pad.
    OfficerPin,
    /// The officer's menu after login.
    OfficerMenu,
}

impl Page {
    /// Every page, in the order of the contact sheet.
    pub const ALL: [Page; 14] = [
        Page::Attract,
        Page::PlacePassport,
        Page::ReadingChip,
        Page::PleaseWait,
        Page::PutDocumentBack,
        Page::RescanDocument,
        Page::LookAtCamera,
        Page::ProceedToGate,
        Page::SeeOfficer,
        Page::GoToManualCounter,
        Page::LaneClosed,
        Page::OutOfService,
        Page::OfficerPin,
        Page::OfficerMenu,
    ];

    /// The page's name in file names: `place-passport`.
    pub fn slug(self) -> &'static str {
        match self {
            Page::Attract => "attract",
            Page::PlacePassport => "place-passport",
            Page::ReadingChip => "reading-chip",
            Page::PleaseWait => "please-wait",
            Page::PutDocumentBack => "put-document-back",
            Page::RescanDocument => "rescan-document",
            Page::LookAtCamera => "look-at-camera",
            Page::ProceedToGate => "proceed-to-gate",
            Page::SeeOfficer => "see-officer",
            Page::GoToManualCounter => "go-to-manual-counter",
            Page::LaneClosed => "lane-closed",
            Page::OutOfService => "out-of-service",
            Page::OfficerPin => "officer-pin",
            Page::OfficerMenu => "officer-menu",
        }
    }

    /// Whether the page has a Cancel button.
    pub fn has_cancel(self) -> bool {
        matches!(
            self,
            Page::PlacePassport | Page::PutDocumentBack | Page::RescanDocument | Page::LookAtCamera
        )
    }

    /// Whether the page has the discreet officer login button.
    pub fn has_officer_login(self) -> bool {
        matches!(self, Page::Attract | Page::LaneClosed | Page::OutOfService)
    }

    /// Whether the page belongs to the officer, not the traveller.
    pub fn is_officer(self) -> bool {
        matches!(self, Page::OfficerPin | Page::OfficerMenu)
    }
}

/// Where the officer's PIN entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PinStatus {
    /// Typing.
    #[default]
    Entering,
    /// Sent to the lane, waiting for its answer.
    Checking,
    /// The lane said no: type again.
    Rejected,
}

/// What the officer asks of the lane from the kiosk's officer menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfficerCommand {
    /// Open the lane to travellers.
    OpenLane,
    /// Close the lane.
    CloseLane,
}

/// An officer's PIN as typed, for the lane to check. Its `Debug` never shows
/// the digits.
#[derive(Clone, PartialEq, Eq)]
pub struct OfficerPin(String);

impl OfficerPin {
    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OfficerPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OfficerPin(<{} digits>)", self.0.len())
    }
}

/// A touch on the screen, as the UI reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A language was chosen from the list.
    ChooseLanguage(Language),
    /// The Language button: open the list over the page.
    OpenLanguagePicker,
    /// Close the list without choosing.
    CloseLanguagePicker,
    /// The high-contrast switch.
    ToggleHighContrast,
    /// The traveller's Cancel button.
    Cancel,
    /// A touch anywhere else: counts as activity.
    Touch,
    /// "I am still here" on the inactivity warning.
    StillHere,
    /// The discreet officer login button.
    OfficerLogin,
    /// A PIN digit, 0 to 9.
    PinDigit(u8),
    /// Delete the last PIN digit.
    PinDelete,
    /// Send the PIN to the lane.
    PinSubmit,
    /// Leave the PIN pad.
    PinCancel,
    /// An officer menu command.
    Officer(OfficerCommand),
    /// Log the officer out.
    OfficerLogOut,
}

/// What the UI tells the lane. Nothing here waits for an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiEvent {
    /// The traveller pressed Cancel during a session: end it.
    CancelSession,
    /// The traveller chose a language.
    LanguageChanged(Language),
    /// The traveller walked away: the screen went back to the start.
    TravellerTimedOut,
    /// An officer typed a PIN: check it and answer with
    /// [`ViewModel::officer_login_result`].
    OfficerPinEntered(OfficerPin),
    /// A logged-in officer's command.
    OfficerCommand(OfficerCommand),
    /// The officer logged out (or was logged out for inactivity).
    OfficerLoggedOut,
    /// The UI failed: it shows Out of service. The text is for the log.
    Fault(String),
}

/// Everything the screen needs to draw one frame, in plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The page.
    pub page: Page,
    /// The language of every text.
    pub language: Language,
    /// High contrast on.
    pub high_contrast: bool,
    /// The language list is open over the page.
    pub language_picker_open: bool,
    /// Chip reading progress in percent, when known.
    pub chip_progress: Option<u8>,
    /// The permitted stay on the approved page.
    pub permitted_stay_days: Option<u16>,
    /// How many PIN digits are typed (the digits are never shown).
    pub pin_length: usize,
    /// The PIN pad's state.
    pub pin_status: PinStatus,
    /// Whether the lane is open, for the officer menu.
    pub lane_open: bool,
    /// The inactivity warning is shown, with these seconds left.
    pub inactivity_seconds_left: Option<u32>,
}

impl View {
    /// A representative view of `page` in `language`: what the screenshots
    /// and the benchmark show (30 days of stay, a chip read 60% through,
    /// three PIN digits).
    pub fn sample(page: Page, language: Language) -> View {
        View {
            page,
            language,
            high_contrast: false,
            language_picker_open: false,
            chip_progress: (page == Page::ReadingChip).then_some(60),
            permitted_stay_days: (page == Page::ProceedToGate).then_some(30),
            pin_length: if page == Page::OfficerPin { 3 } else { 0 },
            pin_status: PinStatus::Entering,
            lane_open: true,
            inactivity_seconds_left: None,
        }
    }
}

/// The longest PIN the pad takes.
pub const MAX_PIN_DIGITS: usize = 12;
/// The shortest PIN the pad sends.
pub const MIN_PIN_DIGITS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Officer {
    Pin { digits: String, status: PinStatus },
    Menu,
}

/// The traveller's screen as a state machine, fed by the lane
/// ([`show`](Self::show)), the touches ([`handle`](Self::handle)) and the
/// clock ([`tick`](Self::tick)); read with [`view`](Self::view).
///
/// # Contract
/// - The lane owns the session: only [`Screen::Welcome`] lets the UI move on
///   its own (to [`Page::PlacePassport`] after a language is chosen, back to
///   [`Page::Attract`] on Cancel or inactivity).
/// - A new session (the lane back at Welcome) resets the language to English
///   and high contrast to off.
/// - Touches meant for a control the page does not show are ignored.
#[derive(Debug, Clone)]
pub struct ViewModel {
    lane: Screen,
    started: bool,
    language: Language,
    language_chosen: bool,
    high_contrast: bool,
    picker_open: bool,
    chip_progress: Option<u8>,
    officer: Option<Officer>,
    lane_open: bool,
    last_activity: Instant,
    warning: Option<u32>,
    traveller_timeouts: InactivityTimeouts,
    officer_timeouts: InactivityTimeouts,
}

impl ViewModel {
    /// The attract screen in English, with the shipped inactivity timeouts.
    pub fn new(now: Instant) -> ViewModel {
        ViewModel {
            lane: Screen::Welcome,
            started: false,
            language: Language::English,
            language_chosen: false,
            high_contrast: false,
            picker_open: false,
            chip_progress: None,
            officer: None,
            lane_open: true,
            last_activity: now,
            warning: None,
            traveller_timeouts: InactivityTimeouts::TRAVELLER,
            officer_timeouts: InactivityTimeouts::OFFICER,
        }
    }

    /// Replaces the inactivity timeouts of travellers and officers.
    pub fn with_timeouts(
        mut self,
        traveller: InactivityTimeouts,
        officer: InactivityTimeouts,
    ) -> ViewModel {
        self.traveller_timeouts = traveller;
        self.officer_timeouts = officer;
        self
    }

    /// The lane asks for `screen`.
    pub fn show(&mut self, screen: Screen, now: Instant) {
        if screen == Screen::Welcome && self.lane != Screen::Welcome {
            self.reset_traveller();
        }
        if screen == Screen::ReadingChip && self.lane != Screen::ReadingChip {
            self.chip_progress = None;
        }
        self.lane = screen;
        self.touch(now);
    }

    /// The lane's chip-reading progress, in percent (capped at 100).
    pub fn set_chip_progress(&mut self, percent: u8) {
        self.chip_progress = Some(percent.min(100));
    }

    /// The lane read the nationality from the MRZ: pre-select its language,
    /// unless the traveller already chose one. Returns the language now shown.
    pub fn suggest_nationality(&mut self, icao_code: &str) -> Language {
        if !self.language_chosen
            && let Some(language) = crate::language::language_for_nationality(icao_code)
        {
            self.language = language;
        }
        self.language
    }

    /// Whether the lane is open, for the officer menu.
    pub fn set_lane_open(&mut self, open: bool) {
        self.lane_open = open;
    }

    /// The lane's answer to [`UiEvent::OfficerPinEntered`].
    pub fn officer_login_result(&mut self, accepted: bool, now: Instant) {
        if let Some(Officer::Pin {
            status: PinStatus::Checking,
            ..
        }) = self.officer
        {
            self.officer = Some(if accepted {
                Officer::Menu
            } else {
                Officer::Pin {
                    digits: String::new(),
                    status: PinStatus::Rejected,
                }
            });
            self.touch(now);
        }
    }

    /// A touch on the screen. Returns what the lane must be told.
    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<UiEvent> {
        self.touch(now);
        let page = self.page();
        let mut events = Vec::new();
        match input {
            Input::Touch | Input::StillHere => {}
            Input::ChooseLanguage(language) => {
                if page == Page::Attract || (self.picker_open && !page.is_officer()) {
                    self.language = language;
                    self.language_chosen = true;
                    self.picker_open = false;
                    if self.lane == Screen::Welcome {
                        self.started = true;
                    }
                    events.push(UiEvent::LanguageChanged(language));
                }
            }
            Input::OpenLanguagePicker => {
                if !page.is_officer() && page != Page::Attract {
                    self.picker_open = true;
                }
            }
            Input::CloseLanguagePicker => self.picker_open = false,
            Input::ToggleHighContrast => {
                if !page.is_officer() {
                    self.high_contrast = !self.high_contrast;
                }
            }
            Input::Cancel => {
                if page.has_cancel() {
                    if self.lane == Screen::Welcome {
                        self.reset_traveller();
                    } else {
                        events.push(UiEvent::CancelSession);
                    }
                }
            }
            Input::OfficerLogin => {
                if page.has_officer_login() {
                    self.picker_open = false;
                    self.officer = Some(Officer::Pin {
                        digits: String::new(),
                        status: PinStatus::Entering,
                    });
                }
            }
            Input::PinDigit(d) => {
                if let Some(Officer::Pin { digits, status }) = &mut self.officer
                    && *status != PinStatus::Checking
                    && d <= 9
                    && digits.len() < MAX_PIN_DIGITS
                {
                    digits.push(char::from(b'0' + d));
                    *status = PinStatus::Entering;
                }
            }
            Input::PinDelete => {
                if let Some(Officer::Pin { digits, status }) = &mut self.officer
                    && *status != PinStatus::Checking
                {
                    digits.pop();
                }
            }
            Input::PinSubmit => {
                if let Some(Officer::Pin { digits, status }) = &mut self.officer
                    && *status != PinStatus::Checking
                    && digits.len() >= MIN_PIN_DIGITS
                {
                    *status = PinStatus::Checking;
                    events.push(UiEvent::OfficerPinEntered(OfficerPin(std::mem::take(
                        digits,
                    ))));
                }
            }
            Input::PinCancel => {
                if matches!(self.officer, Some(Officer::Pin { .. })) {
                    self.officer = None;
                }
            }
            Input::Officer(command) => {
                if self.officer == Some(Officer::Menu) {
                    events.push(UiEvent::OfficerCommand(command));
                }
            }
            Input::OfficerLogOut => {
                if self.officer == Some(Officer::Menu) {
                    self.officer = None;
                    events.push(UiEvent::OfficerLoggedOut);
                }
            }
        }
        events
    }

    /// The clock: shows the inactivity warning, then starts over (or logs
    /// the officer out). Returns what the lane must be told.
    pub fn tick(&mut self, now: Instant) -> Vec<UiEvent> {
        let timeouts = if self.officer.is_some() {
            self.officer_timeouts
        } else if self.lane == Screen::Welcome && self.traveller_is_here() {
            self.traveller_timeouts
        } else {
            // The lane times its own screens out; nothing to start over.
            self.warning = None;
            return Vec::new();
        };
        let idle = now.saturating_duration_since(self.last_activity);
        match inactivity(idle, timeouts) {
            Inactivity::Active => {
                self.warning = None;
                Vec::new()
            }
            Inactivity::Warning { seconds_left } => {
                self.warning = Some(seconds_left);
                Vec::new()
            }
            Inactivity::Expired => {
                self.touch(now);
                if self.officer.take().is_some() {
                    vec![UiEvent::OfficerLoggedOut]
                } else {
                    self.reset_traveller();
                    vec![UiEvent::TravellerTimedOut]
                }
            }
        }
    }

    /// The page on the glass now.
    pub fn page(&self) -> Page {
        match (&self.officer, self.lane) {
            (Some(Officer::Pin { .. }), _) => Page::OfficerPin,
            (Some(Officer::Menu), _) => Page::OfficerMenu,
            (None, Screen::Welcome) if self.started => Page::PlacePassport,
            (None, Screen::Welcome) => Page::Attract,
            (None, Screen::ReadingChip) => Page::ReadingChip,
            (None, Screen::PleaseWait) => Page::PleaseWait,
            (None, Screen::PutDocumentBack) => Page::PutDocumentBack,
            (None, Screen::RescanDocument) => Page::RescanDocument,
            (None, Screen::LookAtCamera) => Page::LookAtCamera,
            (None, Screen::ProceedToGate { .. }) => Page::ProceedToGate,
            (None, Screen::SeeOfficer) => Page::SeeOfficer,
            (None, Screen::GoToManualCounter) => Page::GoToManualCounter,
            (None, Screen::LaneClosed) => Page::LaneClosed,
            (None, Screen::OutOfService) => Page::OutOfService,
        }
    }

    /// Everything the screen needs to draw.
    pub fn view(&self) -> View {
        let page = self.page();
        let (pin_length, pin_status) = match &self.officer {
            Some(Officer::Pin { digits, status }) => (digits.len(), *status),
            _ => (0, PinStatus::Entering),
        };
        View {
            page,
            language: self.language,
            high_contrast: self.high_contrast,
            language_picker_open: self.picker_open && !page.is_officer(),
            chip_progress: self.chip_progress.filter(|_| page == Page::ReadingChip),
            permitted_stay_days: match self.lane {
                Screen::ProceedToGate {
                    permitted_stay_days,
                } if page == Page::ProceedToGate => permitted_stay_days,
                _ => None,
            },
            pin_length,
            pin_status,
            lane_open: self.lane_open,
            inactivity_seconds_left: self.warning,
        }
    }

    fn touch(&mut self, now: Instant) {
        self.last_activity = now;
        self.warning = None;
    }

    fn traveller_is_here(&self) -> bool {
        self.started
            || self.language_chosen
            || self.high_contrast
            || self.picker_open
            || self.language != Language::English
    }

    fn reset_traveller(&mut self) {
        self.started = false;
        self.language = Language::English;
        self.language_chosen = false;
        self.high_contrast = false;
        self.picker_open = false;
        self.chip_progress = None;
        self.warning = None;
    }
}

#[cfg(test)]
mod tests;
