//! `kioskctl selftest` and `kioskctl diag bundle` on a provisioned temp unit with real parts:
//! pcscd with the vpcd virtual reader and a virtual chip, the gate firmware
//! (gate-sim) behind a pseudo-terminal, a scanner line on a pseudo-terminal,
//! a real SQLite passage store, and the reference sync receiver over mutual TLS.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{READER, TempDir};
use gate_sim::SimGate;
use kiosk_app::store::sample::{approved, signing_key};
use kiosk_app::store::{Store, StoreConfig};
use serde_json::Value;
use serialport::{SerialPort as _, TTYPort};
use virtual_emrtd::{ChipProfile, VirtualChip};

/// ICAO's specimen passport MRZ, for the virtual chip.
const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

/// How the unit's gate line behaves.
enum GateKind {
    /// The real firmware (gate-sim) answers on the pty.
    Firmware,
    /// A pty nobody reads: commands are never acknowledged.
    Silent,
}

/// A provisioned unit in a temp directory: store with records, keys, trust store, ptys.
struct Unit {
    dir: TempDir,
    config: PathBuf,
    store: PathBuf,
    /// Both ends of the scanner's pty (kept open).
    _scanner: (TTYPort, TTYPort),
    /// The gate line's slave end (kept open) and, for a silent gate, its master.
    _gate: (TTYPort, Option<TTYPort>),
    /// The simulated gate, when it answers.
    _sim: Option<SimGate>,
}

/// Overrides for the unit's configuration.
struct Options {
    /// `devices.reader`.
    reader: String,
    /// What answers on `devices.gate`.
    gate: GateKind,
    /// `store_min_free_mb`.
    min_free_mb: u64,
    /// The `[sync]` section, if any.
    sync: Option<String>,
}

/// The virtual reader, the firmware gate, 1 MiB, no sync.
impl Default for Options {
    fn default() -> Self {
        Options {
            reader: READER.to_owned(),
            gate: GateKind::Firmware,
            min_free_mb: 1,
            sync: None,
        }
    }
}

/// Provisions a unit named for `tag`: keys, a store with 3 records, a trust store, ptys, lane.toml.
fn unit(tag: &str, opts: Options) -> Unit {
    let dir = TempDir::new(tag);
    let signing = signing_key();
    std::fs::write(
        dir.path("record-signing.key"),
        hex::encode(signing.to_bytes()),
    )
    .unwrap();
    std::fs::write(
        dir.path("record-signing.pub"),
        hex::encode(signing.verifying_key().as_bytes()),
    )
    .unwrap();
    let store = dir.path("passages.sqlite");
    {
        let s = Store::open(&store, &StoreConfig::new(signing)).unwrap();
        for i in 0..3 {
            s.append(approved(i)).unwrap();
        }
    }
    std::fs::create_dir_all(dir.path("trust")).unwrap();

    let scanner = TTYPort::pair().unwrap();
    let scanner_path = scanner.1.name().unwrap();
    let (sim, slave, silent_master) = match opts.gate {
        GateKind::Firmware => {
            let (sim, slave) = common::sim_gate();
            (Some(sim), slave, None)
        }
        GateKind::Silent => {
            let (master, slave) = TTYPort::pair().unwrap();
            (None, slave, Some(master))
        }
    };
    let gate_path = slave.name().unwrap();
    let q = |p: &Path| format!("{:?}", p.display().to_string());
    let text = format!(
        "site = \"KUL\"\nterminal = \"T1\"\nlane = \"A07\"\ndirection = \"arrival\"\n\
         store = {}\ntrust_store = {}\nsigning_key = {}\nstore_min_free_mb = {}\n\n\
         [devices]\nreader = {:?}\nscanner = {:?}\ngate = {:?}\n\n{}",
        q(&store),
        q(&dir.path("trust")),
        q(&dir.path("record-signing.key")),
        opts.min_free_mb,
        opts.reader,
        scanner_path,
        gate_path,
        opts.sync.unwrap_or_default(),
    );
    let config = dir.write("lane.toml", &text);
    Unit {
        dir,
        config,
        store,
        _scanner: scanner,
        _gate: (slave, silent_master),
        _sim: sim,
    }
}

/// Runs kioskctl with `args`, no display in its environment (unless `env` sets one), `path_first` ahead on PATH.
fn run_with(args: &[&str], env: &[(&str, &str)], path_first: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kioskctl"));
    cmd.args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(dir) = path_first {
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", dir.display()));
    }
    cmd.output().unwrap()
}

