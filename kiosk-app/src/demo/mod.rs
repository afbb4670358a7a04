//! `asean-lane demo`: the whole lane with no hardware.
//!
//! Everything above the device drivers is the appliance's own code, started
//! the way `asean-lane run` starts it: a real configuration file, the
//! trust store on disk, the watch list file, the SQLite store. Below the
//! drivers: each traveller's chip is a virtual eMRTD laid on the vpcd
//! reader and read through pcscd; the MRZ scanner is a simulated reader
//! writing the serial protocol into a pseudo-terminal; the gate is the
//! gate-controller firmware running on this host over simulated pins,
//! behind the real gate protocol on a second pseudo-terminal; the face
//! unit answers each traveller's scripted score. The demo plays the
//! travellers (walking through the gate's beams) and the officer (who
//! sends every referral to the manual counter), and prints each step.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use doc_scanner::SerialLine;
use doc_scanner::sim::{SimulatedReader, Style};
use gate::serial::SerialIo;
use gate_sim::{Board, LeafDrive, SimGate};
use serialport::{SerialPort, TTYPort};
use test_pki::{PkiOptions, SodOptions, TestPki};
use tokio::sync::broadcast;
use virtual_emrtd::{AaKey, ChipProfile, Misbehaviour, PaceConfig, VirtualChip};

use crate::appliance::{self, Devices};
use crate::config::Config;
use crate::devices::chip::ChipConfig;
use crate::face::{FaceMatch, SimulatedFaceUnit};
use crate::lane::runtime::{self, Input, Outlets, PcscReader};
use crate::lane::{GateNotice, LaneEvent};
use crate::policy::{Date, MessageKey, Outcome, WatchList};
use crate::session::Event;
use crate::store::record::hex_lower;
use crate::store::{SigningKey, verify_store};

mod travellers;

pub use travellers::{
    ChipKind, DEFAULT_TRAVELLERS, Traveller, TravellersError, parse as parse_travellers,
};

/// `asean-lane demo`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// The travellers, one after another (TOML; the built-in list has an
    /// approved, an expired, a non-ASEAN, a watch-listed, a tampered-chip,
    /// a cloned-chip and a minor traveller: see kiosk-app/demo/travellers.toml).
    #[arg(long, value_name = "FILE")]
    pub travellers: Option<PathBuf>,
    /// The passage store to write; its signing key is kept beside it
    /// (default: a new directory under the system's temp dir).
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// The vpcd reader the virtual chips are laid on.
    #[arg(long, default_value = "Virtual PCD 00 00")]
    pub reader: String,
    /// vpcd's address for that reader.
    #[arg(long, default_value = "127.0.0.1:35963")]
    pub vpcd: SocketAddr,
    /// A provisioned unit's lane configuration (`kioskctl init`, `enroll`,
    /// `config set`, `trust import`, `watchlist import`): the lane then runs
    /// on that unit's record-signing key, store, trust store, watch list,
    /// rules and sync, and the demo writes no unit files of its own. Only
    /// the devices are the demo's: --reader (for `devices.reader`) and its
    /// own scanner and gate pseudo-terminals. The travellers' `watch_list`
    /// flags are then not used: the unit's watch list decides.
    #[arg(long, value_name = "LANE.TOML", conflicts_with = "store")]
    pub unit: Option<PathBuf>,
    /// Issuing states' test PKIs, one folder per state (`DIR/THA/`, as
    /// test-pki's `TestPki::save` writes it): their document signers sign
    /// the chips, so a unit that imported their CSCAs trusts them. A state
    /// without a folder gets a fresh PKI.
    #[arg(long, value_name = "DIR")]
    pub pki: Option<PathBuf>,
}

/// Longest the demo waits, after the last traveller, for the sync worker to
/// deliver every record of a unit with `[sync]`.
const SYNC_DEADLINE: Duration = Duration::from_secs(30);

/// How long one traveller may take before the demo calls it stuck.
const TRAVELLER_DEADLINE: Duration = Duration::from_secs(60);

