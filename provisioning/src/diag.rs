//! `kioskctl diag bundle`: what a support engineer needs about a unit, and never a traveller's personal data.
//!
//! The bundle holds `versions.json` (kioskctl, `git describe` at build, the
//! OS), `config.json` (the effective configuration as `config show --json`
//! prints it: key paths only, a password in the endpoint as `***`; or
//! `config-error.txt`), `logs.txt` (`journalctl -u asean-lane -n 2000`, or
//! why there are none), `devices.json` (PC/SC readers, serial devices),
//! `store.json` (counts and ages only) and `trust.json` (counts and
//! fingerprints). It is written as a `.tar`, a `.tar.gz`/`.tgz`, or
//! otherwise a directory.
//!
//! Every file passes through [`scrub`] before it is written: MRZ-like runs,
//! document-number-like tokens, and every name, document number and birth
//! date the unit's own store still holds are replaced by `[removed]`.

use std::collections::HashSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Args as ClapArgs, Subcommand};
use kiosk_app::config::Config;
use serde_json::{Value as Json, json};

use crate::config::DEFAULT_CONFIG;

/// How many journal lines the bundle takes.
const LOG_LINES: &str = "2000";

/// Longest wait for `journalctl`.
const JOURNAL_TIMEOUT: Duration = Duration::from_secs(20);

/// At most this many distinct personal values are read from the store to scrub them.
const MAX_SCRUB_VALUES: i64 = 500_000;

/// What replaces personal data in the bundle.
const REMOVED: &str = "[removed]";

/// `kioskctl diag ...`
#[derive(Debug, Subcommand)]
pub(crate) enum DiagAction {
    /// Write a diagnostic bundle for support: versions, configuration without secrets, recent logs, devices, store and trust-store statistics.
    ///
    /// Never personal data: no record contents are read into it, and every
    /// file is scrubbed of MRZ lines, document-number-like tokens and every
    /// name, document number and birth date the unit's store holds. --out
    /// ending in .tar writes a tar file, .tar.gz or .tgz a compressed one,
    /// anything else a directory (created; it must be new or empty).
    Bundle(BundleArgs),
}

/// Options of `kioskctl diag bundle`.
#[derive(Debug, ClapArgs)]
pub(crate) struct BundleArgs {
    /// Where to write: FILE.tar, FILE.tar.gz, FILE.tgz, or a directory.
    #[arg(long, value_name = "PATH")]
    pub(crate) out: PathBuf,
    /// The lane's configuration file.
    #[arg(long, default_value = DEFAULT_CONFIG)]
    pub(crate) config: PathBuf,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub(crate) json: bool,
}

/// How the bundle is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// A plain tar file.
    Tar,
    /// A gzip-compressed tar file.
    TarGz,
    /// A directory of files.
    Directory,
}

/// The format `out`'s name asks for.
fn format_of(out: &Path) -> Format {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Format::TarGz
    } else if name.ends_with(".tar") {
        Format::Tar
    } else {
        Format::Directory
    }
}

