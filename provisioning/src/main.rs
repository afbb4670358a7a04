//! `kioskctl`: the field technician's command line for an ASEAN Lane unit.
//!
//! Exit codes: 0 success, 1 the command ran and found a problem (an invalid
//! MRZ, a chip that could not be read), 2 the command line itself was wrong
//! or the tool could not start.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

mod atomic;
mod chip;
mod cli;
mod config;
mod csv;
mod diag;
mod firmware;
mod fleet;
mod identity;
mod mrz;
mod progress;
mod selftest;
mod store;
mod trust;
mod verdict;
mod watchlist;
mod wipe;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kioskctl: {}", error_chain(&err));
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args = cli::Args::parse();
    match args.command {
        cli::Command::Init(opts) => identity::init(&opts),
        cli::Command::Enroll(opts) => identity::enroll(&opts),
        cli::Command::Wipe(opts) => wipe::wipe(&opts),
        cli::Command::Mrz {
            action: cli::MrzAction::Parse(opts),
        } => mrz::parse(&opts),
        cli::Command::Chip {
            action: cli::ChipAction::Read(opts),
        } => chip::read(&opts),
        cli::Command::Store {
            action: cli::StoreAction::Verify(opts),
        } => store::verify(&opts),
        cli::Command::Store {
            action: cli::StoreAction::Status(opts),
        } => store::status(&opts),
        cli::Command::Trust {
            action: cli::TrustAction::Import(opts),
        } => trust::import(&opts),
        cli::Command::Trust {
            action: cli::TrustAction::List(opts),
        } => trust::list(&opts),
        cli::Command::Trust {
            action: cli::TrustAction::Remove(opts),
        } => trust::remove(&opts),
        cli::Command::Config { action } => match action {
            config::ConfigAction::Show(opts) => config::show(&opts),
            config::ConfigAction::Validate(opts) => config::validate(&opts),
            config::ConfigAction::Set(opts) => config::set(&opts),
        },
        cli::Command::Watchlist {
            action: watchlist::WatchlistAction::Import(opts),
        } => watchlist::import(&opts),
        cli::Command::Fleet {
            action: fleet::FleetAction::Plan(opts),
        } => fleet::plan(&opts),
        cli::Command::Selftest(opts) => selftest::run(&opts),
        cli::Command::Diag {
            action: diag::DiagAction::Bundle(opts),
        } => diag::bundle(&opts),
        cli::Command::Firmware {
            action: firmware::FirmwareAction::Flash(opts),
        } => firmware::flash(&opts),
    }
}

/// An error and its causes on one line, each cause once.
///
/// Library errors often repeat their source in their own message; a cause
/// whose text the line already holds is left out.
pub(crate) fn error_chain(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
