//! `kioskctl watchlist import`: a CSV of watched documents and persons,
//! stored only as salted hashes, in the file `policy.watch_list` loads.
//!
//! The hashes are kiosk-app's own ([`kiosk_app::policy::WatchList`]), so
//! the lane matches what is imported. The CSV starts with a header naming
//! its columns, any of:
//!
//! | column | as in the MRZ |
//! |---|---|
//! | `document_number` | letters and digits, fillers (`<`) dropped |
//! | `issuing_state` | 1 to 3 capital letters (`THA`, `D`) |
//! | `surname` | the primary identifier; `-` and `<` separate words, `'` is dropped |
//! | `given_names` | the secondary identifier, the same way (may be empty) |
//! | `birth_date` | `YYMMDD` as printed (`<` for an unknown part), or `YYYY-MM-DD` |
//!
//! A row with `document_number` and `issuing_state` lists the document;
//! a row with `surname` and `birth_date` lists the person; a row may do
//! both. Letters are upper-cased; names must be in the MRZ's letters A-Z
//! (transliterated as the document prints them). Errors name the line and
//! the column, never the row's content.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};
use icao9303::mrz::{CodeKind, code_kind};
use kiosk_app::policy::WatchList;
use serde_json::json;

use crate::atomic::{self, Perms};
use crate::csv;
use crate::progress::Progress;

/// `kioskctl watchlist ...`
#[derive(Debug, Subcommand)]
pub(crate) enum WatchlistAction {
    /// Import a CSV of watched documents and persons as salted hashes.
    ///
    /// The CSV's header names its columns: document_number, issuing_state,
    /// surname, given_names, birth_date (see provisioning/README.md). The
    /// output holds only the salt and SHA-256 hashes, in the format the
    /// lane's policy.watch_list loads; no name or number is ever written or
    /// printed. A malformed row is refused naming its line (exit 1) and
    /// nothing is written.
    Import(ImportArgs),
}

/// Options of `kioskctl watchlist import`.
#[derive(Debug, ClapArgs)]
pub(crate) struct ImportArgs {
    /// File holding the salt as hex digits (16 bytes or more); created with 32 random bytes when missing.
    ///
    /// Keep it to import later lists with the same salt. It is written,
    /// mode 0600, only when the import succeeds.
    #[arg(long)]
    pub(crate) salt_file: PathBuf,
    /// The watch-list file to write (replaced atomically), e.g. /var/lib/asean-lane/watch-list.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Print one JSON object instead of a report.
    #[arg(long)]
    pub(crate) json: bool,
    /// The CSV file of entries.
    pub(crate) file: PathBuf,
}

/// The columns a watch-list CSV may have.
const COLUMNS: [&str; 5] = [
    "document_number",
    "issuing_state",
    "surname",
    "given_names",
    "birth_date",
];

/// Rows between two progress lines on a terminal.
const PROGRESS_EVERY: u64 = 50_000;

/// Most errors listed; the rest are counted.
const MAX_ERRORS: usize = 20;

/// Salts shorter than this many bytes are refused.
const MIN_SALT: usize = 16;

/// One refused row: line and what is wrong, never its content.
#[derive(Debug)]
struct RowError {
    /// The CSV line, from 1.
    line: usize,
    /// What is wrong, naming the column.
    what: String,
}

/// The salt, and whether it must still be written to the salt file.
struct Salt {
    /// The salt's bytes.
    bytes: Vec<u8>,
    /// Made now: the salt file does not exist yet.
    created: bool,
}

