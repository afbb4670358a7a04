//! The console's connection layer (headless: the model and the lane tasks,
//! no window) against three REAL kiosks: lanes running on tokio with their
//! SQLite stores and virtual chips, their supervision servers on 127.0.0.1
//! behind mutual TLS. A traveller is referred at one lane; the officer
//! accepts through the console and that lane's gate is released. A kiosk is
//! stopped (its tile goes UNKNOWN, never in service) and started again (the
//! console reconnects by itself).
//!
//! Nothing asserts wall-clock time: every wait has a generous limit and
//! giving up fails the test.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use crate::common::{Ca, Kiosk, OFFICER, PIN, WAIT};
use kiosk_app::lane::GateStep;
use kiosk_app::supervision::protocol::Command;
use officer_console::face::FacePicture;
use officer_console::{
    AlertKind, Backoff, CommandStatus, Connection, ConnectionSettings, Connections, ConsoleModel,
    LaneEndpoint, LaneUpdate, LoginState, Look, OfficerPin, Urgency,
};

/// The console's side: the model fed by the connections' channel.
struct Console {
    model: ConsoleModel,
    updates: Receiver<(usize, LaneUpdate)>,
}

impl Console {
    /// Applies updates until `done` holds (fails the test after [`WAIT`]).
    fn until(&mut self, what: &str, done: impl Fn(&ConsoleModel) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(&self.model) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.updates.recv_timeout(left) {
                Ok((lane, update)) => {
                    self.model.apply(lane, update, Instant::now());
                }
                Err(RecvTimeoutError::Timeout) => {
                    let lanes: Vec<_> = self
                        .model
                        .lanes()
                        .iter()
                        .map(|l| (l.look(), l.state(), l.referral().is_some(), l.face()))
                        .collect();
                    panic!("gave up waiting for {what}: {lanes:?}")
                }
                Err(RecvTimeoutError::Disconnected) => panic!("the connections ended"),
            }
        }
    }
}

fn look(m: &ConsoleModel, lane: usize) -> Look {
    m.lanes()[lane].look()
}

#[test]
fn the_console_supervises_three_real_lanes_accepts_a_referral_and_reconnects() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ca = Ca::new("console test CA");
    let names = ["A01", "A02", "A03"];
    let mut kiosks: Vec<Kiosk> = rt.block_on(async {
        let mut v = Vec::new();
        for name in names {
            v.push(Kiosk::start(name, &ca).await);
        }
        v
    });

    let (tx, updates) = channel();
    let settings = ConnectionSettings {
        lanes: kiosks
            .iter()
            .zip(names)
            .map(|(k, name)| LaneEndpoint {
                name: name.to_owned(),
                address: k.addr.to_string(),
                server_name: "localhost".into(),
            })
            .collect(),
        tls: ca.console_tls(),
        officer_id: OFFICER.into(),
        ping_interval: Duration::from_secs(1),
        backoff: Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_millis(500),
        },
    };
    let mut model = ConsoleModel::new(OFFICER, &names.map(String::from));
    model.begin_login();
    let connections = Connections::start(
        settings,
        OfficerPin::new(PIN).unwrap(),
        Arc::new(move |lane, update| {
            let _ = tx.send((lane, update));
        }),
    )
    .unwrap();
    let mut console = Console { model, updates };

    // Every lane connects, logs the officer in and shows its state.
    console.until("three lanes in service", |m| {
        (0..3).all(|i| look(m, i) == Look::InService)
    });
    assert_eq!(console.model.login(), LoginState::LoggedIn);
    assert!(console.model.alerts().is_empty());

    // A traveller with a tampered passport at A02: referred, high priority.
    rt.block_on(kiosks[1].scan());
    console.until("the referral at A02 with its face", |m| {
        look(m, 1) == Look::Referral { high: true }
            && matches!(m.lanes()[1].face(), Some(FacePicture::Image(_)))
    });
    let referral = console.model.lanes()[1].referral().unwrap().clone();
    let document = referral.document.as_ref().unwrap();
    assert_eq!(document.primary_identifier, "SANTOS");
    assert_eq!(document.document_number, "P1234567A");
    assert_eq!(referral.reasons, ["not_genuine"]);
    match console.model.lanes()[1].face() {
        Some(FacePicture::Image(image)) => assert_eq!((image.width, image.height), (240, 320)),
        other => panic!("{other:?}"),
    }
    let first = &console.model.alerts()[0];
    assert_eq!((first.lane, first.urgency()), (1, Urgency::ReferralHigh));
    assert_eq!(
        look(&console.model, 0),
        Look::InService,
        "the other lanes carry on"
    );
    assert_eq!(look(&console.model, 2), Look::InService);

    // The officer opens it from the alert queue and accepts.
    let id = first.id;
    assert!(console.model.open_alert(id));
    let (lane, command) = console.model.accept().unwrap();
    assert_eq!(
        (lane, &command),
        (
            1,
            &Command::Accept {
                record_id: referral.record_id.clone()
            }
        )
    );
    assert!(!kiosks[1].gate_steps().iter().any(is_release));
    connections.command(lane, command).unwrap();
    console.until("the kiosk's ack", |m| {
        m.lanes()[1].command() == Some(CommandStatus::Done("accept"))
    });
    console.until("the referral closed", |m| {
        m.lanes()[1].referral().is_none() && m.open_referral().is_none()
    });
    let deadline = Instant::now() + WAIT;
    while !kiosks[1].gate_steps().iter().any(is_release) {
        assert!(Instant::now() < deadline, "gave up waiting for the release");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        kiosks[1]
            .gate_steps()
            .iter()
            .filter(|s| is_release(s))
            .count(),
        1,
        "released once"
    );
    assert!(
        kiosks[0]
            .gate_steps()
            .iter()
            .chain(&kiosks[2].gate_steps())
            .all(|s| !is_release(s))
    );
    assert!(
        console
            .model
            .alerts()
            .iter()
            .all(|a| !matches!(a.kind, AlertKind::Referral { .. }))
    );

    // A03's kiosk stops: its tile goes UNKNOWN, never in service.
    rt.block_on(kiosks[2].stop());
    console.until("A03 unreachable", |m| {
        matches!(m.lanes()[2].connection(), Connection::Unreachable { .. })
    });
    assert_eq!(look(&console.model, 2), Look::Unknown);
    assert!(
        console
            .model
            .alerts()
            .iter()
            .any(|a| a.lane == 2 && a.kind == AlertKind::Unreachable)
    );
    assert_eq!(look(&console.model, 0), Look::InService);

    // Started again on the same port: the console reconnects by itself.
    rt.block_on(kiosks[2].restart());
    console.until("A03 back in service", |m| look(m, 2) == Look::InService);
    assert!(
        console.model.alerts().is_empty(),
        "{:?}",
        console.model.alerts()
    );

    drop(connections);
    rt.block_on(async {
        for k in &mut kiosks {
            k.stop().await;
        }
    });
}

fn is_release(s: &GateStep) -> bool {
    matches!(s, GateStep::Release { .. })
}
