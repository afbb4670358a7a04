//! `ui-demo`: the traveller's screen in a real window (winit), driven by a
//! pretend lane on its own thread through a `UiHandle`, as the kiosk app
//! will. What the UI tells the lane is printed.
//!
//! Options:
//! - `--cycle`: the pretend lane walks through every lane screen, a few
//!   seconds each, over and over. Without it the lane stays idle and only
//!   the touches move the screen.
//!
//! The demo accepts the officer PIN 2468. Exit codes: 0 closed, 1 no
//! display or a UI failure, 2 bad arguments.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use ui::{Clock, KioskUi, OfficerCommand, Screen, UiEvent, UiHandle};

/// The demo's officer PIN. A real lane checks PINs against its config.
const DEMO_PIN: &str = "2468";

fn main() -> ExitCode {
    let mut cycle = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--cycle" => cycle = true,
            other => {
                eprintln!("ui-demo: unknown argument {other:?}\nusage: ui-demo [--cycle]");
                return ExitCode::from(2);
            }
        }
    }
    let (tx, rx) = mpsc::channel();
    let ui = match KioskUi::new(
        move |event| {
            // Never block the UI thread: the lane reads at its own pace.
            let _ = tx.send(event);
        },
        Clock::System,
    ) {
        Ok(ui) => ui,
        Err(e) => {
            eprintln!("ui-demo: {e} (is DISPLAY or WAYLAND_DISPLAY set?)");
            return ExitCode::from(1);
        }
    };
    let handle = ui.handle();
    std::thread::spawn(move || pretend_lane(&handle, &rx, cycle));
    match ui.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ui-demo: {e}");
            ExitCode::from(1)
        }
    }
}

/// A stand-in for the lane state machine: answers the UI, and with `cycle`
/// shows every screen in turn.
fn pretend_lane(ui: &UiHandle, events: &mpsc::Receiver<UiEvent>, cycle: bool) {
    let script: Vec<(Screen, u64)> = vec![
        (Screen::Welcome, 8),
        (Screen::ReadingChip, 4),
        (Screen::PleaseWait, 2),
        (Screen::LookAtCamera, 3),
        (
            Screen::ProceedToGate {
                permitted_stay_days: Some(30),
            },
            5,
        ),
        (Screen::Welcome, 4),
        (Screen::RescanDocument, 5),
        (Screen::PutDocumentBack, 4),
        (Screen::SeeOfficer, 5),
        (Screen::GoToManualCounter, 5),
        (Screen::LaneClosed, 5),
        (Screen::OutOfService, 5),
    ];
    let mut step = 0;
    let mut lane_open = true;
    loop {
        let wait = if cycle {
            let (screen, seconds) = script[step % script.len()];
            if ui.show(screen).is_err() {
                return;
            }
            if screen == Screen::ReadingChip {
                let _ = ui.suggest_nationality("THA");
            }
            step += 1;
            Duration::from_secs(seconds)
        } else {
            Duration::from_secs(3600)
        };
        let deadline = std::time::Instant::now() + wait;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            let Ok(event) = events.recv_timeout(left) else {
                break;
            };
            println!("ui-demo: the UI says {event:?}");
            let sent = match event {
                UiEvent::OfficerPinEntered(pin) => {
                    ui.officer_login_result(pin.as_str() == DEMO_PIN)
                }
                UiEvent::OfficerCommand(OfficerCommand::OpenLane) => {
                    lane_open = true;
                    ui.set_lane_open(true)
                        .and_then(|()| ui.show(Screen::Welcome))
                }
                UiEvent::OfficerCommand(OfficerCommand::CloseLane) => {
                    lane_open = false;
                    ui.set_lane_open(false)
                        .and_then(|()| ui.show(Screen::LaneClosed))
                }
                UiEvent::CancelSession => ui.show(if lane_open {
                    Screen::Welcome
                } else {
                    Screen::LaneClosed
                }),
                _ => Ok(()),
            };
            if sent.is_err() {
                return;
            }
        }
    }
}
