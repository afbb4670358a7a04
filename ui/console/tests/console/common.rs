//! Real lanes with their supervision servers on 127.0.0.1, set up as
//! `kiosk-app/tests/supervision.rs` does: the lane's tokio runtime, a
//! SQLite store in a temp dir, a virtual chip (signed by a test PKI, DG2
//! altered after signing: every traveller is referred, high priority) read
//! through `DirectChannel`, the gate as a recording closure, and mutual TLS
//! with certificates made by rcgen. A kiosk can be stopped and started again
//! on the same port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use icao9303::mrz::{Mode, Mrz, Td3Fields, encode_td3};
use kiosk_app::devices::chip::{self, ChipData, ChipError};
use kiosk_app::lane::runtime::{self, ChipSource, Input, InputSender, LaneIo, Outlets, Watch};
use kiosk_app::lane::{GateStep, LaneCore, LaneSettings};
use kiosk_app::policy::{Direction, RecentPassages, Rules, WatchList};
use kiosk_app::session::{Event, SessionConfig, Timeouts};
use kiosk_app::store::{LaneRef, SigningKey, Store, StoreConfig};
use kiosk_app::supervision::auth::{MIN_ITERATIONS, OfficerRecord, officers_toml};
use kiosk_app::supervision::{ClientTls, Limits, SupervisionConfig, serve};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use test_pki::{PkiOptions, SodOptions, TestPki};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use virtual_emrtd::{AaKey, ChipProfile, DirectChannel, VirtualChip};

/// The officer the kiosks know.
pub(crate) const OFFICER: &str = "OFC-0042";
/// The officer's PIN.
pub(crate) const PIN: &str = "482916";
/// How long any one wait may take before the test fails (not a timing assertion).
pub(crate) const WAIT: Duration = Duration::from_secs(60);

