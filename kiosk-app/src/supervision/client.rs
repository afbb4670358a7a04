//! The officer console's side of the supervision protocol.
//!
//! ```no_run
//! # async fn console() -> Result<(), kiosk_app::supervision::ClientError> {
//! use kiosk_app::supervision::{ClientTls, SupervisionClient};
//! use kiosk_app::supervision::protocol::ServerMessage;
//! let tls = ClientTls::from_pem_files(
//!     "ca.pem".as_ref(), "console.pem".as_ref(), "console.key".as_ref())?;
//! let mut kiosk = SupervisionClient::connect("10.0.7.7:7443", "lane-a07.kiosk", &tls).await?;
//! kiosk.login("OFC-0042", "482916").await?;
//! let mut stream = kiosk.subscribe().await?;
//! while let Some(message) = stream.recv().await {
//!     if let ServerMessage::Referral { referral, .. } = message {
//!         kiosk.accept(&referral.record_id, Some("documents checked")).await?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! One [`SupervisionClient`] is one connection to one lane's kiosk. A task
//! reads the kiosk's frames and routes them: stream messages (`snapshot`,
//! `event`, `referral`, `lagged`, `session_expired`, `error`) to the
//! receiver [`SupervisionClient::subscribe`] returns, answers to the
//! client's own calls. Calls take `&mut self` and wait for their answer (at
//! most [`REPLY_TIMEOUT`]). The client numbers commands itself (strictly
//! increasing per session). Reconnecting is the console's job: make a new
//! client, log in again, and the new snapshot replaces what was known.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{ReadHalf, WriteHalf};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::supervision::protocol::{
    ClientMessage, Command, CommandFrame, FrameError, LoginRefusal, MAX_CLIENT_FRAME,
    MAX_SERVER_FRAME, Pin, Refusal, ServerMessage, decode, encode, read_frame, write_frame,
};
use crate::supervision::server::ALPN;

/// How long a call waits for the kiosk's answer.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(15);

/// How long connecting (TCP, TLS and the kiosk's `hello`) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Stream messages buffered before the reader waits for the console.
const STREAM_BUFFER: usize = 1024;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A TLS file is missing or unusable.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// The kiosk could not be reached.
    #[error("connect: {0}")]
    Connect(std::io::Error),
    /// The TLS handshake failed or the kiosk refused the console's
    /// certificate (no `hello` came).
    #[error("the kiosk refused the connection: {0}")]
    Handshake(String),
    /// The kiosk closed the connection.
    #[error("the kiosk closed the connection")]
    Closed,
    /// No answer in time.
    #[error("no answer from the kiosk in time ({0})")]
    Timeout(&'static str),
    /// The kiosk sent something this client does not understand.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The login was refused.
    #[error("login refused: {code:?}")]
    LoginRefused {
        /// Why.
        code: LoginRefusal,
        /// When to try again, if locked out.
        retry_after_ms: Option<u64>,
        /// Failures this connection may still make.
        attempts_left: Option<u32>,
    },
    /// The command was refused (nothing was done).
    #[error("command refused: {code:?}: {detail}")]
    Refused {
        /// Why.
        code: Refusal,
        /// The kiosk's explanation.
        detail: String,
    },
    /// The call needs a logged-in officer.
    #[error("not logged in")]
    NotLoggedIn,
    /// The session expired; log in again.
    #[error("the session expired")]
    SessionExpired,
    /// `subscribe` was already called on this connection (or, for
    /// `subscribe_again`, never was).
    #[error("already subscribed")]
    AlreadySubscribed,
    /// The kiosk reported a fatal error and closed the connection.
    #[error("the kiosk closed the connection: {code}: {detail}")]
    Server {
        /// The kiosk's code.
        code: String,
        /// The kiosk's explanation.
        detail: String,
    },
}

impl From<FrameError> for ClientError {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::Io(_) => Self::Closed,
            other => Self::Protocol(other.to_string()),
        }
    }
}