/// Runs `kioskctl diag bundle`: exit 0 when the bundle was written, 1 when it could not be.
pub(crate) fn bundle(opts: &BundleArgs) -> anyhow::Result<ExitCode> {
    let format = format_of(&opts.out);
    if format == Format::Directory
        && opts.out.is_dir()
        && std::fs::read_dir(&opts.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        anyhow::bail!("{}: the directory is not empty", opts.out.display());
    }
    if format != Format::Directory && opts.out.exists() {
        anyhow::bail!("{}: already exists", opts.out.display());
    }
    let config = Config::load(&opts.config);
    let store_path = config.as_ref().ok().map(|c| c.store.clone());
    let scrubber = Scrubber::from_store(store_path.as_deref());

    let mut files: Vec<(&'static str, String)> = vec![("versions.json", pretty(&versions()))];
    match &config {
        Ok(c) => files.push(("config.json", pretty(&crate::config::effective(c)))),
        Err(e) => files.push((
            "config-error.txt",
            format!("{}: {e}\n", opts.config.display()),
        )),
    }
    files.push(("logs.txt", logs()));
    files.push(("devices.json", pretty(&devices(config.as_ref().ok()))));
    files.push(("store.json", pretty(&store_stats(store_path.as_deref()))));
    let trust_dir = config.as_ref().map_or_else(
        |_| PathBuf::from(crate::cli::DEFAULT_TRUST_STORE),
        |c| c.trust_store.clone(),
    );
    files.push(("trust.json", pretty(&trust_summary(&trust_dir))));

    let files: Vec<(&'static str, String)> = files
        .into_iter()
        .map(|(name, text)| (name, scrubber.scrub(&text)))
        .collect();
    let written = write_bundle(&opts.out, format, &files);
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    match written {
        Ok(()) => {
            if opts.json {
                println!(
                    "{}",
                    json!({ "out": opts.out.display().to_string(), "files": names })
                );
            } else {
                println!("{}: {}", opts.out.display(), names.join(", "));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let message = format!("writing {}: {}", opts.out.display(), crate::error_chain(&e));
            if opts.json {
                println!("{}", json!({ "error": message }));
            } else {
                eprintln!("kioskctl: {message}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// JSON as indented text with a final newline.
fn pretty(value: &Json) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

/// Writes the files as `format` at `out`, each readable by its owner only.
fn write_bundle(out: &Path, format: Format, files: &[(&str, String)]) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let create = |path: &Path| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))
    };
    match format {
        Format::Directory => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(out)
                .with_context(|| format!("creating {}", out.display()))?;
            for (name, text) in files {
                let path = out.join(name);
                let mut file = create(&path)?;
                std::io::Write::write_all(&mut file, text.as_bytes())?;
                file.sync_all()?;
            }
        }
        Format::Tar | Format::TarGz => {
            let file = create(out)?;
            if format == Format::TarGz {
                let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
                let gz = append_all(tar::Builder::new(gz), files)?;
                gz.finish()?.sync_all()?;
            } else {
                append_all(tar::Builder::new(file), files)?.sync_all()?;
            }
        }
    }
    Ok(())
}

/// Adds every file under `diag/` and finishes the archive; the inner writer back.
fn append_all<W: std::io::Write>(
    mut builder: tar::Builder<W>,
    files: &[(&str, String)],
) -> anyhow::Result<W> {
    let mtime = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for (name, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(mtime);
        header.set_cksum();
        builder.append_data(&mut header, format!("diag/{name}"), text.as_bytes())?;
    }
    Ok(builder.into_inner()?)
}

/// kioskctl's version, `git describe` at build, the OS and kernel.
fn versions() -> Json {
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let pretty_name = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned());
    let read = |p: &str| std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned());
    let describe = env!("KIOSKCTL_GIT_DESCRIBE");
    json!({
        "kioskctl": env!("CARGO_PKG_VERSION"),
        "git_describe": if describe.is_empty() { None } else { Some(describe) },
        "built_unix": env!("KIOSKCTL_BUILD_UNIX").parse::<u64>().ok(),
        "os": pretty_name,
        "kernel": read("/proc/sys/kernel/osrelease"),
        "arch": std::env::consts::ARCH,
        "hostname": read("/proc/sys/kernel/hostname"),
        "generated_unix": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
    })
}

/// The lane's recent journal, or a line saying why there is none.
fn logs() -> String {
    let child = Command::new("journalctl")
        .args([
            "-u",
            "asean-lane",
            "-n",
            LOG_LINES,
            "--no-pager",
            "-o",
            "short-iso",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return format!("# no logs: journalctl could not be run: {e}\n"),
    };
    let mut pipes = (child.stdout.take(), child.stderr.take());
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut err = Vec::new();
        if let Some(p) = pipes.0.as_mut() {
            let _ = p.read_to_end(&mut out);
        }
        if let Some(p) = pipes.1.as_mut() {
            let _ = p.read_to_end(&mut err);
        }
        (out, err)
    });
    let deadline = Instant::now() + JOURNAL_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let (out, err) = reader.join().unwrap_or_default();
    let out = String::from_utf8_lossy(&out);
    match status {
        None => format!(
            "# no logs: journalctl gave no answer in {} s\n",
            JOURNAL_TIMEOUT.as_secs()
        ),
        Some(s) if !s.success() => format!(
            "# no logs: journalctl failed ({s}): {}\n{out}",
            String::from_utf8_lossy(&err).trim()
        ),
        Some(_) => format!("# journalctl -u asean-lane -n {LOG_LINES}\n{out}"),
    }
}

