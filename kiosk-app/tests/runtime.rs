//! The lane's runtime with a real SQLite store, a test chip below the
//! `ChipSource` trait (the virtual eMRTD over its APDU protocol, in process)
//! and the gate as a recorder of orders: the ordering and timing guarantees
//! that only hold when everything runs together.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use icao9303::mrz::{Mode, Mrz, Td3Fields, encode_td3};
use kiosk_app::devices::chip::{self, ChipData, ChipError};
use kiosk_app::lane::runtime::{self, ChipSource, Input, LaneIo, Outlets, Watch};
use kiosk_app::lane::{GateStep, LaneCore, LaneEvent, LaneSettings};
use kiosk_app::policy::{Direction, RecentPassages, Rules, WatchList};
use kiosk_app::session::{ChipFailure, Event, SessionConfig, Timeouts};
use kiosk_app::store::{LaneRef, SigningKey, Store, StoreConfig};
use rusqlite::Connection;
use test_pki::{PkiOptions, SodOptions, TestPki};
use tokio::sync::broadcast;
use virtual_emrtd::{ChipProfile, DirectChannel, VirtualChip};

fn mrz_text(nationality: &str) -> String {
    encode_td3(&Td3Fields {
        document_code: "P",
        issuing_state: nationality,
        primary: "SRISUK",
        secondary: "NARIN",
        document_number: "AA1234567",
        nationality,
        birth_date: "900412",
        sex: 'F',
        expiry_date: "350101",
        optional: "",
    })
    .unwrap()
}

/// A chip signed by `pki`, read in process; or a reader that hangs for
/// `hang`; or whose first read finds the passport pulled away.
struct TestReader {
    pki: TestPki,
    hang: Option<Duration>,
    pulled_once: std::sync::atomic::AtomicBool,
}

impl ChipSource for TestReader {
    fn read(&self, mrz: &Mrz) -> Result<ChipData, ChipError> {
        if self
            .pulled_once
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(ChipError::Removed);
        }
        if let Some(hang) = self.hang {
            std::thread::sleep(hang);
            return Err(ChipError::Failed {
                failure: ChipFailure::Communication,
                message: "hung reader".into(),
            });
        }
        let text = mrz_text(&mrz.issuing_state);
        let mut chip = VirtualChip::new(ChipProfile::new(text)).unwrap();
        let dgs: Vec<(u8, Vec<u8>)> = [(1, 0x0101), (2, 0x0102)]
            .iter()
            .filter_map(|&(n, fid)| chip.file(fid).map(|b| (n, b.to_vec())))
            .collect();
        assert!(chip.replace_file(0x011D, self.pki.sod(&dgs, &SodOptions::default())));
        chip::read_over(DirectChannel::new(chip), mrz)
    }

    fn wait_for_card(&self, _timeout: Duration) -> bool {
        true
    }
}

/// A lane running on its own runtime thread.
struct Running {
    /// What the disk-space probe reports (bytes free), set by the test.
    free: Arc<AtomicU64>,
    inputs: runtime::InputSender,
    events: broadcast::Receiver<LaneEvent>,
    gate: Arc<Mutex<Vec<(GateStep, i64)>>>,
    store: PathBuf,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn start(name: &str, hang: Option<Duration>) -> Self {
        Self::start_with(name, hang, false)
    }

    fn start_with(name: &str, hang: Option<Duration>, pulled_once: bool) -> Self {
        Self::start_in(common::work_dir(name), hang, pulled_once)
    }