/// The console's provisioned TLS identity and the CA it trusts.
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls").finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Reads the CA certificate, the console's certificate chain and its key (PEM files).
    ///
    /// # Errors
    /// [`ClientError::Tls`] naming the file that cannot be read or used.
    pub fn from_pem_files(ca: &Path, cert: &Path, key: &Path) -> Result<Self, ClientError> {
        let read = |p: &Path| {
            std::fs::read(p)
                .map_err(|e| ClientError::Tls(format!("{}: cannot read: {e}", p.display())))
        };
        Self::from_pem(&read(ca)?, &read(cert)?, &read(key)?)
    }

    /// The same from PEM text.
    ///
    /// # Errors
    /// [`ClientError::Tls`] naming what is unusable.
    pub fn from_pem(ca_pem: &[u8], cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, ClientError> {
        let tls = |m: &str| ClientError::Tls(m.to_owned());
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            roots
                .add(cert.map_err(|_| tls("CA: not a PEM certificate"))?)
                .map_err(|_| tls("CA: not a usable CA certificate"))?;
        }
        if roots.is_empty() {
            return Err(tls("CA: holds no certificate"));
        }
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| tls("certificate: not a PEM certificate chain"))?;
        if chain.is_empty() {
            return Err(tls("certificate: holds no certificate"));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| tls("key: not a PEM private key"))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| ClientError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| ClientError::Tls(format!("key does not match the certificate: {e}")))?;
        config.alpn_protocols = vec![ALPN.to_vec()];
        Ok(Self {
            config: Arc::new(config),
        })
    }
}

/// A logged-in officer's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The kiosk's random session id.
    pub session_id: String,
    /// The officer.
    pub officer_id: String,
    /// The lane.
    pub lane: String,
    /// The session's life when it started.
    pub ttl: Duration,
    /// The last command counter used.
    pub last_counter: u64,
}

/// A connection to one lane's kiosk.
pub struct SupervisionClient {
    writer: WriteHalf<TlsStream<TcpStream>>,
    replies: mpsc::Receiver<ServerMessage>,
    stream: Option<mpsc::Receiver<ServerMessage>>,
    reader: JoinHandle<()>,
    lane: String,
    session: Option<SessionInfo>,
}

impl std::fmt::Debug for SupervisionClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisionClient")
            .field("lane", &self.lane)
            .field("session", &self.session.as_ref().map(|s| &s.officer_id))
            .finish_non_exhaustive()
    }
}

