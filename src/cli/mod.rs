//! Command-line interface: parses arguments with clap and hands each
//! subcommand to its module. No logic lives here that the library could hold.

mod check;
mod dbc;
mod decode;
mod keys;
mod learn;
mod output;
mod replay;
mod run;
mod status;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// bulkhead: a vehicle gateway firewall for CAN, CAN FD and an authenticated
/// Ethernet link. It parses every frame against the vehicle's DBC files and
/// forwards only what a default-deny rule set allows.
#[derive(Parser)]
#[command(name = "bulkhead", version, about, long_about = None, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode captures into named signals, one JSON line (or table row) per frame.
    Decode(decode::Args),
    /// Parse DBC files and summarize them; exits 0 only if every file parses.
    Dbc(dbc::Args),
    /// Compile rule files with their DBC files and report every problem.
    Check(check::Args),
    /// Feed captures through the engine with their own timestamps and report verdicts.
    Replay(replay::Args),
    /// Create a key: a device's link key, a SecOC key, or a bundle signing key pair.
    Keygen(keys::KeygenArgs),
    /// Sign rule files and their DBC files into a bundle.
    Sign(keys::SignArgs),
    /// Propose a rule file from a clean capture, for review.
    Learn(learn::Args),
    /// Run the live gateway: CAN, CAN FD and link sockets, management socket, systemd.
    Run(run::Args),
    /// Ask a running gateway: status, metrics, reload, authenticated mode reset.
    Status(status::Args),
}

/// Runs the command line; the exit code says whether it succeeded.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(a) => decode::run(a),
        Command::Dbc(a) => dbc::run(a),
        Command::Check(a) => check::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Keygen(a) => keys::keygen(a),
        Command::Sign(a) => keys::sign(a),
        Command::Learn(a) => learn::run(a),
        Command::Run(a) => run::run(a),
        Command::Status(a) => status::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
