//! The console as an officer uses it, through Slint's testing backend with
//! the software renderer: controls are found by their accessible label and
//! clicked where they are drawn; what the console asks of the connections
//! is read from a channel.

use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, ElementQuery, TestingBackend, TestingBackendOptions,
};
use kiosk_app::supervision::protocol::{Command, LoginRefusal, WireEvent};
use officer_console::sample::{self, SampleFace};
use officer_console::{Chime, Clock, CommandResult, ConsoleUi, LaneUpdate, LoginState, UiRequest};
use slint::ComponentHandle;
use slint::platform::PointerEventButton;

const RECORD: &str = "4f1c2a9b7d3e4c5a8b6f0e1d2c3b4a59";

struct Console {
    ui: ConsoleUi,
    requests: Receiver<UiRequest>,
    t0: Instant,
}

impl Console {
    /// A console for lanes A07 and A08 on this test thread's testing backend.
    fn new() -> Console {
        slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
            mock_time: true,
            threading: false,
            renderer_name: Some("software".into()),
        })))
        .unwrap();
        let (tx, requests) = channel();
        let lanes = vec!["A07".to_owned(), "A08".to_owned()];
        let ui = ConsoleUi::new(
            "OFC-0042",
            &lanes,
            move |r| tx.send(r).unwrap(),
            Clock::Manual,
        )
        .unwrap();
        ui.window()
            .window()
            .set_size(slint::PhysicalSize::new(1920, 1080));
        ui.window().show().unwrap();
        let t0 = Instant::now();
        ui.tick(t0);
        let console = Console { ui, requests, t0 };
        console.settle();
        console
    }

    /// Logged in to both lanes, each in service.
    fn logged_in() -> Console {
        let c = Console::new();
        c.type_pin("482916");
        c.tap("Log in");
        let generation = match c.request() {
            UiRequest::LogIn { generation, .. } => generation,
            other => panic!("{other:?}"),
        };
        assert_eq!(generation, c.ui.generation());
        for (lane, name) in [(0, "A07"), (1, "A08")] {
            c.apply(lane, LaneUpdate::LoggedIn);
            c.apply(
                lane,
                sample::snapshot(name, "await_document", None, Vec::new()),
            );
        }
        c
    }

    /// Lets Slint instantiate what the last change shows.
    fn settle(&self) {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(20));
    }

    fn apply(&self, lane: usize, update: LaneUpdate) {
        self.ui.apply(self.ui.generation(), lane, update);
        self.settle();
    }

    fn find(&self, label: &str) -> Vec<ElementHandle> {
        ElementHandle::find_by_accessible_label(self.ui.window(), label)
            .filter(|e| e.is_valid())
            .collect()
    }

    fn shows(&self, label: &str) -> bool {
        !self.find(label).is_empty()
    }

    fn button(&self, label: &str) -> ElementHandle {
        let found: Vec<_> = self
            .find(label)
            .into_iter()
            .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .collect();
        assert_eq!(found.len(), 1, "one button {label:?}");
        found.into_iter().next().unwrap()
    }

    /// Clicks the one button labelled `label`, at its centre.
    fn tap(&self, label: &str) {
        self.button(label)
            .mock_single_click(PointerEventButton::Left);
        self.settle();
    }

    fn type_pin(&self, pin: &str) {
        for digit in pin.chars() {
            self.tap(&digit.to_string());
        }
    }

    /// The next request the console made.
    fn request(&self) -> UiRequest {
        self.requests
            .try_recv()
            .expect("a request from the console")
    }

    fn drain(&self) -> Vec<UiRequest> {
        self.requests.try_iter().collect()
    }

    /// The tile of lane `name`: its description (look and detail).
    fn tile(&self, name: &str) -> String {
        self.button(&format!("Lane {name}"))
            .accessible_description()
            .unwrap()
            .to_string()
    }
}

