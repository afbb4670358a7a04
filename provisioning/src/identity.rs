//! `kioskctl init`: create the unit's identity (record-signing key, TLS key, CSR).
//! `kioskctl enroll`: install the certificate the central CA issued for that CSR.
//!
//! The identity directory (default `/var/lib/asean-lane/identity`) holds,
//! in the formats the lane loads:
//!
//! | file | what | mode |
//! |---|---|---|
//! | `record-signing.key` | Ed25519 seed, 64 hex digits (`kiosk_app::appliance::read_signing_key`) | 0600 |
//! | `record-signing.pub` | its public key, 64 hex digits (`kioskctl store verify --key`) | 0644 |
//! | `unit.key` | TLS key, ECDSA P-256, PKCS#8 PEM (`[sync] key`) | 0600 |
//! | `unit.csr` | PKCS#10 request for `unit.key`, CN = unit id | 0644 |
//! | `unit.pem` | the issued certificate (`[sync] cert`), written by `enroll` | 0644 |
//! | `central-ca.pem` | the CA chain (`[sync] ca`), written by `enroll` | 0644 |
//!
//! Every file is written to a temporary name, fsynced and renamed into place.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use der::oid::db::{rfc5280, rfc5912};
use der::pem::PemLabel;
use der::{Decode, DecodePem, Encode};
use ecdsa::signature::hazmat::PrehashVerifier;
use kiosk_app::store::SigningKey;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_ECDSA_P256_SHA256};
use sha2::{Digest, Sha256, Sha384};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};
use x509_cert::request::CertReq;
use zeroize::Zeroizing;

use crate::atomic::{self, Perms};
use crate::cli::{EnrollArgs, InitArgs};

/// The record-signing key: the Ed25519 seed as 64 hex digits.
pub(crate) const RECORD_KEY: &str = "record-signing.key";
/// The record-signing public key: 64 hex digits.
pub(crate) const RECORD_PUB: &str = "record-signing.pub";
/// The TLS private key (PKCS#8 PEM, ECDSA P-256).
pub(crate) const TLS_KEY: &str = "unit.key";
/// The certificate signing request for [`TLS_KEY`].
pub(crate) const TLS_CSR: &str = "unit.csr";
/// The certificate the central CA issued.
pub(crate) const TLS_CERT: &str = "unit.pem";
/// The central CA chain.
pub(crate) const CA_CHAIN: &str = "central-ca.pem";

/// Files whose presence means the directory already holds an identity.
const IDENTITY_FILES: [&str; 5] = [RECORD_KEY, RECORD_PUB, TLS_KEY, TLS_CSR, TLS_CERT];

/// Checks a unit id: 1 to 64 ASCII letters, digits or '-' (clap value parser).
pub(crate) fn parse_unit_id(id: &str) -> Result<String, String> {
    if id.is_empty() || id.len() > 64 {
        return Err(format!("must be 1 to 64 characters, got {}", id.len()));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "may hold only letters, digits and '-', found {c:?}"
        ));
    }
    Ok(id.to_owned())
}

/// Prints `msg` as the command's problem (JSON on stdout or text on stderr) and returns exit 1.
pub(crate) fn problem(json: bool, command: &str, msg: &str) -> ExitCode {
    if json {
        println!("{}", serde_json::json!({ "error": msg }));
    } else {
        eprintln!("kioskctl {command}: {msg}");
    }
    ExitCode::from(1)
}

/// Runs `kioskctl init`: exit 0 with a new identity, 1 when one exists (without `--force`) or it cannot be written.
pub(crate) fn init(opts: &InitArgs) -> anyhow::Result<ExitCode> {
    let dir = &opts.dir;
    let unit_id = match &opts.unit_id {
        Some(id) => id.clone(),
        None => match hostname_unit_id() {
            Ok(id) => id,
            Err(msg) => return Ok(problem(opts.json, "init", &msg)),
        },
    };
    let existing: Vec<&str> = IDENTITY_FILES
        .iter()
        .copied()
        .filter(|f| fs::symlink_metadata(dir.join(f)).is_ok())
        .collect();
    if !existing.is_empty() && !opts.force {
        let msg = format!(
            "{} already holds an identity ({}); nothing was changed. \
             `kioskctl init --force` replaces it (the unit then needs a new certificate), \
             `kioskctl wipe` destroys it",
            dir.display(),
            existing.join(", ")
        );
        return Ok(problem(opts.json, "init", &msg));
    }
    match create_identity(dir, &unit_id) {
        Ok(created) => {
            // A certificate for the old key no longer matches the new one.
            let mut removed = Vec::new();
            if opts.force && fs::symlink_metadata(dir.join(TLS_CERT)).is_ok() {
                if let Err(e) = fs::remove_file(dir.join(TLS_CERT)) {
                    let msg = format!(
                        "new identity written, but the old certificate {} could not be removed: {e}",
                        dir.join(TLS_CERT).display()
                    );
                    return Ok(problem(opts.json, "init", &msg));
                }
                removed.push(dir.join(TLS_CERT));
            }
            report_init(opts, &unit_id, &created, &removed);
            Ok(ExitCode::SUCCESS)
        }
        Err(msg) => Ok(problem(opts.json, "init", &msg)),
    }
}

