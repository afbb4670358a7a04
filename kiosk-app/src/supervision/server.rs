//! The kiosk's supervision server: mutual TLS 1.3, officer logins, the lane
//! stream and the officer's commands.
//!
//! One *hub* listens to the lane's [`Outlets`], keeps the lane's
//! [view](crate::supervision::view::LaneView), encodes every stream message
//! once and hands it to each subscribed console's bounded queue (a full
//! queue disconnects that console; the lane never waits). Each connection
//! runs its TLS handshake (with a time limit), then a reader, the session
//! logic and a writer. Commands go to the lane's [`InputSender`] as
//! authenticated officer events, each after its audit entry.
//!
//! # Commands and the lane
//! | command | audit action | lane input |
//! |---|---|---|
//! | `accept` | `supervision_accept` (record) | `OfficerAccept { authenticated: true, record_id }` |
//! | `refuse` | `supervision_refuse` (record) | `OfficerDismiss { authenticated: true }` |
//! | `close_lane` | `supervision_close` | `OfficerClose { authenticated: true }` |
//! | `reopen_lane` | `supervision_reopen` | `OfficerOpen { authenticated: true }` |
//! | `reset_lane` | `supervision_reset` | `OfficerClose`, then once the lane is `closed`, `OfficerOpen` |
//!
//! `accept` and `refuse` must name the lane's open referral (else
//! `not_pending`): a second accept of the same record is refused here, and
//! the lane would ignore it too. A reset ends whatever the lane waited for
//! (a traveller in the gate is turned back) and starts again from idle; if
//! a device is still failed the lane goes back out of service. If the lane
//! is writing a record when the reset comes, it closes once the record is
//! committed; if that takes longer than [`Limits::reset_wait`] the reset is
//! answered `reset_incomplete` and the lane stays closed.
//!
//! Other audit actions: `supervision_login`, `supervision_login_failed`,
//! `supervision_login_locked`, `supervision_logout`, `supervision_refused`
//! (a refused command; the reason names the code). The audit `reason`
//! holds `console=<fingerprint> session=<prefix> counter=<n>` and the
//! officer's own reason.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, broadcast, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_rustls::TlsAcceptor;

use crate::lane::runtime::{Input, InputSender, Outlets};
use crate::lane::{LaneEvent, Referral};
use crate::session::Event;
use crate::store::{AuditEntry, RecordId};
use crate::supervision::auth::{Limiter, Officers, PIN_LENGTH, valid_officer_id};
use crate::supervision::protocol::{
    ClientMessage, Command, CommandFrame, FrameError, LoginRefusal, MAX_CLIENT_FRAME,
    MAX_REASON_CHARS, MAX_SERVER_FRAME, PROTOCOL_VERSION, Pin, Refusal, ServerMessage, decode,
    encode, read_frame,
};
use crate::supervision::view::{LaneStatus, LaneView};
use crate::supervision::{Limits, SupervisionConfig, SupervisionError};

/// The ALPN protocol name both sides insist on.
pub const ALPN: &[u8] = b"asean-lane-supervision/1";

/// The audit's officer id for commands from no valid session.
pub const UNAUTHENTICATED: &str = "unauthenticated";

/// Sessions of a connection remembered as closed (to answer `session_closed`).
const CLOSED_SESSIONS: usize = 8;

/// PIN verifications running at once (each is a full PBKDF2).
const HASHING_AT_ONCE: usize = 2;

/// Frames written to a console before one flush.
const WRITE_BATCH: usize = 64;

/// A whole encoded frame, shared by every console it goes to.
type Frame = Arc<[u8]>;

/// A loaded supervision server: TLS configuration, officers and limits.
pub struct SupervisionServer {
    tls: Arc<rustls::ServerConfig>,
    officers: Arc<Officers>,
    limits: Limits,
}

impl std::fmt::Debug for SupervisionServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisionServer")
            .field("officers", &self.officers.len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl SupervisionServer {
    /// Reads the CA, the kiosk's certificate and key, and the officers file.
    ///
    /// # Errors
    /// [`SupervisionError::Tls`] naming the file that is missing or
    /// unusable, [`SupervisionError::Officers`] for the officers file.
    pub fn load(config: &SupervisionConfig) -> Result<Self, SupervisionError> {
        let officers = Officers::load(&config.officers)?;
        Ok(Self {
            tls: Arc::new(server_tls(config)?),
            officers: Arc::new(officers),
            limits: config.limits,
        })
    }

    /// Starts listening to `outlets` at once (so call it before the lane's
    /// [`run`](crate::lane::runtime::run) starts: the view begins with the
    /// state of a new lane, `await_document`) and returns the server, to be
    /// spawned. `lane` is the lane's id (as in its records and the audit).
    ///
    /// The future serves consoles on `listener` until the lane stops (its
    /// outlets close); dropping it closes every console connection.
    pub fn serve(
        self,
        listener: TcpListener,
        lane: String,
        outlets: &Outlets,
        inputs: InputSender,
    ) -> impl Future<Output = ()> + Send + 'static {
        let events = outlets.events.subscribe();
        let referrals = outlets.referrals.subscribe();
        run(self, listener, lane, events, referrals, inputs)
    }
}

