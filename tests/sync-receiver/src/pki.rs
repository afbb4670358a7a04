//! A throwaway PKI made fresh by each test run (rcgen): a CA, the
//! receiver's server certificate for `localhost`/`127.0.0.1`, and one
//! client certificate per unit (subject CN = the unit id). Nothing is kept in
//! the repository.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Why the test PKI could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen refused.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// Writing a PEM file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// A certificate and its private key, PEM.
#[derive(Clone)]
pub struct CertKey {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PEM (PKCS#8).
    pub key_pem: String,
}

impl std::fmt::Debug for CertKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertKey").finish_non_exhaustive()
    }
}

/// A CA that issues server and unit certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A fresh CA named `name`.
    ///
    /// # Errors
    /// [`PkiError::Rcgen`].
    pub fn new(name: &str) -> Result<TestCa, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(TestCa { issuer })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `localhost` and `127.0.0.1`.
    ///
    /// # Errors
    /// [`PkiError::Rcgen`].
    pub fn server(&self) -> Result<CertKey, PkiError> {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "sync-receiver");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    /// A client certificate for the unit `unit_id` (subject CN).
    ///
    /// # Errors
    /// [`PkiError::Rcgen`].
    pub fn unit(&self, unit_id: &str) -> Result<CertKey, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, unit_id);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params)
    }

    fn issue(&self, params: CertificateParams) -> Result<CertKey, PkiError> {
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(CertKey {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Writes `ca.pem`, `<unit_id>.pem` and `<unit_id>.key` into `dir` for
    /// the unit, and returns their paths (CA, certificate, key).
    ///
    /// # Errors
    /// [`PkiError`].
    pub fn write_unit_files(
        &self,
        dir: &Path,
        unit_id: &str,
    ) -> Result<(PathBuf, PathBuf, PathBuf), PkiError> {
        let unit = self.unit(unit_id)?;
        let write = |name: String, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|source| PkiError::Io {
                path: path.clone(),
                source,
            })?;
            Ok::<_, PkiError>(path)
        };
        Ok((
            write("ca.pem".into(), &self.cert_pem())?,
            write(format!("{unit_id}.pem"), &unit.cert_pem)?,
            write(format!("{unit_id}.key"), &unit.key_pem)?,
        ))
    }
}
