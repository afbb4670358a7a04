use super::*;
use icao9303::pa::Outcome as CheckOutcome;
use icao9303::verdict::VerdictCheck;
use proptest::prelude::*;

fn today() -> Date {
    Date::new(2026, 11, 24).expect("date")
}

fn facts() -> DocumentFacts {
    DocumentFacts {
        document_type: "P".into(),
        issuing_state: "THA".into(),
        document_number: "AA1234567".into(),
        nationality: "THA".into(),
        primary_identifier: "SOMCHAI".into(),
        secondary_identifier: "NARIN".into(),
        birth_date: "900115".into(),
        sex: 'M',
        expiry_date: "300101".into(),
    }
}

fn genuine() -> Verdict {
    Verdict {
        checks: vec![VerdictCheck {
            name: "passive_authentication".into(),
            outcome: CheckOutcome::Passed,
            mandatory: true,
        }],
    }
}

fn tampered() -> Verdict {
    Verdict {
        checks: vec![VerdictCheck {
            name: "dg_hash_2".into(),
            outcome: CheckOutcome::Failed("hash differs".into()),
            mandatory: false,
        }],
    }
}

struct Lane {
    rules: Rules,
    watch: WatchList,
    recent: RecentPassages,
    direction: Direction,
    biometrics_required: bool,
    now_unix_s: i64,
}

impl Lane {
    fn new() -> Self {
        Self {
            rules: Rules::default(),
            watch: WatchList::new(b"salt"),
            recent: RecentPassages::default(),
            direction: Direction::Arrival,
            biometrics_required: false,
            now_unix_s: today().days() * 86_400 + 12 * 3600,
        }
    }

    fn decide(&self, facts: &DocumentFacts, verdict: &Verdict) -> Decision {
        let ctx = LaneContext {
            rules: &self.rules,
            direction: self.direction,
            today: today(),
            now_unix_s: self.now_unix_s,
            watch_list: &self.watch,
            history: &self.recent,
            biometrics_required: self.biometrics_required,
        };
        decide(facts, verdict, &ctx)
    }
}

fn with(f: impl FnOnce(&mut DocumentFacts)) -> DocumentFacts {
    let mut d = facts();
    f(&mut d);
    d
}

#[test]
fn clean_asean_traveller_is_approved_with_stay() {
    let d = Lane::new().decide(&facts(), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
    assert!(d.reasons.is_empty());
    assert_eq!(d.permitted_stay_days, Some(30));
    assert_eq!(d.traveller_message, MessageKey::ProceedToGate);
    assert_eq!(d.officer_alert, None);
    assert_eq!(d.direction, Direction::Arrival);
    assert_eq!(d.biometrics, Biometrics::NotConfigured);
    assert!(d.permits_exit());
}

#[test]
fn every_asean_code_passes_the_nationality_rule() {
    for code in [
        "BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM", "TLS", "TMP",
    ] {
        let d = Lane::new().decide(&with(|f| f.nationality = code.into()), &genuine());
        assert_eq!(d.outcome, Outcome::Approved, "{code}");
    }
}

#[test]
fn non_asean_national_is_redirected_not_referred() {
    for code in ["UTO", "D", "XXA", "AUS"] {
        let d = Lane::new().decide(&with(|f| f.nationality = code.into()), &genuine());
        assert_eq!(d.outcome, Outcome::Redirected, "{code}");
        assert_eq!(d.reasons, vec![ReasonCode::NotAseanNational]);
        assert_eq!(d.traveller_message, MessageKey::GoToManualCounter);
        assert_eq!(d.officer_alert, None);
    }
}

#[test]
fn non_asean_national_on_an_open_lane_is_approved() {
    let mut lane = Lane::new();
    lane.rules.asean_only = false;
    let d = lane.decide(&with(|f| f.nationality = "UTO".into()), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
}

#[test]
fn expiry_boundaries() {
    let lane = Lane::new();
    // Expires today: still valid.
    let d = lane.decide(&with(|f| f.expiry_date = "261124".into()), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
    // Expired yesterday.
    let d = lane.decide(&with(|f| f.expiry_date = "261123".into()), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::DocumentExpired]);
    assert_eq!(d.outcome, Outcome::Referred);
    // Expired long ago, read as 19YY.
    let d = lane.decide(&with(|f| f.expiry_date = "991231".into()), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::DocumentExpired]);
}

#[test]
fn minimum_validity_boundaries() {
    let mut lane = Lane::new();
    lane.rules.min_validity_days = 180;
    let limit = today().add_days(180);
    let yymmdd = |d: Date| format!("{:02}{:02}{:02}", d.year() % 100, d.month(), d.day());
    // Exactly 180 days left: enough.
    let d = lane.decide(&with(|f| f.expiry_date = yymmdd(limit)), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
    // 179 days left: too few.
    let d = lane.decide(
        &with(|f| f.expiry_date = yymmdd(limit.add_days(-1))),
        &genuine(),
    );
    assert_eq!(d.reasons, vec![ReasonCode::DocumentExpiresSoon]);
    // Today, with a margin: expires soon, not expired.
    let d = lane.decide(&with(|f| f.expiry_date = "261124".into()), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::DocumentExpiresSoon]);
}

#[test]
fn invalid_expiry_is_referred() {
    let d = Lane::new().decide(&with(|f| f.expiry_date = "301399".into()), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::ExpiryDateInvalid]);
}