/// `kioskctl selftest --config C --json EXTRA…`: exit code and the JSON report.
fn selftest(config: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["selftest", "--config", config.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = run_with(&args, &[], None);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

/// The check named `name` in a report.
fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

/// PASS, FAIL or SKIP of check `name`.
fn result(report: &Value, name: &str) -> String {
    check(report, name)["result"].as_str().unwrap().to_owned()
}

/// The one-line detail of check `name`.
fn detail(report: &Value, name: &str) -> String {
    check(report, name)["detail"].as_str().unwrap().to_owned()
}

/// All checks pass on a provisioned unit with a card.
#[test]
fn all_checks_pass_on_a_provisioned_unit_with_a_card() {
    let u = unit("all-pass", Options::default());
    let _card = common::insert(VirtualChip::new(ChipProfile::new(TD3)).unwrap());
    let (code, v) = selftest(&u.config, &[]);
    for c in v["checks"].as_array().unwrap() {
        assert!(
            c["result"] == "PASS" || c["result"] == "SKIP",
            "a check did not pass: {c}"
        );
    }
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["ok"], true);
    for name in [
        "config", "reader", "scanner", "gate", "store", "clock", "disk",
    ] {
        assert_eq!(result(&v, name), "PASS", "{name}: {v}");
    }
    // No [sync] section; no display in the environment (and no DRM device here).
    assert_eq!(result(&v, "sync"), "SKIP");
    assert!(
        detail(&v, "reader").contains("eMRTD application selected"),
        "{v}"
    );
    assert!(detail(&v, "gate").contains("OpenEntry and CloseEntry acknowledged"));
    assert!(detail(&v, "store").contains("intact: 3 records"), "{v}");
    assert!(detail(&v, "scanner").contains("idle"), "{v}");
}

/// Json report has one entry per check in order.
#[test]
fn json_report_has_one_entry_per_check_in_order() {
    let u = unit("json", Options::default());
    let _lock = common::reader_lock();
    let (code, v) = selftest(&u.config, &["--skip", "gate,scanner"]);
    assert_eq!(code, Some(0), "{v}");
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "config", "reader", "scanner", "gate", "display", "store", "sync", "clock", "disk"
        ]
    );
    for c in v["checks"].as_array().unwrap() {
        assert!(["PASS", "FAIL", "SKIP"].contains(&c["result"].as_str().unwrap()));
        assert!(c["detail"].is_string() && c["ms"].is_u64(), "{c}");
    }
    assert_eq!(result(&v, "gate"), "SKIP");
    assert_eq!(detail(&v, "gate"), "skipped (--skip)");
    assert!(detail(&v, "reader").contains("no card present"), "{v}");
    let (p, f, s) = (&v["passed"], &v["failed"], &v["skipped"]);
    assert_eq!(
        p.as_u64().unwrap() + f.as_u64().unwrap() + s.as_u64().unwrap(),
        9
    );
    assert_eq!(v["config"], u.config.to_str().unwrap());
}

/// A reader pcscd does not list fails.
#[test]
fn a_reader_pcscd_does_not_list_fails() {
    let u = unit(
        "no-reader",
        Options {
            reader: "No Such Reader 99".into(),
            ..Options::default()
        },
    );
    let (code, v) = selftest(&u.config, &[]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["ok"], false);
    assert_eq!(result(&v, "reader"), "FAIL");
    let d = detail(&v, "reader");
    assert!(
        d.contains("\"No Such Reader 99\" not listed by pcscd"),
        "{d}"
    );
    assert!(d.contains(READER), "the listed readers are named: {d}");
    // The other parts still pass.
    assert_eq!(result(&v, "gate"), "PASS", "{v}");
}

