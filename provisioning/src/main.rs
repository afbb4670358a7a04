//! `kioskctl`: the field technician's command line for an ASEAN Lane unit.
//!
//! Exit codes: 0 success, 1 the command ran and found a problem (an invalid
//! MRZ, a chip that could not be read), 2 the command line itself was wrong
//! or the tool could not start.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

mod chip;
mod cli;
mod mrz;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kioskctl: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args = cli::Args::parse();
    match args.command {
        cli::Command::Mrz {
            action: cli::MrzAction::Parse(opts),
        } => mrz::parse(&opts),
        cli::Command::Chip {
            action: cli::ChipAction::Read(opts),
        } => chip::read(&opts),
    }
}
