//! `kioskctl selftest`: prove that a unit works, device by device, against its own lane configuration.
//!
//! Every check runs on its own thread and is bounded by `--timeout`: a
//! device that hangs is a FAIL ("no answer in N s"), never a hung tool.
//! The checks, in order:
//!
//! | check | PASS when |
//! |---|---|
//! | `config` | kiosk-app's `Config::load` accepts the file (else exit 2) |
//! | `reader` | pcscd lists `devices.reader`; a card on it answers SELECT of the eMRTD application (its ATR is shown) |
//! | `scanner` | `devices.scanner` opens as doc-scanner's serial line and reads without a line error (idle, or a scan: never shown) |
//! | `gate` | on `devices.gate`, OpenEntry and CloseEntry are acknowledged and the gate reports its entry open, then closed |
//! | `display` | `WAYLAND_DISPLAY` or `DISPLAY` names a socket that accepts a connection, or a DRM card exists; SKIP when none is configured (headless) |
//! | `store` | kiosk-app's store verification (every signature, the hash chain) with `record-signing.pub` beside `signing_key`; a store not created yet passes |
//! | `sync` | with `[sync]`: an HTTPS request to the endpoint with the unit's certificate (mutual TLS) gets an HTTP answer; SKIP without `[sync]` |
//! | `clock` | the clock reads after this binary was built and, when `sync` answered, within 5 minutes of the central system's `Date` |
//! | `disk` | the store's filesystem has at least `store_min_free_mb` free |

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args as ClapArgs;
use clap::builder::PossibleValuesParser;
use kiosk_app::config::{Config, ScannerFraming};
use serde_json::json;

use crate::config::DEFAULT_CONFIG;

/// The checks `--skip` may name, in the order they run.
pub(crate) const SKIPPABLE: [&str; 8] = [
    "reader", "scanner", "gate", "display", "store", "sync", "clock", "disk",
];

/// Largest difference from the central system's clock that still passes.
const CLOCK_TOLERANCE: Duration = Duration::from_secs(300);

/// Options of `kioskctl selftest`.
#[derive(Debug, ClapArgs)]
pub(crate) struct SelftestArgs {
    /// The lane's configuration file.
    #[arg(long, default_value = DEFAULT_CONFIG)]
    pub(crate) config: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Leave checks out (reported as SKIP), e.g. `--skip gate,display`.
    ///
    /// One or more of reader, scanner, gate, display, store, sync, clock,
    /// disk, separated by commas or spaces, or the flag given again.
    #[arg(
        long,
        value_name = "CHECK",
        num_args = 1..,
        value_delimiter = ',',
        value_parser = PossibleValuesParser::new(SKIPPABLE)
    )]
    pub(crate) skip: Vec<String>,
    /// Seconds each check may take; a device still silent then is a FAIL.
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub(crate) timeout: u64,
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// The part works.
    Pass,
    /// The part does not work: the technician must act.
    Fail,
    /// Not checked (not configured, or `--skip`).
    Skip,
}

