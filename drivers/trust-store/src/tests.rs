//! The trust store in temporary directories, filled from a fresh test PKI.

use std::sync::OnceLock;

use icao9303::lds::DataGroup;
use test_pki::{KeyKind, PkiOptions, SodOptions, TestPki, check_time, days};

use super::*;

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    /// A fresh, empty, uniquely named directory path (not created).
    fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "trust-store-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Two P-256 PKIs of the test country, shared by the tests.
fn pkis() -> &'static (TestPki, TestPki) {
    static P: OnceLock<(TestPki, TestPki)> = OnceLock::new();
    P.get_or_init(|| {
        (
            TestPki::new(PkiOptions::default()),
            TestPki::new(PkiOptions::default()),
        )
    })
}

/// An opened store in a fresh temp dir.
fn store(tag: &str) -> (TempDir, TrustDir) {
    let tmp = TempDir::new(tag);
    let dir = TrustDir::open(&tmp.0).expect("store opens");
    (tmp, dir)
}

/// The files in a folder of the store.
fn files(dir: &TrustDir, kind: Kind) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir.path().join(kind.folder()))
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

#[test]
fn open_creates_the_folders_and_refuses_a_file() {
    let tmp = TempDir::new("open");
    let dir = TrustDir::open(tmp.0.join("a/b")).expect("nested path created");
    for kind in Kind::LOAD_ORDER {
        assert!(dir.path().join(kind.folder()).is_dir());
    }
    let file = tmp.0.join("plain-file");
    fs::write(&file, b"x").expect("write");
    assert!(matches!(TrustDir::open(&file), Err(Error::Io { .. })));
}

#[test]
fn imports_each_kind_verbatim() {
    let (pki, other) = pkis();
    let (_tmp, dir) = store("kinds");

    let der = pki.csca_der();
    let csca = dir.import("csca.der", &der).expect("DER CSCA");
    assert_eq!(csca.kind, Kind::Csca);
    assert!(!csca.already_present);
    assert_eq!(csca.cscas.len(), 1);
    assert_eq!(csca.cscas[0].country.as_deref(), Some("UT"));
    assert_eq!(fs::read(&csca.file).expect("stored"), der);
    assert_eq!(
        csca.file.file_name().and_then(|n| n.to_str()),
        Some(format!("{}.der", hex::encode(sha256(&der))).as_str())
    );

    let pem = other.csca_pem();
    let from_pem = dir.import("other.pem", pem.as_bytes()).expect("PEM CSCA");
    assert_eq!(from_pem.kind, Kind::Csca);
    assert!(from_pem.file.extension().is_some_and(|e| e == "pem"));
    assert_eq!(fs::read(&from_pem.file).expect("stored"), pem.as_bytes());

    let crl = pki.crl(false, Some(days(test_pki::Y2034)));
    let imported = dir.import("utopia.crl", &crl).expect("CRL");
    assert_eq!(imported.kind, Kind::Crl);
    let info = imported.crl.expect("CRL info");
    assert_eq!(info.revoked, 0);
    assert_eq!(info.verified_by, vec![csca.cscas[0].sha256]);

    let ml = pki.master_list(&[other]);
    let imported = dir.import("icao.ml", &ml).expect("master list");
    assert_eq!(imported.kind, Kind::MasterList);
    assert_eq!(imported.cscas.len(), 2);
    let entry = imported.master_list.expect("master list entry");
    assert!(entry.signature_verified);
    assert!(entry.signer_trusted, "its signer's CSCA was imported");
    assert_eq!(entry.file, imported.file);

    assert_eq!(files(&dir, Kind::Csca).len(), 2);
    assert_eq!(files(&dir, Kind::Crl).len(), 1);
    assert_eq!(files(&dir, Kind::MasterList).len(), 1);
}

#[test]
fn the_same_bytes_are_stored_once() {
    let (pki, _) = pkis();
    let (_tmp, dir) = store("dup");
    let first = dir.import("a.der", &pki.csca_der()).expect("first");
    let second = dir.import("b.der", &pki.csca_der()).expect("second");
    assert!(!first.already_present);
    assert!(second.already_present);
    assert_eq!(first.file, second.file);
    assert_eq!(files(&dir, Kind::Csca).len(), 1);
    let ml = pki.master_list(&[]);
    dir.import("ml", &ml).expect("master list");
    assert!(dir.import("ml again", &ml).expect("again").already_present);
    assert_eq!(files(&dir, Kind::MasterList).len(), 1);
}

