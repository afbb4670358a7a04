//! The unit's Passive Authentication trust store on disk (ICAO 9303-12 §5, §7.1 and §9).
//!
//! What it is: one directory holding the CSCA certificates, CRLs and CSCA
//! master lists a technician imported, each file kept verbatim under its
//! kind's folder and named by the SHA-256 of its bytes, and the functions to
//! import, list, remove and load them into an [`icao9303::pa::TrustStore`].
//! What it is not: a fetcher (no network), a policy (a master list whose
//! signature does not chain is imported and reported, not refused), or a
//! lock manager (one writer at a time).
//!
//! ```text
//! <dir>/csca/<sha256>.der | .pem   <dir>/crl/<sha256>.der   <dir>/masterlist/<sha256>.ml
//! ```
//!
//! Files are written atomically: a temporary file in the same folder,
//! fsync, rename, fsync of the folder (POSIX rename(2) is atomic within a
//! file system). Every byte read back is untrusted: a corrupt file is a
//! [`Warning`] naming it, never a panic and never a silent skip.
#![forbid(unsafe_code)]

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use der::Decode;
use icao9303::pa::{CertInfo, CrlInfo, PaError, TrustStore};
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

#[cfg(test)]
mod tests;

/// Largest file accepted (the ICAO master list is a few MB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Fewest hex digits [`TrustDir::remove`] takes, so that a slip cannot empty the store.
pub const MIN_PREFIX_LEN: usize = 8;

/// A trust store directory.
#[derive(Debug, Clone)]
pub struct TrustDir {
    /// The directory.
    root: PathBuf,
}

/// What a file in the store holds, and its folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// CSCA certificates, DER (`.der`) or PEM (`.pem`), under `csca/`.
    Csca,
    /// A DER CRL (`.der`) under `crl/`.
    Crl,
    /// A CSCA master list (`.ml`) under `masterlist/`.
    MasterList,
}

/// Why an operation failed; each names the file or input concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the file system failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The bytes to import are none of: PEM certificates, a DER certificate, a DER CRL, a CSCA master list.
    #[error("{name}: not a certificate, CRL or CSCA master list ({detail})")]
    NotRecognised {
        /// The name given for messages.
        name: String,
        /// What each attempt said.
        detail: String,
    },
    /// A certificate that is not a CSCA: not a CA, or without keyCertSign (9303-12 §7.1.1).
    #[error("{name}: certificate {subject:?} is not a CSCA: {why}")]
    NotCsca {
        /// The name given for messages.
        name: String,
        /// The certificate's subject.
        subject: String,
        /// What is missing.
        why: String,
    },
    /// The bytes are of a known kind but do not validate.
    #[error("{name}: invalid {kind}: {why}")]
    Invalid {
        /// The name given for messages.
        name: String,
        /// What it looked like.
        kind: Kind,
        /// What is wrong.
        why: String,
    },
    /// The input is larger than [`MAX_FILE_BYTES`].
    #[error("{name}: {size} bytes, more than the {MAX_FILE_BYTES} accepted")]
    TooLarge {
        /// The name given for messages.
        name: String,
        /// Its size.
        size: u64,
    },
    /// A fingerprint prefix that is not at least [`MIN_PREFIX_LEN`] hex digits.
    #[error("fingerprint prefix {0:?}: give at least {MIN_PREFIX_LEN} hex digits")]
    BadPrefix(String),
}

/// What [`TrustDir::import`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// What the bytes were.
    pub kind: Kind,
    /// The file in the store.
    pub file: PathBuf,
    /// True if the same bytes were already in the store (nothing was written).
    pub already_present: bool,
    /// The CSCA certificates the file holds (for a master list: its certificates).
    pub cscas: Vec<CertInfo>,
    /// The CRL, for a CRL.
    pub crl: Option<CrlInfo>,
    /// The master list's signer and signature, for a master list.
    pub master_list: Option<MasterListEntry>,
}

