use super::*;

const FULL: &str = r#"
site = "KUL"
terminal = "T1"
lane = "A07"
direction = "arrival"
store = "/var/lib/asean-lane/passages.sqlite"
trust_store = "/var/lib/asean-lane/trust"

[devices]
reader = "Virtual PCD 00 00"
scanner = "/dev/ttyUSB0"
scanner_framing = "stx-etx"
gate = "/dev/ttyUSB1"

[policy]
asean_only = true
min_validity_days = 180
minor_age = 18
passback_minutes = 15
default_stay_days = 30
watch_list = "/var/lib/asean-lane/watch-list"
[policy.stay_days]
BRN = 14
THA = 30

[biometrics]
required = true
threshold = 0.8
max_tries = 3

[timeouts]
document_ms = 30000
chip_ms = 10000
face_ms = 15000
walk_away_ms = 20000
processing_ms = 5000

[retries]
document = 2
chip = 1
"#;

const MINIMAL: &str = r#"
site = "KUL"
terminal = "T1"
lane = "A07"
direction = "departure"
store = "/s"
trust_store = "/t"
[devices]
reader = "r"
scanner = "/dev/a"
gate = "/dev/b"
"#;

/// `FULL` with `line` (a `key = ...` line) replaced by `with` (or removed when empty).
fn edit(line: &str, with: &str) -> String {
    assert!(FULL.contains(line), "{line}");
    FULL.replacen(line, with, 1)
}

fn err(text: &str) -> String {
    Config::from_toml_str(text)
        .expect_err("must be refused")
        .to_string()
}

#[test]
fn full_config_loads() {
    let c = Config::from_toml_str(FULL).expect("full");
    assert_eq!(c.site, "KUL");
    assert_eq!(c.direction, Direction::Arrival);
    assert_eq!(c.devices.scanner_framing, ScannerFraming::StxEtx);
    assert_eq!(c.policy.min_validity_days, 180);
    assert_eq!(c.policy.passback_minutes, 15);
    assert_eq!(c.policy.stay_days.get("BRN"), Some(&14));
    assert_eq!(
        c.watch_list,
        Some(PathBuf::from("/var/lib/asean-lane/watch-list"))
    );
    let b = c.biometrics.expect("biometrics");
    assert_eq!(b.max_tries, 3);
    let s = c.session();
    assert_eq!(s.chip_retries, 1);
    assert_eq!(
        s.biometrics,
        Some(FaceSettings {
            threshold_per_mille: 800,
            max_tries: 3
        })
    );
    assert_eq!(s.timeouts.chip, Duration::from_secs(10));
    assert!(c.check().is_ok());
}

#[test]
fn minimal_config_takes_defaults() {
    let c = Config::from_toml_str(MINIMAL).expect("minimal");
    assert_eq!(c.direction, Direction::Departure);
    assert_eq!(c.policy, Rules::default());
    assert_eq!(c.biometrics, None);
    assert_eq!(c.devices.scanner_framing, ScannerFraming::Lines);
    assert_eq!((c.document_retries, c.chip_retries), (2, 2));
    assert_eq!(c.session().biometrics, None);
}

#[test]
fn biometrics_not_required_means_none() {
    let text = edit("required = true", "required = false");
    assert_eq!(Config::from_toml_str(&text).expect("ok").biometrics, None);
}

#[test]
fn out_of_range_values_name_their_key() {
    let cases = [
        (
            "minor_age = 18",
            "minor_age = 40",
            "policy.minor_age: must be 0..=25, got 40",
        ),
        (
            "min_validity_days = 180",
            "min_validity_days = -1",
            "policy.min_validity_days: must be 0..=3650, got -1",
        ),
        (
            "passback_minutes = 15",
            "passback_minutes = 5000",
            "policy.passback_minutes: must be 0..=1440, got 5000",
        ),
        (
            "default_stay_days = 30",
            "default_stay_days = 0",
            "policy.default_stay_days: must be 1..=365, got 0",
        ),
        (
            "BRN = 14",
            "BRN = 400",
            "policy.stay_days.BRN: must be 1..=365, got 400",
        ),
        (
            "threshold = 0.8",
            "threshold = 1.5",
            "biometrics.threshold: must be 0..=1, got 1.5",
        ),
        (
            "max_tries = 3",
            "max_tries = 0",
            "biometrics.max_tries: must be 1..=10, got 0",
        ),
        (
            "chip_ms = 10000",
            "chip_ms = 5",
            "timeouts.chip_ms: must be 100..=600000, got 5",
        ),
        (
            "chip = 1",
            "chip = 11",
            "retries.chip: must be 0..=10, got 11",
        ),
        (
            "document = 2",
            "document = 99",
            "retries.document: must be 0..=10, got 99",
        ),
    ];
    for (line, with, message) in cases {
        assert_eq!(err(&edit(line, with)), message);
    }
}

