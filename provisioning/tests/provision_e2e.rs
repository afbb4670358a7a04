//! A fresh unit provisioned end to end with the real `kioskctl`, then the
//! demo lane (`asean-lane demo --unit`) run on exactly what was provisioned.
//!
//! From an empty directory: `init` (keys, CSR) → the test's central CA signs
//! the CSR → `enroll` → the package's example lane.toml set up with
//! `config set` → `config validate` → `trust import` (a CSCA, its CRL, a
//! master list) → `watchlist import` → `selftest` (every part passes: a
//! virtual chip on pcscd's vpcd reader, the scanner and gate firmware on
//! pseudo-terminals, the reference sync receiver over mutual TLS on
//! loopback) → the demo lane on that configuration → `store verify` and
//! `store status` with the unit's own key, and the receiver's database.
//! Each step checks its exit status and output, and a failure names it.
//!
//! Real parts only: both binaries as built, pcscd, SQLite files, HTTPS on
//! loopback. Every key is made by this run (the unit's by `kioskctl init`).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::central_ca::{Ca, VALID, ca, sign_csr};
use common::{READER, TempDir, kioskctl};
use gate_sim::SimGate;
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, PKCS_ECDSA_P256_SHA256};
use serde_json::Value;
use serialport::{SerialPort as _, TTYPort};
use test_pki::{PkiOptions, TestPki, Y2040, days};
use virtual_emrtd::{ChipProfile, VirtualChip};

/// The unit id `init` puts in the CSR (and so in the enrolled certificate).
const UNIT: &str = "KUL-T2-B04";

/// vpcd's port for [`READER`].
const VPCD: &str = "127.0.0.1:35964";

/// ICAO's specimen passport MRZ: the selftest's test card.
const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

/// The travellers: two trusted states (Thailand by its own CSCA, Malaysia
/// only through the master list), one watch-listed Thai document, and a
/// Singaporean whose CSCA the unit never imported.
const TRAVELLERS: &str = r#"
[[traveller]]
label = "thai"
surname = "SRISUK"
given_names = "NARIN"
nationality = "THA"
document_number = "AA1234567"
birth_date = "1990-04-12"
expiry_date = "+5y"
sex = "F"
chip = "genuine"
pace = true
expect = "approved"

[[traveller]]
label = "malaysian"
surname = "ABDULLAH"
given_names = "SITI AMINAH"
nationality = "MYS"
document_number = "A12345678"
birth_date = "1985-11-02"
expiry_date = "+6y"
sex = "F"
chip = "genuine"
expect = "approved"

[[traveller]]
label = "watch-listed"
surname = "SANTOSO"
given_names = "BUDI"
nationality = "THA"
document_number = "B7654321"
birth_date = "1979-01-30"
expiry_date = "+4y"
sex = "M"
chip = "genuine"
expect = "referred"

[[traveller]]
label = "untrusted"
surname = "TAN"
given_names = "WEI"
nationality = "SGP"
document_number = "K1234567"
birth_date = "1980-03-01"
expiry_date = "+4y"
sex = "M"
chip = "genuine"
expect = "referred"
"#;

/// How many travellers (and so passage records) the demo has.
const PASSAGES: u64 = 4;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// stdout and stderr of a run, for a failure message.
fn text(out: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Checks that step `step` exited with `code`; its stdout.
fn expect_exit(step: &str, out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "step {step:?}: exit status\n{}",
        text(out)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Checks that step `step` exited 0 and printed one JSON value; that value.
fn json_step(step: &str, out: &Output) -> Value {
    let stdout = expect_exit(step, out, 0);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("step {step:?}: stdout is not JSON ({e})\n{}", text(out)))
}

/// Runs `kioskctl` with no display in its environment.
fn kioskctl_headless(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The workspace's root folder.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `asean-lane` binary, built now if it is missing or stale.
///
/// provisioning cannot name another package's binary (`CARGO_BIN_EXE_*` is
/// only for its own), so cargo builds it into the same target folder as
/// `kioskctl` (a no-op when it is up to date).
fn asean_lane() -> PathBuf {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_kioskctl")).parent().unwrap();
    let target = bin_dir.parent().unwrap();
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "--quiet", "-p", "kiosk-app", "--bin", "asean-lane"])
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", target);
    if bin_dir.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    let out = cargo.output().unwrap();
    assert!(out.status.success(), "building asean-lane\n{}", text(&out));
    let bin = bin_dir.join("asean-lane");
    assert!(bin.is_file(), "no {}", bin.display());
    bin
}

