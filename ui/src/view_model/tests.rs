use std::time::{Duration, Instant};

use super::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn start() -> (ViewModel, Instant) {
    let t0 = Instant::now();
    (ViewModel::new(t0), t0)
}

#[test]
fn starts_on_the_attract_page_in_english() {
    let (vm, _) = start();
    let v = vm.view();
    assert_eq!(v.page, Page::Attract);
    assert_eq!(v.language, Language::English);
    assert!(!v.high_contrast);
    assert_eq!(v.inactivity_seconds_left, None);
}

#[test]
fn every_lane_screen_has_a_page() {
    let cases = [
        (Screen::Welcome, Page::Attract),
        (Screen::ReadingChip, Page::ReadingChip),
        (Screen::PleaseWait, Page::PleaseWait),
        (Screen::PutDocumentBack, Page::PutDocumentBack),
        (Screen::RescanDocument, Page::RescanDocument),
        (Screen::LookAtCamera, Page::LookAtCamera),
        (
            Screen::ProceedToGate {
                permitted_stay_days: Some(30),
            },
            Page::ProceedToGate,
        ),
        (Screen::SeeOfficer, Page::SeeOfficer),
        (Screen::GoToManualCounter, Page::GoToManualCounter),
        (Screen::LaneClosed, Page::LaneClosed),
        (Screen::OutOfService, Page::OutOfService),
    ];
    let (mut vm, t0) = start();
    for (screen, page) in cases {
        vm.show(screen, t0);
        assert_eq!(vm.view().page, page, "{screen:?}");
    }
}

#[test]
fn choosing_a_language_moves_on_to_place_passport() {
    let (mut vm, t0) = start();
    let events = vm.handle(Input::ChooseLanguage(Language::Thai), t0);
    assert_eq!(events, vec![UiEvent::LanguageChanged(Language::Thai)]);
    let v = vm.view();
    assert_eq!(v.page, Page::PlacePassport);
    assert_eq!(v.language, Language::Thai);
}

#[test]
fn cancel_before_a_session_goes_back_to_attract_in_english() {
    let (mut vm, t0) = start();
    vm.handle(Input::ChooseLanguage(Language::Khmer), t0);
    vm.handle(Input::ToggleHighContrast, t0);
    let events = vm.handle(Input::Cancel, t0);
    assert!(events.is_empty(), "no session to cancel: {events:?}");
    let v = vm.view();
    assert_eq!(v.page, Page::Attract);
    assert_eq!(v.language, Language::English);
    assert!(!v.high_contrast);
}

#[test]
fn cancel_during_a_session_asks_the_lane_and_waits_for_it() {
    let (mut vm, t0) = start();
    vm.show(Screen::RescanDocument, t0);
    assert_eq!(vm.handle(Input::Cancel, t0), vec![UiEvent::CancelSession]);
    // The lane decides: the page stays until it says Welcome.
    assert_eq!(vm.view().page, Page::RescanDocument);
    vm.show(Screen::Welcome, t0);
    assert_eq!(vm.view().page, Page::Attract);
}

#[test]
fn cancel_is_ignored_where_there_is_no_cancel_button() {
    let (mut vm, t0) = start();
    vm.show(Screen::PleaseWait, t0);
    assert!(vm.handle(Input::Cancel, t0).is_empty());
    vm.show(
        Screen::ProceedToGate {
            permitted_stay_days: None,
        },
        t0,
    );
    assert!(vm.handle(Input::Cancel, t0).is_empty());
}

#[test]
fn the_language_stays_through_the_session_and_resets_after_it() {
    let (mut vm, t0) = start();
    vm.handle(Input::ChooseLanguage(Language::Lao), t0);
    vm.show(Screen::ReadingChip, t0);
    vm.show(Screen::PleaseWait, t0);
    vm.show(
        Screen::ProceedToGate {
            permitted_stay_days: Some(30),
        },
        t0,
    );
    let v = vm.view();
    assert_eq!(v.language, Language::Lao);
    assert_eq!(v.permitted_stay_days, Some(30));
    vm.show(Screen::Welcome, t0);
    let v = vm.view();
    assert_eq!((v.page, v.language), (Page::Attract, Language::English));
    assert_eq!(v.permitted_stay_days, None);
}