/// Everything in the store.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Every CSCA certificate, from its own file or from a master list.
    pub cscas: Vec<CscaEntry>,
    /// Every CRL.
    pub crls: Vec<CrlEntry>,
    /// Every master list.
    pub master_lists: Vec<MasterListEntry>,
    /// Files that could not be read or do not belong.
    pub warnings: Vec<Warning>,
}

/// A CSCA certificate in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CscaEntry {
    /// Country, subject, validity, SHA-256 fingerprint of the DER certificate.
    pub info: CertInfo,
    /// The file it is in.
    pub file: PathBuf,
}

/// A CRL in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlEntry {
    /// Issuer, this/next update, revoked count, the CSCAs whose key verified it.
    pub info: CrlInfo,
    /// The file.
    pub file: PathBuf,
}

/// A CSCA master list in the store (9303-12 §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterListEntry {
    /// The file.
    pub file: PathBuf,
    /// The master list signer certificate, if the list holds it.
    pub signer: Option<CertInfo>,
    /// Whether the signed attributes and signature verified with the signer's key.
    pub signature_verified: bool,
    /// Why not, if not.
    pub signature_problem: Option<String>,
    /// Whether the signer was issued by a CSCA imported on its own (under `csca/`).
    pub signer_trusted: bool,
    /// How many certificates the list holds.
    pub certificates: usize,
}

/// A file in the store that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file.
    pub file: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.problem)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Csca => "CSCA certificate",
            Kind::Crl => "CRL",
            Kind::MasterList => "CSCA master list",
        })
    }
}

impl Kind {
    /// Every kind, in load order: CSCAs, master lists, then CRLs.
    pub const LOAD_ORDER: [Kind; 3] = [Kind::Csca, Kind::MasterList, Kind::Crl];

    /// The folder under the store directory.
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Csca => "csca",
            Kind::Crl => "crl",
            Kind::MasterList => "masterlist",
        }
    }
}

