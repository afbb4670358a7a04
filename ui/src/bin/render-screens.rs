//! `render-screens --out DIR`: renders every screen of the traveller UI in
//! every language with Slint's software renderer (no display), to
//! `DIR/<screen>/<language>.png`, plus `DIR/contact-sheet.png`.
//!
//! Options:
//! - `--out DIR`: where to write (required).
//! - `--screen NAME`: only this screen (repeatable), e.g. `place-passport`.
//! - `--language CODE`: only this language (repeatable), e.g. `th`.
//! - `--no-contact-sheet`: skip the contact sheet.
//!
//! Exit codes: 0 done, 1 a render or a file failed, 2 bad arguments.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use ui::headless::{Headless, SCREEN};
use ui::{Language, Page, View};

/// Thumbnails on the contact sheet are the screen divided by this.
const THUMB_DIVISOR: u32 = 8;
const THUMB_GAP: u32 = 4;

struct Args {
    out: PathBuf,
    screens: Vec<String>,
    languages: Vec<String>,
    contact_sheet: bool,
}

/// One picture to take: a named screen in one language.
struct Shot {
    screen: String,
    file: String,
    view: View,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("render-screens: {e}");
            eprintln!(
                "usage: render-screens --out DIR [--screen NAME]... [--language CODE]... [--no-contact-sheet]"
            );
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("render-screens: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn parse_args(mut it: impl Iterator<Item = String>) -> anyhow::Result<Args> {
    let mut args = Args {
        out: PathBuf::new(),
        screens: Vec::new(),
        languages: Vec::new(),
        contact_sheet: true,
    };
    let mut out = None;
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(it.next().context("--out needs a directory")?)),
            "--screen" => args
                .screens
                .push(it.next().context("--screen needs a name")?),
            "--language" => args
                .languages
                .push(it.next().context("--language needs a code")?),
            "--no-contact-sheet" => args.contact_sheet = false,
            other => bail!("unknown argument {other:?}"),
        }
    }
    args.out = out.context("--out DIR is required")?;
    for code in &args.languages {
        if Language::from_code(code).is_none() {
            bail!("unknown language {code:?}");
        }
    }
    for name in &args.screens {
        if !screen_names().contains(&name.as_str()) {
            bail!(
                "unknown screen {name:?}; screens: {}",
                screen_names().join(", ")
            );
        }
    }
    Ok(args)
}

fn screen_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Page::ALL.iter().map(|p| p.slug()).collect();
    names.extend(["language-picker", "inactivity-warning"]);
    names
}

/// Every picture: each screen in each language, the two overlays, and each
/// screen in English with high contrast.
fn shots() -> Vec<Shot> {
    let mut shots = Vec::new();
    let mut add = |screen: &str, file: String, view: View| {
        shots.push(Shot {
            screen: screen.to_owned(),
            file,
            view,
        });
    };
    for language in Language::ALL {
        for page in Page::ALL {
            add(
                page.slug(),
                language.code().to_owned(),
                View::sample(page, language),
            );
        }
        add(
            "language-picker",
            language.code().to_owned(),
            View {
                language_picker_open: true,
                ..View::sample(Page::PlacePassport, language)
            },
        );
        add(
            "inactivity-warning",
            language.code().to_owned(),
            View {
                inactivity_seconds_left: Some(9),
                ..View::sample(Page::PlacePassport, language)
            },
        );
    }
    for page in Page::ALL {
        add(
            page.slug(),
            "en-high-contrast".to_owned(),
            View {
                high_contrast: true,
                ..View::sample(page, Language::English)
            },
        );
    }
    shots
}

