//! `bulkhead decode`: frames of captures as named signals.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bulkhead::codec::{CodecTable, Lookup, MessageCodec};
use bulkhead::dbc::Dbc;
use bulkhead::logs::{self, LogFormat, LogRecord, ReadOptions};

use super::output::{create, write_number};

#[derive(clap::Args)]
#[command(after_help = "Example:\n  bulkhead decode --dbc dbc/drive.dbc --bus vcan0 capture.log\n\n\
Each output line is a JSON object:\n  {\"t\": 46408.58493, \"bus\": \"can0\", \"id\": 608, \"msg\": \"STEER_TORQUE_SENSOR\", \"signals\": {\"STEER_TORQUE_DRIVER\": -18}}\n\
\"ext\": true marks 29-bit ids; \"t\" is null for captures without timestamps; a frame that\n\
cannot be decoded has \"error\" instead of \"signals\". Frames whose id no DBC defines are skipped.")]
pub struct Args {
    /// DBC file describing the frames (repeat for several; the first definition of an id wins).
    #[arg(long = "dbc", value_name = "FILE", required = true)]
    dbcs: Vec<PathBuf>,
    /// Only frames of this interface/channel name of the capture.
    #[arg(long, value_name = "IFACE")]
    bus: Option<String>,
    /// Output: `json` (one object per line) or `table` (for people).
    #[arg(long = "format", value_name = "FORMAT", default_value = "json", value_parser = ["json", "table"])]
    output: String,
    /// Capture format, when detection guesses wrong.
    #[arg(long = "log-format", value_name = "FORMAT", value_parser = log_format)]
    log_format: Option<LogFormat>,
    /// Skip malformed capture lines (counted on stderr) instead of stopping at the first.
    #[arg(long)]
    lenient: bool,
    /// Write here instead of standard output.
    #[arg(short, long, value_name = "FILE", default_value = "-")]
    output_file: PathBuf,
    /// Captures to decode (`-` for standard input; gzip is read transparently).
    #[arg(value_name = "LOG", required = true)]
    logs: Vec<PathBuf>,
}

/// Parses a capture format name for clap.
pub fn log_format(s: &str) -> Result<LogFormat, String> {
    LogFormat::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = LogFormat::ALL.iter().map(|f| f.name()).collect();
        format!("unknown capture format `{s}` (known: {})", names.join(", "))
    })
}

/// Loads DBC files, printing their warnings on stderr.
pub fn load_dbcs(paths: &[PathBuf]) -> anyhow::Result<Vec<Dbc>> {
    let mut dbcs = Vec::with_capacity(paths.len());
    for path in paths {
        let dbc = bulkhead::dbc::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
        if !dbc.warnings.is_empty() {
            eprintln!(
                "{}: {} warning(s) (run `bulkhead dbc {}` to see them)",
                path.display(),
                dbc.warnings.len(),
                path.display()
            );
        }
        dbcs.push(dbc);
    }
    Ok(dbcs)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dbcs = load_dbcs(&args.dbcs)?;
    let table = CodecTable::new(dbcs.iter());
    for dup in table.duplicates() {
        eprintln!("warning: {dup}");
    }
    for invalid in table.invalid() {
        eprintln!("warning: {invalid}");
    }
    let mut out = create(&args.output_file)?;
    let table_format = args.output == "table";
    let mut skipped = 0;
    for path in &args.logs {
        let mut reader = logs::open(path, args.log_format, ReadOptions { lenient: args.lenient })?;
        while let Some(record) = reader.next() {
            let record = record?;
            let bus = reader.buses().name(record.bus);
            if args.bus.as_deref().is_some_and(|b| b != bus) || record.frame.is_error() || record.frame.is_remote() {
                continue;
            }
            let codec = match table.lookup(record.frame.id()) {
                Lookup::Message(_, codec) => Ok(codec),
                Lookup::Invalid(invalid) => Err(invalid),
                Lookup::Unknown => continue,
            };
            if table_format {
                write_table_row(&mut out, &record, bus, codec)?;
            } else {
                write_json(&mut out, &record, bus, codec)?;
            }
        }
        skipped += reader.skipped();
    }
    out.flush().context("writing output")?;
    if skipped > 0 {
        eprintln!("skipped {skipped} malformed line(s)");
    }
    Ok(ExitCode::SUCCESS)
}

fn write_json(
    out: &mut dyn Write,
    record: &LogRecord,
    bus: &str,
    codec: Result<&MessageCodec, &bulkhead::codec::InvalidMessage>,
) -> std::io::Result<()> {
    out.write_all(b"{\"t\": ")?;
    match record.time {
        Some(t) => write_number(out, t.as_secs_f64())?,
        None => out.write_all(b"null")?,
    }
    out.write_all(b", \"bus\": ")?;
    out.write_all(serde_json::to_string(bus).unwrap_or_default().as_bytes())?;
    write!(out, ", \"id\": {}", record.frame.id().raw())?;
    if record.frame.id().is_extended() {
        out.write_all(b", \"ext\": true")?;
    }
    let codec = match codec {
        Ok(c) => c,
        Err(invalid) => {
            write!(out, ", \"msg\": {}", serde_json::to_string(&invalid.name).unwrap_or_default())?;
            let error = format!("the DBC layout of this message is invalid: {}", invalid.error);
            return writeln!(out, ", \"error\": {}}}", serde_json::to_string(&error).unwrap_or_default());
        }
    };
    write!(out, ", \"msg\": {}", serde_json::to_string(codec.name()).unwrap_or_default())?;
    let mut first = true;
    let mut io = Ok(());
    let result = codec.decode(record.frame.data(), |index, value| {
        if io.is_err() {
            return;
        }
        let name = codec.signal(index).map_or("", |s| s.name());
        io = (|| {
            out.write_all(if first { b", \"signals\": {\"" } else { b", \"" })?;
            out.write_all(name.as_bytes())?;
            out.write_all(b"\": ")?;
            write_number(out, value.physical)
        })();
        first = false;
    });
    io?;
    match result {
        Ok(()) if first => out.write_all(b", \"signals\": {}}\n"),
        Ok(()) => out.write_all(b"}}\n"),
        Err(e) => writeln!(out, ", \"error\": {}}}", serde_json::to_string(&e.to_string()).unwrap_or_default()),
    }
}

fn write_table_row(
    out: &mut dyn Write,
    record: &LogRecord,
    bus: &str,
    codec: Result<&MessageCodec, &bulkhead::codec::InvalidMessage>,
) -> std::io::Result<()> {
    match record.time {
        Some(t) => write!(out, "{t:>20} ")?,
        None => write!(out, "{:>20} ", "-")?,
    }
    write!(out, "{bus:<8} {:>10}  ", record.frame.id().to_string())?;
    let codec = match codec {
        Ok(c) => c,
        Err(invalid) => return writeln!(out, "{:<24} error: invalid DBC layout: {}", invalid.name, invalid.error),
    };
    write!(out, "{:<24}", codec.name())?;
    let mut parts = Vec::new();
    let result = codec.decode(record.frame.data(), |index, value| {
        if let Some(signal) = codec.signal(index) {
            let mut text = format!("{}={}", signal.name(), value.physical);
            if let Some(label) = signal.description(value.raw) {
                text.push_str(&format!(" ({label})"));
            }
            parts.push(text);
        }
    });
    match result {
        Ok(()) => writeln!(out, " {}", parts.join("  ")),
        Err(e) => writeln!(out, " error: {e}"),
    }
}