/// Runs `kioskctl watchlist import`: exit 0 when written, 1 naming the bad lines.
pub(crate) fn import(opts: &ImportArgs) -> anyhow::Result<ExitCode> {
    for (a, b, what) in [
        (&opts.out, &opts.file, "the CSV"),
        (&opts.out, &opts.salt_file, "the salt file"),
        (&opts.salt_file, &opts.file, "the CSV"),
    ] {
        if same_file(a, b) {
            anyhow::bail!("{} is also {what}", a.display());
        }
    }
    let salt = match read_salt(&opts.salt_file) {
        Ok(salt) => salt,
        Err(message) => return Ok(fail(opts.json, &message, &[])),
    };
    let bytes = match std::fs::read(&opts.file) {
        Ok(bytes) => bytes,
        Err(e) => {
            let message = format!("{}: {e}", opts.file.display());
            return Ok(fail(opts.json, &message, &[]));
        }
    };
    let mut progress = Progress::on_terminal("watchlist import", PROGRESS_EVERY);
    let list = WatchList::new(&salt.bytes);
    let hashed = match hash_rows(&bytes, &list, &mut progress) {
        Ok(hashed) => hashed,
        Err(errors) => {
            let message = format!(
                "{}: {} refused, nothing written",
                opts.file.display(),
                plural(errors.len(), "bad line", "bad lines")
            );
            return Ok(fail(opts.json, &message, &errors));
        }
    };
    let text = render(&salt.bytes, &hashed);
    // What the lane will load: parse it back with the lane's own parser.
    match WatchList::parse(&text) {
        Ok(parsed) if parsed.len() == hashed.documents.len() + hashed.persons.len() => {}
        _ => anyhow::bail!("the watch list made does not load back (a bug in kioskctl)"),
    }
    if salt.created {
        let hex = format!("{}\n", hex::encode(&salt.bytes));
        if let Err(e) = write_new(&opts.salt_file, hex.as_bytes()) {
            let message = format!("writing {}: {e}", opts.salt_file.display());
            return Ok(fail(opts.json, &message, &[]));
        }
    }
    if let Err(e) = atomic::replace(&opts.out, text.as_bytes(), Perms::KeepOr(0o600)) {
        let message = format!("writing {}: {e}", opts.out.display());
        return Ok(fail(opts.json, &message, &[]));
    }
    if opts.json {
        let out = json!({
            "out": opts.out.display().to_string(),
            "rows": hashed.rows,
            "documents": hashed.documents.len(),
            "persons": hashed.persons.len(),
            "duplicates": hashed.duplicates,
            "salt_created": salt.created,
        });
        println!("{out}");
    } else {
        println!(
            "{}: {} read; {} and {} written as salted hashes{}",
            opts.out.display(),
            plural(hashed.rows, "row", "rows"),
            plural(hashed.documents.len(), "document", "documents"),
            plural(hashed.persons.len(), "person", "persons"),
            if hashed.duplicates > 0 {
                format!(
                    " ({} repeated)",
                    plural(hashed.duplicates, "entry", "entries")
                )
            } else {
                String::new()
            }
        );
        if salt.created {
            println!(
                "{}: new salt written (keep it for later imports)",
                opts.salt_file.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `1 row`, `2 rows`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Whether two paths name the same file (or the same path, when neither exists).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Prints a failure (`{"error", "errors"}` with --json, else on stderr) and gives exit status 1.
fn fail(json: bool, message: &str, errors: &[RowError]) -> ExitCode {
    let shown = errors.iter().take(MAX_ERRORS);
    if json {
        let list: Vec<_> = shown
            .map(|e| json!({ "line": e.line, "error": e.what }))
            .collect();
        println!(
            "{}",
            json!({ "error": message, "errors": list, "error_count": errors.len() })
        );
    } else {
        eprintln!("kioskctl: {message}");
        for e in shown {
            eprintln!("  line {}: {}", e.line, e.what);
        }
        if errors.len() > MAX_ERRORS {
            eprintln!("  ... and {} more", errors.len() - MAX_ERRORS);
        }
    }
    ExitCode::from(1)
}

/// The salt from the salt file, or a new one when the file does not exist.
///
/// # Errors
/// A message naming the file (never its content) when it cannot be read or
/// is not 32 or more hex digits.
fn read_salt(path: &Path) -> Result<Salt, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim())
                .map_err(|_| format!("{}: the salt must be hex digits", path.display()))?;
            if bytes.len() < MIN_SALT {
                return Err(format!(
                    "{}: the salt must be at least {MIN_SALT} bytes ({} hex digits)",
                    path.display(),
                    MIN_SALT * 2
                ));
            }
            Ok(Salt {
                bytes,
                created: false,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = vec![0u8; 32];
            getrandom::fill(&mut bytes)
                .map_err(|e| format!("no random numbers for a new salt: {e}"))?;
            Ok(Salt {
                bytes,
                created: true,
            })
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes a file that must not exist yet, mode 0600, durably.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The hashes of a whole CSV.
struct Hashed {
    /// Data rows read.
    rows: usize,
    /// Document entries, sorted (so the file says nothing of the CSV's order).
    documents: BTreeSet<[u8; 32]>,
    /// Person entries, sorted.
    persons: BTreeSet<[u8; 32]>,
    /// Entries given more than once.
    duplicates: usize,
}

/// Reads and hashes every row; every bad row is reported.
///
/// # Errors
/// Every refused line (header problems on line 1).
fn hash_rows(
    bytes: &[u8],
    list: &WatchList,
    progress: &mut Progress,
) -> Result<Hashed, Vec<RowError>> {
    let text = csv::decode(bytes).map_err(|e| {
        vec![RowError {
            line: e.line,
            what: e.what.to_owned(),
        }]
    })?;
    let mut records = csv::records(text);
    let header = match records.next() {
        None => {
            return Err(vec![RowError {
                line: 1,
                what: "the file is empty: a header line is needed".into(),
            }]);
        }
        Some(Err(e)) => {
            return Err(vec![RowError {
                line: e.line,
                what: e.what.to_owned(),
            }]);
        }
        Some(Ok(record)) => record,
    };
    let columns = columns(&header).map_err(|what| {
        vec![RowError {
            line: header.line,
            what,
        }]
    })?;
    let mut out = Hashed {
        rows: 0,
        documents: BTreeSet::new(),
        persons: BTreeSet::new(),
        duplicates: 0,
    };
    let mut errors = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    line: e.line,
                    what: e.what.to_owned(),
                });
                break;
            }
        };
        out.rows += 1;
        let rows = out.rows;
        progress.update(rows as u64, || format!("{rows} rows read"));
        if record.fields.len() != header.fields.len() {
            errors.push(RowError {
                line: record.line,
                what: format!(
                    "{} fields, the header has {}",
                    record.fields.len(),
                    header.fields.len()
                ),
            });
            continue;
        }
        match entry(&columns, &record.fields) {
            Ok(entry) => {
                if let Some((number, state)) = &entry.document
                    && !out.documents.insert(list.document_hash(number, state))
                {
                    out.duplicates += 1;
                }
                if let Some((primary, secondary, birth)) = &entry.person
                    && !out
                        .persons
                        .insert(list.person_hash(primary, secondary, birth))
                {
                    out.duplicates += 1;
                }
            }
            Err(what) => errors.push(RowError {
                line: record.line,
                what,
            }),
        }
    }
    let rows = out.rows;
    progress.finish(|| format!("{rows} rows read, done"));
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Where each known column is in a row.
#[derive(Debug, Default)]
struct Columns {
    /// `document_number`.
    number: Option<usize>,
    /// `issuing_state`.
    state: Option<usize>,
    /// `surname`.
    surname: Option<usize>,
    /// `given_names`.
    given: Option<usize>,
    /// `birth_date`.
    birth: Option<usize>,
}

/// The columns of the header.
///
/// # Errors
/// An unknown or repeated column (by name: a header is not personal data),
/// or a header that can list neither documents nor persons.
fn columns(header: &csv::Record) -> Result<Columns, String> {
    let names = csv::header(header)?;
    let mut c = Columns::default();
    for (i, name) in names.iter().enumerate() {
        let slot = match name.to_ascii_lowercase().as_str() {
            "document_number" => &mut c.number,
            "issuing_state" => &mut c.state,
            "surname" => &mut c.surname,
            "given_names" => &mut c.given,
            "birth_date" => &mut c.birth,
            _ => {
                return Err(format!(
                    "header column {name:?} is unknown (columns: {})",
                    COLUMNS.join(", ")
                ));
            }
        };
        if slot.replace(i).is_some() {
            return Err(format!("header column {name:?} is given twice"));
        }
    }
    if c.number.is_some() != c.state.is_some() {
        return Err("header: document_number and issuing_state go together".into());
    }
    if c.surname.is_some() != c.birth.is_some() {
        return Err("header: surname and birth_date go together".into());
    }
    if c.given.is_some() && c.surname.is_none() {
        return Err("header: given_names needs surname and birth_date".into());
    }
    if c.number.is_none() && c.surname.is_none() {
        return Err(format!(
            "header must name document_number and issuing_state, or surname and birth_date (columns: {})",
            COLUMNS.join(", ")
        ));
    }
    Ok(c)
}

/// One row's entries, in the lane's forms.
#[derive(Debug)]
struct Entry {
    /// Document number and issuing state.
    document: Option<(String, String)>,
    /// Primary identifier, secondary identifier, birth date `YYMMDD`.
    person: Option<(String, String, String)>,
}

/// The entries of one row.
///
/// # Errors
/// What is wrong, naming the column and never the value.
fn entry(c: &Columns, fields: &[String]) -> Result<Entry, String> {
    let get = |i: Option<usize>| i.and_then(|i| fields.get(i)).map_or("", |s| s.trim());
    let (number, state) = (get(c.number), get(c.state));
    let (surname, given, birth) = (get(c.surname), get(c.given), get(c.birth));
    let document = match (number.is_empty(), state.is_empty()) {
        (true, true) => None,
        (false, false) => Some((document_number(number)?, issuing_state(state)?)),
        (true, false) => return Err("document_number is empty but issuing_state is not".into()),
        (false, true) => return Err("issuing_state is empty but document_number is not".into()),
    };
    let person = if surname.is_empty() && given.is_empty() && birth.is_empty() {
        None
    } else if surname.is_empty() {
        return Err("surname is empty: a person needs surname and birth_date".into());
    } else if birth.is_empty() {
        return Err("birth_date is empty: a person needs surname and birth_date".into());
    } else {
        Some((
            name("surname", surname)?,
            name("given_names", given)?,
            birth_date(birth)?,
        ))
    };
    if document.is_none() && person.is_none() {
        return Err("neither a document (document_number, issuing_state) nor a person (surname, birth_date)".into());
    }
    Ok(Entry { document, person })
}

/// A document number as the MRZ gives it: capitals and digits, fillers dropped.
fn document_number(value: &str) -> Result<String, String> {
    let upper = value.to_ascii_uppercase();
    let number = upper.trim_end_matches('<');
    if number.is_empty()
        || number.len() > 24
        || !number
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err("document_number must be 1 to 24 letters and digits".into());
    }
    Ok(number.to_owned())
}

