//! The `kill -9` loop of issue 5, shared by the bounded test
//! (`tests/kill9.rs`) and the soak binary (`kill9-soak`): a kiosk process
//! (the `recorder` binary) records passages one durable append at a time
//! while its sync worker uploads them to an in-process [`Receiver`]; it is
//! killed with `SIGKILL` at a random moment and restarted, cycle after
//! cycle. Then one last run drains the outbox, and the kiosk store and the
//! receiver are compared: every record the recorder reported committed must
//! be in the store and at the receiver exactly once, and both chains must
//! verify.
//!
//! The seed fixes only the schedule of kill delays; record ids, keys and
//! where in the recorder each kill lands still differ from run to run.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use kiosk_app::store::{SigningKey, Store, StoreConfig, StoreError, VerifyReport, verify_store};

use crate::{PkiError, Receiver, ReceiverConfig, ReceiverDb, ReceiverError, StoredRow, TestCa};

/// The unit id the recorder's certificate names.
const UNIT: &str = "soak-unit";

/// What to run: where the recorder is, how many cycles, and their timing.
#[derive(Clone, Debug)]
pub struct SoakOptions {
    /// The `recorder` binary of this crate.
    pub recorder: PathBuf,
    /// Kill cycles before the final drain.
    pub cycles: u32,
    /// Seed of the kill-delay schedule (report it to rerun the same one).
    pub seed: u64,
    /// How long each recorder runs before it is killed, milliseconds
    /// (uniform over the range).
    pub kill_after_ms: Range<u64>,
    /// Pause between two appends of the recorder (traveller pace).
    pub append_interval: Duration,
    /// Largest upload batch, records.
    pub batch: usize,
    /// Where the run's working directory is made (removed after a clean
    /// run, kept for inspection otherwise).
    pub parent_dir: PathBuf,
}

impl SoakOptions {
    /// `cycles` kill cycles of `recorder` with the kill schedule of `seed`:
    /// each recorder runs 100 to 700 ms, appends every 20 ms and uploads in
    /// batches of 50, under the system temp dir.
    pub fn new(recorder: impl Into<PathBuf>, cycles: u32, seed: u64) -> SoakOptions {
        SoakOptions {
            recorder: recorder.into(),
            cycles,
            seed,
            kill_after_ms: 100..700,
            append_interval: Duration::from_millis(20),
            batch: 50,
            parent_dir: std::env::temp_dir(),
        }
    }
}

/// Where the loop is, after each cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Cycles done.
    pub cycles_done: u32,
    /// Distinct records the recorder reported committed so far.
    pub committed: u64,
    /// Kills that left a non-empty outbox so far.
    pub killed_with_backlog: u32,
}

/// A recorder that exited by itself before it was killed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecorderFailure {
    /// The cycle (from 1).
    pub cycle: u32,
    /// How it exited.
    pub status: String,
    /// What it wrote to stderr.
    pub stderr: String,
}

/// The outcome of a soak run; [`SoakReport::is_clean`] says whether it passed.
#[derive(Clone, Debug)]
pub struct SoakReport {
    /// The seed of the kill schedule.
    pub seed: u64,
    /// Kill cycles done.
    pub cycles: u32,
    /// Kills that left a non-empty outbox (so a kill landed mid-sync).
    pub killed_with_backlog: u32,
    /// Recorders that exited by themselves (a store that would not reopen
    /// after a kill, say) instead of being killed.
    pub recorder_failures: Vec<RecorderFailure>,
    /// Distinct records the recorder reported committed.
    pub committed: u64,
    /// Committed records missing from the kiosk store.
    pub lost_from_store: Vec<String>,
    /// Committed records missing at the receiver.
    pub lost_at_receiver: Vec<String>,
    /// Record ids stored more than once at the receiver.
    pub duplicates: Vec<String>,
    /// Records left in the outbox after the final drain.
    pub outbox_after_drain: u64,
    /// (seq, id, hash) of every record in the kiosk store.
    pub kiosk_rows: Vec<StoredRow>,
    /// (seq, id, hash) of every record the receiver stored for the unit.
    pub receiver_rows: Vec<StoredRow>,
    /// The kiosk store's chain, verified from its file.
    pub kiosk_chain: VerifyReport,
    /// The receiver's chain re-verified from its stored bytes: how many
    /// records, or the first bad sequence number.
    pub receiver_chain: Result<u64, u64>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// The working directory (already removed if the run was clean).
    pub dir: PathBuf,
}