#[test]
fn garbage_and_non_csca_certificates_are_refused() {
    let (pki, _) = pkis();
    let (_tmp, dir) = store("refuse");
    match dir.import("ds.der", &pki.ds_der()) {
        Err(e @ Error::NotCsca { .. }) => {
            let message = e.to_string();
            assert!(message.contains("ds.der"), "{message}");
            assert!(message.contains("Document Signer"), "{message}");
        }
        other => panic!("a DS certificate was not refused as a CSCA: {other:?}"),
    }
    match dir.import("notes.txt", b"hello, not a certificate") {
        Err(e @ Error::NotRecognised { .. }) => assert!(e.to_string().starts_with("notes.txt: ")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        dir.import("empty", b""),
        Err(Error::NotRecognised { .. })
    ));
    let bad_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        dir.import("bad.pem", bad_pem.as_bytes()),
        Err(Error::Invalid {
            kind: Kind::Csca,
            ..
        })
    ));
    // A PEM bundle with one DS among CSCAs is refused whole.
    let ds_pem = der::EncodePem::to_pem(&pki.ds, der::pem::LineEnding::LF).expect("PEM");
    let bundle = format!("{}{ds_pem}", pki.csca_pem());
    assert!(matches!(
        dir.import("bundle.pem", bundle.as_bytes()),
        Err(Error::NotCsca { .. })
    ));
    // A truncated master list.
    let ml = pki.master_list(&[]);
    assert!(dir.import("cut.ml", &ml[..ml.len() / 2]).is_err());
    for kind in Kind::LOAD_ORDER {
        assert!(files(&dir, kind).is_empty(), "nothing written");
    }
}

