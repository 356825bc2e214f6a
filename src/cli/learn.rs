//! `bulkhead learn`: a rule file proposed from a clean capture, then checked
//! by compiling it and replaying the capture through it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bulkhead::learn::scan::ScanOptions;
use bulkhead::learn::{self, LearnOptions, split_pair};
use bulkhead::logs::LogFormat;

use super::decode::log_format;

#[derive(clap::Args)]
#[command(after_help = "Example (the comma2k19 RAV4: can0 is the car, can1 the radar):\n  \
bulkhead learn --bus-dbc can0=toyota_new_mc_pt_generated.dbc --bus-dbc can1=toyota_adas.dbc \\\n      \
-o rules/learned.toml rav4.candump.log\n\n\
One port per bus of the capture and one route per id seen, with comments saying what each value\n\
was learned from; see docs/learn.md for the margins. The file is then compiled and the capture\n\
replayed through it: learn exits 1 if that drops anything (which would be a bug of learn).")]
pub struct Args {
    /// DBC file for every bus (repeatable; the first definition of an id wins).
    #[arg(long = "dbc", value_name = "FILE")]
    dbcs: Vec<PathBuf>,
    /// DBC file for one bus: `--bus-dbc can1=radar.dbc` (repeatable; read before --dbc files).
    #[arg(long = "bus-dbc", value_name = "BUS=FILE")]
    bus_dbcs: Vec<String>,
    /// Put this bus in a hostile zone (the others are trusted).
    #[arg(long = "hostile", value_name = "BUS")]
    hostile: Vec<String>,
    /// Every route from bus FROM forwards to port TO: `--forward can0=can1` (repeatable).
    #[arg(long = "forward", value_name = "FROM=TO")]
    forward: Vec<String>,
    /// Capture format, when detection guesses wrong.
    #[arg(long = "log-format", value_name = "FORMAT", value_parser = log_format)]
    log_format: Option<LogFormat>,
    /// Skip malformed capture lines instead of stopping at the first.
    #[arg(long)]
    lenient: bool,
    /// Widen each observed signal range by this share of its span on each side
    /// (default 1: the range is tripled; see docs/learn.md).
    #[arg(long, value_name = "SHARE")]
    range_margin: Option<f64>,
    /// Propose `allow` lists for described signals that took at most this many values (0: never).
    #[arg(long, value_name = "N")]
    allow_max: Option<usize>,
    /// Do not compile and replay the proposal afterwards.
    #[arg(long)]
    no_verify: bool,
    /// Where to write the rule file (DBC paths in it are relative to its directory).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Clean captures to learn from, read in order as one stream.
    #[arg(value_name = "LOG", required = true)]
    logs: Vec<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bus_dbcs = args
        .bus_dbcs
        .iter()
        .map(|v| split_pair("--bus-dbc", v).map(|(bus, file)| (bus, PathBuf::from(file))))
        .collect::<Result<Vec<_>, _>>()?;
    let forward = args.forward.iter().map(|v| split_pair("--forward", v)).collect::<Result<Vec<_>, _>>()?;
    let scan = ScanOptions { format: args.log_format, lenient: args.lenient };
    let options = LearnOptions {
        logs: args.logs.clone(),
        dbcs: args.dbcs,
        bus_dbcs,
        hostile: args.hostile,
        forward,
        output: args.output.clone(),
        scan,
        margins: Default::default(),
    };
    let mut options = options;
    if let Some(share) = args.range_margin {
        anyhow::ensure!(share >= 0.0 && share.is_finite(), "--range-margin must be a number, zero or more");
        options.margins.range.span_share = share;
    }
    if let Some(n) = args.allow_max {
        options.margins.range.allow_max_values = n;
    }
    let learned = learn::learn(&options)?;
    std::fs::write(&args.output, &learned.text).with_context(|| format!("cannot write {}", args.output.display()))?;
    let s = learned.proposal.summary();
    eprintln!(
        "{}: {} ports, {} routes ({} by DBC message): {} cycles, {} counters, {} checksums, {} signal constraints; \
         {} routes relax a check because the DBC disagrees with the capture",
        args.output.display(),
        s.ports,
        s.routes,
        s.dbc_routes,
        s.cycles,
        s.counters,
        s.checksums,
        s.signal_rules,
        s.dbc_disagreements
    );
    if args.no_verify {
        return Ok(ExitCode::SUCCESS);
    }
    let v = learn::verify(&args.output, &args.logs, scan)?;
    eprintln!(
        "verified: the rules compile ({} warnings, DBC files included); replaying the capture: {} frames, {} dropped, \
         {} missing events, {} injection events",
        v.warnings, v.frames, v.dropped, v.missing, v.injection_suspected
    );
    for (port, id, reason, n) in v.drops.iter().take(20) {
        eprintln!("  dropped {n} frames of {port} {id:#X}: {reason}");
    }
    Ok(if v.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