    fn start_in(dir: PathBuf, hang: Option<Duration>, pulled_once: bool) -> Self {
        // (The free-space limit is Watch::disk's default, 64 MiB.)
        let store_path = dir.join("passages.sqlite");
        let pki = TestPki::new(PkiOptions {
            country: "TH".into(),
            ..PkiOptions::default()
        });
        let mut trust = icao9303::pa::TrustStore::new();
        trust.add_csca_der(&pki.csca_der()).unwrap();
        let store = Store::open(
            &store_path,
            &StoreConfig::new(SigningKey::from_bytes(&[3; 32])),
        )
        .unwrap();
        let (core, first) = LaneCore::new(LaneSettings {
            lane: LaneRef {
                site: "KUL".into(),
                terminal: "T1".into(),
                lane: "A07".into(),
            },
            session: SessionConfig {
                direction: Direction::Arrival,
                biometrics: None,
                timeouts: Timeouts {
                    document: Duration::from_secs(5),
                    chip: Duration::from_millis(300),
                    face: Duration::from_secs(5),
                    walk_away: Duration::from_secs(5),
                    processing: Duration::from_secs(3),
                },
                document_retries: 1,
                chip_retries: 1,
            },
            rules: Rules::default(),
            watch_list: WatchList::new(b"salt"),
            history: RecentPassages::default(),
        });
        // The gate notes each order with the number of records committed at that moment.
        let gate: Arc<Mutex<Vec<(GateStep, i64)>>> = Arc::default();
        let seen = gate.clone();
        let path = store_path.clone();
        let free = Arc::new(AtomicU64::new(u64::MAX));
        let probe = free.clone();
        let mut watch = Watch::disk(&store_path);
        // The disk is real; how full it is, the test decides.
        watch.free_space = Box::new(move || Some(probe.load(Ordering::SeqCst)));
        let io = LaneIo {
            chip: Arc::new(TestReader {
                pki,
                hang,
                pulled_once: pulled_once.into(),
            }),
            trust: Arc::new(trust),
            face: None,
            gate: Box::new(move |step| {
                let committed: i64 = Connection::open(&path)
                    .unwrap()
                    .query_row("SELECT COUNT(*) FROM passage", [], |r| r.get(0))
                    .unwrap();
                seen.lock().unwrap().push((step, committed));
            }),
            store,
            document_wait: Duration::from_secs(5),
            watch,
        };
        let outlets = Outlets::new(256);
        let events = outlets.events.subscribe();
        let (tx, rx) = runtime::channel();
        let inputs = tx.clone();
        let thread = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(runtime::run(core, first, io, (tx, rx), outlets));
        });
        Running {
            free,
            inputs,
            events,
            gate,
            store: store_path,
            thread: Some(thread),
        }
    }

    fn send(&self, event: Event) {
        self.inputs.blocking_send(Input::Event(event)).unwrap();
    }

    fn scan(&self, nationality: &str) {
        let mrz = icao9303::mrz::parse(&mrz_text(nationality), Mode::Strict).unwrap();
        self.send(Event::MrzScanned(Box::new(mrz)));
    }

    /// Waits (up to 10 s) for an event matching `want`.
    #[track_caller]
    fn wait_for(&mut self, want: impl Fn(&LaneEvent) -> bool) -> LaneEvent {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(Instant::now() < deadline, "event not seen");
            match self.events.try_recv() {
                Ok(e) if want(&e) => return e,
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    fn gate(&self) -> Vec<(GateStep, i64)> {
        self.gate.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.inputs.blocking_send(Input::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(dir) = self.store.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn the_exit_is_ordered_open_only_once_the_record_is_on_disk() {
    let mut lane = Running::start("order", None);
    lane.scan("THA");
    lane.wait_for(|e| matches!(e, LaneEvent::ExitOpened { .. }));
    let orders = lane.gate();
    let release = orders
        .iter()
        .find(|(s, _)| matches!(s, GateStep::Release { .. }))
        .unwrap();
    assert_eq!(
        release.1, 1,
        "the record was committed when the exit was ordered open"
    );
    assert_eq!(
        orders[0],
        (GateStep::Admit, 0),
        "the gate is readied at start"
    );

    lane.send(Event::GatePassed);
    lane.wait_for(|e| *e == LaneEvent::State("await_document"));
    assert_eq!(lane.gate().last().unwrap().0, GateStep::Admit);
}

#[test]
fn a_hung_chip_reader_never_hangs_the_lane_it_retries_then_refers() {
    let mut lane = Running::start("hung", Some(Duration::from_secs(2)));
    lane.scan("THA");
    // Two reads time out (chip_retries = 1), then the traveller is referred.
    let decided = lane.wait_for(|e| matches!(e, LaneEvent::Referred { .. }));
    assert!(matches!(decided, LaneEvent::Referred { .. }));
    assert!(
        lane.gate()
            .iter()
            .all(|(s, _)| !matches!(s, GateStep::Release { .. })),
        "never opened"
    );
    let reasons: String = Connection::open(&lane.store)
        .unwrap()
        .query_row("SELECT reason_codes FROM passage", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reasons, "[\"chip_unreadable\"]");
    // The lane still answers: a tick later it is waiting on the officer, not stuck.
    lane.send(Event::OfficerDismiss {
        authenticated: true,
    });
    lane.wait_for(|e| *e == LaneEvent::State("await_document"));
}

#[test]
fn a_non_genuine_chip_is_recorded_and_referred_and_the_exit_stays_shut() {
    // The chip is signed by a Thai signer but the document says Malaysia:
    // Passive Authentication fails the country check.
    let mut lane = Running::start("fake", None);
    lane.scan("MYS");
    let judged = lane.wait_for(|e| matches!(e, LaneEvent::ChipJudged { .. }));
    let LaneEvent::ChipJudged {
        genuine,
        failed_checks,
        ..
    } = judged
    else {
        unreachable!()
    };
    assert!(!genuine);
    assert!(
        failed_checks.contains(&"passive_authentication".to_string()),
        "{failed_checks:?}"
    );
    lane.wait_for(|e| matches!(e, LaneEvent::Referred { .. }));
    assert!(
        lane.gate()
            .iter()
            .all(|(s, _)| !matches!(s, GateStep::Release { .. }))
    );
    // An unauthenticated accept of the referral does nothing but an audit row.
    let record: String = Connection::open(&lane.store)
        .unwrap()
        .query_row("SELECT record_id FROM passage", [], |r| r.get(0))
        .unwrap();
    lane.send(Event::OfficerAccept {
        authenticated: false,
        record_id: kiosk_app::store::RecordId::from_hex(&record).unwrap(),
    });
    lane.wait_for(|e| matches!(e, LaneEvent::Audit(_)));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        lane.gate()
            .iter()
            .all(|(s, _)| !matches!(s, GateStep::Release { .. }))
    );
    let audits: i64 = Connection::open(&lane.store)
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'unauthenticated_accept'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audits, 1);
}

#[test]
fn a_passport_pulled_away_during_the_read_is_asked_back_and_read_again() {
    let mut lane = Running::start_with("pulled", None, true);
    lane.scan("THA");
    lane.wait_for(|e| {
        *e == LaneEvent::Screen {
            message: kiosk_app::policy::MessageKey::PutDocumentBack,
            permitted_stay_days: None,
        }
    });
    lane.wait_for(|e| *e == LaneEvent::State("await_document_return"));
    // The reader sees it back at once: the chip is read again and the traveller passes.
    lane.wait_for(|e| matches!(e, LaneEvent::ExitOpened { .. }));
}

#[test]
fn a_disk_about_to_fill_closes_the_lane_before_a_record_is_lost_and_space_reopens_it() {
    let mut lane = Running::start("disk", None);
    lane.free.store(10 * 1024 * 1024, Ordering::SeqCst);
    lane.wait_for(|e| matches!(e, LaneEvent::DiskSpace { low: true, .. }));
    lane.wait_for(|e| {
        *e == LaneEvent::Alert(kiosk_app::session::OfficerAlert::DeviceFault(
            kiosk_app::session::Device::Store,
        ))
    });
    lane.wait_for(|e| *e == LaneEvent::State("out_of_service"));
    // A traveller now is not taken: nothing read, nothing recorded, nothing opened.
    lane.scan("THA");
    std::thread::sleep(Duration::from_millis(500));
    let records: i64 = Connection::open(&lane.store)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM passage", [], |r| r.get(0))
        .unwrap();
    assert_eq!(records, 0);
    assert!(
        lane.gate()
            .iter()
            .all(|(s, _)| !matches!(s, GateStep::Release { .. }))
    );
    // Space returns: the lane reopens by itself and serves the next traveller.
    lane.free.store(u64::MAX, Ordering::SeqCst);
    lane.wait_for(|e| matches!(e, LaneEvent::DiskSpace { low: false, .. }));
    lane.wait_for(|e| *e == LaneEvent::State("await_document"));
    lane.scan("THA");
    lane.wait_for(|e| matches!(e, LaneEvent::ExitOpened { .. }));
}

/// A small tmpfs of its own (needs root, as CI and the README's commands run).
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(name: &str, bytes: u64) -> Option<Self> {
        let path = common::work_dir(name);
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { path })
    }

    /// Fills what is left of the disk; the ballast's path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let ballast = self.path.join("ballast");
        let mut f = std::fs::File::create(&ballast).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
        ballast
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.path)
            .status();
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[test]
fn a_store_that_really_fills_keeps_the_lane_closed_until_it_has_room_again() {
    let Some(disk) = SmallDisk::mount("small-disk", 4 * 1024 * 1024) else {
        eprintln!("SKIPPED: mounting a small tmpfs needs root");
        return;
    };
    let dir = disk.path.join("lane");
    std::fs::create_dir_all(&dir).unwrap();
    let mut lane = Running::start_in(dir, None, false);
    lane.scan("THA");
    lane.wait_for(|e| matches!(e, LaneEvent::ExitOpened { .. }));
    lane.wait_for(|e| *e == LaneEvent::State("await_document"));
    // The disk fills for real, while the free-space reading still says plenty
    // (a quota or a page limit it does not see): the store refuses the record.
    let ballast = disk.fill();
    lane.scan("THA");
    lane.wait_for(|e| *e == LaneEvent::Alert(kiosk_app::session::OfficerAlert::StoreFault));
    lane.wait_for(|e| *e == LaneEvent::State("out_of_service"));
    // Health ticks (one a second) come and go: the lane does not reopen onto
    // a store that cannot write.
    let until = Instant::now() + runtime::HEALTH_EVERY * 3;
    while Instant::now() < until {
        if let Ok(e) = lane.events.try_recv() {
            assert_ne!(
                e,
                LaneEvent::State("await_document"),
                "reopened on a full store"
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let releases = |lane: &Running| {
        lane.gate()
            .iter()
            .filter(|(s, _)| matches!(s, GateStep::Release { .. }))
            .count()
    };
    assert_eq!(
        releases(&lane),
        1,
        "the exit opened only for the recorded traveller"
    );
    // Space returns: the store says it has room and the lane serves again.
    std::fs::remove_file(ballast).unwrap();
    lane.wait_for(|e| *e == LaneEvent::State("await_document"));
    // The same passport again: recorded (anti-passback refers it, as the
    // first passage stands in the lane's history; the refused one does not).
    lane.scan("THA");
    lane.wait_for(|e| matches!(e, LaneEvent::Recorded { .. }));
    let records: i64 = Connection::open(&lane.store)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM passage", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        records, 2,
        "the refused passage left no record; the next did"
    );
    drop(lane);
}