/// An issuing state: 1 to 3 capitals (`THA`, `D`).
fn issuing_state(value: &str) -> Result<String, String> {
    let upper = value.to_ascii_uppercase();
    let code = upper.trim_end_matches('<');
    if matches!(code_kind(code), CodeKind::Invalid) {
        return Err("issuing_state must be 1 to 3 letters (an ICAO code such as THA or D)".into());
    }
    Ok(code.to_owned())
}

/// A name as [`icao9303::mrz::Mrz`] gives it: capitals, words separated by one space.
///
/// Hyphens, fillers and commas separate words, apostrophes are dropped,
/// as in the MRZ.
fn name(column: &str, value: &str) -> Result<String, String> {
    let mut words = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            'a'..='z' | 'A'..='Z' => words.push(c.to_ascii_uppercase()),
            '\'' | '\u{2019}' => {}
            ' ' | '\t' | '-' | '<' | ',' => words.push(' '),
            _ => {
                return Err(format!(
                    "{column} must be written in the MRZ's letters A-Z (transliterated as on the document)"
                ));
            }
        }
    }
    Ok(words.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A birth date `YYMMDD` as printed (`<` for an unknown part), from `YYMMDD` or `YYYY-MM-DD`.
fn birth_date(value: &str) -> Result<String, String> {
    let bad = || "birth_date must be YYMMDD or YYYY-MM-DD".to_owned();
    let yymmdd = match value.len() {
        6 => value.to_owned(),
        10 => {
            let b = value.as_bytes();
            if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
                return Err(bad());
            }
            let part = |r: std::ops::Range<usize>| value.get(r).unwrap_or("");
            format!("{}{}{}", part(2..4), part(5..7), part(8..10))
        }
        _ => return Err(bad()),
    };
    if !yymmdd.bytes().all(|b| b.is_ascii_digit() || b == b'<') {
        return Err(bad());
    }
    let two = |r: std::ops::Range<usize>| yymmdd.get(r).and_then(|s| s.parse::<u8>().ok());
    // A part that is known must be a real month or day.
    if let Some(month) = two(2..4)
        && !(1..=12).contains(&month)
    {
        return Err("birth_date has no such month".into());
    }
    if let Some(day) = two(4..6)
        && !(1..=31).contains(&day)
    {
        return Err("birth_date has no such day".into());
    }
    Ok(yymmdd)
}

