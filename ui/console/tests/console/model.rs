//! The console model without Slint or a network: the alert queue's order,
//! the colour rule (a lane the console cannot vouch for is never "in
//! service"), chimes, referrals and commands, the login, and the capped
//! reconnect backoff. Time is passed in; nothing waits.

use std::time::{Duration, Instant};

use kiosk_app::supervision::protocol::{Command, LoginRefusal, Refusal, WireEvent};
use officer_console::face::{self, FacePicture};
use officer_console::sample::{self, SampleFace};
use officer_console::{
    AlertKind, Backoff, Chime, CommandResult, CommandStatus, Connection, ConsoleModel, Effect,
    IN_SERVICE_STATES, LaneUpdate, LoginState, Look, Urgency, look,
};

const R1: &str = "11111111111111111111111111111111";
const R2: &str = "22222222222222222222222222222222";

fn names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("A{i:02}")).collect()
}

/// A console logged in to `n` lanes, each connected and in service.
fn console(n: usize, t0: Instant) -> ConsoleModel {
    let mut m = ConsoleModel::new("OFC-0042", &names(n));
    m.begin_login();
    for lane in 0..n {
        m.apply(lane, LaneUpdate::LoggedIn, t0);
        m.apply(
            lane,
            sample::snapshot("x", "await_document", None, Vec::new()),
            t0,
        );
    }
    assert_eq!(m.login(), LoginState::LoggedIn);
    m
}

fn chimes(effects: &[Effect]) -> Vec<Chime> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Chime(c) => Some(*c),
            Effect::StopConnections => None,
        })
        .collect()
}

// ---------------------------------------------------------------- the colour rule

#[test]
fn a_lane_is_never_in_service_unless_connected_with_a_known_state() {
    let t = Instant::now();
    let not_connected = [
        Connection::Idle,
        Connection::Connecting,
        Connection::Unreachable { since: t },
        Connection::Refused(LoginRefusal::BadCredentials),
        Connection::Refused(LoginRefusal::LockedOut),
    ];
    let states = IN_SERVICE_STATES
        .iter()
        .copied()
        .chain([
            "await_officer",
            "closed",
            "out_of_service",
            "a_new_state",
            "",
        ])
        .map(Some)
        .chain([None]);
    for state in states {
        for c in not_connected {
            assert_eq!(look(c, state, false), Look::Unknown, "{c:?} {state:?}");
        }
    }
    // Connected, but no snapshot yet, or a state this version does not know.
    assert_eq!(look(Connection::Connected, None, false), Look::Unknown);
    assert_eq!(
        look(Connection::Connected, Some("a_new_state"), false),
        Look::Unknown
    );
    for s in IN_SERVICE_STATES {
        assert_eq!(look(Connection::Connected, Some(s), false), Look::InService);
    }
    assert_eq!(
        look(Connection::Connected, Some("await_officer"), true),
        Look::Referral { high: true }
    );
    assert_eq!(
        look(Connection::Connected, Some("closed"), false),
        Look::Closed
    );
    assert_eq!(
        look(Connection::Connected, Some("out_of_service"), false),
        Look::OutOfService
    );
}

#[test]
fn a_lane_goes_unknown_when_lost_and_stays_so_until_its_next_snapshot() {
    let t0 = Instant::now();
    let mut m = console(2, t0);
    assert_eq!(m.lanes()[0].look(), Look::InService);
    let t1 = t0 + Duration::from_secs(5);
    m.apply(0, LaneUpdate::Lost, t1);
    assert_eq!(m.lanes()[0].look(), Look::Unknown);
    assert_eq!(m.lanes()[0].state(), None, "nothing known of it is kept");
    assert_eq!(
        m.lanes()[0].connection(),
        Connection::Unreachable { since: t1 }
    );
    // Retrying does not reset "since"; a late event of the old connection changes nothing.
    m.apply(0, LaneUpdate::Connecting, t1 + Duration::from_secs(30));
    m.apply(
        0,
        sample::state("A01", "await_document"),
        t1 + Duration::from_secs(31),
    );
    m.apply(0, LaneUpdate::Lost, t1 + Duration::from_secs(60));
    assert_eq!(
        m.lanes()[0].connection(),
        Connection::Unreachable { since: t1 }
    );
    assert_eq!(m.lanes()[0].look(), Look::Unknown);
    // Reconnected and logged in, but no snapshot yet: still unknown.
    m.apply(0, LaneUpdate::LoggedIn, t1 + Duration::from_secs(90));
    assert_eq!(m.lanes()[0].look(), Look::Unknown);
    m.apply(
        0,
        sample::snapshot("A01", "closed", None, Vec::new()),
        t1 + Duration::from_secs(90),
    );
    assert_eq!(m.lanes()[0].look(), Look::Closed);
    assert!(
        m.alerts().iter().all(|a| a.kind != AlertKind::Unreachable),
        "the unreachable alert ends with the reconnection"
    );
    // The other lane was never touched.
    assert_eq!(m.lanes()[1].look(), Look::InService);
}

