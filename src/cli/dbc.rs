//! `bulkhead dbc`: parse DBC files and say what is in them and what is unusual.

use std::path::PathBuf;
use std::process::ExitCode;

use bulkhead::dbc::{Dbc, Multiplexing, ValueType};

#[derive(clap::Args)]
pub struct Args {
    /// Print each warning in full (rustc style) instead of counting them.
    #[arg(short, long)]
    verbose: bool,
    /// DBC files to parse.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut failed = 0;
    for path in &args.files {
        match bulkhead::dbc::load(path) {
            Ok(dbc) => {
                println!("{}", summary(path, &dbc));
                if args.verbose {
                    for w in &dbc.warnings {
                        println!("{w}\n");
                    }
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{e}\n");
            }
        }
    }
    if args.files.len() > 1 {
        println!("{} file(s) parsed, {failed} failed", args.files.len() - failed);
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn summary(path: &std::path::Path, dbc: &Dbc) -> String {
    let signals = dbc.signal_count();
    let extended = dbc.messages.iter().filter(|m| m.id.is_extended()).count();
    let fd = dbc.messages.iter().filter(|m| m.format.is_fd()).count();
    let multiplexed = dbc
        .messages
        .iter()
        .filter(|m| m.signals.iter().any(|s| !matches!(s.multiplexing, Multiplexing::Plain)))
        .count();
    let extended_mux =
        dbc.messages.iter().filter(|m| m.signals.iter().any(|s| !s.extended_multiplexing.is_empty())).count();
    let floats = dbc
        .messages
        .iter()
        .flat_map(|m| &m.signals)
        .filter(|s| matches!(s.value_type, ValueType::Float32 | ValueType::Float64))
        .count();
    let big_endian = dbc
        .messages
        .iter()
        .flat_map(|m| &m.signals)
        .filter(|s| s.byte_order == bulkhead::dbc::ByteOrder::BigEndian)
        .count();
    let cyclic = dbc.messages.iter().filter(|m| m.cycle_time_ms.is_some()).count();
    let enums = dbc.messages.iter().flat_map(|m| &m.signals).filter(|s| !s.value_descriptions.is_empty()).count();
    let mut lines = vec![format!(
        "{}: {} messages, {signals} signals, {} nodes{}",
        path.display(),
        dbc.messages.len(),
        dbc.nodes.len(),
        if dbc.version.is_empty() { String::new() } else { format!(", version \"{}\"", dbc.version) }
    )];
    let mut notes = Vec::new();
    let mut note = |n: usize, what: &str| {
        if n > 0 {
            notes.push(format!("{n} {what}"));
        }
    };
    note(extended, "with extended ids");
    note(fd, "CAN FD");
    note(cyclic, "with a cycle time");
    note(multiplexed, "multiplexed");
    note(extended_mux, "with extended multiplexing");
    lines.push(format!("  messages: {}", if notes.is_empty() { "plain".to_owned() } else { notes.join(", ") }));
    let mut notes = Vec::new();
    let mut note = |n: usize, what: &str| {
        if n > 0 {
            notes.push(format!("{n} {what}"));
        }
    };
    note(big_endian, "big-endian");
    note(floats, "float");
    note(enums, "with value descriptions");
    lines.push(format!(
        "  signals: {}",
        if notes.is_empty() { "little-endian integers".to_owned() } else { notes.join(", ") }
    ));
    lines.push(format!(
        "  also: {} value tables, {} attribute definitions, {} environment variables, {} signal groups",
        dbc.value_tables.len(),
        dbc.attribute_definitions.len(),
        dbc.environment_variables.len(),
        dbc.signal_groups.len()
    ));
    if !dbc.warnings.is_empty() {
        let mut first =
            dbc.warnings.iter().map(|w| format!("{}:{}: {}", w.location.line, w.location.column, w.message));
        lines.push(format!(
            "  {} warning(s), first: {}{}",
            dbc.warnings.len(),
            first.next().unwrap_or_default(),
            if dbc.warnings.len() > 1 { " (-v shows all)" } else { "" }
        ));
    }
    lines.join("\n")
}