#[test]
fn minor_boundaries() {
    let lane = Lane::new();
    // 18th birthday today: adult.
    let d = lane.decide(&with(|f| f.birth_date = "081124".into()), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
    // 18 tomorrow: minor.
    let d = lane.decide(&with(|f| f.birth_date = "081125".into()), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::Minor]);
    // Born this year.
    let d = lane.decide(&with(|f| f.birth_date = "260101".into()), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::Minor]);
    // Born later this year is impossible in 2026: 1926, a centenarian read as 100.
    let d = lane.decide(&with(|f| f.birth_date = "261231".into()), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
}

#[test]
fn minor_rule_can_be_disabled() {
    let mut lane = Lane::new();
    lane.rules.minor_age = 0;
    let d = lane.decide(&with(|f| f.birth_date = "260101".into()), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
}

#[test]
fn unknown_birth_parts_are_read_as_youngest() {
    let lane = Lane::new();
    // Unknown day in the month of the 18th birthday: could be after today.
    let d = lane.decide(&with(|f| f.birth_date = "0811<<".into()), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::Minor]);
    // Unknown month and day in 2008: could be December.
    let d = lane.decide(&with(|f| f.birth_date = "08<<<<".into()), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::Minor]);
    // Unknown day, a month before: adult either way.
    let d = lane.decide(&with(|f| f.birth_date = "0810<<".into()), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
    // Unknown month, 2007: 18 or 19, adult.
    let d = lane.decide(&with(|f| f.birth_date = "07<<<<".into()), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
    // Unknown year: cannot establish the age.
    let d = lane.decide(&with(|f| f.birth_date = "<<0101".into()), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::BirthDateUnknown]);
    let d = lane.decide(&with(|f| f.birth_date = "9013".into()), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::BirthDateUnknown]);
}

#[test]
fn leap_day_birthday_is_reached_on_first_of_march() {
    let born = Date::new(2008, 2, 29).expect("date");
    assert_eq!(born.age_on(Date::new(2026, 2, 28).expect("date")), 17);
    assert_eq!(born.age_on(Date::new(2026, 3, 1).expect("date")), 18);
}

#[test]
fn watch_list_document_hit_is_neutral_to_traveller_and_alerts_officer() {
    let mut lane = Lane::new();
    let h = lane.watch.document_hash("AA1234567", "THA");
    lane.watch.add_document_hash(h);
    let d = lane.decide(&facts(), &genuine());
    assert_eq!(d.outcome, Outcome::Referred);
    assert_eq!(d.reasons, vec![ReasonCode::WatchListDocument]);
    assert_eq!(d.traveller_message, MessageKey::SeeOfficer);
    let alert = d.officer_alert.expect("alert");
    assert_eq!(alert.priority, AlertPriority::High);
    assert_eq!(alert.reasons, vec![ReasonCode::WatchListDocument]);
    // Same message as a mundane referral: the traveller cannot tell them apart.
    let expired = Lane::new().decide(&with(|f| f.expiry_date = "200101".into()), &genuine());
    assert_eq!(expired.traveller_message, d.traveller_message);
    assert_eq!(
        expired.officer_alert.map(|a| a.priority),
        Some(AlertPriority::Normal)
    );
}