#[test]
fn nationality_preselects_unless_the_traveller_chose() {
    let (mut vm, t0) = start();
    vm.show(Screen::ReadingChip, t0);
    assert_eq!(vm.suggest_nationality("VNM"), Language::Vietnamese);
    assert_eq!(vm.view().language, Language::Vietnamese);

    let (mut vm, t0) = start();
    vm.handle(Input::ChooseLanguage(Language::English), t0);
    vm.show(Screen::ReadingChip, t0);
    assert_eq!(vm.suggest_nationality("VNM"), Language::English);

    let (mut vm, _) = start();
    assert_eq!(vm.suggest_nationality("UTO"), Language::English);
}

#[test]
fn the_traveller_can_change_language_on_any_traveller_page() {
    let (mut vm, t0) = start();
    vm.show(Screen::ReadingChip, t0);
    vm.suggest_nationality("THA");
    vm.handle(Input::OpenLanguagePicker, t0);
    assert!(vm.view().language_picker_open);
    vm.handle(Input::ChooseLanguage(Language::Tamil), t0);
    let v = vm.view();
    assert!(!v.language_picker_open);
    assert_eq!((v.page, v.language), (Page::ReadingChip, Language::Tamil));
}

#[test]
fn a_language_cannot_be_chosen_with_no_list_on_screen() {
    let (mut vm, t0) = start();
    vm.show(Screen::PleaseWait, t0);
    assert!(
        vm.handle(Input::ChooseLanguage(Language::Thai), t0)
            .is_empty()
    );
    assert_eq!(vm.view().language, Language::English);
}

#[test]
fn chip_progress_is_shown_only_while_reading_and_starts_unknown() {
    let (mut vm, t0) = start();
    vm.show(Screen::ReadingChip, t0);
    assert_eq!(vm.view().chip_progress, None);
    vm.set_chip_progress(150);
    assert_eq!(vm.view().chip_progress, Some(100));
    vm.show(Screen::PleaseWait, t0);
    assert_eq!(vm.view().chip_progress, None);
    vm.show(Screen::ReadingChip, t0);
    assert_eq!(vm.view().chip_progress, None);
}

#[test]
fn a_walked_away_traveller_is_warned_then_sent_back_to_attract() {
    let (mut vm, t0) = start();
    vm.handle(Input::ChooseLanguage(Language::Burmese), t0);
    assert!(vm.tick(t0 + secs(19)).is_empty());
    assert_eq!(vm.view().inactivity_seconds_left, None);

    assert!(vm.tick(t0 + secs(21)).is_empty());
    assert_eq!(vm.view().inactivity_seconds_left, Some(9));
    assert_eq!(vm.view().page, Page::PlacePassport);

    assert_eq!(vm.tick(t0 + secs(30)), vec![UiEvent::TravellerTimedOut]);
    let v = vm.view();
    assert_eq!(v.page, Page::Attract);
    assert_eq!(v.language, Language::English);
    assert_eq!(v.inactivity_seconds_left, None);
}

#[test]
fn still_here_restarts_the_inactivity_timer() {
    let (mut vm, t0) = start();
    vm.handle(Input::ChooseLanguage(Language::Malay), t0);
    vm.tick(t0 + secs(25));
    assert!(vm.view().inactivity_seconds_left.is_some());
    vm.handle(Input::StillHere, t0 + secs(25));
    assert_eq!(vm.view().inactivity_seconds_left, None);
    assert!(vm.tick(t0 + secs(50)).is_empty());
    assert_eq!(vm.view().page, Page::PlacePassport);
    assert_eq!(vm.tick(t0 + secs(55)), vec![UiEvent::TravellerTimedOut]);
}

#[test]
fn an_untouched_attract_page_never_times_out() {
    let (mut vm, t0) = start();
    assert!(vm.tick(t0 + secs(3600)).is_empty());
    assert_eq!(vm.view().inactivity_seconds_left, None);
}

#[test]
fn lane_screens_are_timed_by_the_lane_not_the_ui() {
    let (mut vm, t0) = start();
    vm.handle(Input::ChooseLanguage(Language::Thai), t0);
    vm.show(Screen::RescanDocument, t0);
    assert!(vm.tick(t0 + secs(600)).is_empty());
    let v = vm.view();
    assert_eq!((v.page, v.language), (Page::RescanDocument, Language::Thai));
    assert_eq!(v.inactivity_seconds_left, None);
}

fn type_pin(vm: &mut ViewModel, pin: &str, t: Instant) {
    for c in pin.bytes() {
        vm.handle(Input::PinDigit(c - b'0'), t);
    }
}