#[test]
fn invalid_enumerations_and_names() {
    assert_eq!(
        err(&edit("direction = \"arrival\"", "direction = \"sideways\"")),
        "direction: must be arrival or departure, got \"sideways\""
    );
    assert_eq!(
        err(&edit(
            "scanner_framing = \"stx-etx\"",
            "scanner_framing = \"cobs\""
        )),
        "devices.scanner_framing: must be lines or stx-etx, got \"cobs\""
    );
    assert_eq!(
        err(&edit("BRN = 14", "brunei = 14")),
        "policy.stay_days.brunei: is not a nationality code (1 to 3 capital letters)"
    );
    assert_eq!(
        err(&edit("site = \"KUL\"", "site = \"\"")),
        "site: must be 1 to 64 printable characters"
    );
    assert_eq!(
        err(&edit(
            "store = \"/var/lib/asean-lane/passages.sqlite\"",
            "store = \"\""
        )),
        "store: must not be empty"
    );
}

#[test]
fn unknown_keys_are_refused_by_name() {
    assert_eq!(
        err(&format!("colour = \"red\"\n{FULL}")),
        "colour: unknown key"
    );
    assert_eq!(
        err(&edit("minor_age = 18", "minor_age = 18\nminor_ages = 18")),
        "policy.minor_ages: unknown key"
    );
    assert_eq!(
        err(&edit("chip = 1", "chip = 1\nface = 1")),
        "retries.face: unknown key"
    );
    assert_eq!(
        err(&edit(
            "gate = \"/dev/ttyUSB1\"",
            "gate = \"/dev/ttyUSB1\"\nprinter = \"/dev/lp0\""
        )),
        "devices.printer: unknown key"
    );
    assert_eq!(
        err(&format!("{FULL}\n[printer]\nurl = \"x\"\n")),
        "printer: unknown key"
    );
    assert_eq!(
        err(&format!("{FULL}\n{SYNC}url = \"x\"\n")),
        "sync.url: unknown key"
    );
}

/// A complete `[sync]` section.
const SYNC: &str = "[sync]\nendpoint = \"https://central.example:8443\"\nunit_id = \"KUL-T1-A07\"\n\
                    ca = \"/id/ca.pem\"\ncert = \"/id/unit.pem\"\nkey = \"/id/unit.key\"\n";

#[test]
fn the_sync_section_is_checked_key_by_key() {
    let c = Config::from_toml_str(&format!("{FULL}\n{SYNC}retention_days = 30\n")).unwrap();
    let sync = c.sync.unwrap();
    assert_eq!(sync.worker.endpoint, "https://central.example:8443");
    assert_eq!(sync.worker.unit_id, "KUL-T1-A07");
    assert_eq!(
        sync.worker.retention,
        Some(std::time::Duration::from_secs(30 * 86_400))
    );
    assert_eq!(sync.alert_backlog, 1000);
    assert_eq!(sync.alert_age, std::time::Duration::from_secs(3600));
    assert_eq!(c.store_min_free_bytes, 64 * 1024 * 1024);
    assert!(Config::from_toml_str(FULL).unwrap().sync.is_none());

    assert_eq!(
        err(&format!("{FULL}\n{}", SYNC.replace("https://", "http://"))),
        "sync.endpoint: must be https://host[:port] with no path"
    );
    assert_eq!(
        err(&format!("{FULL}\n{}", SYNC.replace("KUL-T1-A07", "KUL T1"))),
        "sync.unit_id: must be 1 to 64 of [A-Za-z0-9._-]"
    );
    assert_eq!(
        err(&format!(
            "{FULL}\n{}",
            SYNC.replace("ca = \"/id/ca.pem\"\n", "")
        )),
        "sync.ca: missing"
    );
    assert_eq!(
        err(&format!("{FULL}\n{SYNC}retention_days = 0\n")),
        "sync.retention_days: must be 1..=3650, got 0"
    );
    assert!(err(&format!("store_min_free_mb = 0\n{FULL}")).starts_with("store_min_free_mb: "));
}

