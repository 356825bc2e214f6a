//! `bulkhead replay`: captures through the engine, with reports.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bulkhead::logs::LogFormat;
use bulkhead::replay::verdicts::VerdictWriter;
use bulkhead::replay::{self, NoSink, ReplayOptions, VerdictSink};

use super::decode::log_format;
use super::output::create;

#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  bulkhead replay --rules rules/vehicle.toml --port can0=drive --report-json report.json --report-html report.html capture.log\n\n\
Without --rules, the reference vehicle's embedded rules are used. A capture bus maps to the port\n\
whose `interface` (or name) equals the bus name unless --port says otherwise; frames of buses\n\
that map to no port are counted as unmapped. The same input always gives the same output."
)]
pub struct Args {
    /// Rule files (TOML); several are merged.
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// DBC files for ports whose rule file names none.
    #[arg(long = "dbc", value_name = "FILE")]
    dbcs: Vec<PathBuf>,
    /// Map a capture bus to a port: `--port can0=drive` (repeatable).
    #[arg(long = "port", value_name = "BUS=PORT")]
    ports: Vec<String>,
    /// Frames of a capture bus come from this device of the link: `--device ivi=head-unit`
    /// (a bus named like a device of the rules needs none).
    #[arg(long = "device", value_name = "BUS=DEVICE")]
    devices: Vec<String>,
    /// Key directory: verify SecOC frames (and re-sign) with these keys. Without it,
    /// secured ids fail with `secoc-no-key`.
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
    /// Capture format, when detection guesses wrong.
    #[arg(long = "log-format", value_name = "FORMAT", value_parser = log_format)]
    log_format: Option<LogFormat>,
    /// Skip malformed capture lines (counted) instead of stopping at the first.
    #[arg(long)]
    lenient: bool,
    /// Write one JSON line per input frame with its verdict.
    #[arg(long, value_name = "FILE")]
    verdicts: Option<PathBuf>,
    /// Write the report as JSON (schema bulkhead-replay-report/1, see docs/replay.md).
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Write the report as a self-contained HTML page with charts (see docs/replay.md).
    #[arg(long, value_name = "FILE")]
    report_html: Option<PathBuf>,
    /// Do not print the summary.
    #[arg(short, long)]
    quiet: bool,
    /// Captures, replayed one after the other (`-` for standard input).
    #[arg(value_name = "LOG", required = true)]
    logs: Vec<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (rules, warnings) = match super::check::compile(&args.rules, &args.dbcs) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if !warnings.is_empty() {
        eprintln!("rules: {} warning(s) (run `bulkhead check` to see them)", warnings.len());
    }
    let rules = Arc::new(rules);
    let options = ReplayOptions {
        ports: args.ports.clone(),
        devices: args.devices.clone(),
        lenient: args.lenient,
        format: args.log_format,
    };
    let keys = match &args.keys {
        Some(dir) => Some(super::keys::load_store(dir)?),
        None => None,
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} {human_pos} frames ({per_sec}) {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    });
    let mut progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let mut writer = match &args.verdicts {
        Some(path) => Some(VerdictWriter::new(create(path)?, Arc::clone(&rules))),
        None => None,
    };
    let sink: &mut dyn VerdictSink = match &mut writer {
        Some(w) => w,
        None => &mut NoSink,
    };
    let keys_ref = keys.as_ref().map(|k| k as &dyn bulkhead::keys::KeyStore);
    let report = replay::replay(Arc::clone(&rules), &args.logs, &options, keys_ref, sink, &mut progress)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some(w) = writer {
        w.into_inner().context("writing verdicts")?;
    }
    if let Some(path) = &args.report_json {
        let mut out = create(path)?;
        serde_json::to_writer_pretty(&mut out, &report).context("writing the JSON report")?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    if let Some(path) = &args.report_html {
        let mut out = create(path)?;
        out.write_all(bulkhead::replay::html::render(&report).as_bytes()).context("writing the HTML report")?;
        out.flush()?;
    }
    if !args.quiet {
        print!("{}", bulkhead::replay::text::summary(&report));
    }
    Ok(ExitCode::SUCCESS)
}
