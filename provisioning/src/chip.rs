//! `kioskctl chip read`: open a chip with its MRZ and read every file it offers.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use card_reader::{ConnectOptions, Readers};
use icao9303::document::{self, DocumentRead};
use icao9303::lds::{DataGroup, Dg1, Dg2, FileId, ImageFormat};
use icao9303::mrz::{self, Mode};
use icao9303::pace::Password;
use icao9303::session::{AccessProtocol, ReadOptions, Session};
use icao9303::verdict::Verdict;
use serde::Serialize;

use crate::cli::ChipReadArgs;
use crate::mrz::MrzJson;
use crate::verdict::VerdictJson;

/// The report `--json` prints.
#[derive(Debug, Serialize)]
struct Report<'a> {
    reader: &'a str,
    protocol: &'static str,
    pace_protocol: Option<String>,
    files: Vec<FileJson>,
    dg1: Option<MrzJson<'a>>,
    dg1_matches_mrz: Option<bool>,
    face: Option<FaceJson>,
    steps: Vec<StepJson>,
    apdus: usize,
    total_ms: f64,
    read_size: usize,
    reauthentications: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<VerdictJson>,
}

/// One file in the report.
#[derive(Debug, Serialize)]
struct FileJson {
    file: &'static str,
    fid: String,
    size: Option<usize>,
    refused_sw: Option<String>,
}

/// The face image in the report.
#[derive(Debug, Serialize)]
struct FaceJson {
    format: &'static str,
    width: u16,
    height: u16,
    size: usize,
}

/// One timed step in the report.
#[derive(Debug, Serialize)]
struct StepJson {
    step: &'static str,
    apdus: usize,
    ms: f64,
}

