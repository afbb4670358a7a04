use std::time::{Duration, Instant};

use ui::{Input as Touch, ViewModel};

use super::*;
use crate::supervision::auth::OfficerRecord;

/// The PIN event the real view model emits when an officer types `pin`.
fn typed(pin: &str) -> UiEvent {
    let mut vm = ViewModel::new(Instant::now());
    let now = Instant::now();
    vm.handle(Touch::OfficerLogin, now);
    for d in pin.bytes() {
        vm.handle(Touch::PinDigit(d - b'0'), now);
    }
    vm.handle(Touch::PinSubmit, now)
        .into_iter()
        .find(|e| matches!(e, UiEvent::OfficerPinEntered(_)))
        .unwrap()
}

fn officers() -> Arc<Officers> {
    Arc::new(
        Officers::from_records(vec![
            OfficerRecord::new("off-ana", "2468", 100_000).unwrap(),
            OfficerRecord::new("off-budi", "1357", 100_000).unwrap(),
        ])
        .unwrap(),
    )
}

fn actions(inputs: &[Input]) -> Vec<String> {
    inputs
        .iter()
        .map(|i| match i {
            Input::Audit(a) => format!("audit {} {}", a.officer_id, a.action),
            Input::Event(e) => format!("{e:?}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn every_lane_message_has_its_screen_with_the_stay() {
    assert_eq!(
        screen(MessageKey::ProceedToGate, Some(30)),
        Screen::ProceedToGate {
            permitted_stay_days: Some(30)
        }
    );
    assert_eq!(
        screen(MessageKey::ProceedToGate, None),
        Screen::ProceedToGate {
            permitted_stay_days: None
        }
    );
    for (m, s) in [
        (MessageKey::Welcome, Screen::Welcome),
        (MessageKey::RescanDocument, Screen::RescanDocument),
        (MessageKey::ReadingChip, Screen::ReadingChip),
        (MessageKey::PutDocumentBack, Screen::PutDocumentBack),
        (MessageKey::PleaseWait, Screen::PleaseWait),
        (MessageKey::LookAtCamera, Screen::LookAtCamera),
        (MessageKey::SeeOfficer, Screen::SeeOfficer),
        (MessageKey::GoToManualCounter, Screen::GoToManualCounter),
        (MessageKey::LaneClosed, Screen::LaneClosed),
        (MessageKey::OutOfService, Screen::OutOfService),
    ] {
        assert_eq!(screen(m, Some(30)), s);
    }
}

#[test]
fn cancel_on_the_screen_cancels_the_passage() {
    let mut o = KioskOfficer::new(None, "A07".into());
    let (inputs, login) = o.on_ui_event(&UiEvent::CancelSession, 0, Instant::now());
    assert_eq!(inputs, vec![Input::Event(Event::TravellerCancelled)]);
    assert_eq!(login, None);
}

#[test]
fn only_an_officer_logged_in_on_the_pad_commands_the_lane_and_is_audited() {
    let mut o = KioskOfficer::new(Some(officers()), "A07".into());
    // Not logged in: the command reaches the lane unauthenticated (ignored, audited there).
    let (inputs, _) = o.on_ui_event(
        &UiEvent::OfficerCommand(OfficerCommand::CloseLane),
        0,
        Instant::now(),
    );
    assert_eq!(
        inputs,
        vec![Input::Event(Event::OfficerClose {
            authenticated: false
        })]
    );
    // A wrong PIN is refused and audited without an officer.
    let (inputs, login) = o.on_ui_event(&typed("9999"), 0, Instant::now());
    assert_eq!(login, Some(false));
    assert_eq!(
        actions(&inputs),
        ["audit unknown kiosk_officer_login_refused"]
    );
    // The right PIN names its officer.
    let (inputs, login) = o.on_ui_event(&typed("1357"), 0, Instant::now());
    assert_eq!(login, Some(true));
    assert_eq!(actions(&inputs), ["audit off-budi kiosk_officer_login"]);
    let (inputs, _) = o.on_ui_event(
        &UiEvent::OfficerCommand(OfficerCommand::CloseLane),
        0,
        Instant::now(),
    );
    assert_eq!(
        actions(&inputs),
        [
            "audit off-budi kiosk_officer_close",
            "OfficerClose { authenticated: true }"
        ]
    );
    let (inputs, _) = o.on_ui_event(&UiEvent::OfficerLoggedOut, 0, Instant::now());
    assert_eq!(actions(&inputs), ["audit off-budi kiosk_officer_logout"]);
    let (inputs, _) = o.on_ui_event(
        &UiEvent::OfficerCommand(OfficerCommand::OpenLane),
        0,
        Instant::now(),
    );
    assert_eq!(
        inputs,
        vec![Input::Event(Event::OfficerOpen {
            authenticated: false
        })]
    );
    // A lane without provisioned officers lets nobody in.
    let mut none = KioskOfficer::new(None, "A07".into());
    assert_eq!(
        none.on_ui_event(&typed("2468"), 0, Instant::now()).1,
        Some(false)
    );
}

#[test]
fn wrong_pins_lock_the_pad_then_even_the_right_pin_is_refused_until_the_lockout_ends() {
    let limits = AuthLimits {
        lockout_after: 3,
        lockout_base: Duration::from_secs(30),
        ..AuthLimits::default()
    };
    let mut o = KioskOfficer::new(Some(officers()), "A07".into()).with_limits(limits);
    let t0 = Instant::now();
    for _ in 0..3 {
        let (inputs, login) = o.on_ui_event(&typed("0000"), 0, t0);
        assert_eq!(login, Some(false));
        assert_eq!(
            actions(&inputs),
            ["audit unknown kiosk_officer_login_refused"]
        );
    }
    // Locked: the right PIN is not even checked, and the refusal says why.
    let (inputs, login) = o.on_ui_event(&typed("1357"), 0, t0 + Duration::from_secs(29));
    assert_eq!(login, Some(false));
    assert_eq!(
        actions(&inputs),
        ["audit unknown kiosk_officer_login_locked_out"]
    );
    let (inputs, _) = o.on_ui_event(
        &UiEvent::OfficerCommand(OfficerCommand::CloseLane),
        0,
        t0 + Duration::from_secs(29),
    );
    assert_eq!(
        inputs,
        vec![Input::Event(Event::OfficerClose {
            authenticated: false
        })]
    );
    // After the lockout the right PIN works and clears the count.
    let after = t0 + Duration::from_secs(31);
    assert_eq!(o.on_ui_event(&typed("1357"), 0, after).1, Some(true));
    for _ in 0..2 {
        assert_eq!(o.on_ui_event(&typed("0000"), 0, after).1, Some(false));
    }
    assert_eq!(o.on_ui_event(&typed("1357"), 0, after).1, Some(true));
}

#[test]
fn a_thousand_wrong_pins_never_log_in_and_the_lockout_is_capped() {
    let mut o = KioskOfficer::new(Some(officers()), "A07".into());
    let t0 = Instant::now();
    let mut locked = 0;
    for i in 0..1000u32 {
        let (inputs, login) = o.on_ui_event(&typed(&format!("{:04}", i % 1357)), 0, t0);
        assert_eq!(login, Some(false));
        if actions(&inputs) == ["audit unknown kiosk_officer_login_locked_out"] {
            locked += 1;
        }
    }
    // All but the first five were refused unchecked.
    assert_eq!(locked, 995);
    // The lockout never exceeds its cap (15 minutes).
    let later = t0 + Duration::from_secs(15 * 60 + 1);
    assert_eq!(o.on_ui_event(&typed("1357"), 0, later).1, Some(true));
}
