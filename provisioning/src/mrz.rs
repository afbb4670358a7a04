//! `kioskctl mrz parse`: check an MRZ and show its fields.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use icao9303::mrz::{self, Mode, Mrz};
use serde::Serialize;

use crate::cli::MrzParseArgs;

/// The fields of an MRZ as `--json` prints them.
#[derive(Debug, Serialize)]
pub(crate) struct MrzJson<'a> {
    pub(crate) format: &'static str,
    pub(crate) document_type: &'a str,
    pub(crate) issuing_state: &'a str,
    pub(crate) surname: &'a str,
    pub(crate) given_names: &'a str,
    pub(crate) document_number: &'a str,
    pub(crate) nationality: &'a str,
    pub(crate) birth_date: &'a str,
    pub(crate) expiry_date: &'a str,
    pub(crate) sex: String,
    pub(crate) optional_data: &'a str,
    pub(crate) optional_data_2: Option<&'a str>,
    pub(crate) warnings: &'a [String],
}

/// Runs `kioskctl mrz parse`.
pub(crate) fn parse(opts: &MrzParseArgs) -> anyhow::Result<ExitCode> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the MRZ from standard input")?;
    let mode = if opts.repair {
        Mode::Repair
    } else {
        Mode::Strict
    };
    match mrz::parse(&text, mode) {
        Ok(parsed) => {
            if opts.json {
                println!("{}", serde_json::to_string_pretty(&MrzJson::from(&parsed))?);
            } else {
                print_table(&parsed);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            if opts.json {
                println!("{}", serde_json::json!({ "error": err.to_string() }));
            } else {
                eprintln!("invalid MRZ: {err}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

impl<'a> From<&'a Mrz> for MrzJson<'a> {
    fn from(m: &'a Mrz) -> Self {
        Self {
            format: format_name(m.format),
            document_type: &m.document_type,
            issuing_state: &m.issuing_state,
            surname: &m.primary_identifier,
            given_names: &m.secondary_identifier,
            document_number: &m.document_number,
            nationality: &m.nationality,
            birth_date: &m.birth_date,
            expiry_date: &m.expiry_date,
            sex: m.sex.to_string(),
            optional_data: &m.optional_data,
            optional_data_2: m.optional_data_2.as_deref(),
            warnings: &m.warnings,
        }
    }
}

/// The name `--json` uses for an MRZ layout.
pub(crate) fn format_name(f: mrz::Format) -> &'static str {
    match f {
        mrz::Format::Td1 => "TD1",
        mrz::Format::Td2 => "TD2",
        mrz::Format::Td3 => "TD3",
        mrz::Format::MrvA => "MRV-A",
        mrz::Format::MrvB => "MRV-B",
    }
}

fn print_table(m: &Mrz) {
    let j = MrzJson::from(m);
    let rows: [(&str, &str); 11] = [
        ("format", j.format),
        ("document type", j.document_type),
        ("issuing state", j.issuing_state),
        ("surname", j.surname),
        ("given names", j.given_names),
        ("document number", j.document_number),
        ("nationality", j.nationality),
        ("birth date", j.birth_date),
        ("expiry date", j.expiry_date),
        ("sex", &j.sex),
        ("optional data", j.optional_data),
    ];
    for (k, v) in rows {
        println!("{k:<16} {v}");
    }
    if let Some(v) = j.optional_data_2 {
        println!("{:<16} {v}", "optional data 2");
    }
    for w in j.warnings {
        println!("{:<16} {w}", "warning");
    }
}
