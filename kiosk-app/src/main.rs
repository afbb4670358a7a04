//! `asean-lane`: the lane appliance.
//!
//! Exit codes: 0 the lane stopped cleanly (or the configuration is valid),
//! 1 the lane could not start or failed, 2 the configuration is invalid or
//! the command line is wrong.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kiosk_app::config::Config;
use kiosk_app::lane::runtime::{self, Input, Outlets};
use kiosk_app::{appliance, supervision};

/// The ASEAN Lane kiosk: reads the passport, checks it and the lane rules,
/// records the passage and opens the gate or refers the traveller.
#[derive(Debug, Parser)]
#[command(name = "asean-lane", version)]
struct Cli {
    /// The lane's configuration file (TOML; see kiosk-app's config module).
    #[arg(long, default_value = "/etc/asean-lane/lane.toml", global = true)]
    config: PathBuf,
    /// Check the configuration and exit: 0 when valid, 2 naming the bad key.
    #[arg(long)]
    check_config: bool,
    /// Show the traveller's screen in a window (needs a display; start with
    /// FONTCONFIG_FILE pointing at the bundled fonts' fonts.conf).
    #[cfg(feature = "display")]
    #[arg(long, global = true)]
    display: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

/// What to run (the lane itself when none is given).
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the lane on its configured devices (the default).
    Run,
    /// Run the whole lane with no hardware: virtual chips through pcscd and
    /// vpcd, a simulated scanner on a pseudo-terminal, the gate firmware on
    /// this host. Prints each step as it happens.
    #[cfg(feature = "demo")]
    Demo(kiosk_app::demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: under systemd stderr goes to journald,
        // which would keep the escape codes.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("asean-lane: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    #[cfg(feature = "demo")]
    if let Some(Command::Demo(args)) = &cli.command {
        return kiosk_app::demo::run(args, display_wanted(&cli));
    }
    let config = match Config::load(&cli.config) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("asean-lane: {}: {e}", cli.config.display());
            return Ok(ExitCode::from(2));
        }
    };
    if cli.check_config {
        println!("{}: valid", cli.config.display());
        return Ok(ExitCode::SUCCESS);
    }
    run_lane(&config, display_wanted(&cli))?;
    Ok(ExitCode::SUCCESS)
}

/// Whether `--display` was given (always false in a build without a screen).
fn display_wanted(cli: &Cli) -> bool {
    #[cfg(feature = "display")]
    return cli.display;
    #[cfg(not(feature = "display"))]
    {
        let _ = cli;
        false
    }
}

/// Runs the lane on the configured devices until Ctrl-C or SIGTERM (or the
/// screen's window is closed).
fn run_lane(config: &Config, display: bool) -> anyhow::Result<()> {
    let loaded = appliance::load(config)?;
    let devices = appliance::open_devices(config)?;
    let lane = appliance::assemble(config, loaded, devices)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let outlets = Outlets::new(1024);
    let mut listener = outlets.events.subscribe();
    let stop = lane.inputs.0.clone();
    #[cfg(feature = "display")]
    let screen = if display {
        let officers = match &config.supervision {
            Some(sup) => Some(std::sync::Arc::new(
                supervision::Officers::load(&sup.officers)
                    .with_context(|| format!("officers file {}", sup.officers.display()))?,
            )),
            None => None,
        };
        Some((
            outlets.events.subscribe(),
            lane.inputs.0.clone(),
            kiosk_app::display::KioskOfficer::new(officers, config.lane.clone()),
        ))
    } else {
        None
    };
    #[cfg(not(feature = "display"))]
    let _ = display;
    let handle = rt.handle().clone();
    let config = config.clone();
    let lane_thread = std::thread::spawn(move || {
        rt.block_on(async move {
            tokio::spawn(async move {
                while let Ok(event) = listener.recv().await {
                    tracing::info!(?event, "lane");
                }
            });
            tokio::spawn(async move {
                wait_for_stop_signal().await;
                let _ = stop.send(Input::Shutdown).await;
            });
            if let Some(sup) = &config.supervision {
                // Listening before the lane starts, so no event is missed.
                let listener = tokio::net::TcpListener::bind(sup.listen)
                    .await
                    .with_context(|| format!("supervision endpoint {}", sup.listen))?;
                let server = supervision::serve(
                    listener,
                    sup,
                    config.lane.clone(),
                    &outlets,
                    lane.inputs.0.clone(),
                )?;
                tokio::spawn(server);
            }
            runtime::run(lane.core, lane.first, lane.io, lane.inputs, outlets).await;
            anyhow::Ok(())
        })
    });
    #[cfg(feature = "display")]
    if let Some((events, inputs, officer)) = screen
        && let Err(e) = kiosk_app::display::run_with_screen(&handle, events, inputs, officer)
    {
        tracing::error!(error = %e, "no traveller screen; the lane runs headless");
    }
    let _ = handle;
    lane_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the lane's runtime panicked"))??;
    Ok(())
}

/// Waits for Ctrl-C or SIGTERM (systemd's stop).
async fn wait_for_stop_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::warn!(error = %e, "SIGTERM cannot be watched; only Ctrl-C stops the lane");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