impl SoakReport {
    /// Records lost: committed but missing from the store or the receiver.
    pub fn lost(&self) -> u64 {
        let lost: HashSet<&String> = self
            .lost_from_store
            .iter()
            .chain(&self.lost_at_receiver)
            .collect();
        lost.len() as u64
    }

    /// Whether the receiver holds exactly the kiosk store's records (same
    /// sequence numbers, ids and hashes).
    pub fn receiver_matches_kiosk(&self) -> bool {
        self.receiver_rows == self.kiosk_rows
    }

    /// Whether the kiosk chain verified whole, over every stored record.
    pub fn kiosk_chain_intact(&self) -> bool {
        matches!(self.kiosk_chain, VerifyReport::Intact { records, .. }
            if records == self.kiosk_rows.len() as u64)
    }

    /// Whether the receiver's chain verified whole, over every kiosk record.
    pub fn receiver_chain_intact(&self) -> bool {
        self.receiver_chain == Ok(self.kiosk_rows.len() as u64)
    }

    /// No loss, no duplicate, no recorder failure, outbox drained, the
    /// receiver equal to the store, and both chains intact.
    pub fn is_clean(&self) -> bool {
        self.lost() == 0
            && self.duplicates.is_empty()
            && self.recorder_failures.is_empty()
            && self.outbox_after_drain == 0
            && self.receiver_matches_kiosk()
            && self.kiosk_chain_intact()
            && self.receiver_chain_intact()
    }
}

