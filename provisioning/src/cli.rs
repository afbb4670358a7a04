//! The command line: what the technician can type.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand};

/// kioskctl: provision, test and service an ASEAN Lane kiosk.
#[derive(Debug, Parser)]
#[command(name = "kioskctl", version, about, long_about = None)]
pub(crate) struct Args {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the unit's identity: record-signing key, TLS key and the CSR for the central CA.
    ///
    /// Writes record-signing.key and unit.key (mode 0600), record-signing.pub
    /// and unit.csr (CN = the unit id). Exit status 1, with nothing changed,
    /// when the directory already holds an identity and --force is not given.
    Init(InitArgs),
    /// Install the certificate the central CA issued for unit.csr, and the CA chain.
    ///
    /// The certificate must be PEM X.509, for unit.key's public key, issued
    /// to this unit, valid now and signed by a certificate in --ca. Exit
    /// status 1 naming the problem, with nothing installed, otherwise.
    Enroll(EnrollArgs),
    /// Decommission the unit: destroy its keys (zeros, fsync, unlink).
    ///
    /// Refused (exit status 1) while the store holds records not yet
    /// acknowledged by the central system, unless --force --reason TEXT:
    /// the reason, time and unsynced counts are then signed into the store
    /// as audit entry "unit_wiped" before any key is destroyed.
    Wipe(WipeArgs),
    /// Machine readable zones: check what a scanner read.
    Mrz {
        /// What to do with the MRZ.
        #[command(subcommand)]
        action: MrzAction,
    },
    /// Contactless chips: read a passport or ID card through a reader.
    Chip {
        /// What to do with the chip.
        #[command(subcommand)]
        action: ChipAction,
    },
    /// The passage-record store: check that no record was changed, removed or reordered; see what waits for the central system.
    Store {
        /// What to do with the store.
        #[command(subcommand)]
        action: StoreAction,
    },
    /// The trust store: the CSCA certificates, CRLs and master lists documents are checked against.
    Trust {
        /// What to do with the trust store.
        #[command(subcommand)]
        action: TrustAction,
    },
    /// The lane's configuration (/etc/asean-lane/lane.toml): show, validate, set keys.
    Config {
        /// What to do with the configuration.
        #[command(subcommand)]
        action: crate::config::ConfigAction,
    },
    /// The watch list: import a CSV of documents and persons as salted hashes.
    Watchlist {
        /// What to do with the watch list.
        #[command(subcommand)]
        action: crate::watchlist::WatchlistAction,
    },
    /// Many units at once: a lane configuration for every row of a manifest.
    Fleet {
        /// What to do for the fleet.
        #[command(subcommand)]
        action: crate::fleet::FleetAction,
    },
    /// Prove the unit works: reader, scanner, gate, display, store, sync, clock, disk.
    ///
    /// Each check runs against the lane's configuration and is bounded by
    /// --timeout (a device that never answers is a FAIL). Prints a table
    /// (check, PASS/FAIL/SKIP, one line of detail) or, with --json, one
    /// object. Exit status 0 when nothing failed, 1 when a check failed, 2
    /// when the command line is wrong or the configuration cannot be loaded.
    Selftest(crate::selftest::SelftestArgs),
    /// Diagnostics for support, without personal data.
    Diag {
        /// What to collect.
        #[command(subcommand)]
        action: crate::diag::DiagAction,
    },
    /// The gate controller's firmware: flash a vendor-signed image.
    Firmware {
        /// What to do with the firmware.
        #[command(subcommand)]
        action: crate::firmware::FirmwareAction,
    },
}

/// Where the unit keeps its record-signing public key unless told otherwise.
pub(crate) const DEFAULT_RECORD_KEY: &str = "/var/lib/asean-lane/identity/record-signing.pub";

/// Where the unit keeps its identity (keys, CSR, certificates) unless told otherwise.
pub(crate) const DEFAULT_IDENTITY_DIR: &str = "/var/lib/asean-lane/identity";