/// The data groups a virtual chip can hold, by number and file identifier.
const DG_FIDS: [(u8, u16); 4] = [(1, 0x0101), (2, 0x0102), (14, 0x010E), (15, 0x010F)];

/// id-PACE-ECDH-GM-AES-CBC-CMAC-128 (9303-11 section 9.2.1), on P-256 (parameter ID 12).
const PACE_ECDH_GM_AES_128: &str = "0.4.0.127.0.7.2.2.4.2.2";

/// One traveller's result.
struct TravellerResult {
    label: String,
    outcome: Option<Outcome>,
    reasons: Vec<String>,
    gate: &'static str,
    expected: Option<Outcome>,
}

/// Runs the demo; exit code 0 when every traveller met its expectation and the store verifies.
///
/// With `display`, the traveller's screen shows in a window on this thread
/// (the travellers then move at a pace a person can follow).
///
/// # Errors
/// When the demo cannot set up (pcscd not running, no pseudo-terminal,
/// a bad travellers file) or a traveller gets stuck.
pub fn run(args: &DemoArgs, display: bool) -> anyhow::Result<ExitCode> {
    let today = Date::from_unix_seconds(crate::lane::unix_ms(SystemTime::now()).div_euclid(1000));
    let travellers = match &args.travellers {
        None => travellers::parse(DEFAULT_TRAVELLERS, today)?,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            travellers::parse(&text, today).with_context(|| path.display().to_string())?
        }
    };
    println!("ASEAN Lane demo: {} travellers", travellers.len());
    let pkis = country_pkis(&travellers, args.pki.as_deref())?;
    let (scanner_master, scanner_slave) =
        TTYPort::pair().context("a pseudo-terminal for the scanner")?;
    let (mut gate_master, mut gate_slave) =
        TTYPort::pair().context("a pseudo-terminal for the gate")?;
    let (config_path, config) = match &args.unit {
        Some(path) => {
            let config = provisioned_unit(path, args, &scanner_slave, &gate_slave)?;
            (path.clone(), config)
        }
        None => {
            let store_path = match &args.store {
                Some(p) => p.clone(),
                None => std::env::temp_dir()
                    .join(format!(
                        "asean-lane-demo-{}-{}",
                        std::process::id(),
                        crate::lane::unix_ms(SystemTime::now())
                    ))
                    .join("passages.sqlite"),
            };
            let dir = store_path
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let config_path = write_unit(
                &dir,
                &store_path,
                &pkis,
                &travellers,
                args,
                &scanner_slave,
                &gate_slave,
            )?;
            let config = Config::load(&config_path)?;
            (config_path, config)
        }
    };
    let store_path = config.store.clone();
    println!("  configuration  {}", config_path.display());
    println!("  store          {}", store_path.display());
    let loaded = appliance::load(&config)?;
    let verifying_key = loaded.store.verifying_key();

    // The gate firmware on this host, behind the real protocol on a pty.
    gate_master.set_timeout(Duration::from_millis(5))?;
    gate_slave.set_timeout(Duration::from_millis(20))?;
    let mut sim = SimGate::spawn(
        SerialIo::new(Box::new(gate_master)),
        Board::new(),
        gate_sim::Config::default(),
    );
    sim.set_pace(Duration::from_millis(30));
    let mut scanner = SimulatedReader::new(scanner_master, Style::default());
    let face = Arc::new(Mutex::new(SimulatedFaceUnit::default()));
    let devices = Devices {
        scanner: SerialLine::from_port(scanner_slave, Duration::from_millis(50))?,
        scanner_reopen: None,
        gate: SerialIo::new(Box::new(gate_slave)),
        chip: Arc::new(PcscReader::new(ChipConfig {
            reader: args.reader.clone(),
            card_wait: Duration::from_secs(5),
            connect: card_reader::ConnectOptions::default(),
        })?),
        face: Some(face.clone()),
    };
    let lane = appliance::assemble(&config, loaded, devices)?;
    let inputs = lane.inputs.0.clone();

    // The lane runs on its own runtime; its events come back on a channel.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outlets = Outlets::new(1024);
    let mut events_rx = outlets.events.subscribe();
    let screen = display.then(|| (rt.handle().clone(), outlets.events.subscribe()));
    let pause = if display {
        Duration::from_millis(1500)
    } else {
        Duration::ZERO
    };
    let (seen_tx, seen) = mpsc::channel::<LaneEvent>();
    let lane_thread = thread::spawn(move || {
        rt.block_on(async move {
            tokio::spawn(async move {
                loop {
                    match events_rx.recv().await {
                        Ok(e) => {
                            if seen_tx.send(e).is_err() {
                                break;
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
            runtime::run(lane.core, lane.first, lane.io, lane.inputs, outlets).await;
        });
        drop(lane.gate);
    });

    let readers = card_reader::Readers::establish().context("PC/SC service (is pcscd running?)")?;
    let (pkis, readers, lane_inputs) = (&pkis, &readers, &inputs);
    let (syncs, store_path) = (config.sync.is_some(), store_path.as_path());
    let (results, failure) = thread::scope(|scope| {
        let travellers = scope.spawn(move || {
            let mut results = Vec::new();
            for (i, t) in travellers.iter().enumerate() {
                println!();
                println!(
                    "── traveller {}/{}: {} ({} passport, chip {})",
                    i + 1,
                    travellers.len(),
                    t.label,
                    t.document.0,
                    chip_name(t.chip)
                );
                thread::sleep(pause);
                let lane = Lane {
                    pkis,
                    args,
                    readers,
                    inputs: lane_inputs,
                    seen: &seen,
                    pause,
                };
                match lane.traveller(t, &mut sim, &mut scanner, &face) {
                    Ok(r) => results.push(r),
                    Err(e) => {
                        let _ = lane_inputs.blocking_send(Input::Shutdown);
                        return (results, Some(e.context(format!("traveller {:?}", t.label))));
                    }
                }
            }
            thread::sleep(pause);
            if syncs {
                wait_for_sync(store_path);
            }
            let _ = lane_inputs.blocking_send(Input::Shutdown);
            (results, None)
        });
        #[cfg(feature = "display")]
        if let Some((handle, events)) = screen {
            let officer = crate::display::KioskOfficer::new(None, "L01".into());
            if let Err(e) =
                crate::display::run_with_screen(&handle, events, inputs.clone(), officer)
            {
                eprintln!("asean-lane demo: no screen ({e}); running without one");
            }
        }
        #[cfg(not(feature = "display"))]
        drop(screen);
        travellers.join().unwrap_or_else(|_| {
            (
                Vec::new(),
                Some(anyhow::anyhow!("the demo's traveller thread panicked")),
            )
        })
    });
    drop(inputs);
    if lane_thread.join().is_err() {
        bail!("the lane's runtime panicked");
    }
    if let Some(e) = failure {
        return Err(e);
    }

    println!();
    println!("── summary");
    let mut all_met = true;
    for r in &results {
        let met = r.expected.is_none_or(|e| Some(e) == r.outcome);
        all_met &= met;
        println!(
            "  {:<14} {:<10} {:<32} gate: {:<8} {}",
            r.label,
            r.outcome.map_or("none", outcome_name),
            if r.reasons.is_empty() {
                "-".to_string()
            } else {
                r.reasons.join(",")
            },
            r.gate,
            if met {
                "as expected"
            } else {
                "NOT AS EXPECTED"
            }
        );
    }
    let report = verify_store(store_path, &verifying_key)?;
    println!("  store {}: {report}", store_path.display());
    let ok = all_met && report.is_intact();
    println!("{}", if ok { "demo passed" } else { "demo FAILED" });
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What a traveller needs of the demo's lane.
struct Lane<'a> {
    pkis: &'a BTreeMap<String, TestPki>,
    args: &'a DemoArgs,
    readers: &'a card_reader::Readers,
    inputs: &'a runtime::InputSender,
    seen: &'a mpsc::Receiver<LaneEvent>,
    /// A pause before each of the traveller's moves (for a person watching).
    pause: Duration,
}

impl Lane<'_> {
    /// Plays one traveller through the lane and returns what happened.
    fn traveller(
        &self,
        t: &Traveller,
        sim: &mut SimGate,
        scanner: &mut SimulatedReader<TTYPort>,
        face: &Arc<Mutex<SimulatedFaceUnit>>,
    ) -> anyhow::Result<TravellerResult> {
        let Lane {
            pkis,
            args,
            readers,
            inputs,
            seen,
            pause,
        } = *self;
        let start = Instant::now();
        let deadline = start + TRAVELLER_DEADLINE;
        let say = |tag: &str, text: String| {
            println!(
                "  [{:>6.3}s] {tag:<8} {text}",
                start.elapsed().as_secs_f64()
            );
        };
        // Wait for the gate to admit (printing what the lane does meanwhile).
        while sim.leaves().0 != LeafDrive::Open {
            if Instant::now() > deadline {
                bail!("the gate never opened its entry");
            }
            if let Ok(e) = seen.recv_timeout(Duration::from_millis(20))
                && let Some((tag, text)) = describe(&e)
            {
                say(tag, text);
            }
        }
        *face
            .lock()
            .map_err(|_| anyhow::anyhow!("face unit lock poisoned"))? =
            SimulatedFaceUnit::scripted([Ok(FaceMatch {
                score: t.face_score,
            })]);
        let card = match t.chip {
            ChipKind::None => None,
            kind => {
                let pki = pkis
                    .get(&t.document.0)
                    .context("no document signer for the issuing state")?;
                let chip = virtual_chip(t, kind, pki)?;
                let card = virtual_emrtd::connect(chip, args.vpcd)
                    .context("connecting the virtual chip to vpcd (is pcscd running with vpcd?)")?;
                readers
                    .wait_for_card(&args.reader, Duration::from_secs(5))
                    .context("pcscd did not see the virtual chip")?;
                say(
                    "traveller",
                    "lays the passport on the scanner, chip on the reader".into(),
                );
                Some(card)
            }
        };
        thread::sleep(pause);
        sim.walk_in().context("simulated gate")?;
        say("traveller", "steps into the gate".into());
        let lines: Vec<&str> = t.mrz.lines().collect();
        scanner.send_scan(&lines).context("simulated scanner")?;

        let mut result = TravellerResult {
            label: t.label.clone(),
            outcome: None,
            reasons: Vec::new(),
            gate: "closed",
            expected: t.expect,
        };
        let mut started = false;
        let mut left = false;
        let mut walk_out_due = false;
        loop {
            if Instant::now() > deadline {
                bail!("stuck: no end of the passage within {TRAVELLER_DEADLINE:?}");
            }
            let Ok(e) = seen.recv_timeout(Duration::from_millis(50)) else {
                // The lane has said all it had to say about the open exit: walk.
                if walk_out_due {
                    walk_out_due = false;
                    thread::sleep(pause);
                    sim.walk_out().context("simulated gate")?;
                    say("traveller", "walks out through the exit".into());
                    left = true;
                }
                continue;
            };
            if let Some((tag, text)) = describe(&e) {
                say(tag, text);
            }
            match e {
                LaneEvent::DocumentScanned { .. } => started = true,
                LaneEvent::Decided {
                    outcome, reasons, ..
                } => {
                    result.outcome = Some(outcome);
                    result.reasons = reasons.iter().map(|r| r.as_str().to_owned()).collect();
                }
                LaneEvent::ExitOpened { .. } => {
                    result.gate = "opened";
                    walk_out_due = true;
                }
                LaneEvent::Referred { .. } => {
                    thread::sleep(pause);
                    say(
                        "officer",
                        "reviews the referral and sends the traveller to the manual counter".into(),
                    );
                    inputs
                        .blocking_send(Input::Event(Event::OfficerDismiss {
                            authenticated: true,
                        }))
                        .context("the lane stopped")?;
                }
                LaneEvent::State("await_document") if started => {
                    if !left {
                        thread::sleep(pause);
                        wait_for_entry(sim, deadline)?;
                        sim.turn_back().context("simulated gate")?;
                        say("traveller", "turns back out through the entry".into());
                    }
                    break;
                }
                _ => {}
            }
        }
        if let Some(card) = card {
            card.remove().context("removing the virtual chip")?;
            readers
                .wait_for_removal(&args.reader, Duration::from_secs(5))
                .context("pcscd did not see the chip leave")?;
        }
        Ok(result)
    }
}

/// Waits until the gate's entry is open (for a traveller to turn back).
fn wait_for_entry(sim: &SimGate, deadline: Instant) -> anyhow::Result<()> {
    while sim.leaves().0 != LeafDrive::Open {
        if Instant::now() > deadline {
            bail!("the gate never opened its entry to let the traveller out");
        }
        thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// A test CSCA and document signer for each issuing state among the travellers
/// (Passive Authentication checks the signer's country against the document's):
/// the one saved under `saved/<state>/` when there is one, else a fresh one.
fn country_pkis(
    travellers: &[Traveller],
    saved: Option<&Path>,
) -> anyhow::Result<BTreeMap<String, TestPki>> {
    let mut pkis = BTreeMap::new();
    for t in travellers {
        let state = &t.document.0;
        if pkis.contains_key(state) {
            continue;
        }
        if let Some(dir) = saved.map(|d| d.join(state)).filter(|d| d.is_dir()) {
            let pki = TestPki::load(&dir)
                .with_context(|| format!("the test PKI in {}", dir.display()))?;
            pkis.insert(state.clone(), pki);
            continue;
        }
        let country = icao9303::pa::icao_to_iso3166(state)
            .with_context(|| format!("no ISO 3166 country for issuing state {state}"))?;
        let pki = TestPki::new(PkiOptions {
            country: country.into(),
            ..PkiOptions::default()
        });
        pkis.insert(state.clone(), pki);
    }
    Ok(pkis)
}

/// A virtual chip for the traveller, its EF.SOD signed by the demo's document signer.
fn virtual_chip(t: &Traveller, kind: ChipKind, pki: &TestPki) -> anyhow::Result<VirtualChip> {
    let mut profile = ChipProfile::new(t.mrz.clone()).with_active_authentication(AaKey::P256);
    if t.pace {
        profile = profile.with_pace(PaceConfig::new(PACE_ECDH_GM_AES_128, 12));
    }
    if kind == ChipKind::Cloned {
        profile = profile.with(Misbehaviour::CloneWithoutAaKey);
    }
    let mut chip = VirtualChip::new(profile).map_err(|e| anyhow::anyhow!("virtual chip: {e:?}"))?;
    let dgs: Vec<(u8, Vec<u8>)> = DG_FIDS
        .iter()
        .filter_map(|&(n, fid)| chip.file(fid).map(|b| (n, b.to_vec())))
        .collect();
    if !chip.replace_file(0x011D, pki.sod(&dgs, &SodOptions::default())) {
        bail!("the virtual chip has no EF.SOD to replace");
    }
    if kind == ChipKind::Tampered {
        // A substituted photo: one byte of DG2's image changed after signing.
        let mut dg2 = chip.file(0x0102).map(<[u8]>::to_vec).unwrap_or_default();
        if let Some(last) = dg2.last_mut() {
            *last ^= 0x01;
        }
        if !chip.replace_file(0x0102, dg2) {
            bail!("the virtual chip has no DG2 to tamper with");
        }
    }
    Ok(chip)
}

/// A provisioned unit's configuration with the demo's devices in place of
/// its own (`devices.reader` = --reader, the scanner and gate on the demo's
/// pseudo-terminals); every other key, and every file it names, is the unit's.
fn provisioned_unit(
    path: &Path,
    args: &DemoArgs,
    scanner: &TTYPort,
    gate: &TTYPort,
) -> anyhow::Result<Config> {
    let mut config = Config::load(path)
        .with_context(|| format!("the unit's configuration {}", path.display()))?;
    config.devices.reader = args.reader.clone();
    config.devices.scanner = scanner.name().unwrap_or_default().into();
    config.devices.scanner_framing = crate::config::ScannerFraming::Lines;
    config.devices.gate = gate.name().unwrap_or_default().into();
    Ok(config)
}

/// Waits, at most [`SYNC_DEADLINE`], until the unit's sync worker has
/// delivered every passage record and audit entry; says how it went.
fn wait_for_sync(store: &Path) {
    let deadline = Instant::now() + SYNC_DEADLINE;
    println!();
    loop {
        match crate::store::outbox_status(store) {
            Ok(s) if s.backlog == 0 && s.audit_backlog == 0 => {
                println!(
                    "── sync: every record delivered ({} acknowledged by the central system)",
                    s.acknowledged
                );
                return;
            }
            Ok(s) if Instant::now() > deadline => {
                println!(
                    "── sync: {} records still waiting after {SYNC_DEADLINE:?} (they stay queued{})",
                    s.backlog,
                    s.last_error
                        .map_or(String::new(), |e| format!("; last error: {e}"))
                );
                return;
            }
            Err(e) if Instant::now() > deadline => {
                println!("── sync: the store's outbox cannot be read: {e}");
                return;
            }
            _ => thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Writes the unit's files (key, trust store, watch list, configuration); returns the configuration's path.
fn write_unit(
    dir: &Path,
    store: &Path,
    pkis: &BTreeMap<String, TestPki>,
    travellers: &[Traveller],
    args: &DemoArgs,
    scanner: &TTYPort,
    gate: &TTYPort,
) -> anyhow::Result<PathBuf> {
    let key_path = store.with_extension("key");
    if !key_path.exists() {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("OS random numbers: {e}"))?;
        write_private(&key_path, &hex_lower(&seed))?;
        let public = SigningKey::from_bytes(&seed).verifying_key();
        std::fs::write(store.with_extension("pub"), hex_lower(public.as_bytes()))?;
    }
    let trust = dir.join("trust");
    let trust_dir = trust_store::TrustDir::open(&trust)?;
    for (state, pki) in pkis {
        trust_dir.import(&format!("csca-{state}.der"), &pki.csca_der())?;
    }

    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("OS random numbers: {e}"))?;
    let list = WatchList::new(&salt);
    let mut watch = format!("salt {}\n", hex_lower(&salt));
    for t in travellers.iter().filter(|t| t.watch_list) {
        let hash = list.document_hash(&t.document.1, &t.document.0);
        watch.push_str(&format!("document {}\n", hex_lower(&hash)));
    }
    let watch_path = dir.join("watch-list");
    std::fs::write(&watch_path, watch)?;

    let q = |p: &Path| format!("{:?}", p.display().to_string());
    let config = format!(
        "# Written by asean-lane demo: a lane on simulated devices.\n\
         site = \"DEMO\"\nterminal = \"T1\"\nlane = \"L01\"\ndirection = \"arrival\"\n\
         store = {}\ntrust_store = {}\nsigning_key = {}\n\n\
         [devices]\nreader = {:?}\nscanner = {:?}\ngate = {:?}\n\n\
         [policy]\nwatch_list = {}\nminor_age = 18\npassback_minutes = 10\ndefault_stay_days = 30\n\n\
         [biometrics]\nrequired = true\nthreshold = 0.8\nmax_tries = 2\n\n\
         [timeouts]\nchip_ms = 15000\nwalk_away_ms = 20000\nprocessing_ms = 5000\n",
        q(store),
        q(&trust),
        q(&key_path),
        args.reader,
        scanner.name().unwrap_or_default(),
        gate.name().unwrap_or_default(),
        q(&watch_path),
    );
    let path = dir.join("lane.toml");
    std::fs::write(&path, config)?;
    Ok(path)
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// A lane event as a demo line (tag, text); `None` for events not worth a line.
fn describe(e: &LaneEvent) -> Option<(&'static str, String)> {
    Some(match e {
        LaneEvent::Screen {
            message,
            permitted_stay_days,
        } => (
            "screen",
            match (message, permitted_stay_days) {
                (MessageKey::ProceedToGate, Some(days)) => {
                    format!("\"proceed to the gate\" (stay permitted: {days} days)")
                }
                _ => format!("\"{}\"", screen_text(*message)),
            },
        ),
        LaneEvent::DocumentScanned { issuing_state, .. } => (
            "scanner",
            format!("MRZ read: {issuing_state} passport; reading the chip"),
        ),
        LaneEvent::ChipJudged {
            genuine,
            failed_checks,
            ..
        } => (
            "chip",
            if *genuine {
                "read; genuine (Passive Authentication, clone check, DG1 = MRZ)".into()
            } else {
                format!("read; NOT genuine: failed {}", failed_checks.join(", "))
            },
        ),
        LaneEvent::FaceChecked { result, .. } => (
            "face",
            match result {
                Ok(score) => format!("live face against the chip's photo: score {score}/1000"),
                Err(why) => format!("no score: {why}"),
            },
        ),
        LaneEvent::Decided {
            outcome,
            reasons,
            permitted_stay_days,
            ..
        } => (
            "rules",
            format!(
                "{}{}{}",
                outcome_name(*outcome),
                if reasons.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        reasons
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                permitted_stay_days.map_or(String::new(), |d| format!(", stay {d} days")),
            ),
        ),
        LaneEvent::Recorded { record_id, .. } => (
            "store",
            format!("passage record {record_id} signed, chained, committed"),
        ),
        LaneEvent::ExitOpened { .. } => ("gate", "exit opened".into()),
        LaneEvent::Referred { alert, .. } => (
            "officer",
            format!(
                "referral alert ({})",
                alert.as_ref().map_or("normal".to_string(), |a| {
                    format!(
                        "{:?}: {}",
                        a.priority,
                        a.reasons
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            ),
        ),
        LaneEvent::Alert(a) => ("officer", format!("alert: {a:?}")),
        LaneEvent::Gate(notice) => (
            "gate",
            match notice {
                GateNotice::PersonInZone => "one person in the gate; entry closed behind".into(),
                GateNotice::Passed => "traveller left through the exit; exit closed".into(),
                other => format!("{other:?}"),
            },
        ),
        LaneEvent::DiskSpace { free_bytes, low } => (
            "store",
            format!(
                "{} MiB free: lane {}",
                free_bytes / (1024 * 1024),
                if *low {
                    "closed until space returns"
                } else {
                    "open again"
                }
            ),
        ),
        LaneEvent::Sync {
            behind, backlog, ..
        } => (
            "sync",
            format!(
                "{} ({backlog} records waiting)",
                if *behind {
                    "behind: officer alerted"
                } else {
                    "caught up"
                }
            ),
        ),
        LaneEvent::Audit(_) | LaneEvent::State(_) => return None,
    })
}

/// What the traveller's screen says, in English.
fn screen_text(m: MessageKey) -> &'static str {
    match m {
        MessageKey::Welcome => "welcome: place your passport on the scanner",
        MessageKey::RescanDocument => "please scan your passport again",
        MessageKey::ReadingChip => "reading the chip: keep the passport still",
        MessageKey::PutDocumentBack => "please put your passport back",
        MessageKey::PleaseWait => "checking, please wait",
        MessageKey::LookAtCamera => "look at the camera",
        MessageKey::ProceedToGate => "proceed to the gate",
        MessageKey::SeeOfficer => "please see the officer",
        MessageKey::GoToManualCounter => "please go to the manual counter",
        MessageKey::LaneClosed => "lane closed: use the manual counter",
        MessageKey::OutOfService => "out of service: use the manual counter",
    }
}

/// An outcome's name.
fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Approved => "approved",
        Outcome::Referred => "referred",
        Outcome::Redirected => "redirected",
    }
}

/// A chip kind's name.
fn chip_name(k: ChipKind) -> &'static str {
    match k {
        ChipKind::Genuine => "genuine",
        ChipKind::Tampered => "tampered",
        ChipKind::Cloned => "cloned",
        ChipKind::None => "absent",
    }
}