impl TrustDir {
    /// Opens the store at `path`, creating it and its folders if missing.
    ///
    /// # Errors
    /// [`Error::Io`] if a folder cannot be created (or `path` is a file).
    pub fn open(path: impl AsRef<Path>) -> Result<TrustDir, Error> {
        let root = path.as_ref().to_path_buf();
        for kind in Kind::LOAD_ORDER {
            let dir = root.join(kind.folder());
            fs::create_dir_all(&dir).map_err(|source| Error::Io { path: dir, source })?;
        }
        Ok(TrustDir { root })
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Recognises, validates and stores `bytes`; `name` is only for messages.
    ///
    /// Accepted: PEM `CERTIFICATE` blocks, a DER certificate, each a CSCA
    /// (basicConstraints cA and keyUsage keyCertSign, 9303-12 §7.1.1); a DER
    /// CRL (RFC 5280 §5); a CSCA master list (9303-12 §9), whatever its
    /// signature (reported in [`Imported::master_list`]). Bytes already in
    /// the store are not written again.
    ///
    /// # Errors
    /// [`Error::NotRecognised`], [`Error::NotCsca`], [`Error::Invalid`] or
    /// [`Error::TooLarge`] for the bytes, [`Error::Io`] if writing fails.
    pub fn import(&self, name: &str, bytes: &[u8]) -> Result<Imported, Error> {
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if size > MAX_FILE_BYTES {
            return Err(Error::TooLarge {
                name: name.into(),
                size,
            });
        }
        let parsed = parse(bytes).map_err(|e| e.into_error(name))?;
        let trusted = self.csca_folder_store()?;
        let (cscas, crl, master_list) = summarise(&parsed, bytes, &trusted, PathBuf::new());
        let file = self.file_for(parsed.kind(), parsed.extension(), bytes);
        let already_present = file.exists();
        if !already_present {
            write_atomically(&file, bytes)?;
        }
        Ok(Imported {
            kind: parsed.kind(),
            master_list: master_list.map(|m| MasterListEntry {
                file: file.clone(),
                ..m
            }),
            file,
            already_present,
            cscas,
            crl,
        })
    }

    /// Lists everything in the store; files that cannot be used are in [`Listing::warnings`].
    ///
    /// # Errors
    /// [`Error::Io`] if a folder cannot be read.
    pub fn list(&self) -> Result<Listing, Error> {
        let mut listing = Listing::default();
        let (store, files) = self.read_all(&mut listing.warnings)?;
        let trusted = self.csca_folder_store()?;
        for (file, parsed, bytes) in &files {
            let (cscas, _, master_list) = summarise(parsed, bytes, &trusted, file.clone());
            listing
                .cscas
                .extend(cscas.into_iter().map(|info| CscaEntry {
                    info,
                    file: file.clone(),
                }));
            listing.master_lists.extend(master_list);
        }
        for (file, parsed, _) in &files {
            if let Parsed::Crl(der) = parsed {
                // The CRL as the full store sees it: verified_by every CSCA.
                let fingerprint = sha256(der);
                if let Some(info) = store.crls().find(|c| c.sha256 == fingerprint) {
                    listing.crls.push(CrlEntry {
                        info: info.clone(),
                        file: file.clone(),
                    });
                }
            }
        }
        Ok(listing)
    }

    /// Removes every file whose name (SHA-256 of its bytes), or the
    /// fingerprint of a CSCA certificate or CRL file it holds, starts with
    /// `fingerprint_prefix` (hex, case-insensitive, at least
    /// [`MIN_PREFIX_LEN`] digits); how many files were removed. A master
    /// list is removed only by its file name: one certificate cannot be
    /// taken out of a signed list.
    ///
    /// # Errors
    /// [`Error::BadPrefix`]; [`Error::Io`] if a folder cannot be read or a file removed.
    pub fn remove(&self, fingerprint_prefix: &str) -> Result<usize, Error> {
        let prefix = fingerprint_prefix.trim().to_ascii_lowercase();
        if prefix.len() < MIN_PREFIX_LEN || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::BadPrefix(fingerprint_prefix.into()));
        }
        let mut warnings = Vec::new();
        let (_, files) = self.read_all(&mut warnings)?;
        let mut removed = 0;
        for (file, parsed, bytes) in &files {
            let by_name = hex::encode(sha256(bytes)).starts_with(&prefix);
            let by_content = match parsed {
                Parsed::Certificates(certs) => certs
                    .iter()
                    .any(|(der, _)| hex::encode(sha256(der)).starts_with(&prefix)),
                Parsed::Crl(der) => hex::encode(sha256(der)).starts_with(&prefix),
                Parsed::MasterList => false,
            };
            if by_name || by_content {
                remove_durably(file)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Loads the store into memory: CSCAs, then master lists, then CRLs.
    ///
    /// Never fails on a file's content: each file that cannot be used (does
    /// not parse, bytes not matching its name, not a CSCA, a stray file) is
    /// a [`Warning`] naming it, and the rest is loaded.
    ///
    /// # Errors
    /// [`Error::Io`] if a folder cannot be read.
    pub fn load(&self) -> Result<(TrustStore, Vec<Warning>), Error> {
        let mut warnings = Vec::new();
        let (store, _) = self.read_all(&mut warnings)?;
        Ok((store, warnings))
    }

    /// Every usable file, parsed, in load order, and the store they make; the others as warnings.
    #[allow(clippy::type_complexity)]
    fn read_all(
        &self,
        warnings: &mut Vec<Warning>,
    ) -> Result<(TrustStore, Vec<(PathBuf, Parsed, Vec<u8>)>), Error> {
        let mut store = TrustStore::new();
        let mut files = Vec::new();
        for kind in Kind::LOAD_ORDER {
            for file in self.files_in(kind, warnings)? {
                let warn = |problem: String| Warning {
                    file: file.clone(),
                    problem,
                };
                let bytes = match read_limited(&file) {
                    Ok(b) => b,
                    Err(problem) => {
                        warnings.push(warn(problem));
                        continue;
                    }
                };
                if let Err(problem) = check_name(&file, kind, &bytes) {
                    warnings.push(warn(problem));
                    continue;
                }
                let parsed = match parse(&bytes) {
                    Ok(p) if p.kind() == kind => p,
                    Ok(p) => {
                        warnings.push(warn(format!("a {} in the {} folder", p.kind(), kind)));
                        continue;
                    }
                    Err(e) => {
                        warnings.push(warn(e.to_string()));
                        continue;
                    }
                };
                let added = match &parsed {
                    Parsed::Certificates(certs) => certs
                        .iter()
                        .try_for_each(|(der, _)| store.add_csca_der(der).map(drop)),
                    Parsed::Crl(der) => store.add_crl_der(der).map(drop),
                    Parsed::MasterList => store.import_master_list(&bytes).map(drop),
                };
                match added {
                    Ok(()) => files.push((file, parsed, bytes)),
                    Err(e) => warnings.push(warn(e.to_string())),
                }
            }
        }
        Ok((store, files))
    }

    /// A store with only the CSCAs imported on their own (to check master list signers against).
    fn csca_folder_store(&self) -> Result<TrustStore, Error> {
        let mut store = TrustStore::new();
        let mut ignored = Vec::new();
        for file in self.files_in(Kind::Csca, &mut ignored)? {
            let Ok(bytes) = read_limited(&file) else {
                continue;
            };
            if check_name(&file, Kind::Csca, &bytes).is_err() {
                continue;
            }
            if let Ok(Parsed::Certificates(certs)) = parse(&bytes) {
                for (der, _) in certs {
                    // Parsed above: adding cannot fail, and a failure only leaves it out.
                    let _ = store.add_csca_der(&der);
                }
            }
        }
        Ok(store)
    }

    /// The regular files in `kind`'s folder, sorted; anything else there is a warning.
    fn files_in(&self, kind: Kind, warnings: &mut Vec<Warning>) -> Result<Vec<PathBuf>, Error> {
        let dir = self.root.join(kind.folder());
        let io_error = |source| Error::Io {
            path: dir.clone(),
            source,
        };
        let mut files = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            let path = entry.path();
            let file_type = entry.file_type().map_err(io_error)?;
            if !file_type.is_file() {
                warnings.push(Warning {
                    file: path,
                    problem: "not a regular file; ignored".into(),
                });
            } else if entry.file_name().to_string_lossy().starts_with('.') {
                warnings.push(Warning {
                    file: path,
                    problem: "left over from an interrupted import; ignored (safe to delete)"
                        .into(),
                });
            } else {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    /// Where `bytes` of `kind` go: `<folder>/<sha256>.<extension>`.
    fn file_for(&self, kind: Kind, extension: &str, bytes: &[u8]) -> PathBuf {
        self.root
            .join(kind.folder())
            .join(format!("{}.{extension}", hex::encode(sha256(bytes))))
    }
}

/// A file's content, recognised.
#[derive(Debug, Clone)]
enum Parsed {
    /// One or more certificates (DER each), all CSCAs, and whether the file was PEM.
    Certificates(Vec<(Vec<u8>, bool)>),
    /// A DER CRL.
    Crl(Vec<u8>),
    /// A CSCA master list (the file's bytes).
    MasterList,
}

/// Why bytes were refused, before a name is attached.
#[derive(Debug, Clone)]
enum Refusal {
    /// Not any known kind.
    NotRecognised(String),
    /// A certificate that is not a CSCA.
    NotCsca {
        /// Its subject.
        subject: String,
        /// What is missing.
        why: String,
    },
    /// A known kind that does not validate.
    Invalid(Kind, String),
}

impl Parsed {
    /// The kind.
    fn kind(&self) -> Kind {
        match self {
            Parsed::Certificates(_) => Kind::Csca,
            Parsed::Crl(_) => Kind::Crl,
            Parsed::MasterList => Kind::MasterList,
        }
    }

    /// The file extension it is stored with.
    fn extension(&self) -> &'static str {
        match self {
            Parsed::Certificates(certs) if certs.iter().any(|(_, pem)| *pem) => "pem",
            Parsed::Certificates(_) | Parsed::Crl(_) => "der",
            Parsed::MasterList => "ml",
        }
    }
}

impl Refusal {
    /// The error naming `name`.
    fn into_error(self, name: &str) -> Error {
        let name = name.to_string();
        match self {
            Refusal::NotRecognised(detail) => Error::NotRecognised { name, detail },
            Refusal::NotCsca { subject, why } => Error::NotCsca { name, subject, why },
            Refusal::Invalid(kind, why) => Error::Invalid { name, kind, why },
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotRecognised(detail) => {
                write!(f, "not a certificate, CRL or CSCA master list ({detail})")
            }
            Refusal::NotCsca { subject, why } => {
                write!(f, "certificate {subject:?} is not a CSCA: {why}")
            }
            Refusal::Invalid(kind, why) => write!(f, "invalid {kind}: {why}"),
        }
    }
}

/// Recognises `bytes` and validates them on a scratch [`TrustStore`].
fn parse(bytes: &[u8]) -> Result<Parsed, Refusal> {
    let text_start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    if text_start.is_some_and(|i| bytes.get(i..).is_some_and(|t| t.starts_with(b"-----BEGIN"))) {
        return parse_pem(bytes);
    }
    let cert_error = match Certificate::from_der(bytes) {
        Ok(cert) => {
            check_csca(&cert)?;
            TrustStore::new()
                .add_csca_der(bytes)
                .map_err(|e| Refusal::Invalid(Kind::Csca, pa_detail(e)))?;
            return Ok(Parsed::Certificates(vec![(bytes.to_vec(), false)]));
        }
        Err(e) => e,
    };
    let crl_error = match <CertificateList>::from_der(bytes) {
        Ok(_) => {
            TrustStore::new()
                .add_crl_der(bytes)
                .map_err(|e| Refusal::Invalid(Kind::Crl, pa_detail(e)))?;
            return Ok(Parsed::Crl(bytes.to_vec()));
        }
        Err(e) => e,
    };
    let ml_error = match TrustStore::new().import_master_list(bytes) {
        Ok(_) => return Ok(Parsed::MasterList),
        Err(e) => pa_detail(e),
    };
    Err(Refusal::NotRecognised(format!(
        "as a certificate: {cert_error}; as a CRL: {crl_error}; as a master list: {ml_error}"
    )))
}

/// PEM `CERTIFICATE` blocks (RFC 7468 §5), each a CSCA.
fn parse_pem(bytes: &[u8]) -> Result<Parsed, Refusal> {
    let invalid = |why: String| Refusal::Invalid(Kind::Csca, why);
    let text = std::str::from_utf8(bytes).map_err(|e| invalid(format!("PEM is not text: {e}")))?;
    let certs = Certificate::load_pem_chain(bytes)
        .map_err(|e| invalid(format!("PEM does not hold only CERTIFICATE blocks: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("PEM holds no certificate".into()));
    }
    for cert in &certs {
        check_csca(cert)?;
    }
    let infos = TrustStore::new()
        .add_csca_pem(text)
        .map_err(|e| invalid(pa_detail(e)))?;
    let mut ders = Vec::with_capacity(certs.len());
    for cert in &certs {
        let der = der::Encode::to_der(cert).map_err(|e| invalid(e.to_string()))?;
        ders.push((der, true));
    }
    debug_assert_eq!(infos.len(), ders.len());
    Ok(Parsed::Certificates(ders))
}

/// A CSCA is a CA whose key signs certificates (9303-12 §7.1.1: basicConstraints cA, keyUsage keyCertSign).
fn check_csca(cert: &Certificate) -> Result<(), Refusal> {
    let tbs = cert.tbs_certificate();
    let refuse = |why: &str| Refusal::NotCsca {
        subject: tbs.subject().to_string(),
        why: why.into(),
    };
    match tbs.get_extension::<BasicConstraints>() {
        Ok(Some((_, bc))) if bc.ca => {}
        Ok(Some(_)) => return Err(refuse("basicConstraints cA is false")),
        Ok(None) => return Err(refuse("no basicConstraints extension")),
        Err(e) => return Err(refuse(&format!("malformed basicConstraints: {e}"))),
    }
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if ku.key_cert_sign() => Ok(()),
        Ok(Some(_)) => Err(refuse("key usage lacks keyCertSign")),
        Ok(None) => Err(refuse("no key usage extension")),
        Err(e) => Err(refuse(&format!("malformed key usage: {e}"))),
    }
}

/// The summaries of a parsed file: its CSCAs, its CRL, its master list (`trusted`: CSCAs to chain a signer to).
fn summarise(
    parsed: &Parsed,
    bytes: &[u8],
    trusted: &TrustStore,
    file: PathBuf,
) -> (Vec<CertInfo>, Option<CrlInfo>, Option<MasterListEntry>) {
    match parsed {
        Parsed::Certificates(certs) => {
            let mut scratch = TrustStore::new();
            let infos = certs
                .iter()
                .filter_map(|(der, _)| scratch.add_csca_der(der).ok())
                .collect();
            (infos, None, None)
        }
        Parsed::Crl(der) => (Vec::new(), trusted.clone().add_crl_der(der).ok(), None),
        Parsed::MasterList => {
            let all = TrustStore::new().import_master_list(bytes).ok();
            let chained = trusted.clone().import_master_list(bytes).ok();
            let Some(all) = all else {
                return (Vec::new(), None, None);
            };
            let entry = MasterListEntry {
                file,
                signer: all.signer.clone(),
                signature_verified: all.signature_verified,
                signature_problem: all.signature_problem.clone(),
                signer_trusted: chained.is_some_and(|c| c.signer_trusted),
                certificates: all.added.len() + all.already_present,
            };
            (all.added, None, Some(entry))
        }
    }
}

/// The detail of a [`PaError`].
fn pa_detail(e: PaError) -> String {
    e.to_string()
}

/// SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(bytes).into()
}

/// Whether `file`'s name is `<sha256 of bytes>.<an extension of kind>`.
fn check_name(file: &Path, kind: Kind, bytes: &[u8]) -> Result<(), String> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some((stem, extension)) = name.rsplit_once('.') else {
        return Err("no extension; not a file this store wrote".into());
    };
    let allowed: &[&str] = match kind {
        Kind::Csca => &["der", "pem"],
        Kind::Crl => &["der"],
        Kind::MasterList => &["ml"],
    };
    if !allowed.contains(&extension) {
        return Err(format!(
            "extension .{extension} does not belong in {}/",
            kind.folder()
        ));
    }
    let actual = hex::encode(sha256(bytes));
    if stem != actual {
        return Err(format!(
            "content changed or corrupt: its SHA-256 is {actual}, not its name"
        ));
    }
    Ok(())
}

/// Reads a whole file of at most [`MAX_FILE_BYTES`]; the problem as text.
fn read_limited(file: &Path) -> Result<Vec<u8>, String> {
    let size = fs::metadata(file)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!("{size} bytes, more than {MAX_FILE_BYTES}"));
    }
    fs::read(file).map_err(|e| format!("cannot read: {e}"))
}

/// Writes `bytes` to `file` atomically: temporary file, fsync, rename, fsync of the folder.
fn write_atomically(file: &Path, bytes: &[u8]) -> Result<(), Error> {
    /// Makes temporary names unique within the process.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = file.parent().unwrap_or(Path::new("."));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let written = (|| {
        let mut f = fs::File::create_new(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io(&tmp)(e));
    }
    if let Err(e) = fs::rename(&tmp, file) {
        let _ = fs::remove_file(&tmp);
        return Err(io(file)(e));
    }
    sync_dir(dir)
}

/// Removes `file` and fsyncs its folder.
fn remove_durably(file: &Path) -> Result<(), Error> {
    fs::remove_file(file).map_err(|source| Error::Io {
        path: file.to_path_buf(),
        source,
    })?;
    sync_dir(file.parent().unwrap_or(Path::new(".")))
}

/// fsync of a directory, so that a rename or removal in it survives a power cut.
fn sync_dir(dir: &Path) -> Result<(), Error> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })
}