// ---------------------------------------------------------------- the alert queue

#[test]
fn alerts_are_ordered_by_urgency_then_age() {
    let t0 = Instant::now();
    let mut m = console(4, t0);
    let at = |s: u64| t0 + Duration::from_secs(s);
    let alert = |kind: &str, device: Option<&str>| {
        sample::event(
            "x",
            WireEvent::Alert {
                alert: sample::alert(kind, device, true),
            },
        )
    };
    // Oldest first within each urgency; raised in a scrambled order.
    m.apply(0, alert("gate_tailgating", Some("gate")), at(1)); // other
    m.apply(1, sample::state("A02", "await_officer"), at(2));
    m.apply(
        1,
        sample::referral_message("A02", sample::referral(R1, false, SampleFace::None)),
        at(2),
    ); // referral normal
    m.apply(2, alert("gate_fault", Some("gate")), at(3)); // fault
    m.apply(3, LaneUpdate::Lost, at(4)); // fault (unreachable)
    m.apply(0, sample::state("A01", "await_officer"), at(5));
    m.apply(
        0,
        sample::referral_message("A01", sample::referral(R2, true, SampleFace::None)),
        at(5),
    ); // referral high
    m.apply(2, alert("disk_low", Some("store")), at(6)); // other (a condition)

    let order: Vec<(Urgency, usize)> = m.alerts().iter().map(|a| (a.urgency(), a.lane)).collect();
    assert_eq!(
        order,
        vec![
            (Urgency::ReferralHigh, 0),
            (Urgency::Fault, 2),
            (Urgency::Fault, 3),
            (Urgency::ReferralNormal, 1),
            (Urgency::Other, 0),
            (Urgency::Other, 2),
        ]
    );
    assert!(Urgency::ReferralHigh > Urgency::Fault);
    assert!(Urgency::Fault > Urgency::ReferralNormal);
    assert!(Urgency::ReferralNormal > Urgency::Other);
}

