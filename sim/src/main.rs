//! `bulkhead-sim`: play a scenario of the simulated vehicle.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bulkhead::time::Timestamp;
use bulkhead_sim::record::Recorder;
use bulkhead_sim::scenario::Scenario;
use bulkhead_sim::traffic::Traffic;
use clap::{Parser, Subcommand};

/// The simulated vehicle of bulkhead: the reference car's ECUs and a hostile head unit.
#[derive(Parser)]
#[command(name = "bulkhead-sim", version, about, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Play a scenario in virtual time and write the traffic as a candump capture.
    Record {
        /// The scenario file (see sim/scenarios/).
        scenario: PathBuf,
        /// The capture to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Also write which frames were attacks or head-unit requests (JSON lines).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Rule file giving ports, DBC files, counters and checksums (default: the embedded reference rules).
        #[arg(long = "rules")]
        rules: Vec<PathBuf>,
        /// Start time of the capture, in seconds since the Unix epoch.
        #[arg(long, default_value_t = 1_700_000_000)]
        start: u64,
        /// The key directory (`bulkhead-sim keys DIR`): the ECUs sign their SecOC messages with it.
        #[arg(long)]
        keys: PathBuf,
    },
    /// Generate a fresh key set for the simulated vehicle (SecOC keys, link keys per device).
    Keys {
        /// The directory to create (mode 0700); existing key files are never overwritten.
        dir: PathBuf,
        /// Rule file naming the keys (default: the embedded reference rules).
        #[arg(long = "rules")]
        rules: Vec<PathBuf>,
    },
}

fn load_rules(paths: &[PathBuf]) -> anyhow::Result<Arc<bulkhead::rules::CompiledRules>> {
    let rules = if paths.is_empty() {
        bulkhead::rules::reference()
    } else {
        bulkhead::rules::load(paths, bulkhead::rules::CompileOptions::default())
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?
    .0;
    Ok(Arc::new(rules))
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Keys { dir, rules } => {
            let rules = load_rules(&rules)?;
            let written = bulkhead_sim::keys::generate(&rules, &dir)?;
            eprintln!(
                "{} key files written to {} (simulation keys: never use them in a car)",
                written.len(),
                dir.display()
            );
            Ok(())
        }
        Command::Record { scenario, output, labels, rules, start, keys } => {
            let rules = load_rules(&rules)?;
            let keys = bulkhead_sim::keys::load(&keys)?;
            let scenario = Scenario::load(&scenario)?;
            let name = scenario.name.clone();
            let traffic = Traffic::new(Arc::clone(&rules), scenario, Timestamp::from_secs_nanos(start, 0), &keys)?;
            let log =
                BufWriter::new(File::create(&output).with_context(|| format!("cannot create {}", output.display()))?);
            let labels = match &labels {
                Some(p) => {
                    Some(BufWriter::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?))
                }
                None => None,
            };
            let mut recorder = Recorder::new(&rules, log, labels);
            for frame in traffic {
                recorder.record(&frame)?;
            }
            let counts = recorder.finish()?;
            let total: u64 = counts.values().sum();
            let parts: Vec<String> = counts.iter().map(|(l, n)| format!("{} {n}", l.name())).collect();
            eprintln!("{name}: {total} frames to {} ({})", output.display(), parts.join(", "));
            Ok(())
        }
    }
}
