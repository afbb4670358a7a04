//! `render-console --out DIR`: screenshots of the officer console with no
//! display (Slint's software renderer), driven through the real console
//! with synthetic kiosk messages (see `officer_console::sample`):
//!
//! - `login.png`: the PIN page, four digits typed;
//! - `lanes.png`: four lanes (in service, a high-priority referral, out of
//!   service, unknown) and the alert queue;
//! - `referral.png`: the referral open: the chip's face beside the
//!   document, the reasons, the failed check, Accept and Refuse;
//! - `referral-jpeg2000.png`: a normal referral whose face is JPEG 2000;
//! - `wrong-pin.png`: a kiosk refused the PIN.
//!
//! Exit codes: 0 written, 1 failed, 2 bad arguments.
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::Parser;
use kiosk_app::supervision::protocol::{LoginRefusal, WireEvent};
use officer_console::headless::{Headless, SCREEN, write_png};
use officer_console::sample::{self, SampleFace};
use officer_console::{AlertKind, Console, LaneUpdate, UiRequest, face};
use slint::ComponentHandle;

/// Screenshots of the officer console.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The folder to write the PNG files to (made if missing).
    #[arg(long, value_name = "DIR", default_value = "out/console")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args.out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("render-console: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let requests: Rc<RefCell<Vec<UiRequest>>> = Rc::default();
    let sink = requests.clone();
    let lanes: Vec<String> = ["A01", "A02", "A03", "A04"].map(String::from).to_vec();
    let headless = Headless::new("OFC-0042", &lanes, move |r| sink.borrow_mut().push(r))?;
    let ui = headless.ui();
    ui.set_this_year(2026);
    let console = ui.window().global::<Console>();
    let shot = |name: &str| -> anyhow::Result<()> {
        let path = out.join(format!("{name}.png"));
        write_png(&path, SCREEN.0, SCREEN.1, &headless.render_rgb())?;
        println!("{}", path.display());
        Ok(())
    };

    let t0 = Instant::now();
    ui.tick(t0);
    for digit in [4, 8, 2, 9] {
        console.invoke_pin_digit(digit);
    }
    shot("login")?;
    for digit in [1, 6] {
        console.invoke_pin_digit(digit);
    }
    console.invoke_pin_submit();
    let generation = ui.generation();

    let at = |secs: u64| t0 + Duration::from_secs(secs);
    let apply = |lane: usize, update: LaneUpdate| ui.apply(generation, lane, update);
    // A04 cannot be reached from the start.
    apply(3, LaneUpdate::Lost);
    for lane in 0..3 {
        apply(lane, LaneUpdate::LoggedIn);
    }
    apply(0, sample::snapshot("A01", "await_chip", None, Vec::new()));
    apply(
        2,
        sample::snapshot(
            "A03",
            "out_of_service",
            None,
            vec![sample::alert("device_fault", Some("card_reader"), true)],
        ),
    );
    apply(
        1,
        sample::snapshot("A02", "await_document", None, Vec::new()),
    );
    ui.tick(at(95));
    apply(
        0,
        sample::event(
            "A01",
            WireEvent::Alert {
                alert: sample::alert("gate_tailgating", Some("gate"), true),
            },
        ),
    );
    ui.tick(at(170));
    let record = "4f1c2a9b7d3e4c5a8b6f0e1d2c3b4a59";
    let referral = sample::referral(record, true, SampleFace::Jpeg);
    apply(1, sample::state("A02", "await_officer"));
    apply(1, sample::referral_message("A02", referral.clone()));
    if let Some(picture) = face::picture_for(&referral) {
        apply(
            1,
            LaneUpdate::Face {
                record_id: record.into(),
                picture,
            },
        );
    }
    ui.tick(at(230));
    shot("lanes")?;

    let id = ui
        .model()
        .alerts()
        .iter()
        .find(|a| matches!(a.kind, AlertKind::Referral { .. }))
        .map(|a| a.id);
    if let Some(id) = id {
        console.invoke_open_alert(i32::try_from(id)?);
    }
    shot("referral")?;

    // A second, normal referral at A01 with a JPEG 2000 face.
    let record2 = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let referral2 = sample::referral(record2, false, SampleFace::Jpeg2000);
    apply(0, sample::state("A01", "await_officer"));
    apply(0, sample::referral_message("A01", referral2.clone()));
    if let Some(picture) = face::picture_for(&referral2) {
        apply(
            0,
            LaneUpdate::Face {
                record_id: record2.into(),
                picture,
            },
        );
    }
    ui.tick(at(260));
    console.invoke_open_lane(0);
    shot("referral-jpeg2000")?;

    // Log out, then a kiosk refuses the PIN.
    console.invoke_log_out();
    for digit in [1, 1, 1, 1] {
        console.invoke_pin_digit(digit);
    }
    console.invoke_pin_submit();
    ui.apply(
        ui.generation(),
        0,
        LaneUpdate::LoginRefused {
            code: LoginRefusal::BadCredentials,
            retry_after: None,
        },
    );
    shot("wrong-pin")?;
    Ok(())
}
