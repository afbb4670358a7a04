//! Officer supervision over real mutual TLS on 127.0.0.1, against a running
//! lane (the tokio runtime, a SQLite store in a temp dir, a virtual chip
//! read through `DirectChannel`, the gate as a recording closure).
//!
//! Certificates are made by the test (rcgen): one CA for the kiosk and its
//! consoles, and another CA whose console must be refused. Nothing asserts
//! wall-clock time: waits have generous limits and failing one fails the test.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
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
use kiosk_app::supervision::protocol::{
    Command, LoginRefusal, MAX_SERVER_FRAME, ReferralView, Refusal, ServerMessage, WireEvent,
    read_frame,
};
use kiosk_app::supervision::{
    ClientError, ClientTls, Limits, SupervisionClient, SupervisionConfig, serve,
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rusqlite::Connection;
use test_pki::{PkiOptions, SodOptions, TestPki};
use tokio::net::TcpListener;
use tokio::sync::mpsc::Receiver;
use virtual_emrtd::{AaKey, ChipProfile, DirectChannel, VirtualChip};

const LANE: &str = "A07";
const OFFICER: &str = "OFC-0042";
const PIN: &str = "482916";
const OTHER_OFFICER: &str = "OFC-0007";
const OTHER_PIN: &str = "135790";
/// How long any one wait may take before the test fails (not a timing assertion).
const WAIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------- PKI

/// A certificate and key, PEM.
struct CertKey {
    cert: String,
    key: String,
}

/// A CA issuing the kiosk's and consoles' certificates.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Ca {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    fn kiosk(&self) -> CertKey {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "kiosk-a07");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    fn console(&self, name: &str) -> CertKey {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params)
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

/// The officers file (two officers), made once: each PIN costs a full PBKDF2.
fn officers_file() -> &'static str {
    static FILE: OnceLock<String> = OnceLock::new();
    FILE.get_or_init(|| {
        officers_toml(&[
            OfficerRecord::new(OFFICER, PIN, MIN_ITERATIONS).unwrap(),
            OfficerRecord::new(OTHER_OFFICER, OTHER_PIN, MIN_ITERATIONS).unwrap(),
        ])
    })
}

// ---------------------------------------------------------------- chips

/// The tampered passport's MRZ (DG2 altered after signing: referred, high priority).
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

/// Test chips: a fresh virtual chip per read, its EF.SOD signed by the test
/// PKI, DG2 altered after signing.
struct TamperedChips {
    pki: TestPki,
}

impl TamperedChips {
    fn chip(&self, mrz_text: &str) -> VirtualChip {
        let profile = ChipProfile::new(mrz_text.to_owned()).with_active_authentication(AaKey::P256);
        let mut chip = VirtualChip::new(profile).unwrap();
        let dgs: Vec<(u8, Vec<u8>)> = [(1, 0x0101), (2, 0x0102), (14, 0x010E), (15, 0x010F)]
            .iter()
            .filter_map(|&(n, fid)| chip.file(fid).map(|b| (n, b.to_vec())))
            .collect();
        assert!(chip.replace_file(0x011D, self.pki.sod(&dgs, &SodOptions::default())));
        let mut dg2 = chip.file(0x0102).unwrap().to_vec();
        *dg2.last_mut().unwrap() ^= 0x01;
        assert!(chip.replace_file(0x0102, dg2));
        chip
    }
}

impl ChipSource for TamperedChips {
    fn read(&self, mrz: &Mrz) -> Result<ChipData, ChipError> {
        chip::read_over(DirectChannel::new(self.chip(&tampered_mrz())), mrz)
    }

    fn wait_for_card(&self, _timeout: Duration) -> bool {
        true
    }
}

// ---------------------------------------------------------------- the kiosk

/// A running lane with its supervision server.
struct Kiosk {
    dir: PathBuf,
    addr: SocketAddr,
    inputs: InputSender,
    gate: Arc<Mutex<Vec<GateStep>>>,
    store: PathBuf,
    ca: Ca,
    console_a: CertKey,
    console_b: CertKey,
}

impl Kiosk {
    async fn start(name: &str) -> Kiosk {
        let dir = common::work_dir(&format!("supervision-{name}"));
        let ca = Ca::new("supervision test CA");
        let kiosk_cert = ca.kiosk();
        let write = |file: &str, text: &str| {
            let path = dir.join(file);
            std::fs::write(&path, text).unwrap();
            path
        };
        let config = SupervisionConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ca_cert: write("ca.pem", &ca.pem()),
            cert: write("kiosk.pem", &kiosk_cert.cert),
            key: write("kiosk.key", &kiosk_cert.key),
            officers: write("officers.toml", officers_file()),
            limits: test_limits(),
        };

