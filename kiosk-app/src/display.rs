//! The traveller's screen joined to the lane: lane events become screens
//! through the `ui` crate's view model, and touches become lane inputs.
//!
//! The lane never waits on the screen: it publishes [`LaneEvent`]s and a
//! task forwards them with [`UiHandle`] calls that only queue. The lane runs
//! the same with no display at all (nobody subscribes).

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::broadcast;
use ui::{OfficerCommand, Screen, UiEvent, UiHandle};

use crate::lane::LaneEvent;
use crate::lane::runtime::{Input, InputSender};
use crate::policy::MessageKey;
use crate::session::Event;
use crate::store::AuditEntry;
use crate::supervision::Officers;
use crate::supervision::auth::{AuthLimits, Limiter};

/// The screen for a lane message (the permitted stay shown when approved).
#[must_use]
pub fn screen(message: MessageKey, permitted_stay_days: Option<u32>) -> Screen {
    match message {
        MessageKey::Welcome => Screen::Welcome,
        MessageKey::RescanDocument => Screen::RescanDocument,
        MessageKey::ReadingChip => Screen::ReadingChip,
        MessageKey::PutDocumentBack => Screen::PutDocumentBack,
        MessageKey::PleaseWait => Screen::PleaseWait,
        MessageKey::LookAtCamera => Screen::LookAtCamera,
        MessageKey::ProceedToGate => Screen::ProceedToGate {
            permitted_stay_days: permitted_stay_days.and_then(|d| u16::try_from(d).ok()),
        },
        MessageKey::SeeOfficer => Screen::SeeOfficer,
        MessageKey::GoToManualCounter => Screen::GoToManualCounter,
        MessageKey::LaneClosed => Screen::LaneClosed,
        MessageKey::OutOfService => Screen::OutOfService,
    }
}

/// Forwards lane events to the screen until the lane stops or the UI quits.
pub async fn drive(mut events: broadcast::Receiver<LaneEvent>, ui: UiHandle) {
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => {
                let _ = ui.quit();
                return;
            }
        };
        let sent = match event {
            LaneEvent::Screen {
                message,
                permitted_stay_days,
            } => ui.show(screen(message, permitted_stay_days)),
            LaneEvent::DocumentScanned { nationality, .. } => ui.suggest_nationality(&nationality),
            LaneEvent::State(name) => ui.set_lane_open(name != "closed"),
            _ => Ok(()),
        };
        if sent.is_err() {
            // The UI has gone: the lane carries on without a screen.
            return;
        }
    }
}

/// The kiosk's own officer mode: who is logged in on the PIN pad.
pub struct KioskOfficer {
    officers: Option<Arc<Officers>>,
    logged_in: Option<String>,
    lane: String,
    /// Wrong PINs on this pad: past the limit, the pad is locked out (PINs not even checked).
    limiter: Limiter,
}

/// The name the PIN pad's failures are counted under in its [`Limiter`].
const PAD: &str = "kiosk-pin-pad";

impl KioskOfficer {
    /// Officer mode against the provisioned officers (`None`: nobody can log in).
    #[must_use]
    pub fn new(officers: Option<Arc<Officers>>, lane: String) -> Self {
        Self {
            officers,
            logged_in: None,
            lane,
            limiter: Limiter::new(AuthLimits::default()),
        }
    }

    /// The same, with the PIN pad's own failure limits.
    #[must_use]
    pub fn with_limits(mut self, limits: AuthLimits) -> Self {
        self.limiter = Limiter::new(limits);
        self
    }

