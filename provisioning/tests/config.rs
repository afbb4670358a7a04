//! `kioskctl config`, `kioskctl watchlist import` and `kioskctl fleet plan`:
//! the built binary against kiosk-app's own loader, validator and policy.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{TempDir, kioskctl};
use icao9303::pa::Outcome as CheckOutcome;
use icao9303::verdict::{Verdict, VerdictCheck};
use kiosk_app::config::Config;
use kiosk_app::policy::{
    Date, Direction, DocumentFacts, LaneContext, Outcome, ReasonCode, RecentPassages, Rules,
    WatchList, decide,
};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run(args: &[&str]) -> Output {
    kioskctl(args, "")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// A lane configuration with comments, every section used.
const LANE: &str = r#"# The lane at KUL T1, gate A07.
site = "KUL"
terminal = "T1"
lane = "A07"
direction = "arrival"            # or "departure"
store = "/var/lib/asean-lane/passages.sqlite"
trust_store = "/var/lib/asean-lane/trust"

[devices]
reader = "Virtual PCD 00 00"     # PC/SC reader name
scanner = "/dev/ttyUSB0"
gate = "/dev/ttyUSB1"

[policy]
minor_age = 18                   # 0..=25
default_stay_days = 30
watch_list = "/var/lib/asean-lane/watch-list"
[policy.stay_days]
BRN = 14

[biometrics]
required = true
threshold = 0.8

[sync]
endpoint = "https://central.example:8443"
unit_id = "KUL-T1-A07"
ca = "/var/lib/asean-lane/identity/central-ca.pem"
cert = "/var/lib/asean-lane/identity/unit.pem"
key = "/var/lib/asean-lane/identity/unit.key"
retention_days = 30

[supervision]
listen = "0.0.0.0:7443"
ca_cert = "/var/lib/asean-lane/identity/console-ca.pem"
cert = "/var/lib/asean-lane/identity/unit.pem"
key = "/var/lib/asean-lane/identity/unit.key"
officers = "/var/lib/asean-lane/officers.toml"
lockout_after = 7
"#;

// ---------------------------------------------------------------- config validate

#[test]
fn config_validate_accepts_a_valid_file() {
    let dir = TempDir::new("validate-ok");
    let lane = dir.write("lane.toml", LANE);
    let out = run(&["config", "validate", "--config", s(&lane)]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("valid"));
    let v = json(&run(&[
        "config",
        "validate",
        "--config",
        s(&lane),
        "--json",
    ]));
    assert_eq!(v["valid"], true);
}

#[test]
fn config_validate_names_the_bad_key() {
    let dir = TempDir::new("validate-bad");
    let cases = [
        ("minor_age = 18", "minor_age = 40", "policy.minor_age"),
        (
            "[devices]\n",
            "[devices]\ncolour = \"red\"\n",
            "devices.colour",
        ),
        ("gate = \"/dev/ttyUSB1\"\n", "", "devices.gate"),
        (
            "gate = \"/dev/ttyUSB1\"",
            "gate = \"/dev/ttyUSB0\"",
            "devices.gate",
        ),
        ("direction = \"arrival\"", "direction = 3", "direction"),
        (
            "lockout_after = 7",
            "lockout_after = 0",
            "supervision.lockout_after",
        ),
    ];
    for (from, to, key) in cases {
        assert!(LANE.contains(from), "{from}");
        let lane = dir.write("lane.toml", &LANE.replacen(from, to, 1));
        let out = run(&["config", "validate", "--config", s(&lane)]);
        assert_eq!(code(&out), Some(1), "{key}");
        assert!(stderr(&out).contains(key), "{key}: {}", stderr(&out));
        let out = run(&["config", "validate", "--config", s(&lane), "--json"]);
        assert_eq!(code(&out), Some(1));
        let v = json(&out);
        assert_eq!(v["key"], key);
        assert!(v["error"].as_str().unwrap().contains(key));
    }
}

#[test]
fn config_validate_refuses_syntax_errors_and_missing_files() {
    let dir = TempDir::new("validate-syntax");
    let lane = dir.write("lane.toml", "site = \n");
    let out = run(&["config", "validate", "--config", s(&lane), "--json"]);
    assert_eq!(code(&out), Some(1));
    assert!(json(&out)["error"].as_str().unwrap().contains("TOML"));
    let missing = dir.path("absent.toml");
    let out = run(&["config", "validate", "--config", s(&missing)]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("absent.toml"));
}

#[test]
fn config_default_path_is_etc_asean_lane() {
    // This machine has no /etc/asean-lane/lane.toml: the error names the default.
    if Path::new("/etc/asean-lane/lane.toml").exists() {
        return;
    }
    let out = run(&["config", "validate"]);
    assert_eq!(code(&out), Some(1));
    assert!(
        stderr(&out).contains("/etc/asean-lane/lane.toml"),
        "{}",
        stderr(&out)
    );
    let help = stdout(&run(&["config", "show", "--help"]));
    assert!(help.contains("/etc/asean-lane/lane.toml"));
}

// ---------------------------------------------------------------- config show

#[test]
fn config_show_json_fills_in_defaults_and_prints_key_paths_only() {
    let dir = TempDir::new("show-json");
    let lane = dir.write(
        "lane.toml",
        &LANE.replace(
            "https://central.example:8443",
            "https://tech:hunter2@central.example:8443",
        ),
    );
    let out = run(&["config", "show", "--config", s(&lane), "--json"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["site"], "KUL");
    assert_eq!(v["policy"]["minor_age"], 18);
    assert_eq!(v["policy"]["passback_minutes"], 10, "a default");
    assert_eq!(v["policy"]["stay_days"]["BRN"], 14);
    assert_eq!(v["timeouts"]["document_ms"], 30000, "a default");
    assert_eq!(v["biometrics"]["threshold"], 0.8);
    assert_eq!(v["biometrics"]["max_tries"], 3, "a default");
    assert_eq!(v["store_min_free_mb"], 64);
    assert_eq!(
        v["signing_key"],
        "/var/lib/asean-lane/identity/record-signing.key"
    );
    assert_eq!(v["sync"]["key"], "/var/lib/asean-lane/identity/unit.key");
    assert_eq!(v["sync"]["endpoint"], "https://***@central.example:8443");
    assert_eq!(v["supervision"]["lockout_after"], 7);
    assert_eq!(v["supervision"]["max_consoles"], 16, "a default");
    assert!(!stdout(&out).contains("hunter2"));
    let human = run(&["config", "show", "--config", s(&lane)]);
    assert!(!stdout(&human).contains("hunter2"));
}

#[test]
fn config_show_never_reads_key_files() {
    let dir = TempDir::new("show-keys");
    let key = dir.write(
        "unit.key",
        "-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL\n",
    );
    let lane = dir.write(
        "lane.toml",
        &LANE.replace("/var/lib/asean-lane/identity/unit.key", s(&key)),
    );
    for args in [vec!["--json"], vec![]] {
        let mut all = vec!["config", "show", "--config", s(&lane)];
        all.extend(args);
        let out = run(&all);
        assert_eq!(code(&out), Some(0));
        assert!(stdout(&out).contains(s(&key)), "the path is shown");
        assert!(!stdout(&out).contains("SECRETKEYMATERIAL"));
        assert!(!stdout(&out).contains("PRIVATE KEY"));
    }
}

#[test]
fn config_show_toml_is_the_same_configuration() {
    let dir = TempDir::new("show-toml");
    let lane = dir.write("lane.toml", LANE);
    let out = run(&["config", "show", "--config", s(&lane)]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let shown = Config::from_toml_str(&stdout(&out)).unwrap();
    assert_eq!(shown, Config::load(&lane).unwrap());
    // A minimal file too: every default written out loads back the same.
    let minimal = dir.write(
        "minimal.toml",
        "site = \"S\"\nterminal = \"T\"\nlane = \"L\"\ndirection = \"departure\"\nstore = \"/s\"\ntrust_store = \"/t\"\n[devices]\nreader = \"r\"\nscanner = \"/dev/a\"\ngate = \"/dev/b\"\n",
    );
    let out = run(&["config", "show", "--config", s(&minimal)]);
    let shown = Config::from_toml_str(&stdout(&out)).unwrap();
    assert_eq!(shown, Config::load(&minimal).unwrap());
}

#[test]
fn config_show_refuses_an_invalid_file_naming_the_key() {
    let dir = TempDir::new("show-bad");
    let lane = dir.write(
        "lane.toml",
        &LANE.replace("minor_age = 18", "minor_age = 99"),
    );
    let out = run(&["config", "show", "--config", s(&lane), "--json"]);
    assert_eq!(code(&out), Some(1));
    assert_eq!(json(&out)["key"], "policy.minor_age");
    let out = run(&["config", "show", "--config", s(&lane)]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("policy.minor_age"));
}

// ---------------------------------------------------------------- config set

#[test]
fn config_set_edits_keys_keeping_comments_and_layout() {
    let dir = TempDir::new("set-ok");
    let lane = dir.write("lane.toml", LANE);
    let out = run(&[
        "config",
        "set",
        "--config",
        s(&lane),
        "policy.minor_age",
        "16",
        "devices.reader",
        "ACS ACR122U",
        "policy.stay_days.THA",
        "30",
        "direction",
        "departure",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&lane).unwrap();
    assert!(
        text.contains("minor_age = 16                   # 0..=25"),
        "{text}"
    );
    assert!(
        text.contains("reader = \"ACS ACR122U\"     # PC/SC reader name"),
        "{text}"
    );
    assert!(
        text.contains("direction = \"departure\"            # or \"departure\""),
        "{text}"
    );
    assert!(text.starts_with("# The lane at KUL T1, gate A07.\n"));
    // Every line not set is as it was.
    let changed: Vec<_> = LANE
        .lines()
        .filter(|l| !text.lines().any(|t| t == *l))
        .collect();
    assert_eq!(changed.len(), 3, "{changed:?}");
    let config = Config::load(&lane).unwrap();
    assert_eq!(config.policy.minor_age, 16);
    assert_eq!(config.devices.reader, "ACS ACR122U");
    assert_eq!(config.policy.stay_days.get("THA"), Some(&30));
    assert_eq!(config.direction, Direction::Departure);
    // No temporary file is left beside it.
    assert_eq!(dir.names(), vec!["lane.toml"]);
}

#[test]
fn config_set_gives_text_keys_text() {
    let dir = TempDir::new("set-text");
    let lane = dir.write("lane.toml", LANE);
    // A number for a text key (unit ids are text) and a new text key.
    let out = run(&[
        "config",
        "set",
        "--config",
        s(&lane),
        "--json",
        "sync.unit_id",
        "1234",
        "signing_key",
        "/opt/key",
        "site",
        "2024",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stdout(&out));
    let v = json(&out);
    assert_eq!(v["changed"], true);
    assert_eq!(v["keys"][0], "sync.unit_id");
    let config = Config::load(&lane).unwrap();
    assert_eq!(config.sync.unwrap().worker.unit_id, "1234");
    assert_eq!(config.signing_key, PathBuf::from("/opt/key"));
    assert_eq!(config.site, "2024");
    // The file's leading comment (the first key's) is kept.
    let text = std::fs::read_to_string(&lane).unwrap();
    assert!(
        text.starts_with("# The lane at KUL T1, gate A07.\nsite = \"2024\"\n"),
        "{text}"
    );
}

#[test]
fn config_set_same_value_leaves_the_file_alone() {
    let dir = TempDir::new("set-same");
    let lane = dir.write("lane.toml", LANE);
    let out = run(&[
        "config",
        "set",
        "--config",
        s(&lane),
        "--json",
        "site",
        "KUL",
    ]);
    assert_eq!(code(&out), Some(0));
    assert_eq!(json(&out)["changed"], false);
    assert_eq!(std::fs::read_to_string(&lane).unwrap(), LANE);
}

#[test]
fn config_set_refuses_invalid_values_and_leaves_the_file_unchanged() {
    let dir = TempDir::new("set-bad");
    let lane = dir.write("lane.toml", LANE);
    std::fs::set_permissions(&lane, std::fs::Permissions::from_mode(0o640)).unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&["policy.minor_age", "40"], "policy.minor_age"),
        (&["policy.minor_age", "-3"], "policy.minor_age"),
        (&["policy.minor_age", "many"], "policy.minor_age"),
        (&["devices.colour", "red"], "devices.colour"),
        // Across keys: the gate cannot be on the scanner's line.
        (&["devices.gate", "/dev/ttyUSB0"], "devices.gate"),
        (&["biometrics.threshold", "1.5"], "biometrics.threshold"),
        // One good value with a bad one: nothing is written.
        (
            &["policy.minor_age", "16", "direction", "sideways"],
            "direction",
        ),
        // A section is not a value, and a value has no keys.
        (&["policy", "1"], "policy"),
        (&["site.code", "1"], "site.code"),
    ];
    for (pairs, key) in cases {
        let mut args = vec!["config", "set", "--config", s(&lane), "--json"];
        args.extend_from_slice(pairs);
        let out = run(&args);
        assert_eq!(code(&out), Some(1), "{pairs:?}: {}", stdout(&out));
        let v = json(&out);
        assert_eq!(v["key"], key, "{pairs:?}");
        assert!(v["error"].as_str().unwrap().contains(key));
        assert_eq!(std::fs::read(&lane).unwrap(), LANE.as_bytes(), "{pairs:?}");
        // Human output names the key on stderr.
        let mut args = vec!["config", "set", "--config", s(&lane)];
        args.extend_from_slice(pairs);
        let out = run(&args);
        assert_eq!(code(&out), Some(1));
        assert!(stderr(&out).contains(key), "{}", stderr(&out));
        assert_eq!(std::fs::read(&lane).unwrap(), LANE.as_bytes());
    }
    assert_eq!(dir.names(), vec!["lane.toml"]);
    let mode = std::fs::metadata(&lane).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn config_set_keeps_the_file_mode() {
    let dir = TempDir::new("set-mode");
    let lane = dir.write("lane.toml", LANE);
    std::fs::set_permissions(&lane, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run(&["config", "set", "--config", s(&lane), "lane", "A08"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let mode = std::fs::metadata(&lane).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_eq!(Config::load(&lane).unwrap().lane, "A08");
}

#[test]
fn config_set_refuses_a_key_without_a_value_before_reading() {
    let dir = TempDir::new("set-args");
    let lane = dir.write("lane.toml", LANE);
    let out = run(&["config", "set", "--config", s(&lane), "site", "X", "lane"]);
    assert_eq!(code(&out), Some(2));
    assert!(stderr(&out).contains("lane"), "{}", stderr(&out));
    let out = run(&["config", "set", "--config", s(&lane), "site"]);
    assert_eq!(code(&out), Some(2));
    let out = run(&["config", "set", "--config", s(&lane)]);
    assert_eq!(code(&out), Some(2));
    assert_eq!(std::fs::read(&lane).unwrap(), LANE.as_bytes());
}

#[test]
fn config_set_refuses_a_missing_or_broken_file() {
    let dir = TempDir::new("set-missing");
    let out = run(&[
        "config",
        "set",
        "--config",
        s(&dir.path("absent.toml")),
        "site",
        "X",
    ]);
    assert_eq!(code(&out), Some(1));
    assert!(dir.names().is_empty(), "nothing created");
    let broken = dir.write("broken.toml", "site = [\n");
    let out = run(&[
        "config",
        "set",
        "--config",
        s(&broken),
        "--json",
        "site",
        "X",
    ]);
    assert_eq!(code(&out), Some(1));
    assert!(json(&out)["error"].as_str().unwrap().contains("TOML"));
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), "site = [\n");
}

// ---------------------------------------------------------------- watchlist import

/// The specimen passport (ICAO 9303-4 appendix): ERIKSSON ANNA MARIA, L898902C3, UTO.
const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n";
/// A TD1 card: STEVENSON PETER JOHN, D23145890734, UTO.
const TD1: &str = "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<\n";

/// A Thai traveller the lane would approve.
fn thai(number: &str, surname: &str, given: &str, birth: &str) -> DocumentFacts {
    DocumentFacts {
        document_type: "P".into(),
        issuing_state: "THA".into(),
        document_number: number.into(),
        nationality: "THA".into(),
        primary_identifier: surname.into(),
        secondary_identifier: given.into(),
        birth_date: birth.into(),
        sex: 'M',
        expiry_date: "300101".into(),
    }
}

/// The lane's decision for `facts` with `watch` as its watch list.
fn lane_decides(facts: &DocumentFacts, watch: &WatchList) -> (Outcome, Vec<ReasonCode>) {
    let today = Date::new(2026, 1, 10).unwrap();
    let rules = Rules::default();
    let history = RecentPassages::default();
    let verdict = Verdict {
        checks: vec![VerdictCheck {
            name: "passive_authentication".into(),
            outcome: CheckOutcome::Passed,
            mandatory: true,
        }],
    };
    let ctx = LaneContext {
        rules: &rules,
        direction: Direction::Arrival,
        today,
        now_unix_s: today.days() * 86_400,
        watch_list: watch,
        history: &history,
        biometrics_required: false,
    };
    let d = decide(facts, &verdict, &ctx);
    (d.outcome, d.reasons)
}

const WATCH_CSV: &str = "document_number,issuing_state,surname,given_names,birth_date\n\
    l898902c3,uto,Eriksson,\"Anna Maria\",1974-08-12\n\
    AA7654321,THA,,,\n\
    ,,Jaidee,Somsak-Wan,850203\n";

/// Every name, number and date of [`WATCH_CSV`], in forms that could leak.
const PLAINTEXT: [&str; 12] = [
    "L898902C3",
    "ERIKSSON",
    "ANNA",
    "MARIA",
    "740812",
    "1974-08-12",
    "AA7654321",
    "JAIDEE",
    "SOMSAK",
    "WAN",
    "850203",
    "UTO",
];

/// Imports `csv` and returns the run and the paths of the salt file and the list.
fn import(dir: &TempDir, csv: &str, extra: &[&str]) -> (Output, PathBuf, PathBuf) {
    let file = dir.write("list.csv", csv);
    let salt = dir.path("salt");
    let out = dir.path("watch-list");
    let mut args = vec![
        "watchlist",
        "import",
        "--salt-file",
        s(&salt),
        "--out",
        s(&out),
    ];
    args.extend_from_slice(extra);
    args.push(s(&file));
    (run(&args), salt, out)
}

fn load(path: &Path) -> WatchList {
    WatchList::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn watchlist_import_makes_the_lane_policy_flag_listed_documents_and_persons() {
    let dir = TempDir::new("wl-policy");
    let (out, salt, list) = import(&dir, WATCH_CSV, &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(salt.exists());
    let watch = load(&list);
    assert_eq!(watch.len(), 4);

    // The specimen, as the lane reads it from the MRZ: both entries match.
    let mrz = icao9303::mrz::parse(TD3, icao9303::mrz::Mode::Strict).unwrap();
    let hit = watch.check(&DocumentFacts::from_mrz(&mrz));
    assert!(hit.document && hit.person, "{hit:?}");
    // A card not on the list: no match.
    let mrz = icao9303::mrz::parse(TD1, icao9303::mrz::Mode::Strict).unwrap();
    let hit = watch.check(&DocumentFacts::from_mrz(&mrz));
    assert!(!hit.document && !hit.person, "{hit:?}");

    // Through the lane's rules: an approvable traveller is referred when listed.
    let clean = thai("AA1234567", "SOMCHAI", "NARIN", "900115");
    assert_eq!(lane_decides(&clean, &watch).0, Outcome::Approved);
    let listed_document = thai("AA7654321", "SOMCHAI", "NARIN", "900115");
    let (outcome, reasons) = lane_decides(&listed_document, &watch);
    assert_eq!(outcome, Outcome::Referred);
    assert!(
        reasons.contains(&ReasonCode::WatchListDocument),
        "{reasons:?}"
    );
    assert!(!reasons.contains(&ReasonCode::WatchListPerson));
    let listed_person = thai("AA1111111", "JAIDEE", "SOMSAK WAN", "850203");
    let (outcome, reasons) = lane_decides(&listed_person, &watch);
    assert_eq!(outcome, Outcome::Referred);
    assert!(
        reasons.contains(&ReasonCode::WatchListPerson),
        "{reasons:?}"
    );
    // Same name, another birth date; same number, another state: not listed.
    let other = thai("AA1111111", "JAIDEE", "SOMSAK WAN", "850204");
    assert_eq!(lane_decides(&other, &watch).0, Outcome::Approved);
    let mut other_state = thai("AA7654321", "SOMCHAI", "NARIN", "900115");
    other_state.issuing_state = "MYS".into();
    assert_eq!(lane_decides(&other_state, &watch).0, Outcome::Approved);
}

#[test]
fn watchlist_import_loads_through_the_lane_configuration() {
    let dir = TempDir::new("wl-config");
    let (out, _, list) = import(&dir, WATCH_CSV, &[]);
    assert_eq!(code(&out), Some(0));
    let lane = dir.write(
        "lane.toml",
        &LANE.replace("/var/lib/asean-lane/watch-list", s(&list)),
    );
    let config = Config::load(&lane).unwrap();
    let path = config.watch_list.unwrap();
    assert_eq!(load(&path).len(), 4);
}

#[test]
fn watchlist_file_and_output_hold_no_plaintext() {
    let dir = TempDir::new("wl-plain");
    for extra in [&[][..], &["--json"][..]] {
        let (out, salt, list) = import(&dir, WATCH_CSV, extra);
        assert_eq!(code(&out), Some(0), "{}", stderr(&out));
        let file = std::fs::read_to_string(&list).unwrap().to_ascii_uppercase();
        let said = format!("{}{}", stdout(&out), stderr(&out)).to_ascii_uppercase();
        for word in PLAINTEXT {
            assert!(!file.contains(word), "the file holds {word}");
            assert!(!said.contains(word), "the output holds {word}");
        }
        // Only a salt and hashes.
        for line in file.lines().filter(|l| !l.starts_with('#')) {
            let (kind, hex) = line.split_once(' ').unwrap();
            assert!(["SALT", "DOCUMENT", "PERSON"].contains(&kind), "{line}");
            assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
        }
        let mode = std::fs::metadata(&list).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mode = std::fs::metadata(&salt).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn watchlist_import_json_reports_counts() {
    let dir = TempDir::new("wl-json");
    let csv = format!("{WATCH_CSV}AA7654321,THA,,,\n");
    let (out, _, _) = import(&dir, &csv, &["--json"]);
    assert_eq!(code(&out), Some(0));
    let v = json(&out);
    assert_eq!(v["rows"], 4);
    assert_eq!(v["documents"], 2);
    assert_eq!(v["persons"], 2);
    assert_eq!(v["duplicates"], 1);
    assert_eq!(v["salt_created"], true);
}

#[test]
fn watchlist_import_reuses_the_salt_file() {
    let dir = TempDir::new("wl-salt");
    let (out, salt, list) = import(&dir, WATCH_CSV, &[]);
    assert_eq!(code(&out), Some(0));
    let first = std::fs::read_to_string(&list).unwrap();
    let salt_text = std::fs::read_to_string(&salt).unwrap();
    let (out, _, _) = import(&dir, WATCH_CSV, &["--json"]);
    assert_eq!(code(&out), Some(0));
    assert_eq!(json(&out)["salt_created"], false);
    assert_eq!(
        std::fs::read_to_string(&list).unwrap(),
        first,
        "same salt, same file"
    );
    assert_eq!(std::fs::read_to_string(&salt).unwrap(), salt_text);
    assert!(first.contains(salt_text.trim()));
}

#[test]
fn watchlist_import_refuses_a_bad_salt_file() {
    for (text, what) in [("not hex\n", "hex"), ("00112233\n", "at least 16 bytes")] {
        let dir = TempDir::new("wl-badsalt");
        dir.write("salt", text);
        let (out, _, list) = import(&dir, WATCH_CSV, &["--json"]);
        assert_eq!(code(&out), Some(1));
        assert!(json(&out)["error"].as_str().unwrap().contains(what));
        assert!(!list.exists());
        assert_eq!(std::fs::read_to_string(dir.path("salt")).unwrap(), text);
    }
}

#[test]
fn watchlist_malformed_rows_name_the_line_and_nothing_is_written() {
    let dir = TempDir::new("wl-bad");
    let csv = "document_number,issuing_state,surname,given_names,birth_date\n\
        SECRETA1,THA,,,\n\
        SECRETB2,THAILAND,,,\n\
        SECRETC3,,,,\n\
        ,,SECRETNAMED,,\n\
        ,,SECRETNAMEE,,1985-13-01\n\
        ,,SECRETNAMEF,,85/01/01\n\
        SECRET G7,THA,,,\n\
        ,,SECRÉTNAMEH,,850101\n\
        ,,,,\n\
        SECRETJ10,THA,SECRETNAMEJ\n\
        \"SECRETK11,THA,,,\n";
    let (out, salt, list) = import(&dir, csv, &["--json"]);
    assert_eq!(code(&out), Some(1), "{}", stdout(&out));
    let v = json(&out);
    let lines: Vec<u64> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    let errors = v["errors"].to_string();
    assert!(errors.contains("issuing_state"));
    assert!(errors.contains("birth_date"));
    assert!(errors.contains("surname"));
    assert!(errors.contains("fields"));
    assert!(errors.contains("not closed"));
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!said.contains("SECRET"), "{said}");
    assert!(!said.contains("1985"));
    assert!(!list.exists(), "nothing written");
    assert!(!salt.exists(), "no salt written either");
    // Human output: the same lines on stderr, no data.
    let (out, _, list) = import(&dir, csv, &[]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("line 3: "));
    assert!(stderr(&out).contains("line 12: "));
    assert!(!stderr(&out).contains("SECRET"));
    assert!(!stdout(&out).contains("SECRET"));
    assert!(!list.exists());
}

#[test]
fn watchlist_malformed_rows_leave_an_existing_list_unchanged() {
    let dir = TempDir::new("wl-keep");
    let (out, _, list) = import(&dir, WATCH_CSV, &[]);
    assert_eq!(code(&out), Some(0));
    let before = std::fs::read(&list).unwrap();
    let (out, _, _) = import(&dir, &format!("{WATCH_CSV}X1,NOPE,,,\n"), &[]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("line 5"));
    assert_eq!(std::fs::read(&list).unwrap(), before);
}

#[test]
fn watchlist_header_problems_are_refused() {
    let cases = [
        ("", "empty"),
        (
            "document_number,issuing_state,nationality\nA1,THA,THA\n",
            "nationality",
        ),
        ("document_number\nA1\n", "go together"),
        ("surname,given_names\nX,Y\n", "go together"),
        ("given_names,birth_date\nX,850101\n", "go together"),
        ("document_number,document_number,issuing_state\n", "twice"),
    ];
    for (csv, what) in cases {
        let dir = TempDir::new("wl-header");
        let (out, _, list) = import(&dir, csv, &["--json"]);
        assert_eq!(code(&out), Some(1), "{csv}");
        let v = json(&out);
        assert_eq!(v["errors"][0]["line"], 1, "{csv}");
        assert!(
            v["errors"][0]["error"].as_str().unwrap().contains(what),
            "{v}"
        );
        assert!(!list.exists());
    }
}

#[test]
fn watchlist_refuses_text_that_is_not_utf8() {
    let dir = TempDir::new("wl-utf8");
    let file = dir.path("list.csv");
    std::fs::write(
        &file,
        b"document_number,issuing_state\nA1,THA\nB\xff2,THA\n",
    )
    .unwrap();
    let out = run(&[
        "watchlist",
        "import",
        "--json",
        "--salt-file",
        s(&dir.path("salt")),
        "--out",
        s(&dir.path("wl")),
        s(&file),
    ]);
    assert_eq!(code(&out), Some(1));
    let v = json(&out);
    assert_eq!(v["errors"][0]["line"], 3);
    assert!(!dir.path("wl").exists());
}

#[test]
fn watchlist_refuses_a_missing_csv_and_clashing_paths() {
    let dir = TempDir::new("wl-paths");
    let out = run(&[
        "watchlist",
        "import",
        "--salt-file",
        s(&dir.path("salt")),
        "--out",
        s(&dir.path("wl")),
        s(&dir.path("absent.csv")),
    ]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("absent.csv"));
    let csv = dir.write("list.csv", WATCH_CSV);
    let out = run(&[
        "watchlist",
        "import",
        "--salt-file",
        s(&dir.path("salt")),
        "--out",
        s(&csv),
        s(&csv),
    ]);
    assert_eq!(code(&out), Some(2), "the list would overwrite the CSV");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), WATCH_CSV);
    // --salt-file and --out are required.
    let out = run(&["watchlist", "import", "--out", s(&dir.path("wl")), s(&csv)]);
    assert_eq!(code(&out), Some(2));
    let out = run(&[
        "watchlist",
        "import",
        "--salt-file",
        s(&dir.path("salt")),
        s(&csv),
    ]);
    assert_eq!(code(&out), Some(2));
    assert_eq!(dir.names(), vec!["list.csv"]);
}

#[test]
fn watchlist_imports_a_large_file() {
    let dir = TempDir::new("wl-large");
    let mut csv = String::from("document_number,issuing_state\n");
    for i in 0..60_000 {
        csv.push_str(&format!("X{i:08},THA\n"));
    }
    let (out, _, list) = import(&dir, &csv, &["--json"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["documents"], 60_000);
    // Not a terminal: no progress lines.
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let watch = load(&list);
    let hit = watch.check(&thai("X00012345", "A", "B", "900101"));
    assert!(hit.document);
}

// ---------------------------------------------------------------- fleet plan

const TEMPLATE: &str = r#"# Fleet template: every unit starts here.
site = "XXX"
terminal = "T0"
lane = "L0"
direction = "arrival"
store = "/var/lib/asean-lane/passages.sqlite"
trust_store = "/var/lib/asean-lane/trust"

[devices]
reader = "ACS ACR122U"           # PC/SC reader name
scanner = "/dev/ttyUSB0"
gate = "/dev/ttyUSB1"

[sync]
endpoint = "https://central.example:8443"
unit_id = "template"
ca = "/var/lib/asean-lane/identity/central-ca.pem"
cert = "/var/lib/asean-lane/identity/unit.pem"
key = "/var/lib/asean-lane/identity/unit.key"
"#;

/// Runs `fleet plan` on `manifest` with [`TEMPLATE`], into `dir/out`.
fn plan(dir: &TempDir, manifest: &str, extra: &[&str]) -> (Output, PathBuf) {
    let m = dir.write("manifest.csv", manifest);
    let t = dir.write("template.toml", TEMPLATE);
    let out = dir.path("out");
    let mut args = vec!["fleet", "plan", "--template", s(&t), "--out", s(&out)];
    args.extend_from_slice(extra);
    args.push(s(&m));
    (run(&args), out)
}

const MANIFEST: &str = "site,terminal,lane,direction,reader,scanner,gate,policy.minor_age\n\
    KUL,T1,A07,arrival,,,,\n\
    KUL,T1,A08,departure,\"Other, Reader\",/dev/ttyS0,/dev/ttyS1,16\n\
    # a comment line\n\
    BKK,T2,D01,arrival,,,,\n";

#[test]
fn fleet_plan_writes_one_valid_file_per_unit() {
    let dir = TempDir::new("fleet-ok");
    let (out, dest) = plan(&dir, MANIFEST, &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let mut names: Vec<_> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["BKK-T2-D01.toml", "KUL-T1-A07.toml", "KUL-T1-A08.toml"]
    );
    let a07 = Config::load(&dest.join("KUL-T1-A07.toml")).unwrap();
    assert_eq!(
        (a07.site.as_str(), a07.terminal.as_str(), a07.lane.as_str()),
        ("KUL", "T1", "A07")
    );
    assert_eq!(
        a07.devices.reader, "ACS ACR122U",
        "an empty cell keeps the template's"
    );
    assert_eq!(a07.sync.unwrap().worker.unit_id, "KUL-T1-A07");
    let a08 = Config::load(&dest.join("KUL-T1-A08.toml")).unwrap();
    assert_eq!(a08.direction, Direction::Departure);
    assert_eq!(a08.devices.reader, "Other, Reader");
    assert_eq!(a08.devices.scanner, PathBuf::from("/dev/ttyS0"));
    assert_eq!(a08.devices.gate, PathBuf::from("/dev/ttyS1"));
    assert_eq!(a08.policy.minor_age, 16);
    assert_eq!(a08.sync.unwrap().worker.unit_id, "KUL-T1-A08");
    let text = std::fs::read_to_string(dest.join("KUL-T1-A08.toml")).unwrap();
    assert!(text.contains("# Fleet template: every unit starts here."));
    assert!(text.contains("# PC/SC reader name"));
    assert!(text.contains("line 3"));
    let v = json(&plan(&dir, MANIFEST, &["--json", "--force"]).0);
    assert_eq!(v["written"], 3);
    assert_eq!(v["units"][2]["unit"], "BKK-T2-D01");
    assert_eq!(v["units"][2]["line"], 5);
}

#[test]
fn fleet_plan_unit_id_column() {
    let dir = TempDir::new("fleet-unitid");
    let manifest = "site,terminal,lane,unit_id\nKUL,T1,A07,kul-07\nKUL,T1,A08,\n";
    let (out, dest) = plan(&dir, manifest, &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let a07 = Config::load(&dest.join("KUL-T1-A07.toml")).unwrap();
    assert_eq!(a07.sync.unwrap().worker.unit_id, "kul-07");
    let a08 = Config::load(&dest.join("KUL-T1-A08.toml")).unwrap();
    assert_eq!(a08.sync.unwrap().worker.unit_id, "KUL-T1-A08");
}

/// `fleet plan` must exit 1 and write nothing; returns the `--json` errors.
fn refused(manifest: &str) -> Vec<Value> {
    let dir = TempDir::new("fleet-bad");
    let (out, dest) = plan(&dir, manifest, &["--json"]);
    assert_eq!(code(&out), Some(1), "{}", stdout(&out));
    assert!(!dest.exists(), "nothing written");
    let (human, _) = plan(&dir, manifest, &[]);
    assert_eq!(code(&human), Some(1));
    assert!(stderr(&human).contains("line "), "{}", stderr(&human));
    assert!(!dest.exists());
    json(&out)["errors"].as_array().unwrap().clone()
}

#[test]
fn fleet_plan_refuses_duplicate_units() {
    let errors = refused("site,terminal,lane\nKUL,T1,A07\nKUL,T1,A08\nKUL,T1,A07\n");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["line"], 4);
    assert_eq!(errors[0]["key"], "lane");
    assert!(errors[0]["error"].as_str().unwrap().contains("line 2"));
    let errors = refused("site,terminal,lane,unit_id\nKUL,T1,A07,same\nKUL,T1,A08,same\n");
    assert_eq!(errors[0]["line"], 3);
    assert_eq!(errors[0]["key"], "sync.unit_id");
}

#[test]
fn fleet_plan_refuses_invalid_rows_naming_line_and_key() {
    let manifest = "site,terminal,lane,direction,gate,policy.minor_age,devices.colour\n\
        KUL,T1,A01,arrival,,,\n\
        KUL,T1,A02,sideways,,,\n\
        KUL,T1,A03,,/dev/ttyUSB0,,\n\
        KUL,T1,A04,,,99,\n\
        KUL,T1,A05,,,,red\n\
        KUL,T1,,,,,\n\
        KUL,T1,../A07,,,,\n\
        KUL,T1,A08,,\n";
    let errors = refused(manifest);
    let got: Vec<(u64, Option<&str>)> = errors
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["key"].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, Some("direction")),
            (4, Some("devices.gate")),
            (5, Some("policy.minor_age")),
            (6, Some("devices.colour")),
            (7, Some("lane")),
            (8, Some("lane")),
            (9, None),
        ]
    );
    for e in &errors[..6] {
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .contains(e["key"].as_str().unwrap()),
            "{e}"
        );
    }
}

#[test]
fn fleet_plan_refuses_bad_headers_templates_and_manifests() {
    let errors = refused("site,terminal,direction\nKUL,T1,arrival\n");
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["key"].as_str()),
        (Some(1), Some("lane"))
    );
    let errors = refused("site,terminal,lane,reader,devices.reader\nKUL,T1,A1,a,b\n");
    assert_eq!(errors[0]["key"], "devices.reader");
    let errors = refused("site,terminal,lane\nKUL,\"T1,A1\n");
    assert!(errors[0]["error"].as_str().unwrap().contains("not closed"));

    let dir = TempDir::new("fleet-template");
    let m = dir.write("manifest.csv", MANIFEST);
    let t = dir.write("template.toml", "site = [\n");
    let out = run(&[
        "fleet",
        "plan",
        "--json",
        "--template",
        s(&t),
        "--out",
        s(&dir.path("out")),
        s(&m),
    ]);
    assert_eq!(code(&out), Some(1));
    assert!(json(&out)["error"].as_str().unwrap().contains("TOML"));
    let out = run(&[
        "fleet",
        "plan",
        "--template",
        s(&dir.path("absent.toml")),
        "--out",
        s(&dir.path("out")),
        s(&m),
    ]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("absent.toml"));
    let out = run(&["fleet", "plan", "--template", s(&t), s(&m)]);
    assert_eq!(code(&out), Some(2), "--out is required");
    assert!(!dir.path("out").exists());
}

#[test]
fn fleet_plan_refuses_existing_files_without_force() {
    let dir = TempDir::new("fleet-force");
    let (out, dest) = plan(&dir, MANIFEST, &[]);
    assert_eq!(code(&out), Some(0));
    std::fs::write(dest.join("KUL-T1-A07.toml"), "kept").unwrap();
    std::fs::remove_file(dest.join("BKK-T2-D01.toml")).unwrap();
    let (out, _) = plan(&dir, MANIFEST, &[]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dest.join("KUL-T1-A07.toml")).unwrap(),
        "kept"
    );
    assert!(!dest.join("BKK-T2-D01.toml").exists(), "nothing written");
    let (out, _) = plan(&dir, MANIFEST, &["--force"]);
    assert_eq!(code(&out), Some(0));
    assert!(Config::load(&dest.join("KUL-T1-A07.toml")).is_ok());
    assert!(dest.join("BKK-T2-D01.toml").exists());
}