        let pki = TestPki::new(PkiOptions {
            country: "PH".into(),
            ..PkiOptions::default()
        });
        let mut trust = icao9303::pa::TrustStore::new();
        trust.add_csca_der(&pki.csca_der()).unwrap();
        let store_path = dir.join("passages.sqlite");
        let store = Store::open(
            &store_path,
            &StoreConfig::new(SigningKey::from_bytes(&[7; 32])),
        )
        .unwrap();
        let (core, first) = LaneCore::new(LaneSettings {
            lane: LaneRef {
                site: "KUL".into(),
                terminal: "T1".into(),
                lane: LANE.into(),
            },
            session: SessionConfig {
                direction: Direction::Arrival,
                biometrics: None,
                // Long enough for a debug build; nothing here waits for them.
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
            watch_list: WatchList::new(b"supervision-test"),
            history: RecentPassages::default(),
        });
        let gate = Arc::new(Mutex::new(Vec::new()));
        let steps = gate.clone();
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
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The server listens to the outlets before the lane starts.
        let server = serve(listener, &config, LANE.into(), &outlets, tx.clone()).unwrap();
        tokio::spawn(server);
        tokio::spawn(runtime::run(core, first, io, (tx.clone(), rx), outlets));
        Kiosk {
            dir,
            addr,
            inputs: tx,
            gate,
            store: store_path,
            console_a: ca.console("console-a"),
            console_b: ca.console("console-b"),
            ca,
        }
    }

    fn tls(&self, console: &CertKey) -> ClientTls {
        ClientTls::from_pem(
            self.ca.pem().as_bytes(),
            console.cert.as_bytes(),
            console.key.as_bytes(),
        )
        .unwrap()
    }

    async fn connect(&self, console: &CertKey) -> Result<SupervisionClient, ClientError> {
        SupervisionClient::connect(self.addr, "localhost", &self.tls(console)).await
    }

    /// Console A, the officer logged in and subscribed; the snapshot read.
    async fn officer(&self) -> (SupervisionClient, Receiver<ServerMessage>, ServerMessage) {
        let mut client = self.connect(&self.console_a).await.unwrap();
        client.login(OFFICER, PIN).await.unwrap();
        let mut stream = client.subscribe().await.unwrap();
        let snapshot = next(&mut stream, "snapshot", |m| {
            matches!(m, ServerMessage::Snapshot(_))
        })
        .await;
        (client, stream, snapshot)
    }

    /// The traveller lays the tampered passport on the scanner.
    async fn scan(&self) {
        let mrz = icao9303::mrz::parse(&tampered_mrz(), Mode::Strict).unwrap();
        self.inputs
            .send(Input::Event(Event::MrzScanned(Box::new(mrz))))
            .await
            .unwrap();
    }

    /// Scans and waits for the referral on `stream`.
    async fn referral(&self, stream: &mut Receiver<ServerMessage>) -> ReferralView {
        self.scan().await;
        match next(stream, "referral", |m| {
            matches!(m, ServerMessage::Referral { .. })
        })
        .await
        {
            ServerMessage::Referral { referral, .. } => referral,
            _ => unreachable!(),
        }
    }

    fn gate_steps(&self) -> Vec<GateStep> {
        self.gate.lock().unwrap().clone()
    }

    async fn wait_gate(&self, what: &str, done: impl Fn(&[GateStep]) -> bool) -> Vec<GateStep> {
        wait(what, || {
            let steps = self.gate_steps();
            done(&steps).then_some(steps)
        })
        .await
    }