/// What `init` created.
struct Created {
    /// The record-signing public key, hex.
    record_pub_hex: String,
    /// Every file written.
    files: Vec<PathBuf>,
}

fn report_init(opts: &InitArgs, unit_id: &str, created: &Created, removed: &[PathBuf]) {
    let dir = &opts.dir;
    if opts.json {
        let json = serde_json::json!({
            "unit_id": unit_id,
            "dir": dir.display().to_string(),
            "record_signing_public_key": created.record_pub_hex,
            "files": created.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "csr": dir.join(TLS_CSR).display().to_string(),
            "removed": removed.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        });
        println!("{json}");
    } else {
        println!("identity of unit {unit_id} created in {}", dir.display());
        for f in &created.files {
            println!("  wrote {}", f.display());
        }
        for f in removed {
            println!("  removed {} (it was for the old key)", f.display());
        }
        println!("record-signing public key: {}", created.record_pub_hex);
        println!(
            "next: have the central CA sign {}, then run \
             `kioskctl enroll --cert unit.pem --ca central-ca.pem`",
            dir.join(TLS_CSR).display()
        );
    }
}

/// The unit id from the machine's host name, if it is a valid one.
fn hostname_unit_id() -> Result<String, String> {
    let name = fs::read_to_string("/proc/sys/kernel/hostname")
        .map_err(|e| format!("no --unit-id given and the host name cannot be read: {e}"))?;
    parse_unit_id(name.trim())
        .map_err(|e| format!("no --unit-id given and the host name is not a unit id ({e})"))
}