#[test]
fn new_urgent_alerts_chime_and_the_same_one_after_a_reconnection_does_not() {
    let t0 = Instant::now();
    let mut m = console(2, t0);
    let high = sample::referral(R1, true, SampleFace::None);
    m.apply(0, sample::state("A01", "await_officer"), t0);
    let e = m.apply(0, sample::referral_message("A01", high.clone()), t0);
    assert_eq!(chimes(&e), [Chime::Urgent]);
    // The same referral again (the stream repeats it): no second chime.
    let e = m.apply(0, sample::referral_message("A01", high.clone()), t0);
    assert!(chimes(&e).is_empty());

    // A normal referral: a notice.
    m.apply(1, sample::state("A02", "await_officer"), t0);
    let e = m.apply(
        1,
        sample::referral_message("A02", sample::referral(R2, false, SampleFace::None)),
        t0,
    );
    assert_eq!(chimes(&e), [Chime::Notice]);

    // A momentary gate report: no sound.
    let e = m.apply(
        1,
        sample::event(
            "A02",
            WireEvent::Alert {
                alert: sample::alert("gate_tailgating", Some("gate"), true),
            },
        ),
        t0,
    );
    assert!(chimes(&e).is_empty());

    // The lane is lost (urgent), comes back with the same referral: silent.
    let e = m.apply(0, LaneUpdate::Lost, t0);
    assert_eq!(chimes(&e), [Chime::Urgent]);
    assert!(
        m.alerts()
            .iter()
            .all(|a| !(a.lane == 0 && matches!(a.kind, AlertKind::Referral { .. }))),
        "an unreachable lane's referral cannot be acted on: it leaves the queue"
    );
    m.apply(0, LaneUpdate::LoggedIn, t0);
    let e = m.apply(
        0,
        sample::snapshot("A01", "await_officer", Some(high), Vec::new()),
        t0,
    );
    assert!(chimes(&e).is_empty(), "{e:?}");
    assert!(m.alerts().iter().any(|a| a.lane == 0
        && a.kind
            == AlertKind::Referral {
                record_id: R1.into(),
                high: true
            }));

    // A fault chimes once while in force; again only after it ended.
    let fault = |active| {
        sample::event(
            "A02",
            WireEvent::Alert {
                alert: sample::alert("device_fault", Some("scanner"), active),
            },
        )
    };
    assert_eq!(chimes(&m.apply(1, fault(true), t0)), [Chime::Urgent]);
    assert!(chimes(&m.apply(1, fault(true), t0)).is_empty());
    assert_eq!(
        m.alerts()
            .iter()
            .filter(|a| matches!(&a.kind, AlertKind::Kiosk(v) if v.kind == "device_fault"))
            .count(),
        1
    );
    assert!(chimes(&m.apply(1, fault(false), t0)).is_empty());
    assert!(
        m.alerts()
            .iter()
            .all(|a| !matches!(&a.kind, AlertKind::Kiosk(v) if v.kind == "device_fault"))
    );
    assert_eq!(chimes(&m.apply(1, fault(true), t0)), [Chime::Urgent]);
}

#[test]
fn only_momentary_alerts_are_dismissed_and_a_snapshot_does_not_bring_them_back() {
    let t0 = Instant::now();
    let mut m = console(1, t0);
    let tailgating = sample::alert("gate_tailgating", Some("gate"), true);
    let fault = sample::alert("gate_fault", Some("gate"), true);
    for a in [&tailgating, &fault] {
        m.apply(
            0,
            sample::event("A01", WireEvent::Alert { alert: a.clone() }),
            t0,
        );
    }
    let id = |m: &ConsoleModel, kind: &str| {
        m.alerts()
            .iter()
            .find(|a| matches!(&a.kind, AlertKind::Kiosk(v) if v.kind == kind))
            .map(|a| a.id)
            .unwrap()
    };
    assert!(
        !m.dismiss(id(&m, "gate_fault")),
        "a condition ends by itself"
    );
    assert!(m.dismiss(id(&m, "gate_tailgating")));
    assert_eq!(m.alerts().len(), 1);
    // The kiosk's snapshot still lists both (the latest momentary alerts).
    m.apply(
        0,
        sample::snapshot("A01", "await_document", None, vec![tailgating, fault]),
        t0,
    );
    assert_eq!(m.alerts().len(), 1);
    assert!(matches!(&m.alerts()[0].kind, AlertKind::Kiosk(v) if v.kind == "gate_fault"));
}

// ---------------------------------------------------------------- referrals and commands

