//! The console's connections: one task per lane, on a tokio runtime of its
//! own thread, each with a [`SupervisionClient`]. A task connects, logs the
//! officer in, subscribes and forwards the stream as [`LaneUpdate`]s to a
//! sink; it pings a quiet kiosk, runs the officer's commands, logs in again
//! when the session expires, and reconnects by itself after a capped
//! backoff. A refused login stops that lane's task (retrying a wrong PIN
//! would only lock the officer out).
//!
//! The sink is called on the connections' thread: it must return at once
//! (the officer console hands the update to the UI thread with
//! `slint::invoke_from_event_loop`; tests push it on a channel).
//!
//! Logs carry the lane's index and error classes only: no PIN, no name, no
//! document data.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use kiosk_app::supervision::protocol::{Command, ServerMessage};
use kiosk_app::supervision::{ClientError, ClientTls, SupervisionClient};
use tokio::sync::{mpsc, watch};

use crate::backoff::Backoff;
use crate::config::LaneEndpoint;
use crate::face;
use crate::model::{CommandResult, LaneUpdate};
use crate::pin::OfficerPin;

/// Commands queued per lane before more are refused.
const COMMAND_QUEUE: usize = 8;

/// Receives every lane's updates: `(lane index, update)`.
///
/// # Contract
/// Called on the connections' thread; must return at once and must not
/// call back into [`Connections`].
pub type Sink = Arc<dyn Fn(usize, LaneUpdate) + Send + Sync>;

/// What the connections need besides the PIN.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// The lanes, in the configuration's order (the index is the lane's).
    pub lanes: Vec<LaneEndpoint>,
    /// The console's TLS identity.
    pub tls: ClientTls,
    /// The officer.
    pub officer_id: String,
    /// How often a connected kiosk is pinged.
    pub ping_interval: Duration,
    /// Waits between attempts.
    pub backoff: Backoff,
}

/// Why the connections could not start or take a command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The runtime or its thread could not be made.
    #[error("cannot start the connections: {0}")]
    Start(std::io::Error),
    /// No such lane.
    #[error("no lane {0}")]
    NoLane(usize),
    /// The lane's command queue is full or its task ended.
    #[error("lane {0} is not taking commands")]
    Busy(usize),
}

/// Every lane's connection. Dropping it stops them all, ends the thread and
/// drops the PIN (zeroed).
pub struct Connections {
    commands: Vec<mpsc::Sender<Command>>,
    stop: Option<watch::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("lanes", &self.commands.len())
            .finish_non_exhaustive()
    }
}

/// What every lane's task shares.
struct Shared {
    tls: ClientTls,
    officer_id: String,
    pin: OfficerPin,
    ping_interval: Duration,
    backoff: Backoff,
    sink: Sink,
}

impl Connections {
    /// Starts one task per lane on a new thread; each starts connecting at once.
    ///
    /// # Errors
    /// [`ConnectionError::Start`] when the runtime or the thread cannot be made.
    pub fn start(
        settings: ConnectionSettings,
        pin: OfficerPin,
        sink: Sink,
    ) -> Result<Self, ConnectionError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ConnectionError::Start)?;
        let (stop, stopped) = watch::channel(());
        let shared = Arc::new(Shared {
            tls: settings.tls,
            officer_id: settings.officer_id,
            pin,
            ping_interval: settings.ping_interval,
            backoff: settings.backoff,
            sink,
        });
        let mut commands = Vec::new();
        let mut tasks = Vec::new();
        for (index, endpoint) in settings.lanes.into_iter().enumerate() {
            let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
            commands.push(tx);
            tasks.push(lane_task(
                index,
                endpoint,
                shared.clone(),
                rx,
                stopped.clone(),
            ));
        }
        drop(shared);
        let thread = std::thread::Builder::new()
            .name("console-connections".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let mut set = tokio::task::JoinSet::new();
                    for task in tasks {
                        set.spawn(task);
                    }
                    while set.join_next().await.is_some() {}
                });
            })
            .map_err(ConnectionError::Start)?;
        Ok(Self {
            commands,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Hands `command` to lane `lane`'s task; its outcome comes back as
    /// [`LaneUpdate::CommandDone`]. Never blocks.
    ///
    /// # Errors
    /// [`ConnectionError::NoLane`], [`ConnectionError::Busy`].
    pub fn command(&self, lane: usize, command: Command) -> Result<(), ConnectionError> {
        self.commands
            .get(lane)
            .ok_or(ConnectionError::NoLane(lane))?
            .try_send(command)
            .map_err(|_| ConnectionError::Busy(lane))
    }
}

impl Drop for Connections {
    fn drop(&mut self) {
        // Every task watches the sender: dropping it stops them at once.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("console: the connections' thread panicked");
        }
    }
}

/// How a connection ended.
enum End {
    /// The kiosk refused the login: stop.
    Refused,
    /// Unreachable or lost; `streamed` when it had got as far as the stream.
    Lost { streamed: bool },
}

/// One lane: connect, stream, reconnect, until stopped.
async fn lane_task(
    index: usize,
    endpoint: LaneEndpoint,
    shared: Arc<Shared>,
    mut commands: mpsc::Receiver<Command>,
    mut stop: watch::Receiver<()>,
) {
    let sink = shared.sink.clone();
    let mut failures: u32 = 0;
    loop {
        sink(index, LaneUpdate::Connecting);
        let end = tokio::select! {
            end = session(index, &endpoint, &shared, &mut commands) => end,
            _ = stop.changed() => return,
        };
        match end {
            End::Refused => {
                // Stay down until the officer logs in again; refuse commands.
                loop {
                    tokio::select! {
                        _ = stop.changed() => return,
                        Some(c) = commands.recv() => not_sent(&sink, index, &c),
                    }
                }
            }
            End::Lost { streamed } => {
                sink(index, LaneUpdate::Lost);
                if streamed {
                    failures = 0;
                }
            }
        }
        let wait = tokio::time::sleep(shared.backoff.delay(failures));
        failures = failures.saturating_add(1);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => break,
                _ = stop.changed() => return,
                Some(c) = commands.recv() => not_sent(&sink, index, &c),
            }
        }
    }
}

