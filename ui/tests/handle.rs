#![allow(clippy::unwrap_used)]
//! The lane drives the UI from its own thread through a `UiHandle`, which
//! queues and returns at once. One test: the testing backend's event loop
//! can run once per process.

use std::sync::mpsc;
use std::time::Duration;

use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use ui::{Clock, KioskUi, Page, Screen};

#[test]
fn a_lane_thread_drives_the_screen_without_waiting_for_it() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: true,
        renderer_name: Some("software".into()),
    })))
    .unwrap();
    let ui = KioskUi::new(|_| {}, Clock::Manual).unwrap();
    let handle = ui.handle();
    let (done_tx, done_rx) = mpsc::channel();
    let lane = std::thread::spawn(move || {
        // None of these wait for the UI thread: it is not even running yet.
        handle.show(Screen::ReadingChip).unwrap();
        handle.suggest_nationality("LAO").unwrap();
        handle.set_chip_progress(40).unwrap();
        handle.show(Screen::LaneClosed).unwrap();
        handle.set_lane_open(false).unwrap();
        done_tx.send(()).unwrap();
        handle.quit().unwrap();
    });
    // The lane finished all its calls before the UI ran a single event.
    done_rx.recv_timeout(Duration::from_secs(60)).unwrap();
    assert_eq!(ui.view().page, Page::Attract);
    slint::run_event_loop().unwrap();
    lane.join().unwrap();
    let view = ui.view();
    assert_eq!(view.page, Page::LaneClosed);
    assert_eq!(view.language, ui::Language::Lao);
    assert!(!view.lane_open);
}