#[test]
fn officer_login_sends_the_pin_and_opens_the_menu_when_accepted() {
    let (mut vm, t0) = start();
    vm.handle(Input::OfficerLogin, t0);
    assert_eq!(vm.view().page, Page::OfficerPin);
    type_pin(&mut vm, "24680", t0);
    assert_eq!(vm.view().pin_length, 5);
    let events = vm.handle(Input::PinSubmit, t0);
    match events.as_slice() {
        [UiEvent::OfficerPinEntered(pin)] => assert_eq!(pin.as_str(), "24680"),
        other => panic!("{other:?}"),
    }
    let v = vm.view();
    assert_eq!((v.pin_status, v.pin_length), (PinStatus::Checking, 0));
    // Keys do nothing while the lane checks.
    vm.handle(Input::PinDigit(1), t0);
    assert_eq!(vm.view().pin_length, 0);

    vm.officer_login_result(true, t0);
    assert_eq!(vm.view().page, Page::OfficerMenu);
    assert_eq!(
        vm.handle(Input::Officer(OfficerCommand::CloseLane), t0),
        vec![UiEvent::OfficerCommand(OfficerCommand::CloseLane)]
    );
    assert_eq!(
        vm.handle(Input::OfficerLogOut, t0),
        vec![UiEvent::OfficerLoggedOut]
    );
    assert_eq!(vm.view().page, Page::Attract);
}

#[test]
fn a_rejected_pin_is_cleared_and_can_be_typed_again() {
    let (mut vm, t0) = start();
    vm.show(Screen::LaneClosed, t0);
    vm.handle(Input::OfficerLogin, t0);
    type_pin(&mut vm, "1111", t0);
    vm.handle(Input::PinSubmit, t0);
    vm.officer_login_result(false, t0);
    let v = vm.view();
    assert_eq!(
        (v.page, v.pin_status, v.pin_length),
        (Page::OfficerPin, PinStatus::Rejected, 0)
    );
    vm.handle(Input::PinDigit(7), t0);
    assert_eq!(vm.view().pin_status, PinStatus::Entering);
    vm.handle(Input::PinCancel, t0);
    assert_eq!(vm.view().page, Page::LaneClosed);
}

#[test]
fn a_short_pin_is_not_sent_and_a_long_one_is_capped() {
    let (mut vm, t0) = start();
    vm.handle(Input::OfficerLogin, t0);
    type_pin(&mut vm, "123", t0);
    assert!(vm.handle(Input::PinSubmit, t0).is_empty());
    vm.handle(Input::PinDelete, t0);
    assert_eq!(vm.view().pin_length, 2);
    type_pin(&mut vm, "99999999999999", t0);
    assert_eq!(vm.view().pin_length, MAX_PIN_DIGITS);
    vm.handle(Input::PinDigit(10), t0);
    assert_eq!(vm.view().pin_length, MAX_PIN_DIGITS);
}

#[test]
fn officer_login_is_only_offered_on_idle_pages() {
    let (mut vm, t0) = start();
    vm.show(Screen::ReadingChip, t0);
    vm.handle(Input::OfficerLogin, t0);
    assert_eq!(vm.view().page, Page::ReadingChip);
    // A late answer from the lane does nothing either.
    vm.officer_login_result(true, t0);
    assert_eq!(vm.view().page, Page::ReadingChip);
    // Officer commands need a login.
    assert!(
        vm.handle(Input::Officer(OfficerCommand::OpenLane), t0)
            .is_empty()
    );
}

#[test]
fn an_idle_officer_is_logged_out() {
    let (mut vm, t0) = start();
    vm.handle(Input::OfficerLogin, t0);
    type_pin(&mut vm, "1234", t0);
    vm.handle(Input::PinSubmit, t0);
    vm.officer_login_result(true, t0);
    vm.tick(t0 + secs(50));
    assert_eq!(vm.view().inactivity_seconds_left, Some(10));
    assert_eq!(vm.tick(t0 + secs(60)), vec![UiEvent::OfficerLoggedOut]);
    assert_eq!(vm.view().page, Page::Attract);
}

#[test]
fn pin_debug_hides_the_digits() {
    let pin = OfficerPin("4711".into());
    let shown = format!("{pin:?}");
    assert!(!shown.contains("4711"), "{shown}");
}

#[test]
fn page_slugs_are_unique() {
    let mut slugs: Vec<_> = Page::ALL.iter().map(|p| p.slug()).collect();
    slugs.sort_unstable();
    slugs.dedup();
    assert_eq!(slugs.len(), Page::ALL.len());
}