#[test]
fn a_referral_opens_is_accepted_once_and_closes_when_the_lane_moves_on() {
    let t0 = Instant::now();
    let mut m = console(2, t0);
    assert_eq!(m.accept(), None, "nothing open");
    m.apply(1, sample::state("A02", "await_officer"), t0);
    let referral = sample::referral(R1, true, SampleFace::Jpeg);
    m.apply(1, sample::referral_message("A02", referral.clone()), t0);
    assert_eq!(m.lanes()[1].look(), Look::Referral { high: true });
    // The face follows, decoded.
    m.apply(
        1,
        LaneUpdate::Face {
            record_id: R1.into(),
            picture: face::picture_for(&referral).unwrap(),
        },
        t0,
    );
    assert!(matches!(m.lanes()[1].face(), Some(FacePicture::Image(_))));
    // A face for another record is not taken.
    m.apply(
        1,
        LaneUpdate::Face {
            record_id: R2.into(),
            picture: FacePicture::Omitted,
        },
        t0,
    );
    assert!(matches!(m.lanes()[1].face(), Some(FacePicture::Image(_))));

    let alert = m.alerts()[0].id;
    assert!(m.open_alert(alert));
    assert_eq!(m.open_referral(), Some(1));
    assert_eq!(
        m.accept(),
        Some((
            1,
            Command::Accept {
                record_id: R1.into()
            }
        ))
    );
    assert_eq!(
        m.lanes()[1].command(),
        Some(CommandStatus::Sending("accept"))
    );
    assert_eq!(m.accept(), None, "one command at a time");
    assert_eq!(m.refuse(), None);
    m.apply(
        1,
        LaneUpdate::CommandDone {
            command: "accept",
            result: CommandResult::Done,
        },
        t0,
    );
    assert_eq!(m.lanes()[1].command(), Some(CommandStatus::Done("accept")));
    // The lane lets the traveller through: the referral is over.
    m.apply(1, sample::state("A02", "await_passage"), t0);
    assert_eq!(m.open_referral(), None);
    assert!(m.lanes()[1].referral().is_none());
    assert!(m.alerts().is_empty());
    assert_eq!(m.lanes()[1].look(), Look::InService);
}

#[test]
fn refusals_and_lost_connections_are_told_on_the_lane() {
    let t0 = Instant::now();
    let mut m = console(1, t0);
    m.apply(0, sample::state("A01", "await_officer"), t0);
    m.apply(
        0,
        sample::referral_message("A01", sample::referral(R1, false, SampleFace::None)),
        t0,
    );
    assert!(m.open_lane(0));
    assert!(matches!(m.refuse(), Some((0, Command::Refuse { .. }))));
    m.apply(
        0,
        LaneUpdate::CommandDone {
            command: "refuse",
            result: CommandResult::Refused(Refusal::NotPending),
        },
        t0,
    );
    assert_eq!(
        m.lanes()[0].command(),
        Some(CommandStatus::Refused(Refusal::NotPending))
    );
    // Sent, then the connection is lost before the answer.
    assert!(m.accept().is_some());
    m.apply(0, LaneUpdate::Lost, t0);
    assert_eq!(m.lanes()[0].command(), Some(CommandStatus::NoAnswer));
    assert_eq!(
        m.open_referral(),
        None,
        "an unreachable lane's referral closes"
    );
    assert_eq!(m.accept(), None);
}

// ---------------------------------------------------------------- login

#[test]
fn a_refused_pin_stops_everything_and_late_news_is_ignored() {
    let t0 = Instant::now();
    let mut m = ConsoleModel::new("OFC-0042", &names(3));
    m.begin_login();
    assert_eq!(m.login(), LoginState::Checking);
    m.apply(0, LaneUpdate::Connecting, t0);
    let e = m.apply(
        1,
        LaneUpdate::LoginRefused {
            code: LoginRefusal::BadCredentials,
            retry_after: None,
        },
        t0,
    );
    assert_eq!(e, [Effect::StopConnections]);
    assert_eq!(
        m.login(),
        LoginState::Rejected {
            locked_out: false,
            retry_after: None
        }
    );
    // The other lanes' connections were still under way: their news is dropped.
    m.apply(0, LaneUpdate::LoggedIn, t0);
    m.apply(2, LaneUpdate::Lost, t0);
    assert!(m.lanes().iter().all(|l| l.connection() == Connection::Idle));
    assert!(m.alerts().is_empty());

    // Locked out.
    m.begin_login();
    m.apply(
        0,
        LaneUpdate::LoginRefused {
            code: LoginRefusal::LockedOut,
            retry_after: Some(Duration::from_secs(120)),
        },
        t0,
    );
    assert_eq!(
        m.login(),
        LoginState::Rejected {
            locked_out: true,
            retry_after: Some(Duration::from_secs(120))
        }
    );
}