/// Makes every key and the CSR in memory, then writes them into `dir`.
fn create_identity(dir: &Path, unit_id: &str) -> Result<Created, String> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|e| format!("the OS random generator failed: {e}"))?;
    let signing = SigningKey::from_bytes(&seed);
    let record_key = Zeroizing::new(format!("{}\n", hex::encode(seed.as_ref())));
    let record_pub_hex = hex::encode(signing.verifying_key().as_bytes());

    let tls = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("generating the TLS key: {e}"))?;
    let tls_pem = Zeroizing::new(tls.serialize_pem());
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, unit_id);
    params.distinguished_name = name;
    let csr = params
        .serialize_request(&tls)
        .and_then(|csr| csr.pem())
        .map_err(|e| format!("writing the CSR: {e}"))?;

    if !dir.is_dir() {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
        // Only the identity directory itself is private to the lane's user.
        fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let record_pub = format!("{record_pub_hex}\n");
    let files: [(&str, &[u8], u32); 4] = [
        (RECORD_KEY, record_key.as_bytes(), 0o600),
        (RECORD_PUB, record_pub.as_bytes(), 0o644),
        (TLS_KEY, tls_pem.as_bytes(), 0o600),
        (TLS_CSR, csr.as_bytes(), 0o644),
    ];
    let mut written = Vec::new();
    for (name, bytes, mode) in files {
        let path = dir.join(name);
        atomic::replace(&path, bytes, Perms::Exactly(mode))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(Created {
        record_pub_hex,
        files: written,
    })
}

/// Runs `kioskctl enroll`: exit 0 with the certificate and CA installed, 1 naming the problem (nothing installed).
pub(crate) fn enroll(opts: &EnrollArgs) -> anyhow::Result<ExitCode> {
    let checked = match check_enrollment(opts) {
        Ok(checked) => checked,
        Err(msg) => {
            let msg = format!("{msg}; nothing was installed");
            return Ok(problem(opts.json, "enroll", &msg));
        }
    };
    let ca_path = opts.dir.join(CA_CHAIN);
    let cert_path = opts.dir.join(TLS_CERT);
    for (path, bytes) in [(&ca_path, &checked.ca_pem), (&cert_path, &checked.cert_pem)] {
        if let Err(e) = atomic::replace(path, bytes, Perms::Exactly(0o644)) {
            let msg = format!("installing {}: {e}", path.display());
            return Ok(problem(opts.json, "enroll", &msg));
        }
    }
    if opts.json {
        let json = serde_json::json!({
            "unit_id": checked.unit_id,
            "subject": checked.subject,
            "issuer": checked.issuer,
            "not_after": checked.not_after,
            "installed": {
                "cert": cert_path.display().to_string(),
                "ca": ca_path.display().to_string(),
            },
        });
        println!("{json}");
    } else {
        println!(
            "certificate for unit {} installed: {}",
            checked.unit_id,
            cert_path.display()
        );
        println!(
            "  issued by {}, valid until {}",
            checked.issuer, checked.not_after
        );
        println!("CA chain installed: {}", ca_path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// A certificate and CA chain that passed every check.
struct Checked {
    /// The unit id (CN of `unit.csr` and of the certificate).
    unit_id: String,
    /// The certificate's subject.
    subject: String,
    /// The issuing CA's subject.
    issuer: String,
    /// End of validity.
    not_after: String,
    /// The certificate file as given.
    cert_pem: Vec<u8>,
    /// The CA file as given.
    ca_pem: Vec<u8>,
}

/// Every check of `enroll`, before anything is written.
fn check_enrollment(opts: &EnrollArgs) -> Result<Checked, String> {
    let dir = &opts.dir;
    let key_path = dir.join(TLS_KEY);
    let key_pem = Zeroizing::new(fs::read_to_string(&key_path).map_err(|e| {
        format!(
            "{}: cannot read the unit's TLS key ({e}); run `kioskctl init` first",
            key_path.display()
        )
    })?);
    let key = KeyPair::from_pem(&key_pem)
        .map_err(|e| format!("{}: not a usable private key: {e}", key_path.display()))?;
    let key_spki =
        SubjectPublicKeyInfoOwned::from_der(&rcgen::PublicKeyData::subject_public_key_info(&key))
            .map_err(|e| format!("{}: public key does not encode: {e}", key_path.display()))?;

    let csr_path = dir.join(TLS_CSR);
    let csr_text = fs::read(&csr_path)
        .map_err(|e| format!("{}: cannot read the CSR: {e}", csr_path.display()))?;
    let csr = CertReq::from_pem(&csr_text)
        .map_err(|e| format!("{}: not a PEM certificate request: {e}", csr_path.display()))?;
    if csr.info.public_key != key_spki {
        return Err(format!(
            "{} is not the request for {} (different public keys)",
            csr_path.display(),
            key_path.display()
        ));
    }
    let unit_id = common_name(&csr.info.subject)
        .ok_or_else(|| format!("{}: the request names no unit (no CN)", csr_path.display()))?;

    let cert_pem = read_input(&opts.cert, "certificate")?;
    let chain = parse_pem_certs(&opts.cert, &cert_pem)?;
    let Some(cert) = chain.first() else {
        return Err(format!("{}: holds no certificate", opts.cert.display()));
    };
    let tbs = cert.tbs_certificate();
    if *tbs.subject_public_key_info() != key_spki {
        return Err(format!(
            "{}: the certificate is for another key (its public key is not that of {})",
            opts.cert.display(),
            key_path.display()
        ));
    }
    let cert_cn = common_name(tbs.subject()).unwrap_or_default();
    if cert_cn != unit_id {
        return Err(format!(
            "{}: the certificate is issued to {cert_cn:?}, this unit is {unit_id:?}",
            opts.cert.display()
        ));
    }
    check_validity(cert, SystemTime::now()).map_err(|e| format!("{}: {e}", opts.cert.display()))?;
    match tbs.get_extension::<ExtendedKeyUsage>() {
        Ok(Some((_, eku))) if !eku.0.contains(&rfc5280::ID_KP_CLIENT_AUTH) => {
            return Err(format!(
                "{}: the certificate's extended key usage does not allow TLS client authentication",
                opts.cert.display()
            ));
        }
        Err(e) => {
            return Err(format!(
                "{}: malformed extended key usage: {e}",
                opts.cert.display()
            ));
        }
        Ok(_) => {}
    }

    let ca_pem = read_input(&opts.ca, "CA chain")?;
    let cas = parse_pem_certs(&opts.ca, &ca_pem)?;
    if cas.is_empty() {
        return Err(format!("{}: holds no certificate", opts.ca.display()));
    }
    let named: Vec<&Certificate> = cas
        .iter()
        .filter(|ca| ca.tbs_certificate().subject() == tbs.issuer())
        .collect();
    if named.is_empty() {
        let held: Vec<String> = cas
            .iter()
            .map(|ca| ca.tbs_certificate().subject().to_string())
            .collect();
        return Err(format!(
            "the certificate was not issued by the CA in {}: its issuer is {}, the file holds {}",
            opts.ca.display(),
            tbs.issuer(),
            held.join("; ")
        ));
    }
    let mut failures = Vec::new();
    let mut issuer = None;
    for ca in named {
        match verify_issued_by(cert, ca) {
            Ok(()) => {
                issuer = Some(ca);
                break;
            }
            Err(e) => failures.push(format!("{}: {e}", ca.tbs_certificate().subject())),
        }
    }
    let Some(issuer) = issuer else {
        return Err(format!(
            "the certificate's signature does not verify with the CA in {} ({})",
            opts.ca.display(),
            failures.join("; ")
        ));
    };
    check_validity(issuer, SystemTime::now())
        .map_err(|e| format!("{}: the issuing CA certificate {e}", opts.ca.display()))?;
    Ok(Checked {
        unit_id,
        subject: tbs.subject().to_string(),
        issuer: issuer.tbs_certificate().subject().to_string(),
        not_after: tbs.validity().not_after.to_string(),
        cert_pem,
        ca_pem,
    })
}

/// Reads a file named on the command line.
fn read_input(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{}: cannot read the {what}: {e}", path.display()))
}

/// Every certificate of a PEM file; an error naming what is wrong.
fn parse_pem_certs(path: &Path, bytes: &[u8]) -> Result<Vec<Certificate>, String> {
    let begin = format!("-----BEGIN {}-----", Certificate::PEM_LABEL);
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    if !text.contains(&begin) {
        return Err(format!(
            "{}: not a PEM certificate (no \"{begin}\" line)",
            path.display()
        ));
    }
    Certificate::load_pem_chain(bytes)
        .map_err(|e| format!("{}: not a valid X.509 certificate: {e}", path.display()))
}

/// The first CN of `name`, if any.
fn common_name(name: &x509_cert::name::Name) -> Option<String> {
    name.common_name()
        .ok()
        .flatten()
        .map(|cn| cn.value().into_owned())
}

/// Whether `cert` is valid at `now` (both ends inclusive, RFC 5280 §4.1.2.5).
fn check_validity(cert: &Certificate, now: SystemTime) -> Result<(), String> {
    let v = cert.tbs_certificate().validity();
    if now < v.not_before.to_system_time() {
        return Err(format!("is not valid before {}", v.not_before));
    }
    if now > v.not_after.to_system_time() {
        return Err(format!("expired on {}", v.not_after));
    }
    Ok(())
}

/// Verifies that `ca` signed `cert`: ECDSA with SHA-256 or SHA-384 by a P-256 or P-384 key.
fn verify_issued_by(cert: &Certificate, ca: &Certificate) -> Result<(), String> {
    match ca.tbs_certificate().get_extension::<BasicConstraints>() {
        Ok(Some((_, bc))) if !bc.ca => {
            return Err("not a CA certificate (basic constraints cA is false)".into());
        }
        Err(e) => return Err(format!("malformed basic constraints: {e}")),
        Ok(_) => {}
    }
    let tbs = cert
        .tbs_certificate()
        .to_der()
        .map_err(|e| format!("the certificate does not encode: {e}"))?;
    let alg = cert.signature_algorithm().oid;
    let hash = if alg == rfc5912::ECDSA_WITH_SHA_256 {
        Sha256::digest(&tbs).to_vec()
    } else if alg == rfc5912::ECDSA_WITH_SHA_384 {
        Sha384::digest(&tbs).to_vec()
    } else {
        return Err(format!(
            "signature algorithm {alg} is not supported (ECDSA with SHA-256 or SHA-384)"
        ));
    };
    let signature = cert
        .signature()
        .as_bytes()
        .ok_or("the signature BIT STRING has unused bits")?;
    let spki = ca.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != rfc5912::ID_EC_PUBLIC_KEY {
        return Err(format!(
            "the CA key is of type {}, not an EC key",
            spki.algorithm.oid
        ));
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
        .ok_or("the CA's EC key names no curve")?;
    let point = spki
        .subject_public_key
        .as_bytes()
        .ok_or("the CA's public key BIT STRING has unused bits")?;
    /// Verifies on one curve.
    macro_rules! on_curve {
        ($c:ty) => {{
            let key = ecdsa::VerifyingKey::<$c>::from_sec1_bytes(point)
                .map_err(|_| "the CA's public key is not a valid point".to_owned())?;
            let sig = ecdsa::der::Signature::<$c>::from_bytes(signature)
                .and_then(ecdsa::Signature::<$c>::try_from)
                .map_err(|_| "malformed ECDSA signature".to_owned())?;
            key.verify_prehash(&hash, &sig)
                .map_err(|_| "the signature does not verify".to_owned())
        }};
    }
    if curve == rfc5912::SECP_256_R_1 {
        on_curve!(p256::NistP256)
    } else if curve == rfc5912::SECP_384_R_1 {
        on_curve!(p384::NistP384)
    } else {
        Err(format!(
            "the CA's curve {curve} is not supported (P-256 or P-384)"
        ))
    }
}