/// Runs `kioskctl chip read`.
pub(crate) fn read(opts: &ChipReadArgs) -> anyhow::Result<ExitCode> {
    match read_chip(opts) {
        Ok(true) => Ok(ExitCode::SUCCESS),
        Ok(false) => Ok(ExitCode::from(1)),
        Err(err) => {
            if opts.json {
                println!(
                    "{}",
                    serde_json::json!({ "error": crate::error_chain(&err) })
                );
            } else {
                eprintln!("chip read failed: {}", crate::error_chain(&err));
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// Reads the chip and prints the report; `Ok(false)` when a verdict was asked for and the document is not genuine.
fn read_chip(opts: &ChipReadArgs) -> anyhow::Result<bool> {
    let mrz_text = match (&opts.mrz, &opts.mrz_file) {
        (Some(text), _) => text.replace('|', "\n"),
        (None, Some(path)) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, None) => anyhow::bail!("give --mrz or --mrz-file"),
    };
    let given = mrz::parse(&mrz_text, Mode::Strict).context("the MRZ given is not valid")?;
    let password = match &opts.can {
        Some(can) => Password::Can(can.clone()),
        None => Password::from_mrz(&given)?,
    };

    let started = Instant::now();
    let readers = Readers::establish().context("PC/SC service (is pcscd running?)")?;
    readers
        .wait_for_card(&opts.reader, Duration::from_secs(opts.wait))
        .with_context(|| format!("waiting for a card on {:?}", opts.reader))?;
    let channel = readers
        .connect(&opts.reader, &ConnectOptions::default())
        .context("connecting to the card")?;

    let t = Instant::now();
    // PACE when the chip offers it (9303-11 section 4.4), else BAC.
    let mut session =
        Session::open(channel, password, &ReadOptions::default()).context("access control")?;
    let mut steps = vec![StepJson {
        step: "access control",
        apdus: session.apdu_count(),
        ms: ms(t.elapsed()),
    }];
    let doc = document::read_document(&mut session).context("reading the chip's files")?;
    steps.extend(doc.files.iter().map(|f| StepJson {
        step: f.file.name(),
        apdus: f.apdus,
        ms: ms(f.elapsed),
    }));

    let dg1 = doc
        .bytes(FileId::Dg(DataGroup::Dg1))
        .map(Dg1::parse)
        .transpose()?;
    let dg1_mrz = dg1
        .as_ref()
        .map(Dg1::parse_mrz)
        .transpose()
        .context("DG1 holds an invalid MRZ")?;
    let dg2 = doc
        .bytes(FileId::Dg(DataGroup::Dg2))
        .map(Dg2::parse)
        .transpose()?;
    let face = dg2.as_ref().and_then(Dg2::face);

    if let Some(dir) = &opts.out {
        write_out(dir, &doc, face)?;
    }
    let verdict = match &opts.trust {
        None => None,
        Some(dir) => {
            let store = crate::trust::load(dir)?;
            let t = Instant::now();
            let apdus_before = session.apdu_count();
            // Clone detection first: it needs the chip, Passive Authentication does not.
            let clone = document::verify_chip(&mut session, &doc);
            steps.push(StepJson {
                step: "clone detection",
                apdus: session.apdu_count() - apdus_before,
                ms: ms(t.elapsed()),
            });
            let t = Instant::now();
            let issuing_state = dg1_mrz.as_ref().unwrap_or(&given).issuing_state.clone();
            let pa = doc.passive_authentication(&store, &issuing_state, SystemTime::now());
            steps.push(StepJson {
                step: "passive authentication",
                apdus: 0,
                ms: ms(t.elapsed()),
            });
            Some(Verdict::new(
                protocol_name(session.protocol()),
                &pa,
                &clone,
                &given,
                dg1_mrz.as_ref(),
            ))
        }
    };
    let genuine = verdict.as_ref().is_none_or(Verdict::genuine);
    let report = Report {
        reader: &opts.reader,
        protocol: protocol_name(session.protocol()),
        pace_protocol: match session.protocol() {
            AccessProtocol::Bac => None,
            AccessProtocol::Pace { protocol, .. } => Some(protocol.name()),
        },
        files: doc.files.iter().map(file_json).collect(),
        dg1: dg1_mrz.as_ref().map(MrzJson::from),
        dg1_matches_mrz: dg1_mrz.as_ref().map(|m| {
            m.document_number == given.document_number
                && m.birth_date == given.birth_date
                && m.expiry_date == given.expiry_date
        }),
        face: face.map(|f| FaceJson {
            format: format_name(f.format),
            width: f.width,
            height: f.height,
            size: f.data.len(),
        }),
        steps,
        apdus: session.apdu_count(),
        total_ms: ms(started.elapsed()),
        read_size: session.read_size(),
        reauthentications: session.reauthentications(),
        verdict: verdict.as_ref().map(VerdictJson::from),
    };
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
        if let Some(v) = &verdict {
            crate::verdict::print(v);
        }
    }
    Ok(genuine)
}

fn protocol_name(p: AccessProtocol) -> &'static str {
    match p {
        AccessProtocol::Bac => "BAC",
        AccessProtocol::Pace { .. } => "PACE",
    }
}

fn file_json(f: &document::FileRead) -> FileJson {
    FileJson {
        file: f.file.name(),
        fid: format!("{:04X}", f.file.file_id()),
        size: f.outcome.as_ref().ok().map(Vec::len),
        refused_sw: f.outcome.as_ref().err().map(|sw| format!("{sw:04X}")),
    }
}

fn write_out(
    dir: &Path,
    doc: &DocumentRead,
    face: Option<&icao9303::lds::FaceImage>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for f in &doc.files {
        if let Ok(bytes) = &f.outcome {
            let path = dir.join(format!("{}.bin", f.file.name()));
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if let Some(face) = face {
        let ext = match face.format {
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Jpeg2000 => "jp2",
        };
        let path = dir.join(format!("face.{ext}"));
        std::fs::write(&path, &face.data).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn print_report(r: &Report<'_>) {
    println!("reader           {}", r.reader);
    match &r.pace_protocol {
        Some(p) => println!("access control   {} ({p})", r.protocol),
        None => println!("access control   {}", r.protocol),
    }
    println!();
    println!(
        "{:<10} {:>6} {:>8} {:>6} {:>9}",
        "file", "fid", "bytes", "APDUs", "ms"
    );
    for (f, s) in r.files.iter().zip(r.steps.iter().skip(1)) {
        let size = match (&f.size, &f.refused_sw) {
            (Some(n), _) => n.to_string(),
            (None, Some(sw)) => format!("SW {sw}"),
            (None, None) => "-".into(),
        };
        println!(
            "{:<10} {:>6} {:>8} {:>6} {:>9.1}",
            f.file, f.fid, size, s.apdus, s.ms
        );
    }
    println!();
    if let Some(d) = &r.dg1 {
        println!(
            "DG1              {} {}, {} / {}, {}",
            d.format, d.document_type, d.document_number, d.surname, d.given_names
        );
    }
    if let Some(m) = r.dg1_matches_mrz {
        println!(
            "DG1 matches the MRZ given: {}",
            if m { "yes" } else { "NO" }
        );
    }
    if let Some(f) = &r.face {
        println!(
            "face             {} {}x{}, {} bytes",
            f.format, f.width, f.height, f.size
        );
    }
    println!(
        "total            {} APDUs in {:.1} ms (access control {} APDUs, {:.1} ms); read size {} bytes",
        r.apdus,
        r.total_ms,
        r.steps.first().map_or(0, |s| s.apdus),
        r.steps.first().map_or(0.0, |s| s.ms),
        r.read_size
    );
}

fn format_name(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Jpeg2000 => "JPEG 2000",
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