#[test]
fn watch_list_person_hit() {
    let mut lane = Lane::new();
    let h = lane.watch.person_hash("SOMCHAI", "NARIN", "900115");
    lane.watch.add_person_hash(h);
    let d = lane.decide(&facts(), &genuine());
    assert_eq!(d.reasons, vec![ReasonCode::WatchListPerson]);
    // Another birth date: no hit.
    let d = lane.decide(&with(|f| f.birth_date = "900116".into()), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
}

#[test]
fn watch_list_salt_matters() {
    let a = WatchList::new(b"one");
    let b = WatchList::new(b"two");
    assert_ne!(a.document_hash("X1", "THA"), b.document_hash("X1", "THA"));
    assert_eq!(a.document_hash("X1<<", "THA"), a.document_hash("X1", "THA"));
}

#[test]
fn watch_list_file_parses_and_refuses_bad_lines() {
    let list = WatchList::new(&[0xab, 0xcd]);
    let doc = list.document_hash("AA1234567", "THA");
    let hex: String = doc.iter().map(|b| format!("{b:02x}")).collect();
    let text = format!("# provisioned\n\nsalt abcd\ndocument {hex}\n");
    let parsed = WatchList::parse(&text).expect("parse");
    assert_eq!(parsed.len(), 1);
    assert!(parsed.check(&facts()).document);
    assert_eq!(
        WatchList::parse("document 00"),
        Err(WatchListError::Line {
            line: 1,
            what: "a hash is 64 hex digits"
        })
    );
    assert_eq!(WatchList::parse("# nothing\n"), Err(WatchListError::NoSalt));
    assert!(matches!(
        WatchList::parse("salt 00\nsalt 01"),
        Err(WatchListError::Line { line: 2, .. })
    ));
    assert!(matches!(
        WatchList::parse("salt zz"),
        Err(WatchListError::Line { line: 1, .. })
    ));
    assert!(matches!(
        WatchList::parse("salt 00\nvisa 00"),
        Err(WatchListError::Line { line: 2, .. })
    ));
    assert!(matches!(
        WatchList::parse("salt"),
        Err(WatchListError::Line { line: 1, .. })
    ));
    assert!(!format!("{parsed:?}").contains("abcd"));
}

#[test]
fn failed_authenticity_is_referred_with_high_alert() {
    let d = Lane::new().decide(&facts(), &tampered());
    assert_eq!(d.reasons, vec![ReasonCode::NotGenuine]);
    assert_eq!(
        d.officer_alert.map(|a| a.priority),
        Some(AlertPriority::High)
    );
    // A mandatory check that could not be made is not genuine either.
    let v = Verdict {
        checks: vec![VerdictCheck {
            name: "clone_detection".into(),
            outcome: CheckOutcome::NotPossible("not offered".into()),
            mandatory: true,
        }],
    };
    assert_eq!(
        Lane::new().decide(&facts(), &v).reasons,
        vec![ReasonCode::NotGenuine]
    );
}

#[test]
fn passback_boundaries() {
    let mut lane = Lane::new();
    let key = facts().passage_key();
    let window = 10 * 60;
    lane.recent.insert(key, lane.now_unix_s - window + 1);
    assert_eq!(
        lane.decide(&facts(), &genuine()).reasons,
        vec![ReasonCode::Passback]
    );
    let mut lane = Lane::new();
    lane.recent.insert(key, lane.now_unix_s - window);
    assert_eq!(lane.decide(&facts(), &genuine()).outcome, Outcome::Approved);
    // Another document is not affected.
    let mut lane = Lane::new();
    lane.recent.insert(key, lane.now_unix_s);
    let other = with(|f| f.document_number = "AA7654321".into());
    assert_eq!(lane.decide(&other, &genuine()).outcome, Outcome::Approved);
    // Disabled.
    lane.rules.passback_minutes = 0;
    assert_eq!(lane.decide(&facts(), &genuine()).outcome, Outcome::Approved);
}

#[test]
fn passback_history_may_be_a_plain_function() {
    let rules = Rules::default();
    let watch = WatchList::default();
    let seen = facts().passage_key();
    let history = move |k: &PassageKey| (*k == seen).then_some(1_000);
    let ctx = LaneContext {
        rules: &rules,
        direction: Direction::Departure,
        today: today(),
        now_unix_s: 1_060,
        watch_list: &watch,
        history: &history,
        biometrics_required: false,
    };
    let d = decide(&facts(), &genuine(), &ctx);
    assert_eq!(d.reasons, vec![ReasonCode::Passback]);
    assert_eq!(d.direction, Direction::Departure);
}

#[test]
fn recent_passages_keep_latest_and_prune() {
    let mut r = RecentPassages::default();
    let k = facts().passage_key();
    r.insert(k, 100);
    r.insert(k, 50);
    assert_eq!(r.last_passage_unix_s(&k), Some(100));
    r.prune_before(101);
    assert_eq!(r.last_passage_unix_s(&k), None);
}

#[test]
fn permitted_stay_per_nationality_and_direction() {
    let mut lane = Lane::new();
    lane.rules.stay_days.insert("THA".into(), 14);
    assert_eq!(
        lane.decide(&facts(), &genuine()).permitted_stay_days,
        Some(14)
    );
    lane.direction = Direction::Departure;
    let d = lane.decide(&facts(), &genuine());
    assert_eq!(d.permitted_stay_days, None);
    assert_eq!(d.direction, Direction::Departure);
}

#[test]
fn arrival_without_configured_stay_is_referred() {
    let mut lane = Lane::new();
    lane.rules.default_stay_days = None;
    assert_eq!(
        lane.decide(&facts(), &genuine()).reasons,
        vec![ReasonCode::NoStayConfigured]
    );
    // A non-ASEAN national stays redirected, not referred.
    let d = lane.decide(&with(|f| f.nationality = "UTO".into()), &genuine());
    assert_eq!(d.outcome, Outcome::Redirected);
    // Departures need no stay.
    lane.direction = Direction::Departure;
    assert_eq!(lane.decide(&facts(), &genuine()).outcome, Outcome::Approved);
}

#[test]
fn every_reason_that_applies_is_listed() {
    let mut lane = Lane::new();
    lane.rules.default_stay_days = None;
    let f = with(|f| {
        f.nationality = "UTO".into();
        f.expiry_date = "200101".into();
        f.birth_date = "150101".into();
    });
    let h = lane
        .watch
        .document_hash(&f.document_number, &f.issuing_state);
    lane.watch.add_document_hash(h);
    let p = lane.watch.person_hash(
        &f.primary_identifier,
        &f.secondary_identifier,
        &f.birth_date,
    );
    lane.watch.add_person_hash(p);
    lane.recent.insert(f.passage_key(), lane.now_unix_s);
    let d = lane.decide(&f, &tampered());
    assert_eq!(
        d.reasons,
        vec![
            ReasonCode::NotAseanNational,
            ReasonCode::DocumentExpired,
            ReasonCode::Minor,
            ReasonCode::WatchListDocument,
            ReasonCode::WatchListPerson,
            ReasonCode::NotGenuine,
            ReasonCode::Passback,
        ]
    );
    // A referral reason wins over a redirection.
    assert_eq!(d.outcome, Outcome::Referred);
    assert_eq!(d.traveller_message, MessageKey::SeeOfficer);
}

#[test]
fn biometrics_pending_then_applied() {
    let mut lane = Lane::new();
    lane.biometrics_required = true;
    let d = lane.decide(&facts(), &genuine());
    assert_eq!(d.outcome, Outcome::Approved);
    assert_eq!(d.biometrics, Biometrics::Pending);
    assert!(!d.permits_exit());
    let ok = d.clone().with_biometrics(Biometrics::FaceMatch {
        score: 800,
        threshold: 800,
    });
    assert!(ok.permits_exit());
    let cases = [
        (
            Biometrics::FaceMatch {
                score: 799,
                threshold: 800,
            },
            ReasonCode::FaceMismatch,
        ),
        (
            Biometrics::NoUsableCapture { tries: 3 },
            ReasonCode::FaceNoUsableCapture,
        ),
        (Biometrics::UnitFault, ReasonCode::FaceUnitFault),
        (Biometrics::NoReference, ReasonCode::FaceReferenceMissing),
    ];
    for (b, reason) in cases {
        let r = d.clone().with_biometrics(b);
        assert_eq!(r.outcome, Outcome::Referred);
        assert_eq!(r.reasons, vec![reason]);
        assert_eq!(r.biometrics, b);
        assert!(!r.permits_exit());
    }
}

#[test]
fn reason_codes_are_stable_and_distinct() {
    let names: std::collections::HashSet<_> = ReasonCode::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(names.len(), ReasonCode::ALL.len());
    assert_eq!(
        ReasonCode::WatchListDocument.to_string(),
        "watch_list_document"
    );
    for r in ReasonCode::ALL {
        let d = Decision::from_reasons(vec![r, r], None, Direction::Arrival, Biometrics::Skipped);
        assert_eq!(d.reasons, vec![r], "deduplicated");
        assert_ne!(d.outcome, Outcome::Approved);
    }
}

#[test]
fn debug_output_has_no_personal_data() {
    let f = facts();
    let shown = format!("{f:?} {:?}", f.passage_key());
    for secret in ["AA1234567", "SOMCHAI", "NARIN", "900115", "300101"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn dates_round_trip_through_days() {
    for days in [-800_000, -1, 0, 1, 10_957, 20_416, 2_932_896] {
        assert_eq!(Date::from_days(days).days(), days);
    }
    assert_eq!(
        Date::from_unix_seconds(0),
        Date::new(1970, 1, 1).expect("date")
    );
    assert_eq!(
        Date::from_unix_seconds(-1),
        Date::new(1969, 12, 31).expect("date")
    );
    assert_eq!(Date::new(2026, 2, 29), None);
    assert_eq!(today().to_string(), "2026-11-24");
}

fn arb_facts() -> impl Strategy<Value = DocumentFacts> {
    (
        prop::sample::select(vec!["THA", "MYS", "UTO", "D", "TLS"]),
        prop::sample::select(vec!["AA1234567", "X9", "L898902C3"]),
        prop::sample::select(vec!["900115", "150101", "0811<<", "<<0101", "081124"]),
        prop::sample::select(vec!["300101", "261124", "200101", "261123", "301399"]),
    )
        .prop_map(|(nat, num, birth, expiry)| {
            with(|f| {
                f.nationality = nat.into();
                f.document_number = num.into();
                f.birth_date = birth.into();
                f.expiry_date = expiry.into();
            })
        })
}

proptest! {
    #[test]
    fn approved_never_has_non_genuine_verdict_or_watch_hit(
        f in arb_facts(),
        is_genuine in any::<bool>(),
        list_doc in any::<bool>(),
        list_person in any::<bool>(),
        asean_only in any::<bool>(),
        min_validity in 0u32..400,
        minor_age in 0u8..=25,
        seen_ago in prop::option::of(-100i64..2000),
        departure in any::<bool>(),
    ) {
        let mut lane = Lane::new();
        lane.rules.asean_only = asean_only;
        lane.rules.min_validity_days = min_validity;
        lane.rules.minor_age = minor_age;
        lane.direction = if departure { Direction::Departure } else { Direction::Arrival };
        if list_doc {
            let h = lane.watch.document_hash(&f.document_number, &f.issuing_state);
            lane.watch.add_document_hash(h);
        }
        if list_person {
            let h = lane.watch.person_hash(&f.primary_identifier, &f.secondary_identifier, &f.birth_date);
            lane.watch.add_person_hash(h);
        }
        if let Some(ago) = seen_ago {
            lane.recent.insert(f.passage_key(), lane.now_unix_s - ago);
        }
        let verdict = if is_genuine { genuine() } else { tampered() };
        let d = lane.decide(&f, &verdict);
        let hit = lane.watch.check(&f);
        if d.outcome == Outcome::Approved {
            prop_assert!(verdict.genuine());
            prop_assert!(!hit.document && !hit.person);
            prop_assert!(d.reasons.is_empty());
        }
        if hit.document || hit.person || !verdict.genuine() {
            prop_assert_eq!(d.outcome, Outcome::Referred);
            prop_assert_eq!(d.traveller_message, MessageKey::SeeOfficer);
            prop_assert_eq!(d.officer_alert.map(|a| a.priority), Some(AlertPriority::High));
        }
    }
}
