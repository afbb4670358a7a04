//! The UI's two costs that a traveller can feel, measured with the software
//! renderer at 1920x1080 and no display:
//!
//! - cold start to the first frame: a fresh process creates the window,
//!   loads the bundled fonts and translations and renders the attract page
//!   (measured in 10 child processes, from `main` and from the spawn);
//! - one full frame: every pixel redrawn, for several pages and scripts
//!   (30 frames each after 3 warm-up frames);
//! - a language switch: selecting a language and drawing its first frame,
//!   glyphs not yet cached.
//!
//! `cargo bench -p ui --bench render` (a hand-written main, no criterion).
//! With `BENCH_REPORT` set, the cold start and full-frame medians are also
//! appended there (`scripts/bench.sh`).
#![allow(clippy::unwrap_used)]

#[path = "../../scripts/bench_figure.rs"]
mod bench_figure;

use std::process::Command;
use std::time::{Duration, Instant};

use ui::headless::Headless;
use ui::{Language, Page, View};

const COLD_RUNS: usize = 10;
const FRAMES: usize = 30;

fn main() {
    let started = Instant::now();
    if std::env::args().any(|a| a == "--cold-child") {
        cold_child(started);
        return;
    }
    println!("ui render bench (software renderer, 1920x1080)");
    cold_start();
    frames();
}

/// In a fresh process: create the UI and render the first frame, print the
/// microseconds since `main`.
fn cold_child(started: Instant) {
    let headless = Headless::new(|_| {}).unwrap();
    headless
        .ui()
        .apply_view(&View::sample(Page::Attract, Language::English))
        .unwrap();
    let mut buffer = Headless::frame_buffer();
    headless.render_frame(&mut buffer);
    println!("{}", started.elapsed().as_micros());
}

fn cold_start() {
    let exe = std::env::current_exe().unwrap();
    let mut in_main = Vec::new();
    let mut with_spawn = Vec::new();
    for _ in 0..COLD_RUNS {
        let spawned = Instant::now();
        let output = Command::new(&exe).arg("--cold-child").output().unwrap();
        let total = spawned.elapsed();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let micros: u64 = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap();
        in_main.push(Duration::from_micros(micros));
        with_spawn.push(total);
    }
    report("cold start to first frame (from main)", &mut in_main);
    report("cold start to first frame (from spawn)", &mut with_spawn);
    let row = "UI cold start to first frame, 1920x1080 (median)";
    figure(row, "from main", in_main[COLD_RUNS / 2]);
    figure(row, "from spawn", with_spawn[COLD_RUNS / 2]);
}

/// Appends a duration in ms to `$BENCH_REPORT` (when set).
fn figure(row: &str, name: &str, time: Duration) {
    bench_figure::emit("render", row, name, time.as_secs_f64() * 1000.0, "ms").unwrap();
}

fn frames() {
    let headless = Headless::new(|_| {}).unwrap();
    let mut buffer = Headless::frame_buffer();
    for language in Language::ALL {
        let view = View::sample(Page::PlacePassport, language);
        let t = Instant::now();
        headless.ui().apply_view(&view).unwrap();
        headless.render_frame(&mut buffer);
        let mut once = vec![t.elapsed()];
        report(
            &format!("language switch + first frame, {}", language.code()),
            &mut once,
        );
    }
    let cases = [
        (Page::Attract, Language::English),
        (Page::PlacePassport, Language::Thai),
        (Page::RescanDocument, Language::Burmese),
        (Page::ProceedToGate, Language::ChineseSimplified),
        (Page::SeeOfficer, Language::Khmer),
        (Page::OfficerPin, Language::Tamil),
    ];
    for (page, language) in cases {
        headless
            .ui()
            .apply_view(&View::sample(page, language))
            .unwrap();
        for _ in 0..3 {
            headless.render_frame(&mut buffer);
        }
        let mut times = Vec::with_capacity(FRAMES);
        for _ in 0..FRAMES {
            let t = Instant::now();
            headless.render_frame(&mut buffer);
            times.push(t.elapsed());
        }
        // The frame really was drawn: text and pictograms are dark pixels.
        let dark = buffer
            .iter()
            .filter(|p| u32::from(p.red) + u32::from(p.green) + u32::from(p.blue) < 200)
            .count();
        assert!(dark > 1000, "{page:?}: only {dark} dark pixels");
        report(
            &format!("full frame, {} ({})", page.slug(), language.code()),
            &mut times,
        );
        figure(
            "UI full 1920x1080 frame, software renderer (median)",
            &format!("{} ({})", page.slug(), language.code()),
            times[FRAMES / 2],
        );
    }
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = times[times.len() / 2];
    if times.len() == 1 {
        println!("{what:<48} {:>8.2} ms", ms(median));
    } else {
        println!(
            "{what:<48} median {:>8.2} ms   min {:>8.2} ms   max {:>8.2} ms   (n={})",
            ms(median),
            ms(times[0]),
            ms(times[times.len() - 1]),
            times.len()
        );
    }
}
