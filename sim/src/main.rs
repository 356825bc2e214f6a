//! `bulkhead-sim`: play a scenario of the simulated vehicle.

use std::fs::File;
use std::io::{BufRead, BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bulkhead::time::Timestamp;
use bulkhead_sim::live::LiveConfig;
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
    /// Play a scenario in real time: CAN frames onto interfaces, link frames as datagrams to a gateway.
    #[command(after_help = RUN_HELP)]
    Run {
        /// The scenario file (see sim/scenarios/).
        scenario: PathBuf,
        /// The key directory (`bulkhead-sim keys DIR`): ECUs sign with its SecOC keys, devices seal with their link keys.
        #[arg(long)]
        keys: PathBuf,
        /// Rule file giving ports, devices, DBC files, counters and checksums (default: the embedded reference rules).
        #[arg(long = "rules")]
        rules: Vec<PathBuf>,
        /// A CAN port and its interface: `--can drive=vcan0` (repeat per port).
        #[arg(long = "can", value_name = "PORT=IFACE", value_parser = port_and_iface)]
        can: Vec<(String, String)>,
        /// An Ethernet port and the gateway's UDP address: `--link infotainment=127.0.0.1:47800`.
        #[arg(long = "link", value_name = "PORT=ADDR", value_parser = port_and_addr)]
        link: Vec<(String, SocketAddr)>,
        /// Local UDP address the datagrams leave from; the gateway's telemetry comes back to it.
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: SocketAddr,
        /// Virtual seconds per second: 2 plays the scenario twice as fast.
        #[arg(long, default_value_t = 1.0, value_parser = positive)]
        speed: f64,
        /// Read every CAN interface back and attribute the frames that crossed the gateway.
        #[arg(long)]
        observe: bool,
        /// Write what was sent as a candump capture (wall-clock times; link frames on a bus named after the device).
        #[arg(long)]
        record: Option<PathBuf>,
        /// With --record: which frames were attacks or requests (JSON lines).
        #[arg(long, requires = "record")]
        labels: Option<PathBuf>,
        /// Write the summary as JSON (schema bulkhead-sim-live/1).
        #[arg(long)]
        summary: Option<PathBuf>,
        /// Seconds to keep watching after the last frame, for late crossings and telemetry.
        #[arg(long, default_value_t = 0.4, value_parser = non_negative)]
        grace: f64,
        /// No progress lines.
        #[arg(short, long)]
        quiet: bool,
    },
    /// A bare link receiver for tests: opens datagrams with a key directory's device keys, counts, exits when idle.
    LinkSink {
        /// UDP address to listen on.
        #[arg(long)]
        listen: SocketAddr,
        /// The key directory.
        #[arg(long)]
        keys: PathBuf,
        /// A revocation list (`bulkhead-revoked v1`).
        #[arg(long)]
        revoked: Option<PathBuf>,
        /// Write accepted frames as a candump capture (the bus is the sending device).
        #[arg(long)]
        capture: Option<PathBuf>,
        /// Exit after this many seconds without a datagram (counted from the first one).
        #[arg(long, default_value_t = 3.0, value_parser = positive, conflicts_with = "stop_file")]
        idle: f64,
        /// Exit once this file exists and every datagram sent before has been read (instead of --idle).
        #[arg(long, value_name = "PATH")]
        stop_file: Option<PathBuf>,
        /// Exit after this many seconds in any case.
        #[arg(long, default_value_t = 600.0, value_parser = positive)]
        limit: f64,
    },
    /// One line per gateway status read on standard input (`bulkhead status --watch --json | bulkhead-sim watch`).
    Watch {
        /// The gateway's rule files, for the zones of its ports (default: the embedded reference rules).
        #[arg(long = "rules")]
        rules: Vec<PathBuf>,
    },
    /// The closing summary of a live run: each attack class and what stopped it.
    Report {
        /// What the simulator sent (`run --record`).
        #[arg(long)]
        sent: PathBuf,
        /// Its labels (`run --labels`).
        #[arg(long)]
        labels: PathBuf,
        /// What the gateway received (the daemon's `[record]` capture).
        #[arg(long)]
        gateway: PathBuf,
        /// The verdicts on that capture (`bulkhead replay --verdicts`).
        #[arg(long)]
        verdicts: PathBuf,
        /// The simulator's live summary (`run --summary`).
        #[arg(long)]
        live: Option<PathBuf>,
        /// The gateway's final status (`bulkhead status --json`).
        #[arg(long)]
        status: Option<PathBuf>,
        /// The JSON report of the replay of the gateway's capture (`--report-json`), for the mode changes.
        #[arg(long)]
        replay: Option<PathBuf>,
        /// The gateway's rule files (default: the embedded reference rules).
        #[arg(long = "rules")]
        rules: Vec<PathBuf>,
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

const RUN_HELP: &str = "\
Example:
  bulkhead-sim run sim/scenarios/demo.toml --keys out/keys --can drive=vcan0 --can body=vcan1 \\
      --can diag=vcan2 --link infotainment=127.0.0.1:47800 --observe

Ports without --can/--link are not played (their frames are counted as not connected). A CAN FD
port needs an interface with MTU 72 (`ip link set vcan0 mtu 72`). Exit status: 0, 1 on an error,
3 when --observe saw an attack frame (or a frame nobody sent) cross the gateway.";

fn port_and_iface(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((port, iface)) if !port.is_empty() && !iface.is_empty() => Ok((port.to_owned(), iface.to_owned())),
        _ => Err(format!("expected PORT=IFACE, like drive=vcan0, not `{text}`")),
    }
}

fn port_and_addr(text: &str) -> Result<(String, SocketAddr), String> {
    let (port, addr) = text
        .split_once('=')
        .filter(|(p, _)| !p.is_empty())
        .ok_or_else(|| format!("expected PORT=ADDRESS, like infotainment=127.0.0.1:47800, not `{text}`"))?;
    let addr = addr.parse().map_err(|e| format!("`{addr}` is not an address with a port: {e}"))?;
    Ok((port.to_owned(), addr))
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("`{text}` is not a positive number")),
    }
}