/// Loads the server from `config` and starts it on `listener` for `lane`:
/// [`SupervisionServer::load`] then [`SupervisionServer::serve`].
///
/// # Errors
/// As [`SupervisionServer::load`].
pub fn serve(
    listener: TcpListener,
    config: &SupervisionConfig,
    lane: String,
    outlets: &Outlets,
    inputs: InputSender,
) -> Result<impl Future<Output = ()> + Send + 'static, SupervisionError> {
    Ok(SupervisionServer::load(config)?.serve(listener, lane, outlets, inputs))
}

/// The rustls server configuration: TLS 1.3, a client certificate from the CA required.
fn server_tls(config: &SupervisionConfig) -> Result<rustls::ServerConfig, SupervisionError> {
    let bad = |path: &std::path::Path, problem: String| SupervisionError::Tls {
        path: path.to_path_buf(),
        problem,
    };
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| bad(path, format!("cannot read: {e}")))
    };
    let ca_pem = read(&config.ca_cert)?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&ca_pem) {
        let cert = cert.map_err(|_| bad(&config.ca_cert, "not a PEM certificate".into()))?;
        roots
            .add(cert)
            .map_err(|e| bad(&config.ca_cert, format!("not a usable CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad(&config.ca_cert, "holds no certificate".into()));
    }
    let chain_pem = read(&config.cert)?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad(&config.cert, "not a PEM certificate chain".into()))?;
    if chain.is_empty() {
        return Err(bad(&config.cert, "holds no certificate".into()));
    }
    let key_pem = read(&config.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| bad(&config.key, "not a PEM private key".into()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| bad(&config.ca_cert, e.to_string()))?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| bad(&config.cert, e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| bad(&config.key, format!("does not match the certificate: {e}")))?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    Ok(tls)
}

/// What every connection shares.
struct Shared {
    lane: String,
    officers: Arc<Officers>,
    limiter: Mutex<Limiter>,
    limits: Limits,
    hashing: Semaphore,
    inputs: InputSender,
    status: watch::Receiver<LaneStatus>,
    hub: mpsc::Sender<HubRequest>,
    next_subscriber: AtomicU64,
}

/// What a connection asks of the hub.
enum HubRequest {
    /// Send a snapshot to `tx`, then the stream.
    Subscribe {
        id: u64,
        tx: mpsc::Sender<Frame>,
        kick: Arc<Notify>,
        active: Arc<AtomicBool>,
    },
    /// Stop streaming to this subscriber.
    Unsubscribe(u64),
}

/// A console receiving the stream.
struct Subscriber {
    id: u64,
    tx: mpsc::Sender<Frame>,
    kick: Arc<Notify>,
    /// Cleared by the connection the moment its session ends: nothing more is sent.
    active: Arc<AtomicBool>,
}

/// The server: the hub, the accept loop and the connections.
async fn run(
    server: SupervisionServer,
    listener: TcpListener,
    lane: String,
    events: broadcast::Receiver<LaneEvent>,
    referrals: broadcast::Receiver<Referral>,
    inputs: InputSender,
) {
    let view = LaneView::new("await_document");
    let (status_tx, status_rx) = watch::channel(view.status());
    let (hub_tx, hub_rx) = mpsc::channel(64);
    let shared = Arc::new(Shared {
        lane: lane.clone(),
        officers: server.officers,
        limiter: Mutex::new(Limiter::new(server.limits.auth)),
        limits: server.limits,
        hashing: Semaphore::new(HASHING_AT_ONCE),
        inputs,
        status: status_rx,
        hub: hub_tx,
        next_subscriber: AtomicU64::new(1),
    });
    let acceptor = TlsAcceptor::from(server.tls);
    let hub = hub(lane, view, events, referrals, hub_rx, status_tx);
    tokio::pin!(hub);
    let mut connections = JoinSet::new();
    tracing::info!(lane = %shared.lane, "supervision server listening");
    loop {
        tokio::select! {
            () = &mut hub => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    while connections.try_join_next().is_some() {}
                    if connections.len() >= shared.limits.max_consoles {
                        tracing::warn!(%peer, "supervision: too many consoles, connection dropped");
                        continue;
                    }
                    connections.spawn(connection(shared.clone(), acceptor.clone(), tcp, peer));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "supervision: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    tracing::info!(lane = %shared.lane, "supervision server stopped: the lane stopped");
    // Give the connections a moment to write the hub's farewell.
    let _ = timeout(Duration::from_secs(1), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// The hub: keeps the lane's view and fans the stream out to subscribers.
async fn hub(
    lane: String,
    mut view: LaneView,
    mut events: broadcast::Receiver<LaneEvent>,
    mut referrals: broadcast::Receiver<Referral>,
    mut requests: mpsc::Receiver<HubRequest>,
    status: watch::Sender<LaneStatus>,
) {
    use broadcast::error::RecvError;
    let mut subscribers: Vec<Subscriber> = Vec::new();
    let mut seq: u64 = 0;
    loop {
        // Events first: a step's events come before its referral (see the view).
        let message = tokio::select! {
            biased;
            e = events.recv() => match e {
                Ok(e) => {
                    seq += 1;
                    Some(ServerMessage::Event { lane: lane.clone(), seq, event: view.event(&e) })
                }
                Err(RecvError::Lagged(missed)) => Some(lagged(&lane, missed)),
                Err(RecvError::Closed) => break,
            },
            r = referrals.recv() => match r {
                Ok(r) => {
                    seq += 1;
                    Some(ServerMessage::Referral { lane: lane.clone(), seq, referral: view.referral(&r) })
                }
                Err(RecvError::Lagged(missed)) => Some(lagged(&lane, missed)),
                Err(RecvError::Closed) => break,
            },
            request = requests.recv() => match request {
                Some(HubRequest::Subscribe { id, tx, kick, active }) => {
                    let snapshot = ServerMessage::Snapshot(view.snapshot(&lane, seq));
                    if let Some(frame) = stream_frame(snapshot)
                        && tx.try_send(frame).is_ok()
                    {
                        subscribers.push(Subscriber { id, tx, kick, active });
                    } else {
                        kick.notify_one();
                    }
                    None
                }
                Some(HubRequest::Unsubscribe(id)) => {
                    subscribers.retain(|s| s.id != id);
                    None
                }
                None => break,
            },
        };
        status.send_if_modified(|s| {
            let now = view.status();
            let changed = *s != now;
            *s = now;
            changed
        });
        if let Some(frame) = message.and_then(stream_frame) {
            subscribers.retain(|s| {
                if !s.active.load(Ordering::Acquire) {
                    return false;
                }
                match s.tx.try_send(frame.clone()) {
                    Ok(()) => true,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        tracing::warn!(
                            subscriber = s.id,
                            "supervision: console too slow, disconnected"
                        );
                        s.kick.notify_one();
                        false
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                }
            });
        }
    }
    let farewell = ServerMessage::Error {
        code: "shutting_down".into(),
        detail: "the lane stopped".into(),
    };
    if let Some(frame) = stream_frame(farewell) {
        for s in &subscribers {
            let _ = s.tx.try_send(frame.clone());
        }
    }
}

/// The lagged notice.
fn lagged(lane: &str, missed: u64) -> ServerMessage {
    tracing::warn!(missed, "supervision: missed lane messages");
    ServerMessage::Lagged {
        lane: lane.to_owned(),
        missed,
    }
}

/// Encodes a stream message; a referral too large for a frame loses its face.
fn stream_frame(message: ServerMessage) -> Option<Frame> {
    match encode(&message, MAX_SERVER_FRAME) {
        Ok(frame) => Some(Frame::from(frame)),
        Err(FrameError::TooLarge { .. }) => match message {
            ServerMessage::Referral {
                lane,
                seq,
                mut referral,
            } if referral.face.is_some() => {
                referral.face = None;
                referral.face_omitted = true;
                stream_frame(ServerMessage::Referral {
                    lane,
                    seq,
                    referral,
                })
            }
            _ => {
                tracing::error!("supervision: a stream message over the frame limit was dropped");
                None
            }
        },
        Err(e) => {
            tracing::error!(error = %e, "supervision: a stream message could not be encoded");
            None
        }
    }
}

/// A console's id in logs and the audit: SHA-256 of its certificate, first 16 bytes, hex.
#[must_use]
pub fn console_id(cert: &[u8]) -> String {
    let digest = Sha256::digest(cert);
    hex::encode(&digest[..16])
}

/// One console connection, from the TCP accept to the close.
async fn connection(shared: Arc<Shared>, acceptor: TlsAcceptor, tcp: TcpStream, peer: SocketAddr) {
    let _ = tcp.set_nodelay(true);
    let tls = match timeout(shared.limits.handshake_timeout, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::warn!(%peer, error = %e, "supervision: TLS handshake refused");
            return;
        }
        Err(_) => {
            tracing::warn!(%peer, "supervision: TLS handshake timed out");
            return;
        }
    };
    // The verifier requires a certificate: there is always one here.
    let Some(console) = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| console_id(c.as_ref()))
    else {
        return;
    };
    tracing::info!(%peer, %console, "supervision: console connected");
    let (rd, wr) = tokio::io::split(tls);
    let (out_tx, out_rx) = mpsc::channel::<Frame>(shared.limits.console_queue.max(1));
    let (frames_tx, frames_rx) = mpsc::channel(2);
    let finish = Arc::new(Notify::new());
    // The writer is its own task: a failed write never cuts a command in
    // half; the logic notices the writer is gone between messages.
    let mut writer = AbortOnDrop(tokio::spawn(write_loop(
        wr,
        out_rx,
        shared.limits.write_timeout,
        finish.clone(),
    )));
    let reader = async move {
        read_loop(rd, frames_tx).await;
        std::future::pending::<()>().await;
    };
    let mut conn = Conn {
        login_deadline: Instant::now() + shared.limits.login_timeout,
        shared,
        console,
        out: out_tx,
        kick: Arc::new(Notify::new()),
        session: None,
        closed: VecDeque::new(),
        failures: 0,
        refusals: 0,
    };
    tokio::select! {
        () = reader => {}
        () = conn.run(frames_rx) => {}
    }
    conn.unsubscribe().await;
    finish.notify_one();
    let _ = timeout(Duration::from_secs(2), &mut writer.0).await;
    tracing::info!(console = %conn.console, "supervision: console disconnected");
}

/// A task aborted when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads the console's frames into `tx` until it closes or sends a bad frame.
async fn read_loop<R: AsyncRead + Unpin>(mut rd: R, tx: mpsc::Sender<Result<Vec<u8>, FrameError>>) {
    loop {
        match read_frame(&mut rd, MAX_CLIENT_FRAME).await {
            Ok(Some(frame)) => {
                if tx.send(Ok(frame)).await.is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
}

/// Writes queued frames to the console; after `finish`, writes what is
/// queued and ends. Ends at once when a write fails or times out.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut wr: W,
    mut rx: mpsc::Receiver<Frame>,
    write_timeout: Duration,
    finish: Arc<Notify>,
) {
    let mut finishing = false;
    loop {
        let frame = if finishing {
            rx.recv().await
        } else {
            tokio::select! {
                biased;
                f = rx.recv() => f,
                () = finish.notified() => {
                    rx.close();
                    finishing = true;
                    continue;
                }
            }
        };
        let Some(frame) = frame else { break };
        let written = timeout(write_timeout, async {
            wr.write_all(&frame).await?;
            for _ in 1..WRITE_BATCH {
                match rx.try_recv() {
                    Ok(more) => wr.write_all(&more).await?,
                    Err(_) => break,
                }
            }
            wr.flush().await
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "supervision: write to console failed");
                break;
            }
            Err(_) => {
                tracing::warn!("supervision: write to console timed out, disconnected");
                break;
            }
        }
    }
    let _ = timeout(Duration::from_secs(1), wr.shutdown()).await;
}

/// A logged-in officer on one connection.
#[derive(Debug, Clone)]
struct Session {
    id: String,
    officer: String,
    last_counter: u64,
    expires: Instant,
    subscriber: Option<(u64, Arc<AtomicBool>)>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionEnd {
    LoggedOut,
    Expired,
    Replaced,
}

/// One connection's logic.
struct Conn {
    shared: Arc<Shared>,
    console: String,
    out: mpsc::Sender<Frame>,
    kick: Arc<Notify>,
    session: Option<Session>,
    closed: VecDeque<String>,
    login_deadline: Instant,
    failures: u32,
    refusals: u32,
}

/// Sleeps until `at`, or forever.
async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Conn {
    /// Serves the console until it leaves, errs or is too slow.
    async fn run(&mut self, mut frames: mpsc::Receiver<Result<Vec<u8>, FrameError>>) {
        self.send(ServerMessage::Hello {
            protocol: PROTOCOL_VERSION,
            lane: self.shared.lane.clone(),
        })
        .await;
        loop {
            let login_by = self.session.is_none().then_some(self.login_deadline);
            let expires = self.session.as_ref().map(|s| s.expires);
            let kick = self.kick.clone();
            let out = self.out.clone();
            let item = tokio::select! {
                biased;
                () = kick.notified() => return,
                () = out.closed() => return,
                () = sleep_until_opt(login_by) => {
                    self.fatal("login_timeout", "no login in time").await;
                    return;
                }
                () = sleep_until_opt(expires) => {
                    self.end_session(SessionEnd::Expired).await;
                    continue;
                }
                item = frames.recv() => item,
            };
            let payload = match item {
                None => return,
                Some(Ok(payload)) => payload,
                Some(Err(FrameError::TooLarge { len, limit })) => {
                    let detail = format!("frame of {len} bytes over the limit of {limit}");
                    self.fatal("frame_too_large", &detail).await;
                    return;
                }
                Some(Err(FrameError::Empty)) => {
                    self.fatal("malformed", "empty frame").await;
                    return;
                }
                Some(Err(_)) => return,
            };
            let message = match decode::<ClientMessage>(&payload) {
                Ok(m) => m,
                Err(_) => {
                    self.fatal("malformed", "not a message of this protocol")
                        .await;
                    return;
                }
            };
            let keep = match message {
                ClientMessage::Login { officer_id, pin } => self.login(officer_id, pin).await,
                ClientMessage::Subscribe => {
                    self.subscribe().await;
                    true
                }
                ClientMessage::Command(frame) => self.command(frame).await,
                ClientMessage::Logout => {
                    if self.session.is_some() {
                        self.end_session(SessionEnd::LoggedOut).await;
                    } else {
                        self.send(ServerMessage::LoggedOut).await;
                    }
                    true
                }
                ClientMessage::Ping { nonce } => {
                    self.send(ServerMessage::Pong { nonce }).await;
                    true
                }
            };
            if !keep {
                return;
            }
        }
    }

    /// Queues a reply for the console (waits while its queue is full).
    async fn send(&self, message: ServerMessage) {
        match encode(&message, MAX_SERVER_FRAME) {
            Ok(frame) => {
                let _ = self.out.send(Frame::from(frame)).await;
            }
            Err(e) => tracing::error!(error = %e, "supervision: reply not encodable"),
        }
    }

    /// Sends a fatal error (the connection closes after it).
    async fn fatal(&self, code: &str, detail: &str) {
        tracing::warn!(console = %self.console, code, "supervision: connection closed");
        self.send(ServerMessage::Error {
            code: code.to_owned(),
            detail: detail.to_owned(),
        })
        .await;
    }

    /// Writes an audit entry through the lane; whether it was queued.
    async fn audit(
        &self,
        officer: &str,
        action: &str,
        record_id: Option<RecordId>,
        reason: String,
    ) -> bool {
        let entry = AuditEntry {
            officer_id: officer.to_owned(),
            time_unix_ms: crate::lane::unix_ms(SystemTime::now()),
            lane: self.shared.lane.clone(),
            action: action.to_owned(),
            record_id,
            reason,
        };
        let sent = self
            .shared
            .inputs
            .send_timeout(Input::Audit(entry), self.shared.limits.lane_timeout)
            .await
            .is_ok();
        if !sent {
            tracing::error!(
                action,
                "supervision: audit entry could not be handed to the lane"
            );
        }
        sent
    }

    /// The audit reason's fixed part.
    fn context(&self, counter: Option<u64>) -> String {
        let session = self
            .session
            .as_ref()
            .map_or("-", |s| s.id.get(..8).unwrap_or("-"));
        match counter {
            Some(c) => format!("console={} session={session} counter={c}", self.console),
            None => format!("console={} session={session}", self.console),
        }
    }

    /// A login attempt; whether the connection stays open.
    async fn login(&mut self, officer_id: String, pin: Pin) -> bool {
        if self.session.is_some() {
            self.end_session(SessionEnd::Replaced).await;
        }
        let limits = self.shared.limits.auth;
        let form_ok =
            valid_officer_id(&officer_id) && PIN_LENGTH.contains(&pin.expose().chars().count());
        let audit_id = if valid_officer_id(&officer_id) {
            officer_id.clone()
        } else {
            UNAUTHENTICATED.to_owned()
        };
        let now = std::time::Instant::now();
        let locked = self
            .shared
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .check(&officer_id, &self.console, now);
        let refusal = if !form_ok {
            Some((LoginRefusal::Malformed, None, "supervision_login_failed"))
        } else if let Err(left) = locked {
            Some((
                LoginRefusal::LockedOut,
                Some(left),
                "supervision_login_locked",
            ))
        } else {
            let verified = self.verify(&officer_id, pin).await;
            if verified {
                None
            } else {
                let known = self.shared.officers.contains(&officer_id);
                let started = self
                    .shared
                    .limiter
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .failed(&officer_id, known, &self.console, now);
                Some(match started {
                    Some(d) => (LoginRefusal::LockedOut, Some(d), "supervision_login_failed"),
                    None => (
                        LoginRefusal::BadCredentials,
                        None,
                        "supervision_login_failed",
                    ),
                })
            }
        };
        let Some((code, retry_after, action)) = refusal else {
            self.logged_in(officer_id).await;
            return true;
        };
        self.failures = self.failures.saturating_add(1);
        tracing::warn!(
            console = %self.console,
            officer = %audit_id,
            ?code,
            failures = self.failures,
            "supervision: login refused"
        );
        let reason = format!("{} code={code:?}", self.context(None));
        self.audit(&audit_id, action, None, reason).await;
        tokio::time::sleep(limits.failure_delay).await;
        let left = limits.per_connection.saturating_sub(self.failures);
        let code = if left == 0 {
            LoginRefusal::TooManyAttempts
        } else {
            code
        };
        self.send(ServerMessage::LoginRefused {
            code,
            retry_after_ms: retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            attempts_left: Some(left),
        })
        .await;
        left > 0
    }

    /// Runs the PIN check off the async threads, a few at a time.
    async fn verify(&self, officer_id: &str, pin: Pin) -> bool {
        let Ok(_permit) = self.shared.hashing.acquire().await else {
            return false;
        };
        let officers = self.shared.officers.clone();
        let id = officer_id.to_owned();
        tokio::task::spawn_blocking(move || officers.verify(&id, pin.expose()))
            .await
            .unwrap_or(false)
    }

    /// Starts a session for a verified officer.
    async fn logged_in(&mut self, officer: String) {
        self.shared
            .limiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .succeeded(&officer, &self.console);
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // No randomness, no unpredictable session: refuse to start one.
            self.fatal("internal", "no randomness for a session id")
                .await;
            return;
        }
        let ttl = self.shared.limits.session_ttl;
        self.session = Some(Session {
            id: hex::encode(bytes),
            officer: officer.clone(),
            last_counter: 0,
            expires: Instant::now() + ttl,
            subscriber: None,
        });
        self.failures = 0;
        let reason = self.context(None);
        self.audit(&officer, "supervision_login", None, reason)
            .await;
        tracing::info!(console = %self.console, officer = %officer, "supervision: officer logged in");
        let session_id = self
            .session
            .as_ref()
            .map(|s| s.id.clone())
            .unwrap_or_default();
        self.send(ServerMessage::LoginOk {
            session_id,
            officer_id: officer,
            lane: self.shared.lane.clone(),
            session_ttl_s: ttl.as_secs(),
        })
        .await;
    }

    /// Ends the session (and its stream).
    async fn end_session(&mut self, why: SessionEnd) {
        self.unsubscribe().await;
        let reason = format!("{} end={why:?}", self.context(None));
        let Some(session) = self.session.take() else {
            return;
        };
        if self.closed.len() >= CLOSED_SESSIONS {
            self.closed.pop_front();
        }
        self.closed.push_back(session.id);
        self.login_deadline = Instant::now() + self.shared.limits.login_timeout;
        self.audit(&session.officer, "supervision_logout", None, reason)
            .await;
        tracing::info!(console = %self.console, officer = %session.officer, ?why, "supervision: session ended");
        match why {
            SessionEnd::LoggedOut => self.send(ServerMessage::LoggedOut).await,
            SessionEnd::Expired => self.send(ServerMessage::SessionExpired).await,
            SessionEnd::Replaced => {}
        }
    }

    /// Subscribes the console to the stream (a session is needed).
    async fn subscribe(&mut self) {
        let Some(session) = self.session.as_mut() else {
            self.send(ServerMessage::Refused {
                counter: None,
                code: Refusal::NotSubscribable,
                detail: "log in first".into(),
            })
            .await;
            return;
        };
        if session.subscriber.is_some() {
            return;
        }
        let id = self.shared.next_subscriber.fetch_add(1, Ordering::Relaxed);
        let active = Arc::new(AtomicBool::new(true));
        session.subscriber = Some((id, active.clone()));
        let request = HubRequest::Subscribe {
            id,
            tx: self.out.clone(),
            kick: self.kick.clone(),
            active,
        };
        if self.shared.hub.send(request).await.is_err() {
            self.kick.notify_one();
        }
    }

    /// Stops the stream, if any.
    async fn unsubscribe(&mut self) {
        if let Some((id, active)) = self.session.as_mut().and_then(|s| s.subscriber.take()) {
            // From now on the hub sends nothing more to this console.
            active.store(false, Ordering::Release);
            let _ = self.shared.hub.send(HubRequest::Unsubscribe(id)).await;
        }
    }

    /// A command; whether the connection stays open.
    async fn command(&mut self, frame: CommandFrame) -> bool {
        let now = Instant::now();
        let checked = check_command(
            self.session.as_mut(),
            &self.closed,
            &frame,
            &self.shared.lane,
            now,
        );
        let officer = match checked {
            Ok(officer) => officer,
            Err((code, officer)) => {
                if code == Refusal::SessionExpired {
                    self.end_session(SessionEnd::Expired).await;
                }
                return self.refuse(&frame, code, officer.as_deref()).await;
            }
        };
        let context = self.context(Some(frame.counter));
        let reason = match &frame.reason {
            Some(r) => format!("{context}; {r}"),
            None => context,
        };
        let name = frame.command.name();
        let action = format!("supervision_{name}");
        let record = match &frame.command {
            Command::Accept { record_id } | Command::Refuse { record_id } => {
                let Some(id) = RecordId::from_hex(record_id) else {
                    return self
                        .refuse(&frame, Refusal::BadRecordId, Some(&officer))
                        .await;
                };
                if self.shared.status.borrow().open_referral != Some(id) {
                    return self
                        .refuse(&frame, Refusal::NotPending, Some(&officer))
                        .await;
                }
                Some(id)
            }
            _ => None,
        };
        // The audit entry goes first; no audit, no command.
        if !self.audit(&officer, &action, record, reason).await {
            return self
                .refuse(&frame, Refusal::LaneUnavailable, Some(&officer))
                .await;
        }
        tracing::info!(
            console = %self.console,
            officer = %officer,
            command = name,
            counter = frame.counter,
            "supervision: command"
        );
        let events: &[Event] = &match (&frame.command, record) {
            (Command::Accept { .. }, Some(record_id)) => vec![Event::OfficerAccept {
                authenticated: true,
                record_id,
            }],
            (Command::Refuse { .. }, Some(_)) => vec![Event::OfficerDismiss {
                authenticated: true,
            }],
            (Command::CloseLane | Command::ResetLane, _) => vec![Event::OfficerClose {
                authenticated: true,
            }],
            (Command::ReopenLane, _) => vec![Event::OfficerOpen {
                authenticated: true,
            }],
            _ => Vec::new(),
        };
        for event in events {
            if !self.to_lane(event.clone()).await {
                return self
                    .refuse(&frame, Refusal::LaneUnavailable, Some(&officer))
                    .await;
            }
        }
        if frame.command == Command::ResetLane {
            let mut status = self.shared.status.clone();
            let closed = matches!(
                timeout(
                    self.shared.limits.reset_wait,
                    status.wait_for(|s| s.state == "closed"),
                )
                .await,
                Ok(Ok(_))
            );
            if !closed {
                return self
                    .refuse(&frame, Refusal::ResetIncomplete, Some(&officer))
                    .await;
            }
            if !self
                .to_lane(Event::OfficerOpen {
                    authenticated: true,
                })
                .await
            {
                return self
                    .refuse(&frame, Refusal::LaneUnavailable, Some(&officer))
                    .await;
            }
        }
        self.send(ServerMessage::Ack {
            counter: frame.counter,
            command: name.to_owned(),
        })
        .await;
        true
    }

    /// Hands an event to the lane; whether it was taken.
    async fn to_lane(&self, event: Event) -> bool {
        self.shared
            .inputs
            .send_timeout(Input::Event(event), self.shared.limits.lane_timeout)
            .await
            .is_ok()
    }

    /// Refuses a command and audits it; whether the connection stays open.
    async fn refuse(&mut self, frame: &CommandFrame, code: Refusal, officer: Option<&str>) -> bool {
        self.refusals = self.refusals.saturating_add(1);
        tracing::warn!(
            console = %self.console,
            officer = officer.unwrap_or(UNAUTHENTICATED),
            command = frame.command.name(),
            code = code.as_str(),
            counter = frame.counter,
            "supervision: command refused"
        );
        let reason = format!(
            "{} command={} code={}",
            self.context(Some(frame.counter)),
            frame.command.name(),
            code.as_str()
        );
        self.audit(
            officer.unwrap_or(UNAUTHENTICATED),
            "supervision_refused",
            None,
            reason,
        )
        .await;
        self.send(ServerMessage::Refused {
            counter: Some(frame.counter),
            code,
            detail: refusal_detail(code).to_owned(),
        })
        .await;
        if self.refusals >= self.shared.limits.max_refusals {
            self.fatal("too_many_refusals", "too many refused commands")
                .await;
            return false;
        }
        true
    }
}

/// Checks a command's session, counter, lane and reason. On success the
/// counter is consumed and the officer's id returned; on failure, the
/// refusal and the officer when the session was valid.
fn check_command(
    session: Option<&mut Session>,
    closed: &VecDeque<String>,
    frame: &CommandFrame,
    lane: &str,
    now: Instant,
) -> Result<String, (Refusal, Option<String>)> {
    let was_closed = closed.iter().any(|c| *c == frame.session_id);
    let Some(session) = session else {
        return Err((
            if was_closed {
                Refusal::SessionClosed
            } else {
                Refusal::NotLoggedIn
            },
            None,
        ));
    };
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        session.id.as_bytes(),
        frame.session_id.as_bytes(),
    )) {
        return Err((
            if was_closed {
                Refusal::SessionClosed
            } else {
                Refusal::UnknownSession
            },
            None,
        ));
    }
    let officer = Some(session.officer.clone());
    if now >= session.expires {
        return Err((Refusal::SessionExpired, officer));
    }
    if frame.counter <= session.last_counter {
        return Err((Refusal::Replayed, officer));
    }
    session.last_counter = frame.counter;
    if frame.lane != lane {
        return Err((Refusal::WrongLane, officer));
    }
    if let Some(reason) = &frame.reason
        && (reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control))
    {
        return Err((Refusal::BadReason, officer));
    }
    Ok(session.officer.clone())
}

/// What a refusal tells the officer.
fn refusal_detail(code: Refusal) -> &'static str {
    match code {
        Refusal::NotLoggedIn => "no officer is logged in on this connection",
        Refusal::SessionClosed => "that session has ended",
        Refusal::UnknownSession => "not this connection's session",
        Refusal::SessionExpired => "the session expired: log in again",
        Refusal::Replayed => "counter not greater than the last one: replay refused",
        Refusal::WrongLane => "the command names another lane",
        Refusal::NotPending => "that record is not the lane's open referral",
        Refusal::BadRecordId => "the record id is not 32 hex digits",
        Refusal::BadReason => "the reason is too long or has control characters",
        Refusal::LaneUnavailable => "the lane is not taking commands",
        Refusal::ResetIncomplete => "the lane closed but did not reopen: reopen it",
        Refusal::NotSubscribable => "log in first",
        Refusal::Unknown => "refused",
    }
}

#[cfg(test)]
pub(crate) mod check_tests {
    //! The command checks, without a network.

    use super::*;

    fn session() -> Session {
        Session {
            id: "a".repeat(32),
            officer: "OFC-1".into(),
            last_counter: 0,
            expires: Instant::now() + Duration::from_secs(60),
            subscriber: None,
        }
    }

    fn frame(session_id: &str, counter: u64, lane: &str) -> CommandFrame {
        CommandFrame {
            session_id: session_id.into(),
            counter,
            lane: lane.into(),
            command: Command::CloseLane,
            reason: None,
        }
    }

    #[test]
    fn counters_must_grow_and_replays_are_refused() {
        let mut s = session();
        let closed = VecDeque::new();
        let now = Instant::now();
        let id = s.id.clone();
        assert_eq!(
            check_command(Some(&mut s), &closed, &frame(&id, 1, "A07"), "A07", now),
            Ok("OFC-1".into())
        );
        for replay in [1, 0] {
            assert_eq!(
                check_command(
                    Some(&mut s),
                    &closed,
                    &frame(&id, replay, "A07"),
                    "A07",
                    now
                ),
                Err((Refusal::Replayed, Some("OFC-1".into())))
            );
        }
        // Gaps are allowed; going back is not.
        assert!(check_command(Some(&mut s), &closed, &frame(&id, 5, "A07"), "A07", now).is_ok());
        assert_eq!(
            check_command(Some(&mut s), &closed, &frame(&id, 4, "A07"), "A07", now),
            Err((Refusal::Replayed, Some("OFC-1".into())))
        );
    }

    #[test]
    fn sessions_lanes_reasons_and_expiry_are_checked() {
        let mut s = session();
        let id = s.id.clone();
        let mut closed = VecDeque::new();
        let now = Instant::now();
        assert_eq!(
            check_command(None, &closed, &frame(&id, 1, "A07"), "A07", now),
            Err((Refusal::NotLoggedIn, None))
        );
        closed.push_back("b".repeat(32));
        assert_eq!(
            check_command(None, &closed, &frame(&"b".repeat(32), 1, "A07"), "A07", now),
            Err((Refusal::SessionClosed, None))
        );
        assert_eq!(
            check_command(
                Some(&mut s),
                &closed,
                &frame(&"b".repeat(32), 1, "A07"),
                "A07",
                now
            ),
            Err((Refusal::SessionClosed, None))
        );
        assert_eq!(
            check_command(
                Some(&mut s),
                &closed,
                &frame(&"c".repeat(32), 1, "A07"),
                "A07",
                now
            ),
            Err((Refusal::UnknownSession, None))
        );
        assert_eq!(
            check_command(Some(&mut s), &closed, &frame(&id, 1, "B01"), "A07", now),
            Err((Refusal::WrongLane, Some("OFC-1".into())))
        );
        let mut f = frame(&id, 2, "A07");
        f.reason = Some("x\u{7}".into());
        assert_eq!(
            check_command(Some(&mut s), &closed, &f, "A07", now),
            Err((Refusal::BadReason, Some("OFC-1".into())))
        );
        f.reason = Some("y".repeat(MAX_REASON_CHARS + 1));
        f.counter = 3;
        assert_eq!(
            check_command(Some(&mut s), &closed, &f, "A07", now),
            Err((Refusal::BadReason, Some("OFC-1".into())))
        );
        let later = now + Duration::from_secs(61);
        assert_eq!(
            check_command(Some(&mut s), &closed, &frame(&id, 9, "A07"), "A07", later),
            Err((Refusal::SessionExpired, Some("OFC-1".into())))
        );
    }
}