/// Options of `kioskctl init`.
#[derive(Debug, ClapArgs)]
pub(crate) struct InitArgs {
    /// The identity directory (created with mode 0700 if missing).
    #[arg(long, default_value = DEFAULT_IDENTITY_DIR)]
    pub(crate) dir: PathBuf,
    /// The unit id, the CSR's common name: 1 to 64 letters, digits or '-' [default: the host name].
    #[arg(long, value_parser = crate::identity::parse_unit_id)]
    pub(crate) unit_id: Option<String>,
    /// Replace an existing identity (its certificate, for the old key, is removed).
    #[arg(long)]
    pub(crate) force: bool,
    /// Print one JSON object instead of lines of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Options of `kioskctl enroll`.
#[derive(Debug, ClapArgs)]
pub(crate) struct EnrollArgs {
    /// The certificate the central CA issued for unit.csr (PEM).
    #[arg(long)]
    pub(crate) cert: PathBuf,
    /// The central CA's certificate chain (PEM); installed as central-ca.pem.
    #[arg(long)]
    pub(crate) ca: PathBuf,
    /// The identity directory holding unit.key and unit.csr.
    #[arg(long, default_value = DEFAULT_IDENTITY_DIR)]
    pub(crate) dir: PathBuf,
    /// Print one JSON object instead of lines of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Options of `kioskctl wipe`.
#[derive(Debug, ClapArgs)]
pub(crate) struct WipeArgs {
    /// The identity directory whose keys are destroyed.
    #[arg(long, default_value = DEFAULT_IDENTITY_DIR)]
    pub(crate) dir: PathBuf,
    /// The passage-record database (SQLite), checked for unsynced records.
    #[arg(long)]
    pub(crate) store: PathBuf,
    /// Wipe even though records have not reached the central system (needs --reason).
    #[arg(long, requires = "reason")]
    pub(crate) force: bool,
    /// Why the unit is wiped with records unsynced; recorded in the store's audit.
    #[arg(long, requires = "force", value_parser = non_empty)]
    pub(crate) reason: Option<String>,
    /// Print one JSON object instead of lines of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// A value that is not blank.
fn non_empty(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(s.to_owned())
    }
}

/// `kioskctl store ...`
#[derive(Debug, Subcommand)]
pub(crate) enum StoreAction {
    /// Verify every record's signature and the hash chain.
    ///
    /// Exit status 0 when the store is intact; 1 naming the first bad
    /// record when any byte of a record was changed, a record removed, or
    /// two swapped.
    Verify(StoreVerifyArgs),
    /// Show the sync backlog: records waiting for the central system, the
    /// age of the oldest, acknowledged and purged counts, the last error.
    ///
    /// Reads the store without changing it. Exit status 0 when the store
    /// could be read; 1 when it could not (missing, not a store, or not yet
    /// opened by this version of the lane).
    Status(StoreStatusArgs),
}

/// Options of `kioskctl store status`.
#[derive(Debug, ClapArgs)]
pub(crate) struct StoreStatusArgs {
    /// The passage-record database (SQLite).
    #[arg(long)]
    pub(crate) store: PathBuf,
    /// Print one JSON object instead of lines of text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Options of `kioskctl store verify`.
#[derive(Debug, ClapArgs)]
pub(crate) struct StoreVerifyArgs {
    /// The passage-record database (SQLite).
    #[arg(long)]
    pub(crate) store: PathBuf,
    /// The unit's Ed25519 record-signing public key: a file holding 64 hex digits.
    #[arg(long, default_value = DEFAULT_RECORD_KEY)]
    pub(crate) key: PathBuf,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Where the unit keeps its trust store unless told otherwise.
pub(crate) const DEFAULT_TRUST_STORE: &str = "/var/lib/asean-lane/trust";

/// `kioskctl trust ...`
#[derive(Debug, Subcommand)]
pub(crate) enum TrustAction {
    /// Import ICAO master lists, CSCA certificates (DER or PEM) and CRLs.
    ///
    /// Each file is checked before it is stored; a file that is none of
    /// these, or a certificate that is not a CSCA, is refused with the
    /// reason. Files already in the store are reported, not duplicated.
    Import(TrustImportArgs),
    /// List what the trust store holds: CSCAs by country, CRLs, master lists.
    List(TrustListArgs),
    /// Remove CSCA certificates, CRLs or master lists by SHA-256 fingerprint.
    ///
    /// The prefix must have at least 8 hex digits (see `trust list`); every
    /// entry it matches is removed. Exit status 1 when nothing matched.
    Remove(TrustRemoveArgs),
}

/// Options of `kioskctl trust remove`.
#[derive(Debug, ClapArgs)]
pub(crate) struct TrustRemoveArgs {
    /// The trust store directory.
    #[arg(long, default_value = DEFAULT_TRUST_STORE)]
    pub(crate) store: PathBuf,
    /// SHA-256 fingerprint, or its first 8 or more hex digits.
    pub(crate) fingerprint: String,
}

/// Options of `kioskctl trust import`.
#[derive(Debug, ClapArgs)]
pub(crate) struct TrustImportArgs {
    /// The trust store directory.
    #[arg(long, default_value = DEFAULT_TRUST_STORE)]
    pub(crate) store: PathBuf,
    /// Print one JSON object instead of a report.
    #[arg(long)]
    pub(crate) json: bool,
    /// Files to import.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
}

/// Options of `kioskctl trust list`.
#[derive(Debug, ClapArgs)]
pub(crate) struct TrustListArgs {
    /// The trust store directory.
    #[arg(long, default_value = DEFAULT_TRUST_STORE)]
    pub(crate) store: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `kioskctl mrz ...`
#[derive(Debug, Subcommand)]
pub(crate) enum MrzAction {
    /// Parse and check an MRZ given on standard input (2 or 3 lines).
    ///
    /// Every check digit is verified; the first one that fails is named.
    /// Exit status 1 when the MRZ is invalid.
    Parse(MrzParseArgs),
}

/// Options of `kioskctl mrz parse`.
#[derive(Debug, ClapArgs)]
pub(crate) struct MrzParseArgs {
    /// Fix OCR confusions (O/0, I/1, B/8, S/5, Z/2) where a check digit then holds.
    ///
    /// Each repair is listed under "warnings". Without this flag the MRZ must
    /// be valid exactly as read.
    #[arg(long)]
    pub(crate) repair: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `kioskctl chip ...`
#[derive(Debug, Subcommand)]
pub(crate) enum ChipAction {
    /// Open a chip (PACE if it offers it, else BAC) and read EF.COM, every data group it lists, and EF.SOD.
    Read(ChipReadArgs),
}

/// Options of `kioskctl chip read`.
#[derive(Debug, ClapArgs)]
pub(crate) struct ChipReadArgs {
    /// PC/SC reader name, e.g. "Virtual PCD 00 00" (see `pcsc_scan`).
    #[arg(long)]
    pub(crate) reader: String,
    /// The document's MRZ lines, separated by newlines or by '|'.
    #[arg(
        long,
        conflicts_with = "mrz_file",
        required_unless_present = "mrz_file"
    )]
    pub(crate) mrz: Option<String>,
    /// A file holding the document's MRZ lines.
    #[arg(long)]
    pub(crate) mrz_file: Option<PathBuf>,
    /// Open the chip with this card access number (PACE) instead of the MRZ.
    ///
    /// ID cards such as Vietnam's print a 6-digit CAN; the MRZ is still
    /// needed to check DG1 against it.
    #[arg(long)]
    pub(crate) can: Option<String>,
    /// Print one JSON object instead of a report.
    #[arg(long)]
    pub(crate) json: bool,
    /// Check the document against this trust store and print the verdict.
    ///
    /// Passive Authentication (every data group's hash, the EF.SOD
    /// signature, the Document Signer's chain to a CSCA, validity, country,
    /// CRL), clone detection (Chip or Active Authentication) and the MRZ
    /// against DG1. Exit status 1 when the document is not genuine.
    #[arg(long)]
    pub(crate) trust: Option<PathBuf>,
    /// Write every file read, and the face image, into this directory.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Seconds to wait for a card to be placed on the reader.
    #[arg(long, default_value_t = 10)]
    pub(crate) wait: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn chip_read_needs_exactly_one_mrz_source() {
        assert!(Args::try_parse_from(["kioskctl", "chip", "read", "--reader", "R"]).is_err());
        assert!(
            Args::try_parse_from([
                "kioskctl",
                "chip",
                "read",
                "--reader",
                "R",
                "--mrz",
                "A",
                "--mrz-file",
                "f"
            ])
            .is_err()
        );
        assert!(
            Args::try_parse_from(["kioskctl", "chip", "read", "--reader", "R", "--mrz", "A"])
                .is_ok()
        );
    }
}