impl Status {
    /// The word the table and the JSON show.
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

/// A check's result and its one-line detail.
type Found = (Status, String);

/// A passing result.
fn pass(detail: impl Into<String>) -> Found {
    (Status::Pass, detail.into())
}

/// A failing result.
fn fail(detail: impl Into<String>) -> Found {
    (Status::Fail, detail.into())
}

/// A result for a check that did not run.
fn skip(detail: impl Into<String>) -> Found {
    (Status::Skip, detail.into())
}

/// One line of the report.
#[derive(Debug)]
struct Outcome {
    /// The check's name.
    name: &'static str,
    /// Its result.
    status: Status,
    /// One line saying why (never personal data).
    detail: String,
    /// How long it took.
    elapsed: Duration,
}

/// Runs `kioskctl selftest`: exit 0 when nothing failed, 1 when a check failed, 2 when the configuration cannot be loaded.
pub(crate) fn run(opts: &SelftestArgs) -> anyhow::Result<ExitCode> {
    let timeout = Duration::from_secs(opts.timeout);
    let started = Instant::now();
    let config = match Config::load(&opts.config) {
        Ok(config) => config,
        Err(err) => {
            let message = format!("{}: {err}", opts.config.display());
            let mut outcomes = vec![Outcome {
                name: "config",
                status: Status::Fail,
                detail: message.clone(),
                elapsed: started.elapsed(),
            }];
            for name in SKIPPABLE {
                outcomes.push(Outcome {
                    name,
                    status: Status::Skip,
                    detail: "not run: no valid configuration".into(),
                    elapsed: Duration::ZERO,
                });
            }
            let key = crate::config::error_key(&err).map(str::to_owned);
            report(opts, &outcomes, Some((&message, key.as_deref())));
            return Ok(ExitCode::from(2));
        }
    };
    let mut outcomes = vec![Outcome {
        name: "config",
        status: Status::Pass,
        detail: format!(
            "{}: valid ({} {} {}, {})",
            opts.config.display(),
            config.site,
            config.terminal,
            config.lane,
            match config.direction {
                kiosk_app::policy::Direction::Arrival => "arrival",
                kiosk_app::policy::Direction::Departure => "departure",
            }
        ),
        elapsed: started.elapsed(),
    }];
    let skipped = |name: &str| opts.skip.iter().any(|s| s == name);
    let mut central_clock: Option<SystemTime> = None;
    for name in SKIPPABLE {
        let t0 = Instant::now();
        let (status, detail) = if skipped(name) {
            skip("skipped (--skip)")
        } else {
            match name {
                "reader" => {
                    let reader = config.devices.reader.clone();
                    bounded(timeout, move || check_reader(&reader))
                }
                "scanner" => {
                    let (path, framing) = (
                        config.devices.scanner.clone(),
                        config.devices.scanner_framing,
                    );
                    bounded(timeout, move || check_scanner(&path, framing))
                }
                "gate" => {
                    let path = config.devices.gate.clone();
                    bounded(timeout, move || check_gate(&path))
                }
                "display" => bounded(timeout, check_display),
                "store" => {
                    let (store, key) = (config.store.clone(), config.signing_key.clone());
                    bounded(timeout, move || check_store(&store, &key))
                }
                "sync" => {
                    let c = config.clone();
                    let (found, date) = bounded_with(timeout, move || check_sync(&c, timeout));
                    central_clock = date;
                    found
                }
                "clock" => {
                    let synced = config.sync.is_some() && !skipped("sync");
                    check_clock(SystemTime::now(), central_clock, synced)
                }
                "disk" => {
                    let (store, min) = (config.store.clone(), config.store_min_free_bytes);
                    bounded(timeout, move || check_disk(&store, min))
                }
                _ => skip("unknown check"),
            }
        };
        outcomes.push(Outcome {
            name,
            status,
            detail,
            elapsed: t0.elapsed(),
        });
    }
    report(opts, &outcomes, None);
    let failed = outcomes.iter().any(|o| o.status == Status::Fail);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs `check` on its own thread; a FAIL "no answer in N s" when it does not finish within `timeout`.
fn bounded(timeout: Duration, check: impl FnOnce() -> Found + Send + 'static) -> Found {
    bounded_with(timeout, move || (check(), ())).0
}

/// As [`bounded`], for a check that also returns something (`T::default()` on a timeout).
fn bounded_with<T: Default + Send + 'static>(
    timeout: Duration,
    check: impl FnOnce() -> (Found, T) + Send + 'static,
) -> (Found, T) {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("selftest".into())
        .spawn(move || {
            let _ = tx.send(check());
        });
    if let Err(e) = spawned {
        return (
            fail(format!("could not start the check: {e}")),
            T::default(),
        );
    }
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        // The thread is left behind; the process ends after the report.
        Err(RecvTimeoutError::Timeout) => (
            fail(format!("no answer in {} s", timeout.as_secs())),
            T::default(),
        ),
        Err(RecvTimeoutError::Disconnected) => {
            (fail("the check failed unexpectedly"), T::default())
        }
    }
}