/// The watch-list file: a comment with the counts, the salt, then the sorted hashes.
fn render(salt: &[u8], hashed: &Hashed) -> String {
    let mut text = format!(
        "# ASEAN Lane watch list, written by kioskctl watchlist import: {} document and {} person entries.\n\
         # Salted SHA-256 hashes only (see kiosk_app::policy::WatchList).\n\
         salt {}\n",
        hashed.documents.len(),
        hashed.persons.len(),
        hex::encode(salt)
    );
    for hash in &hashed.documents {
        text.push_str("document ");
        text.push_str(&hex::encode(hash));
        text.push('\n');
    }
    for hash in &hashed.persons {
        text.push_str("person ");
        text.push_str(&hex::encode(hash));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_take_the_mrz_form() {
        assert_eq!(name("s", " van der-Berg ").unwrap(), "VAN DER BERG");
        assert_eq!(name("s", "D'Artagnan").unwrap(), "DARTAGNAN");
        assert_eq!(name("s", "ANNA<MARIA").unwrap(), "ANNA MARIA");
        assert!(name("s", "Nguyễn").is_err());
        assert!(name("s", "R2D2").is_err());
    }

    #[test]
    fn birth_dates() {
        assert_eq!(birth_date("740812").unwrap(), "740812");
        assert_eq!(birth_date("1974-08-12").unwrap(), "740812");
        assert_eq!(birth_date("74<<<<").unwrap(), "74<<<<");
        assert!(birth_date("741312").is_err());
        assert!(birth_date("740800").is_err());
        assert!(birth_date("1974/08/12").is_err());
        assert!(birth_date("74081").is_err());
    }

    #[test]
    fn documents() {
        assert_eq!(document_number("l898902c3<").unwrap(), "L898902C3");
        assert!(document_number("L89 8902").is_err());
        assert_eq!(issuing_state("d").unwrap(), "D");
        assert!(issuing_state("THAI").is_err());
    }
}