/// A fresh directory for one test.
pub(crate) fn work_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("console-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A certificate and key, PEM.
pub(crate) struct CertKey {
    pub(crate) cert: String,
    pub(crate) key: String,
}

/// The CA of the kiosks and the console.
pub(crate) struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    pub(crate) fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Ca {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    pub(crate) fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A kiosk's server certificate for `localhost`.
    pub(crate) fn kiosk(&self, name: &str) -> CertKey {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    /// A console's client certificate.
    pub(crate) fn console(&self, name: &str) -> CertKey {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params)
    }

    /// The console's TLS identity.
    pub(crate) fn console_tls(&self) -> ClientTls {
        let console = self.console("console-1");
        ClientTls::from_pem(
            self.pem().as_bytes(),
            console.cert.as_bytes(),
            console.key.as_bytes(),
        )
        .unwrap()
    }

    fn issue(&self, params: CertificateParams) -> CertKey {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        CertKey {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// The officers file, made once: each PIN costs a full PBKDF2.
fn officers_file() -> &'static str {
    static FILE: OnceLock<String> = OnceLock::new();
    FILE.get_or_init(|| officers_toml(&[OfficerRecord::new(OFFICER, PIN, MIN_ITERATIONS).unwrap()]))
}

/// The tampered passport's MRZ.
fn tampered_mrz() -> String {
    encode_td3(&Td3Fields {
        document_code: "P",
        issuing_state: "PHL",
        primary: "SANTOS",
        secondary: "MARIA",
        document_number: "P1234567A",
        nationality: "PHL",
        birth_date: "900412",
        sex: 'F',
        expiry_date: "350101",
        optional: "",
    })
    .unwrap()
}

/// A fresh virtual chip per read, its EF.SOD signed by the test PKI, DG2
/// altered after signing.
struct TamperedChips {
    pki: TestPki,
}

impl ChipSource for TamperedChips {
    fn read(&self, mrz: &Mrz) -> Result<ChipData, ChipError> {
        let profile = ChipProfile::new(tampered_mrz()).with_active_authentication(AaKey::P256);
        let mut chip = VirtualChip::new(profile).unwrap();
        let dgs: Vec<(u8, Vec<u8>)> = [(1, 0x0101), (2, 0x0102), (14, 0x010E), (15, 0x010F)]
            .iter()
            .filter_map(|&(n, fid)| chip.file(fid).map(|b| (n, b.to_vec())))
            .collect();
        assert!(chip.replace_file(0x011D, self.pki.sod(&dgs, &SodOptions::default())));
        let mut dg2 = chip.file(0x0102).unwrap().to_vec();
        *dg2.last_mut().unwrap() ^= 0x01;
        assert!(chip.replace_file(0x0102, dg2));
        chip::read_over(DirectChannel::new(chip), mrz)
    }

    fn wait_for_card(&self, _timeout: Duration) -> bool {
        true
    }
}

/// A running lane and its supervision server.
pub(crate) struct Kiosk {
    lane: String,
    dir: PathBuf,
    /// Where its supervision server listens (the same after a restart).
    pub(crate) addr: SocketAddr,
    config: SupervisionConfig,
    inputs: Option<InputSender>,
    tasks: Vec<JoinHandle<()>>,
    gate: Arc<Mutex<Vec<GateStep>>>,
}

impl Kiosk {
    /// Starts lane `lane` with a kiosk certificate from `ca`, on a free port.
    pub(crate) async fn start(lane: &str, ca: &Ca) -> Kiosk {
        let dir = work_dir(&format!("kiosk-{lane}"));
        let cert = ca.kiosk(&format!("kiosk-{lane}"));
        let write = |file: &str, text: &str| {
            let path = dir.join(file);
            std::fs::write(&path, text).unwrap();
            path
        };
        let mut limits = Limits::default();
        limits.auth.failure_delay = Duration::from_millis(10);
        let config = SupervisionConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ca_cert: write("ca.pem", &ca.pem()),
            cert: write("kiosk.pem", &cert.cert),
            key: write("kiosk.key", &cert.key),
            officers: write("officers.toml", officers_file()),
            limits,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut kiosk = Kiosk {
            lane: lane.to_owned(),
            dir,
            addr: listener.local_addr().unwrap(),
            config,
            inputs: None,
            tasks: Vec::new(),
            gate: Arc::new(Mutex::new(Vec::new())),
        };
        kiosk.run(listener);
        kiosk
    }

    /// Starts the lane and its server on `listener`.
    fn run(&mut self, listener: TcpListener) {
        let pki = TestPki::new(PkiOptions {
            country: "PH".into(),
            ..PkiOptions::default()
        });
        let mut trust = icao9303::pa::TrustStore::new();
        trust.add_csca_der(&pki.csca_der()).unwrap();
        let store_path = self.dir.join("passages.sqlite");
        let store = Store::open(
            &store_path,
            &StoreConfig::new(SigningKey::from_bytes(&[7; 32])),
        )
        .unwrap();
        let (core, first) = LaneCore::new(LaneSettings {
            lane: LaneRef {
                site: "KUL".into(),
                terminal: "T1".into(),
                lane: self.lane.clone(),
            },
            session: SessionConfig {
                direction: Direction::Arrival,
                biometrics: None,
                timeouts: Timeouts {
                    document: Duration::from_secs(120),
                    chip: Duration::from_secs(120),
                    face: Duration::from_secs(120),
                    walk_away: Duration::from_secs(300),
                    processing: Duration::from_secs(60),
                },
                document_retries: 2,
                chip_retries: 2,
            },
            rules: Rules::default(),
            watch_list: WatchList::new(b"console-test"),
            history: RecentPassages::default(),
        });
        let steps = self.gate.clone();
        let io = LaneIo {
            chip: Arc::new(TamperedChips { pki }),
            trust: Arc::new(trust),
            face: None,
            gate: Box::new(move |step| steps.lock().unwrap().push(step)),
            store,
            document_wait: Duration::from_secs(30),
            watch: Watch::disk(&store_path),
        };
        let outlets = Outlets::new(256);
        let (tx, rx) = runtime::channel();
        // The server listens to the outlets before the lane starts.
        let server = serve(
            listener,
            &self.config,
            self.lane.clone(),
            &outlets,
            tx.clone(),
        )
        .unwrap();
        self.tasks = vec![
            tokio::spawn(server),
            tokio::spawn(runtime::run(core, first, io, (tx.clone(), rx), outlets)),
        ];
        self.inputs = Some(tx);
    }

    /// Stops the lane and its server; the port is free afterwards.
    pub(crate) async fn stop(&mut self) {
        if let Some(inputs) = self.inputs.take() {
            let _ = inputs.send(Input::Shutdown).await;
        }
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }

    /// Starts it again on the same port, with the same store.
    pub(crate) async fn restart(&mut self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) => {
                    assert!(tokio::time::Instant::now() < deadline, "rebinding: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        self.run(listener);
    }

    /// The traveller lays the tampered passport on the scanner.
    pub(crate) async fn scan(&self) {
        let mrz = icao9303::mrz::parse(&tampered_mrz(), Mode::Strict).unwrap();
        self.inputs
            .as_ref()
            .unwrap()
            .send(Input::Event(Event::MrzScanned(Box::new(mrz))))
            .await
            .unwrap();
    }

    /// What the gate was told.
    pub(crate) fn gate_steps(&self) -> Vec<GateStep> {
        self.gate.lock().unwrap().clone()
    }
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        if let Some(inputs) = self.inputs.take() {
            let _ = inputs.try_send(Input::Shutdown);
        }
        for task in &self.tasks {
            task.abort();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