fn not_sent(sink: &Sink, index: usize, command: &Command) {
    sink(
        index,
        LaneUpdate::CommandDone {
            command: command.name(),
            result: CommandResult::NotSent,
        },
    );
}

/// One connection: connect, log in, subscribe, then serve until it ends.
async fn session(
    index: usize,
    endpoint: &LaneEndpoint,
    shared: &Shared,
    commands: &mut mpsc::Receiver<Command>,
) -> End {
    let sink = &shared.sink;
    let mut client = match SupervisionClient::connect(
        endpoint.address.as_str(),
        &endpoint.server_name,
        &shared.tls,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(
                lane = index,
                error = error_class(&e),
                "console: cannot reach the kiosk"
            );
            return End::Lost { streamed: false };
        }
    };
    if let Err(end) = login(index, &mut client, shared).await {
        return end;
    }
    let mut stream = match client.subscribe().await {
        Ok(s) => s,
        Err(_) => return End::Lost { streamed: false },
    };
    tracing::info!(lane = index, "console: lane connected");
    sink(index, LaneUpdate::LoggedIn);
    let mut ping = tokio::time::interval(shared.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let mut nonce: u64 = 0;
    loop {
        tokio::select! {
            message = stream.recv() => match message {
                None | Some(ServerMessage::Error { .. }) => {
                    tracing::info!(lane = index, "console: the kiosk closed the connection");
                    return End::Lost { streamed: true };
                }
                Some(ServerMessage::SessionExpired) => {
                    if let Err(end) = login(index, &mut client, shared).await {
                        return end;
                    }
                    if client.subscribe_again().await.is_err() {
                        return End::Lost { streamed: true };
                    }
                }
                Some(message) => forward(index, sink, message).await,
            },
            Some(command) = commands.recv() => {
                let name = command.name();
                let result = match client.command(command, None).await {
                    Ok(()) => CommandResult::Done,
                    Err(ClientError::Refused { code, .. }) => CommandResult::Refused(code),
                    Err(ClientError::NotLoggedIn | ClientError::SessionExpired) => {
                        CommandResult::NotSent
                    }
                    Err(_) => {
                        sink(index, LaneUpdate::CommandDone { command: name, result: CommandResult::NoAnswer });
                        return End::Lost { streamed: true };
                    }
                };
                tracing::info!(lane = index, command = name, ?result, "console: command answered");
                sink(index, LaneUpdate::CommandDone { command: name, result });
            }
            _ = ping.tick() => {
                nonce = nonce.wrapping_add(1);
                if client.ping(nonce).await.is_err() {
                    tracing::info!(lane = index, "console: the kiosk stopped answering");
                    return End::Lost { streamed: true };
                }
            }
        }
    }
}

/// Logs the officer in on `client`.
async fn login(index: usize, client: &mut SupervisionClient, shared: &Shared) -> Result<(), End> {
    match client.login(&shared.officer_id, shared.pin.expose()).await {
        Ok(_) => Ok(()),
        Err(ClientError::LoginRefused {
            code,
            retry_after_ms,
            ..
        }) => {
            tracing::warn!(lane = index, ?code, "console: the kiosk refused the login");
            (shared.sink)(
                index,
                LaneUpdate::LoginRefused {
                    code,
                    retry_after: retry_after_ms.map(Duration::from_millis),
                },
            );
            Err(End::Refused)
        }
        Err(e) => {
            tracing::debug!(
                lane = index,
                error = error_class(&e),
                "console: login failed"
            );
            Err(End::Lost { streamed: false })
        }
    }
}

/// Forwards a stream message; a referral's face follows it, decoded off the runtime.
async fn forward(index: usize, sink: &Sink, message: ServerMessage) {
    let referral = match &message {
        ServerMessage::Referral { referral, .. } => Some(referral.clone()),
        ServerMessage::Snapshot(s) => s.referral.clone(),
        _ => None,
    };
    sink(index, LaneUpdate::Message(Box::new(message)));
    if let Some(referral) = referral {
        let record_id = referral.record_id.clone();
        let picture = tokio::task::spawn_blocking(move || face::picture_for(&referral)).await;
        if let Ok(Some(picture)) = picture {
            sink(index, LaneUpdate::Face { record_id, picture });
        }
    }
}

/// An error's class, for logs (never its text: it may quote the peer).
fn error_class(e: &ClientError) -> &'static str {
    match e {
        ClientError::Tls(_) => "tls",
        ClientError::Connect(_) => "connect",
        ClientError::Handshake(_) => "handshake",
        ClientError::Closed => "closed",
        ClientError::Timeout(_) => "timeout",
        ClientError::Protocol(_) => "protocol",
        ClientError::LoginRefused { .. } => "login_refused",
        ClientError::Refused { .. } => "refused",
        ClientError::NotLoggedIn => "not_logged_in",
        ClientError::SessionExpired => "session_expired",
        ClientError::AlreadySubscribed => "already_subscribed",
        ClientError::Server { .. } => "server",
        _ => "other",
    }
}