/// The PC/SC reader: listed by pcscd; a card on it answers.
fn check_reader(reader: &str) -> Found {
    use card_reader::{ConnectOptions, Readers};
    use icao9303::{CardChannel, ChannelErrorKind};

    let readers = match Readers::establish() {
        Ok(r) => r,
        Err(e) => return fail(format!("pcscd not reachable: {}", e.message)),
    };
    let names = match readers.list() {
        Ok(n) => n,
        Err(e) => return fail(format!("pcscd could not list readers: {}", e.message)),
    };
    if !names.iter().any(|n| n == reader) {
        let listed = if names.is_empty() {
            "none".to_owned()
        } else {
            names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return fail(format!(
            "reader {reader:?} not listed by pcscd (listed: {listed})"
        ));
    }
    match readers.wait_for_card(reader, Duration::from_millis(300)) {
        Ok(()) => {}
        Err(e) if e.kind == ChannelErrorKind::Timeout => {
            return pass(format!("{reader:?} listed by pcscd; no card present"));
        }
        Err(e) => return fail(format!("{reader:?}: {}", e.message)),
    }
    let options = ConnectOptions {
        transmit_timeout: Duration::from_secs(3),
        ..ConnectOptions::default()
    };
    let mut channel = match readers.connect(reader, &options) {
        Ok(c) => c,
        Err(e) => {
            return fail(format!(
                "{reader:?}: a card is present but connecting failed: {}",
                e.message
            ));
        }
    };
    let atr = hex::encode_upper(channel.atr());
    // SELECT the eMRTD application (LDS1) by AID: answered without access keys.
    let mut select = vec![0x00, 0xA4, 0x04, 0x0C, 0x07];
    select.extend_from_slice(&icao9303::session::LDS1_AID);
    match channel.transmit(&select) {
        Ok(resp) => {
            let sw = match resp.as_slice() {
                [.., a, b] => format!("{a:02X}{b:02X}"),
                _ => "no status word".to_owned(),
            };
            if sw == "9000" {
                pass(format!(
                    "{reader:?}: card present (ATR {atr}), eMRTD application selected"
                ))
            } else {
                pass(format!(
                    "{reader:?}: card present (ATR {atr}) and answering; not an eMRTD (SELECT: {sw})"
                ))
            }
        }
        Err(e) => fail(format!(
            "{reader:?}: card present (ATR {atr}) but it did not answer: {}",
            e.message
        )),
    }
}

/// The MRZ scanner's serial line: opens, and reads without a line error.
fn check_scanner(path: &Path, framing: ScannerFraming) -> Found {
    use doc_scanner::{Framing, ReadErrorKind, Scanner, ScannerConfig, SerialConfig, SerialLine};

    let name = path.to_string_lossy();
    let line = match SerialLine::open(&name, &SerialConfig::default()) {
        Ok(line) => line,
        Err(e) => return fail(format!("cannot open {name}: {e}")),
    };
    let config = ScannerConfig {
        framing: match framing {
            ScannerFraming::Lines => Framing::Lines,
            ScannerFraming::StxEtx => Framing::StxEtx,
        },
        ..ScannerConfig::default()
    };
    let mut scanner = Scanner::new(line, config);
    let listen = Duration::from_secs(1);
    let deadline = Instant::now() + listen;
    loop {
        match scanner.next_scan() {
            // The scan itself is personal data: only that one came.
            Ok(_) => return pass(format!("{name}: open; the scanner sent a scan (not shown)")),
            Err(e) => match e.kind() {
                ReadErrorKind::Timeout => {
                    if Instant::now() >= deadline {
                        return pass(format!(
                            "{name}: open; line idle for {} s without error",
                            listen.as_secs()
                        ));
                    }
                }
                ReadErrorKind::BadScan => {
                    return pass(format!(
                        "{name}: open; the scanner sent data (not a complete scan)"
                    ));
                }
                _ => return fail(format!("{name}: {e}")),
            },
        }
    }
}

/// The gate controller: an acknowledged open and close of the entry leaf.
fn check_gate(path: &Path) -> Found {
    use gate::serial::SerialIo;
    use gate::{Command, GateError, GateLink, GateMode, LinkConfig};

    let name = path.to_string_lossy();
    let io = match SerialIo::open(&name, 115_200) {
        Ok(io) => io,
        Err(e) => return fail(format!("cannot open {name}: {e}")),
    };
    let config = LinkConfig::default();
    let budget = config.ack_timeout * u32::from(config.attempts.max(1));
    let mut link = GateLink::new(io, config);
    let send = |link: &mut GateLink<SerialIo>, command: Command, what: &str| {
        link.command(command).map(|_| ()).map_err(|e| match e {
            GateError::NoAck { attempts, .. } => format!(
                "{name}: {what} not acknowledged: no answer in {:.1} s ({attempts} attempts)",
                budget.as_secs_f64()
            ),
            GateError::Nak { reason, .. } => format!("{name}: the gate refused {what}: {reason:?}"),
            other => format!("{name}: {what}: {other}"),
        })
    };
    let steps = [
        (Command::Heartbeat, "a heartbeat"),
        (Command::OpenEntry, "OpenEntry"),
    ];
    for (command, what) in steps {
        if let Err(e) = send(&mut link, command, what) {
            return fail(e);
        }
    }
    if let Err(e) = wait_mode(&mut link, GateMode::EntryOpen) {
        return fail(format!("{name}: OpenEntry acknowledged, but {e}"));
    }
    if let Err(e) = send(&mut link, Command::CloseEntry, "CloseEntry") {
        return fail(e);
    }
    if let Err(e) = wait_mode(&mut link, GateMode::Closed) {
        return fail(format!("{name}: CloseEntry acknowledged, but {e}"));
    }
    pass(format!(
        "{name}: OpenEntry and CloseEntry acknowledged; entry opened and closed"
    ))
}

/// Waits up to 3 s for the gate to report mode `want`; a fault is an error.
fn wait_mode(
    link: &mut gate::GateLink<gate::serial::SerialIo>,
    want: gate::GateMode,
) -> Result<(), String> {
    use gate::GateEvent;
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("it never reported mode {want:?} (3 s)"));
        }
        match link.next_event(left) {
            Ok(Some(GateEvent::Status { mode, .. })) if mode == want => return Ok(()),
            Ok(Some(GateEvent::Fault(code))) => return Err(format!("the gate faulted: {code:?}")),
            Ok(Some(_)) => {}
            Ok(None) => return Err(format!("it never reported mode {want:?} (3 s)")),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// The traveller's screen: a display server that answers, or a DRM device; SKIP when none is configured.
fn check_display() -> Found {
    use std::os::unix::net::UnixStream;

    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(wayland) = var("WAYLAND_DISPLAY") {
        let socket = if wayland.starts_with('/') {
            PathBuf::from(&wayland)
        } else {
            PathBuf::from(var("XDG_RUNTIME_DIR").unwrap_or_else(|| "/run/user/0".into()))
                .join(&wayland)
        };
        return match UnixStream::connect(&socket) {
            Ok(_) => pass(format!("Wayland display {wayland} answers")),
            Err(e) => fail(format!(
                "WAYLAND_DISPLAY={wayland}: {} does not answer: {e}",
                socket.display()
            )),
        };
    }
    if let Some(display) = var("DISPLAY") {
        let (host, rest) = display.rsplit_once(':').unwrap_or(("", display.as_str()));
        let number = rest.split('.').next().unwrap_or("");
        if !(host.is_empty() || host == "unix") {
            return pass(format!("X display {display} (remote: not checked)"));
        }
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return fail(format!("DISPLAY={display:?} is not an X display name"));
        }
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        return match UnixStream::connect(&socket) {
            Ok(_) => pass(format!("X display {display} answers")),
            Err(e) => fail(format!(
                "DISPLAY={display}: no X server at {}: {e}",
                socket.display()
            )),
        };
    }
    let cards = std::fs::read_dir("/dev/dri")
        .map(|dir| {
            let mut names: Vec<String> = dir
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("card"))
                .collect();
            names.sort();
            names
        })
        .unwrap_or_default();
    match cards.first() {
        Some(card) => pass(format!(
            "DRM device /dev/dri/{card} (no display server named)"
        )),
        None => skip("headless: no WAYLAND_DISPLAY, DISPLAY or /dev/dri/card*"),
    }
}