/// PC/SC readers, serial devices, and whether the configured devices exist.
fn devices(config: Option<&Config>) -> Json {
    let readers = match card_reader::Readers::establish().and_then(|r| r.list()) {
        Ok(names) => json!({ "readers": names }),
        Err(e) => json!({ "error": format!("pcscd: {}", e.message) }),
    };
    let mut serial: Vec<String> = std::fs::read_dir("/dev")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    ["ttyUSB", "ttyACM", "ttyS"]
                        .iter()
                        .any(|p| n.starts_with(p))
                })
                .map(|n| format!("/dev/{n}"))
                .collect()
        })
        .unwrap_or_default();
    serial.sort_by_key(|a| natural_key(a));
    let configured = config.map(|c| {
        let reader_listed = readers["readers"]
            .as_array()
            .map(|names| names.iter().any(|n| n.as_str() == Some(&c.devices.reader)));
        json!({
            "reader": c.devices.reader,
            "reader_listed": reader_listed,
            "scanner": c.devices.scanner,
            "scanner_exists": c.devices.scanner.exists(),
            "gate": c.devices.gate,
            "gate_exists": c.devices.gate.exists(),
        })
    });
    json!({ "pcsc": readers, "serial": serial, "configured": configured })
}

/// `/dev/ttyS10` after `/dev/ttyS9`.
fn natural_key(name: &str) -> (String, u64) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (stem, number) = name.split_at(name.len() - digits);
    (stem.to_owned(), number.parse().unwrap_or(0))
}

/// Counts and ages from the store (no record contents).
fn store_stats(store: Option<&Path>) -> Json {
    let Some(path) = store else {
        return json!({ "error": "no valid configuration: store unknown" });
    };
    if !path.exists() {
        return json!({ "path": path, "exists": false });
    }
    let size = std::fs::metadata(path).map(|m| m.len()).ok();
    let records = open_read_only(path).and_then(|conn| {
        conn.query_row("SELECT count(*) FROM passage", [], |row| {
            row.get::<_, i64>(0)
        })
        .map_err(|e| e.to_string())
    });
    let outbox = match kiosk_app::store::outbox_status(path) {
        Ok(s) => crate::store::status_json(&s, crate::store::now_unix_ms()),
        Err(e) => json!({ "error": e.to_string() }),
    };
    json!({
        "path": path,
        "exists": true,
        "size_bytes": size,
        "records": records.as_ref().ok(),
        "records_error": records.as_ref().err(),
        "outbox": outbox,
    })
}

/// The store opened read-only.
fn open_read_only(path: &Path) -> Result<rusqlite::Connection, String> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| e.to_string())?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