fn non_negative(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("`{text}` is not a number of seconds")),
    }
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

/// The exit status when the gateway let an attack frame through.
const GATEWAY_FAILURE: u8 = 3;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Keys { dir, rules } => {
            let rules = load_rules(&rules)?;
            let written = bulkhead_sim::keys::generate(&rules, &dir)?;
            eprintln!(
                "{} key files written to {} (simulation keys: never use them in a car)",
                written.len(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
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
            let tally = recorder.finish()?;
            let total: u64 = tally.written.values().sum();
            let parts: Vec<String> = tally.written.iter().map(|(l, n)| format!("{} {n}", l.name())).collect();
            eprintln!("{name}: {total} frames to {} ({})", output.display(), parts.join(", "));
            if !tally.link_only.is_empty() {
                let parts: Vec<String> = tally.link_only.iter().map(|(l, n)| format!("{} {n}", l.name())).collect();
                eprintln!("not in the capture, refused by the link before the rules: {}", parts.join(", "));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            scenario,
            keys,
            rules,
            can,
            link,
            bind,
            speed,
            observe,
            record,
            labels,
            summary,
            grace,
            quiet,
        } => {
            let rules = load_rules(&rules)?;
            let config = LiveConfig {
                scenario,
                keys,
                can,
                link,
                bind,
                speed,
                observe,
                record,
                labels,
                grace: Duration::from_secs_f64(grace),
                progress: !quiet,
            };
            let report = bulkhead_sim::live::run(rules, &config)?;
            print!("{}", report.render());
            if let Some(path) = summary {
                bulkhead_sim::live::write_summary(&report, &path)?;
            }
            Ok(if report.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(GATEWAY_FAILURE) })
        }
        Command::Watch { rules } => {
            let rules = load_rules(&rules)?;
            let mut watcher = bulkhead_sim::demo::watch::Watcher::new(&rules);
            let mut out = std::io::stdout().lock();
            for line in std::io::stdin().lock().lines() {
                let line = line.context("reading the status")?;
                if line.trim().is_empty() {
                    continue;
                }
                writeln!(out, "{}", watcher.line(&line))?;
                out.flush()?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { sent, labels, gateway, verdicts, live, status, replay, rules } => {
            let rules = load_rules(&rules)?;
            let inputs = bulkhead_sim::demo::report::Inputs { sent, labels, gateway, verdicts, live, status, replay };
            let report = bulkhead_sim::demo::report::build(&rules, &inputs)?;
            print!("{}", report.render());
            Ok(if report.clean() { ExitCode::SUCCESS } else { ExitCode::from(GATEWAY_FAILURE) })
        }
        Command::LinkSink { listen, keys, revoked, capture, idle, stop_file, limit } => {
            let gateway_keys =
                bulkhead_sim::sink::gateway_keys(&keys, revoked.as_deref()).map_err(anyhow::Error::msg)?;
            let mut file = match &capture {
                Some(p) => {
                    Some(BufWriter::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?))
                }
                None => None,
            };
            let report = bulkhead_sim::sink::run(
                listen,
                &gateway_keys,
                &match stop_file {
                    Some(path) => bulkhead_sim::sink::SinkEnd::StopFile(path),
                    None => bulkhead_sim::sink::SinkEnd::Idle(Duration::from_secs_f64(idle)),
                },
                Duration::from_secs_f64(limit),
                file.as_mut().map(|f| f as &mut dyn std::io::Write),
            )
            .with_context(|| format!("link sink on {listen}"))?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
