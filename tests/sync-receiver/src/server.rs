//! The HTTPS server: TLS 1.3 with a required client certificate from the
//! test CA, the unit named by the certificate's CN, two routes (passage
//! batches and audit batches), and faults a test can switch on (they apply
//! to both routes).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use ed25519_dalek::VerifyingKey;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use kiosk_app::sync::wire::{
    AUDIT_ROUTE, AuditBatchRequest, AuditBatchResponse, BATCH_PATH, BatchRequest, BatchResponse,
    ErrorBody, MAX_BATCH_BYTES, MAX_BATCH_RECORDS,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::{Notify, oneshot};
use x509_cert::der::Decode;

use crate::db::ReceiverDb;
use crate::pki::CertKey;

/// What the receiver needs to run.
#[derive(Clone, Debug)]
pub struct ReceiverConfig {
    /// Its SQLite database (created if missing).
    pub db_path: PathBuf,
    /// Its server certificate and key.
    pub server: CertKey,
    /// The CA that unit certificates must chain to, PEM.
    pub client_ca_pem: String,
    /// Each known unit's id and record-signing key.
    pub units: Vec<(String, VerifyingKey)>,
    /// Added to its clock (to simulate clock skew), milliseconds.
    pub clock_offset_ms: i64,
}

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// Certificates or keys unusable.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// Database.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// Socket, thread or runtime.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// Faults a test switches on; each counter is consumed one request at a time.
#[derive(Debug, Default)]
pub struct Faults {
    /// Answer the next N requests with 503, storing nothing.
    pub fail_next: AtomicU32,
    /// Cut the connection of the next N requests before storing anything.
    pub cut_before_store_next: AtomicU32,
    /// Store the next N batches, then cut the connection without answering.
    pub cut_after_store_next: AtomicU32,
    /// Wait this many milliseconds after storing, before answering.
    pub delay_ms: AtomicU64,
}

/// Counters a test reads.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests that reached the handler.
    pub requests: AtomicU64,
    /// Requests in the handler now.
    pub in_flight: AtomicU64,
    /// Batches committed to the database.
    pub batches_stored: AtomicU64,
    /// Audit batches committed to the database.
    pub audit_batches_stored: AtomicU64,
}