impl Drop for SupervisionClient {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl SupervisionClient {
    /// Connects to the kiosk at `addr` whose certificate names `server_name`,
    /// with mutual TLS 1.3, and waits for its `hello`.
    ///
    /// # Errors
    /// [`ClientError::Connect`] when unreachable, [`ClientError::Handshake`]
    /// when TLS fails or the kiosk refuses the certificate,
    /// [`ClientError::Timeout`], [`ClientError::Tls`] for a bad server name.
    pub async fn connect(
        addr: impl ToSocketAddrs,
        server_name: &str,
        tls: &ClientTls,
    ) -> Result<Self, ClientError> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| ClientError::Tls(format!("not a server name: {server_name:?}")))?;
        let connector = TlsConnector::from(tls.config.clone());
        let connecting = async {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(ClientError::Connect)?;
            let _ = tcp.set_nodelay(true);
            let stream = connector
                .connect(name, tcp)
                .await
                .map_err(|e| ClientError::Handshake(e.to_string()))?;
            if stream.get_ref().1.alpn_protocol() != Some(ALPN) {
                return Err(ClientError::Handshake(
                    "the server does not speak the supervision protocol".into(),
                ));
            }
            let (mut rd, writer) = tokio::io::split(stream);
            // In TLS 1.3 the kiosk judges the console's certificate after
            // the client's handshake ends: a refusal shows on this read.
            let hello = match read_frame(&mut rd, MAX_SERVER_FRAME).await {
                Ok(Some(frame)) => decode::<ServerMessage>(&frame)?,
                Ok(None) => return Err(ClientError::Handshake("closed before hello".into())),
                Err(FrameError::Io(e)) => return Err(ClientError::Handshake(e.to_string())),
                Err(e) => return Err(e.into()),
            };
            let ServerMessage::Hello { lane, .. } = hello else {
                return Err(ClientError::Protocol("expected hello".into()));
            };
            Ok((rd, writer, lane))
        };
        let (rd, writer, lane) = timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| ClientError::Timeout("connect"))??;
        let (reply_tx, replies) = mpsc::channel(64);
        let (stream_tx, stream) = mpsc::channel(STREAM_BUFFER);
        let reader = tokio::spawn(read_loop(rd, reply_tx, stream_tx));
        Ok(Self {
            writer,
            replies,
            stream: Some(stream),
            reader,
            lane,
            session: None,
        })
    }

    /// The lane the kiosk runs.
    #[must_use]
    pub fn lane(&self) -> &str {
        &self.lane
    }

    /// The current session, if logged in.
    #[must_use]
    pub fn session(&self) -> Option<&SessionInfo> {
        self.session.as_ref()
    }

    /// Logs the officer in (replacing any session on this connection).
    ///
    /// # Errors
    /// [`ClientError::LoginRefused`] with the kiosk's reason; connection errors.
    pub async fn login(&mut self, officer_id: &str, pin: &str) -> Result<SessionInfo, ClientError> {
        self.send(&ClientMessage::Login {
            officer_id: officer_id.to_owned(),
            pin: Pin::new(pin),
        })
        .await?;
        self.session = None;
        loop {
            match self.reply("login").await? {
                ServerMessage::LoginOk {
                    session_id,
                    officer_id,
                    lane,
                    session_ttl_s,
                } => {
                    let info = SessionInfo {
                        session_id,
                        officer_id,
                        lane,
                        ttl: Duration::from_secs(session_ttl_s),
                        last_counter: 0,
                    };
                    self.session = Some(info.clone());
                    return Ok(info);
                }
                ServerMessage::LoginRefused {
                    code,
                    retry_after_ms,
                    attempts_left,
                } => {
                    return Err(ClientError::LoginRefused {
                        code,
                        retry_after_ms,
                        attempts_left,
                    });
                }
                _ => {}
            }
        }
    }

    /// Starts the stream and returns its receiver: a `snapshot` first, then
    /// `event`, `referral` and `lagged` messages (and `session_expired` or
    /// `error` when it ends). The receiver ends when the connection does.
    /// Read it steadily: while it is full the client stops reading the
    /// kiosk (answers to calls wait too) and the kiosk disconnects a
    /// console that falls too far behind.
    ///
    /// # Errors
    /// [`ClientError::NotLoggedIn`], [`ClientError::AlreadySubscribed`];
    /// connection errors.
    pub async fn subscribe(&mut self) -> Result<mpsc::Receiver<ServerMessage>, ClientError> {
        if self.session.is_none() {
            return Err(ClientError::NotLoggedIn);
        }
        let Some(stream) = self.stream.take() else {
            return Err(ClientError::AlreadySubscribed);
        };
        if let Err(e) = self.send(&ClientMessage::Subscribe).await {
            self.stream = Some(stream);
            return Err(e);
        }
        Ok(stream)
    }

    /// After a new login on this connection (the stream stops with each
    /// session), starts the stream again: a fresh `snapshot` and the live
    /// messages arrive on the receiver [`SupervisionClient::subscribe`] gave.
    ///
    /// # Errors
    /// [`ClientError::NotLoggedIn`]; [`ClientError::AlreadySubscribed`]
    /// when `subscribe` was never called (call it instead); connection errors.
    pub async fn subscribe_again(&mut self) -> Result<(), ClientError> {
        if self.session.is_none() {
            return Err(ClientError::NotLoggedIn);
        }
        if self.stream.is_some() {
            return Err(ClientError::AlreadySubscribed);
        }
        self.send(&ClientMessage::Subscribe).await
    }

    /// Lets the referred traveller of record `record_id` through (the gate opens once).
    ///
    /// # Errors
    /// As [`SupervisionClient::command`].
    pub async fn accept(
        &mut self,
        record_id: &str,
        reason: Option<&str>,
    ) -> Result<(), ClientError> {
        let command = Command::Accept {
            record_id: record_id.to_owned(),
        };
        self.command(command, reason).await
    }

    /// Sends the referred traveller of record `record_id` to the manual counter.
    ///
    /// # Errors
    /// As [`SupervisionClient::command`].
    pub async fn refuse(
        &mut self,
        record_id: &str,
        reason: Option<&str>,
    ) -> Result<(), ClientError> {
        let command = Command::Refuse {
            record_id: record_id.to_owned(),
        };
        self.command(command, reason).await
    }

    /// Closes the lane.
    ///
    /// # Errors
    /// As [`SupervisionClient::command`].
    pub async fn close_lane(&mut self, reason: Option<&str>) -> Result<(), ClientError> {
        self.command(Command::CloseLane, reason).await
    }

    /// Reopens a closed lane.
    ///
    /// # Errors
    /// As [`SupervisionClient::command`].
    pub async fn reopen_lane(&mut self, reason: Option<&str>) -> Result<(), ClientError> {
        self.command(Command::ReopenLane, reason).await
    }

    /// Resets a stuck lane (close, then reopen).
    ///
    /// # Errors
    /// As [`SupervisionClient::command`].
    pub async fn reset_lane(&mut self, reason: Option<&str>) -> Result<(), ClientError> {
        self.command(Command::ResetLane, reason).await
    }

    /// Sends `command` with the session's next counter and waits for `ack`.
    ///
    /// # Errors
    /// [`ClientError::NotLoggedIn`], [`ClientError::Refused`] with the
    /// kiosk's reason, [`ClientError::SessionExpired`], connection errors.
    pub async fn command(
        &mut self,
        command: Command,
        reason: Option<&str>,
    ) -> Result<(), ClientError> {
        let Some(session) = self.session.as_mut() else {
            return Err(ClientError::NotLoggedIn);
        };
        session.last_counter += 1;
        let (id, counter) = (session.session_id.clone(), session.last_counter);
        self.command_as(&id, counter, command, reason).await
    }

    /// Sends `command` under an explicit session id and counter, for tests
    /// and diagnostics (a reused counter or an ended session is refused by
    /// the kiosk); the console uses [`SupervisionClient::command`].
    ///
    /// # Errors
    /// As [`SupervisionClient::command`].
    pub async fn command_as(
        &mut self,
        session_id: &str,
        counter: u64,
        command: Command,
        reason: Option<&str>,
    ) -> Result<(), ClientError> {
        let frame = CommandFrame {
            session_id: session_id.to_owned(),
            counter,
            lane: self.lane.clone(),
            command,
            reason: reason.map(str::to_owned),
        };
        self.send(&ClientMessage::Command(frame)).await?;
        loop {
            match self.reply("command").await? {
                ServerMessage::Ack { counter: c, .. } if c == counter => return Ok(()),
                ServerMessage::Refused {
                    counter: Some(c),
                    code,
                    detail,
                } if c == counter => return Err(ClientError::Refused { code, detail }),
                ServerMessage::SessionExpired => {
                    self.session = None;
                    return Err(ClientError::SessionExpired);
                }
                _ => {}
            }
        }
    }

    /// Ends the session (and the stream's content); the connection stays open.
    ///
    /// # Errors
    /// Connection errors.
    pub async fn logout(&mut self) -> Result<(), ClientError> {
        self.send(&ClientMessage::Logout).await?;
        self.session = None;
        loop {
            if let ServerMessage::LoggedOut = self.reply("logout").await? {
                return Ok(());
            }
        }
    }

    /// Checks the kiosk answers.
    ///
    /// # Errors
    /// Connection errors, [`ClientError::Timeout`].
    pub async fn ping(&mut self, nonce: u64) -> Result<(), ClientError> {
        self.send(&ClientMessage::Ping { nonce }).await?;
        loop {
            if let ServerMessage::Pong { nonce: n } = self.reply("ping").await?
                && n == nonce
            {
                return Ok(());
            }
        }
    }

    /// Sends one message.
    async fn send(&mut self, message: &ClientMessage) -> Result<(), ClientError> {
        let frame = encode(message, MAX_CLIENT_FRAME)?;
        timeout(REPLY_TIMEOUT, write_frame(&mut self.writer, &frame))
            .await
            .map_err(|_| ClientError::Timeout("send"))??;
        Ok(())
    }

    /// The next answer; a fatal `error` ends the call.
    async fn reply(&mut self, what: &'static str) -> Result<ServerMessage, ClientError> {
        let message = timeout(REPLY_TIMEOUT, self.replies.recv())
            .await
            .map_err(|_| ClientError::Timeout(what))?
            .ok_or(ClientError::Closed)?;
        match message {
            ServerMessage::Error { code, detail } => Err(ClientError::Server { code, detail }),
            other => Ok(other),
        }
    }
}

/// Reads the kiosk's frames and routes them.
async fn read_loop(
    mut rd: ReadHalf<TlsStream<TcpStream>>,
    replies: mpsc::Sender<ServerMessage>,
    stream: mpsc::Sender<ServerMessage>,
) {
    loop {
        let message = match read_frame(&mut rd, MAX_SERVER_FRAME).await {
            Ok(Some(frame)) => match decode::<ServerMessage>(&frame) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "supervision client: undecodable message");
                    return;
                }
            },
            Ok(None) | Err(_) => return,
        };
        let (to_stream, to_replies) = match &message {
            ServerMessage::Snapshot(_)
            | ServerMessage::Event { .. }
            | ServerMessage::Referral { .. }
            | ServerMessage::Lagged { .. } => (true, false),
            ServerMessage::SessionExpired | ServerMessage::Error { .. } => (true, true),
            _ => (false, true),
        };
        if to_stream && !stream.is_closed() && stream.send(message.clone()).await.is_err() {
            // The console dropped its stream receiver: keep serving replies.
        }
        if to_replies && replies.send(message).await.is_err() {
            return;
        }
    }
}