#[test]
fn missing_keys_are_named() {
    assert_eq!(err(&edit("lane = \"A07\"", "")), "lane: missing");
    assert_eq!(
        err(&edit("trust_store = \"/var/lib/asean-lane/trust\"", "")),
        "trust_store: missing"
    );
    assert_eq!(
        err(&edit("reader = \"Virtual PCD 00 00\"", "")),
        "devices.reader: missing"
    );
    assert_eq!(
        err(&edit("threshold = 0.8", "")),
        "biometrics.threshold: missing"
    );
    assert_eq!(
        err(&edit("required = true", "")),
        "biometrics.required: missing"
    );
    let no_devices = MINIMAL.replace(
        "[devices]\nreader = \"r\"\nscanner = \"/dev/a\"\ngate = \"/dev/b\"\n",
        "",
    );
    assert_eq!(err(&no_devices), "devices: missing");
}

#[test]
fn wrong_types_are_named() {
    assert_eq!(
        err(&edit("minor_age = 18", "minor_age = \"18\"")),
        "policy.minor_age: expected an integer"
    );
    assert_eq!(
        err(&edit("asean_only = true", "asean_only = 1")),
        "policy.asean_only: expected true or false"
    );
    assert_eq!(
        err(&edit("lane = \"A07\"", "lane = 7")),
        "lane: expected a string"
    );
    assert_eq!(
        err(&edit("threshold = 0.8", "threshold = \"high\"")),
        "biometrics.threshold: expected a number"
    );
    assert_eq!(
        err(&format!("policy = 3\n{MINIMAL}")),
        "policy: expected a table"
    );
}

#[test]
fn cross_key_checks() {
    assert_eq!(
        err(&edit("gate = \"/dev/ttyUSB1\"", "gate = \"/dev/ttyUSB0\"")),
        "devices.gate: must not be the scanner's serial path"
    );
    assert_eq!(
        err(&edit(
            "trust_store = \"/var/lib/asean-lane/trust\"",
            "trust_store = \"/var/lib/asean-lane/passages.sqlite\""
        )),
        "trust_store: must not be the store's path"
    );
    assert_eq!(
        err(&edit("walk_away_ms = 20000", "walk_away_ms = 5000")),
        "timeouts.walk_away_ms: must be longer than timeouts.processing_ms"
    );
}

#[test]
fn syntax_and_io_errors() {
    assert!(err("site = ").starts_with("not valid TOML"));
    let e = Config::load(Path::new("/nonexistent/lane.toml")).expect_err("no file");
    assert!(matches!(e, ConfigError::Io { .. }));
    let dir = std::env::temp_dir().join(format!("kiosk-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("lane.toml");
    std::fs::write(&path, FULL).expect("write");
    assert_eq!(Config::load(&path).expect("load").lane, "A07");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn the_supervision_section_is_checked_and_named() {
    assert!(Config::from_toml_str(FULL).unwrap().supervision.is_none());
    let e = err(&format!(
        "{FULL}\n[supervision]\nlisten = \"not an address\"\nca_cert = \"/a\"\ncert = \"/b\"\nkey = \"/c\"\nofficers = \"/d\"\n"
    ));
    assert!(e.starts_with("supervision.listen"), "{e}");
    let c = Config::from_toml_str(&format!(
        "{FULL}\n[supervision]\nlisten = \"127.0.0.1:7443\"\nca_cert = \"/a\"\ncert = \"/b\"\nkey = \"/c\"\nofficers = \"/d\"\n"
    ))
    .unwrap();
    assert_eq!(c.supervision.unwrap().listen.port(), 7443);
}