    /// What the lane must do for a touch on the screen; `Some(accepted)`
    /// for a PIN, which the screen must be told.
    ///
    /// Officer commands go to the lane as authenticated only from an officer
    /// logged in here, and are audited with their id. After
    /// [`AuthLimits::lockout_after`] wrong PINs in a row the pad refuses
    /// every PIN, the right one too, until the lockout (doubling with each
    /// further failure) has passed; `now` is the monotonic clock for it.
    pub fn on_ui_event(
        &mut self,
        event: &UiEvent,
        now_unix_ms: i64,
        now: Instant,
    ) -> (Vec<Input>, Option<bool>) {
        let audit = |officer: &str, action: &str| {
            Input::Audit(AuditEntry {
                officer_id: officer.to_owned(),
                time_unix_ms: now_unix_ms,
                lane: self.lane.clone(),
                action: action.to_owned(),
                record_id: None,
                reason: "kiosk officer mode".into(),
            })
        };
        match event {
            UiEvent::CancelSession => (vec![Input::Event(Event::TravellerCancelled)], None),
            UiEvent::OfficerPinEntered(_) if self.limiter.check("", PAD, now).is_err() => {
                self.logged_in = None;
                (
                    vec![audit("unknown", "kiosk_officer_login_locked_out")],
                    Some(false),
                )
            }
            UiEvent::OfficerPinEntered(pin) => {
                let found = self
                    .officers
                    .as_ref()
                    .and_then(|o| o.officer_with_pin(pin.as_str()))
                    .map(str::to_owned);
                let inputs = match &found {
                    Some(id) => {
                        self.limiter.succeeded("", PAD);
                        vec![audit(id, "kiosk_officer_login")]
                    }
                    None => {
                        self.limiter.failed("", false, PAD, now);
                        vec![audit("unknown", "kiosk_officer_login_refused")]
                    }
                };
                let accepted = found.is_some();
                self.logged_in = found;
                (inputs, Some(accepted))
            }
            UiEvent::OfficerCommand(command) => match &self.logged_in {
                Some(id) => {
                    let (event, action) = match command {
                        OfficerCommand::OpenLane => (
                            Event::OfficerOpen {
                                authenticated: true,
                            },
                            "kiosk_officer_open",
                        ),
                        OfficerCommand::CloseLane => (
                            Event::OfficerClose {
                                authenticated: true,
                            },
                            "kiosk_officer_close",
                        ),
                    };
                    (vec![audit(id, action), Input::Event(event)], None)
                }
                // Not logged in: the state machine audits and ignores it.
                None => (
                    vec![Input::Event(match command {
                        OfficerCommand::OpenLane => Event::OfficerOpen {
                            authenticated: false,
                        },
                        OfficerCommand::CloseLane => Event::OfficerClose {
                            authenticated: false,
                        },
                    })],
                    None,
                ),
            },
            UiEvent::OfficerLoggedOut => {
                let inputs = self
                    .logged_in
                    .take()
                    .map(|id| vec![audit(&id, "kiosk_officer_logout")])
                    .unwrap_or_default();
                (inputs, None)
            }
            UiEvent::Fault(message) => {
                tracing::error!(%message, "traveller screen fault");
                (Vec::new(), None)
            }
            UiEvent::LanguageChanged(_) | UiEvent::TravellerTimedOut => (Vec::new(), None),
        }
    }
}

/// Runs the screen's events into the lane on the current (blocking) thread
/// until either side stops.
pub fn serve_ui_events(
    events: std::sync::mpsc::Receiver<UiEvent>,
    mut officer: KioskOfficer,
    lane: InputSender,
    ui: UiHandle,
) {
    for event in events {
        let now = crate::lane::unix_ms(std::time::SystemTime::now());
        let (inputs, login) = officer.on_ui_event(&event, now, Instant::now());
        for input in inputs {
            if lane.blocking_send(input).is_err() {
                return;
            }
        }
        if let Some(accepted) = login
            && ui.officer_login_result(accepted).is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests;

/// Runs the traveller's screen on this thread (winit needs the main
/// thread) while the lane runs on `runtime`; returns when the lane stops
/// (the screen then closes) or the window is closed (the lane is then
/// asked to stop).
///
/// # Errors
/// [`ui::UiError`] when no window can be made (no display): the caller may
/// run the lane headless instead.
pub fn run_with_screen(
    runtime: &tokio::runtime::Handle,
    events: broadcast::Receiver<LaneEvent>,
    inputs: InputSender,
    officer: KioskOfficer,
) -> Result<(), ui::UiError> {
    let (touches, touched) = std::sync::mpsc::channel();
    let kiosk = ui::KioskUi::new(
        move |event| {
            // Never block the UI thread: the lane reads at its own pace.
            let _ = touches.send(event);
        },
        ui::Clock::System,
    )?;
    let handle = kiosk.handle();
    runtime.spawn(drive(events, handle.clone()));
    let lane = inputs.clone();
    std::thread::spawn(move || serve_ui_events(touched, officer, lane, handle));
    let result = kiosk.run();
    let _ = inputs.blocking_send(Input::Shutdown);
    result
}
