//! A [`TestPki`] saved to a directory and loaded back, so that two
//! processes share one PKI: a test imports the CSCA into a unit's trust
//! store, and `asean-lane demo --pki DIR` signs its chips' EF.SOD with the
//! same Document Signer.
//!
//! ```text
//! <dir>/pki.txt                      country, key kind and hash, one "name value" a line
//! <dir>/csca.der  ds.der  ml-signer.der   the certificates, DER
//! <dir>/csca.key  ds.key  ml.key          the private EC scalars, hex (mode 0600)
//! ```
//!
//! Only EC PKIs (P-256, brainpoolP256r1) are saved: RSA keys are the
//! process's cache and are never written. Test material only.

use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use der::Decode;
use x509_cert::Certificate;

use crate::key::der_of;
use crate::{Hash, Key, KeyKind, PkiOptions, TestPki};

/// The key kinds and their names in `pki.txt`.
const KINDS: [(KeyKind, &str); 2] = [
    (KeyKind::P256, "p256"),
    (KeyKind::BrainpoolP256, "brainpool-p256"),
];

/// The hashes and their names in `pki.txt`.
const HASHES: [(Hash, &str); 5] = [
    (Hash::Sha1, "sha1"),
    (Hash::Sha224, "sha224"),
    (Hash::Sha256, "sha256"),
    (Hash::Sha384, "sha384"),
    (Hash::Sha512, "sha512"),
];

/// An `InvalidData` error saying `what`.
fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl TestPki {
    /// Writes this PKI into `dir` (created if missing; files replaced).
    ///
    /// # Errors
    /// `InvalidInput` for an RSA PKI (its keys are never written), or the
    /// I/O error of the file that could not be written.
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        let secrets = [
            ("csca.key", &self.csca_key),
            ("ds.key", &self.ds_key),
            ("ml.key", &self.ml_key),
        ]
        .map(|(name, key)| (name, key.ec_secret()));
        let kind = KINDS
            .iter()
            .find(|(k, _)| *k == self.options.key)
            .map(|(_, name)| *name)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "only EC test PKIs are saved (RSA keys stay in the process)",
                )
            })?;
        let hash = HASHES
            .iter()
            .find(|(h, _)| *h == self.options.hash)
            .map_or("sha256", |(_, name)| *name);
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("pki.txt"),
            format!(
                "country {}\nkey {kind}\nhash {hash}\n",
                self.options.country
            ),
        )?;
        for (name, cert) in [
            ("csca.der", &self.csca),
            ("ds.der", &self.ds),
            ("ml-signer.der", &self.ml_signer),
        ] {
            std::fs::write(dir.join(name), der_of(cert))?;
        }
        for (name, secret) in secrets {
            let Some((_, bytes)) = secret else {
                return Err(invalid(format!("{name}: not an EC key")));
            };
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let path = dir.join(name);
            let _ = std::fs::remove_file(&path);
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)?
                .write_all(hex.as_bytes())?;
        }
        Ok(())
    }

    /// Loads a PKI that [`TestPki::save`] wrote into `dir`.
    ///
    /// The options other than country, key kind and hash are the defaults
    /// (they only shaped the certificates, which are loaded as saved).
    ///
    /// # Errors
    /// The I/O error of a missing file, or `InvalidData` naming the file
    /// that does not hold what `save` writes.
    pub fn load(dir: &Path) -> io::Result<TestPki> {
        let text = std::fs::read_to_string(dir.join("pki.txt"))?;
        let mut options = PkiOptions::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (name, value) = line
                .split_once(' ')
                .ok_or_else(|| invalid(format!("pki.txt: {line:?} is not \"name value\"")))?;
            match name {
                "country" => options.country = value.to_owned(),
                "key" => {
                    options.key = KINDS
                        .iter()
                        .find(|(_, n)| *n == value)
                        .map(|(k, _)| *k)
                        .ok_or_else(|| invalid(format!("pki.txt: unknown key kind {value:?}")))?;
                }
                "hash" => {
                    options.hash = HASHES
                        .iter()
                        .find(|(_, n)| *n == value)
                        .map(|(h, _)| *h)
                        .ok_or_else(|| invalid(format!("pki.txt: unknown hash {value:?}")))?;
                }
                other => return Err(invalid(format!("pki.txt: unknown name {other:?}"))),
            }
        }
        let cert = |name: &str| -> io::Result<Certificate> {
            Certificate::from_der(&std::fs::read(dir.join(name))?)
                .map_err(|e| invalid(format!("{name}: {e}")))
        };
        let key = |name: &str| -> io::Result<Key> {
            let text = std::fs::read_to_string(dir.join(name))?;
            let text = text.trim();
            let bytes: Option<Vec<u8>> = (0..text.len() / 2)
                .map(|i| {
                    text.get(2 * i..2 * i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect();
            bytes
                .filter(|b| b.len() * 2 == text.len())
                .and_then(|b| Key::from_ec_secret(options.key, &b))
                .ok_or_else(|| invalid(format!("{name}: not a hex EC private key")))
        };
        Ok(TestPki {
            csca_key: key("csca.key")?,
            csca: cert("csca.der")?,
            ds_key: key("ds.key")?,
            ds: cert("ds.der")?,
            ml_key: key("ml.key")?,
            ml_signer: cert("ml-signer.der")?,
            options,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A fresh directory under the system's temp dir.
    fn temp(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "test-pki-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_saved_pki_loads_back_with_the_same_keys_and_certificates() {
        let dir = temp("roundtrip");
        let pki = TestPki::new(PkiOptions {
            country: "TH".into(),
            hash: Hash::Sha384,
            ..PkiOptions::default()
        });
        pki.save(&dir).unwrap();
        let back = TestPki::load(&dir).unwrap();
        assert_eq!(back.csca_der(), pki.csca_der());
        assert_eq!(back.ds_der(), pki.ds_der());
        assert_eq!(back.options.country, "TH");
        assert_eq!(back.options.hash, Hash::Sha384);
        // ECDSA here is deterministic (RFC 6979): the same key signs alike.
        for (a, b) in [
            (&pki.csca_key, &back.csca_key),
            (&pki.ds_key, &back.ds_key),
            (&pki.ml_key, &back.ml_key),
        ] {
            assert_eq!(a.sign(Hash::Sha256, b"m"), b.sign(Hash::Sha256, b"m"));
        }
        std::fs::write(dir.join("ds.key"), "zz").unwrap();
        let err = TestPki::load(&dir).unwrap_err();
        assert!(err.to_string().contains("ds.key"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
