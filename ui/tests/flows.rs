#![allow(clippy::unwrap_used)]
//! The flows as a traveller and an officer walk them, through Slint's testing
//! backend with the software renderer: elements are found by their
//! accessible label and tapped where they are drawn.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use slint::ComponentHandle;
use slint::platform::PointerEventButton;
use ui::{Clock, KioskUi, Language, OfficerCommand, Page, Screen, UiEvent, View};

struct Kiosk {
    ui: KioskUi,
    events: Rc<RefCell<Vec<UiEvent>>>,
    t0: Instant,
}

impl Kiosk {
    /// A kiosk on this test thread's own testing backend.
    fn new() -> Kiosk {
        slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
            mock_time: true,
            threading: false,
            renderer_name: Some("software".into()),
        })))
        .unwrap();
        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = events.clone();
        let ui = KioskUi::new(move |e| sink.borrow_mut().push(e), Clock::Manual).unwrap();
        ui.window()
            .window()
            .set_size(slint::PhysicalSize::new(1920, 1080));
        ui.window().show().unwrap();
        let kiosk = Kiosk {
            ui,
            events,
            t0: Instant::now(),
        };
        kiosk.settle();
        kiosk
    }

    /// Lets Slint instantiate what the last change shows.
    fn settle(&self) {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(20));
    }

    fn find(&self, label: &str) -> Vec<ElementHandle> {
        ElementHandle::find_by_accessible_label(self.ui.window(), label)
            .filter(|e| e.is_valid())
            .collect()
    }

    fn shows(&self, label: &str) -> bool {
        !self.find(label).is_empty()
    }

    /// Taps the one control labelled `label`, at its centre.
    fn tap(&self, label: &str) {
        let found: Vec<_> = self
            .find(label)
            .into_iter()
            .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one button {label:?} on {:?}",
            self.ui.view().page
        );
        found[0].mock_single_click(PointerEventButton::Left);
        self.settle();
    }

    fn take_events(&self) -> Vec<UiEvent> {
        std::mem::take(&mut self.events.borrow_mut())
    }

    fn page(&self) -> Page {
        self.ui.view().page
    }
}

#[test]
fn choose_a_language_then_everything_speaks_it() {
    let k = Kiosk::new();
    assert_eq!(k.page(), Page::Attract);
    assert!(k.shows("Welcome"));
    k.tap("ไทย");
    assert_eq!(k.page(), Page::PlacePassport);
    assert_eq!(
        k.take_events(),
        vec![UiEvent::LanguageChanged(Language::Thai)]
    );
    // The page's title and buttons are in Thai, English is gone.
    assert!(k.shows("วางหนังสือเดินทางบนเครื่องสแกน"));
    assert!(k.shows("ยกเลิก"));
    assert!(!k.shows("Cancel"));

    // The traveller changes their mind through the Language button.
    k.tap("ภาษา");
    assert!(k.ui.view().language_picker_open);
    k.tap("Tiếng Việt");
    assert!(!k.ui.view().language_picker_open);
    assert!(k.shows("Đặt hộ chiếu lên máy quét"));
}

#[test]
fn cancel_returns_to_the_start_in_english() {
    let k = Kiosk::new();
    k.tap("ខ្មែរ");
    k.tap("ពណ៌ផ្ទុយខ្ពស់");
    assert!(k.ui.view().high_contrast);
    k.tap("បោះបង់");
    assert_eq!(k.page(), Page::Attract);
    assert!(k.shows("Welcome"));
    assert!(!k.ui.view().high_contrast);

    // During a session Cancel goes to the lane, which decides.
    k.ui.show(Screen::LookAtCamera);
    k.settle();
    k.take_events();
    k.tap("Cancel");
    assert_eq!(k.take_events(), vec![UiEvent::CancelSession]);
    k.ui.show(Screen::Welcome);
    k.settle();
    assert_eq!(k.page(), Page::Attract);
}

#[test]
fn officer_login_with_a_pin_then_the_menu() {
    let k = Kiosk::new();
    k.tap("Officer login");
    assert_eq!(k.page(), Page::OfficerPin);
    for digit in ["2", "4", "6", "8"] {
        k.tap(digit);
    }
    assert_eq!(k.ui.view().pin_length, 4);
    k.tap("Log in");
    let events = k.take_events();
    match events.as_slice() {
        [UiEvent::OfficerPinEntered(pin)] => assert_eq!(pin.as_str(), "2468"),
        other => panic!("{other:?}"),
    }
    // A wrong PIN says so and clears.
    k.ui.officer_login_result(false);
    k.settle();
    assert!(k.shows("Wrong PIN. Please try again."));
    for digit in ["1", "3", "5", "7", "9"] {
        k.tap(digit);
    }
    k.tap("Delete");
    k.tap("Log in");
    match k.take_events().as_slice() {
        [UiEvent::OfficerPinEntered(pin)] => assert_eq!(pin.as_str(), "1357"),
        other => panic!("{other:?}"),
    }
    k.ui.officer_login_result(true);
    k.settle();
    assert_eq!(k.page(), Page::OfficerMenu);
    assert!(k.shows("The lane is open."));
    k.tap("Close lane");
    assert_eq!(
        k.take_events(),
        vec![UiEvent::OfficerCommand(OfficerCommand::CloseLane)]
    );
    k.ui.set_lane_open(false);
    k.ui.show(Screen::LaneClosed);
    k.settle();
    assert!(k.shows("The lane is closed."));
    k.tap("Log out");
    assert_eq!(k.take_events(), vec![UiEvent::OfficerLoggedOut]);
    assert_eq!(k.page(), Page::LaneClosed);
    assert!(k.shows("This lane is closed"));
}