#[test]
fn load_gives_a_store_that_verifies_a_document() {
    let (pki, _) = pkis();
    let (_tmp, dir) = store("load");
    // CRL first: load still checks it against the CSCA loaded before it.
    dir.import("crl", &pki.crl(false, Some(days(test_pki::Y2034))))
        .expect("CRL");
    dir.import("csca", pki.csca_pem().as_bytes()).expect("CSCA");
    let (trust, warnings) = dir.load().expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(trust.cscas().count(), 1);
    let crl = trust.crls().next().expect("CRL loaded");
    assert_eq!(crl.verified_by.len(), 1);

    let dg1 = vec![0x61, 0x03, 0x5F, 0x1F, 0x00];
    let sod = pki.sod(&[(1, dg1.clone())], &SodOptions::default());
    let report = icao9303::pa::verify(&sod, &[(DataGroup::Dg1, &dg1)], &trust, "UTO", check_time());
    assert!(
        report.genuine(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
}

#[test]
fn corrupt_and_stray_files_are_warnings_naming_them() {
    let (pki, other) = pkis();
    let (_tmp, dir) = store("corrupt");
    let good = dir.import("csca", &pki.csca_der()).expect("CSCA");
    let other_csca = dir.import("other", &other.csca_der()).expect("CSCA");

    // Bit rot in a stored file: its bytes no longer match its name.
    let mut rotten = fs::read(&other_csca.file).expect("read");
    rotten[40] ^= 0xFF;
    fs::write(&other_csca.file, &rotten).expect("write");
    // A file named after its content, but garbage.
    let garbage = b"not DER at all".to_vec();
    let garbage_file = dir
        .path()
        .join("csca")
        .join(format!("{}.der", hex::encode(sha256(&garbage))));
    fs::write(&garbage_file, &garbage).expect("write");
    // A CRL put in the CSCA folder by hand.
    let crl = pki.crl(false, None);
    let misplaced = dir
        .path()
        .join("csca")
        .join(format!("{}.der", hex::encode(sha256(&crl))));
    fs::write(&misplaced, &crl).expect("write");
    // A temporary file left by an interrupted import, and a stray folder.
    let leftover = dir.path().join("crl").join(".x.der.1.0.tmp");
    fs::write(&leftover, b"partial").expect("write");
    let folder = dir.path().join("masterlist").join("sub");
    fs::create_dir(&folder).expect("mkdir");

    let (trust, warnings) = dir.load().expect("loads the rest");
    assert_eq!(trust.cscas().count(), 1, "the intact CSCA is loaded");
    assert_eq!(
        trust.cscas().next().map(|c| c.sha256),
        Some(good.cscas[0].sha256)
    );
    let warned: Vec<&PathBuf> = warnings.iter().map(|w| &w.file).collect();
    for file in [
        &other_csca.file,
        &garbage_file,
        &misplaced,
        &leftover,
        &folder,
    ] {
        assert!(
            warned.contains(&file),
            "no warning for {}: {warnings:?}",
            file.display()
        );
    }
    assert_eq!(warnings.len(), 5, "{warnings:?}");
    let rot = warnings
        .iter()
        .find(|w| w.file == other_csca.file)
        .expect("warning");
    assert!(rot.problem.contains("SHA-256"), "{rot}");
    assert!(
        rot.to_string()
            .contains(&other_csca.file.display().to_string())
    );

    let listing = dir.list().expect("lists");
    assert_eq!(listing.cscas.len(), 1);
    assert_eq!(listing.warnings.len(), 5);
}

#[test]
fn remove_by_fingerprint_or_file_name() {
    let (pki, other) = pkis();
    let (_tmp, dir) = store("remove");
    let a = dir.import("a", &pki.csca_der()).expect("CSCA");
    let b = dir.import("b", other.csca_pem().as_bytes()).expect("CSCA");
    let crl = dir.import("crl", &pki.crl(true, None)).expect("CRL");
    let ml = dir.import("ml", &pki.master_list(&[other])).expect("ML");

    assert!(matches!(dir.remove("abc"), Err(Error::BadPrefix(_))));
    assert!(matches!(dir.remove("not-hex!!"), Err(Error::BadPrefix(_))));
    assert_eq!(dir.remove("0000000000000000000000").expect("no match"), 0);

    // By the certificate fingerprint a listing shows (PEM file: not its file name).
    let fingerprint = b.cscas[0].fingerprint_hex();
    assert_eq!(
        dir.remove(&fingerprint[..12].to_uppercase())
            .expect("removed"),
        1
    );
    assert!(!b.file.exists());
    // By file name.
    let name = a.file.file_stem().and_then(|s| s.to_str()).expect("name");
    assert_eq!(dir.remove(&name[..10]).expect("removed"), 1);
    assert!(!a.file.exists());
    // A CRL by its fingerprint, a master list by its file name.
    let crl_fp = hex::encode(crl.crl.expect("info").sha256);
    assert_eq!(dir.remove(&crl_fp[..8]).expect("removed"), 1);
    let ml_name = ml.file.file_stem().and_then(|s| s.to_str()).expect("name");
    assert_eq!(dir.remove(ml_name).expect("removed"), 1);
    let listing = dir.list().expect("lists");
    assert!(listing.cscas.is_empty() && listing.crls.is_empty() && listing.master_lists.is_empty());
}

#[test]
fn list_reports_every_entry() {
    let (pki, other) = pkis();
    let (_tmp, dir) = store("list");
    let untrusted_ml = other.master_list(&[pki]);
    dir.import("other.ml", &untrusted_ml).expect("ML");
    let csca = dir.import("csca", &pki.csca_der()).expect("CSCA");
    dir.import("crl", &pki.crl(true, Some(days(test_pki::Y2034))))
        .expect("CRL");
    dir.import("ml", &pki.master_list(&[])).expect("ML");

    let listing = dir.list().expect("lists");
    assert!(listing.warnings.is_empty(), "{:?}", listing.warnings);
    // The CSCA file, plus 2 + 1 certificates in the lists.
    assert_eq!(listing.cscas.len(), 4);
    let own = listing
        .cscas
        .iter()
        .find(|c| c.file == csca.file)
        .expect("the CSCA file");
    assert_eq!(own.info.country.as_deref(), Some("UT"));
    assert!(own.info.subject.contains("CSCA UT"));
    assert!(own.info.not_before < own.info.not_after);

    let [crl] = listing.crls.as_slice() else {
        panic!("{:?}", listing.crls);
    };
    assert_eq!(crl.info.revoked, 1);
    assert!(crl.info.next_update.is_some());
    assert!(crl.info.verified_by.contains(&csca.cscas[0].sha256));

    assert_eq!(listing.master_lists.len(), 2);
    for ml in &listing.master_lists {
        assert!(ml.signature_verified, "{:?}", ml.signature_problem);
        assert!(ml.signer.is_some());
        let issued_by_imported_csca = ml.certificates == 1;
        // Only the list whose signer the imported CSCA issued chains.
        assert_eq!(ml.signer_trusted, issued_by_imported_csca, "{ml:?}");
    }
}

#[test]
fn rsa_and_brainpool_cscas_import() {
    let (_tmp, dir) = store("kinds-rsa");
    for key in [KeyKind::Rsa, KeyKind::BrainpoolP256] {
        let pki = TestPki::new(PkiOptions::with_key(key));
        dir.import("csca", &pki.csca_der()).expect("CSCA");
        dir.import("crl", &pki.crl(false, None)).expect("CRL");
    }
    let (trust, warnings) = dir.load().expect("loads");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(trust.cscas().count(), 2);
    assert!(trust.crls().all(|c| c.verified_by.len() == 1));
}