#[test]
fn the_pin_is_typed_once_and_the_lanes_appear_when_a_kiosk_takes_it() {
    let c = Console::new();
    assert!(c.shows("Enter your PIN"));
    c.type_pin("48291");
    c.tap("Delete");
    c.type_pin("96");
    assert_eq!(
        c.find("PIN digits typed: 6")[0].accessible_role(),
        Some(AccessibleRole::Text),
        "dots, never the digits"
    );
    c.tap("Log in");
    match c.request() {
        UiRequest::LogIn { pin, .. } => assert_eq!(pin.expose(), "482996"),
        other => panic!("{other:?}"),
    }
    assert!(c.shows("Connecting to the lanes"));
    assert_eq!(
        c.button("Log in").accessible_enabled(),
        Some(false),
        "once is enough"
    );
    // The first kiosk takes the PIN: the console opens, every lane unknown
    // until its snapshot.
    c.apply(0, LaneUpdate::LoggedIn);
    assert_eq!(c.ui.model().login(), LoginState::LoggedIn);
    assert!(c.tile("A07").starts_with("UNKNOWN"), "{}", c.tile("A07"));
    assert!(c.tile("A08").starts_with("UNKNOWN"));
    c.apply(
        0,
        sample::snapshot("A07", "await_document", None, Vec::new()),
    );
    assert_eq!(c.tile("A07"), "IN SERVICE: Waiting for a traveller");
    assert!(c.shows("No alerts."));
}

#[test]
fn a_wrong_pin_goes_back_to_the_pin_and_stops_the_connections() {
    let c = Console::new();
    c.type_pin("1111");
    c.tap("Log in");
    assert!(matches!(c.request(), UiRequest::LogIn { .. }));
    c.apply(
        1,
        LaneUpdate::LoginRefused {
            code: LoginRefusal::BadCredentials,
            retry_after: None,
        },
    );
    assert!(matches!(c.request(), UiRequest::LogOut));
    assert!(c.shows("Wrong PIN. Please try again."));
    // A late update of the stopped connections changes nothing.
    c.apply(0, LaneUpdate::LoggedIn);
    assert!(c.shows("Wrong PIN. Please try again."));
    // Typing again starts over.
    c.type_pin("4829");
    assert!(c.shows("Enter your PIN"));
    assert!(c.shows("PIN digits typed: 4"));
}

#[test]
fn a_lane_that_cannot_be_reached_shows_unknown_never_in_service() {
    let c = Console::logged_in();
    assert_eq!(c.tile("A08"), "IN SERVICE: Waiting for a traveller");
    c.apply(1, LaneUpdate::Lost);
    assert_eq!(c.tile("A08"), "UNKNOWN: Unreachable, retrying");
    assert!(c.shows("A08: Lane unreachable"));
    assert!(matches!(c.request(), UiRequest::Chime(Chime::Urgent)));
    c.ui.tick(c.t0 + Duration::from_secs(185));
    c.settle();
    assert_eq!(c.tile("A08"), "UNKNOWN: Unreachable for 3 min, retrying");
    // Back: unknown until the snapshot says what it is.
    c.apply(1, LaneUpdate::LoggedIn);
    assert!(c.tile("A08").starts_with("UNKNOWN"));
    c.apply(1, sample::snapshot("A08", "closed", None, Vec::new()));
    assert_eq!(c.tile("A08"), "CLOSED: Closed");
    assert!(!c.shows("A08: Lane unreachable"));
    // The other lane never changed.
    assert_eq!(c.tile("A07"), "IN SERVICE: Waiting for a traveller");
}

#[test]
fn selecting_a_referral_alert_opens_it_and_accept_sends_the_command() {
    let c = Console::logged_in();
    let referral = sample::referral(RECORD, true, SampleFace::Jpeg);
    c.apply(0, sample::state("A07", "await_officer"));
    c.apply(0, sample::referral_message("A07", referral.clone()));
    c.apply(
        0,
        LaneUpdate::Face {
            record_id: RECORD.into(),
            picture: officer_console::face::picture_for(&referral).unwrap(),
        },
    );
    // A high-priority referral chimes and leads the queue.
    assert!(matches!(c.request(), UiRequest::Chime(Chime::Urgent)));
    assert_eq!(
        c.tile("A07"),
        "REFERRAL, HIGH PRIORITY: Traveller waiting for you"
    );
    let item = &c.find("A07: Referral, high priority")[0];
    assert_eq!(item.accessible_description().unwrap(), "high priority");
    assert!(!c.shows("Surname"), "not open yet");

    c.tap("Open referral, lane A07");
    assert!(c.shows("Referral, lane A07"));
    let field = |label: &str| c.find(label)[0].accessible_value().unwrap().to_string();
    assert_eq!(field("Surname"), "SANTOS");
    assert_eq!(field("Given names"), "MARIA CLARA");
    assert_eq!(field("Document number"), "P1234567A");
    assert_eq!(field("Date of birth"), "1990-04-12");
    assert!(c.shows("Chip not genuine"), "the reason");
    assert!(c.shows("Failed check: DG2 (face image) hash"));
    // The face image beside the document data, drawn at a real size.
    let face = &c.find("Face image from the chip")[0];
    assert_eq!(face.accessible_role(), Some(AccessibleRole::Image));
    assert!(face.size().width > 200.0 && face.size().height > 200.0);
    assert!(
        face.absolute_position().x < c.find("Surname")[0].absolute_position().x,
        "the face is left of the document's data"
    );

    c.tap("Accept");
    match c.request() {
        UiRequest::Command { lane, command } => {
            assert_eq!(lane, 0);
            assert_eq!(
                command,
                Command::Accept {
                    record_id: RECORD.into()
                }
            );
        }
        other => panic!("{other:?}"),
    }
    // Until the kiosk answers, neither button sends again.
    assert_eq!(c.button("Accept").accessible_enabled(), Some(false));
    assert_eq!(c.button("Refuse").accessible_enabled(), Some(false));
    c.tap("Accept");
    assert!(c.drain().is_empty());
    c.apply(
        0,
        LaneUpdate::CommandDone {
            command: "accept",
            result: CommandResult::Done,
        },
    );
    // The lane lets the traveller through: the referral closes.
    c.apply(0, sample::state("A07", "await_passage"));
    assert!(!c.shows("Referral, lane A07"));
    assert_eq!(c.tile("A07"), "IN SERVICE: Traveller passing the gate");
    assert!(c.shows("No alerts."));
}