#[test]
fn the_inactivity_warning_appears_and_a_tap_keeps_the_traveller() {
    let k = Kiosk::new();
    k.tap("Bahasa Melayu");
    k.ui.tick(k.t0 + Duration::from_secs(25));
    k.settle();
    assert!(k.shows("Anda masih di sini?"));
    k.tap("Saya masih di sini");
    assert!(!k.shows("Anda masih di sini?"));
    assert_eq!(k.page(), Page::PlacePassport);

    // Ignored, it starts over.
    k.ui.tick(k.t0 + Duration::from_secs(120));
    k.settle();
    assert_eq!(k.page(), Page::Attract);
    assert!(k.shows("Welcome"));
    assert!(k.take_events().contains(&UiEvent::TravellerTimedOut));
}

#[test]
fn the_approved_page_shows_the_permitted_stay_in_the_right_plural() {
    let k = Kiosk::new();
    k.tap("Português");
    k.ui.show(Screen::ProceedToGate {
        permitted_stay_days: Some(30),
    });
    k.settle();
    assert!(k.shows("Avance pela porta"));
    assert!(k.shows("Pode permanecer até 30 dias."));
    k.ui.show(Screen::ProceedToGate {
        permitted_stay_days: Some(1),
    });
    k.settle();
    assert!(k.shows("Pode permanecer até 1 dia."));
    k.ui.show(Screen::ProceedToGate {
        permitted_stay_days: None,
    });
    k.settle();
    assert!(!k.shows("Pode permanecer até 1 dia."));
}

#[test]
fn the_nationality_preselects_the_language() {
    let k = Kiosk::new();
    k.ui.show(Screen::ReadingChip);
    k.ui.suggest_nationality("IDN");
    k.settle();
    assert!(k.shows("Membaca paspor Anda"));
}

/// Whether the element lies within the 1920x1080 window.
fn inside_window(e: &ElementHandle) -> bool {
    let p = e.absolute_position();
    let s = e.size();
    p.x >= -0.5 && p.y >= -0.5 && p.x + s.width <= 1920.5 && p.y + s.height <= 1080.5
}

#[test]
fn every_control_on_every_page_is_labelled_big_enough_and_on_screen() {
    let k = Kiosk::new();
    let mut problems = Vec::new();
    for language in Language::ALL {
        for page in Page::ALL {
            for picker in [false, true] {
                let view = View {
                    language_picker_open: picker,
                    ..View::sample(page, language)
                };
                k.ui.apply_view(&view).unwrap();
                k.settle();
                let buttons = i_slint_backend_testing::ElementQuery::from_root(k.ui.window())
                    .match_descendants()
                    .match_accessible_role(AccessibleRole::Button)
                    .find_all();
                assert!(!buttons.is_empty(), "{page:?} has no control");
                let texts = i_slint_backend_testing::ElementQuery::from_root(k.ui.window())
                    .match_descendants()
                    .match_accessible_role(AccessibleRole::Text)
                    .find_all();
                for t in texts {
                    if !inside_window(&t) {
                        let label = t.accessible_label().unwrap_or_default();
                        problems.push(format!(
                            "{language:?} {page:?}: text {label:?} is off the screen"
                        ));
                    }
                }
                for b in buttons {
                    let label = b.accessible_label().unwrap_or_default();
                    let size = b.size();
                    if label.trim().is_empty() {
                        problems.push(format!("{language:?} {page:?}: a button has no label"));
                    }
                    if !inside_window(&b) {
                        problems.push(format!(
                            "{language:?} {page:?}: {label:?} is off the screen"
                        ));
                    }
                    if size.width < 112.0 || size.height < 112.0 {
                        problems.push(format!(
                            "{language:?} {page:?}: {label:?} is {}x{}",
                            size.width, size.height
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn pages_render_to_pixels_with_the_software_renderer() {
    let k = Kiosk::new();
    k.ui.apply_view(&View::sample(Page::SeeOfficer, Language::Burmese))
        .unwrap();
    k.settle();
    let shot = k.ui.snapshot().unwrap();
    assert_eq!((shot.width(), shot.height()), (1920, 1080));
    // Text is drawn: some pixels are as dark as the title colour.
    let dark = shot
        .as_slice()
        .iter()
        .filter(|p| u32::from(p.r) + u32::from(p.g) + u32::from(p.b) < 150)
        .count();
    assert!(dark > 2000, "only {dark} dark pixels");
}