/// The passage store: every signature and the hash chain, with the unit's public key.
fn check_store(store: &Path, signing_key: &Path) -> Found {
    use kiosk_app::store::{VerifyReport, verify_store};

    if !store.exists() {
        return pass(format!(
            "{}: not created yet (asean-lane creates it at its first start)",
            store.display()
        ));
    }
    let key_path = signing_key.with_extension("pub");
    let key = match crate::store::read_public_key(&key_path, "record-signing key") {
        Ok(key) => key,
        Err(e) => return fail(format!("{e:#}")),
    };
    match verify_store(store, &key) {
        Ok(report @ VerifyReport::Intact { .. }) => pass(format!("{}: {report}", store.display())),
        Ok(report) => fail(format!("{}: {report}", store.display())),
        Err(e) => fail(format!("{}: {e}", store.display())),
    }
}

/// The sync endpoint: one HTTPS request with the unit's certificate; also the central system's `Date`.
fn check_sync(config: &Config, timeout: Duration) -> (Found, Option<SystemTime>) {
    let Some(sync) = &config.sync else {
        return (skip("no [sync] section: this unit does not sync"), None);
    };
    let shown = crate::config::effective(config)["sync"]["endpoint"]
        .as_str()
        .unwrap_or("the endpoint")
        .to_owned();
    let mut worker = sync.worker.clone();
    worker.connect_timeout = (timeout / 2).max(Duration::from_millis(500));
    worker.request_timeout = timeout.mul_f32(0.8).max(Duration::from_millis(800));
    let client = match kiosk_app::sync::https_client(&worker) {
        Ok(c) => c,
        Err(e) => return (fail(e.to_string()), None),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return (fail(format!("could not start the HTTPS client: {e}")), None),
    };
    let url = format!("{}/", worker.endpoint.trim_end_matches('/'));
    let answer = runtime.block_on(async { client.get(&url).send().await });
    match answer {
        Ok(response) => {
            let date = response
                .headers()
                .get("date")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v).ok());
            let found = pass(format!(
                "{shown} answered over mutual TLS (HTTP {})",
                response.status().as_u16()
            ));
            (found, date)
        }
        Err(e) => {
            let why = crate::error_chain(&anyhow::Error::new(e));
            (
                fail(format!("{shown} not reachable with mutual TLS: {why}")),
                None,
            )
        }
    }
}