fn take_one(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

struct AppState {
    db: Mutex<ReceiverDb>,
    units: HashMap<String, VerifyingKey>,
    faults: Arc<Faults>,
    stats: Arc<Stats>,
    clock_offset_ms: i64,
}

/// Per connection: the unit its certificate names, and a switch to cut it.
#[derive(Clone)]
struct Conn {
    unit: Option<String>,
    cut: Arc<Notify>,
}

/// A running receiver on its own thread and runtime; stopped when dropped.
pub struct Receiver {
    addr: SocketAddr,
    faults: Arc<Faults>,
    stats: Arc<Stats>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// Starts the receiver listening on `bind` (port 0 for any).
    ///
    /// # Errors
    /// [`ReceiverError`].
    pub fn start(config: ReceiverConfig, bind: SocketAddr) -> Result<Receiver, ReceiverError> {
        let tls = server_tls(&config)?;
        let db = ReceiverDb::open(&config.db_path)?;
        let listener = std::net::TcpListener::bind(bind)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let faults = Arc::new(Faults::default());
        let stats = Arc::new(Stats::default());
        let state = Arc::new(AppState {
            db: Mutex::new(db),
            units: config.units.into_iter().collect(),
            faults: Arc::clone(&faults),
            stats: Arc::clone(&stats),
            clock_offset_ms: config.clock_offset_ms,
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (stop, stop_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("sync-receiver".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => serve(listener, tls, state, stop_rx).await,
                        Err(e) => tracing::error!(error = %e, "listener"),
                    }
                });
                // Connections still open are dropped with the runtime.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(Receiver {
            addr,
            faults,
            stats,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL for the sync worker (`https://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// The fault switches.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Stops listening, drops every connection and waits for the thread.
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

fn server_tls(config: &ReceiverConfig) -> Result<rustls::ServerConfig, ReceiverError> {
    let tls = |e: &dyn std::fmt::Display| ReceiverError::Tls(e.to_string());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(config.client_ca_pem.as_bytes()) {
        roots.add(cert.map_err(|e| tls(&e))?).map_err(|e| tls(&e))?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(&provider),
    )
    .build()
    .map_err(|e| tls(&e))?;
    let chain = CertificateDer::pem_slice_iter(config.server.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls(&e))?;
    let key =
        PrivateKeyDer::from_pem_slice(config.server.key_pem.as_bytes()).map_err(|e| tls(&e))?;
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| tls(&e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| tls(&e))?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(server)
}

/// The unit a verified client certificate names (its subject CN).
fn unit_of(cert: &CertificateDer<'_>) -> Option<String> {
    let cert = x509_cert::Certificate::from_der(cert.as_ref()).ok()?;
    let cn = cert.tbs_certificate().subject().common_name().ok()??;
    Some(cn.value().into_owned())
}

async fn serve(
    listener: tokio::net::TcpListener,
    tls: rustls::ServerConfig,
    state: Arc<AppState>,
    mut stop: oneshot::Receiver<()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let app = Router::new()
        .route(BATCH_PATH, post(batch))
        .route(AUDIT_ROUTE, post(audit))
        .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES))
        .with_state(state);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _)) = accepted else { continue };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
            // No certificate, or one from another CA: the handshake fails.
            let Ok(Ok(stream)) = handshake.await else {
                return;
            };
            let unit = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(unit_of);
            let cut = Arc::new(Notify::new());
            let app = app.layer(Extension(Conn {
                unit,
                cut: Arc::clone(&cut),
            }));
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
            tokio::select! {
                _ = conn => {}
                _ = cut.notified() => {}
            }
        });
    }
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = ErrorBody {
        error: code.to_owned(),
        message: message.into(),
    };
    (status, Json(body)).into_response()
}

/// Decrements `in_flight` when the request ends, however it ends.
struct InFlight(Arc<Stats>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Cuts the connection: the request's future is dropped with it.
async fn cut(conn: &Conn) -> Response {
    conn.cut.notify_one();
    std::future::pending().await
}

fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

async fn batch(
    State(state): State<Arc<AppState>>,
    Extension(conn): Extension<Conn>,
    body: Bytes,
) -> Response {
    state.stats.requests.fetch_add(1, Ordering::SeqCst);
    state.stats.in_flight.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight(Arc::clone(&state.stats));
    if take_one(&state.faults.fail_next) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "injected fault",
        );
    }
    if take_one(&state.faults.cut_before_store_next) {
        return cut(&conn).await;
    }
    let Some(unit) = conn.unit.clone() else {
        return error(
            StatusCode::FORBIDDEN,
            "unknown_unit",
            "certificate names no unit",
        );
    };
    let request: BatchRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    if request.unit_id != unit {
        return error(
            StatusCode::FORBIDDEN,
            "unit_mismatch",
            "unit_id is not the unit of the client certificate",
        );
    }
    let Some(key) = state.units.get(&unit).copied() else {
        return error(StatusCode::FORBIDDEN, "unknown_unit", "unit not registered");
    };
    if request.records.len() > MAX_BATCH_RECORDS {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {MAX_BATCH_RECORDS} records per batch"),
        );
    }
    let now = now_unix_ms().saturating_add(state.clock_offset_ms);
    let worker = Arc::clone(&state);
    let stored = tokio::task::spawn_blocking(move || {
        worker
            .db
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .process_batch(&unit, &key, &request.records, now)
    })
    .await;
    let results = match stored {
        Ok(Ok(results)) => results,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
    };
    state.stats.batches_stored.fetch_add(1, Ordering::SeqCst);
    if take_one(&state.faults.cut_after_store_next) {
        return cut(&conn).await;
    }
    let delay = state.faults.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let response = BatchResponse {
        results,
        received_unix_ms: now_unix_ms().saturating_add(state.clock_offset_ms),
    };
    (StatusCode::OK, Json(response)).into_response()
}

async fn audit(
    State(state): State<Arc<AppState>>,
    Extension(conn): Extension<Conn>,
    Path(path_unit): Path<String>,
    body: Bytes,
) -> Response {
    state.stats.requests.fetch_add(1, Ordering::SeqCst);
    state.stats.in_flight.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight(Arc::clone(&state.stats));
    if take_one(&state.faults.fail_next) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "injected fault",
        );
    }
    if take_one(&state.faults.cut_before_store_next) {
        return cut(&conn).await;
    }
    let Some(unit) = conn.unit.clone() else {
        return error(
            StatusCode::FORBIDDEN,
            "unknown_unit",
            "certificate names no unit",
        );
    };
    if path_unit != unit {
        return error(
            StatusCode::FORBIDDEN,
            "unit_mismatch",
            "the path's unit is not the unit of the client certificate",
        );
    }
    let request: AuditBatchRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
    };
    let Some(key) = state.units.get(&unit).copied() else {
        return error(StatusCode::FORBIDDEN, "unknown_unit", "unit not registered");
    };
    if request.entries.len() > MAX_BATCH_RECORDS {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("at most {MAX_BATCH_RECORDS} entries per batch"),
        );
    }
    let now = now_unix_ms().saturating_add(state.clock_offset_ms);
    let worker = Arc::clone(&state);
    let stored = tokio::task::spawn_blocking(move || {
        worker
            .db
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .process_audit(&unit, &key, &request.entries, now)
    })
    .await;
    let results = match stored {
        Ok(Ok(results)) => results,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
    };
    state
        .stats
        .audit_batches_stored
        .fetch_add(1, Ordering::SeqCst);
    if take_one(&state.faults.cut_after_store_next) {
        return cut(&conn).await;
    }
    let delay = state.faults.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let response = AuditBatchResponse {
        results,
        received_unix_ms: now_unix_ms().saturating_add(state.clock_offset_ms),
    };
    (StatusCode::OK, Json(response)).into_response()
}