/// A tampered store fails.
#[test]
fn a_tampered_store_fails() {
    let u = unit("tampered", Options::default());
    let conn = rusqlite::Connection::open(&u.store).unwrap();
    conn.execute_batch("UPDATE passage SET decision = 'referred' WHERE seq = 2")
        .unwrap();
    drop(conn);
    let (code, v) = selftest(&u.config, &["--skip", "reader"]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(result(&v, "store"), "FAIL");
    assert!(detail(&v, "store").contains("broken at record 2"), "{v}");
}

/// A gate that never acknowledges fails without hanging.
#[test]
fn a_gate_that_never_acknowledges_fails_without_hanging() {
    let u = unit(
        "silent-gate",
        Options {
            gate: GateKind::Silent,
            ..Options::default()
        },
    );
    let t0 = Instant::now();
    let (code, v) = selftest(&u.config, &["--skip", "reader", "--timeout", "5"]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(result(&v, "gate"), "FAIL");
    let d = detail(&v, "gate");
    assert!(d.contains("not acknowledged: no answer in 0.6 s"), "{d}");
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
}

/// A store min free above the free space fails.
#[test]
fn a_store_min_free_above_the_free_space_fails() {
    let u = unit(
        "disk",
        Options {
            min_free_mb: 100_000,
            ..Options::default()
        },
    );
    let free = kiosk_app::lane::runtime::free_bytes(u.store.parent().unwrap()).unwrap();
    let (code, v) = selftest(&u.config, &["--skip", "reader"]);
    if free < 100_000 * 1024 * 1024 {
        assert_eq!(code, Some(1), "{v}");
        assert_eq!(result(&v, "disk"), "FAIL");
        assert!(
            detail(&v, "disk").contains("below store_min_free_mb = 100000"),
            "{v}"
        );
    } else {
        // A disk with more than 97 GiB free genuinely has room.
        assert_eq!(result(&v, "disk"), "PASS", "{v}");
    }
}

/// The unit's TLS files from a fresh test CA; the `[sync]` section for `endpoint`.
fn sync_section(dir: &TempDir, ca: &sync_receiver::TestCa, endpoint: &str) -> String {
    let (ca_pem, cert, key) = ca.write_unit_files(&dir.path(""), "KUL-T1-A07").unwrap();
    format!(
        "[sync]\nendpoint = {endpoint:?}\nunit_id = \"KUL-T1-A07\"\nca = {:?}\ncert = {:?}\nkey = {:?}\n",
        ca_pem.display().to_string(),
        cert.display().to_string(),
        key.display().to_string()
    )
}

/// An unreachable sync endpoint fails.
#[test]
fn an_unreachable_sync_endpoint_fails() {
    let tls = TempDir::new("sync-closed");
    let ca = sync_receiver::TestCa::new("selftest CA").unwrap();
    // A port that was just free, and is closed again.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let section = sync_section(&tls, &ca, &format!("https://127.0.0.1:{port}"));
    let u = unit(
        "sync-closed",
        Options {
            sync: Some(section),
            ..Options::default()
        },
    );
    let (code, v) = selftest(&u.config, &["--skip", "reader", "--timeout", "5"]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(result(&v, "sync"), "FAIL");
    assert!(
        detail(&v, "sync").contains(&format!("https://127.0.0.1:{port} not reachable")),
        "{v}"
    );
    // The clock is still checked against the build.
    assert_eq!(result(&v, "clock"), "PASS", "{v}");
}

/// A sync endpoint accepting the unit certificate passes and sets the clock check.
#[test]
fn a_sync_endpoint_accepting_the_unit_certificate_passes_and_sets_the_clock_check() {
    let tls = TempDir::new("sync-ok");
    let ca = sync_receiver::TestCa::new("selftest CA").unwrap();
    let receiver = sync_receiver::Receiver::start(
        sync_receiver::ReceiverConfig {
            db_path: tls.path("receiver.sqlite"),
            server: ca.server().unwrap(),
            client_ca_pem: ca.cert_pem(),
            units: vec![],
            clock_offset_ms: 0,
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let section = sync_section(&tls, &ca, &receiver.endpoint());
    let u = unit(
        "sync-ok",
        Options {
            sync: Some(section),
            ..Options::default()
        },
    );
    let (code, v) = selftest(&u.config, &["--skip", "reader"]);
    assert_eq!(result(&v, "sync"), "PASS", "{v}");
    assert!(
        detail(&v, "sync").contains("answered over mutual TLS"),
        "{v}"
    );
    assert!(detail(&v, "clock").contains("of the central system"), "{v}");
    assert_eq!(code, Some(0), "{v}");

    // A certificate from another CA is refused by the receiver: FAIL.
    let other = sync_receiver::TestCa::new("someone else").unwrap();
    let (_, cert, key) = other.write_unit_files(&tls.path(""), "intruder").unwrap();
    let text = std::fs::read_to_string(&u.config).unwrap();
    let text = text
        .replace(
            &tls.path("KUL-T1-A07.pem").display().to_string(),
            &cert.display().to_string(),
        )
        .replace(
            &tls.path("KUL-T1-A07.key").display().to_string(),
            &key.display().to_string(),
        );
    std::fs::write(&u.config, text).unwrap();
    let (code, v) = selftest(&u.config, &["--skip", "reader"]);
    assert_eq!(result(&v, "sync"), "FAIL", "{v}");
    assert_eq!(code, Some(1));
    receiver.stop();
}

/// A named display must answer.
#[test]
fn a_named_display_must_answer() {
    let dir = TempDir::new("display");
    let u = unit("display", Options::default());
    let only_display = ["--skip", "reader,scanner,gate,store,sync,clock,disk"];
    let mut args = vec!["selftest", "--config", u.config.to_str().unwrap(), "--json"];
    args.extend_from_slice(&only_display);

    let out = run_with(&args, &[("DISPLAY", ":87")], None);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(result(&v, "display"), "FAIL");
    assert!(
        detail(&v, "display").contains("no X server at /tmp/.X11-unix/X87"),
        "{v}"
    );

    let socket = dir.path("wayland-0");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let out = run_with(
        &args,
        &[("WAYLAND_DISPLAY", socket.to_str().unwrap())],
        None,
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(result(&v, "display"), "PASS", "{v}");

    let out = run_with(&args, &[], None);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = if Path::new("/dev/dri").exists() {
        "PASS"
    } else {
        "SKIP"
    };
    assert_eq!(result(&v, "display"), expected, "{v}");
}

/// Exit codes for an unloadable config and bad usage are 2.
#[test]
fn exit_codes_for_an_unloadable_config_and_bad_usage_are_2() {
    let dir = TempDir::new("exit-2");
    let missing = dir.path("nope.toml");
    let (code, v) = selftest(&missing, &[]);
    assert_eq!(code, Some(2), "{v}");
    assert_eq!(v["ok"], false);
    assert!(v["error"].as_str().unwrap().contains("nope.toml"), "{v}");
    assert_eq!(result(&v, "config"), "FAIL");
    assert_eq!(result(&v, "gate"), "SKIP");

    let bad = dir.write("bad.toml", "site = \"KUL\"\n");
    let (code, v) = selftest(&bad, &[]);
    assert_eq!(code, Some(2), "{v}");
    assert_eq!(v["key"], "terminal", "{v}");

    let out = run_with(&["selftest", "--skip", "kettle"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kettle"));
    let out = run_with(&["selftest", "--timeout", "0"], &[], None);
    assert_eq!(out.status.code(), Some(2));
}

/// The table has a row per check and no colours off a terminal.
#[test]
fn the_table_has_a_row_per_check_and_no_colours_off_a_terminal() {
    let u = unit("table", Options::default());
    let _lock = common::reader_lock();
    let out = run_with(
        &[
            "selftest",
            "--config",
            u.config.to_str().unwrap(),
            "--skip",
            "gate",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b'), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("check"), "{text}");
    assert!(
        lines.iter().any(|l| l.starts_with("gate     SKIP")),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("store    PASS")),
        "{text}"
    );
    assert!(lines.last().unwrap().contains(" 0 failed, "), "{text}");
}

// ---- diag bundle ----

/// A fake `journalctl` on PATH that prints seeded lane log lines.
fn fake_journal(dir: &TempDir) -> PathBuf {
    let bin = dir.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = "#!/bin/sh\n\
        echo \"$@\" > \"$(dirname \"$0\")/args\"\n\
        echo '2026-01-02T10:00:00+0000 kiosk asean-lane[42]: lane opened'\n\
        echo '2026-01-02T10:00:01+0000 kiosk asean-lane[42]: scan P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<'\n\
        echo '2026-01-02T10:00:01+0000 kiosk asean-lane[42]: L898902C36UTO7408122F1204159ZE184226B<<<<<10'\n\
        echo '2026-01-02T10:00:02+0000 kiosk asean-lane[42]: traveller Eriksson document L89890001 approved'\n\
        echo '2026-01-02T10:00:03+0000 kiosk asean-lane[42]: chip read took 812 ms'\n";
    let path = bin.join("journalctl");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// Every file of a .tar.gz bundle: name and text.
fn read_tar_gz(path: &Path) -> Vec<(String, String)> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut text = String::new();
            e.read_to_string(&mut text).unwrap();
            (name, text)
        })
        .collect()
}

/// Diag bundle has every section and no personal data.
#[test]
fn diag_bundle_has_every_section_and_no_personal_data() {
    let u = unit(
        "diag",
        Options {
            sync: Some(
                "[sync]\nendpoint = \"https://tech:s3cretpw@127.0.0.1:9\"\nunit_id = \"KUL-T1-A07\"\n\
                 ca = \"/x/ca.pem\"\ncert = \"/x/unit.pem\"\nkey = \"/x/unit.key\"\n"
                    .into(),
            ),
            ..Options::default()
        },
    );
    let bin = fake_journal(&u.dir);
    let out_path = u.dir.path("diag.tar.gz");
    let _lock = common::reader_lock();
    let out = run_with(
        &[
            "diag",
            "bundle",
            "--config",
            u.config.to_str().unwrap(),
            "--out",
            out_path.to_str().unwrap(),
            "--json",
        ],
        &[],
        Some(&bin),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let args = std::fs::read_to_string(bin.join("args")).unwrap();
    assert!(args.contains("-u asean-lane -n 2000"), "{args}");

    let files = read_tar_gz(&out_path);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "diag/versions.json",
        "diag/config.json",
        "diag/logs.txt",
        "diag/devices.json",
        "diag/store.json",
        "diag/trust.json",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let file = |n: &str| files.iter().find(|(name, _)| name == n).unwrap().1.clone();
    let json = |n: &str| -> Value { serde_json::from_str(&file(n)).unwrap() };

    let versions = json("diag/versions.json");
    assert_eq!(versions["kioskctl"], env!("CARGO_PKG_VERSION"));
    assert!(versions["kernel"].is_string());
    let config = json("diag/config.json");
    assert_eq!(config["site"], "KUL");
    assert_eq!(config["sync"]["endpoint"], "https://***@127.0.0.1:9");
    let store = json("diag/store.json");
    assert_eq!(store["records"], 3, "{store}");
    assert_eq!(store["outbox"]["backlog"], 3, "{store}");
    assert!(store["outbox"]["oldest_unsynced_age_s"].is_u64(), "{store}");
    let devices = json("diag/devices.json");
    assert!(
        devices["pcsc"]["readers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == READER),
        "{devices}"
    );
    assert!(devices["serial"].is_array());
    assert_eq!(json("diag/trust.json")["csca_count"], 0);
    let logs = file("diag/logs.txt");
    assert!(logs.contains("lane opened"), "{logs}");
    assert!(logs.contains("chip read took 812 ms"), "{logs}");
    assert!(logs.contains("[removed]"), "{logs}");

    // Nothing personal anywhere: not the seeded log lines, not the store's records.
    let all: String = files.iter().map(|(_, t)| t.as_str()).collect();
    let upper = all.to_uppercase();
    for secret in [
        "ERIKSSON",
        "ANNA",
        "MARIA",
        "L8989",
        "L898902C3",
        "740812",
        "S3CRETPW",
        "P<UTO",
    ] {
        assert!(!upper.contains(secret), "{secret} is in the bundle:\n{all}");
    }
}

/// Diag bundle writes a directory and says when there is no journal.
#[test]
fn diag_bundle_writes_a_directory_and_says_when_there_is_no_journal() {
    let u = unit("diag-dir", Options::default());
    // A PATH where journalctl fails.
    let bin = u.dir.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("journalctl");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'No journal files were found.' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out_dir = u.dir.path("bundle");
    let _lock = common::reader_lock();
    let out = run_with(
        &[
            "diag",
            "bundle",
            "--config",
            u.config.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &[],
        Some(&bin),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = std::fs::read_to_string(out_dir.join("logs.txt")).unwrap();
    assert!(logs.starts_with("# no logs: journalctl failed"), "{logs}");
    for name in [
        "versions.json",
        "config.json",
        "devices.json",
        "store.json",
        "trust.json",
    ] {
        assert!(out_dir.join(name).is_file(), "{name}");
    }
    let all: String = ["store.json", "config.json", "logs.txt"]
        .iter()
        .map(|n| std::fs::read_to_string(out_dir.join(n)).unwrap())
        .collect();
    assert!(!all.contains("ERIKSSON") && !all.contains("L8989"), "{all}");

    // The same directory again: refused, nothing overwritten.
    let again = run_with(
        &[
            "diag",
            "bundle",
            "--config",
            u.config.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &[],
        Some(&bin),
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}
