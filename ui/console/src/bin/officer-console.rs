//! `officer-console --config FILE`: the supervising officer's console in a
//! window. The officer types the PIN once; the console connects to every
//! lane of the configuration, reconnects by itself, and chimes on a new
//! alert (three rising tones when urgent; see `officer_console::sound`).
//!
//! Exit codes: 0 when the window is closed, 1 on a configuration or
//! start-up error, 2 on bad arguments.
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use kiosk_app::supervision::ClientTls;
use officer_console::{
    Clock, CommandResult, ConnectionSettings, Connections, ConsoleConfig, ConsoleHandle, ConsoleUi,
    LaneUpdate, UiRequest,
};

/// The officer console of the ASEAN Lane kiosks.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The console's configuration (TOML): officer id, TLS files, the lanes.
    ///
    /// See the crate's README for every key. Relative paths in it are taken
    /// from its folder.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("officer-console: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = ConsoleConfig::load(&args.config)?;
    let tls = ClientTls::from_pem_files(&config.ca_cert, &config.cert, &config.key)
        .context("the console's TLS identity")?;
    let settings = ConnectionSettings {
        lanes: config.lanes.clone(),
        tls,
        officer_id: config.officer_id.clone(),
        ping_interval: config.ping_interval,
        backoff: config.backoff,
    };
    let names: Vec<String> = config.lanes.iter().map(|l| l.name.clone()).collect();
    let connections: Rc<RefCell<Option<(u64, Connections)>>> = Rc::new(RefCell::new(None));
    let held = connections.clone();
    let ui = ConsoleUi::new(
        &config.officer_id,
        &names,
        move |request| handle(request, &settings, &held),
        Clock::System,
    )
    .context("cannot open the console window (is there a display?)")?;
    ui.run()?;
    // Stop every connection (and drop the PIN) before leaving.
    connections.borrow_mut().take();
    Ok(())
}

/// Carries out what the console asks. `connections` holds the running
/// connections and their generation.
fn handle(
    request: UiRequest,
    settings: &ConnectionSettings,
    connections: &Rc<RefCell<Option<(u64, Connections)>>>,
) {
    match request {
        UiRequest::LogIn { pin, generation } => {
            // The old connections stop before the new ones start.
            connections.borrow_mut().take();
            let handle = ConsoleHandle::new();
            let sink = Arc::new(move |lane, update| {
                let _ = handle.apply(generation, lane, update);
            });
            match Connections::start(settings.clone(), pin, sink) {
                Ok(c) => *connections.borrow_mut() = Some((generation, c)),
                Err(e) => tracing::error!(error = %e, "console: cannot start the connections"),
            }
        }
        UiRequest::LogOut => {
            connections.borrow_mut().take();
        }
        UiRequest::Command { lane, command } => {
            let name = command.name();
            let held = connections.borrow();
            let Some((generation, running)) = held.as_ref() else {
                return;
            };
            if running.command(lane, command).is_err() {
                tracing::warn!(lane, command = name, "console: command not sent");
                // Queued: the console takes it after this handler returns.
                let _ = ConsoleHandle::new().apply(
                    *generation,
                    lane,
                    LaneUpdate::CommandDone {
                        command: name,
                        result: CommandResult::NotSent,
                    },
                );
            }
        }
        UiRequest::Chime(chime) => {
            officer_console::sound::play(chime, &std::env::temp_dir());
        }
        _ => {}
    }
}