/// The central system's server certificate for 127.0.0.1, signed by `ca`.
fn server_cert(ca: &Ca) -> sync_receiver::CertKey {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "central");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    sync_receiver::CertKey {
        cert_pem: params.signed_by(&key, &ca.issuer).unwrap().pem(),
        key_pem: key.serialize_pem(),
    }
}

/// The unit's devices as the technician finds them: a scanner line and the
/// gate controller's firmware, each on a pseudo-terminal.
struct Devices {
    scanner: (TTYPort, TTYPort),
    gate: TTYPort,
    _sim: SimGate,
}

impl Devices {
    fn new() -> Self {
        let scanner = TTYPort::pair().unwrap();
        let (sim, slave) = common::sim_gate();
        Devices {
            scanner,
            gate: slave,
            _sim: sim,
        }
    }
}

/// One summary line of the demo: (outcome, reasons, gate).
fn summary<'a>(demo: &'a str, label: &str) -> (&'a str, &'a str, &'a str) {
    let at = demo
        .find("── summary")
        .expect("the demo printed its summary");
    let line = demo[at..]
        .lines()
        .find(|l| l.split_whitespace().next() == Some(label))
        .unwrap_or_else(|| panic!("no summary line for {label:?}:\n{demo}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words.get(3), Some(&"gate:"), "{line}");
    assert!(line.ends_with("as expected"), "{line}");
    (words[1], words[2], words[4])
}

#[test]
fn a_fresh_unit_is_provisioned_with_kioskctl_and_runs_the_demo_lane() {
    let lane_bin = asean_lane();
    let unit = TempDir::new("e2e");
    let id = unit.path("identity");
    let config = unit.path("lane.toml");
    let store = unit.path("passages.sqlite");
    let trust = unit.path("trust");
    let watch_list = unit.path("watch-list");

    // 1. init: the unit's keys and its CSR.
    let v = json_step(
        "init",
        &kioskctl(&["init", "--dir", s(&id), "--unit-id", UNIT, "--json"], ""),
    );
    assert_eq!(v["unit_id"], UNIT);
    let record_pub = std::fs::read_to_string(id.join("record-signing.pub")).unwrap();
    assert_eq!(v["record_signing_public_key"], record_pub.trim());

    // 2. The central CA signs the CSR (its side, not the unit's).
    let ca = ca("e2e central CA");
    let csr = std::fs::read(id.join("unit.csr")).unwrap();
    let issued = unit.write("issued.pem", &sign_csr(&csr, &ca, VALID.0, VALID.1));
    let ca_file = unit.write("central-ca.pem", &ca.pem);

    // 3. enroll: the certificate and the CA chain installed.
    json_step(
        "enroll",
        &kioskctl(
            &[
                "enroll",
                "--cert",
                s(&issued),
                "--ca",
                s(&ca_file),
                "--dir",
                s(&id),
                "--json",
            ],
            "",
        ),
    );
    assert!(id.join("unit.pem").is_file() && id.join("central-ca.pem").is_file());

    // The central system, which knows the unit by id and record-signing key.
    let vk_bytes: [u8; 32] = hex::decode(record_pub.trim()).unwrap().try_into().unwrap();
    let receiver_db = unit.path("central.sqlite");
    let receiver = sync_receiver::Receiver::start(
        sync_receiver::ReceiverConfig {
            db_path: receiver_db.clone(),
            server: server_cert(&ca),
            client_ca_pem: ca.pem.clone(),
            units: vec![(
                UNIT.to_owned(),
                kiosk_app::store::VerifyingKey::from_bytes(&vk_bytes).unwrap(),
            )],
            clock_offset_ms: 0,
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();

    // 4. config set: every key the technician sets, on the package's example.
    std::fs::copy(workspace().join("kiosk-app/debian/lane.toml"), &config).unwrap();
    let devices = Devices::new();
    let scanner_path = devices.scanner.1.name().unwrap();
    let gate_path = devices.gate.name().unwrap();
    let endpoint = receiver.endpoint();
    let (key_file, cert_file, ca_chain) = (
        id.join("record-signing.key"),
        id.join("unit.pem"),
        id.join("central-ca.pem"),
    );
    let tls_key = id.join("unit.key");
    let pairs: [(&str, &str); 16] = [
        ("site", "KUL"),
        ("terminal", "T2"),
        ("lane", "B04"),
        ("direction", "arrival"),
        ("store", s(&store)),
        ("trust_store", s(&trust)),
        ("signing_key", s(&key_file)),
        ("devices.reader", READER),
        ("devices.scanner", &scanner_path),
        ("devices.gate", &gate_path),
        ("policy.watch_list", s(&watch_list)),
        ("sync.endpoint", &endpoint),
        ("sync.unit_id", UNIT),
        ("sync.ca", s(&ca_chain)),
        ("sync.cert", s(&cert_file)),
        ("sync.key", s(&tls_key)),
    ];
    let mut args = vec!["config", "set", "--config", s(&config), "--json"];
    for (k, v) in &pairs {
        args.extend([*k, *v]);
    }
    let v = json_step("config set", &kioskctl(&args, ""));
    assert_eq!(v["changed"], true, "{v}");
    assert_eq!(v["keys"].as_array().unwrap().len(), pairs.len(), "{v}");
    let edited = std::fs::read_to_string(&config).unwrap();
    assert!(
        edited.starts_with("# /etc/asean-lane/lane.toml"),
        "config set keeps the example's comments:\n{edited}"
    );

    // 5. config validate, and what the lane will run with.
    let v = json_step(
        "config validate",
        &kioskctl(
            &["config", "validate", "--config", s(&config), "--json"],
            "",
        ),
    );
    assert_eq!(v["valid"], true);
    let shown = json_step(
        "config show",
        &kioskctl(&["config", "show", "--config", s(&config), "--json"], ""),
    );
    for (key, want) in pairs {
        let got = key.split('.').fold(&shown, |v, part| &v[part]);
        assert_eq!(got, want, "config show: {key}");
    }

    // 6. trust import: Thailand's CSCA and CRL, and a master list (signed
    //    by Thailand's master list signer) that brings Malaysia's CSCA.
    let pki_dir = unit.path("pki");
    let tha = TestPki::new(PkiOptions {
        country: "TH".into(),
        ..PkiOptions::default()
    });
    let mys = TestPki::new(PkiOptions {
        country: "MY".into(),
        ..PkiOptions::default()
    });
    tha.save(&pki_dir.join("THA")).unwrap();
    mys.save(&pki_dir.join("MYS")).unwrap();
    let csca = unit.path("csca-tha.der");
    std::fs::write(&csca, tha.csca_der()).unwrap();
    let crl = unit.path("crl-tha.der");
    std::fs::write(&crl, tha.crl(false, Some(days(Y2040)))).unwrap();
    let ml = unit.path("asean.ml");
    std::fs::write(&ml, tha.master_list(&[&mys])).unwrap();
    let v = json_step(
        "trust import",
        &kioskctl(
            &[
                "trust",
                "import",
                "--store",
                s(&trust),
                "--json",
                s(&csca),
                s(&crl),
                s(&ml),
            ],
            "",
        ),
    );
    let kinds: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(f["error"].is_null(), "trust import refused {f}");
            f["kind"].as_str().unwrap()
        })
        .collect();
    assert_eq!(kinds, ["CSCA certificate", "CRL", "CSCA master list"]);
    let listed = json_step(
        "trust list",
        &kioskctl(&["trust", "list", "--store", s(&trust), "--json"], ""),
    );
    let mut countries: Vec<&str> = listed["cscas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["country"].as_str().unwrap())
        .collect();
    countries.sort_unstable();
    countries.dedup();
    assert_eq!(countries, ["MY", "TH"], "{listed}");
    assert_eq!(
        listed["master_lists"][0]["signer_trusted"], true,
        "{listed}"
    );

    // 7. watchlist import: one demo traveller's document.
    let csv = unit.write("watch.csv", "document_number,issuing_state\nB7654321,THA\n");
    let salt = unit.path("watch-list.salt");
    let v = json_step(
        "watchlist import",
        &kioskctl(
            &[
                "watchlist",
                "import",
                "--salt-file",
                s(&salt),
                "--out",
                s(&watch_list),
                "--json",
                s(&csv),
            ],
            "",
        ),
    );
    assert_eq!(
        (v["rows"].as_u64(), v["documents"].as_u64()),
        (Some(1), Some(1))
    );
    let written = std::fs::read_to_string(&watch_list).unwrap();
    assert!(
        !written.contains("B7654321"),
        "only salted hashes are stored"
    );

    // 8. selftest: every part of the provisioned unit, with a card on the reader.
    {
        let _card = common::insert(VirtualChip::new(ChipProfile::new(TD3)).unwrap());
        let out = kioskctl_headless(&["selftest", "--config", s(&config), "--json"]);
        let v = json_step("selftest", &out);
        assert_eq!(v["ok"], true, "{v}");
        for c in v["checks"].as_array().unwrap() {
            // No display here: the screen check skips when none is configured.
            let want: &[&str] = if c["name"] == "display" {
                &["PASS", "SKIP"]
            } else {
                &["PASS"]
            };
            assert!(
                want.contains(&c["result"].as_str().unwrap()),
                "selftest: {c}"
            );
        }
        let detail = |name: &str| -> String {
            v["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
                .unwrap()["detail"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert!(
            detail("reader").contains("eMRTD application selected"),
            "{v}"
        );
        assert!(detail("sync").contains("answered over mutual TLS"), "{v}");
        assert!(detail("config").contains("KUL T2 B04"), "{v}");
    }
    drop(devices);

    // 9. The demo lane on the unit's own configuration and files.
    let travellers = unit.write("travellers.toml", TRAVELLERS);
    let out = {
        let _reader = common::reader_lock();
        Command::new(&lane_bin)
            .args([
                "demo",
                "--unit",
                s(&config),
                "--pki",
                s(&pki_dir),
                "--travellers",
                s(&travellers),
                "--reader",
                READER,
                "--vpcd",
                VPCD,
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let demo = expect_exit("asean-lane demo", &out, 0);
    assert!(demo.contains("demo passed"), "{}", text(&out));
    assert!(
        demo.contains(&format!("configuration  {}", s(&config))),
        "{demo}"
    );
    assert!(
        demo.contains(&format!("store          {}", s(&store))),
        "{demo}"
    );
    assert_eq!(summary(&demo, "thai"), ("approved", "-", "opened"));
    // Trusted only through the imported master list.
    assert_eq!(summary(&demo, "malaysian"), ("approved", "-", "opened"));
    // On the imported watch list.
    assert_eq!(
        summary(&demo, "watch-listed"),
        ("referred", "watch_list_document", "closed")
    );
    // Its CSCA was never imported: the chip cannot be proved genuine.
    assert_eq!(
        summary(&demo, "untrusted"),
        ("referred", "not_genuine", "closed")
    );
    assert!(
        demo.contains(&format!(
            "── sync: every record delivered ({PASSAGES} acknowledged"
        )),
        "{demo}"
    );

    // 10. store verify with the key `init` made, and the sync backlog.
    let v = json_step(
        "store verify",
        &kioskctl(
            &[
                "store",
                "verify",
                "--store",
                s(&store),
                "--key",
                s(&id.join("record-signing.pub")),
                "--json",
            ],
            "",
        ),
    );
    assert_eq!(v["intact"], true, "{v}");
    assert_eq!(v["records"].as_u64(), Some(PASSAGES), "{v}");
    let v = json_step(
        "store status",
        &kioskctl(&["store", "status", "--store", s(&store), "--json"], ""),
    );
    assert_eq!(v["backlog"].as_u64(), Some(0), "{v}");
    assert_eq!(v["acknowledged"].as_u64(), Some(PASSAGES), "{v}");

    // 11. The central system holds every record, under the enrolled unit's id,
    //     each signed by the unit's record key, in the store's order.
    receiver.stop();
    let db = sync_receiver::ReceiverDb::open(&receiver_db).unwrap();
    assert_eq!(db.count(UNIT).unwrap(), PASSAGES);
    let vk = kiosk_app::store::VerifyingKey::from_bytes(&vk_bytes).unwrap();
    assert_eq!(db.verify_chain(UNIT, &vk).unwrap(), Ok(PASSAGES));
    let central: Vec<String> = db
        .records(UNIT)
        .unwrap()
        .into_iter()
        .map(|r| r.record_id)
        .collect();
    let conn = rusqlite::Connection::open(&store).unwrap();
    let local: Vec<String> = conn
        .prepare("SELECT record_id FROM passage ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(central, local);
}
