//! The local watch list: salted SHA-256 hashes, never names or numbers.
//!
//! Two kinds of entry, both `SHA-256(salt || tag || 0x00 || fields joined by 0x00)`:
//!
//! - document: tag `document`, fields: document number (MRZ form, fillers
//!   removed), issuing state (fillers removed);
//! - person: tag `person`, fields: primary identifier, secondary identifier
//!   (as [`icao9303::mrz::Mrz`] gives them: fillers become spaces, names are
//!   space-separated), birth date `YYMMDD` as printed.
//!
//! The provisioned file is text, one entry a line; blank lines and lines
//! starting with `#` are ignored:
//!
//! ```text
//! salt 00112233445566778899aabbccddeeff
//! document 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! person 60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
//! ```

use std::collections::HashSet;
use std::fmt;

use sha2::{Digest, Sha256};

use super::DocumentFacts;

/// A watch list: a salt and the hashes of watched documents and persons.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WatchList {
    salt: Vec<u8>,
    documents: HashSet<[u8; 32]>,
    persons: HashSet<[u8; 32]>,
}

/// Which kinds of watch-list entry a document matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WatchHit {
    /// The document number and issuing state are listed.
    pub document: bool,
    /// The name and birth date are listed.
    pub person: bool,
}

/// A watch-list file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WatchListError {
    /// A line that is not `salt HEX`, `document HEX64` or `person HEX64`.
    #[error("watch list line {line}: {what}")]
    Line {
        /// Line, from 1.
        line: usize,
        /// What is wrong (never the line's content).
        what: &'static str,
    },
    /// No `salt` line.
    #[error("watch list has no salt line")]
    NoSalt,
}

impl WatchList {
    /// An empty list with this salt.
    #[must_use]
    pub fn new(salt: &[u8]) -> Self {
        Self {
            salt: salt.to_vec(),
            ..Self::default()
        }
    }

    /// Parses the provisioned text format (see the module documentation).
    ///
    /// # Errors
    /// [`WatchListError`] naming the first bad line, or a missing salt.
    pub fn parse(text: &str) -> Result<Self, WatchListError> {
        let mut salt = None;
        let mut list = Self::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what| WatchListError::Line { line: i + 1, what };
            let (kind, value) = line
                .split_once(char::is_whitespace)
                .ok_or(bad("expected a kind and a hex value"))?;
            let bytes = decode_hex(value.trim()).ok_or(bad("value is not hex"))?;
            match kind {
                "salt" if salt.is_none() => salt = Some(bytes),
                "salt" => return Err(bad("a second salt")),
                "document" | "person" => {
                    let hash: [u8; 32] = bytes
                        .try_into()
                        .map_err(|_| bad("a hash is 64 hex digits"))?;
                    if kind == "document" {
                        list.documents.insert(hash);
                    } else {
                        list.persons.insert(hash);
                    }
                }
                _ => return Err(bad("kind is not salt, document or person")),
            }
        }
        list.salt = salt.ok_or(WatchListError::NoSalt)?;
        Ok(list)
    }

    /// Lists a document by its hash (see [`WatchList::document_hash`]).
    pub fn add_document_hash(&mut self, hash: [u8; 32]) {
        self.documents.insert(hash);
    }

    /// Lists a person by their hash (see [`WatchList::person_hash`]).
    pub fn add_person_hash(&mut self, hash: [u8; 32]) {
        self.persons.insert(hash);
    }

    /// The hash of a document entry under this list's salt.
    #[must_use]
    pub fn document_hash(&self, document_number: &str, issuing_state: &str) -> [u8; 32] {
        salted(
            &self.salt,
            "document",
            &[
                document_number.trim_end_matches('<'),
                issuing_state.trim_end_matches('<'),
            ],
        )
    }

    /// The hash of a person entry under this list's salt.
    #[must_use]
    pub fn person_hash(&self, primary: &str, secondary: &str, birth_date: &str) -> [u8; 32] {
        salted(&self.salt, "person", &[primary, secondary, birth_date])
    }

    /// Which entries a document matches.
    #[must_use]
    pub fn check(&self, facts: &DocumentFacts) -> WatchHit {
        WatchHit {
            document: self
                .documents
                .contains(&self.document_hash(&facts.document_number, &facts.issuing_state)),
            person: self.persons.contains(&self.person_hash(
                &facts.primary_identifier,
                &facts.secondary_identifier,
                &facts.birth_date,
            )),
        }
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.documents.len() + self.persons.len()
    }

    /// Whether the list has no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for WatchList {
    /// Counts only: neither the salt nor the hashes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchList")
            .field("documents", &self.documents.len())
            .field("persons", &self.persons.len())
            .finish_non_exhaustive()
    }
}

/// `SHA-256(salt || tag || 0 || field || 0 || field ...)`.
fn salted(salt: &[u8], tag: &str, fields: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(tag.as_bytes());
    for field in fields {
        h.update([0u8]);
        h.update(field.as_bytes());
    }
    h.finalize().into()
}

/// Decodes hex digits (either case, even length).
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(digits, 16).ok()
        })
        .collect()
}