fn run(args: &Args) -> anyhow::Result<()> {
    let headless = Headless::new(|_| {}).context("cannot start the headless UI")?;
    let selected: Vec<Shot> = shots()
        .into_iter()
        .filter(|s| args.screens.is_empty() || args.screens.contains(&s.screen))
        .filter(|s| {
            args.languages.is_empty()
                || args.languages.iter().any(|code| {
                    s.file == *code || s.file.strip_suffix("-high-contrast") == Some(code)
                })
        })
        .collect();
    let mut thumbs = Vec::new();
    for shot in &selected {
        headless.ui().apply_view(&shot.view)?;
        let frame = headless.ui().snapshot()?;
        let dir = args.out.join(&shot.screen);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(format!("{}.png", shot.file));
        let rgb: Vec<u8> = frame
            .as_slice()
            .iter()
            .flat_map(|p| [p.r, p.g, p.b])
            .collect();
        write_png(&path, frame.width(), frame.height(), &rgb)?;
        if args.contact_sheet {
            thumbs.push((
                shot.screen.clone(),
                shot.file.clone(),
                thumbnail(&rgb, frame.width(), frame.height()),
            ));
        }
    }
    println!(
        "{} screens written under {}",
        selected.len(),
        args.out.display()
    );
    if args.contact_sheet && !thumbs.is_empty() {
        let path = args.out.join("contact-sheet.png");
        write_contact_sheet(&path, &thumbs)?;
        println!(
            "contact sheet: {} (rows: screens; columns: {})",
            path.display(),
            column_order(&thumbs).join(", ")
        );
    }
    Ok(())
}

fn write_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder
        .write_header()
        .with_context(|| format!("cannot write {}", path.display()))?;
    writer
        .write_image_data(rgb)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writer
        .finish()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The frame scaled down by [`THUMB_DIVISOR`], averaging each block.
fn thumbnail(rgb: &[u8], width: u32, height: u32) -> Vec<u8> {
    let (tw, th) = (width / THUMB_DIVISOR, height / THUMB_DIVISOR);
    let mut out = Vec::with_capacity((tw * th * 3) as usize);
    let n = THUMB_DIVISOR * THUMB_DIVISOR;
    for ty in 0..th {
        for tx in 0..tw {
            let mut sum = [0u32; 3];
            for y in ty * THUMB_DIVISOR..(ty + 1) * THUMB_DIVISOR {
                for x in tx * THUMB_DIVISOR..(tx + 1) * THUMB_DIVISOR {
                    let i = ((y * width + x) * 3) as usize;
                    for (c, s) in sum.iter_mut().enumerate() {
                        *s += u32::from(rgb.get(i + c).copied().unwrap_or(0));
                    }
                }
            }
            out.extend(sum.map(|s| u8::try_from(s / n).unwrap_or(u8::MAX)));
        }
    }
    out
}

fn column_order(thumbs: &[(String, String, Vec<u8>)]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for (_, column, _) in thumbs {
        if !columns.contains(column) {
            columns.push(column.clone());
        }
    }
    columns
}

/// One grid: a row per screen, a column per language, in render order.
fn write_contact_sheet(path: &Path, thumbs: &[(String, String, Vec<u8>)]) -> anyhow::Result<()> {
    let columns = column_order(thumbs);
    let mut rows: Vec<String> = Vec::new();
    for (row, _, _) in thumbs {
        if !rows.contains(row) {
            rows.push(row.clone());
        }
    }
    let (tw, th) = (SCREEN.0 / THUMB_DIVISOR, SCREEN.1 / THUMB_DIVISOR);
    let width = columns.len() as u32 * (tw + THUMB_GAP) + THUMB_GAP;
    let height = rows.len() as u32 * (th + THUMB_GAP) + THUMB_GAP;
    let mut sheet = vec![40u8; (width * height * 3) as usize];
    for (row, column, pixels) in thumbs {
        let r = rows.iter().position(|x| x == row).unwrap_or(0) as u32;
        let c = columns.iter().position(|x| x == column).unwrap_or(0) as u32;
        let (x0, y0) = (
            THUMB_GAP + c * (tw + THUMB_GAP),
            THUMB_GAP + r * (th + THUMB_GAP),
        );
        for y in 0..th {
            let src = (y * tw * 3) as usize..((y + 1) * tw * 3) as usize;
            let dst = (((y0 + y) * width + x0) * 3) as usize;
            if let (Some(src), Some(dst)) =
                (pixels.get(src), sheet.get_mut(dst..dst + (tw * 3) as usize))
            {
                dst.copy_from_slice(src);
            }
        }
    }
    write_png(path, width, height, &sheet)
}