/// What the trust store holds: counts and fingerprints.
fn trust_summary(dir: &Path) -> Json {
    if !dir.is_dir() {
        return json!({ "path": dir, "exists": false });
    }
    let listing = trust_store::TrustDir::open(dir).and_then(|d| d.list());
    let listing = match listing {
        Ok(l) => l,
        Err(e) => return json!({ "path": dir, "error": e.to_string() }),
    };
    let mut by_country = std::collections::BTreeMap::<String, u64>::new();
    for c in &listing.cscas {
        *by_country
            .entry(c.info.country.clone().unwrap_or_else(|| "?".into()))
            .or_default() += 1;
    }
    json!({
        "path": dir,
        "csca_count": listing.cscas.len(),
        "csca_by_country": by_country,
        "cscas": listing.cscas.iter().map(|c| json!({
            "country": c.info.country,
            "sha256": hex::encode(c.info.sha256),
            "not_after": crate::trust::date(c.info.not_after),
        })).collect::<Vec<_>>(),
        "crl_count": listing.crls.len(),
        "master_list_count": listing.master_lists.len(),
        "warnings": listing.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// Removes personal data from text: MRZ-like runs, document-number-like tokens, and values the store holds.
#[derive(Debug, Default)]
pub(crate) struct Scrubber {
    /// Upper-cased name words, document numbers and birth dates from the store.
    known: HashSet<String>,
}

impl Scrubber {
    /// A scrubber that also knows every personal value still in `store` (none when it cannot be read).
    fn from_store(store: Option<&Path>) -> Self {
        let mut known = HashSet::new();
        let Some(conn) = store
            .filter(|p| p.exists())
            .and_then(|p| open_read_only(p).ok())
        else {
            return Self { known };
        };
        let sql = "SELECT DISTINCT v FROM (
                SELECT primary_identifier AS v FROM passage
                UNION SELECT secondary_identifier FROM passage
                UNION SELECT document_number FROM passage
                UNION SELECT birth_date FROM passage
            ) WHERE v <> '' LIMIT ?1";
        if let Ok(mut stmt) = conn.prepare(sql)
            && let Ok(rows) = stmt.query_map([MAX_SCRUB_VALUES], |row| row.get::<_, String>(0))
        {
            for value in rows.flatten() {
                for word in value.split(|c: char| !c.is_alphanumeric()) {
                    if word.chars().count() >= 2 {
                        known.insert(word.to_uppercase());
                    }
                }
            }
        }
        Self { known }
    }

    /// `text` with every MRZ-like run, document-number-like token and known personal value replaced by `[removed]`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        text.split_inclusive('\n')
            .map(|line| self.scrub_line(line))
            .collect()
    }

    /// One line scrubbed (see [`Scrubber::scrub`]).
    fn scrub_line(&self, line: &str) -> String {
        let line = replace_runs(
            line,
            |c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '<',
            is_mrz_like,
        );
        replace_runs(&line, char::is_alphanumeric, |token| {
            is_document_number_like(token) || self.is_known(token)
        })
    }

    /// Whether `token` is a personal value from the store.
    fn is_known(&self, token: &str) -> bool {
        let upper = token.to_uppercase();
        // Two-letter names only as written in the MRZ, so "in" or "on" stay.
        (upper.chars().count() > 2 || upper == token) && self.known.contains(&upper)
    }
}

/// `line` with every maximal run of `member` characters for which `bad` holds replaced by `[removed]`.
fn replace_runs(line: &str, member: impl Fn(char) -> bool, bad: impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(line.len());
    let mut start: Option<usize> = None;
    let flush = |out: &mut String, run: &str| {
        if bad(run) {
            out.push_str(REMOVED);
        } else {
            out.push_str(run);
        }
    };
    for (i, c) in line.char_indices() {
        if member(c) {
            start.get_or_insert(i);
        } else {
            if let Some(s) = start.take() {
                flush(&mut out, &line[s..i]);
            }
            out.push(c);
        }
    }
    if let Some(s) = start {
        flush(&mut out, &line[s..]);
    }
    out
}

/// A run of MRZ characters long enough to be (part of) an MRZ line: 20 or more with a filler `<`, or 28 or more.
pub(crate) fn is_mrz_like(run: &str) -> bool {
    let n = run.len();
    (n >= 20 && run.contains('<')) || n >= 28 || run.contains("<<")
}

/// A token shaped like a document number: 6 to 12 capitals and digits with both, or 8, 9 or 12 digits.
pub(crate) fn is_document_number_like(token: &str) -> bool {
    let n = token.len();
    if !token
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return false;
    }
    let digits = token.bytes().filter(u8::is_ascii_digit).count();
    let letters = n - digits;
    ((6..=12).contains(&n) && digits > 0 && letters > 0)
        || (letters == 0 && matches!(n, 8 | 9 | 12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrz_lines_and_document_numbers_are_removed() {
        let s = Scrubber::default();
        let out = s.scrub(
            "scan P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
             line L898902C36UTO7408122F1204159ZE184226B<<<<<10\n\
             doc L898902C3 and AA7654321 at seq 42 lane A07 unit KUL-T1-A07 at 1790000000000\n",
        );
        assert!(!out.contains("ERIKSSON"), "{out}");
        assert!(!out.contains("L898902C3"), "{out}");
        assert!(!out.contains("AA7654321"), "{out}");
        assert!(
            out.contains("seq 42 lane A07 unit KUL-T1-A07 at 1790000000000"),
            "{out}"
        );
    }

    #[test]
    fn known_values_are_removed_in_any_case() {
        let s = Scrubber {
            known: ["ERIKSSON", "LI"].into_iter().map(String::from).collect(),
        };
        let out = s.scrub("traveller Eriksson, LI; left in time\n");
        assert_eq!(out, "traveller [removed], [removed]; left in time\n");
    }

    #[test]
    fn bundle_formats_follow_the_name() {
        assert_eq!(format_of(Path::new("x.tar")), Format::Tar);
        assert_eq!(format_of(Path::new("x.TAR.GZ")), Format::TarGz);
        assert_eq!(format_of(Path::new("x.tgz")), Format::TarGz);
        assert_eq!(format_of(Path::new("diag-out")), Format::Directory);
    }
}