    fn audit(&self) -> Vec<AuditRow> {
        let db = Connection::open(&self.store).unwrap();
        let mut stmt = db
            .prepare("SELECT officer_id, lane, action, record_id, reason FROM audit ORDER BY id")
            .unwrap();
        stmt.query_map([], |row| {
            Ok(AuditRow {
                officer: row.get(0)?,
                lane: row.get(1)?,
                action: row.get(2)?,
                record_id: row.get(3)?,
                reason: row.get(4)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    /// Waits for an audit row matching `pred`; returns every row then.
    async fn wait_audit(&self, what: &str, pred: impl Fn(&AuditRow) -> bool) -> Vec<AuditRow> {
        wait(what, || {
            let rows = self.audit();
            rows.iter().any(&pred).then_some(rows)
        })
        .await
    }
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        let _ = self.inputs.try_send(Input::Shutdown);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn test_limits() -> Limits {
    let mut limits = Limits::default();
    limits.auth.failure_delay = Duration::from_millis(10);
    limits.auth.per_connection = 3;
    limits.auth.lockout_after = 4;
    limits.auth.lockout_base = Duration::from_secs(3600);
    limits.auth.lockout_max = Duration::from_secs(3600);
    limits.reset_wait = Duration::from_secs(30);
    limits
}

#[derive(Debug, Clone)]
struct AuditRow {
    officer: String,
    lane: String,
    action: String,
    record_id: Option<String>,
    reason: String,
}

/// Polls `f` until it gives a value (fails the test after [`WAIT`]).
async fn wait<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next stream message matching `pred` (others are skipped).
async fn next(
    stream: &mut Receiver<ServerMessage>,
    what: &str,
    pred: impl Fn(&ServerMessage) -> bool,
) -> ServerMessage {
    tokio::time::timeout(WAIT, async {
        loop {
            let m = stream.recv().await.expect("the stream ended");
            if pred(&m) {
                return m;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("gave up waiting for {what}"))
}

/// Waits for the lane state `state` on the stream.
/// Waits for the lane state `state` on the stream (a state event, or the
/// snapshot when the change came before the subscription took effect).
async fn state(stream: &mut Receiver<ServerMessage>, state: &str) {
    next(stream, state, |m| match m {
        ServerMessage::Event {
            event: WireEvent::State { state: s },
            ..
        } => s == state,
        ServerMessage::Snapshot(snapshot) => snapshot.state == state,
        _ => false,
    })
    .await;
}

fn count(steps: &[GateStep], pred: impl Fn(&GateStep) -> bool) -> usize {
    steps.iter().filter(|s| pred(s)).count()
}

fn is_release(s: &GateStep) -> bool {
    matches!(s, GateStep::Release { .. })
}

// ---------------------------------------------------------------- authentication

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_without_a_certificate_is_refused_at_the_handshake() {
    let kiosk = Kiosk::start("no-cert").await;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(kiosk.ca.pem().as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"asean-lane-supervision/1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(kiosk.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    // TLS 1.3: the client's side may finish; the kiosk's refusal shows on the first read.
    let hello = match connector.connect(name, tcp).await {
        Err(_) => None,
        Ok(mut tls) => tokio::time::timeout(WAIT, read_frame(&mut tls, MAX_SERVER_FRAME))
            .await
            .unwrap()
            .ok()
            .flatten(),
    };
    assert!(hello.is_none(), "no hello without a console certificate");
    assert!(kiosk.audit().is_empty(), "nothing reached the lane");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_certificate_from_another_ca_is_refused() {
    let kiosk = Kiosk::start("other-ca").await;
    let rogue = Ca::new("rogue CA").console("console-rogue");
    let err = kiosk.connect(&rogue).await.unwrap_err();
    assert!(matches!(err, ClientError::Handshake(_)), "{err:?}");
    // The same console software with a provisioned certificate gets in.
    let mut client = kiosk.connect(&kiosk.console_a).await.unwrap();
    assert_eq!(client.lane(), LANE);
    client.ping(1).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pins_are_refused_then_the_connection_closed_and_the_officer_locked_out() {
    // Limits: 3 failures per connection, lockout from the 4th failure of an officer or console.
    let kiosk = Kiosk::start("wrong-pin").await;
    let refused = |r: Result<_, ClientError>| match r {
        Err(ClientError::LoginRefused {
            code,
            retry_after_ms,
            attempts_left,
        }) => (code, retry_after_ms, attempts_left),
        other => panic!("expected a refusal, got {other:?}"),
    };

    // Console A: three failures and the connection is closed.
    let mut c1 = kiosk.connect(&kiosk.console_a).await.unwrap();
    assert_eq!(
        refused(c1.login(OFFICER, "000000").await),
        (LoginRefusal::BadCredentials, None, Some(2))
    );
    // An unknown officer is refused the same way.
    assert_eq!(
        refused(c1.login("OFC-9999", PIN).await),
        (LoginRefusal::BadCredentials, None, Some(1))
    );
    assert_eq!(
        refused(c1.login(OFFICER, "111111").await),
        (LoginRefusal::TooManyAttempts, None, Some(0))
    );
    assert!(c1.ping(1).await.is_err(), "the connection is closed");

    // Console B: the officer's 3rd and 4th failures; the 4th locks the officer out.
    let mut c2 = kiosk.connect(&kiosk.console_b).await.unwrap();
    assert_eq!(
        refused(c2.login(OFFICER, "222222").await).0,
        LoginRefusal::BadCredentials
    );
    let (code, retry_after, _) = refused(c2.login(OFFICER, "333333").await);
    assert_eq!(code, LoginRefusal::LockedOut);
    assert!(retry_after.is_some());

    // Locked out even with the right PIN ...
    let mut c3 = kiosk.connect(&kiosk.console_b).await.unwrap();
    let (code, retry_after, _) = refused(c3.login(OFFICER, PIN).await);
    assert_eq!(code, LoginRefusal::LockedOut);
    assert!(retry_after.is_some());
    // ... while another officer logs in from the same console.
    let session = c3.login(OTHER_OFFICER, OTHER_PIN).await.unwrap();
    assert_eq!(session.officer_id, OTHER_OFFICER);

    // Console A's 4th failure locks the console out, for every officer.
    let mut c4 = kiosk.connect(&kiosk.console_a).await.unwrap();
    assert_eq!(
        refused(c4.login("OFC-9998", PIN).await).0,
        LoginRefusal::LockedOut
    );
    assert_eq!(
        refused(c4.login(OTHER_OFFICER, OTHER_PIN).await).0,
        LoginRefusal::LockedOut
    );

    // Audited: every failure with the officer id given, the lockouts, the login.
    kiosk
        .wait_audit("the other officer's login", |r| {
            r.action == "supervision_login" && r.officer == OTHER_OFFICER
        })
        .await;
    let rows = kiosk
        .wait_audit("the console lockout", |r| {
            r.action == "supervision_login_locked" && r.officer == OTHER_OFFICER
        })
        .await;
    let n = |action: &str, officer: &str| {
        rows.iter()
            .filter(|r| r.action == action && r.officer == officer)
            .count()
    };
    assert_eq!(n("supervision_login_failed", OFFICER), 4, "{rows:?}");
    assert_eq!(n("supervision_login_failed", "OFC-9999"), 1);
    assert_eq!(n("supervision_login_failed", "OFC-9998"), 1);
    assert_eq!(n("supervision_login_locked", OFFICER), 1);
    assert_eq!(n("supervision_login_locked", OTHER_OFFICER), 1);
    assert_eq!(n("supervision_login", OTHER_OFFICER), 1);
    assert_eq!(n("supervision_login", OFFICER), 0);
    assert!(rows.iter().all(|r| r.lane == LANE));
    assert!(
        rows.iter().all(|r| !r.reason.contains(PIN)
            && !r.reason.contains("000000")
            && !r.reason.contains("333333")),
        "no PIN is audited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_and_stale_commands_are_refused_and_audited() {
    let kiosk = Kiosk::start("replay").await;
    let refusal = |r: Result<(), ClientError>| match r {
        Err(ClientError::Refused { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let mut client = kiosk.connect(&kiosk.console_a).await.unwrap();
    // Before any login.
    assert_eq!(
        refusal(
            client
                .command_as(&"0".repeat(32), 1, Command::CloseLane, None)
                .await
        ),
        Refusal::NotLoggedIn
    );
    let session = client.login(OFFICER, PIN).await.unwrap();
    let mut stream = client.subscribe().await.unwrap();
    state(&mut stream, "await_document").await;
    client.close_lane(Some("replay test")).await.unwrap();
    state(&mut stream, "closed").await;
    // The same counter again, and an older one: refused, the lane stays closed.
    for counter in [1, 0] {
        assert_eq!(
            refusal(
                client
                    .command_as(&session.session_id, counter, Command::ReopenLane, None)
                    .await
            ),
            Refusal::Replayed
        );
    }
    // A proper reopen goes through.
    client
        .command_as(&session.session_id, 2, Command::ReopenLane, None)
        .await
        .unwrap();
    state(&mut stream, "await_document").await;
    kiosk
        .wait_audit("the reopen", |r| r.action == "lane_opened")
        .await;

    // After logout, the old session's commands are refused.
    client.logout().await.unwrap();
    assert_eq!(
        refusal(
            client
                .command_as(&session.session_id, 3, Command::CloseLane, None)
                .await
        ),
        Refusal::SessionClosed
    );
    // And on another connection, even with a fresh login there.
    let mut other = kiosk.connect(&kiosk.console_a).await.unwrap();
    other.login(OFFICER, PIN).await.unwrap();
    assert_eq!(
        refusal(
            other
                .command_as(&session.session_id, 10, Command::CloseLane, None)
                .await
        ),
        Refusal::UnknownSession
    );

    let rows = kiosk
        .wait_audit("the unknown-session refusal", |r| {
            r.reason.contains("code=unknown_session")
        })
        .await;
    let refused: Vec<&AuditRow> = rows
        .iter()
        .filter(|r| r.action == "supervision_refused")
        .collect();
    let with = |code: &str| {
        refused
            .iter()
            .filter(|r| r.reason.contains(&format!("code={code}")))
            .collect::<Vec<_>>()
    };
    assert_eq!(with("not_logged_in").len(), 1);
    assert_eq!(with("not_logged_in")[0].officer, "unauthenticated");
    assert_eq!(with("replayed").len(), 2);
    assert!(with("replayed").iter().all(|r| r.officer == OFFICER));
    assert_eq!(with("session_closed").len(), 1);
    assert_eq!(with("unknown_session").len(), 1);
    // The replays did nothing: one close, one reopen.
    assert_eq!(rows.iter().filter(|r| r.action == "lane_closed").count(), 1);
    assert_eq!(rows.iter().filter(|r| r.action == "lane_opened").count(), 1);
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == "supervision_close" && r.officer == OFFICER)
            .count(),
        1
    );
    let close = rows
        .iter()
        .find(|r| r.action == "supervision_close")
        .unwrap();
    assert!(close.reason.ends_with("; replay test"), "{}", close.reason);
    assert!(close.reason.contains("counter=1"));
}

// ---------------------------------------------------------------- commands on a running lane

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_reaches_the_console_and_accept_opens_the_gate_once() {
    let kiosk = Kiosk::start("accept").await;
    let (mut client, mut stream, snapshot) = kiosk.officer().await;
    let ServerMessage::Snapshot(snapshot) = snapshot else {
        unreachable!()
    };
    assert_eq!(snapshot.lane, LANE);
    assert_eq!(snapshot.state, "await_document");
    assert!(snapshot.referral.is_none());

    // The lane's events stream in, in order, then the referral.
    kiosk.scan().await;
    let mut seen: Vec<String> = Vec::new();
    let mut last_seq = snapshot.seq;
    let referral = loop {
        let m = tokio::time::timeout(WAIT, stream.recv())
            .await
            .unwrap()
            .unwrap();
        match m {
            ServerMessage::Event { seq, event, .. } => {
                assert_eq!(seq, last_seq + 1, "no gap in the stream");
                last_seq = seq;
                seen.push(
                    serde_json::to_value(&event).unwrap()["kind"]
                        .as_str()
                        .unwrap()
                        .into(),
                );
                if let WireEvent::ChipJudged {
                    genuine,
                    failed_checks,
                    ..
                } = &event
                {
                    assert!(!genuine);
                    assert!(!failed_checks.is_empty());
                }
            }
            ServerMessage::Referral { seq, referral, .. } => {
                assert_eq!(seq, last_seq + 1);
                break referral;
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    for kind in [
        "state",
        "document_scanned",
        "chip_judged",
        "decided",
        "recorded",
        "referred",
    ] {
        assert!(
            seen.iter().any(|k| k == kind),
            "no {kind} event in {seen:?}"
        );
    }

    // What the officer needs to decide.
    let doc = referral.document.as_ref().unwrap();
    assert_eq!(doc.document_number, "P1234567A");
    assert_eq!(doc.primary_identifier, "SANTOS");
    assert_eq!(doc.secondary_identifier, "MARIA");
    assert_eq!(doc.nationality, "PHL");
    assert_eq!(doc.birth_date, "900412");
    let verdict = referral.verdict.as_ref().unwrap();
    assert!(!verdict.genuine);
    assert!(
        verdict.failed_checks.iter().any(|c| c == "dg_hash_2"),
        "{:?}",
        verdict.failed_checks
    );
    assert!(verdict.checks.iter().any(|c| c.outcome == "passed"));
    let face = referral.face.as_ref().unwrap();
    assert_eq!(face.format, "jpeg");
    assert_eq!(&face.data[..2], &[0xFF, 0xD8], "JPEG bytes");
    assert!(face.data.len() > 1000);
    assert_eq!(referral.reasons, vec!["not_genuine"]);
    assert_eq!(referral.priority.as_deref(), Some("high"));

    // A console connecting now gets the open referral in its snapshot.
    let mut late = kiosk.connect(&kiosk.console_b).await.unwrap();
    late.login(OTHER_OFFICER, OTHER_PIN).await.unwrap();
    let mut late_stream = late.subscribe().await.unwrap();
    let ServerMessage::Snapshot(late_snapshot) = next(&mut late_stream, "snapshot", |m| {
        matches!(m, ServerMessage::Snapshot(_))
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(late_snapshot.state, "await_officer");
    assert_eq!(late_snapshot.referral.as_ref(), Some(&referral));

    // Accept: the gate opens once.
    assert!(count(&kiosk.gate_steps(), is_release) == 0);
    client
        .accept(&referral.record_id, Some("passport inspected"))
        .await
        .unwrap();
    kiosk
        .wait_gate("the release", |s| count(s, is_release) == 1)
        .await;
    next(&mut stream, "exit_opened", |m| {
        matches!(m, ServerMessage::Event { event: WireEvent::ExitOpened { record_id, .. }, .. } if *record_id == referral.record_id)
    })
    .await;
    // A second accept of the same record (from either console) does nothing.
    for c in [&mut client, &mut late] {
        match c.accept(&referral.record_id, None).await {
            Err(ClientError::Refused { code, .. }) => assert_eq!(code, Refusal::NotPending),
            other => panic!("expected not_pending, got {other:?}"),
        }
    }

    let rows = kiosk
        .wait_audit("the lane's own accept", |r| r.action == "officer_accept")
        .await;
    let accepts: Vec<&AuditRow> = rows
        .iter()
        .filter(|r| r.action == "supervision_accept")
        .collect();
    assert_eq!(accepts.len(), 1, "{rows:?}");
    assert_eq!(accepts[0].officer, OFFICER);
    assert_eq!(accepts[0].lane, LANE);
    assert_eq!(
        accepts[0].record_id.as_deref(),
        Some(referral.record_id.as_str())
    );
    assert!(accepts[0].reason.ends_with("; passport inspected"));
    let lane_accept = rows.iter().find(|r| r.action == "officer_accept").unwrap();
    assert_eq!(
        lane_accept.record_id.as_deref(),
        Some(referral.record_id.as_str())
    );
    let rows = kiosk
        .wait_audit("the second accepts' refusals", |r| {
            r.action == "supervision_refused" && r.officer == OTHER_OFFICER
        })
        .await;
    assert_eq!(
        rows.iter()
            .filter(|r| r.reason.contains("code=not_pending"))
            .count(),
        2
    );
    assert_eq!(count(&kiosk.gate_steps(), is_release), 1, "opened once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuse_sends_the_traveller_back_and_the_lane_to_idle() {
    let kiosk = Kiosk::start("refuse").await;
    let (mut client, mut stream, _) = kiosk.officer().await;
    let referral = kiosk.referral(&mut stream).await;
    let before = kiosk.gate_steps().len();
    client
        .refuse(&referral.record_id, Some("to the counter"))
        .await
        .unwrap();
    state(&mut stream, "await_document").await;
    let steps = kiosk
        .wait_gate("turn back and admit", |s| {
            s[before..].contains(&GateStep::TurnBack) && s[before..].contains(&GateStep::Admit)
        })
        .await;
    assert_eq!(
        steps[before..],
        [GateStep::TurnBack, GateStep::Admit],
        "turned back out of the gate, then the next traveller admitted"
    );
    assert_eq!(count(&steps, is_release), 0, "the exit never opened");
    let rows = kiosk
        .wait_audit("the lane's dismissal", |r| r.action == "officer_dismiss")
        .await;
    let refuse = rows
        .iter()
        .find(|r| r.action == "supervision_refuse")
        .unwrap();
    assert_eq!(refuse.officer, OFFICER);
    assert_eq!(
        refuse.record_id.as_deref(),
        Some(referral.record_id.as_str())
    );
    // The referral is closed: refusing again is refused.
    assert!(matches!(
        client.refuse(&referral.record_id, None).await,
        Err(ClientError::Refused {
            code: Refusal::NotPending,
            ..
        })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_and_reopen_change_the_running_lane() {
    let kiosk = Kiosk::start("close").await;
    let (mut client, mut stream, _) = kiosk.officer().await;
    client.close_lane(Some("shift change")).await.unwrap();
    // The traveller's screen says so, then the state changes.
    next(&mut stream, "the closed screen", |m| {
        matches!(m, ServerMessage::Event { event: WireEvent::Screen { message, .. }, .. } if message == "lane_closed")
    })
    .await;
    state(&mut stream, "closed").await;
    kiosk
        .wait_gate("turn back on close", |s| {
            s.last() == Some(&GateStep::TurnBack)
        })
        .await;
    // A closed lane takes no traveller.
    kiosk.scan().await;
    client.ping(7).await.unwrap();
    client.reopen_lane(None).await.unwrap();
    // The scan did not start a passage: the next state is idle again.
    let after_open = next(&mut stream, "a state", |m| {
        matches!(
            m,
            ServerMessage::Event {
                event: WireEvent::State { .. },
                ..
            }
        )
    })
    .await;
    assert!(
        matches!(&after_open, ServerMessage::Event { event: WireEvent::State { state }, .. } if state == "await_document"),
        "{after_open:?}"
    );
    kiosk
        .wait_gate("admit on reopen", |s| s.last() == Some(&GateStep::Admit))
        .await;
    let rows = kiosk
        .wait_audit("the lane's reopening", |r| r.action == "lane_opened")
        .await;
    for (mine, lanes) in [
        ("supervision_close", "lane_closed"),
        ("supervision_reopen", "lane_opened"),
    ] {
        let r = rows.iter().find(|r| r.action == mine).unwrap();
        assert_eq!(r.officer, OFFICER);
        assert_eq!(r.record_id, None);
        assert!(rows.iter().any(|r| r.action == lanes));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_starts_a_stuck_lane_again_from_idle() {
    let kiosk = Kiosk::start("reset").await;
    let (mut client, mut stream, _) = kiosk.officer().await;
    // A referred traveller nobody deals with: the lane waits for the officer.
    let referral = kiosk.referral(&mut stream).await;
    let before = kiosk.gate_steps().len();
    client.reset_lane(Some("lane stuck")).await.unwrap();
    state(&mut stream, "closed").await;
    state(&mut stream, "await_document").await;
    let steps = kiosk
        .wait_gate("turn back and admit", |s| {
            s[before..].ends_with(&[GateStep::TurnBack, GateStep::Admit])
        })
        .await;
    assert_eq!(count(&steps, is_release), 0);
    // The referral is gone with the reset.
    assert!(matches!(
        client.accept(&referral.record_id, None).await,
        Err(ClientError::Refused {
            code: Refusal::NotPending,
            ..
        })
    ));
    let rows = kiosk
        .wait_audit("the lane's reopening", |r| r.action == "lane_opened")
        .await;
    let reset = rows
        .iter()
        .find(|r| r.action == "supervision_reset")
        .unwrap();
    assert_eq!(reset.officer, OFFICER);
    assert!(rows.iter().any(|r| r.action == "lane_closed"));
    // One audit row for the reset (not a close and a reopen of the officer's).
    let mine: HashMap<&str, usize> =
        rows.iter()
            .filter(|r| r.officer == OFFICER)
            .fold(HashMap::new(), |mut m, r| {
                *m.entry(r.action.as_str()).or_default() += 1;
                m
            });
    assert_eq!(mine.get("supervision_reset"), Some(&1));
    assert_eq!(mine.get("supervision_close"), None);
    assert_eq!(mine.get("supervision_reopen"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_needs_a_session_and_ends_with_it() {
    let kiosk = Kiosk::start("stream").await;
    let mut client = kiosk.connect(&kiosk.console_a).await.unwrap();
    assert!(matches!(
        client.subscribe().await,
        Err(ClientError::NotLoggedIn)
    ));
    client.login(OFFICER, PIN).await.unwrap();
    let mut stream = client.subscribe().await.unwrap();
    next(&mut stream, "snapshot", |m| {
        matches!(m, ServerMessage::Snapshot(_))
    })
    .await;
    assert!(matches!(
        client.subscribe().await,
        Err(ClientError::AlreadySubscribed)
    ));
    client.logout().await.unwrap();
    // After logout no referral reaches this console.
    let (mut watcher, mut watch_stream, _) = kiosk.officer().await;
    kiosk.scan().await;
    next(&mut watch_stream, "the referral elsewhere", |m| {
        matches!(m, ServerMessage::Referral { .. })
    })
    .await;
    watcher.ping(1).await.unwrap();
    client.ping(2).await.unwrap();
    while let Ok(m) = stream.try_recv() {
        assert!(
            !matches!(m, ServerMessage::Referral { .. }),
            "a logged-out console got personal data"
        );
    }
    // A new login on the same connection streams again, from a fresh snapshot.
    client.login(OTHER_OFFICER, OTHER_PIN).await.unwrap();
    client.subscribe_again().await.unwrap();
    let ServerMessage::Snapshot(snapshot) = next(&mut stream, "the new snapshot", |m| {
        matches!(m, ServerMessage::Snapshot(_))
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(snapshot.state, "await_officer");
    assert!(
        snapshot.referral.is_some(),
        "the open referral, now logged in"
    );
}

// ---------------------------------------------------------------- hostile and slow consoles

/// A supervision server on synthetic outlets (no lane), its inputs drained.
struct Bare {
    dir: PathBuf,
    addr: SocketAddr,
    outlets: Outlets,
    ca: Ca,
    console: CertKey,
}

impl Bare {
    async fn start(name: &str, limits: Limits) -> Bare {
        let dir = common::work_dir(&format!("supervision-{name}"));
        let ca = Ca::new("supervision test CA");
        let kiosk_cert = ca.kiosk();
        let write = |file: &str, text: &str| {
            let path = dir.join(file);
            std::fs::write(&path, text).unwrap();
            path
        };
        let config = SupervisionConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ca_cert: write("ca.pem", &ca.pem()),
            cert: write("kiosk.pem", &kiosk_cert.cert),
            key: write("kiosk.key", &kiosk_cert.key),
            officers: write("officers.toml", officers_file()),
            limits,
        };
        let outlets = Outlets::new(4096);
        let (tx, mut rx) = runtime::channel();
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, &config, LANE.into(), &outlets, tx).unwrap());
        Bare {
            dir,
            addr,
            outlets,
            console: ca.console("console-a"),
            ca,
        }
    }

    /// A console speaking the protocol by hand (a provisioned certificate).
    async fn raw(&self) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.ca.pem().as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let chain = CertificateDer::pem_slice_iter(self.console.cert.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(self.console.key.as_bytes()).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap();
        config.alpn_protocols = vec![b"asean-lane-supervision/1".to_vec()];
        let tcp = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .unwrap();
        let hello = read_message(&mut tls).await.unwrap();
        assert!(matches!(hello, ServerMessage::Hello { .. }));
        tls
    }
}

impl Drop for Bare {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Reads one message, `None` when the connection ended (or failed).
async fn read_message<R: tokio::io::AsyncRead + Unpin>(r: &mut R) -> Option<ServerMessage> {
    let frame = tokio::time::timeout(WAIT, read_frame(r, MAX_SERVER_FRAME))
        .await
        .expect("the kiosk neither sent nor closed")
        .ok()??;
    Some(serde_json::from_slice(&frame).unwrap())
}

async fn write_message<W: tokio::io::AsyncWrite + Unpin>(
    w: &mut W,
    m: &kiosk_app::supervision::protocol::ClientMessage,
) {
    use kiosk_app::supervision::protocol::{MAX_CLIENT_FRAME, encode, write_frame};
    write_frame(w, &encode(m, MAX_CLIENT_FRAME).unwrap())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_or_malformed_frame_ends_the_connection() {
    use tokio::io::AsyncWriteExt;
    let bare = Bare::start("frames", test_limits()).await;
    // A frame announcing more than the limit: refused before it is read.
    let mut tls = bare.raw().await;
    tls.write_all(&(1u32 << 20).to_be_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    match read_message(&mut tls).await {
        Some(ServerMessage::Error { code, .. }) => assert_eq!(code, "frame_too_large"),
        other => panic!("expected frame_too_large, got {other:?}"),
    }
    assert!(read_message(&mut tls).await.is_none(), "then closed");
    // Not JSON of this protocol.
    let mut tls = bare.raw().await;
    tls.write_all(&[0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o'])
        .await
        .unwrap();
    tls.flush().await.unwrap();
    match read_message(&mut tls).await {
        Some(ServerMessage::Error { code, .. }) => assert_eq!(code, "malformed"),
        other => panic!("expected malformed, got {other:?}"),
    }
    assert!(read_message(&mut tls).await.is_none(), "then closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_stops_reading_is_disconnected_and_never_holds_the_lane() {
    use kiosk_app::lane::LaneEvent;
    use kiosk_app::session::PassageId;
    use kiosk_app::supervision::protocol::{ClientMessage, Pin};
    let mut limits = test_limits();
    limits.console_queue = 16;
    limits.write_timeout = Duration::from_millis(500);
    let bare = Bare::start("slow", limits).await;
    // The slow console logs in, subscribes, then never reads again.
    let mut slow = bare.raw().await;
    write_message(
        &mut slow,
        &ClientMessage::Login {
            officer_id: OFFICER.into(),
            pin: Pin::new(PIN),
        },
    )
    .await;
    assert!(matches!(
        read_message(&mut slow).await,
        Some(ServerMessage::LoginOk { .. })
    ));
    write_message(&mut slow, &ClientMessage::Subscribe).await;
    assert!(matches!(
        read_message(&mut slow).await,
        Some(ServerMessage::Snapshot(_))
    ));

    // The lane's events: large ones, far more than any buffer holds. The
    // lane's side never waits (a broadcast send).
    let big = LaneEvent::ChipJudged {
        passage: PassageId(1),
        genuine: false,
        failed_checks: vec!["x".repeat(1000); 20],
    };
    let mut sent = 0usize;
    for i in 0..3000 {
        let _ = bare.outlets.events.send(big.clone());
        sent += 1;
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    // The kiosk still serves: a new console gets the stream.
    let mut fresh = SupervisionClient::connect(
        bare.addr,
        "localhost",
        &ClientTls::from_pem(
            bare.ca.pem().as_bytes(),
            bare.console.cert.as_bytes(),
            bare.console.key.as_bytes(),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    fresh.login(OTHER_OFFICER, OTHER_PIN).await.unwrap();
    let mut stream = fresh.subscribe().await.unwrap();
    next(&mut stream, "snapshot", |m| {
        matches!(m, ServerMessage::Snapshot(_))
    })
    .await;
    let _ = bare.outlets.events.send(LaneEvent::State("closed"));
    state(&mut stream, "closed").await;

    // The slow console was cut off: what it can still read ends before
    // everything sent (the connection is closed, not waiting for it).
    let mut received = 0usize;
    while let Some(m) = read_message(&mut slow).await {
        if matches!(m, ServerMessage::Event { .. }) {
            received += 1;
        }
    }
    assert!(received < sent, "received {received} of {sent}");
}