#[test]
fn with_no_lane_reachable_the_console_opens_with_every_lane_unknown() {
    let t0 = Instant::now();
    let mut m = ConsoleModel::new("OFC-0042", &names(2));
    m.begin_login();
    m.apply(0, LaneUpdate::Lost, t0);
    assert_eq!(m.login(), LoginState::Checking, "one lane still connecting");
    m.apply(1, LaneUpdate::Lost, t0);
    assert_eq!(m.login(), LoginState::LoggedIn);
    assert!(m.lanes().iter().all(|l| l.look() == Look::Unknown));
    assert_eq!(m.alerts().len(), 2);
    // A kiosk that later refuses the PIN marks only its own lane.
    m.apply(
        1,
        LaneUpdate::LoginRefused {
            code: LoginRefusal::BadCredentials,
            retry_after: None,
        },
        t0,
    );
    assert_eq!(m.login(), LoginState::LoggedIn);
    assert_eq!(
        m.lanes()[1].connection(),
        Connection::Refused(LoginRefusal::BadCredentials)
    );
    assert!(m.alerts().iter().any(|a| a.kind == AlertKind::PinRefused));
    // Logging out forgets everything but the names.
    m.log_out();
    assert_eq!(m.login(), LoginState::Entering);
    assert!(m.alerts().is_empty());
    assert_eq!(m.lanes()[1].name(), "A02");
}

// ---------------------------------------------------------------- reconnecting

#[test]
fn the_reconnect_backoff_doubles_and_is_capped() {
    let b = Backoff {
        first: Duration::from_millis(500),
        max: Duration::from_secs(30),
    };
    let delays: Vec<Duration> = (0..9).map(|n| b.delay(n)).collect();
    assert_eq!(
        delays,
        [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000].map(Duration::from_millis)
    );
    // Never above the cap, never overflowing, never decreasing.
    let mut last = Duration::ZERO;
    for n in (0..200).chain([u32::MAX - 1, u32::MAX]) {
        let d = b.delay(n);
        assert!(d <= b.max && d >= last, "attempt {n}: {d:?}");
        last = d;
    }
    let huge = Backoff {
        first: Duration::from_secs(u64::MAX / 2),
        max: Duration::MAX,
    };
    assert_eq!(huge.delay(5), Duration::MAX);
    assert_eq!(Backoff::default().delay(0), Duration::from_millis(500));
}

// ---------------------------------------------------------------- faces

#[test]
fn faces_are_decoded_from_jpeg_and_jpeg_2000_and_a_damaged_one_is_told() {
    for kind in [SampleFace::Jpeg, SampleFace::Jpeg2000] {
        match face::picture_for(&sample::referral(R1, true, kind)) {
            Some(FacePicture::Image(image)) => {
                assert_eq!((image.width, image.height), (240, 320), "{kind:?}");
                assert_eq!(image.pixels.len(), 240 * 320 * 4);
                assert!(!image.repaired);
                // A cartoon face: not one flat colour.
                let first = &image.pixels[..4];
                assert!(image.pixels.chunks(4).any(|p| p != first));
            }
            other => panic!("{kind:?}: {other:?}"),
        }
    }
    // A face altered on the chip (its last byte, as the tampered test
    // passport has it): what can be read is shown, marked as repaired.
    let mut altered = sample::FACE_JPEG.to_vec();
    *altered.last_mut().unwrap() ^= 0x01;
    let view = kiosk_app::supervision::protocol::FaceView {
        format: "jpeg".into(),
        width: 240,
        height: 320,
        data: altered,
    };
    match face::decode(&view) {
        FacePicture::Image(image) => {
            assert!(image.repaired);
            assert_eq!((image.width, image.height), (240, 320));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        face::picture_for(&sample::referral(R1, true, SampleFace::Damaged)),
        Some(FacePicture::Undecodable {
            format: "jpeg".into(),
            bytes: 5
        })
    );
    assert_eq!(
        face::picture_for(&sample::referral(R1, true, SampleFace::Omitted)),
        Some(FacePicture::Omitted)
    );
    assert_eq!(
        face::picture_for(&sample::referral(R1, true, SampleFace::None)),
        None
    );
    // Every truncation of both files is handled without a panic escaping.
    for data in [sample::FACE_JPEG, sample::FACE_JP2] {
        for len in (0..data.len()).step_by(1021) {
            let view = kiosk_app::supervision::protocol::FaceView {
                format: "jpeg2000".into(),
                width: 240,
                height: 320,
                data: data[..len].to_vec(),
            };
            let _ = face::decode(&view);
        }
    }
}
