//! The HTTPS client: mutual TLS 1.3 with the unit's provisioned certificate,
//! trusting only the provisioned CA, and one batch upload.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::store::{PendingAudit, PendingRecord};
use crate::sync::wire::{
    AuditBatchRequest, AuditBatchResponse, BATCH_PATH, BatchRequest, BatchResponse, ErrorBody,
    WireAudit, WireRecord, audit_path,
};
use crate::sync::{SyncConfig, SyncError};

/// Largest response body read (a batch answer is a few hundred bytes per record).
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Builds the client from the provisioned PEM files.
pub(crate) fn build(config: &SyncConfig) -> Result<reqwest::Client, SyncError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|source| SyncError::Tls {
            path: path.to_path_buf(),
            problem: format!("cannot read: {source}"),
        })
    };
    let bad = |path: &std::path::Path, problem: &str| SyncError::Tls {
        path: path.to_path_buf(),
        problem: problem.to_owned(),
    };
    let tls = &config.tls;
    let ca_pem = read(&tls.ca)?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&ca_pem) {
        let cert = cert.map_err(|_| bad(&tls.ca, "not a PEM certificate"))?;
        roots
            .add(cert)
            .map_err(|_| bad(&tls.ca, "not a usable CA certificate"))?;
    }
    if roots.is_empty() {
        return Err(bad(&tls.ca, "holds no certificate"));
    }
    let chain_pem = read(&tls.cert)?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad(&tls.cert, "not a PEM certificate chain"))?;
    if chain.is_empty() {
        return Err(bad(&tls.cert, "holds no certificate"));
    }
    let key_pem = read(&tls.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| bad(&tls.key, "not a PEM private key"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let client_tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| bad(&tls.ca, &e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| bad(&tls.key, &format!("does not match the certificate: {e}")))?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(client_tls)
        .https_only(true)
        .no_proxy()
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .pool_idle_timeout(config.request_timeout)
        .build()
        .map_err(|e| SyncError::Client(e.to_string()))
}

/// Why an upload did not produce an answer to act on. The text carries no
/// personal data (only the endpoint, statuses and codes).
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    /// No connection, TLS failure, timeout or connection cut.
    #[error("transport: {0}")]
    Transport(String),
    /// The receiver answered with an error status.
    #[error("HTTP {status}: {code}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The receiver's error code, when it gave one.
        code: String,
    },
    /// A 200 whose body is not a batch response.
    #[error("malformed response: {0}")]
    Response(String),
}

/// Uploads `batch` and returns the receiver's answer.
pub(crate) async fn upload(
    client: &reqwest::Client,
    endpoint: &str,
    unit_id: &str,
    batch: &[PendingRecord],
) -> Result<BatchResponse, UploadError> {
    let body = BatchRequest {
        unit_id: unit_id.to_owned(),
        records: batch.iter().map(WireRecord::from_pending).collect(),
    };
    let url = format!("{}{BATCH_PATH}", endpoint.trim_end_matches('/'));
    post_json(client, url, &body).await
}

/// Uploads a batch of audit entries and returns the receiver's answer.
pub(crate) async fn upload_audit(
    client: &reqwest::Client,
    endpoint: &str,
    unit_id: &str,
    batch: &[PendingAudit],
) -> Result<AuditBatchResponse, UploadError> {
    let body = AuditBatchRequest {
        entries: batch.iter().map(WireAudit::from_pending).collect(),
    };
    let url = format!("{}{}", endpoint.trim_end_matches('/'), audit_path(unit_id));
    post_json(client, url, &body).await
}

/// POSTs `body` as JSON to `url`; a 200 answer is parsed as `R`.
async fn post_json<R: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: String,
    body: &impl serde::Serialize,
) -> Result<R, UploadError> {
    let body = serde_json::to_vec(body).map_err(|e| UploadError::Response(e.to_string()))?;
    let mut response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| UploadError::Transport(error_chain(&e)))?;
    let status = response.status();
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| UploadError::Transport(error_chain(&e)))?
    {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(UploadError::Response("response too large".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        let code = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| b.error)
            .unwrap_or_else(|_| "no error body".into());
        return Err(UploadError::Status {
            status: status.as_u16(),
            code,
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| UploadError::Response(e.to_string()))
}

/// An error and its sources on one line (reqwest's own text is terse).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