#[test]
fn refuse_from_the_lane_tile_and_back_to_lanes() {
    let c = Console::logged_in();
    c.apply(1, sample::state("A08", "await_officer"));
    c.apply(
        1,
        sample::referral_message("A08", sample::referral(RECORD, false, SampleFace::Jpeg2000)),
    );
    assert!(matches!(c.request(), UiRequest::Chime(Chime::Notice)));
    c.tap("Lane A08");
    assert!(c.shows("Referral, lane A08"));
    c.tap("Back to lanes");
    assert!(!c.shows("Referral, lane A08"));
    c.tap("Lane A08");
    c.tap("Refuse");
    assert!(matches!(
        c.request(),
        UiRequest::Command {
            lane: 1,
            command: Command::Refuse { .. }
        }
    ));
}

#[test]
fn momentary_alerts_are_dismissed_and_make_no_sound() {
    let c = Console::logged_in();
    c.apply(
        0,
        sample::event(
            "A07",
            WireEvent::Alert {
                alert: sample::alert("gate_tailgating", Some("gate"), true),
            },
        ),
    );
    assert!(c.drain().is_empty(), "no chime for a momentary alert");
    assert!(c.shows("A07: Tailgating at the gate"));
    c.tap("Dismiss alert, lane A07");
    assert!(!c.shows("A07: Tailgating at the gate"));
}

#[test]
fn log_out_forgets_the_session() {
    let c = Console::logged_in();
    c.tap("Log out");
    assert!(matches!(c.request(), UiRequest::LogOut));
    assert!(c.shows("Enter your PIN"));
    assert!(c.shows("PIN digits typed: 0"));
    assert_eq!(c.ui.model().login(), LoginState::Entering);
    // News from the old connections is dropped.
    c.ui.apply(c.ui.generation() - 1, 0, LaneUpdate::LoggedIn);
    assert_eq!(c.ui.model().login(), LoginState::Entering);
}

#[test]
fn every_control_has_a_label_and_is_big_enough() {
    let c = Console::logged_in();
    c.apply(0, sample::state("A07", "await_officer"));
    c.apply(
        0,
        sample::referral_message("A07", sample::referral(RECORD, true, SampleFace::Jpeg)),
    );
    c.apply(
        1,
        sample::event(
            "A08",
            WireEvent::Alert {
                alert: sample::alert("gate_tailgating", Some("gate"), true),
            },
        ),
    );
    c.tap("Open referral, lane A07");
    let buttons = ElementQuery::from_root(c.ui.window())
        .match_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all();
    assert!(buttons.len() >= 8, "{} buttons", buttons.len());
    for b in buttons.iter().filter(|b| b.is_valid()) {
        let label = b.accessible_label().unwrap_or_default();
        assert!(!label.is_empty(), "a button without a label");
        let size = b.size();
        assert!(
            size.height >= 44.0 && size.width >= 44.0,
            "{label:?} is {size:?}"
        );
        let p = b.absolute_position();
        assert!(
            p.x >= 0.0 && p.y >= 0.0 && p.x + size.width <= 1920.0 && p.y + size.height <= 1080.0,
            "{label:?} is off the screen at {p:?}"
        );
    }
}
