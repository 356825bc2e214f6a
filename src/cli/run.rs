//! `bulkhead run`: the live gateway (see `docs/daemon.md`).

use std::path::PathBuf;
use std::process::ExitCode;

use bulkhead::daemon::{self, RunOptions};

#[derive(clap::Args)]
pub struct Args {
    /// The daemon's configuration file (TOML; see docs/daemon.md).
    #[arg(long, short, value_name = "FILE")]
    config: PathBuf,
    /// Start with fresh SecOC freshness and link marks, moving the old state
    /// files aside. Dangerous: frames and datagrams recorded before may be
    /// accepted again until counters pass the old values (docs/daemon.md).
    #[arg(long)]
    reset_state: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let options = RunOptions { config: args.config, reset_state: args.reset_state };
    match daemon::run(&options) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            eprintln!("bulkhead run: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}