/// When this binary was built (seconds since 1970, from build.rs).
fn built_at() -> SystemTime {
    let secs = env!("KIOSKCTL_BUILD_UNIX").parse::<u64>().unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// The clock: after the build, and near the central system's when it answered.
fn check_clock(now: SystemTime, central: Option<SystemTime>, synced: bool) -> Found {
    let built = built_at();
    if now < built {
        return fail(format!(
            "the clock reads {}, before this kioskctl was built ({})",
            httpdate::fmt_http_date(now),
            httpdate::fmt_http_date(built)
        ));
    }
    match central {
        Some(theirs) => {
            let (ahead, off) = match now.duration_since(theirs) {
                Ok(d) => (true, d),
                Err(e) => (false, e.duration()),
            };
            let side = if ahead { "ahead of" } else { "behind" };
            if off > CLOCK_TOLERANCE {
                fail(format!(
                    "{} s {side} the central system's clock (more than {} s)",
                    off.as_secs(),
                    CLOCK_TOLERANCE.as_secs()
                ))
            } else {
                pass(format!(
                    "{}; within {} s of the central system",
                    httpdate::fmt_http_date(now),
                    off.as_secs().max(1)
                ))
            }
        }
        None => pass(format!(
            "{}, after the build; {}",
            httpdate::fmt_http_date(now),
            if synced {
                "not compared with the central system (it gave no Date)"
            } else {
                "no central system to compare with"
            }
        )),
    }
}

/// The store's filesystem: at least `store_min_free_mb` free.
fn check_disk(store: &Path, min_free: u64) -> Found {
    let mut dir = store.parent().unwrap_or(Path::new("/"));
    while !dir.exists() {
        dir = dir.parent().unwrap_or(Path::new("/"));
    }
    let mib = |b: u64| b / (1024 * 1024);
    match kiosk_app::lane::runtime::free_bytes(dir) {
        None => fail(format!(
            "cannot read the free space under {}",
            dir.display()
        )),
        Some(free) if free < min_free => fail(format!(
            "{} MiB free under {}, below store_min_free_mb = {}",
            mib(free),
            dir.display(),
            mib(min_free)
        )),
        Some(free) => pass(format!(
            "{} MiB free under {} (store_min_free_mb = {})",
            mib(free),
            dir.display(),
            mib(min_free)
        )),
    }
}

/// Prints the report: a table (colours on a terminal) or one JSON object.
fn report(opts: &SelftestArgs, outcomes: &[Outcome], error: Option<(&str, Option<&str>)>) {
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    let (passed, failed, skipped) = (
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Skip),
    );
    if opts.json {
        let checks: Vec<_> = outcomes
            .iter()
            .map(|o| {
                json!({
                    "name": o.name,
                    "result": o.status.word(),
                    "detail": o.detail,
                    "ms": u64::try_from(o.elapsed.as_millis()).unwrap_or(u64::MAX),
                })
            })
            .collect();
        let mut out = json!({
            "config": opts.config.display().to_string(),
            "ok": failed == 0 && error.is_none(),
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "checks": checks,
        });
        if let Some((message, key)) = error {
            out["error"] = message.into();
            out["key"] = key.into();
        }
        println!("{out}");
        return;
    }
    use std::io::IsTerminal;
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let paint = |s: Status| {
        let word = s.word();
        if !colour {
            return word.to_owned();
        }
        let code = match s {
            Status::Pass => "32",
            Status::Fail => "1;31",
            Status::Skip => "33",
        };
        format!("\x1b[{code}m{word}\x1b[0m")
    };
    println!("{:<8} {:<6} detail", "check", "result");
    for o in outcomes {
        println!("{:<8} {:<6} {}", o.name, paint(o.status), o.detail);
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_before_the_build_fails() {
        let (status, detail) = check_clock(UNIX_EPOCH + Duration::from_secs(1), None, false);
        assert_eq!(status, Status::Fail, "{detail}");
        assert!(
            detail.contains("before this kioskctl was built"),
            "{detail}"
        );
    }

    #[test]
    fn a_clock_far_from_the_central_one_fails() {
        let now = SystemTime::now();
        let far = check_clock(now, Some(now - Duration::from_secs(3600)), true);
        assert_eq!(far.0, Status::Fail, "{}", far.1);
        assert!(far.1.contains("3600 s ahead of"), "{}", far.1);
        let near = check_clock(now, Some(now + Duration::from_secs(20)), true);
        assert_eq!(near.0, Status::Pass, "{}", near.1);
    }

    #[test]
    fn a_hung_check_is_a_fail_not_a_hang() {
        let t0 = Instant::now();
        let (status, detail) = bounded(Duration::from_secs(1), || {
            std::thread::sleep(Duration::from_secs(30));
            pass("never")
        });
        assert_eq!(status, Status::Fail);
        assert_eq!(detail, "no answer in 1 s");
        assert!(t0.elapsed() < Duration::from_secs(5));
    }
}