/// Why a soak run could not be carried out (a loss or a duplicate is not an
/// error: it is in the [`SoakReport`]).
#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    /// The options cannot be run.
    #[error("bad options: {0}")]
    Options(String),
    /// File system or process handling.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The OS random number generator.
    #[error("OS RNG: {0}")]
    Rng(getrandom::Error),
    /// Test certificates.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// The receiver would not start.
    #[error("receiver: {0}")]
    Receiver(#[from] ReceiverError),
    /// The kiosk store, opened or verified by the soak itself.
    #[error("kiosk store: {0}")]
    Store(#[from] StoreError),
    /// Reading the receiver's database or the kiosk store's rows.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The final drain run of the recorder failed; the working directory is
    /// kept.
    #[error("final drain failed ({status}), work files kept in {}: {stderr}", dir.display())]
    Drain {
        /// How the recorder exited.
        status: ExitStatus,
        /// What it wrote to stderr.
        stderr: String,
        /// The kept working directory.
        dir: PathBuf,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SoakError {
    let what = what.into();
    move |source| SoakError::Io { what, source }
}

/// Runs the soak; see [`run_with_progress`].
///
/// # Errors
/// [`SoakError`].
pub fn run(options: &SoakOptions) -> Result<SoakReport, SoakError> {
    run_with_progress(options, |_| {})
}

/// Runs `options.cycles` kill cycles, then a final drain, and compares the
/// kiosk store with the receiver; calls `progress` after each cycle.
///
/// # Errors
/// [`SoakError`] when the run cannot be carried out; losses, duplicates
/// and broken chains are reported in the [`SoakReport`] instead.
pub fn run_with_progress(
    options: &SoakOptions,
    mut progress: impl FnMut(Progress),
) -> Result<SoakReport, SoakError> {
    if options.kill_after_ms.is_empty() {
        return Err(SoakError::Options(format!(
            "empty kill delay range {:?} ms",
            options.kill_after_ms
        )));
    }
    if !options.recorder.is_file() {
        return Err(SoakError::Options(format!(
            "no recorder binary at {} (build it: cargo build -p sync-receiver --bins)",
            options.recorder.display()
        )));
    }
    let start = Instant::now();
    let dir = WorkDir::new(&options.parent_dir)?;
    let result = soak(options, &dir.path, &mut progress, start);
    match &result {
        Ok(report) if report.is_clean() => dir.remove(),
        Ok(_) | Err(SoakError::Drain { .. }) => dir.keep(),
        Err(_) => dir.remove(),
    }
    result
}

/// The paths a recorder needs.
struct Kiosk {
    store: PathBuf,
    seed_hex: String,
    endpoint: String,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Kiosk {
    fn recorder(&self, options: &SoakOptions) -> Command {
        let mut cmd = Command::new(&options.recorder);
        cmd.arg("--store")
            .arg(&self.store)
            .args(["--seed", &self.seed_hex])
            .args(["--endpoint", &self.endpoint, "--unit", UNIT])
            .arg("--ca")
            .arg(&self.ca)
            .arg("--cert")
            .arg(&self.cert)
            .arg("--key")
            .arg(&self.key)
            .args(["--batch", &options.batch.to_string()]);
        cmd
    }
}

fn soak(
    options: &SoakOptions,
    dir: &Path,
    progress: &mut impl FnMut(Progress),
    start: Instant,
) -> Result<SoakReport, SoakError> {
    let mut key_seed = [0u8; 32];
    getrandom::fill(&mut key_seed).map_err(SoakError::Rng)?;
    let key = SigningKey::from_bytes(&key_seed);
    let ca = TestCa::new("kill -9 soak CA")?;
    let (ca_pem, cert, unit_key) = ca.write_unit_files(dir, UNIT)?;
    let store_path = dir.join("passages.sqlite");
    let receiver_db = dir.join("receiver.sqlite");
    // Opened here to create the store and to read its outbox between kills.
    let store = Store::open(&store_path, &StoreConfig::new(key.clone()))?;
    let receiver = Receiver::start(
        ReceiverConfig {
            db_path: receiver_db.clone(),
            server: ca.server()?,
            client_ca_pem: ca.cert_pem(),
            units: vec![(UNIT.to_owned(), key.verifying_key())],
            clock_offset_ms: 0,
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )?;
    let kiosk = Kiosk {
        store: store_path.clone(),
        seed_hex: hex::encode(key_seed),
        endpoint: receiver.endpoint(),
        ca: ca_pem,
        cert,
        key: unit_key,
    };

    let mut rng = SplitMix64(options.seed);
    let mut committed: HashSet<String> = HashSet::new();
    let mut killed_with_backlog = 0;
    let mut recorder_failures = Vec::new();
    for cycle in 1..=options.cycles {
        let mut child = kiosk
            .recorder(options)
            .args(["--append", "1000000"])
            .args([
                "--interval-ms",
                &options.append_interval.as_millis().to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io(format!("starting {}", options.recorder.display())))?;
        let span = options.kill_after_ms.end - options.kill_after_ms.start;
        let delay = options.kill_after_ms.start + rng.next_u64() % span;
        std::thread::sleep(Duration::from_millis(delay));
        let (out, err, early) = kill_and_collect(&mut child, cycle)?;
        if let Some(status) = early {
            recorder_failures.push(RecorderFailure {
                cycle,
                status: status.to_string(),
                stderr: err,
            });
        }
        committed.extend(
            out.lines()
                .filter_map(|l| l.strip_prefix("committed "))
                .map(str::to_owned),
        );
        if store.outbox_count()? > 0 {
            killed_with_backlog += 1;
        }
        progress(Progress {
            cycles_done: cycle,
            committed: committed.len() as u64,
            killed_with_backlog,
        });
    }

    // Restart once more and let it drain.
    let drain = kiosk
        .recorder(options)
        .arg("--drain")
        .output()
        .map_err(io("running the final drain"))?;
    if !drain.status.success() {
        return Err(SoakError::Drain {
            status: drain.status,
            stderr: String::from_utf8_lossy(&drain.stderr).into_owned(),
            dir: dir.to_path_buf(),
        });
    }
    receiver.stop();
    let outbox_after_drain = store.outbox_count()?;
    drop(store);

    let kiosk_rows = kiosk_rows(&store_path)?;
    let (receiver_rows, receiver_chain) = {
        let db = ReceiverDb::open(&receiver_db)?;
        (
            db.records(UNIT)?,
            db.verify_chain(UNIT, &key.verifying_key())?,
        )
    };
    let kiosk_chain = verify_store(&store_path, &key.verifying_key())?;

    let in_store: HashSet<&str> = kiosk_rows.iter().map(|r| r.record_id.as_str()).collect();
    let mut at_receiver: HashMap<&str, u32> = HashMap::new();
    for row in &receiver_rows {
        *at_receiver.entry(row.record_id.as_str()).or_default() += 1;
    }
    let missing = |held: &dyn Fn(&str) -> bool| {
        let mut ids: Vec<String> = committed.iter().filter(|id| !held(id)).cloned().collect();
        ids.sort();
        ids
    };
    let lost_from_store = missing(&|id| in_store.contains(id));
    let lost_at_receiver = missing(&|id| at_receiver.contains_key(id));
    let mut duplicates: Vec<String> = at_receiver
        .iter()
        .filter(|&(_, &n)| n > 1)
        .map(|(&id, _)| id.to_owned())
        .collect();
    duplicates.sort();

    Ok(SoakReport {
        seed: options.seed,
        cycles: options.cycles,
        killed_with_backlog,
        recorder_failures,
        committed: committed.len() as u64,
        lost_from_store,
        lost_at_receiver,
        duplicates,
        outbox_after_drain,
        kiosk_rows,
        receiver_rows,
        kiosk_chain,
        receiver_chain,
        elapsed: start.elapsed(),
        dir: dir.to_path_buf(),
    })
}

/// Kills `child` with `SIGKILL` (unless it already exited) and returns its
/// stdout, its stderr, and its exit status if it exited by itself.
fn kill_and_collect(
    child: &mut Child,
    cycle: u32,
) -> Result<(String, String, Option<ExitStatus>), SoakError> {
    let what = |w: &str| format!("recorder of cycle {cycle}: {w}");
    let early = child.try_wait().map_err(io(what("polling")))?;
    if early.is_none() {
        // `Child::kill` is SIGKILL on Unix.
        child.kill().map_err(io(what("kill")))?;
        child.wait().map_err(io(what("wait")))?;
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout
            .read_to_string(&mut out)
            .map_err(io(what("reading stdout")))?;
    }
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        stderr
            .read_to_string(&mut err)
            .map_err(io(what("reading stderr")))?;
    }
    Ok((out, err, early))
}

/// (seq, record id, record hash) of every record in a kiosk store, read
/// straight from its `passage` table.
fn kiosk_rows(path: &Path) -> Result<Vec<StoredRow>, rusqlite::Error> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut stmt = conn.prepare("SELECT seq, record_id, record_hash FROM passage ORDER BY seq")?;
    let rows = stmt.query_map([], |r| {
        let seq: i64 = r.get(0)?;
        let hash: Vec<u8> = r.get(2)?;
        Ok(StoredRow {
            seq: u64::try_from(seq).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Integer,
                    e.into(),
                )
            })?,
            record_id: r.get(1)?,
            record_hash: hash.try_into().map_err(|h: Vec<u8>| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Blob,
                    format!("record hash of {} bytes", h.len()).into(),
                )
            })?,
        })
    })?;
    rows.collect()
}

/// The run's working directory; removed on drop unless kept.
struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl WorkDir {
    fn new(parent: &Path) -> Result<WorkDir, SoakError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = parent.join(format!(
            "kill9-soak-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).map_err(io(format!("creating {}", path.display())))?;
        Ok(WorkDir { path, keep: false })
    }

    fn keep(mut self) {
        self.keep = true;
    }

    fn remove(self) {}
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// SplitMix64: a small seeded generator for the kill schedule.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce5_e9b5);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
